# Dovecot: "2026-12-01 20:00:00 imap-login: Info: msg" ; levels Debug/Info/Warning/Error/Fatal/Panic after the process name
import re
T = {'Debug': 'DEBUG', 'Info': 'INFO', 'Warning': 'WARN', 'Error': 'ERROR', 'Fatal': 'FATAL', 'Panic': 'FATAL'}
def label(line):
    m = re.match(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [^:]+: (Debug|Info|Warning|Error|Fatal|Panic): ', line)
    return T[m.group(1)] if m else ''
