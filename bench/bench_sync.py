"""Content sync benchmarks: update efficiency beside rsync, and a 10 MB pack over a satellite-like link.

    python -m bench.bench_sync            (from the repo root; needs rsync)

1. A ~200 MB pack (400 random 0.5 MB files) where 5% of the files change: the bytes the edge
   fetches for the update, beside the bytes that changed and beside `rsync -a` from an rsync
   daemon for the same update.
2. A ~10 MB pack through bench.slowlink (2 Mbit/s, +300 ms each way, every connection cut every
   30 s): wall time to an active version, beside size / bandwidth.
"""

from __future__ import annotations

import logging
import os
import random
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.slowlink import SlowLink
from central.admin.publish import manifest_for_dir, publish
from edge.store import ContentStore
from edge.sync import SyncClient
from kiosk import manifest as manifest_mod
from kiosk import signing
from kiosk.netutil import free_port
from tests.fixtures_origin import OriginServer

FILE_SIZE = 500_000


class _Admin:
    def __init__(self, origin_dir: Path) -> None:
        self.origin_dir = origin_dir
        self.key, pub = signing.generate_key()
        self.pinned = {"bench": pub}

    def publish(self, src: Path, version: int) -> None:
        m = manifest_for_dir(src, "bench-pack", version)
        env = signing.sign(manifest_mod.ENVELOPE_KIND, m.to_json(), self.key, "bench", version)
        publish(src, m, env, self.origin_dir)


def _write_random(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))


