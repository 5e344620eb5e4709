"""Camera self-test: what the camera sees (QR codes, faces), and that picture with marks on it.

Each mark carries a word as well as a colour, so it reads without colour vision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF

from ui.maintenance.style import FACE_COLOUR, QR_COLOUR
from ui.maintenance.text import tr


@dataclass(frozen=True)
class QrMark:
    text: str  # "" when a code was seen but not decoded
    points: Sequence[tuple[float, float]]  # polygon corners in frame pixels; empty if unknown


@dataclass(frozen=True)
class Detections:
    qr: Sequence[QrMark] = ()
    faces: Sequence[tuple[int, int, int, int]] = ()  # x, y, w, h in frame pixels


def detect(frame: np.ndarray) -> Detections:
    """The kiosk's own detectors on one frame: the resident flows' QR decoder and face finder,
    plus OpenCV's QR locator for the outline (the decoder returns text only)."""
    import cv2  # here, not at import: the maintenance module loads without OpenCV's start-up cost

    from devices.camera.face import detect_faces
    from devices.camera.qr import decode_qr

    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    located, points = cv2.QRCodeDetector().detect(gray)
    text = decode_qr(frame)
    corners = [(float(x), float(y)) for x, y in points.reshape(-1, 2)] if located and points is not None else []
    qr = [QrMark(text or "", corners)] if corners or text else []
    return Detections(qr=qr, faces=[tuple(int(v) for v in box) for box in detect_faces(frame)])


def draw_overlay(image: QImage, found: Detections, lang: str) -> QImage:
    out = image.convertToFormat(QImage.Format.Format_RGB32)
    width = max(3, out.width() // 160)
    p = QPainter(out)
    try:
        font = QFont(p.font())
        font.setPixelSize(max(14, out.height() // 24))
        p.setFont(font)
        qr_pen = QPen(QColor(QR_COLOUR), width)
        for mark in found.qr:
            poly = QPolygonF([QPointF(x, y) for x, y in mark.points])
            p.setPen(qr_pen)
            p.drawPolygon(poly)
            if len(poly):
                top_left = poly.boundingRect().topLeft()
                p.drawText(top_left + QPointF(0, -width), tr("qr_mark", lang))
        face_pen = QPen(QColor(FACE_COLOUR), width)
        for x, y, w, h in found.faces:
            p.setPen(face_pen)
            p.drawRect(QRectF(x, y, w, h))
            p.drawText(QPointF(x, y - width), tr("face_mark", lang))
    finally:
        p.end()
    return out
