#!/bin/bash
# HAProxy 2.6 in master-worker mode; traffic log to stdout (rfc3164 with <PRI>), startup/alert messages on stderr; both captured in one file.
. "$(dirname "$0")/../tools/common.sh"
need haproxy curl netcat-openbsd python3
W=/tmp/corpus-haproxy; rm -rf $W; mkdir -p $W/www; echo ok > $W/www/index.html
(cd $W/www && exec python3 -m http.server 18081 --bind 127.0.0.1 >/dev/null 2>&1) & PY=$!
cat > $W/haproxy.cfg <<CONF
global
  log stdout format rfc3164 local0 info
  stats socket $W/admin.sock mode 600 level admin
  maxconn 100
defaults
  log global
  mode http
  option httplog
  option dontlognull
  timeout connect 1s
  timeout client 2s
  timeout server 2s
  timeout http-request 2s
frontend fe
  bind 127.0.0.1:8097
  acl blocked path_beg /admin
  http-request deny if blocked
  use_backend be_dead if { path_beg /dead }
  default_backend be
backend be
  option httpchk GET /index.html
  server s1 127.0.0.1:18081 check inter 1s fall 2 rise 2
  server s2 127.0.0.1:18082 check inter 1s fall 2 rise 2
backend be_dead
  server d1 127.0.0.1:9 check inter 1s
listen tcpin
  mode tcp
  option tcplog
  bind 127.0.0.1:8096
  server t1 127.0.0.1:9
CONF
LOG=$W/haproxy.log
haproxy -W -f $W/haproxy.cfg -p $W/pid > $LOG 2>&1 &
HP=$!
waitport 8097; sleep 3
c() { curl -s -o /dev/null -A corpus-curl/1.0 "$@" || true; }
B=http://127.0.0.1:8097
for i in $(seq 1 20); do c $B/index.html; c $B/missing$i; done
c $B/admin/panel; c $B/dead/x; c -X POST -d a=b $B/index.html
printf 'GARBAGE\r\n\r\n' | nc -q1 127.0.0.1 8097 >/dev/null
printf 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n' | nc -q1 127.0.0.1 8097 >/dev/null
(printf 'GET / HTTP/1.1\r\n'; sleep 3) | nc -q0 127.0.0.1 8097 >/dev/null
echo hi | nc -q1 127.0.0.1 8096 >/dev/null
echo "disable server be/s1" | nc -U -q1 $W/admin.sock >/dev/null; sleep 1
c $B/index.html
echo "enable server be/s1" | nc -U -q1 $W/admin.sock >/dev/null; sleep 3
c $B/index.html
# backend goes away and comes back
kill $PY; sleep 3; c $B/index.html
(cd $W/www && exec python3 -m http.server 18081 --bind 127.0.0.1 >/dev/null 2>&1) & PY=$!; sleep 3
c $B/index.html
# reload with a bad config then a good one
cp $W/haproxy.cfg $W/good.cfg; echo "  bogus_keyword 1" >> $W/haproxy.cfg
kill -USR2 $(head -1 $W/pid); sleep 2
cp $W/good.cfg $W/haproxy.cfg
kill -USR2 $(head -1 $W/pid); sleep 2
c $B/index.html
kill -USR1 $(head -1 $W/pid); sleep 2
kill $PY; wait $HP 2>/dev/null
finish "$HERE/haproxy.py" $LOG haproxy
