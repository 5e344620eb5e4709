"""The camera driver, loaded when a screen first asks for a frame.

devices.camera.camera brings OpenCV and numpy (~100 ms of imports) that the home screen never needs.
"""

from __future__ import annotations

from typing import Any

from kiosk.status import StatusSource
from ui.adapters.lazy_driver import LazyDriver


class LazyCamera(LazyDriver):
    def __init__(self, source: int | str) -> None:
        def build(status: StatusSource) -> Any:
            from devices.camera.camera import Camera

            return Camera(source, status=status)

        super().__init__("camera", build)
