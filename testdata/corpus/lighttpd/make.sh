#!/bin/bash
# lighttpd 1.4.69 server.errorlog with debug.log-request-handling / log-file-not-found, driven with curl/nc; SIGUSR1 graceful restart, SIGINT.
. "$(dirname "$0")/../tools/common.sh"
need lighttpd curl netcat-openbsd
W=/tmp/corpus-lighttpd; rm -rf $W; mkdir -p $W/html/priv; echo hi > $W/html/index.html; echo s > $W/html/priv/x.txt; chmod 000 $W/html/priv/x.txt
chown -R www-data $W
cat > $W/lighttpd.conf <<CONF
server.modules = ( "mod_access", "mod_auth", "mod_authn_file", "mod_proxy", "mod_cgi" )
server.document-root = "$W/html"
server.bind = "127.0.0.1"
server.port = 8095
server.pid-file = "$W/lighttpd.pid"
server.errorlog = "$W/error.log"
server.username = "www-data"
server.groupname = "www-data"
server.max-request-size = 1
debug.log-file-not-found = "enable"
debug.log-request-header-on-error = "enable"
debug.log-response-header = "disable"
debug.log-condition-handling = "disable"
index-file.names = ( "index.html" )
url.access-deny = ( ".secret" )
auth.backend = "plain"
auth.backend.plain.userfile = "$W/users"
auth.require = ( "/auth/" => ( "method" => "basic", "realm" => "r", "require" => "valid-user" ) )
\$HTTP["url"] =~ "^/proxy/" { proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => 9 ) ) ) }
\$HTTP["url"] =~ "^/cgi/" { cgi.assign = ( "" => "" ) }
CONF
echo "alice:wonderland" > $W/users
lighttpd -D -f $W/lighttpd.conf & LP=$!
waitport 8095
c() { curl -s -o /dev/null -m 5 -A corpus-curl/1.0 "$@" || true; }
B=http://127.0.0.1:8095
for p in / /index.html /missing.html /priv/x.txt /a.secret /proxy/x /auth/ /cgi/nothere "/../../etc/passwd"; do c $B$p; done
c -u alice:bad $B/auth/; c -u bob:x $B/auth/; c -u alice:wonderland $B/auth/
c -X POST --data-binary "$(head -c 5000 /dev/zero | tr '\0' a)" $B/
printf 'GARBAGE\r\n\r\n' | nc -q1 127.0.0.1 8095 >/dev/null
printf 'GET / HTTP/1.1\r\n\r\n' | nc -q1 127.0.0.1 8095 >/dev/null
printf 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n' | nc -q1 127.0.0.1 8095 >/dev/null
printf 'GET / HTTP/7.0\r\nHost: x\r\n\r\n' | nc -q1 127.0.0.1 8095 >/dev/null
for i in $(seq 1 30); do c $B/page$i.html; c $B/; done
kill -USR1 $LP; sleep 2
c $B/after-restart
kill -TERM $LP; wait $LP
echo 'server.bogus = "x"' >> $W/lighttpd.conf
timeout 3 lighttpd -D -f $W/lighttpd.conf 2>>$W/error.log || true
finish "$HERE/lighttpd.py" $W/error.log lighttpd
