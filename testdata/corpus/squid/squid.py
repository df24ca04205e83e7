# Squid cache.log: "2026/12/01 20:00:00 kid1| ERROR: ..." -- Squid marks important messages with
# the documented prefixes FATAL:/ERROR:/WARNING: (and "SECURITY ALERT:"); other lines carry no level.
import re
T = {'FATAL': 'FATAL', 'ERROR': 'ERROR', 'WARNING': 'WARN', 'SECURITY ALERT': 'FATAL'}
def label(line):
    m = re.match(r'^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: kid\d+)?\| (FATAL|ERROR|WARNING|SECURITY ALERT): ', line)
    return T[m.group(1)] if m else ''
