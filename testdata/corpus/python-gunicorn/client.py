"""Drive the gunicorn server: normal traffic, bad input, errors, slow calls,
raw malformed requests, and signals (HUP, TTIN, TTOU, TERM)."""
import json
import os
import random
import signal
import socket
import sys
import time
import urllib.error
import urllib.request

port = int(sys.argv[1]); master = int(sys.argv[2])
base = "http://127.0.0.1:%d" % port
rnd = random.Random(3)
UAS = ["curl/7.88.1", "python-requests/2.31.0", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "okhttp/4.12.0"]


def call(path, data=None, method=None, timeout=5):
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"User-Agent": rnd.choice(UAS), "Content-Type": "application/json",
                                          "Referer": rnd.choice(["-", base + "/", "https://shop.example/cart"])})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
    except urllib.error.HTTPError as e:
        e.read()
    except Exception:
        pass


def raw(payload):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(payload)
    try:
        s.recv(4096)
    except Exception:
        pass
    s.close()


def traffic(n):
    for _ in range(n):
        r = rnd.random()
        if r < 0.45:
            call("/api/orders/%d" % rnd.randint(1, 70))
        elif r < 0.55:
            call("/api/orders", json.dumps({"sku": "SKU-%04d" % rnd.randint(1, 9999), "qty": rnd.randint(1, 5)}).encode())
        elif r < 0.60:
            call("/api/orders", b"qty=3&name=x")
        elif r < 0.68:
            call("/api/price/SKU-%04d?qty=%d" % (rnd.randint(1, 99), rnd.choice([1, 2, 0, 4])))
        elif r < 0.74:
            call("/api/stock/SKU-%04d" % rnd.choice([1, 1, 2, 77]))
        elif r < 0.80:
            call("/healthz")
        elif r < 0.84:
            call("/static/app.js")
        elif r < 0.87:
            call("/api/orders/3", method="DELETE")
        else:
            call("/api/report?t=0.%d" % rnd.randint(1, 3))


traffic(80)
raw(b"GARBAGE\r\n\r\n")
raw(b"GET /api/orders/1 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
raw(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n")
call("/api/report?t=4", timeout=8)   # exceeds --timeout 2: WORKER TIMEOUT
traffic(40)
os.kill(master, signal.SIGTTIN); time.sleep(1.5)
traffic(40)
os.kill(master, signal.SIGTTOU); time.sleep(1.5)
os.kill(master, signal.SIGHUP); time.sleep(2.5)
traffic(60)
os.kill(master, signal.SIGUSR1); time.sleep(0.5)
traffic(20)
os.kill(master, signal.SIGTERM)
