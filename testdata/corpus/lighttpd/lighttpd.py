# lighttpd errorlog: "2026-12-01 20:00:00: (server.c.1513) msg". Most lines carry no level token; lighttpd marks some with
# "[note]" (log_notice) or "WARNING:" right after the "(file.c.line) " source tag; header dumps on error span several lines.
import re
def label(line):
    m = re.match(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: \([\w.-]+\.\d+\) (\[note\]|WARNING:) ', line)
    if not m:
        return ''
    return 'INFO' if m.group(1) == '[note]' else 'WARN'
