#!/bin/bash
# Reproduce elixir-logger.log: Elixir 1.14 Logger, default console backend and
# format ("\n$time $metadata[$level] $message\n": a blank line before every
# record), level :debug; GenServer crash reports written by Elixir/OTP.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q --no-install-recommends elixir python3 >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
elixir "$HERE/app.exs" > "$W/raw.log" 2>&1 || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" elixir-logger "$HERE/$NAME.log" "$HERE/truth.csv"
