#!/usr/bin/env bash
# PromQL benchmark: a release `redscope demo` with 24 h of history at 2 traces/s, then
# `query_range` over the whole day at a 60 s step (1,441 points per series, what Grafana asks for a
# day) for dashboard queries over the stored OTLP metrics and the synthetic span and log metrics:
# 10 runs after one warm-up, p50 and max. Results go into BENCHMARKS.md by hand.
#   scripts/bench-promql.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${REDSCOPE_BIN:-target/release/redscope}
[ -x "$BIN" ] || cargo build --release -p redscope
PORT=${PORT:-18580}
DATA=$(mktemp -d)
SERVER=
stop() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; rm -rf "$DATA" "$DATA.log"; }
trap stop EXIT

echo "machine: $(nproc) cores; $(date -u +%F)"
t0=$(date +%s)
"$BIN" demo --data "$DATA" --otlp-grpc 127.0.0.1:$((PORT + 1)) --otlp-http 127.0.0.1:$((PORT + 2)) \
  --api 127.0.0.1:$PORT --rate 2 --backfill 24h >"$DATA.log" 2>&1 &
SERVER=$!
until grep -q "demo history generated" "$DATA.log" 2>/dev/null; do sleep 2; done
echo "  24 h of history generated and sent in $(( $(date +%s) - t0 )) s"
sleep 20 # rollups settle and flush

python3 - "http://127.0.0.1:$PORT/prometheus/api/v1" <<'EOF'
import json, sys, time, urllib.parse, urllib.request
base = sys.argv[1]
queries = [
    ("OTLP counter rate by job", 'sum by (job) (rate(http_server_request_duration_milliseconds_count[5m]))'),
    ("OTLP histogram p95 by job", 'histogram_quantile(0.95, sum by (le, job) (rate(http_server_request_duration_milliseconds_bucket[5m])))'),
    ("OTLP gauge avg by job", 'avg by (job) (process_cpu_utilization_ratio)'),
    ("OTLP counter increase", 'sum(increase(shop_orders_total[1h]))'),
    ("span requests by job", 'sum by (job) (rate(redscope_span_requests_total[5m]))'),
    ("span error ratio by job", 'sum by (job) (rate(redscope_span_errors_total[5m])) / sum by (job) (rate(redscope_span_requests_total[5m]))'),
    ("span p99 by job", 'histogram_quantile(0.99, sum by (le, job) (rate(redscope_span_duration_seconds_bucket[5m])))'),
    ("log records by job, severity", 'sum by (job, severity) (rate(redscope_log_records_total[5m]))'),
]
end = time.time()
start = end - 86400
def run(q):
    params = urllib.parse.urlencode({"query": q, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": "60"})
    t = time.perf_counter()
    with urllib.request.urlopen(f"{base}/query_range?{params}") as r:
        body = json.load(r)
    ms = (time.perf_counter() - t) * 1000
    if body["status"] != "success":
        raise SystemExit(f"{q}: {body}")
    return ms, body["data"]["result"]
for name, q in queries:
    _, result = run(q)
    ms = sorted(run(q)[0] for _ in range(10))
    points = sum(len(s["values"]) for s in result)
    print(f"  {name:<30} p50 {ms[4]:7.1f} ms  max {ms[9]:7.1f} ms  ({len(result)} series, {points} points)")
EOF
