#!/bin/bash
# memcached -vv stderr, driven with raw text protocol over nc (good and bad commands), SIGHUP-free; stopped with SIGTERM.
. "$(dirname "$0")/../tools/common.sh"
need memcached netcat-openbsd
W=/tmp/corpus-memcached; rm -rf $W; mkdir -p $W
memcached -u nobody -l 127.0.0.1 -p 11299 -U 0 -m 8 -c 64 -vv > $W/memcached.log 2>&1 &
MP=$!
waitport 11299
s() { printf "$1" | nc -q1 127.0.0.1 11299 >/dev/null 2>&1 || true; }
s 'set greeting 0 0 5\r\nhello\r\nget greeting\r\nquit\r\n'
s 'add greeting 0 0 3\r\nbye\r\nreplace nokey 0 0 1\r\nx\r\nappend greeting 0 0 1\r\n!\r\ngets greeting\r\n'
s 'incr counter 1\r\nset counter 0 0 1\r\n1\r\nincr counter 5\r\ndecr counter 2\r\nincr greeting 1\r\n'
s 'delete greeting\r\ndelete greeting\r\ntouch counter 10\r\nstats\r\nstats slabs\r\n'
s 'bogus command here\r\nset k 0 0 abc\r\nset toolong 0 0 3\r\nabcdef\r\nget\r\n'
s 'set big 0 0 2000000\r\n'
s 'flush_all\r\nversion\r\nverbosity 1\r\nverbosity 2\r\ncas counter 0 0 1 999\r\n2\r\nmn\r\nms k2 2\r\nhi\r\nmg k2 v\r\n'
for i in $(seq 1 30); do s "set key$i 0 60 4\r\nval$((i%10))\r\nget key$i key$((i+1))\r\n"; done
for i in $(seq 1 70); do (sleep 2 | timeout 3 nc -q0 127.0.0.1 11299 >/dev/null 2>&1 &); done; sleep 4
s 'shutdown\r\n'
sleep 1; kill -TERM $MP 2>/dev/null; wait $MP 2>/dev/null
finish none $W/memcached.log memcached
