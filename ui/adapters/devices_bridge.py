"""Device drivers run on their own threads; this QObject turns their callbacks into Qt signals.

Signals emitted from a driver thread reach slots on the GUI thread as queued calls, so screens
never touch a widget from another thread and never wait on a serial port or a camera:
- the card watcher's callbacks -> `card_read(record)` / `card_error(code)`;
- every driver's status changes -> `status_changed(component, Status)`;
- while a photo or QR screen is open, a QTimer asks for one frame at a time on the camera worker
  -> `frame(QImage)`, `face_hint(FaceCheck)` or `qr_found(text)`; `photo(jpeg)` for a capture;
- printing runs on the printer worker -> `printed(job_id)` / `print_failed(code, Status)`; guides and
  blank forms go to the hall's A4 printer when there is one (`a4_printer`, its own worker: an A4 job
  is followed to completion and must not hold up a receipt).
Any device may be None (disabled or missing): the app still starts and says what is unavailable.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from kiosk.status import UNAVAILABLE, Level, Status, StatusSource
from ui.adapters.camera_frames import to_qimage

log = logging.getLogger(__name__)

def _status_source(dev: Any) -> StatusSource | None:
    for name in ("status_source", "status"):
        src = getattr(dev, name, None)
        if isinstance(src, StatusSource):
            return src
    return None


class DeviceBridge(QObject):
    card_read = Signal(object)            # kiosk.identity.CardRecord
    card_error = Signal(str)              # "read_failed" | "reader_gone" | "not_answering"
    status_changed = Signal(str, object)  # component, kiosk.status.Status
    frame = Signal(QImage)
    face_hint = Signal(object)            # devices.camera.face.FaceCheck
    qr_found = Signal(str)
    photo = Signal(bytes)
    photo_failed = Signal()
    printed = Signal(str)                 # job id
    print_failed = Signal(str, object)    # code, Status

    CAPTURE_INTERVAL_MS = 150

    def __init__(self, *, reader: Any = None, watcher_factory: Any = None, printer: Any = None,
                 camera: Any = None, voice: Any = None, a4_printer: Any = None) -> None:
        super().__init__()
        self.reader, self.printer, self.camera, self.voice = reader, printer, camera, voice
        self.a4_printer = a4_printer  # None: the hall has none (not a fault, so no status either)
        self.watcher = watcher_factory(reader, self._on_card, self._on_card_error) if reader else None
        self._camera_pool = ThreadPoolExecutor(1, thread_name_prefix="camera")
        self._printer_pool = ThreadPoolExecutor(1, thread_name_prefix="printer")
        self._a4_pool = ThreadPoolExecutor(1, thread_name_prefix="a4-printer")
        self._capture: Future | None = None
        self._camera_mode: str | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(self.CAPTURE_INTERVAL_MS)
        self._timer.timeout.connect(self._tick_camera)
        self._statuses: dict[str, Status] = {}

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        for component, dev in (("card_reader", self.reader), ("printer", self.printer),
                               ("camera", self.camera), ("voice", self.voice), ("a4_printer", self.a4_printer)):
            if component == "a4_printer" and dev is None:
                continue
            src = _status_source(dev) if dev is not None else None
            if dev is None:
                self._statuses[component] = UNAVAILABLE
            elif src is not None:
                src.subscribe(self._on_status)
                self._statuses[component] = src.status()
            elif callable(getattr(dev, "subscribe", None)):
                dev.subscribe(self._on_status)
                self._statuses[component] = dev.status()
        if self.watcher is not None:
            self.watcher.start()
        if self.printer is not None:  # learn the paper state before the first receipt
            self._printer_pool.submit(self._query_printer, self.printer)
        if self.a4_printer is not None:  # paper and doors before the first certificate (and for the fleet)
            self._a4_pool.submit(self._query_printer, self.a4_printer)

    def close(self) -> None:
        self.stop_camera()
        if self.watcher is not None:
            self.watcher.stop()
        self._camera_pool.shutdown(wait=True, cancel_futures=True)
        self._printer_pool.shutdown(wait=True, cancel_futures=True)
        self._a4_pool.shutdown(wait=True, cancel_futures=True)
        for dev in (self.camera, self.printer, self.voice, self.reader):
            close = getattr(dev, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:
                    log.exception("device close failed")

    def statuses(self) -> dict[str, Status]:
        return dict(self._statuses)

    def _on_status(self, component: str, status: Status) -> None:
        self._statuses[component] = status
        self.status_changed.emit(component, status)

    # --- card --------------------------------------------------------------------------------------
    def _on_card(self, record: Any) -> None:
        self.card_read.emit(record)

    def _on_card_error(self, error: Exception) -> None:
        name = type(error).__name__
        code = {"ReaderGone": "reader_gone", "ReaderNotAnswering": "not_answering"}.get(name, "read_failed")
        log.info("card read failed", extra={"error": name})
        self.card_error.emit(code)

    def forget_card(self) -> None:
        """After a session ends the same card must fire again for the next resident."""
        if self.watcher is not None:
            self.watcher.forget()

    # --- camera ------------------------------------------------------------------------------------
    def start_camera(self, mode: str) -> bool:
        """mode "qr" (look for a receipt QR) or "photo" (face guidance); False with no camera."""
        if self.camera is None:
            return False
        self._camera_mode = mode
        self._timer.start()
        return True

    def stop_camera(self) -> None:
        self._camera_mode = None
        self._timer.stop()

    def _tick_camera(self) -> None:
        if self._camera_mode is None or (self._capture is not None and not self._capture.done()):
            return  # one frame at a time: a slow camera never piles up work
        self._capture = self._camera_pool.submit(self._grab, self._camera_mode)

    def _grab(self, mode: str) -> None:
        try:
            frame = self.camera.read_frame()
            if frame is None or self._camera_mode != mode:
                return
            self.frame.emit(to_qimage(frame))
            if mode == "qr":
                from devices.camera.qr import decode_qr

                text = decode_qr(frame)
                if text and self._camera_mode == "qr":
                    self.qr_found.emit(text)
            else:
                self.face_hint.emit(self.camera.face_presence(frame))
        except Exception:
            log.exception("camera frame failed")

    def capture_photo(self) -> None:
        if self.camera is None:
            self.photo_failed.emit()
            return
        self._camera_pool.submit(self._capture_photo)

    def _capture_photo(self) -> None:
        try:
            self.photo.emit(self.camera.capture_jpeg())
        except Exception as e:
            log.warning("photo capture failed", extra={"error": type(e).__name__})
            self.photo_failed.emit()

    # --- printer -------------------------------------------------------------------------------------
    def _query_printer(self, printer: Any) -> None:
        try:
            printer.query_status()
        except Exception:
            log.exception("printer status query failed")

    def print_receipt(self, receipt: Any) -> None:
        self._print(lambda: self.printer.print_receipt(receipt))

    def print_document(self, title: str, paragraphs: list[str], lang: str) -> None:
        """A guide or blank form, rendered on the printer worker (long text takes a moment); on A4 when
        the hall has an A4 printer."""
        if self.a4_printer is not None:
            def a4_job() -> str:
                from devices.a4.render import text_document_pdf

                return self.a4_printer.print_pdf(text_document_pdf(title, paragraphs, lang), "guide").id
            self._a4_pool.submit(self._run_print, a4_job)
            return

        def job() -> str:
            from devices.printer.receipt import render_text_document

            return self.printer.print_image(render_text_document(title, paragraphs, lang,
                                                                 self.printer.width_dots))
        self._print(job)

    def _print(self, job: Any) -> None:
        if self.printer is None:
            self.print_failed.emit("not_configured", UNAVAILABLE)
            return
        self._printer_pool.submit(self._run_print, job)

    def _run_print(self, job: Any) -> None:
        from devices.a4.printer import A4Error
        from devices.printer.printer import PrinterError

        try:
            self.printed.emit(job())
        except (PrinterError, A4Error) as e:
            self.print_failed.emit(e.code, e.status)
        except Exception as e:
            log.exception("printing failed")
            self.print_failed.emit("error", Status(Level.FAULT, "error", "打印出错", "པར་འདེབས་ནོར་འཁྲུལ།",
                                                   f"printing failed: {type(e).__name__}"))
