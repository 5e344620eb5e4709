"""Fleet monitor benchmarks: `python -m bench --only fleet` (or `python -m bench.bench_fleet`).

1. Ingest throughput: `kiosk fleet simulate` plays 1,000 and then 5,000 kiosks (time compressed: a state
   every 3 s instead of 30 s, faults at 120 per kiosk-hour clearing in ~6 s, site WAN losses of ~5 s) on a
   Mosquitto of its own. Two subscribers take every message on the same broker in the same run: a bare
   one that only counts, and the monitor's ingest (decode + SQLite write). Each runs in its own process;
   messages/s over a steady window after every kiosk is connected. Target: ingest >= 0.8x bare.
2. The ingest process's RSS per 1,000 kiosks.
3. Fault -> notification: paper runs out on one kiosk per hall (rule printer_paper_out, `for` 0 s), the
   monitor (ingest + evaluator + dispatcher) sends its team's webhook; latency from the fault to the
   receiver's request, beyond the rule's `for` duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.fleet_broker import BenchBroker
from bench.stats import percentile
from kiosk.netutil import free_port

REPO = Path(__file__).resolve().parent.parent
SIZES = (1000, 5000)
INTERVAL_S = 3.0
WINDOW_S = 15.0
LATENCY_SAMPLES = 20


class _Reader:
    """The last JSON line of a child process's stdout, read on a thread."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.last: dict = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError):
                self.last = json.loads(line)

    def wait(self, pred, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not (self.last and pred(self.last)):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"timed out waiting for {what}")
            time.sleep(0.1)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _throughput(n: int, work: Path, seed: int) -> dict:
    with BenchBroker(work / f"broker-{n}") as broker:
        bare = _Reader([sys.executable, "-m", "bench.fleet_counter", str(broker.port)])
        mon = _Reader([sys.executable, "-m", "bench.fleet_ingest_proc", str(broker.port),
                       str(work / f"fleet-{n}.sqlite3"), str(n)])
        sim = None
        try:
            mon.wait(lambda d: d["subscribed"], 60, "the ingest to subscribe")
            bare.wait(lambda d: True, 20, "the bare subscriber")
            rss0 = mon.last["rss_kb"]
            warm = n / 500 + 15  # connects at a bounded rate, then every kiosk's first state
            sim = subprocess.Popen(
                [sys.executable, "-m", "central.fleet.simulate", "--broker", f"127.0.0.1:{broker.port}",
                 "--kiosks", str(n), "--interval", str(INTERVAL_S), "--fault-rate", "120", "--fault-duration", "6",
                 "--wan-loss-duration", "5", "--connect-rate", "1000", "--seed", str(seed), "--report-every", "0",
                 "--duration", str(warm + WINDOW_S + 10)], cwd=REPO, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            time.sleep(warm)
            b0, m0 = dict(bare.last), dict(mon.last)
            time.sleep(WINDOW_S)
            b1, m1 = dict(bare.last), dict(mon.last)
            bare_rate = (b1["n"] - b0["n"]) / (b1["t"] - b0["t"])
            mon_rate = (m1["n"] - m0["n"]) / (m1["t"] - m0["t"])
            return {"bare": bare_rate, "ingest": mon_rate, "rss_kb": m1["rss_kb"], "rss0_kb": rss0,
                    "queued": m1.get("queued", 0)}
        finally:
            if sim is not None:
                sim.terminate()
                sim.wait(60)
            bare.close()
            mon.close()


def _latency(work: Path, seed: int) -> list[float]:
    """Seconds from each forced paper-out to its team's webhook request."""
    from aiohttp import web

    from central.fleet import db
    from central.fleet.config import FleetConfig
    from central.fleet.inventory import apply, parse_inventory, sample_inventory
    from central.fleet.rules import builtin
    from central.fleet.service import Monitor
    from central.fleet.simulate import Options, Simulator, inventory_layout

    hits: list[tuple[float, str]] = []
    port = free_port()
    loop = asyncio.new_event_loop()

    async def hook(request: web.Request) -> web.Response:
        hits.append((time.time(), await request.text()))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def serve() -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/hook/{team}", hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner
    runner = loop.run_until_complete(serve())
    threading.Thread(target=loop.run_forever, daemon=True).start()
    n = LATENCY_SAMPLES * 3
    text = sample_inventory(n, webhook_base=f"http://127.0.0.1:{port}/hook")
    layout = inventory_layout(text)
    with BenchBroker(work / "broker-latency") as broker:
        url = f"sqlite:///{work / 'fleet-latency.sqlite3'}"
        engine = db.connect(url)
        apply(engine, parse_inventory(text))
        cfg = FleetConfig.model_validate({"broker": {"port": broker.port}, "monitor": {"db": url}})
        monitor = Monitor(engine, cfg, builtin(), client_id="bench-latency")
        monitor.start()
        sim = Simulator(Options(host="127.0.0.1", port=broker.port, interval_s=30.0, fault_rate=0.0), layout, seed)
        sim.start()
        try:
            deadline = time.monotonic() + 30
            while sim.connected() < n and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(3)  # the monitor has every birth and state
            one_per_site = list({site: kid for kid, site in layout}.values())[:LATENCY_SAMPLES]
            started: dict[str, float] = {}
            for kid in one_per_site:
                started[kid] = time.time()
                sim.force_fault(kid, "paper_out")
                time.sleep(0.25)
            deadline = time.monotonic() + 30
            lat: dict[str, float] = {}
            while len(lat) < len(started) and time.monotonic() < deadline:
                for at, body in list(hits):
                    for kid, t0 in started.items():
                        if kid not in lat and kid in body:
                            lat[kid] = at - t0
                time.sleep(0.1)
            return sorted(lat.values())
        finally:
            sim.stop()
            monitor.stop()
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)


