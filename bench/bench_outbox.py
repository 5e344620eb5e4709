"""Outbox benchmarks: durable intake, and draining a backlog once the platform returns.

    python -m bench.bench_outbox          (from the repo root)

1. Intake: submissions written to the outbox (one transaction each, fsync'd) per second.
2. Drain: 10,000 queued submissions forwarded to the reference platform (a separate
   `kiosk platform serve` process on loopback) by the real Forwarder, one at a time in order,
   each with its idempotency key and an fsync on both sides: time until the outbox is empty.
3. The same delivery over a WAN-like link (50 ms added per request at the platform) for a few
   hundred items: one-at-a-time delivery is bound by round trips, so this is the rate a hall
   with a satellite link would see.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from edge.forwarder import Forwarder
from edge.outbox import KIND_APPLICATION, Outbox
from edge.platform_adapter import HttpPlatformAdapter
from kiosk import idnumber, wire
from kiosk.netutil import free_port

REPO = Path(__file__).resolve().parent.parent
N = 10_000
N_WAN = 300
WAN_LATENCY_MS = 50


def _fill(outbox: Outbox, n: int, prefix: str) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        id_number = idnumber.make_valid(f"54010219{50 + i % 40}0101{i % 1000:03d}")
        payload = {"schema": wire.SUBMISSION_SCHEMA, "service_id": "old-age-allowance",
                   "platform_service_code": "SS-0101", "lang": "bo",
                   "fields": {"phone": "13912345678", "account": "bank", "agree": True},
                   "applicant": {"id_number": id_number, "name": "测试"}}
        outbox.submit(f"{prefix}-{i:06d}", KIND_APPLICATION, payload, service_id="old-age-allowance",
                      id_number=id_number)
    return time.perf_counter() - t0


def _platform(db: Path, latency_ms: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--log-level", "WARNING", "platform", "serve",
                             "--port", str(port), "--db", str(db), "--latency-ms", str(latency_ms)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(url + wire.PLATFORM_APPLICATIONS + "?limit=1", timeout=1).read()
            return proc, url
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("reference platform did not start") from None
            time.sleep(0.1)


def _drain(outbox: Outbox, url: str, n: int, db: Path) -> float:
    fw = Forwarder(outbox, HttpPlatformAdapter(url, timeout=10), idle_poll_s=0.05,
                   refresh_interval_s=3600)
    t0 = time.perf_counter()
    fw.start()
    try:
        while outbox.stats()["depth"]:
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
    finally:
        fw.close()
    con = sqlite3.connect(db)
    total, distinct = con.execute("SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM applications").fetchone()
    con.close()
    if (total, distinct) != (n, n):
        raise RuntimeError(f"platform holds {total} rows ({distinct} keys), expected {n}")
    return elapsed


def _forward(outbox: Outbox, db: Path, n: int, latency_ms: float) -> float:
    """Seconds for a fresh reference platform (its db at `db`) to take all n queued items from the outbox."""
    proc, url = _platform(db, latency_ms)
    try:
        return _drain(outbox, url, n, db)
    finally:
        proc.terminate()
        proc.wait(10)


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp:
        work = Path(tmp)
        outbox = Outbox.open(work / "edge")
        fill_s = _fill(outbox, N, "bench")
        rows.append({"name": "outbox intake (durable submit)", "value": round(N / fill_s), "unit": "submissions/s",
                     "note": "one SQLite transaction each, WAL, synchronous=FULL"})
        drain_s = _forward(outbox, work / "platform.sqlite3", N, 0)
        outbox.close()
        rows.append({"name": f"forward {N:,} queued submissions", "value": round(drain_s, 1), "unit": "s",
                     "note": "platform back on loopback; one at a time, in order, fsync on both sides"})
        rows.append({"name": "forward rate (loopback)", "value": round(N / drain_s), "unit": "submissions/s",
                     "note": "exactly-once checked: platform rows == distinct keys == N"})

        outbox = Outbox.open(work / "edge-wan")
        _fill(outbox, N_WAN, "wan")
        wan_s = _forward(outbox, work / "platform-wan.sqlite3", N_WAN, WAN_LATENCY_MS)
        outbox.close()
        rate = N_WAN / wan_s
        rows.append({"name": f"forward rate (+{WAN_LATENCY_MS} ms per request)", "value": round(rate, 1),
                     "unit": "submissions/s",
                     "note": f"{N_WAN} items; {N:,} would take ~{N / rate / 60:.0f} min (round-trip bound)"})
    return rows


if __name__ == "__main__":
    from bench.__main__ import show
    result = run()
    show("outbox", result)
    print(json.dumps(result, ensure_ascii=False))
