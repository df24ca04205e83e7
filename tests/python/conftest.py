"""Starts a real redscope server on free ports for the Python SDK tests."""
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary):
        self.data = tempfile.mkdtemp(prefix="redscope-py-")
        self.grpc, self.http, self.api = free_port(), free_port(), free_port()
        env = dict(os.environ, REDSCOPE_LOG="warn")
        self.proc = subprocess.Popen(
            [binary, "serve", "--data", self.data,
             "--otlp-grpc", f"127.0.0.1:{self.grpc}",
             "--otlp-http", f"127.0.0.1:{self.http}",
             "--api", f"127.0.0.1:{self.api}"],
            env=env,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.api), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.api}{path}") as r:
            return json.load(r)

    def sql(self, query):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.api}/api/v1/sql",
            data=json.dumps({"query": query}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req) as r:
            return json.load(r)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="session")
def server():
    binary = os.environ.get("REDSCOPE_BIN", os.path.join(ROOT, "target", "debug", "redscope"))
    s = Server(binary)
    yield s
    s.stop()
