"""The kiosk camera: frames from a device index or a recorded file, through one code path.

`cv2.VideoCapture` opens either, so a recorded video (or a single image) stands in for the
camera in tests and demos. A file source loops when it reaches its end, so a recording behaves
like a live camera that keeps sending frames; a single image is the same picture forever.

The capture is opened lazily on the first frame. When it cannot be opened (fault `no_camera`)
or a live camera stops sending frames (fault `disconnected`), it is released and reopened on a
later read, with a backoff that doubles up to `max_backoff_s`; reads in between return None at
once rather than block the caller. Photos (`capture_jpeg`) stay in memory: never on disk,
never in a log.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from devices.camera.face import FaceCheck, face_check
from devices.camera.qr import decode_qr
from kiosk.status import OK, Level, Status, StatusSource

log = logging.getLogger(__name__)

NO_CAMERA = Status(Level.FAULT, "no_camera", "无法打开摄像头", "པར་ཆས་ཁ་ཕྱེ་མ་ཐུབ།",
                   "Camera not found or cannot be opened")
DISCONNECTED = Status(Level.FAULT, "disconnected", "摄像头已断开，没有画面", "པར་ཆས་ཀྱི་འབྲེལ་མཐུད་ཆད་འདུག",
                      "Camera stopped sending pictures")

# A V4L2 camera that stops answering blocks read() for OpenCV's select timeout (default 10 s);
# 2 s is plenty for a camera that sends 15-30 frames a second. Read when a capture is opened.
os.environ.setdefault("OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT", "2")

# While no frames come (a scan in backoff), look again this often instead of spinning.
_IDLE_POLL_S = 0.05


class CameraError(Exception):
    """The camera cannot give what was asked (no device, no frame)."""


def parse_source(source: int | str) -> int | str:
    """A device index ("0" from a config file or command line counts as one) or a path/URL."""
    if isinstance(source, int):
        return source
    return int(source) if source.strip().isdigit() else source


class Camera:
    def __init__(self, source: int | str, *, status: StatusSource | None = None,
                 backoff_s: float = 0.5, max_backoff_s: float = 10.0) -> None:
        self.source = parse_source(source)
        self.status = status or StatusSource("camera")
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._cap: cv2.VideoCapture | None = None
        self._frames_since_open = 0
        self._failures = 0
        self._next_open_at = 0.0
        self._closed = False
        self._lock = threading.Lock()  # one reader of the capture at a time

    # -- opening --------------------------------------------------------------------------------
    def open(self) -> None:
        """Open now, ignoring any backoff; raises CameraError when the source cannot be opened."""
        with self._lock:
            self._next_open_at = 0.0
            if self._ensure_open() is None:
                raise CameraError(f"camera source cannot be opened: {self.source}")

    def _open_capture(self) -> cv2.VideoCapture | None:
        if isinstance(self.source, str) and "://" not in self.source and not Path(self.source).exists():
            return None  # skip OpenCV's backend probing (and its stderr noise) for a missing file
        cap = cv2.VideoCapture(self.source)
        if cap.isOpened():
            return cap
        cap.release()
        return None

    def _ensure_open(self) -> cv2.VideoCapture | None:
        if self._closed:
            return None
        if self._cap is not None:
            return self._cap
        if time.monotonic() < self._next_open_at:
            return None
        self._cap = self._open_capture()
        self._frames_since_open = 0
        if self._cap is None:
            self._fail(NO_CAMERA)
        return self._cap

    def _fail(self, status: Status) -> None:
        """Release the capture and schedule a reopen after a growing pause."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        self._failures += 1
        delay = min(self._max_backoff_s, self._backoff_s * 2 ** (self._failures - 1))
        self._next_open_at = time.monotonic() + delay
        log.debug("camera reopen scheduled", extra={"code": status.code, "retry_in_s": delay})
        self.status.set_status(status)

    def _is_file(self) -> bool:
        return isinstance(self.source, str) and Path(self.source).is_file()

    # -- frames ---------------------------------------------------------------------------------
    def read_frame(self) -> np.ndarray | None:
        """The next BGR frame, or None when the camera has none to give right now."""
        with self._lock:
            cap = self._ensure_open()
            if cap is None:
                return None
            ok, frame = cap.read()
            if not ok and self._frames_since_open > 0 and self._is_file():
                frame = self._loop_file(cap)
                ok = frame is not None
            if not ok:
                self._fail(DISCONNECTED)
                return None
            self._frames_since_open += 1
            self._failures = 0
            self.status.set_status(OK)
            return frame

    def _loop_file(self, cap: cv2.VideoCapture) -> np.ndarray | None:
        """End of a recorded input: rewind it (a video) or reopen it (a single image)."""
        if cap.set(cv2.CAP_PROP_POS_FRAMES, 0):
            ok, frame = cap.read()
            if ok:
                return frame
        cap.release()
        self._cap = self._open_capture()
        self._frames_since_open = 0
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        return frame if ok else None

    # -- what the kiosk asks of it ----------------------------------------------------------------
    def scan_qr(self, timeout_s: float = 5.0, cancel: threading.Event | None = None) -> str | None:
        """Read frames until one holds a QR code; its text, or None at the timeout or on cancel.

        Blocks for up to timeout_s: call it from a worker thread, not the UI thread.
        """
        deadline = time.monotonic() + timeout_s
        while not self._closed and not (cancel and cancel.is_set()):
            frame = self.read_frame()
            if frame is not None:
                text = decode_qr(frame)
                if text is not None:
                    return text
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if frame is None:
                time.sleep(min(_IDLE_POLL_S, remaining))
        return None

    def face_presence(self, frame: np.ndarray) -> FaceCheck:
        """Whether one resident's face is in the frame, big and centred enough; see face.py."""
        return face_check(frame)

    def capture_jpeg(self, quality: int = 90) -> bytes:
        """One still as JPEG bytes, kept in memory only."""
        if not 1 <= quality <= 100:
            raise ValueError("JPEG quality must be 1..100")
        frame = self.read_frame()
        if frame is None:
            raise CameraError("no picture from the camera")
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise CameraError("the picture could not be encoded")
        return buf.tobytes()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            if self._cap is not None:
                self._cap.release()
                self._cap = None

    def __enter__(self) -> Camera:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
