#!/bin/bash
# Apache httpd 2.4 error_log (LogLevel info, rewrite:trace1, auth_basic:debug), driven with curl/nc, graceful restart, stop.
. "$(dirname "$0")/../tools/common.sh"
need apache2 curl netcat-openbsd
W=/tmp/corpus-apache; rm -rf $W; mkdir -p $W/html/priv $W/cgi; echo hi > $W/html/index.html
printf '#!/bin/sh\necho "Content-type: text/plain"\necho\necho ok\necho "cgi stderr message" >&2\n' > $W/cgi/ok.cgi
printf '#!/bin/sh\necho broken\nexit 1\n' > $W/cgi/bad.cgi; chmod +x $W/cgi/*.cgi
M=/usr/lib/apache2/modules
htpasswd -bc $W/htpasswd alice wonderland 2>/dev/null
cat > $W/httpd.conf <<CONF
ServerRoot $W
ServerName localhost
PidFile $W/httpd.pid
Mutex file:$W default
DefaultRuntimeDir $W
Listen 127.0.0.1:8098
User www-data
Group www-data
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule authz_host_module $M/mod_authz_host.so
LoadModule authz_user_module $M/mod_authz_user.so
LoadModule authn_core_module $M/mod_authn_core.so
LoadModule authn_file_module $M/mod_authn_file.so
LoadModule auth_basic_module $M/mod_auth_basic.so
LoadModule mime_module $M/mod_mime.so
LoadModule dir_module $M/mod_dir.so
LoadModule alias_module $M/mod_alias.so
LoadModule cgid_module $M/mod_cgid.so
LoadModule rewrite_module $M/mod_rewrite.so
LoadModule proxy_module $M/mod_proxy.so
LoadModule proxy_http_module $M/mod_proxy_http.so
LoadModule reqtimeout_module $M/mod_reqtimeout.so
LoadModule status_module $M/mod_status.so
TypesConfig /etc/mime.types
ErrorLog $W/error.log
LogLevel info rewrite:trace1 auth_basic:debug
DocumentRoot $W/html
RequestReadTimeout header=2 body=2
LimitRequestBody 1024
ScriptAlias /cgi-bin/ $W/cgi/
<Directory $W/html>
  Require all granted
  RewriteEngine On
  RewriteRule ^old/(.*)$ /index.html [R=301,L]
</Directory>
<Directory $W/cgi>
  Require all granted
</Directory>
<Location /priv>
  AuthType Basic
  AuthName "private"
  AuthUserFile $W/htpasswd
  Require valid-user
</Location>
<Location /denied>
  Require all denied
</Location>
ProxyPass /app http://127.0.0.1:9/
<Location /server-status>
  SetHandler server-status
  Require ip 10.0.0.1
</Location>
CONF
chown -R www-data $W/html
apache2 -f $W/httpd.conf -k start
waitport 8098
c() { curl -s -o /dev/null -A "corpus-curl/1.0" "$@" || true; }
B=http://127.0.0.1:8098
for p in / /index.html /nope.html /old/page /denied/x /app/x /cgi-bin/ok.cgi /cgi-bin/bad.cgi /cgi-bin/missing.cgi /server-status /priv/ "/%2e%2e/%2e%2e/etc/passwd"; do c $B$p; done
c -u alice:wrong $B/priv/; c -u alice:wonderland $B/priv/; c -u mallory:x $B/priv/
c -X POST --data-binary "$(head -c 4000 /dev/zero | tr '\0' a)" $B/cgi-bin/ok.cgi
printf 'GARBAGE\r\n\r\n' | nc -q1 127.0.0.1 8098 >/dev/null
printf 'GET / HTTP/1.1\r\n\r\n' | nc -q1 127.0.0.1 8098 >/dev/null
printf 'GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n' | nc -q1 127.0.0.1 8098 >/dev/null
(printf 'GET / HTTP/1.1\r\nHost: x\r\n'; sleep 4) | nc -q0 127.0.0.1 8098 >/dev/null
for i in $(seq 1 20); do c "$B/old/p$i"; c "$B/f$i.html"; done
apache2 -f $W/httpd.conf -k graceful; sleep 2
c $B/
# broken config on restart: rejected by the running server
echo "BogusDirective on" >> $W/httpd.conf
kill -USR1 $(cat $W/httpd.pid); sleep 2
sed -i '$d' $W/httpd.conf
apache2 -f $W/httpd.conf -k restart; sleep 2
c $B/nope2
apache2 -f $W/httpd.conf -k stop; sleep 2
# start while port is taken
nc -l 127.0.0.1 8098 >/dev/null & NCP=$!; sleep 0.5
apache2 -f $W/httpd.conf -k start; sleep 1; kill $NCP 2>/dev/null
finish apache2 $W/error.log apache2
