"""PromQL: redscope against a real Prometheus (Debian's `prometheus`) on the same samples.

The samples (gauges, counters with a reset, a classic histogram, a series that stops) go to
Prometheus by remote write and to redscope by OTLP/HTTP protobuf, shaped the way an
OpenTelemetry SDK sends them (gauges, cumulative monotonic sums, cumulative histograms, the
job and instance as resource attributes). Then every expression of EXPRESSIONS is asked of both
as instant queries at three times and as range queries at two steps; the answers must be equal
within float tolerance. Sample times carry millisecond jitter, as scrapes do.

Prometheus is installed with apt-get when it is missing and the test runs as root; otherwise the
test is skipped with a message saying so.
"""
import json
import math
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import ROOT, free_port

from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1 import resource_pb2

STEP_MS = 15_000
MINUTES = 60
BOUNDS = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]
# How Prometheus (Go) and redscope (Rust) write these bounds as `le`.
BOUND_TEXT = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"]
TARGETS = [("api", "a:1"), ("api", "b:1"), ("web", "a:1")]

EXPRESSIONS = [
    # selectors
    'node_load',
    'node_load{job="api"}',
    'node_load{job!="api"}',
    'node_load{instance=~"a.*"}',
    'node_load{instance!~"a.*", job=~"api|web"}',
    '{__name__="node_load", cpu="0"}',
    'node_load offset 10m',
    'node_load @ {mid}',
    'queue_depth',
    'up',
    # counters and rates
    'rate(http_requests_total[5m])',
    'rate(http_requests_total[1m])',
    'irate(http_requests_total[5m])',
    'increase(http_requests_total[10m])',
    'delta(node_load[10m])',
    'idelta(node_load[5m])',
    'deriv(node_load[10m])',
    'predict_linear(node_load[10m], 3600)',
    'resets(http_requests_total[30m])',
    'changes(node_load[10m])',
    'rate(http_requests_total[5m] offset 5m)',
    'increase(http_requests_total{code="500"}[15m])',
    # over time
    'avg_over_time(node_load[10m])',
    'min_over_time(node_load[10m])',
    'max_over_time(node_load[10m])',
    'sum_over_time(node_load[10m])',
    'count_over_time(node_load[10m])',
    'quantile_over_time(0.9, node_load[10m])',
    'stddev_over_time(node_load[10m])',
    'stdvar_over_time(node_load[10m])',
    'last_over_time(node_load[10m])',
    'present_over_time(queue_depth[10m])',
    'absent_over_time(queue_depth[5m])',
    'absent_over_time(nonexistent{job="x"}[5m])',
    # aggregations
    'sum(rate(http_requests_total[5m]))',
    'sum by (job) (rate(http_requests_total[5m]))',
    'sum without (instance) (rate(http_requests_total[5m]))',
    'avg by (job) (node_load)',
    'min by (job) (node_load)',
    'max without (cpu) (node_load)',
    'count by (code) (http_requests_total)',
    'topk(3, rate(http_requests_total[5m]))',
    'bottomk(2, node_load)',
    'topk by (job) (1, node_load)',
    'quantile(0.75, node_load)',
    'quantile by (job) (0.5, node_load)',
    'stddev(node_load)',
    'stdvar by (job) (node_load)',
    'count_values("value", up)',
    'group by (job) (node_load)',
    # binary operators and vector matching
    'rate(http_requests_total{code="500"}[5m]) / ignoring(code) rate(http_requests_total{code="200"}[5m])',
    'sum by (job, instance) (rate(http_requests_total[5m])) / on(job, instance) group_left() up',
    'node_load * on(job, instance) group_left(version) build_info',
    'build_info * on(job, instance) group_right(version) node_load',
    'node_load > 1',
    'node_load > bool 1',
    '1 < node_load',
    'node_load == bool node_load offset 1m',
    'up and on(job) node_load > 1.5',
    'node_load unless on(instance) queue_depth',
    'queue_depth or node_load{cpu="0"}',
    'node_load + 2 * 3 - 1',
    'node_load % 0.7',
    'node_load ^ 2',
    '-node_load',
    'node_load atan2 2',
    'sum(http_requests_total) - sum(http_requests_total offset 5m)',
    # histograms
    'histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))',
    'histogram_quantile(0.5, sum by (le, job) (rate(request_duration_seconds_bucket[5m])))',
    'histogram_quantile(0.99, rate(request_duration_seconds_bucket[10m]))',
    'rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])',
    # math
    'abs(node_load - 1)',
    'ceil(node_load)',
    'floor(node_load)',
    'round(node_load, 0.1)',
    'round(node_load)',
    'clamp(node_load, 0.5, 1.5)',
    'clamp_min(node_load, 1)',
    'clamp_max(node_load, 1)',
    'exp(node_load)',
    'ln(node_load)',
    'log2(node_load)',
    'log10(node_load)',
    'sqrt(node_load)',
    'sgn(node_load - 1)',
    # time, labels and the rest
    'time()',
    'timestamp(node_load)',
    'vector(1)',
    'scalar(sum(up))',
    'absent(nonexistent{job="x"})',
    'absent(up)',
    'label_replace(node_load, "host", "$1", "instance", "([^:]+):.*")',
    'label_join(node_load, "id", "-", "job", "instance", "cpu")',
    'sort(node_load)',
    'sort_desc(sum by (job) (node_load))',
    'hour()',
    'minute(timestamp(up))',
    # subqueries
    'max_over_time(rate(http_requests_total[1m])[10m:1m])',
    'avg_over_time(sum(node_load)[15m:30s])',
    'rate(sum(http_requests_total)[5m:1m])',
    'min_over_time(node_load[10m:] offset 5m)',
]


