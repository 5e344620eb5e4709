"""ESC/POS receipt printer driver: raster printing with status checked before and after each job.

A printer that does not answer a status query is a fault ("not_answering"), never "OK". A job
that cannot be printed is kept in `pending_jobs` and reported, never dropped; `retry_pending()`
prints the kept jobs when asked. It is never done automatically: an old receipt must not come out
in the hands of the next resident.
"""

from __future__ import annotations

import contextlib
import logging
import termios
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import serial

from devices.printer import escpos
from devices.printer.messages import status_for
from kiosk.status import Level, Status, StatusSource

if TYPE_CHECKING:
    import numpy as np
    from PySide6.QtGui import QImage

    from devices.printer.receipt import Receipt

log = logging.getLogger(__name__)

Paper = Literal["ok", "near_end", "out"]

_CHUNK = 4096  # bytes per write: each write is bounded by the time the link needs for it
_MIN_PRINT_DOTS_PER_S = 800.0  # ~100 mm/s: slower than any thermal printer, to bound the wait
# What a vanished USB-serial adapter raises (pyserial lets termios.error through from tcflush).
_LINK_ERRORS = (serial.SerialException, OSError, termios.error)
_POLL_S = 0.2  # while waiting for a job to finish, ask DLE EOT 2 this often whether it stopped


class PrinterError(Exception):
    """The printer cannot print (code is a status code); `job_id` names the job kept for retry."""

    def __init__(self, code: str, status: Status, job_id: str | None = None):
        super().__init__(f"{code}: {status.en}" + (f" (job {job_id} kept for retry)" if job_id else ""))
        self.code = code
        self.status = status
        self.job_id = job_id


@dataclass(frozen=True)
class PrinterState:
    """What the printer said. Fields it could not report (no answer) are None."""

    online: bool
    paper: Paper | None
    cover_open: bool | None
    cutter_error: bool | None
    answering: bool

    def as_dict(self) -> dict[str, object]:
        return {"online": self.online, "paper": self.paper, "cover_open": self.cover_open,
                "cutter_error": self.cutter_error, "answering": self.answering}


_UNKNOWN = PrinterState(online=False, paper=None, cover_open=None, cutter_error=None, answering=False)


@dataclass(eq=False)  # jobs are compared by identity
class PrintJob:
    """A rendered job, ready to send again: its ESC/POS bytes, not the content it came from."""

    id: str
    created: str  # UTC ISO-8601
    data: bytes = field(repr=False)
    rows: int
    attempts: int = 0
    last_error: str | None = None


def classify(replies: dict[int, escpos.StatusByte]) -> tuple[PrinterState, str]:
    """Printer state and status code from the four DLE EOT replies."""
    b1, b2, b3, b4 = (replies[n] for n in (1, 2, 3, 4))
    paper_out = b4["paper_end"] or b2["stopped_paper_end"]
    paper: Paper = "out" if paper_out else ("near_end" if b4["paper_near_end"] else "ok")
    state = PrinterState(online=not b1["offline"], paper=paper, cover_open=b2["cover_open"],
                         cutter_error=b3["autocutter_error"], answering=True)
    other_error = b2["error"] or b3["recoverable_error"] or b3["unrecoverable_error"] or b3[
        "auto_recoverable_error"]
    if state.cover_open:
        code = "cover_open"
    elif paper_out:
        code = "paper_out"
    elif state.cutter_error:
        code = "cutter_error"
    elif b1["offline"] or other_error:
        code = "offline"
    elif paper == "near_end":
        code = "paper_near_end"
    else:
        code = "ok"
    return state, code


