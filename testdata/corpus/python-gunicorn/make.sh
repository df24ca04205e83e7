#!/bin/bash
# Reproduce python-gunicorn.log: gunicorn (sync workers, --log-level debug,
# access log and error log both to stdout/stderr) serving a small Flask app,
# driven by client.py (traffic, bad requests, a worker timeout, signals).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q python3 python3-venv >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
if [ -n "${VENV:-}" ]; then ln -s "$VENV" "$W/venv"; else python3 -m venv "$W/venv"; fi
"$W/venv/bin/pip" install -q gunicorn==27.0.1 flask==3.1.3
PORT=18471
"$W/venv/bin/gunicorn" --chdir "$HERE" -w 2 -b 127.0.0.1:$PORT --timeout 2 --graceful-timeout 2 \
  --log-level debug --access-logfile - --error-logfile - wsgi:app > "$W/raw.log" 2>&1 &
MASTER=$!
sleep 2
"$W/venv/bin/python" "$HERE/client.py" $PORT $MASTER
wait $MASTER || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" gunicorn "$HERE/$NAME.log" "$HERE/truth.csv"
