#!/usr/bin/env bash
# Builds the web UI and the browser SDK (sdk/browser, into web/dist/sdk) and runs their unit
# tests and browser tests (Playwright driving Debian's Chromium, headless): the UI's against a
# real `redscope demo` serving the built UI, the SDK's on a test site of its own and against a
# `redscope serve` it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "npm is required for the web UI tests" >&2
    exit 1
  fi
fi
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "Debian's chromium is required for the browser tests (apt-get install chromium)" >&2
    exit 1
  fi
fi

(cd sdk/browser && npm ci --no-audit --no-fund --loglevel=error)
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build && npm run test:unit)
(cd sdk/browser && npm run typecheck && npm run test:unit)

cargo build -p redscope
(cd sdk/browser && REDSCOPE_BIN="$ROOT/target/debug/redscope" npm run test:browser)
DATA=$(mktemp -d)
# Two distinct free ports, held until both are known.
read -r PORT HTTP_PORT < <(python3 -c 'import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
"$ROOT/target/debug/redscope" demo --data "$DATA" --otlp-grpc 127.0.0.1:0 --otlp-http "127.0.0.1:$HTTP_PORT" \
  --api "127.0.0.1:$PORT" --rate 30 >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 150); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.2
done
# Let the workload produce traces, logs, metrics and the first RED rollups and map edges.
sleep 20
if ! curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; then
  echo "redscope demo is not answering on port $PORT; its log:" >&2
  cat "$DATA/server.log" >&2
  exit 1
fi
(cd web && REDSCOPE_URL="http://127.0.0.1:$PORT" npm run test:e2e)
# The Web section (real user monitoring) over scripted browser sessions (it starts its own server).
(cd web && REDSCOPE_BIN="$ROOT/target/debug/redscope" npm run test:web)
# Cross-origin pages against a server with tokens (it starts its own).
(cd web && REDSCOPE_BIN="$ROOT/target/debug/redscope" npm run test:security)
# The demo's storefront clicked through to checkout, found as a session with its backend trace
# (it starts its own demo).
(cd web && REDSCOPE_BIN="$ROOT/target/debug/redscope" npm run test:shop)
# Dashboards as code: a Perses file and the built-in RED dashboards over a demo of its own.
(cd web && REDSCOPE_BIN="$ROOT/target/debug/redscope" node --test tests/dashboards.mjs)
# A live incident (a bad deploy of shipping, in a demo of its own): the home page's marks, the
# Service page's deploy marker and previous period, the Triage and Alerts pages.
(cd web && REDSCOPE_BIN="$ROOT/target/debug/redscope" npm run test:incident)
