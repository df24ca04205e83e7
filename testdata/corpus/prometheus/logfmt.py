# go-kit logfmt: "ts=... caller=... level=info component=... msg=..."; level key anywhere in the line.
import re
T = {'debug': 'DEBUG', 'info': 'INFO', 'warn': 'WARN', 'error': 'ERROR'}
def label(line):
    m = re.search(r'(?:^| )level=(debug|info|warn|error)(?= |$)', line)
    return T[m.group(1)] if m else ''
