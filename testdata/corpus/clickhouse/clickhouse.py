# ClickHouse: "2026.12.01 20:00:00.123456 [ 1 ] {query-id} <Information> Application: msg" (query id braces optional);
# priorities in angle brackets: Trace, Debug, Information, Notice, Warning, Error, Critical, Fatal. Stack-trace lines continue.
import re
T = {'Trace': 'TRACE', 'Debug': 'DEBUG', 'Information': 'INFO', 'Notice': 'INFO', 'Warning': 'WARN',
     'Error': 'ERROR', 'Critical': 'FATAL', 'Fatal': 'FATAL'}
def label(line):
    m = re.match(r'^\d{4}\.\d\d\.\d\d \d\d:\d\d:\d\d(?:\.\d+)? \[ *\d+ *\] (?:\{[^}]*\} )?<(Trace|Debug|Information|Notice|Warning|Error|Critical|Fatal)> ', line)
    return T[m.group(1)] if m else ''
