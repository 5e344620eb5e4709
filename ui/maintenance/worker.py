"""Runs blocking service calls on daemon threads and hands results back on the GUI thread.

One call per key at a time (a second tap on "read card" while it reads is ignored). After
close(), late results are dropped: the screen that asked may already be gone.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallResult:
    value: object = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class BackgroundCalls(QObject):
    finished = Signal(str, object)  # key, CallResult — delivered on the GUI thread
    _relay = Signal(str, object)  # emitted from worker threads; queued to the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._busy: set[str] = set()
        self._closed = False
        self._relay.connect(self._deliver)

    def submit(self, key: str, fn: Callable[..., object], *args: object) -> bool:
        """Start fn(*args) unless a call with this key is still running; False if not started."""
        if self._closed or key in self._busy:
            return False
        self._busy.add(key)
        threading.Thread(target=self._run, args=(key, fn, args), name=f"maint-{key}", daemon=True).start()
        return True

    def close(self) -> None:
        self._closed = True

    def _run(self, key: str, fn: Callable[..., object], args: tuple[object, ...]) -> None:
        try:
            result = CallResult(value=fn(*args))
        except Exception as e:  # shown as a failed test; the traceback goes to the journal
            log.warning("maintenance call failed", extra={"call": key, "error": type(e).__name__},
                        exc_info=True)
            result = CallResult(error=e)
        with contextlib.suppress(RuntimeError):  # the Qt object was deleted while we ran
            self._relay.emit(key, result)

    def _deliver(self, key: str, result: CallResult) -> None:
        self._busy.discard(key)
        if not self._closed:
            self.finished.emit(key, result)
