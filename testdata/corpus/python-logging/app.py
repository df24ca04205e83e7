"""Inventory sync worker: pulls jobs, calls a local HTTP backend with
requests/urllib3 (retries, timeouts), stores results in sqlite3.
Uses the stdlib `logging` module configured by logging.basicConfig().
usage: app.py [FORMAT]   (no FORMAT: basicConfig's default format)"""
import json
import logging
import random
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

kw = {"level": logging.DEBUG}
if len(sys.argv) > 1:
    kw["format"] = sys.argv[1]
logging.basicConfig(**kw)
log = logging.getLogger("inventory.worker")
dblog = logging.getLogger("inventory.db")
apilog = logging.getLogger("inventory.api")
rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
flaky_state = {}


class Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # keep the backend quiet
        pass

    def send(self, code, body, ctype="application/json"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        p = self.path
        sku = p.rsplit("/", 1)[-1]
        if p.startswith("/slow/"):
            time.sleep(0.6)
            try:
                return self.send(200, '{"qty": 1}')
            except (BrokenPipeError, ConnectionResetError):
                return None
        if p.startswith("/flaky/"):
            n = flaky_state.get(p, 0)
            flaky_state[p] = n + 1
            if n < 2:
                return self.send(503, '{"error":"unavailable"}')
            return self.send(200, json.dumps({"sku": sku, "qty": 4}))
        if p.startswith("/broken/"):
            return self.send(200, '{"sku": "%s", "qty": ' % sku)
        if p.startswith("/missing/"):
            return self.send(404, '{"error":"not found"}')
        if p.startswith("/boom/"):
            return self.send(500, '<html><body>Internal Server Error</body></html>', "text/html")
        return self.send(200, json.dumps({"sku": sku, "qty": rnd.randint(0, 40), "price": round(rnd.uniform(1, 90), 2)}))


def make_session():
    s = requests.Session()
    retry = Retry(total=3, backoff_factor=0.01, status_forcelist=[502, 503, 504], allowed_methods=["GET"])
    s.mount("http://", HTTPAdapter(max_retries=retry))
    return s


def main():
    log.info("starting inventory sync worker pid=%d python=%s", 1000 + rnd.randint(0, 9000), sys.version.split()[0])
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    apilog.info("backend at http://127.0.0.1:%d", port)
    db = sqlite3.connect(":memory:")
    db.execute("create table stock (sku text primary key, qty integer not null, price real)")
    dblog.debug("schema created: %s", "stock(sku, qty, price)")
    session = make_session()
    kinds = ["ok"] * 12 + ["slow", "flaky", "broken", "missing", "boom", "dup", "negative"]
    done = failed = 0
    seen = []
    for job in range(1, 241):
        kind = rnd.choice(kinds) if job not in (45, 100) else "refused"
        sku = "SKU-%05d" % rnd.randint(1, 99999)
        if kind == "dup" and seen:
            sku = rnd.choice(seen)
        log.debug("job %d picked up: sku=%s kind=%s", job, sku, kind)
        route = {"slow": "slow", "flaky": "flaky", "broken": "broken", "missing": "missing", "boom": "boom"}.get(kind, "item")
        url = "http://127.0.0.1:%d/%s/%s" % (port if kind != "refused" else 1, route, sku)
        try:
            resp = session.get(url, timeout=0.3)
        except requests.exceptions.ReadTimeout:
            log.warning("job %d: backend timed out after %.1fs for %s, will retry later", job, 0.3, sku)
            failed += 1
            continue
        except requests.exceptions.ConnectionError:
            log.error("job %d: cannot reach backend for %s", job, sku, exc_info=(kind == "refused"))
            failed += 1
            continue
        if resp.status_code == 404:
            log.warning("job %d: %s no longer exists upstream (404), removing", job, sku)
            db.execute("delete from stock where sku = ?", (sku,))
            continue
        if resp.status_code >= 500:
            log.error("job %d: upstream returned %d %s for %s", job, resp.status_code, resp.reason, sku)
            failed += 1
            continue
        try:
            item = json.loads(resp.text)
        except ValueError:
            log.exception("job %d: invalid JSON from backend for %s (%d bytes)", job, sku, len(resp.content))
            failed += 1
            continue
        qty = item.get("qty", 0)
        if kind == "negative":
            qty = -rnd.randint(1, 5)
        if qty < 0:
            log.warning("job %d: negative quantity %d for %s clamped to 0", job, qty, sku)
            qty = 0
        try:
            with db:
                db.execute("insert into stock values (?, ?, ?)", (sku, qty, item.get("price")))
            dblog.debug("inserted %s qty=%d", sku, qty)
            seen.append(sku)
        except sqlite3.IntegrityError:
            dblog.exception("duplicate row for %s", sku)
            failed += 1
            continue
        if qty == 0:
            log.info("job %d: %s is out of stock", job, sku)
        done += 1
        if job % 25 == 0:
            (count,) = db.execute("select count(*) from stock").fetchone()
            log.info("progress: %d jobs, %d ok, %d failed, %d rows", job, done, failed, count)
        if failed > 0 and failed % 10 == 0 and kind != "ok":
            log.critical("failure budget exceeded: %d failed jobs, pausing intake for %dms", failed, 50)
            time.sleep(0.05)
    try:
        db.execute("insert into stock values (?, ?, ?)", (None, None, 1.0))
    except sqlite3.IntegrityError as e:
        dblog.critical("final consistency check failed: %s", e)
    log.info("shutting down: %d done, %d failed", done, failed)
    srv.shutdown()
    session.close()
    db.close()
    logging.shutdown()


if __name__ == "__main__":
    main()
