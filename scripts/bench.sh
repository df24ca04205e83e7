#!/usr/bin/env bash
# End-to-end benchmark: a release server with durability on, driven over loopback by
# `redscope bench` with pre-encoded OTLP/HTTP protobuf batches. Prints throughput, peak RSS,
# bytes on disk per record and trace-by-id latency. Results go into BENCHMARKS.md by hand.
#   scripts/bench.sh [seconds per load run, default 30] [spans to store for trace lookups, default 10000000]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-30}
SPANS=${2:-10000000}
BIN=${REDSCOPE_BIN:-target/release/redscope}
[ -x "$BIN" ] || cargo build --release -p redscope
DATA=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT

start() {
  "$BIN" serve --data "$DATA" --otlp-grpc 127.0.0.1:14317 --otlp-http 127.0.0.1:14318 --api 127.0.0.1:18080 \
    >"$DATA.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}
peak_rss() { awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$SERVER/status"; }
disk() {
  curl -s http://127.0.0.1:18080/api/v1/status | python3 -c '
import json,sys
d=json.load(sys.stdin)["status"]["storage"]["disk"]
for t in d:
    if t["rows"]: print("  %-14s %10d rows %8.1f MiB on disk %6.1f bytes/row" % (t["table"], t["rows"], t["bytes"]/2**20, t["bytes_per_row"]))'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u +%F)"
start
"$BIN" bench logs --otlp http://127.0.0.1:14318 --duration "$SECS" --batch 2000 --concurrency 8
echo "  peak RSS after logs: $(peak_rss)"
"$BIN" bench spans --otlp http://127.0.0.1:14318 --duration "$SECS" --batch 2000 --concurrency 8
echo "  peak RSS after spans: $(peak_rss)"
curl -s -XPOST http://127.0.0.1:18080/api/v1/sql -d '{"query":"SELECT 1"}' >/dev/null
sleep 65  # let the memtable flush to Parquet (flush_interval_secs = 60)
disk

# Fill up to SPANS stored spans, then time trace lookups.
have=$(curl -s -XPOST http://127.0.0.1:18080/api/v1/sql -d '{"query":"SELECT count(*) FROM spans"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0][0])')
while [ "$have" -lt "$SPANS" ]; do
  "$BIN" bench spans --otlp http://127.0.0.1:14318 --duration 20 --batch 2000 --concurrency 8 >/dev/null
  have=$(curl -s -XPOST http://127.0.0.1:18080/api/v1/sql -d '{"query":"SELECT count(*) FROM spans"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0][0])')
done
sleep 65
echo "  peak RSS: $(peak_rss)"
disk
"$BIN" bench trace-lookup --api http://127.0.0.1:18080 --samples 300
start_red=$(date +%s%N)
curl -s "http://127.0.0.1:18080/api/v1/red?from=now-24h" >/dev/null
echo "RED, all services, last 24h: $(( ($(date +%s%N) - start_red) / 1000000 )) ms (one request, including curl)"
