#!/bin/bash
# OpenSSH sshd -D -E logfile (LogLevel VERBOSE, then a DEBUG1 instance), driven with sshpass/ssh: good and bad passwords,
# unknown users, non-SSH banner, key auth, config test failure, SIGHUP, stop.
. "$(dirname "$0")/../tools/common.sh"
need openssh-server openssh-client sshpass netcat-openbsd
W=/tmp/corpus-sshd; rm -rf $W; mkdir -p $W; mkdir -p /run/sshd
id sshcorpus >/dev/null 2>&1 || useradd -m sshcorpus
echo 'sshcorpus:Corpus-Pass-1' | chpasswd
ssh-keygen -q -t ed25519 -N '' -f $W/hostkey; ssh-keygen -q -t ed25519 -N '' -f $W/userkey
mkdir -p ~sshcorpus/.ssh; cp $W/userkey.pub ~sshcorpus/.ssh/authorized_keys; chown -R sshcorpus ~sshcorpus/.ssh; chmod 700 ~sshcorpus/.ssh
cat > $W/sshd_config <<CONF
Port 2299
ListenAddress 127.0.0.1
HostKey $W/hostkey
PidFile $W/sshd.pid
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM yes
PermitRootLogin no
MaxAuthTries 3
LoginGraceTime 5
LogLevel VERBOSE
AllowUsers sshcorpus
CONF
LOG=$W/sshd.log
/usr/sbin/sshd -D -f $W/sshd_config -E $LOG &
SP=$!
waitport 2299
O="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -p 2299"
sshpass -p 'Corpus-Pass-1' ssh $O -o PubkeyAuthentication=no sshcorpus@127.0.0.1 'echo hi' >/dev/null 2>&1
sshpass -p 'wrong' ssh $O -o PubkeyAuthentication=no sshcorpus@127.0.0.1 true >/dev/null 2>&1
sshpass -p 'wrong' ssh $O -o PubkeyAuthentication=no nosuchuser@127.0.0.1 true >/dev/null 2>&1
sshpass -p 'wrong' ssh $O -o PubkeyAuthentication=no root@127.0.0.1 true >/dev/null 2>&1
ssh $O -i $W/userkey -o BatchMode=yes sshcorpus@127.0.0.1 'true' >/dev/null 2>&1
ssh $O -i $W/hostkey -o BatchMode=yes sshcorpus@127.0.0.1 'true' >/dev/null 2>&1
printf 'GET / HTTP/1.0\r\n\r\n' | nc -q2 127.0.0.1 2299 >/dev/null
printf 'SSH-2.0-Bogus\r\n\x00\x00\x00\x10garbagegarbage' | nc -q2 127.0.0.1 2299 >/dev/null
(sleep 7) | nc -q0 127.0.0.1 2299 >/dev/null
ssh $O -o KexAlgorithms=diffie-hellman-group1-sha1 sshcorpus@127.0.0.1 true >/dev/null 2>&1
for i in 1 2 3; do sshpass -p "guess$i" ssh $O -o PubkeyAuthentication=no sshcorpus@127.0.0.1 true >/dev/null 2>&1; done
kill -HUP $(cat $W/sshd.pid); sleep 2
sshpass -p 'Corpus-Pass-1' ssh $O -o PubkeyAuthentication=no sshcorpus@127.0.0.1 'exit 3' >/dev/null 2>&1
kill -TERM $(cat $W/sshd.pid); sleep 1
# debug1 instance for one good login
sed -i 's/^LogLevel VERBOSE/LogLevel DEBUG1/' $W/sshd_config
/usr/sbin/sshd -D -f $W/sshd_config -E $LOG & SP=$!; waitport 2299
sshpass -p 'Corpus-Pass-1' ssh $O -o PubkeyAuthentication=no sshcorpus@127.0.0.1 true >/dev/null 2>&1
sshpass -p 'bad' ssh $O -o PubkeyAuthentication=no sshcorpus@127.0.0.1 true >/dev/null 2>&1
kill -TERM $SP; sleep 1
# config error
echo "BogusOption yes" >> $W/sshd_config
/usr/sbin/sshd -D -f $W/sshd_config -E $LOG || true
finish "$HERE/sshd.py" $LOG sshd
