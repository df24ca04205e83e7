#!/bin/bash
# vsftpd 3.0.3 own log (xferlog_std_format=NO, log_ftp_protocol=YES) on 127.0.0.1:2121, driven with curl FTP and raw nc:
# anonymous and local logins, wrong passwords, uploads/downloads, bad commands.
. "$(dirname "$0")/../tools/common.sh"
need vsftpd curl netcat-openbsd
W=/tmp/corpus-vsftpd; rm -rf $W; mkdir -p $W/anon/pub $W/empty; echo file > $W/anon/pub/readme.txt
id ftpcorpus >/dev/null 2>&1 || useradd -m ftpcorpus; echo 'ftpcorpus:Ftp-Pass-1' | chpasswd
cat > $W/vsftpd.conf <<CONF
listen=YES
listen_address=127.0.0.1
listen_port=2121
background=NO
anonymous_enable=YES
anon_root=$W/anon
local_enable=YES
write_enable=YES
pasv_enable=YES
pasv_min_port=30000
pasv_max_port=30010
secure_chroot_dir=$W/empty
xferlog_enable=YES
xferlog_std_format=NO
vsftpd_log_file=$W/vsftpd.log
log_ftp_protocol=YES
dual_log_enable=NO
pam_service_name=vsftpd
seccomp_sandbox=NO
max_login_fails=2
delay_failed_login=0
CONF
vsftpd $W/vsftpd.conf & VP=$!
waitport 2121
F=ftp://127.0.0.1:2121
c() { curl -s -o /dev/null -m 10 "$@" || true; }
c $F/pub/readme.txt; c $F/pub/; c $F/pub/missing.txt
c -u ftpcorpus:Ftp-Pass-1 $F/; c -u ftpcorpus:Ftp-Pass-1 -T /etc/hostname $F/uploaded.txt; c -u ftpcorpus:Ftp-Pass-1 $F/uploaded.txt
c -u ftpcorpus:wrong $F/; c -u nosuch:x $F/; c -u root:x $F/
c -T /etc/hostname $F/pub/anon-upload.txt
(for l in "USER ftpcorpus" "PASS bad1" "USER ftpcorpus" "PASS bad2" "USER ftpcorpus" "PASS bad3"; do printf '%s\r\n' "$l"; sleep 0.3; done) | nc -q1 127.0.0.1 2121 >/dev/null
(for l in "USER anonymous" "PASS a@b" "FOOBAR" "SITE EXEC ls" "CWD /nonexistent" "RETR nothing" "PORT 1,2,3,4,5,6" "QUIT"; do printf '%s\r\n' "$l"; sleep 0.3; done) | nc -q1 127.0.0.1 2121 >/dev/null
printf 'GET / HTTP/1.0\r\n\r\n' | nc -q1 127.0.0.1 2121 >/dev/null
for i in 1 2 3 4 5; do c $F/pub/readme.txt; done
kill -TERM $VP; wait $VP
finish none $W/vsftpd.log vsftpd
