"""A pushed configuration reaches the UI by a restart, never in front of a resident.

The edge applies a signed config push by replacing kiosk.toml atomically (edge/config_apply.py) and
restarting itself; the UI reads its config once, at start. This watcher notices the file's bytes change
and, as soon as nobody is using the kiosk (the same test as the remote screenshot: home screen, no
session, no submit on its way, no maintenance), quits with EX_TEMPFAIL so systemd's Restart=on-failure
starts it again on the new file. A file that fails validation is left to the edge's rollback: the UI
keeps running on what it has until the file is valid again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer

from kiosk import config as config_mod
from ui.fleet.screenshot import refusal

log = logging.getLogger(__name__)

EXIT_RESTART = 75  # EX_TEMPFAIL: "start me again", which systemd's Restart=on-failure does


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class ConfigWatch(QObject):
    def __init__(self, window: Any, path: Path, quit_app: Callable[[int], None], interval_ms: int = 5000) -> None:
        super().__init__(window)
        self.window, self.path, self._quit = window, Path(path), quit_app
        self._started_on = _digest(self.path)
        self.pending = False  # a new valid config waits for the kiosk to be free
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        now = _digest(self.path)
        if now is None or now == self._started_on:
            self.pending = False
            return
        try:
            config_mod.load(self.path)
        except config_mod.ConfigError:
            return  # mid-push or broken: the edge rolls it back; keep serving on what we have
        if not self.pending:
            log.info("new configuration on disk; the UI restarts once nobody is using the kiosk")
        self.pending = True
        if refusal(self.window) is None:
            log.info("restarting the UI for the new configuration")
            self._quit(EXIT_RESTART)
