#!/bin/bash
# nginx error.log (level info) and access.log (combined); produces both nginx-error and nginx-access.
. "$(dirname "$0")/../tools/common.sh"
need nginx curl netcat-openbsd
W=/tmp/corpus-nginx; rm -rf $W; mkdir -p $W/html/sub $W/tmp; echo hello > $W/html/index.html; echo secret > $W/html/sub/private.txt
cat > $W/nginx.conf <<CONF
worker_processes 2;
pid $W/nginx.pid;
error_log $W/error.log info;
events { worker_connections 64; }
http {
  access_log $W/access.log combined;
  client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp; uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;
  client_max_body_size 1k;
  limit_req_zone \$binary_remote_addr zone=one:1m rate=2r/s;
  upstream dead { server 127.0.0.1:9; }
  server {
    listen 127.0.0.1:8099;
    server_name localhost;
    root $W/html;
    location / { }
    location /sub/ { deny all; }
    location /auth/ { auth_basic "r"; auth_basic_user_file $W/htpasswd; }
    location /proxy/ { proxy_pass http://dead; proxy_connect_timeout 1s; }
    location /php/ { fastcgi_pass unix:$W/nosuch.sock; }
    location /limited/ { limit_req zone=one burst=1 nodelay; }
    location /redir { return 301 /index.html; }
  }
}
CONF
echo 'user:$apr1$abcdefgh$B0Xn5uTqR.nnoSCPIXkwS/' > $W/htpasswd
nginx -c $W/nginx.conf -p $W 2>/dev/null
waitport 8099
c() { curl -s -o /dev/null -A "corpus-curl/1.0" "$@" || true; }
B=http://127.0.0.1:8099
for p in / /index.html /missing.html /sub/private.txt /proxy/x /php/index.php /redir "/a/../../etc/passwd" /auth/ ; do c $B$p; done
c -u user:wrong $B/auth/; c -u nobody:x $B/auth/
for i in $(seq 1 8); do c $B/limited/x; done
c -X POST --data-binary "$(head -c 5000 /dev/zero | tr '\0' a)" $B/
c -X PUT -d x $B/index.html; c -X DELETE $B/index.html; c -I $B/
c -H "Host: " $B/; c -H 'Range: bytes=9999-' $B/index.html
c -e "http://referrer.example/page" $B/index.html
printf 'GARBAGE\r\n\r\n' | nc -q1 127.0.0.1 8099 >/dev/null
printf 'GET / HTTP/1.1\r\n\r\n' | nc -q1 127.0.0.1 8099 >/dev/null
printf 'GET / HTTP/9.9\r\nHost: x\r\n\r\n' | nc -q1 127.0.0.1 8099 >/dev/null
printf 'GET /%%zz HTTP/1.1\r\nHost: x\r\n\r\n' | nc -q1 127.0.0.1 8099 >/dev/null
printf 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n' | nc -q1 127.0.0.1 8099 >/dev/null
printf 'GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n' "$(head -c 10000 /dev/zero | tr '\0' b)" | nc -q1 127.0.0.1 8099 >/dev/null
(printf 'GET / HTTP/1.1\r\nHost: x\r\n'; sleep 2) | nc -q0 127.0.0.1 8099 >/dev/null
for i in $(seq 1 60); do c "$B/page$((i%7)).html?q=$i"; c $B/index.html; done
# reload with a broken config (rejected), then a good one
cp $W/nginx.conf $W/good.conf
sed -i 's/worker_connections 64;/worker_connections 64; bogus_directive on;/' $W/nginx.conf
kill -HUP $(cat $W/nginx.pid); sleep 1
cp $W/good.conf $W/nginx.conf
nginx -c $W/nginx.conf -p $W -s reload 2>/dev/null; sleep 2
c $B/; nginx -c $W/nginx.conf -p $W -s reopen; sleep 1
# second instance on same port -> bind failure
nginx -c $W/nginx.conf -p $W -g "pid $W/other.pid;" 2>&1 | head -3
c $B/index.html
nginx -c $W/nginx.conf -p $W -s quit; sleep 2
finish nginx-error $W/error.log nginx-error
python3 "$TOOLS/servtruth.py" none $W/access.log "$HERE"/../nginx-access nginx-access
