#!/bin/bash
# Squid 5 cache.log (debug_options ALL,1) and access.log (native format) -> squid and squid-access.
. "$(dirname "$0")/../tools/common.sh"
need squid curl netcat-openbsd python3
W=/tmp/corpus-squid; rm -rf $W; mkdir -p $W/www; echo ok > $W/www/index.html; chown -R proxy $W
(cd $W/www && exec python3 -m http.server 18083 --bind 127.0.0.1 >/dev/null 2>&1) & PY=$!
cat > $W/squid.conf <<CONF
http_port 127.0.0.1:3199
pid_filename $W/squid.pid
cache_log $W/cache.log
access_log daemon:$W/access.log squid
cache_store_log none
coredump_dir $W
cache_mem 8 MB
acl localnet src 127.0.0.0/8
acl badsite dstdomain .blocked.example
acl SSL_ports port 443
acl CONNECT method CONNECT
http_access deny badsite
http_access deny CONNECT !SSL_ports
http_access allow localnet
http_access deny all
debug_options ALL,1
shutdown_lifetime 1 seconds
dns_nameservers 127.0.0.1
CONF
squid -N -f $W/squid.conf -z >/dev/null 2>&1 || true
squid -N -f $W/squid.conf >/dev/null 2>&1 &
SP=$!
waitport 3199; sleep 1
c() { curl -s -o /dev/null -m 10 -x http://127.0.0.1:3199 -A corpus-curl/1.0 "$@" || true; }
for i in $(seq 1 40); do c http://127.0.0.1:18083/index.html; c http://127.0.0.1:18083/missing$i; done
c http://127.0.0.1:9/refused; c http://www.blocked.example/; c http://no-such-host.invalid/
c -X CONNECT http://127.0.0.1:25/; c -p https://127.0.0.1:18083/
c http://127.0.0.1:18083/index.html -X BREW
printf 'GARBAGE\r\n\r\n' | nc -q2 127.0.0.1 3199 >/dev/null
printf 'GET http://127.0.0.1:18083/ HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n' | nc -q2 127.0.0.1 3199 >/dev/null
printf 'GET / HTTP/1.1\r\n\r\n' | nc -q2 127.0.0.1 3199 >/dev/null
squid -N -f $W/squid.conf -k rotate 2>/dev/null; sleep 1
echo "bogus_directive on" >> $W/squid.conf
echo "cache_mem 8 MBX" >> $W/squid.conf
echo "http_access allow nosuchacl" >> $W/squid.conf
kill -HUP $SP; sleep 3
sed -i '$d' $W/squid.conf
sed -i '$d' $W/squid.conf
sed -i '$d' $W/squid.conf
# the bad reconfigure is fatal; start again
wait $SP
squid -N -f $W/squid.conf >/dev/null 2>&1 &
SP=$!
waitport 3199; sleep 1
squid -N -f $W/squid.conf -k reconfigure 2>/dev/null; sleep 3
c http://127.0.0.1:18083/index.html
kill $PY; sleep 1; c http://127.0.0.1:18083/after-backend-died
# a second instance cannot bind the port
sed "s|$W/squid.pid|$W/squid2.pid|" $W/squid.conf > $W/squid2.conf
timeout 5 squid -N -f $W/squid2.conf >/dev/null 2>&1
squid -N -f $W/squid.conf -k shutdown 2>/dev/null; wait $SP
cat $W/cache.log.0 $W/cache.log > $W/cache.all 2>/dev/null || cp $W/cache.log $W/cache.all
cat $W/access.log.0 $W/access.log > $W/access.all 2>/dev/null || cp $W/access.log $W/access.all
finish "$HERE/squid.py" $W/cache.all squid
python3 "$TOOLS/servtruth.py" none $W/access.all "$HERE/../squid-access" squid-access