# --- the wire formats, written out (no snappy or protobuf packages needed) ---

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_bytes(field, payload):
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def pb_double(field, v):
    return varint(field << 3 | 1) + struct.pack("<d", v)


def pb_int64(field, v):
    return varint(field << 3) + varint(v & 0xFFFFFFFFFFFFFFFF)


def write_request(series):
    """series: [(labels dict, [(t_ms, value)])] as a protobuf WriteRequest."""
    out = b""
    for labels, samples in series:
        ts = b""
        for k in sorted(labels):
            ts += pb_bytes(1, pb_bytes(1, k.encode()) + pb_bytes(2, labels[k].encode()))
        for t, v in samples:
            ts += pb_bytes(2, pb_double(1, v) + pb_int64(2, t))
        out += pb_bytes(1, ts)
    return out


def snappy(data):
    """Snappy block format with literals only (valid, just not smaller)."""
    out = bytearray(varint(len(data)))
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + n.to_bytes(2, "little")
        out += chunk
    return bytes(out)


def post(url, body, headers):
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


# --- the samples ---

def make_samples(start_ms):
    """Per target: gauges, counters, a histogram. Returns {name: [(labels, [(t, v)])]} with
    every value known at every scrape, plus the histogram per bucket."""
    rnd = random.Random(20)
    n = MINUTES * 60_000 // STEP_MS
    times = [start_ms + i * STEP_MS + rnd.randint(1, 999) for i in range(n)]
    out = {"node_load": [], "up": [], "build_info": [], "queue_depth": [],
           "http_requests_total": [], "hist": []}
    for ti, (job, inst) in enumerate(TARGETS):
        base = {"job": job, "instance": inst}
        for cpu in ("0", "1"):
            phase = rnd.random() * 6
            vals = [(t, 1.0 + 0.8 * math.sin(phase + i / 17.0) + rnd.random() * 0.3)
                    for i, t in enumerate(times)]
            out["node_load"].append((dict(base, cpu=cpu), vals))
        out["up"].append((base, [(t, 1.0) for t in times]))
        out["build_info"].append((dict(base, version=f"1.{ti}.0"), [(t, 1.0) for t in times]))
        if ti == 0:
            # Stops half-way: the lookback and absent_over_time see it go.
            half = times[: len(times) // 2]
            out["queue_depth"].append((base, [(t, float(rnd.randint(0, 9))) for t in half]))
        for code, per_scrape in (("200", 30), ("500", 3)):
            total, vals = 0.0, []
            for i, t in enumerate(times):
                if job == "api" and code == "200" and i == len(times) // 3:
                    total = 0.0  # a restart
                total += rnd.randint(0, per_scrape)
                vals.append((t, total))
            out["http_requests_total"].append((dict(base, code=code, method="GET"), vals))
        counts = [0] * (len(BOUNDS) + 1)
        total_sum, points = 0.0, []
        for t in times:
            for _ in range(rnd.randint(5, 20)):
                v = rnd.expovariate(3.0)
                idx = next((j for j, b in enumerate(BOUNDS) if v <= b), len(BOUNDS))
                counts[idx] += 1
                total_sum += v
            points.append((t, list(counts), total_sum))
        out["hist"].append((dict(base, route="/cart"), points))
    return out


def prometheus_series(s):
    """The samples as Prometheus series (histograms as _bucket/_sum/_count)."""
    series = []
    for name in ("node_load", "up", "build_info", "queue_depth", "http_requests_total"):
        for labels, vals in s[name]:
            series.append((dict(labels, __name__=name), vals))
    for labels, points in s["hist"]:
        for j, le in enumerate(BOUND_TEXT):
            vals = [(t, float(sum(c[: j + 1]))) for t, c, _ in points]
            series.append((dict(labels, __name__="request_duration_seconds_bucket", le=le), vals))
        series.append((dict(labels, __name__="request_duration_seconds_sum"),
                       [(t, total) for t, _, total in points]))
        series.append((dict(labels, __name__="request_duration_seconds_count"),
                       [(t, float(sum(c))) for t, c, _ in points]))
    return series


def kv(k, v):
    return common_pb2.KeyValue(key=k, value=common_pb2.AnyValue(string_value=v))


def otlp_request(s, lo, hi, start_ns):
    """The samples with times in [lo, hi) as one OTLP request, one resource per target."""
    by_target = {}
    for name in ("node_load", "up", "build_info", "queue_depth"):
        for labels, vals in s[name]:
            attrs = [kv(k, v) for k, v in sorted(labels.items()) if k not in ("job", "instance")]
            pts = [metrics_pb2.NumberDataPoint(attributes=attrs, time_unix_nano=t * 1_000_000,
                                               as_double=v) for t, v in vals if lo <= t < hi]
            if pts:
                m = metrics_pb2.Metric(name=name, gauge=metrics_pb2.Gauge(data_points=pts))
                by_target.setdefault((labels["job"], labels["instance"]), []).append(m)
    for labels, vals in s["http_requests_total"]:
        attrs = [kv(k, v) for k, v in sorted(labels.items()) if k not in ("job", "instance")]
        pts = [metrics_pb2.NumberDataPoint(attributes=attrs, start_time_unix_nano=start_ns,
                                           time_unix_nano=t * 1_000_000, as_double=v)
               for t, v in vals if lo <= t < hi]
        if pts:
            m = metrics_pb2.Metric(name="http_requests_total", sum=metrics_pb2.Sum(
                data_points=pts, is_monotonic=True,
                aggregation_temporality=metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE))
            by_target.setdefault((labels["job"], labels["instance"]), []).append(m)
    for labels, points in s["hist"]:
        attrs = [kv("route", labels["route"])]
        pts = [metrics_pb2.HistogramDataPoint(
            attributes=attrs, start_time_unix_nano=start_ns, time_unix_nano=t * 1_000_000,
            count=sum(c), sum=total, bucket_counts=c, explicit_bounds=BOUNDS)
            for t, c, total in points if lo <= t < hi]
        if pts:
            m = metrics_pb2.Metric(name="request.duration", unit="s", histogram=metrics_pb2.Histogram(
                data_points=pts,
                aggregation_temporality=metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE))
            by_target.setdefault((labels["job"], labels["instance"]), []).append(m)
    rms = []
    for (job, inst), metrics in by_target.items():
        res = resource_pb2.Resource(attributes=[kv("service.name", job), kv("service.instance.id", inst)])
        rms.append(metrics_pb2.ResourceMetrics(resource=res, scope_metrics=[
            metrics_pb2.ScopeMetrics(metrics=metrics)]))
    return metrics_service_pb2.ExportMetricsServiceRequest(resource_metrics=rms)


# --- the servers ---

def prometheus_binary():
    found = shutil.which("prometheus") or ("/usr/bin/prometheus" if os.path.exists("/usr/bin/prometheus") else None)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "prometheus"],
                       check=False, env=env, capture_output=True)
        found = shutil.which("prometheus") or ("/usr/bin/prometheus" if os.path.exists("/usr/bin/prometheus") else None)
        if found:
            return found
    pytest.skip("Debian's prometheus is not installed and could not be installed "
                "(apt-get install prometheus needs root and the Debian archive)")


