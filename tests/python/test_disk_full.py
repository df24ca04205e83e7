"""A full disk, then space freed, then SIGKILL: every acknowledged record is there afterwards.

Runs redscope on a small tmpfs (needs root to mount it, as CI runs), fills the disk while log
records arrive, expects 507 "disk full" refusals, frees the space, expects acknowledgements
again without a restart, kills the server and checks every acknowledged record after a
restart on the same data directory.
"""
import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, Server

BODY_PAD = "x" * 1000


def post_logs(server, first, count):
    records = [
        {"timeUnixNano": "0", "body": {"stringValue": f"rec-{first + i} {BODY_PAD}"}}
        for i in range(count)
    ]
    payload = {"resourceLogs": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "diskfull"}}]},
        "scopeLogs": [{"logRecords": records}]}]}
    req = urllib.request.Request(
        f"http://127.0.0.1:{server.http}/v1/logs",
        data=json.dumps(payload).encode(),
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def stored_ids(server):
    rows = server.sql("SELECT body FROM logs WHERE service_name = 'diskfull' LIMIT 10000")["rows"]
    ids = set()
    for row in rows:
        body = row["body"] if isinstance(row, dict) else row[0]
        ids.add(int(str(body).split()[0].split("-")[1]))
    return ids


@pytest.fixture
def small_disk():
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount = tempfile.mkdtemp(prefix="redscope-full-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount], check=True)
    yield mount
    subprocess.run(["umount", "-l", mount], check=False)


def test_full_disk_then_freed_then_sigkill_loses_nothing_acknowledged(small_disk):
    binary = os.environ.get("REDSCOPE_BIN", os.path.join(ROOT, "target", "debug", "redscope"))
    data = os.path.join(small_disk, "data")
    server = Server(binary, data=data)
    acked, next_id, batch = set(), 0, 50
    try:
        # Leave about 3 MiB free, then send until the disk refuses.
        stat = os.statvfs(small_disk)
        filler = os.path.join(small_disk, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - (3 << 20)))
        refusals = []
        for _ in range(200):
            status, text = post_logs(server, next_id, batch)
            if status == 200:
                acked.update(range(next_id, next_id + batch))
            else:
                refusals.append((status, text))
            next_id += batch
            if len(refusals) >= 3:
                break
        assert refusals, "the disk never filled"
        assert all(status == 507 for status, _ in refusals), refusals
        assert "disk full" in refusals[0][1], refusals[0][1]
        status = server.get("/api/v1/status")
        assert status["status"]["ingest"]["requests_refused"].get("disk_full", 0) >= len(refusals), status

        # Space freed: acknowledged again, without a restart.
        os.remove(filler)
        recovered = 0
        for _ in range(20):
            status, text = post_logs(server, next_id, batch)
            if status == 200:
                acked.update(range(next_id, next_id + batch))
                recovered += 1
            next_id += batch
        assert recovered >= 15, f"only {recovered} of 20 batches after freeing space"
    finally:
        server.stop()  # SIGKILL

    restarted = Server(binary, data=data)
    try:
        missing = acked - stored_ids(restarted)
        assert not missing, f"{len(missing)} of {len(acked)} acknowledged records lost"
    finally:
        restarted.stop()
