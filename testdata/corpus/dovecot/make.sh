#!/bin/bash
# Dovecot 2.3 log_path file (auth_verbose + auth_debug + mail_debug for part), IMAP/POP3 on 127.0.0.1:1499/1199 driven with nc.
. "$(dirname "$0")/../tools/common.sh"
need dovecot-imapd dovecot-pop3d netcat-openbsd
W=/tmp/corpus-dovecot; rm -rf $W; mkdir -p $W/run $W/mail; chown dovenull $W; 
id dovecorpus >/dev/null 2>&1 || useradd -M -d $W/mail/alice dovecorpus
U=$(id -u dovecorpus); G=$(id -g dovecorpus)
echo "alice:{PLAIN}wonderland:$U:$G::$W/mail/alice" > $W/users
mkdir -p $W/mail/alice; chown -R dovecorpus $W/mail
LOG=$W/dovecot.log
cat > $W/dovecot.conf <<CONF
protocols = imap pop3
listen = 127.0.0.1
base_dir = $W/run
log_path = $LOG
log_timestamp = "%Y-%m-%d %H:%M:%S "
auth_verbose = yes
auth_verbose_passwords = no
auth_debug = no
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
login_trusted_networks =
service imap-login {
  inet_listener imap {
    port = 1499
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 1199
  }
  inet_listener pop3s {
    port = 0
  }
}
passdb {
  driver = passwd-file
  args = $W/users
}
userdb {
  driver = passwd-file
  args = $W/users
}
auth_failure_delay = 0
mail_max_userip_connections = 3
CONF
dovecot -c $W/dovecot.conf
waitport 1499
imap() { (for l in "$@"; do printf '%s\r\n' "$l"; sleep 0.2; done) | nc -q1 127.0.0.1 1499 >/dev/null 2>&1 || true; }
pop() { (for l in "$@"; do printf '%s\r\n' "$l"; sleep 0.2; done) | nc -q1 127.0.0.1 1199 >/dev/null 2>&1 || true; }
imap "a LOGIN alice wonderland" "b SELECT INBOX" "c CREATE Archive" "d LIST \"\" *" "e LOGOUT"
imap "a LOGIN alice wrong" "b LOGIN alice wrong2" "c LOGOUT"
imap "a LOGIN mallory secret" "b LOGOUT"
imap "a BOGUS" "b SELECT INBOX" "c" "d LOGOUT"
imap "a LOGIN alice wonderland" "b SELECT NoSuchBox" "c FETCH 1:* FLAGS" "d APPEND INBOX {5}" "hello" "e LOGOUT"
imap "a AUTHENTICATE PLAIN" "$(printf 'alice\0alice\0wonderland' | base64)" "b LOGOUT"
imap "a AUTHENTICATE PLAIN" "####" "b LOGOUT"
pop "USER alice" "PASS wonderland" "STAT" "LIST" "QUIT"
pop "USER alice" "PASS bad" "QUIT"
pop "HELLO" "QUIT"
printf 'GET / HTTP/1.0\r\n\r\n' | nc -q1 127.0.0.1 1499 >/dev/null
(sleep 3) | nc -q0 127.0.0.1 1199 >/dev/null &
for i in 1 2 3 4; do (printf 'a LOGIN alice wonderland\r\n'; sleep 2; printf 'b LOGOUT\r\n') | nc -q1 127.0.0.1 1499 >/dev/null & done; wait
for i in $(seq 1 10); do imap "a LOGIN alice wonderland" "b SELECT INBOX" "c LOGOUT"; done
sed -i 's/^auth_debug = no/auth_debug = yes\nmail_debug = yes/' $W/dovecot.conf
doveadm -c $W/dovecot.conf reload; sleep 1
imap "a LOGIN alice wonderland" "b SELECT INBOX" "c LOGOUT"
imap "a LOGIN alice nope" "c LOGOUT"
doveadm -c $W/dovecot.conf log reopen
doveadm -c $W/dovecot.conf stop; sleep 1
finish "$HERE/dovecot.py" $LOG dovecot
