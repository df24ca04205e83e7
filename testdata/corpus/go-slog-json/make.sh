#!/bin/bash
# Reproduce go-slog-json.log: golang.org/x/exp/slog JSONHandler, AddSource, levels DEBUG-4..ERROR+4.
# Built with Debian's Go 1.19 in GOPATH mode against Debian's packaged library sources.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q --no-install-recommends golang-go python3 golang-golang-x-exp-dev >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
export GO111MODULE=off GOPATH="$W/gp:/usr/share/gocode" GOCACHE="$W/cache" GOFLAGS=-p=1
# GOPATH mode resolves "k8s.io/klog/v2" only through a v2 directory
mkdir -p "$W/gp/src/app" "$W/gp/src/k8s.io/klog"; ln -s /usr/share/gocode/src/k8s.io/klog "$W/gp/src/k8s.io/klog/v2"
cp "$HERE/main.go" "$HERE/sim.go" "$W/gp/src/app/"
(cd "$W/gp/src/app" && go build -o "$W/prog" .)
"$W/prog" json > "$W/raw.log" 2>&1 || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" go-json-level-slog "$HERE/$NAME.log" "$HERE/truth.csv"
