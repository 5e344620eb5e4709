"""The camera driver, loaded when a screen first asks for a frame.

devices.camera.camera brings OpenCV and numpy (~100 ms of imports) that the home screen never
needs: this stand-in owns the camera's StatusSource from the start (the bridge subscribes to it
before anything is shown) and builds the real Camera on first use, with that same StatusSource.
"""

from __future__ import annotations

import threading
from typing import Any

from kiosk.status import StatusSource


class LazyCamera:
    status_source = None  # as Camera: its StatusSource is `status` (and asking must not load OpenCV)

    def __init__(self, source: int | str) -> None:
        self.source = source
        self.status = StatusSource("camera")
        self._camera: Any = None
        self._lock = threading.Lock()  # the camera worker and the maintenance worker may race to build it

    def _real(self) -> Any:
        with self._lock:
            if self._camera is None:
                from devices.camera.camera import Camera

                self._camera = Camera(self.source, status=self.status)
            return self._camera

    def __getattr__(self, name: str) -> Any:  # only for what this class does not define itself
        return getattr(self._real(), name)

    def close(self) -> None:
        with self._lock:
            camera = self._camera
        if camera is not None:  # never opened: nothing to release, and no need to load OpenCV now
            camera.close()
