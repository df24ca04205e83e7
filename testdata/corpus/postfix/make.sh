#!/bin/bash
# Postfix 3.7 with maillog_file (postlogd, no syslog daemon needed), SMTP on 127.0.0.1:2599 driven with swaks/nc:
# local delivery, unknown users, relay denied, protocol errors, bounce; postfix reload/stop.
. "$(dirname "$0")/../tools/common.sh"
echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
echo "postfix postfix/mailname string corpus.local" | debconf-set-selections
need postfix swaks netcat-openbsd
postfix stop >/dev/null 2>&1 || true
W=/tmp/corpus-postfix; rm -rf $W; mkdir -p $W
LOG=$W/postfix.log
id alice >/dev/null 2>&1 || useradd -m alice
postconf -e "myhostname=mx.corpus.local" "mydomain=corpus.local" "mydestination=corpus.local, mx.corpus.local, localhost" \
  "inet_interfaces=loopback-only" "inet_protocols=ipv4" "mynetworks=127.0.0.2/32" "relayhost=[127.0.0.1]:9" \
  "maillog_file_prefixes=/var, /dev/stdout, /tmp" "maillog_file=$LOG" "smtpd_banner=\$myhostname ESMTP" "smtpd_helo_required=yes" \
  "smtpd_recipient_restrictions=reject_unauth_destination" "smtpd_helo_restrictions=reject_invalid_helo_hostname" \
  "local_recipient_maps=proxy:unix:passwd.byname \$alias_maps" "message_size_limit=20000" \
  "smtpd_hard_error_limit=3" "smtpd_soft_error_limit=2" "smtpd_error_sleep_time=0" "compatibility_level=3.6" \
  "delay_warning_time=0" "maximal_queue_lifetime=1h"
sed -i 's/^smtp      inet  n       -       y       -       -       smtpd/127.0.0.1:2599      inet  n       -       y       -       -       smtpd/' /etc/postfix/master.cf
newaliases
postfix start >/dev/null 2>&1
waitport 2599; sleep 1
S="swaks -s 127.0.0.1 -p 2599 --silent 2 --timeout 10"
$S -f bob@example.com -t alice@corpus.local --header "Subject: hello" --body "test body" >/dev/null 2>&1
$S -f bob@example.com -t root@corpus.local >/dev/null 2>&1
$S -f bob@example.com -t nosuchuser@corpus.local >/dev/null 2>&1
$S -f bob@example.com -t victim@elsewhere.example >/dev/null 2>&1
$S -f "<bad address>" -t alice@corpus.local >/dev/null 2>&1
$S -f bob@example.com -t alice@corpus.local --helo "bad..helo" >/dev/null 2>&1
$S -f bob@example.com -t alice@corpus.local --body "$(head -c 30000 /dev/zero | tr '\0' x)" >/dev/null 2>&1
$S -f bob@example.com -t alice@corpus.local -a PLAIN -au alice -ap wrong >/dev/null 2>&1
printf 'EHLO client.example\r\nFOO BAR\r\nMAIL FROM:<>\r\nRCPT TO:<>\r\nDATA\r\nBAZ\r\nQUIT\r\n' | nc -q3 127.0.0.1 2599 >/dev/null
printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' | nc -q3 127.0.0.1 2599 >/dev/null
(printf 'HELO x\r\n'; sleep 1) | nc -q0 127.0.0.1 2599 >/dev/null
# outgoing mail to a dead relay gets deferred; a message to a bad local user bounces
echo "outgoing" | sendmail -f alice@corpus.local someone@remote.example
echo "to nobody" | sendmail -f alice@corpus.local nobody-here@corpus.local
for i in $(seq 1 5); do $S -f list$i@example.com -t alice@corpus.local --header "Subject: n$i" >/dev/null 2>&1; done
sleep 3
postqueue -f; sleep 3
postconf -e "smtpd_bogus_parameter=1" "mynetworks=not a network"
postfix reload >/dev/null 2>&1; sleep 2
$S -f bob@example.com -t alice@corpus.local >/dev/null 2>&1
postconf -e "mynetworks=127.0.0.2/32"; postconf -X smtpd_bogus_parameter
postfix reload >/dev/null 2>&1; sleep 2
postsuper -d ALL >/dev/null 2>&1
postfix stop >/dev/null 2>&1; sleep 2
finish "$HERE/postfix.py" $LOG postfix
