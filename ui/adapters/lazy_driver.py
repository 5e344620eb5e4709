"""A device driver built on first use, not before the home screen is painted.

The stand-in owns the driver's StatusSource from the start (the bridge subscribes to it before anything
is shown), builds the real driver with that same StatusSource when something first needs it, and then
passes every other attribute through. Closing one that was never built loads nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kiosk.status import StatusSource


class LazyDriver:
    status_source = None  # as the drivers: their StatusSource is `status` (and asking must not build them)

    def __init__(self, component: str, build: Callable[[StatusSource], Any]) -> None:
        self.status = StatusSource(component)
        self._build = build
        self._driver: Any = None
        self._lock = threading.Lock()  # the GUI thread and the maintenance worker may race to build it

    def load(self) -> Any:
        with self._lock:
            if self._driver is None:
                self._driver = self._make()
            return self._driver

    def _make(self) -> Any:
        return self._build(self.status)

    @property
    def built(self) -> Any:
        """The real driver, or None while nothing has needed it."""
        return self._driver

    def __getattr__(self, name: str) -> Any:  # only for what the class does not define itself
        return getattr(self.load(), name)

    def close(self) -> None:
        with self._lock:
            driver = self._driver
        if driver is not None:
            driver.close()