def prometheus_major(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True)
    text = out.stdout + out.stderr
    for word in text.split():
        if word[:1].isdigit() and "." in word:
            return int(word.split(".")[0])
    return 2


def wait_port(port, proc, what):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


def query(base, path, params):
    url = f"{base}{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


# --- comparison ---

def normalise(answer):
    """A comparable form: result type and {labels: [(t, v)]} (or the scalar's point)."""
    if answer.get("status") != "success":
        return ("error", answer.get("errorType"))
    data = answer["data"]
    kind = data["resultType"]
    if kind in ("scalar", "string"):
        return (kind, {(): [(float(data["result"][0]), data["result"][1])]})
    out = {}
    for s in data["result"]:
        key = tuple(sorted(s["metric"].items()))
        points = s.get("values") or [s["value"]]
        out[key] = [(float(t), v) for t, v in points]
    return (kind, out)


def same_value(a, b):
    fa, fb = float(a), float(b)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb)
    if math.isinf(fa) or math.isinf(fb):
        return fa == fb
    return abs(fa - fb) <= 1e-6 * max(1.0, abs(fa), abs(fb))


def differences(ours, theirs):
    if ours[0] != theirs[0]:
        return f"result types {ours[0]} / {theirs[0]}: {ours[1]} / {theirs[1]}"
    if ours[0] == "error":
        return None
    a, b = ours[1], theirs[1]
    if set(a) != set(b):
        return f"series differ: only redscope {sorted(set(a) - set(b))[:3]}, only Prometheus {sorted(set(b) - set(a))[:3]}"
    for key in a:
        pa, pb = a[key], b[key]
        if len(pa) != len(pb):
            return f"{dict(key)}: {len(pa)} points / {len(pb)}"
        for (ta, va), (tb, vb) in zip(pa, pb):
            if abs(ta - tb) > 1e-3 or not same_value(va, vb):
                return f"{dict(key)} at {ta}: {va} / {vb}"
    return None


