"""QR decoding of one frame, with the retry that small codes need."""

from __future__ import annotations

import logging

import cv2
import numpy as np

log = logging.getLogger(__name__)

# Upscaling a frame this large costs more than it finds: real codes are never this small in it.
_MAX_UPSCALE_SIDE = 1280


def _payload_text(data: bytes) -> str | None:
    """UTF-8 is what the kiosk prints; Shift JIS is what a kanji-mode code carries raw."""
    for encoding in ("utf-8", "shift_jis"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    log.warning("qr payload in an unknown encoding", extra={"bytes": len(data)})
    return None


def decode_qr(frame: np.ndarray) -> str | None:
    """The text of a QR code in the frame (BGR or grey), or None.

    OpenCV's classic detector misses about one code in a hundred outright (it depends on the
    payload, not the image quality) and codes whose modules are only 2-4 pixels wide. So: the
    classic detector, then the ArUco-based one (different finder-pattern search), then a 2x
    upscaled copy. Bytes are decoded here, not by the binding, which raises on a kanji-mode
    (Shift JIS) code.
    """
    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    data = cv2.QRCodeDetector().detectAndDecodeBytes(gray)[0]
    if not data:
        data = cv2.QRCodeDetectorAruco().detectAndDecodeBytes(gray)[0]
    if not data and max(gray.shape) <= _MAX_UPSCALE_SIDE:
        up = cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        data = cv2.QRCodeDetector().detectAndDecodeBytes(up)[0]
    return _payload_text(data) if data else None
