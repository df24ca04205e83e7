# PgBouncer: "2026-12-01 20:00:00.123 UTC [123] LOG C-0x...: msg" ; levels DEBUG/NOISE/LOG/WARNING/ERROR/FATAL/PANIC after the pid.
import re
T = {'NOISE': 'TRACE', 'DEBUG': 'DEBUG', 'LOG': 'INFO', 'NOTICE': 'INFO', 'WARNING': 'WARN', 'ERROR': 'ERROR', 'FATAL': 'FATAL', 'PANIC': 'FATAL'}
def label(line):
    m = re.match(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] (NOISE|DEBUG|LOG|NOTICE|WARNING|ERROR|FATAL|PANIC) ', line)
    return T[m.group(1)] if m else ''
