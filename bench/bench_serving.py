"""Content serving: the edge API beside nginx, serving the same files, in one run.

    python -m bench.bench_serving         (from the repo root; needs nginx, Debian nginx-light)

The edge daemon (`kiosk edge serve`, a separate process) serves the active pack of a real
content store; nginx (started here with its own config on a free loopback port, one worker)
serves that same version directory. An aiohttp load generator with 10 concurrent clients sends
a bounded number of GETs (bounded in time too) and reports latency p50/p99 and requests/s for
a small icon, a ~100 KB image and (edge only) the services list. Loopback only; on a shared
2-core machine the numbers are indicative, and the load generator competes for the same cores.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

from bench.stats import percentile
from edge.store import ContentStore
from kiosk import wire
from kiosk.netutil import free_port
from tests.fixtures_edge import install_pack, pack_files, write_config

REPO = Path(__file__).resolve().parent.parent
CLIENTS = 10
REQUESTS = 10000     # per target
TIME_LIMIT_S = 20.0  # per target


async def _load(url: str, n: int, limit_s: float) -> dict:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + limit_s
    counter = iter(range(n))

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for _ in counter:
            if time.monotonic() > deadline:
                return
            t0 = time.perf_counter()
            try:
                async with session.get(url) as resp:
                    await resp.read()
                    ok = resp.status == 200
            except aiohttp.ClientError:
                ok = False
            latencies.append(time.perf_counter() - t0)
            errors += not ok

    conn = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(connector=conn) as session:
        for _ in range(50):  # warm up: caches, connections
            async with session.get(url) as resp:
                await resp.read()
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(CLIENTS)))
        elapsed = time.perf_counter() - t0
    return {"n": len(latencies), "errors": errors, "rps": len(latencies) / elapsed,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000}


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM first: an nginx master killed outright would leave its worker behind."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _wait_http(url: str, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                _stop(proc)
                err = proc.stderr.read().decode(errors="replace")[-500:] if proc.stderr else ""
                raise RuntimeError(f"{what} did not start {err}") from None
            time.sleep(0.1)


def _nginx(root: Path, work: Path) -> tuple[subprocess.Popen, int]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    conf = work / "nginx.conf"
    temp = work / "nginx-temp"
    temp.mkdir()
    # As root, nginx workers would drop to "nobody", who cannot read our private temp dir.
    user = f"user {pwd.getpwuid(os.getuid()).pw_name};" if os.getuid() == 0 else ""
    conf.write_text(f"""
{user}
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    etag on;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
""")
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    return proc, port


def run() -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        work = Path(tmp)
        data = work / "edge"
        files = pack_files()
        files["images/photo-100k.png"] = b"\x89PNG\r\n\x1a\n" + os.urandom(100_000)
        store = ContentStore(data / "content")
        install_pack(store, files, 1)
        version_dir = store.active_dir()
        port = free_port()
        cfg = write_config(work / "kiosk.toml", data, port, f"http://127.0.0.1:{free_port()}")
        edge = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(cfg), "--log-level", "WARNING",
                                 "edge", "serve"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        nginx, nport = _nginx(version_dir, work)
        try:
            edge_base = f"http://127.0.0.1:{port}"
            _wait_http(edge_base + wire.API_STATUS, edge, "edge")
            _wait_http(f"http://127.0.0.1:{nport}/pack.toml", nginx, "nginx")
            targets = [
                ("icon 1 KB", "images/old-age.png"),
                ("image 100 KB", "images/photo-100k.png"),
            ]
            for label, rel in targets:
                for server, url in (("edge", edge_base + wire.API_FILE.format(path=rel)),
                                    ("nginx", f"http://127.0.0.1:{nport}/{rel}")):
                    r = asyncio.run(_load(url, REQUESTS, TIME_LIMIT_S))
                    note = f"{r['n']} GETs, {CLIENTS} clients" + (f", {r['errors']} errors" if r["errors"] else "")
                    rows.append({"name": f"{server} {label} p50", "value": round(r["p50_ms"], 2), "unit": "ms",
                                 "note": note})
                    rows.append({"name": f"{server} {label} p99", "value": round(r["p99_ms"], 2), "unit": "ms",
                                 "note": note})
                    rows.append({"name": f"{server} {label} throughput", "value": round(r["rps"]), "unit": "req/s",
                                 "note": note})
            r = asyncio.run(_load(edge_base + wire.API_SERVICES, REQUESTS, TIME_LIMIT_S))
            rows.append({"name": "edge services list p99", "value": round(r["p99_ms"], 2), "unit": "ms",
                         "note": f"{r['n']} GETs, JSON built once per content version"})
            rows.append({"name": "edge services list throughput", "value": round(r["rps"]), "unit": "req/s",
                         "note": "no nginx equivalent"})
        finally:
            for proc in (edge, nginx):
                _stop(proc)
    return rows


if __name__ == "__main__":
    from bench.__main__ import table
    result = run()
    print("\n".join(table([{"bench": "serving", **r} for r in result])))
    print(json.dumps(result, ensure_ascii=False))