@pytest.fixture(scope="module")
def servers():
    binary = prometheus_binary()
    major = prometheus_major(binary)
    tmp = tempfile.mkdtemp(prefix="promql-cmp-")
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 15s\n  evaluation_interval: 1m\n")
    pport = free_port()
    prom = subprocess.Popen(
        [binary, f"--config.file={cfg}", f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
         f"--web.listen-address=127.0.0.1:{pport}", "--web.enable-remote-write-receiver",
         "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rbin = os.environ.get("REDSCOPE_BIN", os.path.join(ROOT, "target", "debug", "redscope"))
    grpc, http, api = free_port(), free_port(), free_port()
    env = dict(os.environ, REDSCOPE_LOG="warn")
    if major < 3 and not os.environ.get("PROMQL_COMPARE_LEFT_OPEN"):
        # Prometheus 2 includes the start of range windows and of the lookback.
        # (PROMQL_COMPARE_LEFT_OPEN=1 keeps redscope's Prometheus 3 windows, to see the cost.)
        env["REDSCOPE_PROMQL__PROMETHEUS2_WINDOWS"] = "true"
    red = subprocess.Popen(
        [rbin, "serve", "--data", os.path.join(tmp, "redscope"),
         "--otlp-grpc", f"127.0.0.1:{grpc}", "--otlp-http", f"127.0.0.1:{http}",
         "--api", f"127.0.0.1:{api}"], env=env)
    try:
        wait_port(pport, prom, "prometheus")
        wait_port(api, red, "redscope")
        now_ms = int(time.time()) * 1000
        start_ms = now_ms - (MINUTES + 2) * 60_000
        samples = make_samples(start_ms)
        series = prometheus_series(samples)
        chunk = 5 * 60_000
        prom_url = f"http://127.0.0.1:{pport}/api/v1/write"
        headers = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
                   "X-Prometheus-Remote-Write-Version": "0.1.0"}
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{pport}/-/ready", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        for lo in range(start_ms, now_ms + chunk, chunk):
            part = [(l, [(t, v) for t, v in vals if lo <= t < lo + chunk]) for l, vals in series]
            part = [(l, vals) for l, vals in part if vals]
            if part:
                assert post(prom_url, snappy(write_request(part)), headers) == 204
            req = otlp_request(samples, lo, lo + chunk, start_ms * 1_000_000)
            if req.resource_metrics:
                assert post(f"http://127.0.0.1:{http}/v1/metrics", req.SerializeToString(),
                            {"Content-Type": "application/x-protobuf"}) == 200
        end_s = (start_ms + MINUTES * 60_000) // 1000
        yield {"prom": f"http://127.0.0.1:{pport}/api/v1", "red": f"http://127.0.0.1:{api}/prometheus/api/v1",
               "end": end_s, "major": major, "api": api}
    finally:
        prom.kill()
        red.kill()
        prom.wait()
        red.wait()


def test_promql_answers_equal_prometheus(servers):
    end = servers["end"]
    mid = end - 20 * 60
    instants = [end, end - 7 * 60 - 13, end - 31 * 60]
    ranges = [(end - 40 * 60, end, 60), (end - 25 * 60, end - 5 * 60, 37)]
    passed, failed, empty = [], [], []
    for template in EXPRESSIONS:
        expr = template.replace("{mid}", str(mid))
        problem = None
        answered = False
        for t in instants:
            ours = normalise(query(servers["red"], "/query", {"query": expr, "time": t}))
            theirs = normalise(query(servers["prom"], "/query", {"query": expr, "time": t}))
            answered = answered or bool(theirs[1])
            problem = differences(ours, theirs)
            if theirs[0] == "error":
                problem = problem or f"Prometheus answered an error: {theirs}"
            if problem:
                problem = f"instant at {t}: {problem}"
                break
        if not problem:
            for start, stop, step in ranges:
                params = {"query": expr, "start": start, "end": stop, "step": step}
                ours = normalise(query(servers["red"], "/query_range", params))
                theirs = normalise(query(servers["prom"], "/query_range", params))
                problem = differences(ours, theirs)
                if problem:
                    problem = f"range step {step}: {problem}"
                    break
        (failed if problem else passed).append((expr, problem))
        if not answered:
            empty.append(expr)
    report = "\n".join(f"  {e}\n      {p}" for e, p in failed)
    print(f"\nPromQL comparison with Prometheus {servers['major']}.x: "
          f"{len(passed)} of {len(EXPRESSIONS)} expressions equal\n{report}")
    assert len(EXPRESSIONS) >= 60
    # An expression both answer with nothing compares nothing: only absent() may.
    assert empty == ["absent(up)"], f"expressions without any answer: {empty}"
    assert not failed, f"{len(failed)} expressions differ from Prometheus:\n{report}"


def test_remote_write_to_redscope_round_trips_and_refuses_bad_bodies(servers):
    api = f"http://127.0.0.1:{servers['api']}"
    headers = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
               "X-Prometheus-Remote-Write-Version": "0.1.0"}
    t = int(time.time()) * 1000
    series = [({"__name__": "rw_temperature", "job": "sensors", "instance": "h1:9100", "room": "lab"},
               [(t - 30_000, 20.5), (t - 15_000, 21.0)])]
    assert post(f"{api}/prometheus/api/v1/write", snappy(write_request(series)), headers) == 204
    got = query(f"{api}/prometheus/api/v1", "/query", {"query": "rw_temperature", "time": t / 1000})
    assert got["data"]["result"] == [{
        "metric": {"__name__": "rw_temperature", "job": "sensors", "instance": "h1:9100", "room": "lab"},
        "value": [t / 1000, "21"],
    }]
    # Not snappy, then snappy but not a WriteRequest: 400 with a reason, and counted.
    for body in (b"plain bytes", snappy(b"\xff\xff\xff")):
        with pytest.raises(urllib.error.HTTPError) as e:
            post(f"{api}/prometheus/api/v1/write", body, headers)
        assert e.value.code == 400
        assert "WriteRequest" in e.value.read().decode() or body == b"plain bytes"
    with urllib.request.urlopen(f"{api}/api/v1/status") as r:
        status = json.load(r)
    refused = status["status"]["ingest"]["requests_refused"]
    assert refused.get("remote_write_invalid") == 2, refused
    # Names under redscope_ are redscope's own.
    own = [({"__name__": "redscope_span_requests_total", "job": "x"}, [(t, 1.0)])]
    with pytest.raises(urllib.error.HTTPError) as e:
        post(f"{api}/prometheus/api/v1/write", snappy(write_request(own)), headers)
    assert e.value.code == 400


