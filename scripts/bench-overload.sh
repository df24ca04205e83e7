#!/usr/bin/env bash
# Overload benchmark: 32 clients send ~1 MB OTLP/HTTP log batches as fast as the server takes
# them (429/503 retried after 50 ms) while `/api/v1/services` is timed once every 200 ms and
# the server's peak RSS is read. Default settings, durability on. Results go into BENCHMARKS.md.
#   scripts/bench-overload.sh [seconds of load, default 60] [clients, default 32]
# Needs the Python package opentelemetry-proto (scripts/test.sh installs it into .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
CLIENTS=${2:-32}
BIN=${REDSCOPE_BIN:-target/release/redscope}
PY=${PYTHON:-.venv/bin/python}
BENCH=${BENCH_DIR:-../shared/bench}
BATCHES=${BATCHES:-/tmp/redscope-overload-batches}
[ -x "$BIN" ] || cargo build --release -p redscope
[ -f "$BATCHES/batch-0000.pb" ] || "$PY" "$BENCH/make_batches.py" "$BATCHES" 1200000 6000 >/dev/null
DATA=$(mktemp -d)
trap 'kill $BLAST $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
BLAST=
"$BIN" serve --data "$DATA" --otlp-grpc 127.0.0.1:24317 --otlp-http 127.0.0.1:24318 --api 127.0.0.1:28080 \
  >"$DATA.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:28080/healthz >/dev/null && break; sleep 0.1; done

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u +%F); $BIN"
# Enough rounds of the 200 batches to outlast the load window; the sender is stopped after it.
"$PY" "$BENCH/blast.py" http://127.0.0.1:24318/v1/logs "$BATCHES" 6000 "$CLIENTS" 50 >"$DATA.blast" 2>&1 &
BLAST=$!
sleep 2
"$PY" - "$SECS" <<'EOF'
import sys, time, urllib.request
secs = float(sys.argv[1]); lat = []; errors = 0
end = time.time() + secs
while time.time() < end:
    t = time.time()
    try:
        with urllib.request.urlopen("http://127.0.0.1:28080/api/v1/services?from=now-15m", timeout=60) as r:
            r.read()
    except Exception:
        errors += 1
    lat.append((time.time() - t) * 1000)
    time.sleep(0.2)
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"/api/v1/services under load: {len(lat)} calls, p50 {q(0.5):.0f} ms, p99 {q(0.99):.0f} ms, max {lat[-1]:.0f} ms, errors {errors}")
EOF
kill "$BLAST" 2>/dev/null || true
wait "$BLAST" 2>/dev/null || true
curl -s http://127.0.0.1:28080/api/v1/status | python3 -c '
import json, sys
s = json.load(sys.stdin)["status"]
i = s["ingest"]
print("logs accepted:", i["logs_accepted"], "refused:", i["requests_refused"])
if "listeners" in s: print("listeners:", json.dumps(s["listeners"]))'
awk '/VmHWM/ {printf "peak RSS: %.0f MiB\n", $2/1024}' "/proc/$SERVER/status"
