# BIND with print-time/print-category/print-severity: "01-Dec-2026 20:00:00.000 general: info: msg"
# severities: critical, error, warning, notice, info, debug N
import re
T = {'critical': 'FATAL', 'error': 'ERROR', 'warning': 'WARN', 'notice': 'INFO', 'info': 'INFO', 'debug': 'DEBUG'}
def label(line):
    m = re.match(r'^\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d\.\d{3} [\w-]+: (critical|error|warning|notice|info|debug \d+): ', line)
    return T[m.group(1).split()[0]] if m else ''
