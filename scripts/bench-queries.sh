#!/usr/bin/env bash
# Query benchmark: a release `redscope demo` with an hour of history at 20 traces/s; times the API
# calls behind each UI page and triage (20 runs each, p50/p95/max), then the browser's
# page-load-to-data times (Playwright, Debian's chromium), then RED for all services over 24 hours
# on a second demo holding a day of history. Results go into BENCHMARKS.md by hand.
#   scripts/bench-queries.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${REDSCOPE_BIN:-target/release/redscope}
[ -x "$BIN" ] || cargo build --release -p redscope
PORT=18480
SERVER=
DATA=
stop() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; [ -n "$DATA" ] && rm -rf "$DATA"; SERVER=; DATA=; }
trap stop EXIT

# start_demo ARGS...: a demo on fresh data; returns once its history is stored.
start_demo() {
  DATA=$(mktemp -d)
  local t0; t0=$(date +%s%N)
  "$BIN" demo --data "$DATA" --otlp-grpc 127.0.0.1:$((PORT + 1)) --otlp-http 127.0.0.1:$((PORT + 2)) \
    --api 127.0.0.1:$PORT "$@" >"$DATA.log" 2>&1 &
  SERVER=$!
  until grep -q "demo history generated" "$DATA.log" 2>/dev/null; do sleep 1; done
  echo "  history generated and sent in $(( ($(date +%s%N) - t0) / 1000000000 )) s"
  sleep 20 # rollups of unmatched client spans settle after 10 s and flush every 5 s
}

# timeit NAME PATH: 20 GETs after one warm-up, p50/p95/max in ms.
timeit() {
  python3 - "$1" "http://127.0.0.1:$PORT$2" <<'EOF'
import sys, time, urllib.request
name, url = sys.argv[1], sys.argv[2]
def get():
    t = time.perf_counter()
    with urllib.request.urlopen(url) as r:
        r.read()
    return (time.perf_counter() - t) * 1000
get()
ms = sorted(get() for _ in range(20))
print(f"  {name:<34} p50 {ms[9]:7.1f} ms   p95 {ms[18]:7.1f} ms   max {ms[19]:7.1f} ms")
EOF
}

echo "machine: $(nproc) cores; $(date -u +%F)"
echo "== demo with 1 h of history at 20 traces/s"
start_demo --rate 20 --backfill 1h --fault-cycle 10m
H="from=now-1h"
spans=$(curl -s -XPOST "http://127.0.0.1:$PORT/api/v1/sql" -d '{"query":"SELECT count(*) FROM spans"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0][0])')
logs=$(curl -s -XPOST "http://127.0.0.1:$PORT/api/v1/sql" -d '{"query":"SELECT count(*) FROM logs"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0][0])')
echo "  stored: $spans spans, $logs log records"
TRACE=$(curl -s "http://127.0.0.1:$PORT/api/v1/traces?$H&service=checkout&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["traces"][0]["trace_id"])')
echo "Services page"
timeit "services" "/api/v1/services?$H"
timeit "red (per service, series)" "/api/v1/red?$H"
echo "Service page (frontend)"
timeit "red (per operation)" "/api/v1/red?$H&service=frontend"
timeit "service-map" "/api/v1/service-map?$H"
timeit "error traces of the service" "/api/v1/traces?$H&service=frontend&status=error&limit=20"
timeit "log patterns of the service" "/api/v1/logs/patterns?$H&service=frontend"
echo "Traces page"
timeit "traces" "/api/v1/traces?$H&limit=50"
timeit "traces, errors over 1 s" "/api/v1/traces?$H&status=error&min_duration_ms=1000&limit=50"
echo "Trace page"
timeit "trace by id" "/api/v1/traces/$TRACE"
timeit "its logs" "/api/v1/logs?$H&trace_id=$TRACE&limit=200"
echo "Logs page"
timeit "logs" "/api/v1/logs?$H&limit=100"
timeit "logs, text search" "/api/v1/logs?$H&q=timed%20out&limit=100"
timeit "log patterns" "/api/v1/logs/patterns?$H"
echo "Metrics page"
timeit "metrics" "/api/v1/metrics?$H"
timeit "metric query p99 by route" "/api/v1/metrics/query?$H&name=http.server.request.duration&agg=p99&group_by=http.route"
echo "Triage"
timeit "triage, last 15 min" "/api/v1/triage?from=now-15m"
timeit "triage, last hour" "/api/v1/triage?from=now-1h&baseline_from=now-2h"

echo "== browser: page load to data shown (Playwright, chromium)"
if [ -x /usr/bin/chromium ] && [ -d web/node_modules ]; then
  (cd web && REDSCOPE_URL="http://127.0.0.1:$PORT" node --test --test-name-pattern='page data timings' tests/e2e.mjs 2>&1 |
    grep -o 'page load to data shown.*' || true)
else
  echo "  skipped (needs /usr/bin/chromium and web/node_modules: run scripts/web-test.sh once)"
fi
stop

echo "== demo with 24 h of history at 2 traces/s"
start_demo --rate 2 --backfill 24h
timeit "red, all services, 24 h" "/api/v1/red?from=now-24h"
timeit "service-map, 24 h" "/api/v1/service-map?from=now-24h"
