# etcd 3.4 capnslog: "2026-12-01 20:00:00.123456 I | etcdserver: msg" one-letter level D/I/N/W/E/C;
# zap JSON: {"level":"info",...}; the Go "[WARNING] Deprecated ..." style lines get their bracket token.
import json, re
ONE = {'D': 'DEBUG', 'I': 'INFO', 'N': 'INFO', 'W': 'WARN', 'E': 'ERROR', 'C': 'FATAL'}
ZAP = {'debug': 'DEBUG', 'info': 'INFO', 'warn': 'WARN', 'error': 'ERROR', 'dpanic': 'FATAL', 'panic': 'FATAL', 'fatal': 'FATAL'}
def label(line):
    m = re.match(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ ([DINWEC]) \| ', line)
    if m:
        return ONE[m.group(1)]
    if line.startswith('{'):
        try:
            return ZAP.get(str(json.loads(line).get('level', '')).lower(), '')
        except ValueError:
            return ''
    # raft's Go std logger with prefix "raft" glued to the date: "raft2026/12/01 20:53:05 INFO: ..."
    m = re.match(r'^raft\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (DEBUG|INFO|WARN|ERROR|FATAL|PANIC): ', line)
    if m:
        return {'DEBUG': 'DEBUG', 'INFO': 'INFO', 'WARN': 'WARN', 'ERROR': 'ERROR', 'FATAL': 'FATAL', 'PANIC': 'FATAL'}[m.group(1)]
    m = re.match(r'^\[(WARNING|INFO|ERROR)\] ', line)
    if m:
        return {'WARNING': 'WARN', 'INFO': 'INFO', 'ERROR': 'ERROR'}[m.group(1)]
    return ''