def _rsync_daemon(module_dir: Path, work: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    conf = work / "rsyncd.conf"
    conf.write_text(f"use chroot = no\nuid = {os.getuid()}\ngid = {os.getgid()}\npid file = {work}/rsyncd.pid\n"
                    f"[pack]\n  path = {module_dir}\n  read only = yes\n")
    proc = subprocess.Popen(["rsync", "--daemon", "--no-detach", f"--config={conf}", f"--port={port}",
                             "--address=127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(["rsync", f"rsync://127.0.0.1:{port}/"], capture_output=True).returncode == 0:
            return proc, port
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("rsync daemon did not start")


def _rsync_received(port: int, dest: Path) -> int:
    out = subprocess.run(["rsync", "-a", "--stats", f"rsync://127.0.0.1:{port}/pack/", f"{dest}/"],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"Total bytes received: ([\d,.]+)", out)
    if not m:
        raise RuntimeError(f"no byte count in rsync --stats output:\n{out}")
    return int(re.sub(r"[,.]", "", m.group(1)))


def _published(work: Path, names: list[str]) -> tuple[Path, _Admin, OriginServer]:
    """work/src holding a random FILE_SIZE file at each name, signed and published as version 1 to a running
    origin server (the caller closes it)."""
    src, origin_dir = work / "src", work / "origin"
    origin_dir.mkdir()
    for name in names:
        _write_random(src / name, FILE_SIZE)
    admin = _Admin(origin_dir)
    admin.publish(src, 1)
    server = OriginServer(origin_dir)
    server.start()
    return src, admin, server


def bench_update_efficiency(work: Path, files: int = 400, changed_share: float = 0.05) -> list[dict]:
    src, admin, server = _published(work, [f"audio/{i // 50:02d}/{i:03d}.bin" for i in range(files)])
    rsync_proc, rsync_port = _rsync_daemon(src, work)
    try:
        _rsync_received(rsync_port, work / "rsync-dest")
        store = ContentStore(work / "edge")
        client = SyncClient(store, server.url, pinned_keys=admin.pinned, timeout=30)
        t0 = time.perf_counter()
        first = client.sync_once()
        first_s = time.perf_counter() - t0
        assert first.outcome == "updated", first

        paths = sorted(p for p in src.rglob("*.bin"))
        changed = random.Random(7).sample(paths, k=round(files * changed_share))
        for p in changed:
            _write_random(p, FILE_SIZE)
        changed_bytes = len(changed) * FILE_SIZE
        admin.publish(src, 2)
        before = server.total_served
        t0 = time.perf_counter()
        update = client.sync_once()
        update_s = time.perf_counter() - t0
        assert update.outcome == "updated", update
        served = server.total_served - before
        rsync_bytes = _rsync_received(rsync_port, work / "rsync-dest")
    finally:
        rsync_proc.kill()
        rsync_proc.wait()
        server.close()
    total = files * FILE_SIZE
    note = f"{files} files x {FILE_SIZE // 1000} kB, {len(changed)} changed"
    return [
        {"name": "first sync: pack size", "value": total / 1e6, "unit": "MB", "note": note},
        {"name": "first sync: loopback time", "value": round(first_s, 2), "unit": "s",
         "note": "download + 2x sha256 + hard-link version tree"},
        {"name": "update: bytes that changed", "value": changed_bytes / 1e6, "unit": "MB", "note": note},
        {"name": "update: edge sync fetched (all HTTP bodies)", "value": round(served / 1e6, 3), "unit": "MB",
         "note": f"blobs {update.bytes_downloaded / 1e6:.3f} MB + latest.json + signed manifest; "
                 f"{update.blobs_downloaded} fetched, {update.blobs_reused} reused"},
        {"name": "update: rsync -a fetched", "value": round(rsync_bytes / 1e6, 3), "unit": "MB",
         "note": "'Total bytes received' from rsync --stats against rsync --daemon"},
        {"name": "update: edge sync / changed", "value": round(served / changed_bytes, 4), "unit": "x",
         "note": "1.0 = only what changed"},
        {"name": "update: loopback time", "value": round(update_s, 2), "unit": "s", "note": ""},
    ]


def bench_slow_link(work: Path, files: int = 20, kbit: float = 2000, delay_s: float = 0.3,
                    cut_every_s: float = 30.0, budget_s: float = 170.0) -> list[dict]:
    _, admin, server = _published(work, [f"video/{i:02d}.bin" for i in range(files)])
    link = SlowLink("127.0.0.1", server.port, kbit=kbit, delay_s=delay_s, cut_every_s=cut_every_s).start()
    store = ContentStore(work / "edge")
    client = SyncClient(store, f"http://127.0.0.1:{link.port}", pinned_keys=admin.pinned, timeout=10,
                        poll_interval_s=5)
    stop = threading.Event()
    t0 = time.perf_counter()
    thread = threading.Thread(target=client.run, args=(stop,), daemon=True)
    thread.start()
    try:
        while store.active_version() != 1 and time.perf_counter() - t0 < budget_s:
            time.sleep(0.1)
        took = time.perf_counter() - t0
        done = store.active_version() == 1
    finally:
        stop.set()
        thread.join(15)
        link.close()
        server.close()
    size = files * FILE_SIZE
    floor = size * 8 / (kbit * 1000)
    note = f"{kbit / 1000:g} Mbit/s, +{delay_s * 1000:.0f} ms each way, cut every {cut_every_s:g} s"
    return [
        {"name": "slow link: pack size", "value": size / 1e6, "unit": "MB", "note": f"{files} files"},
        {"name": "slow link: time to active version", "value": round(took, 1) if done else float("nan"),
         "unit": "s", "note": note if done else f"NOT DONE within {budget_s:.0f} s; {note}"},
        {"name": "slow link: size / bandwidth", "value": round(floor, 1), "unit": "s",
         "note": "the floor no client can beat"},
        {"name": "slow link: connection cuts survived", "value": link.cuts, "unit": "",
         "note": "each resumed with Range"},
        {"name": "slow link: bytes over the link / pack size", "value": round(link.bytes_down / size, 3),
         "unit": "x", "note": "all HTTP down the link; above 1.0 = headers, manifest, data lost at cuts"},
    ]


def run() -> list[dict]:
    rows: list[dict] = []
    sync_log = logging.getLogger("edge.sync")
    level = sync_log.level
    sync_log.setLevel(logging.ERROR)  # the slow link fails rounds on purpose; keep the table readable
    try:
        for bench in (bench_update_efficiency, bench_slow_link):
            work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
            try:
                rows += bench(work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        sync_log.setLevel(level)
    return rows


if __name__ == "__main__":
    from bench.__main__ import show
    show("sync", run())
