"""Traffic for the uvicorn server: normal calls, bad JSON, exceptions,
malformed HTTP, many concurrent slow calls (concurrency limit), then SIGINT."""
import json
import os
import random
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

port, pid = int(sys.argv[1]), int(sys.argv[2])
base = "http://127.0.0.1:%d" % port
rnd = random.Random(5)


def call(path, data=None, method="GET"):
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, data=data, method=method), timeout=5) as r:
            r.read()
    except urllib.error.HTTPError as e:
        e.read()
    except Exception:
        pass


def raw(b):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(b)
    try:
        s.recv(1000)
    except Exception:
        pass
    s.close()


for i in range(70):
    r = rnd.random()
    k = rnd.choice("abcdefgh")
    if r < 0.4:
        call("/kv/" + k)
    elif r < 0.6:
        call("/kv/" + k, json.dumps({"value": str(rnd.randint(1, 99))}).encode(), "PUT")
    elif r < 0.66:
        call("/kv/" + k, b"{not json", "PUT")
    elif r < 0.7:
        call("/kv/" + k, b'{"val": 1}', "PUT")
    elif r < 0.75:
        call("/kv/" + k, method="DELETE")
    elif r < 0.8:
        call("/crash")
    elif r < 0.9:
        call("/health")
    else:
        call("/nope/%d" % i)
    if i == 30:
        raw(b"BLAH /x\r\n\r\n")
        raw(b"GET / HTTP/1.1\r\nHost: a\r\nHost b\r\n\r\n")
ts = [threading.Thread(target=call, args=("/slow",)) for _ in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.1)
os.kill(pid, signal.SIGINT)
time.sleep(1)
s.close()
