#!/usr/bin/env python3
"""Write a Loghub-style truth.csv for an application-logger corpus file.

usage: applog_truth.py MODE LOGFILE TRUTHCSV

Level is the severity token the logging library itself wrote on the line,
normalised to TRACE/DEBUG/INFO/WARN/ERROR/FATAL, or empty when the line has
no level token of its own (continuation lines, access-log lines, ...).
Each MODE knows where its library puts the level; nothing is inferred from
message wording.
"""
import csv
import json
import re
import sys

NORM = {
    # generic words (case-insensitive lookup)
    "trace": "TRACE", "finest": "TRACE", "finer": "TRACE",
    "debug": "DEBUG", "fine": "DEBUG",
    "info": "INFO", "information": "INFO", "notice": "INFO", "config": "INFO",
    "success": "INFO", "http": "INFO", "verbose": "DEBUG", "silly": "TRACE",
    "warn": "WARN", "warning": "WARN",
    "error": "ERROR", "err": "ERROR", "severe": "ERROR",
    "critical": "FATAL", "crit": "FATAL", "fatal": "FATAL", "panic": "FATAL",
    "dpanic": "FATAL", "alert": "FATAL", "emergency": "FATAL", "emerg": "FATAL",
}
PY_LEVELS = "DEBUG|INFO|WARNING|ERROR|CRITICAL"
PINO_NUM = {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL"}


def norm(word):
    return NORM.get(word.strip().lower(), "")


def rx(pattern):
    c = re.compile(pattern)

    def f(line):
        m = c.search(line)
        if not m:
            return ""
        return norm(next(v for k, v in sorted(m.groupdict().items()) if k.startswith("lvl") and v))
    return f


def json_key(key, numeric=None):
    def f(line):
        s = line.strip()
        if not s.startswith("{"):
            return ""
        try:
            obj = json.loads(s)
        except ValueError:
            return ""
        v = obj.get(key)
        if isinstance(v, bool):
            return ""
        if isinstance(v, int):
            return (numeric or {}).get(v, "")
        if isinstance(v, str):
            # slog may write e.g. "ERROR+2" / "DEBUG-4"
            return norm(re.split(r"[+-]", v)[0])
        return ""
    return f


def go_runtime_or(inner):
    """Go programs: the runtime's own 'panic:' / 'fatal error:' marks."""
    rt = re.compile(r"^(panic: |fatal error: )")

    def f(line):
        if rt.match(line):
            return "FATAL"
        return inner(line) if inner else ""
    return f


SLOG_BASE = {"DEBUG": -4, "INFO": 0, "WARN": 4, "ERROR": 8}


def slog_level(tok):
    """slog levels are integers written as NAME[+-N] ("DEBUG-4", "ERROR+4").
    Below DEBUG (-4) -> TRACE, above ERROR (8) -> FATAL, else by range."""
    m = re.fullmatch(r"(DEBUG|INFO|WARN|ERROR)([+-]\d+)?", tok)
    if not m:
        return ""
    v = SLOG_BASE[m.group(1)] + int(m.group(2) or 0)
    if v < -4:
        return "TRACE"
    if v < 0:
        return "DEBUG"
    if v < 4:
        return "INFO"
    if v < 8:
        return "WARN"
    if v <= 8 + 3:
        return "ERROR"
    return "FATAL"


def slog_text(line):
    m = re.search(r'(?:^|\s)level=(?P<lvl>[A-Z]+(?:[+-]\d+)?)(?:\s|$)', line)
    return slog_level(m.group("lvl")) if m else ""


def slog_json(line):
    s = line.strip()
    if not s.startswith("{"):
        return ""
    try:
        v = json.loads(s).get("level")
    except ValueError:
        return ""
    return slog_level(v) if isinstance(v, str) else ""


MODES = {
    "none": lambda line: "",
    # logging.basicConfig(): "%(levelname)s:%(name)s:%(message)s"
    "python-default": rx(r"^(?P<lvl>%s):" % PY_LEVELS),
    # "%(asctime)s %(levelname)s %(name)s: %(message)s"
    "python-asctime": rx(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<lvl>%s) " % PY_LEVELS),
    # gunicorn error log "[ts] [pid] [LEVEL] msg", Flask's default handler
    # "[ts] LEVEL in module: msg"; access lines carry none
    "gunicorn": rx(r"^\[[^\]]+\] (?:\[\d+\] \[(?P<lvl>%s)\] |(?P<lvl2>%s) in \S+: )" % (PY_LEVELS, PY_LEVELS)),
    # uvicorn default "LEVEL:     msg" (access lines too)
    "uvicorn": rx(r"^(?P<lvl>TRACE|%s):\s" % PY_LEVELS),
    # structlog ConsoleRenderer "ts [level    ] event  k=v"
    "structlog-console": rx(r"^(?:\S+ ){1,2}\[(?P<lvl>[a-z]+)\s*\] "),
    "json-level": json_key("level"),
    "json-level-numeric": json_key("level", PINO_NUM),
    # loguru default "ts | LEVEL    | name:func:line - msg"
    "loguru": rx(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \| (?P<lvl>[A-Z]+)\s*\| "),
    # winston format.simple(): "level: message {json}"
    "winston-simple": rx(r"^(?P<lvl>error|warn|info|http|verbose|debug|silly): "),
    # our winston printf: "ts [LEVEL] message"
    "winston-printf": rx(r"^\d{4}-\d\d-\d\dT\S+ \[(?P<lvl>[A-Z]+)\] "),
    "go-log": go_runtime_or(None),
    "go-slog-text": go_runtime_or(slog_text),
    "go-json-level": go_runtime_or(json_key("level")),
    "go-json-level-slog": go_runtime_or(lambda l: slog_json(l)),
    # zap development console "ts\tLEVEL\tcaller\tmsg"
    "go-zap-console": go_runtime_or(rx(r"^\d{4}-\d\d-\d\dT\S+\t(?P<lvl>DEBUG|INFO|WARN|ERROR|DPANIC|PANIC|FATAL)\t")),
    # logrus TextFormatter (no TTY): time="..." level=info msg="..."
    "go-logrus-text": go_runtime_or(rx(r'^time="[^"]*" level=(?P<lvl>[a-z]+) ')),
    # klog header "Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg"
    "go-klog": go_runtime_or(lambda l: {"I": "INFO", "W": "WARN", "E": "ERROR", "F": "FATAL"}[l[0]]
                             if re.match(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ \S+:\d+\] ", l) else ""),
    # log4j2 / logback "%d{HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg"
    "java-pattern": rx(r"^\d\d:\d\d:\d\d\.\d{3} \[[^\]]*\] (?P<lvl>TRACE|DEBUG|INFO|WARN|ERROR|FATAL) +\S+ - "),
    # JUL SimpleFormatter: 2nd line of each record starts "LEVEL: "
    "java-jul": rx(r"^(?P<lvl>SEVERE|WARNING|INFO|CONFIG|FINE|FINER|FINEST): "),
    # Elixir Logger console "hh:mm:ss.mmm [level] msg"
    "elixir-logger": rx(r"^\d\d:\d\d:\d\d\.\d{3} (?:\S+ )*\[(?P<lvl>[a-z]+)\] "),
}


def erlang_logger(line):
    m = re.match(r"^=(?P<lvl>[A-Z]+) REPORT==== ", line)
    if m:
        # legacy header names the level, or for OTP's own reports the report
        # type: crash and supervisor reports are logged at error, progress at info
        w = m.group("lvl")
        return {"CRASH": "ERROR", "SUPERVISOR": "ERROR", "PROGRESS": "INFO"}.get(w) or norm(w)
    m = re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(?:[+-]\d\d:\d\d|Z) (?P<lvl>[a-z]+): ", line)
    return norm(m.group("lvl")) if m else ""


MODES["erlang-logger"] = erlang_logger


def main():
    mode, logfile, out = sys.argv[1:4]
    fn = MODES[mode]
    with open(logfile, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    n_lvl = 0
    with open(out, "w", newline="", encoding="utf-8", errors="surrogateescape") as fh:
        w = csv.writer(fh)
        w.writerow(["LineId", "Level", "Content", "EventTemplate"])
        for i, line in enumerate(lines, 1):
            line = line.rstrip("\r")
            lvl = fn(line)
            n_lvl += bool(lvl)
            w.writerow([i, lvl, line, ""])
    print("%s: %d lines, %d with a level" % (out, len(lines), n_lvl))


if __name__ == "__main__":
    main()
