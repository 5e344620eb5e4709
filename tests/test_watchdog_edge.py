"""The edge daemon pings systemd's watchdog from its asyncio loop: a frozen loop sends none, so systemd
restarts a hung edge. Two real freezes: a blocking callback on the daemon's own loop (in this process,
no test hook in the daemon), and SIGSTOP of a real `kiosk edge serve` process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time

from edge import daemon
from edge.store import ContentStore
from kiosk.config import load
from kiosk.netutil import free_port
from tests.fixtures_edge import REPO, install_pack, pack_files, write_config
from tests.fixtures_watchdog import PingRecorder

WATCHDOG_USEC = 200_000  # pings every 0.1 s
FREEZE_S = 1.0


def _edge_config(tmp_path, platform_url: str):
    data = tmp_path / "edge"
    install_pack(ContentStore(data / "content"), pack_files(), 1)
    return write_config(tmp_path / "kiosk.toml", data, free_port(), platform_url)


def test_a_blocked_asyncio_loop_stops_the_pings(tmp_path, platform, monkeypatch):
    rec = PingRecorder()
    monkeypatch.setenv("NOTIFY_SOCKET", rec.name)
    monkeypatch.setenv("WATCHDOG_USEC", str(WATCHDOG_USEC))
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    cfg = load(_edge_config(tmp_path, platform.url))
    loops: list[asyncio.AbstractEventLoop] = []
    frozen: list[float] = []
    seen: dict[str, object] = {}

    def freeze() -> None:  # runs on the daemon's loop: what a blocking call in a coroutine does
        frozen.append(time.monotonic())
        time.sleep(FREEZE_S)
        frozen.append(time.monotonic())

    def drive() -> None:  # from another thread while the daemon owns the main thread
        try:
            assert rec.wait_for("READY=1", timeout=30)
            assert rec.wait_for("WATCHDOG=1", count=3, timeout=10)
            loops[0].call_soon_threadsafe(freeze)
            deadline = time.monotonic() + 10
            while len(frozen) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            start, end = frozen
            seen["during"] = rec.pings(after=start + 0.05, before=end)
            seen["before"] = rec.pings(before=start)
            seen["resumed"] = rec.wait_for("WATCHDOG=1", after=end, count=2, timeout=10)
        except BaseException as e:
            seen["error"] = e
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # the daemon's own SIGTERM handler stops it

    async def run() -> int:
        loops.append(asyncio.get_running_loop())
        return await daemon._serve(cfg)

    helper = threading.Thread(target=drive, daemon=True)
    helper.start()
    try:
        assert asyncio.run(run()) == 0
    finally:
        helper.join(20)
        rec.close()
    assert "error" not in seen, seen.get("error")
    assert seen["during"] == [] and len(seen["before"]) >= 3 and seen["resumed"]


def test_a_stopped_edge_process_stops_pinging_and_resumes_after(tmp_path, platform):
    import subprocess

    rec = PingRecorder()
    env = {**os.environ, "NOTIFY_SOCKET": rec.name, "WATCHDOG_USEC": str(WATCHDOG_USEC), "PYTHONPATH": str(REPO)}
    env.pop("WATCHDOG_PID", None)
    cfg = _edge_config(tmp_path, platform.url)
    with open(tmp_path / "edge.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(cfg), "edge", "serve"], cwd=REPO,
                                env=env, stdout=log, stderr=log)
    try:
        assert rec.wait_for("READY=1", timeout=30), (tmp_path / "edge.log").read_text()[-2000:]
        assert rec.wait_for("WATCHDOG=1", count=3, timeout=10)
        rec.sigstop_silences(proc, FREEZE_S)  # the whole process frozen: no pings, systemd would kill it
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        rec.close()
