"""The fleet monitor's keep-alive (kiosk.sdnotify.keepalive, started by `kiosk fleet serve`): READY=1 once,
WATCHDOG=1 from its asyncio loop, none while that loop is blocked; without a watchdog, READY=1 only."""

from __future__ import annotations

import asyncio
import time

from kiosk import sdnotify
from tests.fixtures_watchdog import PingRecorder


def test_keepalive_pings_from_the_loop_and_a_blocked_loop_sends_none(monkeypatch):
    rec = PingRecorder()
    monkeypatch.setenv("NOTIFY_SOCKET", rec.name)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    window: list[float] = []

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(sdnotify.keepalive(stop))
        await asyncio.to_thread(rec.wait_for, "WATCHDOG=1", 10, 0.0, 3)
        window.append(time.monotonic())
        time.sleep(1.0)  # the loop itself blocked, as a hung handler would
        window.append(time.monotonic())
        await asyncio.to_thread(rec.wait_for, "WATCHDOG=1", 10, window[1], 2)
        stop.set()
        await task

    try:
        asyncio.run(main())
        assert rec.wait_for("READY=1", timeout=1)
        assert len(rec.pings(before=window[0])) >= 3
        assert rec.pings(after=window[0] + 0.05, before=window[1]) == []
        assert len(rec.pings(after=window[1])) >= 2
    finally:
        rec.close()
