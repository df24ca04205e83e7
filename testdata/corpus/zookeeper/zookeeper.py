# log4j pattern "%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n": "2026-12-01 20:00:00,123 - INFO  [main:QuorumPeerConfig@174] - msg"
# stack-trace lines (java.lang..., \tat ...) continue the entry.
import re
T = {'TRACE': 'TRACE', 'DEBUG': 'DEBUG', 'INFO': 'INFO', 'WARN': 'WARN', 'ERROR': 'ERROR', 'FATAL': 'FATAL'}
def label(line):
    m = re.match(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) +\[', line)
    return T[m.group(1)] if m else ''
