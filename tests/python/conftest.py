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
    def __init__(self, binary, data=None, env=None):
        self.binary = binary
        self.data = data or tempfile.mkdtemp(prefix="redscope-py-")
        self.grpc, self.http, self.api = free_port(), free_port(), free_port()
        env = dict(os.environ, REDSCOPE_LOG="warn", **(env or {}))
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


class Demo(Server):
    """`redscope demo`: the server plus its built-in shop workload (with history and a bad
    deploy of shipping), ready once the shop's services, traces, RED rollups and log
    patterns can be read back."""

    def __init__(self, binary):
        self.binary = binary
        self.data = tempfile.mkdtemp(prefix="redscope-demo-")
        self.grpc, self.http, self.api = free_port(), free_port(), free_port()
        env = dict(os.environ, REDSCOPE_LOG="warn")
        self.proc = subprocess.Popen(
            [binary, "demo", "--data", self.data,
             "--otlp-grpc", f"127.0.0.1:{self.grpc}",
             "--otlp-http", f"127.0.0.1:{self.http}",
             "--api", f"127.0.0.1:{self.api}",
             # History with a bad deploy of shipping three minutes ago, so that triage has
             # a true cause to find.
             "--backfill", "12m", "--fault", "bad_deploy@3m"],
            env=env,
        )
        self.url = f"http://127.0.0.1:{self.api}"
        self.started_ns = time.time_ns()
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redscope demo exited with {self.proc.returncode}")
            try:
                if self._ready():
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError("the demo produced no data in time")

    def _ready(self):
        # The history is in once spans from after the start (live ones) arrive.
        live = self.sql(f"SELECT count(*) FROM spans WHERE start_time_unix_nano > {self.started_ns}")
        if not live["rows"] or not live["rows"][0][0]:
            return False
        services = self.get("/api/v1/services")["services"]
        if len([s for s in services if s["spans"] > 0]) < 6:
            return False
        if not self.get("/api/v1/traces?status=error&limit=1")["traces"]:
            return False
        if not self.get("/api/v1/red")["totals"]:
            return False
        return bool(self.get("/api/v1/logs/patterns?limit=1")["patterns"])


@pytest.fixture(scope="session")
def demo():
    binary = os.environ.get("REDSCOPE_BIN", os.path.join(ROOT, "target", "debug", "redscope"))
    d = Demo(binary)
    yield d
    d.stop()
