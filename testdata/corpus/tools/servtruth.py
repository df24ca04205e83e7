#!/usr/bin/env python3
"""Cut a raw server log to at most N lines and write Loghub-style truth.csv.

usage: servtruth.py FORMAT RAW_IN OUT_DIR NAME [--max N]

Writes OUT_DIR/NAME.log (byte-exact first N lines of RAW_IN) and
OUT_DIR/truth.csv with header LineId,Level,Content,EventTemplate.
Level is read only from the program's own level token (see LABELERS);
lines without such a token get an empty Level.
"""
import csv, re, sys

NORM = {
    'TRACE': 'TRACE', 'FINEST': 'TRACE', 'FINER': 'TRACE',
    'DEBUG': 'DEBUG', 'DBG': 'DEBUG', 'FINE': 'DEBUG',
    'INFO': 'INFO', 'INFORMATION': 'INFO', 'NOTICE': 'INFO', 'NOTE': 'INFO', 'LOG': 'INFO', 'SYSTEM': 'INFO', 'STATUS': 'INFO',
    'WARN': 'WARN', 'WARNING': 'WARN',
    'ERROR': 'ERROR', 'ERR': 'ERROR', 'ERRO': 'ERROR',
    'CRIT': 'FATAL', 'CRITICAL': 'FATAL', 'FATAL': 'FATAL', 'PANIC': 'FATAL', 'ALERT': 'FATAL', 'EMERG': 'FATAL', 'EMERGENCY': 'FATAL',
}
# syslog numeric priority (severity = pri & 7)
SYSLOG_SEV = ['FATAL', 'FATAL', 'FATAL', 'ERROR', 'WARN', 'INFO', 'INFO', 'DEBUG']


def norm(tok):
    return NORM[tok.upper()]


def rx(pattern, group=1, table=None, flags=0):
    r = re.compile(pattern, flags)
    def f(line):
        m = r.search(line)
        if not m:
            return ''
        tok = m.group(group)
        if table is not None:
            return table[tok]
        return norm(tok)
    return f


def pg(line):
    # "2024-01-01 10:00:00.123 UTC [123] LOG:  msg"; DEBUGn; DETAIL/HINT/STATEMENT/CONTEXT/QUERY/LOCATION continue
    m = re.match(r'^\S+ \S+ \S+ \[\d+\] (?:\S+@\S+ )?([A-Z0-9]+):  ', line)
    if not m:
        return ''
    t = m.group(1)
    if re.fullmatch(r'DEBUG[1-5]', t):
        return 'DEBUG'
    if t in ('DETAIL', 'HINT', 'STATEMENT', 'CONTEXT', 'QUERY', 'LOCATION'):
        return ''
    return norm(t)


LABELERS = {
    'postgresql': pg,
    # MariaDB: "2024-01-01 10:00:00 0 [Note] msg"
    'mysql': rx(r'^\d{4}-\d\d-\d\d\s+\d?\d:\d\d:\d\d(?:\s+\d+)? \[(Note|Warning|ERROR|System)\] '),
    # Redis: "pid:R 01 Jan 2024 10:00:00.123 * msg"
    'redis': rx(r'^\d+:[XCSM] \d\d \w{3} \d{4} [\d:.]+ ([.\-*#]) ', table={'.': 'DEBUG', '-': 'DEBUG', '*': 'INFO', '#': 'WARN'}),
    # nginx / lighttpd-free error log "2024/01/01 10:00:00 [notice] 1#1: msg"
    'nginx-error': rx(r'^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(debug|info|notice|warn|error|crit|alert|emerg)\] '),
    # Apache 2.4: "[Tue Dec 01 20:00:00.123456 2026] [module:level] [pid ..." ; trace1-8 -> TRACE
    'apache2': rx(r'^\[[^\]]+\] \[[^:\]]*:(emerg|alert|crit|error|warn|notice|info|debug|trace[1-8])\] ',
                  table={'emerg': 'FATAL', 'alert': 'FATAL', 'crit': 'FATAL', 'error': 'ERROR', 'warn': 'WARN',
                         'notice': 'INFO', 'info': 'INFO', 'debug': 'DEBUG', **{f'trace{i}': 'TRACE' for i in range(1, 9)}}),
    'none': lambda line: '',
}


def main():
    a = sys.argv[1:]
    mx = 2000
    if '--max' in a:
        i = a.index('--max'); mx = int(a[i + 1]); del a[i:i + 2]
    fmt, raw, outdir, name = a
    lab = LABELERS[fmt] if fmt in LABELERS else None
    if lab is None:
        import importlib.util, os
        spec = importlib.util.spec_from_file_location('lab', fmt)
        mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
        lab = mod.label
    with open(raw, 'rb') as f:
        data = f.read()
    lines = data.split(b'\n')
    if lines and lines[-1] == b'':
        lines.pop()
    lines = lines[:mx]
    with open(f'{outdir}/{name}.log', 'wb') as f:
        for l in lines:
            f.write(l + b'\n')
    counts = {}
    with open(f'{outdir}/truth.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['LineId', 'Level', 'Content', 'EventTemplate'])
        for i, l in enumerate(lines, 1):
            s = l.decode('utf-8', 'replace').rstrip('\r')
            lv = lab(s)
            counts[lv] = counts.get(lv, 0) + 1
            w.writerow([i, lv, s, ''])
    print(name, len(lines), 'lines;', ' '.join(f'{k or "(none)"}={v}' for k, v in sorted(counts.items())))


if __name__ == '__main__':
    main()
