#!/bin/bash
# BIND 9.18 named -f with a file channel (print-time/category/severity, severity dynamic),
# driven with dig (good/bad queries, AXFR refused, bad zone), rndc reload/trace/notrace/stop.
. "$(dirname "$0")/../tools/common.sh"
need bind9 bind9-dnsutils netcat-openbsd
W=/tmp/corpus-bind; rm -rf $W; mkdir -p $W; chown bind $W
cat > $W/rndc.key <<KEY
key "rndc-key" { algorithm hmac-sha256; secret "$(head -c 32 /dev/urandom | base64)"; };
KEY
cat > $W/named.conf <<CONF
include "$W/rndc.key";
controls { inet 127.0.0.1 port 9953 allow { 127.0.0.1; } keys { "rndc-key"; }; };
options {
  directory "$W";
  pid-file "$W/named.pid";
  listen-on port 5399 { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  allow-transfer { none; };
  dnssec-validation no;
  querylog yes;
};
logging {
  channel main { file "$W/named.log"; print-time yes; print-category yes; print-severity yes; severity dynamic; };
  category default { main; };
  category queries { main; };
  category lame-servers { null; };
};
zone "corpus.test" { type primary; file "$W/corpus.test.zone"; allow-update { none; }; };
zone "broken.test" { type primary; file "$W/broken.test.zone"; };
CONF
cat > $W/corpus.test.zone <<ZONE
\$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
@ IN NS ns1
ns1 IN A 127.0.0.1
www IN A 192.0.2.10
mail IN A 192.0.2.25
@ IN MX 10 mail
txt IN TXT "hello corpus"
ZONE
printf '$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\nthis line is not valid\n' > $W/broken.test.zone
chown bind $W/*
named -u bind -c $W/named.conf -f &
NP=$!
waitport 5399
d() { dig @127.0.0.1 -p 5399 +tries=1 +time=2 "$@" >/dev/null 2>&1 || true; }
R="rndc -k $W/rndc.key -s 127.0.0.1 -p 9953"
for n in www mail txt nosuch ns1; do d $n.corpus.test A; done
d corpus.test MX; d corpus.test AXFR; d broken.test SOA; d example.com A; d corpus.test ANY +tcp
d -x 127.0.0.1
for i in $(seq 1 30); do d host$i.corpus.test A; d www.corpus.test AAAA; done
d corpus.test IXFR=0
printf 'garbage' | nc -u -q1 127.0.0.1 5399 >/dev/null
nsupdate -p 5399 <<UPD >/dev/null 2>&1 || true
server 127.0.0.1 5399
zone corpus.test
update add evil.corpus.test 300 A 192.0.2.66
send
UPD
$R trace 3 >/dev/null; d www.corpus.test A; d nosuch.corpus.test AAAA; $R notrace >/dev/null
sed -i 's/^@ IN SOA ns1 hostmaster 1 /@ IN SOA ns1 hostmaster 2 /; $a new IN A 192.0.2.77' $W/corpus.test.zone
$R reload corpus.test >/dev/null; sleep 1
d new.corpus.test A
$R reload >/dev/null 2>&1; sleep 1
$R status >/dev/null; $R reconfig >/dev/null 2>&1; sleep 1
$R -y nosuchkey status >/dev/null 2>&1 || true
$R stop >/dev/null; wait $NP
finish "$HERE/bind9.py" $W/named.log bind9