def run() -> list[dict]:
    seed = random.randrange(1 << 30)
    print(f"bench fleet: seed {seed}", file=sys.stderr)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        work = Path(tmp)
        rss_per_k = []
        for n in SIZES:
            r = _throughput(n, work, seed)
            ratio = r["ingest"] / r["bare"] if r["bare"] else 0.0
            rows.append({"name": f"bare subscriber, {n:,} kiosks", "value": round(r["bare"]), "unit": "msg/s",
                         "note": f"state every {INTERVAL_S:g} s + fault events; counts only"})
            rows.append({"name": f"monitor ingest, {n:,} kiosks", "value": round(r["ingest"]), "unit": "msg/s",
                         "note": f"{ratio:.2f}x bare (target >= 0.8); decode + SQLite; {r['queued']} queued at end"})
            rss_per_k.append((n, (r["rss_kb"] - r["rss0_kb"]) / 1024 / (n / 1000), r["rss_kb"] / 1024))
        for n, per_k, total in rss_per_k:
            rows.append({"name": f"monitor RSS per 1,000 kiosks ({n:,})", "value": round(per_k, 1), "unit": "MiB",
                         "note": f"growth while ingesting; process total {total:.0f} MiB"})
        lat = _latency(work, seed)
        if lat:
            rows.append({"name": "fault -> webhook, p50", "value": round(percentile(lat, 0.5), 2), "unit": "s",
                         "note": f"beyond the rule's for (0 s); {len(lat)}/{LATENCY_SAMPLES} arrived"})
            rows.append({"name": "fault -> webhook, p99", "value": round(percentile(lat, 0.99), 2), "unit": "s",
                         "note": "simulator -> broker -> ingest -> evaluator -> dispatcher -> HTTP"})
        else:
            rows.append({"name": "fault -> webhook", "value": "-", "unit": "", "note": "no notification arrived"})
    return rows


if __name__ == "__main__":
    from bench.__main__ import show

    show("fleet", run())
