#!/bin/bash
# Reproduce erlang-logger.log: OTP 25 logger, kernel default handler and
# formatter (legacy "=LEVEL REPORT==== date ===" headers, multi-line bodies),
# levels lowered to all; gen_server crash reports from OTP itself.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q --no-install-recommends erlang-base python3 >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
escript "$HERE/app.escript" > "$W/raw.log" 2>&1 || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" erlang-logger "$HERE/$NAME.log" "$HERE/truth.csv"
