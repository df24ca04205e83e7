# HAProxy: "<134>Dec  1 ..." syslog PRI (severity = PRI & 7) on traffic/event log lines;
# "[NOTICE]   (pid) : msg" / "[WARNING]" / "[ALERT]" on master/startup messages on stderr.
import re
SEV = ['FATAL', 'FATAL', 'FATAL', 'ERROR', 'WARN', 'INFO', 'INFO', 'DEBUG']
TAG = {'NOTICE': 'INFO', 'WARNING': 'WARN', 'ALERT': 'FATAL', 'DEBUG': 'DEBUG', 'INFO': 'INFO', 'ERROR': 'ERROR'}
def label(line):
    m = re.match(r'^<(\d{1,3})>', line)
    if m:
        return SEV[int(m.group(1)) & 7]
    m = re.match(r'^\[(NOTICE|WARNING|ALERT|DEBUG|INFO|ERROR)\] ', line)
    if m:
        return TAG[m.group(1)]
    return ''
