# Unbound: "Dec 01 20:00:00 unbound[123:0] info: msg" ; levels: fatal error, error, warning, notice, info, debug, query/reply lines are "info:"
import re
T = {'fatal error': 'FATAL', 'error': 'ERROR', 'warning': 'WARN', 'notice': 'INFO', 'info': 'INFO', 'debug': 'DEBUG'}
def label(line):
    m = re.match(r'^(?:\w{3} \d\d \d\d:\d\d:\d\d |\[\d+\] )?unbound(?:-\w+)?\[\d+:\w+\] (fatal error|error|warning|notice|info|debug): ', line)
    return T[m.group(1)] if m else ''