class ReceiptPrinter:
    """One ESC/POS printer on a serial port. Thread-safe; calls are serialised on one lock."""

    def __init__(self, port: str, baudrate: int = 115200, *, width_dots: int = 576,
                 status_timeout: float = 0.5, reconnect_min: float = 0.25, reconnect_max: float = 5.0):
        self.port = port
        self.baudrate = baudrate
        self.width_dots = width_dots
        self.status_timeout = status_timeout
        self.status_source = StatusSource("printer")
        self.pending_jobs: list[PrintJob] = []
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._backoff = reconnect_min
        self._next_open = 0.0
        self._serial: serial.Serial | None = None
        self._lock = threading.RLock()

    # -- connection -----------------------------------------------------------------------------
    def _open(self) -> serial.Serial | None:
        """The open port, opening it if due; None while disconnected (retries back off)."""
        if self._serial is not None:
            return self._serial
        now = time.monotonic()
        if now < self._next_open:
            return None
        write_timeout = max(1.0, 4 * _CHUNK * 10 / self.baudrate)
        try:
            self._serial = serial.Serial(self.port, self.baudrate, timeout=self.status_timeout,
                                         write_timeout=write_timeout)
        except _LINK_ERRORS as e:
            self._next_open = now + self._backoff
            log.warning("printer port unavailable", extra={"port": self.port, "error": str(e),
                                                           "retry_in_s": self._backoff})
            self._backoff = min(self._backoff * 2, self._reconnect_max)
            return None
        self._backoff = self._reconnect_min
        log.info("printer port opened", extra={"port": self.port})
        return self._serial

    def _drop(self, error: Exception) -> None:
        log.warning("printer link lost", extra={"port": self.port, "error": str(error)})
        if self._serial is not None:
            with contextlib.suppress(*_LINK_ERRORS):
                self._serial.close()
        self._serial = None

    def close(self) -> None:
        with self._lock:
            if self._serial is not None:
                self._serial.close()
                self._serial = None

    def __enter__(self) -> ReceiptPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- status ---------------------------------------------------------------------------------
    def _read_status(self, ser: serial.Serial, n: int) -> int | None:
        """Send DLE EOT n; the valid reply byte, -1 if only garbage came, None if nothing did."""
        ser.reset_input_buffer()
        ser.write(escpos.status_query(n))
        deadline = time.monotonic() + self.status_timeout
        garbage = False
        while (left := deadline - time.monotonic()) > 0:
            ser.timeout = left
            got = ser.read(1)
            if not got:
                break
            if escpos.is_status_byte(got[0]):
                return got[0]
            # A late GS r reply (pattern 0xx0xx00) is not garbage, just stale; skip it.
            garbage = garbage or not escpos.is_paper_sensor_byte(got[0])
        return -1 if garbage else None

    def _query_locked(self) -> tuple[PrinterState, str]:
        ser = self._open()
        if ser is None:
            return _UNKNOWN, "disconnected"
        replies: dict[int, escpos.StatusByte] = {}
        try:
            for n in (1, 2, 3, 4):
                byte = self._read_status(ser, n)
                if byte == -1:  # one retry: a single burst of line noise is not a fault
                    byte = self._read_status(ser, n)
                if byte is None:
                    return _UNKNOWN, "not_answering"
                if byte == -1:
                    return _UNKNOWN, "garbled"
                replies[n] = escpos.decode_status(n, byte)
        except _LINK_ERRORS as e:
            self._drop(e)
            return _UNKNOWN, "disconnected"
        return classify(replies)

    def _report(self, code: str) -> Status:
        status = status_for(code)
        self.status_source.set_status(status)
        return status

    def query_status(self) -> PrinterState:
        """Ask the printer (DLE EOT 1..4) and update `status_source`. Bounded by ~4 x status_timeout."""
        with self._lock:
            state, code = self._query_locked()
        self._report(code)  # outside the lock: a slow listener must not hold up the printer
        return state

    # -- printing -------------------------------------------------------------------------------
    def print_image(self, img: QImage | np.ndarray) -> str:
        """Print a page image (QImage, or bool array with true = black) and cut; returns the job id.

        Raises PrinterError if the printer could not print it; the job is then in pending_jobs.
        """
        import numpy as np  # here: the kiosk's start-up loads this driver, numpy (~45 ms) waits for a print

        bits = img if isinstance(img, np.ndarray) else _qimage_bits(img)
        if bits.dtype != np.bool_:
            raise TypeError("print_image takes a QImage or a bool array (true = black)")
        if bits.ndim != 2 or bits.shape[1] > self.width_dots:
            raise ValueError(f"image {bits.shape[::-1]} does not fit a {self.width_dots}-dot printer")
        data = escpos.init() + escpos.raster(bits) + escpos.cut()
        job = PrintJob(id=uuid.uuid4().hex[:12], created=datetime.now(UTC).isoformat(timespec="seconds"),
                       data=data, rows=int(bits.shape[0]))
        self._run(job)
        return job.id

    def print_receipt(self, receipt: Receipt) -> str:
        from devices.printer.receipt import render_receipt

        return self.print_image(render_receipt(receipt, self.width_dots))

    def retry_pending(self) -> int:
        """Reprint kept jobs, oldest first, stopping at the first that fails; returns how many printed."""
        printed = 0
        for job in list(self.pending_jobs):
            try:
                self._run(job)
            except PrinterError:
                break
            printed += 1
        return printed

    def _run(self, job: PrintJob) -> None:
        with self._lock:
            job.attempts += 1
            _, code = self._query_locked()
            if status_for(code).level is not Level.FAULT:
                code = self._send_locked(job)
            failed = status_for(code).level is Level.FAULT
            if failed:
                self._keep(job, code)
            elif job in self.pending_jobs:
                self.pending_jobs.remove(job)
        status = self._report(code)
        if failed:
            raise PrinterError(code, status, job.id)
        log.info("receipt printed", extra={"job": job.id, "rows": job.rows, "attempts": job.attempts})

    def _send_locked(self, job: PrintJob) -> str:
        """Send the job, wait (bounded) until the printer has printed it, then ask for its status."""
        ser = self._serial
        if ser is None:
            return "disconnected"
        try:
            for start in range(0, len(job.data), _CHUNK):
                ser.write(job.data[start:start + _CHUNK])
            synced = self._wait_printed(ser, job.rows)
        except _LINK_ERRORS as e:
            self._drop(e)
            return "disconnected"
        _, code = self._query_locked()
        if not synced and status_for(code).level is not Level.FAULT:
            # GS r unanswered yet status fine: a model without GS r, or still printing. Not a failure
            # we can prove, so the job counts as printed; say so for the maintenance log.
            log.warning("printer did not confirm the end of the job", extra={"job": job.id})
        return code

    def _wait_printed(self, ser: serial.Serial, rows: int) -> bool:
        """True once the printer confirms (GS r 1) it printed everything sent; False if it reports
        a stop (paper end, cover, error) to a DLE EOT 2 poll or the bounded wait runs out."""
        ser.reset_input_buffer()
        ser.write(escpos.transmit_paper_status())
        deadline = time.monotonic() + self.status_timeout + rows / _MIN_PRINT_DOTS_PER_S
        while (left := deadline - time.monotonic()) > 0:
            ser.timeout = min(left, _POLL_S)
            got = ser.read(1)
            if not got:
                ser.write(escpos.status_query(2))
                continue
            if escpos.is_paper_sensor_byte(got[0]):
                return True
            if escpos.is_status_byte(got[0]):
                cause = escpos.decode_status(2, got[0])
                if cause["cover_open"] or cause["stopped_paper_end"] or cause["error"]:
                    return False
        return False

    def _keep(self, job: PrintJob, code: str) -> None:
        job.last_error = code
        if job not in self.pending_jobs:
            self.pending_jobs.append(job)
        log.warning("print job kept for retry", extra={"job": job.id, "code": code,
                                                       "pending": len(self.pending_jobs)})


def _qimage_bits(img: QImage) -> np.ndarray:
    from devices.printer.render import qimage_to_bits

    return qimage_to_bits(img)
