# RabbitMQ 3.9+ file log: "2026-12-01 20:00:00.123456+00:00 [info] <0.230.0> msg"; levels debug, info, notice, warning, error,
# critical, alert, emergency (Erlang logger). Continuation lines (banners, reports) are indented / plain.
import re
T = {'debug': 'DEBUG', 'info': 'INFO', 'notice': 'INFO', 'warning': 'WARN', 'error': 'ERROR', 'critical': 'FATAL', 'alert': 'FATAL', 'emergency': 'FATAL'}
def label(line):
    m = re.match(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d \[(debug|info|notice|warning|error|critical|alert|emergency)\] ', line)
    return T[m.group(1)] if m else ''
