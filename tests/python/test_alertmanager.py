"""redscope's alerts against Debian's real Prometheus tools: `promtool check rules` and redscope
accept the same rule file; alerts go to a real `prometheus-alertmanager`, which lists them and
delivers them to its webhook receiver (a small HTTP server here); a silence in redscope keeps
an alert from Alertmanager and from a Slack-compatible webhook, which gets the message text.

The Debian packages (prometheus-alertmanager, prometheus for promtool) are installed with
apt-get when missing and the test runs as root; otherwise the tests are skipped saying so."""
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, Server, free_port

SAMPLE_RULES = os.path.join(ROOT, "testdata", "alerts", "sample-rules.yml")


def debian_binary(name, package):
    def find():
        return shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
    if find():
        return find()
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
                       check=False, env=env, capture_output=True)
        if find():
            return find()
    pytest.skip(f"Debian's {package} ({name}) is not installed and could not be installed "
                f"(apt-get install {package} needs root and the Debian archive)")


def redscope_binary():
    return os.environ.get("REDSCOPE_BIN", os.path.join(ROOT, "target", "debug", "redscope"))


def parsed(raw):
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def request(method, url, body=None):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, parsed(r.read())
    except urllib.error.HTTPError as e:
        return e.code, parsed(e.read())


def wait_for(what, check, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Receiver:
    """Records the JSON bodies POSTed to it, by path."""

    def __init__(self):
        self.bodies = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                with receiver.lock:
                    receiver.bodies.setdefault(self.path, []).append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def got(self, path):
        with self.lock:
            return list(self.bodies.get(path, []))

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.httpd.shutdown()


def start_alertmanager(hook_url):
    binary = debian_binary("prometheus-alertmanager", "prometheus-alertmanager")
    work = tempfile.mkdtemp(prefix="alertmanager-")
    config = os.path.join(work, "alertmanager.yml")
    with open(config, "w") as f:
        f.write(f"""route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {hook_url}
        send_resolved: true
""")
    port = free_port()
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.path={work}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def ready():
        if proc.poll() is not None:
            pytest.fail(f"alertmanager exited with {proc.returncode}")
        return _ready(url)
    wait_for("alertmanager to answer", ready)
    return proc, url


def _ready(url):
    try:
        return request("GET", f"{url}/-/ready")[0] == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def test_promtool_and_redscope_accept_the_same_rule_file():
    promtool = debian_binary("promtool", "prometheus")
    checked = subprocess.run([promtool, "check", "rules", SAMPLE_RULES], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    server = Server(redscope_binary())
    try:
        with open(SAMPLE_RULES) as f:
            text = f.read()
        status, body = request("POST", f"http://127.0.0.1:{server.api}/api/v1/rules?dry_run=true", text)
        assert status == 200, body
        assert body == {"groups": ["shop-red", "shop-logs"]}
        # A file promtool refuses is refused too, with the reason.
        broken = text.replace("[5m]))", "[5m]", 1)
        path = os.path.join(server.data, "broken.yml")
        with open(path, "w") as f:
            f.write(broken)
        assert subprocess.run([promtool, "check", "rules", path], capture_output=True).returncode != 0
        status, body = request("POST", f"http://127.0.0.1:{server.api}/api/v1/rules?dry_run=true", broken)
        assert status == 400, body
        assert body["error"]["code"] == "invalid_rules"
        assert body["error"]["details"][0]["rule"] == "HighErrorRatio"
        assert body["error"]["details"][0]["field"] == "expr"
    finally:
        server.stop()


RULES = """groups:
  - name: shop
    rules:
      - alert: CheckoutFailing
        expr: vector(0.42)
        labels: {service: checkout, severity: critical}
        annotations: {summary: "checkout fails {{ humanizePercentage $value }}"}
      - alert: PaymentFailing
        expr: vector(0.3)
        labels: {service: payment, severity: critical}
        annotations: {summary: "payment fails {{ humanizePercentage $value }}"}
"""


def test_alertmanager_gets_the_alerts_and_a_silence_keeps_one_back():
    hooks = Receiver()
    am, am_url = start_alertmanager(hooks.url("/am-hook"))
    server = Server(redscope_binary(), env={
        "REDSCOPE_ALERTS__INTERVAL_SECS": "1",
        "REDSCOPE_ALERTS__RESEND_INTERVAL_SECS": "2",
        "REDSCOPE_ALERTS__ALERTMANAGER_URLS": am_url,
        "REDSCOPE_ALERTS__SLACK_WEBHOOK_URLS": hooks.url("/slack"),
    })
    api = f"http://127.0.0.1:{server.api}"
    try:
        silence = {"matchers": [{"name": "service", "value": "payment", "is_regex": False, "is_equal": True}],
                   "ends_at_ms": int(time.time() * 1000) + 3_600_000, "created_by": "test", "comment": "maintenance"}
        status, body = request("POST", f"{api}/api/v1/silences", json.dumps(silence))
        assert status == 200, body
        status, body = request("POST", f"{api}/api/v1/rules", RULES)
        assert status == 200, body

        def in_alertmanager():
            _, alerts = request("GET", f"{am_url}/api/v2/alerts")
            return [a for a in alerts or [] if a["labels"].get("alertname") == "CheckoutFailing"]
        listed = wait_for("the alert in Alertmanager", in_alertmanager)
        assert listed[0]["labels"]["service"] == "checkout"
        assert listed[0]["annotations"]["summary"] == "checkout fails 42%"
        assert listed[0]["status"]["state"] == "active"

        def delivered():
            return [b for b in hooks.got("/am-hook")
                    if any(a["labels"].get("alertname") == "CheckoutFailing" for a in b["alerts"])]
        sent = wait_for("Alertmanager's webhook delivery", delivered)
        assert sent[0]["status"] == "firing" and sent[0]["version"] == "4"

        slack = wait_for("the Slack message", lambda: hooks.got("/slack"))
        text = "\n".join(m["text"] for m in slack)
        assert "[FIRING] CheckoutFailing (critical) service=checkout: checkout fails 42%" in text, text

        # The silenced alert is firing in redscope, shown as silenced, and went nowhere.
        _, alerts = request("GET", f"{api}/api/v1/alerts?state=firing&service=payment")
        assert alerts["alerts"][0]["silenced"] is True, alerts
        time.sleep(3)  # more than a resend interval
        _, in_am = request("GET", f"{am_url}/api/v2/alerts")
        assert not [a for a in in_am if a["labels"].get("alertname") == "PaymentFailing"], in_am
        assert "PaymentFailing" not in "\n".join(m["text"] for m in hooks.got("/slack"))
        assert not [b for b in hooks.got("/am-hook")
                    if any(a["labels"].get("alertname") == "PaymentFailing" for a in b["alerts"])]

        # Removing the rules resolves the alert: Alertmanager gets its endsAt and says so.
        assert request("DELETE", f"{api}/api/v1/rules/shop")[0] == 204

        def resolved():
            return [b for b in hooks.got("/am-hook") if b["status"] == "resolved"]
        wait_for("the resolved notification", resolved)
        wait_for("the Slack resolve", lambda: "[RESOLVED] CheckoutFailing" in
                 "\n".join(m["text"] for m in hooks.got("/slack")))
        _, status_body = request("GET", f"{api}/api/v1/status")
        targets = status_body["status"]["alerts"]["notifications"]["targets"]
        assert {t["kind"] for t in targets} == {"alertmanager", "slack"}
        assert all(t["sent"] >= 1 and t["failed"] == 0 for t in targets), targets
    finally:
        server.stop()
        am.kill()
        am.wait()
        hooks.stop()
