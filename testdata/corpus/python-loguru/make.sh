#!/bin/bash
# Reproduce python-loguru.log: loguru's default stderr format (re-added at TRACE level), with loguru's own annotated tracebacks.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q python3 python3-venv >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
if [ -n "${VENV:-}" ]; then ln -s "$VENV" "$W/venv"; else python3 -m venv "$W/venv"; fi
"$W/venv/bin/pip" install -q loguru==0.7.3
"$W/venv/bin/python" "$HERE/app.py" > "$W/raw.log" 2>&1
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" loguru "$HERE/$NAME.log" "$HERE/truth.csv"
