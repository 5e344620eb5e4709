"""The fleet's remote screenshot: the kiosk window, only while it shows the home screen to nobody.

No resident data can be on it by construction: it is refused unless the home screen is showing, no
resident session is active (no flow, no submit on its way, the idle timer not running) and the
maintenance PIN dialog or screen is not open. Everything here runs on the GUI thread, so the check and
the grab see the same screen. The image is scaled to at most 640 px wide and JPEG-compressed until its
base64 fits well inside one fleet message.
"""

from __future__ import annotations

import base64
from typing import Any

from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QImage

from kiosk import fleet_wire
from kiosk.session import Phase

MAX_WIDTH = 640
# base64 grows 4/3; the result's other fields and the MQTT envelope need a little: keep 25 % margin
MAX_JPEG_BYTES = fleet_wire.MAX_PAYLOAD_BYTES * 3 // 4 * 3 // 4
QUALITIES = (80, 65, 50, 35, 20)

IN_USE = "a resident is using the kiosk"


def refusal(window: Any) -> str | None:
    """Why a screenshot may not be taken now, or None. GUI thread only."""
    launcher = getattr(window, "maintenance", None)
    if launcher is not None and (launcher.dialog is not None or launcher.screen is not None):
        return "the maintenance screen is open"
    session = window.session
    if session.phase is not Phase.IDLE or session.flow is not None or window.calls.submit_in_flight:
        return IN_USE
    if window.overlay.isVisible():
        return IN_USE
    if window.current_screen() is not window.screens["home"]:
        return "the home screen is not showing"
    return None


def _jpeg(image: QImage, quality: int) -> bytes:
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "JPG", quality):
        raise RuntimeError("JPEG encoding failed")
    return bytes(buf.data())


def encode(image: QImage) -> bytes:
    """JPEG of image at most MAX_WIDTH wide and MAX_JPEG_BYTES long (lower quality, then smaller)."""
    if image.width() > MAX_WIDTH:
        image = image.scaledToWidth(MAX_WIDTH, Qt.TransformationMode.SmoothTransformation)
    while True:
        for quality in QUALITIES:
            data = _jpeg(image, quality)
            if len(data) <= MAX_JPEG_BYTES:
                return data
        image = image.scaledToWidth(max(1, image.width() // 2), Qt.TransformationMode.SmoothTransformation)


def take(window: Any) -> tuple[str, str, dict[str, Any]]:
    """The agent-handler outcome for a screenshot. GUI thread only."""
    why = refusal(window)
    if why is not None:
        return "rejected", why, {}
    image = window.grab().toImage()
    if image.isNull():
        return "failed", "the window could not be grabbed", {}
    data = encode(image)
    shown = QImage.fromData(data, "JPG")
    return "done", f"home screen, {shown.width()}x{shown.height()} JPEG", {
        "jpeg_b64": base64.b64encode(data).decode(), "width": shown.width(), "height": shown.height(),
        "screen": "home"}
