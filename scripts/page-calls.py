#!/usr/bin/env python3
"""Times the API calls behind the Service page against a running server (e.g. `redscope demo
--rate 20 --backfill 1h --fault-cycle 10m --api 127.0.0.1:18480`), the way a user meets them:
some seconds after the previous page, while data keeps arriving, and then again at once.

  scripts/page-calls.py [API base, default http://127.0.0.1:18480] [rounds, default 5]
"""
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18480").rstrip("/") + "/api/v1"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
H = "from=now-1h"
SERVICE_PAGE = {
    "red all": f"/red?{H}&step=1m",
    "red svc": f"/red?{H}&step=1m&service=frontend",
    "map": f"/service-map?{H}",
    "err traces": f"/traces?{H}&service=frontend&status=error&limit=10",
    "blast": f"/blast-radius?{H}&service=frontend",
    "patterns": f"/logs/patterns?{H}&service=frontend",
    "logs": f"/logs?{H}&service=frontend&limit=25",
}


def get(path):
    start = time.perf_counter()
    with urllib.request.urlopen(BASE + path) as r:
        r.read()
    return round((time.perf_counter() - start) * 1000, 1)


print("single calls, 4 s after the previous pair, then at once (ms):")
for path in ["/red?from=now-1h&step=1m", "/service-map?from=now-1h",
             "/blast-radius?from=now-1h&service=frontend", "/services?from=now-1h"]:
    pairs = []
    for _ in range(4):
        time.sleep(4)
        pairs.append((get(path), get(path)))
    print(f"  {path}: {pairs}")

print("the seven Service-page calls together, 6 s after the previous round (ms):")
walls = []
for _ in range(ROUNDS):
    time.sleep(6)
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        futures = {k: pool.submit(get, p) for k, p in SERVICE_PAGE.items()}
        each = {k: f.result() for k, f in futures.items()}
    walls.append(round((time.perf_counter() - start) * 1000))
    print(f"  {each} wall {walls[-1]}")
print(f"  walls, sorted: {sorted(walls)}")
