"""systemd keep-alive for the kiosk UI, driven by the Qt event loop itself.

READY=1 goes out once the window is first shown (the resident sees the first screen), WATCHDOG=1 from a
QTimer at half of WatchdogSec. The timer fires only while the event loop runs: a slot that hangs (a
blocked driver call, a deadlock on the GUI thread) stops the pings, and systemd restarts the UI — which a
pinger thread could not notice. Without systemd (no NOTIFY_SOCKET / WATCHDOG_USEC) nothing is sent.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

from kiosk import sdnotify

log = logging.getLogger(__name__)


class UiWatchdog(QObject):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._ready_sent = False
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._ping)
        # Under cage the main process is cage, our parent: we ping for it (NotifyAccess=all).
        interval = sdnotify.watchdog_interval(child_of_main=True)
        if interval:
            self._timer.start(int(interval * 1000))
        window.installEventFilter(self)
        if window.isVisible():
            self._schedule_ready()

    @property
    def interval_ms(self) -> int | None:
        return self._timer.interval() if self._timer.isActive() else None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Show and not self._ready_sent:
            self._schedule_ready()
        return False

    def _schedule_ready(self) -> None:
        # Queued: it goes out from the running event loop, after the first screen was laid out and painted.
        self._ready_sent = True
        QTimer.singleShot(0, self._ready)

    def _ready(self) -> None:
        sdnotify.notify("READY=1\nSTATUS=kiosk UI showing its first screen")
        log.info("kiosk UI ready", extra={"watchdog_ms": self.interval_ms})

    def _ping(self) -> None:
        sdnotify.notify("WATCHDOG=1")
