#!/usr/bin/env bash
# Builds redscope (and its web UI when npm is available) and runs it with the built-in demo
# workload. Open http://localhost:8080/ once it says it is listening. Ctrl-C stops it.
# Extra arguments go to `redscope demo` (e.g. --api 127.0.0.1:9090 --data /tmp/demo).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f web/package.json ]; then
  if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  fi
  if command -v npm >/dev/null 2>&1; then
    (cd sdk/browser && npm ci --no-audit --no-fund --loglevel=error)
    (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
  else
    echo "npm not found: serving the built-in minimal page instead of the full web UI" >&2
  fi
fi

rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
cargo build --release -p redscope
# An hour of history, then live traffic; every ten minutes a fault comes or goes (triage finds it).
exec target/release/redscope demo --backfill 1h --fault-cycle 10m "$@"
