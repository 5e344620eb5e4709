"""The kiosk UI's systemd keep-alive comes from the Qt event loop: READY=1 once the first screen is shown,
WATCHDOG=1 at half of WATCHDOG_USEC — and none while a slot blocks the loop, so systemd would restart a
frozen UI. A real notify socket; the real window (Qt offscreen) and the real `kiosk ui` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from PySide6.QtCore import QTimer

from tests.fixtures_ui import ROOT, wait_until
from tests.fixtures_watchdog import PingRecorder

WATCHDOG_USEC = 200_000  # pings every 0.1 s
FREEZE_S = 1.0           # ten ping intervals


def test_the_window_pings_from_its_event_loop_and_a_blocked_slot_stops_the_pings(qtbot, kiosk, monkeypatch):
    rec = PingRecorder()
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", rec.name)
        monkeypatch.setenv("WATCHDOG_USEC", str(WATCHDOG_USEC))
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
        w = kiosk("zh")
        assert w.watchdog.interval_ms == 100
        # READY=1 goes out from the running event loop: wait with the loop turning, not in a sleep
        wait_until(qtbot, lambda: any("READY=1" in m.split("\n") for _, m in rec.messages()))
        wait_until(qtbot, lambda: len(rec.pings()) >= 3)

        frozen: list[float] = []

        def hang() -> None:  # what a stuck driver call on the GUI thread would do
            frozen.append(time.monotonic())
            time.sleep(FREEZE_S)
            frozen.append(time.monotonic())

        QTimer.singleShot(0, hang)
        wait_until(qtbot, lambda: len(frozen) == 2)
        start, end = frozen
        wait_until(qtbot, lambda: len(rec.pings(after=end)) >= 3)  # the loop runs again: so do the pings
        # A ping already in flight when the slot started may land just after; none after that.
        assert rec.pings(after=start + 0.05, before=end) == []
        assert len(rec.pings(before=start)) >= 3
    finally:
        rec.close()


def test_kiosk_ui_process_says_ready_and_pings_for_cage(ui_stack, tmp_path):
    """As under cage: WATCHDOG_PID names the parent (cage, the unit's main process), and the UI pings for it."""
    rec = PingRecorder()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "NOTIFY_SOCKET": rec.name,
           "WATCHDOG_USEC": str(WATCHDOG_USEC), "WATCHDOG_PID": str(os.getpid()), "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "ui.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(ui_stack.config), "ui"], cwd=ROOT,
                                env=env, stdout=log, stderr=log)
    try:
        assert rec.wait_for("READY=1", timeout=30), (tmp_path / "ui.log").read_text()[-2000:]
        ready_at = next(t for t, m in rec.messages() if "READY=1" in m)
        assert rec.wait_for("WATCHDOG=1", after=ready_at, count=3, timeout=10)
        rec.sigstop_silences(proc, FREEZE_S)  # the whole process frozen: no pings, systemd would kill it
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        rec.close()
