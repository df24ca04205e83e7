#!/bin/bash
# Reproduce python-uvicorn.log: uvicorn's own default logging (--log-level
# trace, so TRACE/DEBUG/INFO/WARNING/ERROR plus its access log) serving a
# plain ASGI app, driven by client.py, stopped with SIGINT.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q python3 python3-venv >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
if [ -n "${VENV:-}" ]; then ln -s "$VENV" "$W/venv"; else python3 -m venv "$W/venv"; fi
"$W/venv/bin/pip" install -q uvicorn==0.54.0
PORT=18472
"$W/venv/bin/uvicorn" --app-dir "$HERE" asgi:app --host 127.0.0.1 --port $PORT --log-level trace \
  --limit-concurrency 4 --timeout-graceful-shutdown 1 > "$W/raw.log" 2>&1 &
PID=$!
sleep 2
"$W/venv/bin/python" "$HERE/client.py" $PORT $PID
wait $PID || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" uvicorn "$HERE/$NAME.log" "$HERE/truth.csv"
