# shared helpers for server make.sh scripts (source me)
set -u
export DEBIAN_FRONTEND=noninteractive
HERE=$(cd "$(dirname "$0")" && pwd)
TOOLS=$HERE/../tools
# do not let package maintainer scripts start daemons; we start them by hand
if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi
need() { apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "$@" >/dev/null; }
waitport() { for i in $(seq 1 ${2:-60}); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.5; done; echo "port $1 not up" >&2; return 1; }
finish() { python3 "$TOOLS/servtruth.py" "$1" "$2" "$HERE" "$3" ${4:+--max $4}; }
