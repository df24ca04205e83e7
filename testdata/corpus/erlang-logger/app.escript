#!/usr/bin/env escript
%% Session broker logging through OTP's logger with the kernel's default
%% handler and formatter; only the levels are lowered to 'all'. Uses a
%% gen_server that crashes (so OTP itself writes crash reports) and a
%% supervisor that restarts it.
-module(broker).
-mode(compile).
-behaviour(gen_server).
-export([main/1, init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2, start_link/0, sup_init/0]).

start_link() -> gen_server:start_link({local, sessions}, ?MODULE, [], []).

init([]) ->
    logger:info("session table created", []),
    {ok, #{}}.

handle_call({open, User}, _From, S) when is_binary(User) ->
    Id = erlang:phash2({User, erlang:unique_integer()}),
    logger:debug("session ~p opened for ~s", [Id, User]),
    {reply, {ok, Id}, S#{Id => User}};
handle_call({close, Id}, _From, S) ->
    case maps:take(Id, S) of
        {User, S2} -> logger:info(#{event => session_closed, id => Id, user => User}), {reply, ok, S2};
        error -> logger:warning("close for unknown session ~p", [Id]), {reply, {error, not_found}, S}
    end;
handle_call({lookup, Id}, _From, S) ->
    %% crashes with badkey for unknown ids: a real bug, reported by gen_server
    {reply, maps:get(Id, S), S}.

handle_cast({expire, N}, S) ->
    logger:notice("expiring ~b idle sessions", [N]),
    {noreply, S}.

handle_info(Msg, S) ->
    logger:warning("unexpected message: ~p", [Msg]),
    {noreply, S}.

terminate(Reason, _S) ->
    logger:error("session table terminating: ~p", [Reason]),
    ok.

sup_init() ->
    process_flag(trap_exit, true),
    {ok, Pid} = start_link(),
    sup_loop(Pid, 0).

sup_loop(Pid, Restarts) ->
    receive
        {'EXIT', Pid, Reason} when Restarts < 12 ->
            logger:warning("sessions exited (~p), restart ~b of 12", [element(1, reason_head(Reason)), Restarts + 1]),
            {ok, New} = start_link(),
            sup_loop(New, Restarts + 1);
        {'EXIT', Pid, _} ->
            logger:critical("restart intensity reached, giving up on sessions", []),
            exit(shutdown);
        stop -> ok
    end.

reason_head({R, _}) -> {R}; reason_head(R) -> {R}.

call(Req) ->
    try gen_server:call(sessions, Req, 500)
    catch exit:Why -> logger:error("call ~p failed: ~P", [element(1, Req), Why, 12]), {error, crashed}
    end.

main(_) ->
    logger:set_primary_config(level, all),
    logger:set_handler_config(default, level, all),
    rand:seed(exsss, {1, 2, 3}),
    logger:notice("broker starting on node ~p, otp ~s", [node(), erlang:system_info(otp_release)]),
    logger:debug(#{config => #{port => 4369, pool => 8, ttl_s => 900}}),
    Sup = spawn(fun sup_init/0),
    timer:sleep(50),
    Users = [<<"alice">>, <<"bob">>, <<"carol">>, <<"dave">>, <<"erin">>],
    Ids = lists:foldl(fun(I, Acc) ->
        R = rand:uniform(100),
        if
            R =< 50 ->
                case call({open, lists:nth(rand:uniform(5), Users)}) of {ok, Id} -> [Id | Acc]; _ -> Acc end;
            R =< 70, Acc =/= [] ->
                call({close, hd(Acc)}), tl(Acc);
            R =< 78 ->
                call({close, rand:uniform(1000)}), Acc;
            R =< 81 ->
                logger:info("lookup of session ~b", [I]),
                call({lookup, I * 7919}), timer:sleep(20), Acc;
            R =< 85 ->
                sessions ! {tcp_closed, list_to_port("#Port<0.7>")}, Acc;
            R =< 88 ->
                gen_server:cast(sessions, {expire, rand:uniform(30)}), Acc;
            R =< 90 ->
                logger:alert("disk /var/lib/broker at ~b% full", [95 + rand:uniform(4)]), Acc;
            R =< 93 ->
                call({open, undefined_user}), timer:sleep(20), Acc;
            true ->
                logger:info(#{event => heartbeat, open => length(Acc), seq => I}), Acc
        end
    end, [], lists:seq(1, 140)),
    logger:info("~b sessions still open at shutdown", [length(Ids)]),
    logger:emergency("node shutting down: ~s", ["halt requested by operator"]),
    Sup ! stop,
    timer:sleep(100).