def test_prometheus_api_metadata_endpoints(servers):
    red = servers["red"]
    end = servers["end"]
    names = query(red, "/label/__name__/values", {"start": end - 3600, "end": end})["data"]
    for name in ("node_load", "http_requests_total", "request_duration_seconds_bucket", "target_info"):
        assert name in names, names
    assert not [n for n in names if n.startswith("redscope.")], "internal rollup metrics are hidden"
    labels = query(red, "/labels", {"start": end - 3600, "end": end})["data"]
    assert {"job", "instance", "cpu", "code", "le"} <= set(labels), labels
    series = query(red, "/series", {"match[]": 'http_requests_total{code="500"}', "start": end - 600, "end": end})
    assert len(series["data"]) == 3 and all(s["code"] == "500" for s in series["data"])
    meta = query(red, "/metadata", {"metric": "http_requests_total"})["data"]
    assert meta["http_requests_total"][0]["type"] == "counter"
    bad = query(red, "/query", {"query": "sum(", "time": end})
    assert bad["status"] == "error" and bad["errorType"] == "bad_data"
    # POST form bodies, as Grafana sends them.
    body = urllib.parse.urlencode({"query": "count(up)", "time": end}).encode()
    req = urllib.request.Request(f"{red}/query", data=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req) as r:
        assert json.load(r)["data"]["result"][0]["value"][1] == "3"
