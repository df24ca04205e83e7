# Cache warmer logging through Elixir's Logger with its default console
# backend and format; only the level is lowered to :debug. A GenServer that
# crashes lets OTP/Elixir write their own error reports.
require Logger

defmodule Warmer.Cache do
  use GenServer
  require Logger

  def start_link(_), do: GenServer.start_link(__MODULE__, %{}, name: __MODULE__)
  def init(state) do
    Logger.info("cache process started")
    {:ok, state}
  end

  def handle_call({:put, k, v}, _from, s) do
    Logger.debug("put #{inspect(k)} (#{v} bytes)")
    {:reply, :ok, Map.put(s, k, v)}
  end

  def handle_call({:get, k}, _from, s), do: {:reply, Map.fetch!(s, k), s}

  def handle_info(msg, s) do
    Logger.warning("unexpected message #{inspect(msg)}")
    {:noreply, s}
  end
end

Logger.configure(level: :debug)
Process.flag(:trap_exit, true)
:rand.seed(:exsss, {4, 5, 6})
Logger.notice("warmer starting on #{node()} (Elixir #{System.version()}, OTP #{System.otp_release()})")
{:ok, _sup} = Supervisor.start_link([Warmer.Cache], strategy: :one_for_one, max_restarts: 1000, max_seconds: 5)

call = fn req ->
  try do
    GenServer.call(Warmer.Cache, req, 300)
  catch
    :exit, reason ->
      Logger.error("cache call #{elem(req, 0)} failed: #{Exception.format_exit(reason)}")
      :error
  end
end

keys = for i <- 1..160 do
  k = "product:#{:rand.uniform(30)}"
  r = :rand.uniform(100)
  cond do
    r <= 45 ->
      size = :rand.uniform(4000)
      if size > 3800, do: Logger.warning("value for #{k} is #{size} bytes, above soft limit 3800")
      call.({:put, k, size})
    r <= 70 -> call.({:get, "product:#{:rand.uniform(34)}"}); Process.sleep(5)
    r <= 78 ->
      try do
        String.to_integer("12a#{i}")
      rescue
        e -> Logger.error("bad price in feed row #{i}: " <> Exception.format(:error, e, __STACKTRACE__))
      end
    r <= 82 -> if pid = Process.whereis(Warmer.Cache), do: send(pid, {:ssl_closed, i})
    r <= 84 -> Logger.critical("upstream catalogue API returned 5 consecutive 503s")
    r <= 85 -> Logger.alert("cache memory at #{90 + :rand.uniform(9)}% of limit")
    true -> Logger.info("refreshed #{k} in #{:rand.uniform(80)}ms", request_id: "r#{i}")
  end
  k
end

Logger.info("warm-up finished: #{length(Enum.uniq(keys))} distinct keys touched")
Logger.emergency("shutting down: SIGTERM received")
Logger.flush()
Process.sleep(200)
