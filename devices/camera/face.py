"""Is one resident's face in the picture, big and centred enough for a photo? Hints, not words.

Uses the Haar frontal-face cascade shipped in the OpenCV 4.x wheel (5.x ships none). The hint
is a code the UI turns into spoken and written words in the resident's language.

Left and right are the resident's own: the resident faces the camera, so a face on the left of
the raw (unmirrored) image belongs to someone standing too far to their right, who must move
to their left: hint "move_left".
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import cv2
import numpy as np

HINTS = ("ok", "no_face", "move_closer", "move_left", "move_right", "look_at_camera")

# Detection runs on frames no wider than this: faster, and a kiosk face is never tiny.
_DETECT_WIDTH = 640
# Faces smaller than this share of the largest are bystanders further back, not a second user.
_BYSTANDER_FRACTION = 0.6


@dataclass(frozen=True)
class FaceCheck:
    present: bool
    centred: bool
    big_enough: bool
    box: tuple[int, int, int, int] | None  # x, y, w, h of the main face in frame pixels
    hint: str  # one of HINTS
    faces: int = 0  # faces of user size in view; more than one -> "look_at_camera"


@functools.cache
def _cascade() -> tuple[cv2.CascadeClassifier, threading.Lock]:
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"Haar cascade missing or unreadable: {path} (needs OpenCV 4.x)")
    return cascade, threading.Lock()


def detect_faces(frame: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) in frame pixels, largest first."""
    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    ratio = min(1.0, _DETECT_WIDTH / gray.shape[1])
    if ratio < 1.0:
        gray = cv2.resize(gray, None, fx=ratio, fy=ratio, interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(gray)  # hall lighting varies from window glare to dim corners
    min_side = max(24, gray.shape[0] // 10)
    cascade, lock = _cascade()
    with lock:  # one classifier shared by every camera; it keeps scratch state while it works
        found = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
    boxes = [tuple(int(round(v / ratio)) for v in box) for box in found]
    return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)


def face_check(frame: np.ndarray, *, min_face_fraction: float = 0.25, centre_tolerance: float = 0.12,
               vertical_tolerance: float = 0.15) -> FaceCheck:
    """Check the frame for exactly one face that is big enough and centred.

    min_face_fraction: the face box's height as a share of the frame height below which the
    resident should come closer. centre_tolerance / vertical_tolerance: how far (as a share of
    the frame width / height) the face centre may sit from the frame centre.
    """
    boxes = detect_faces(frame)
    if not boxes:
        return FaceCheck(False, False, False, None, "no_face")
    h, w = frame.shape[:2]
    box = boxes[0]
    users = sum(1 for b in boxes if b[3] >= _BYSTANDER_FRACTION * box[3])
    x, y, bw, bh = box
    dx = (x + bw / 2 - w / 2) / w
    dy = (y + bh / 2 - h / 2) / h
    big_enough = bh >= min_face_fraction * h
    centred = abs(dx) <= centre_tolerance and abs(dy) <= vertical_tolerance
    if users > 1:
        hint = "look_at_camera"  # someone else is in the picture: one resident at a time
    elif not big_enough:
        hint = "move_closer"
    elif abs(dx) > centre_tolerance:
        hint = "move_left" if dx < 0 else "move_right"
    elif abs(dy) > vertical_tolerance:
        hint = "look_at_camera"  # head tilted or standing too high/low: face the lens
    else:
        hint = "ok"
    return FaceCheck(True, centred, big_enough, box, hint, users)
