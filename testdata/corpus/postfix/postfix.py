# Postfix maillog_file: "Dec  1 20:00:00 host postfix/smtpd[123]: warning: msg".
# Postfix marks non-informational messages with the prefixes warning:/error:/fatal:/panic: right after the
# "program[pid]: " tag (msg_warn/msg_error/msg_fatal/msg_panic); plain informational lines carry no token.
import re
T = {'warning': 'WARN', 'error': 'ERROR', 'fatal': 'FATAL', 'panic': 'FATAL'}
def label(line):
    m = re.match(r'^\S+(?: +\d+ [\d:]+)? \S+ [\w/.-]+\[\d+\]: (warning|error|fatal|panic): ', line)
    return T[m.group(1)] if m else ''
