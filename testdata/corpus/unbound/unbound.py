# Unbound: "Dec 01 20:00:00 unbound[123:0] info: msg" ; levels: fatal error, error, warning, notice, info, debug.
# Early stderr output before the logfile is open: "[1796157387] unbound[17969:0] fatal error: ..." and the config
# parser's "FILE:LINE: error: msg".
import re
T = {'fatal error': 'FATAL', 'error': 'ERROR', 'warning': 'WARN', 'notice': 'INFO', 'info': 'INFO', 'debug': 'DEBUG'}
def label(line):
    m = re.match(r'^(?:\w{3} \d\d \d\d:\d\d:\d\d |\[\d+\] )?unbound(?:-\w+)?\[\d+:\w+\] (fatal error|error|warning|notice|info|debug): ', line)
    if m:
        return T[m.group(1)]
    m = re.match(r'^\S+:\d+: (error|warning): ', line)
    return T[m.group(1)] if m else ''
