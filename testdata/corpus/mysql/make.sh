#!/bin/bash
# MariaDB server error log (--log-error) with warnings enabled, driven with the mariadb client.
. "$(dirname "$0")/../tools/common.sh"
need mariadb-server mariadb-client
W=/tmp/corpus-mysql; rm -rf $W; mkdir -p $W; chown mysql $W
LOG=$W/error.log
mariadb-install-db --user=mysql --datadir=$W/data --auth-root-authentication-method=normal >/dev/null 2>&1
OPTS="--no-defaults --user=mysql --datadir=$W/data --socket=$W/sock --pid-file=$W/pid --port=3399 --bind-address=127.0.0.1 --log-error=$LOG --log-warnings=4 --max-connect-errors=3 --innodb-buffer-pool-size=32M"
start() { mariadbd $OPTS >/dev/null 2>&1 & for i in $(seq 60); do [ -S $W/sock ] && break; sleep 0.5; done; sleep 1; }
start
m() { mariadb --no-defaults -h127.0.0.1 -P3399 -u${U:-root} ${PW:+-p$PW} ${DB:-} -e "$1" >/dev/null 2>&1 || true; }
ms() { mariadb --no-defaults -S $W/sock -uroot -e "$1" >/dev/null 2>&1 || true; }
ms "CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'apppw'; CREATE DATABASE shop; GRANT SELECT ON shop.* TO 'app'@'127.0.0.1'; CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY 'rootpw'; GRANT ALL ON *.* TO 'root'@'127.0.0.1'"
U=app PW=wrong m "SELECT 1"
U=app PW=apppw DB=shop m "SELECT 1"
U=app PW=apppw DB=mysql m "SELECT 1"
U=nosuch PW=x m "SELECT 1"
U=root PW=rootpw m "SELECT SLEEP(0)"
# aborted connections: kill a client mid-session
( mariadb --no-defaults -h127.0.0.1 -P3399 -uapp -papppw -e "SELECT SLEEP(10)" >/dev/null 2>&1 & echo $! > $W/cpid; wait ) & sleep 1; kill -9 $(cat $W/cpid) 2>/dev/null
ms "SET GLOBAL wait_timeout=1"; ( U=app PW=apppw mariadb --no-defaults -h127.0.0.1 -P3399 -uapp -papppw >/dev/null 2>&1 < <(sleep 3) ) ; ms "SET GLOBAL wait_timeout=28800"
# garbage on the wire -> host blocked after max_connect_errors
for i in 1 2 3 4 5; do printf 'GET / HTTP/1.1\r\n\r\n' | nc -q1 127.0.0.1 3399 >/dev/null 2>&1; done
ms "FLUSH HOSTS"
ms "CREATE TABLE shop.t(id INT PRIMARY KEY, v VARCHAR(5)) ENGINE=InnoDB; INSERT INTO shop.t VALUES (1,'toolongvalue')"
ms "SET SESSION sql_mode=''; INSERT INTO shop.t VALUES (2,'toolongvalue')"
ms "CREATE TABLE shop.m(id INT) ENGINE=NoSuchEngine"
ms "INSTALL SONAME 'ha_nosuch'"
ms "SET GLOBAL innodb_buffer_pool_size=64*1024*1024"; sleep 2
ms "FLUSH LOGS"
ms "SHUTDOWN"; sleep 3
# start with a bad option, then properly again, crash-kill and recover
mariadbd $OPTS --no-such-option >/dev/null 2>&1; sleep 1
start
U=root PW=rootpw m "SELECT COUNT(*) FROM shop.t"
kill -9 $(cat $W/pid); sleep 1
start
ms "SHUTDOWN"; sleep 3
finish mysql $LOG mysql
