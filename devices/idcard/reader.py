"""ID-card reader driver (GA 467 SAM module on a serial port) and a card watcher.

One lock guards the port; it is held for one command at a time (write, then read until a
complete reply or that command's timeout). After the port disappears the reader reports
`disconnected` and a background thread reopens it with backoff once the path is back.
Nothing here logs or raises card data: messages carry the port, the command and the SW3.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import termios
import threading
import time

import serial

from devices.idcard import textblock
from devices.idcard.errors import (
    CardReadError,
    ChecksumError,
    NoCard,
    ProtocolError,
    ReaderError,
    ReaderGone,
    ReaderNotAnswering,
    SamError,
    SamFault,
)
from devices.idcard.protocol import (
    SW3,
    Command,
    Frame,
    FrameParser,
    encode_command,
    parse_sam_id,
    sw3_describe,
    sw3_name,
)
from kiosk.backoff import Backoff
from kiosk.identity import CardRecord
from kiosk.status import Level, Listener, Status, StatusSource, status_from

log = logging.getLogger(__name__)

# Seconds per command (DEVICES.md; reset SAM and new address are not listed there: a reset
# restarts the module's firmware, a new-address read is a short card read).
TIMEOUTS: dict[Command, float] = {
    Command.RESET_SAM: 1.0,
    Command.SAM_STATUS: 0.3,
    Command.READ_SAM_ID: 0.3,
    Command.FIND_CARD: 0.1,
    Command.SELECT_CARD: 0.1,
    Command.READ_TEXT_PHOTO: 2.0,
    Command.READ_NEW_ADDRESS: 1.0,
    Command.READ_WITH_FINGERPRINT: 3.0,
}
READ_SLICE_S = 0.01  # serial read granularity while waiting for a reply
BAD_REPLIES_DEGRADED = 3  # consecutive corrupt replies before the status says read_errors
RECONNECT = Backoff(0.2, 5.0)  # looking for the port again after it disappeared
_IO_ERRORS = (serial.SerialException, OSError, termios.error)
_SAM_FAULT_CODES = (SW3.SAM_SELF_TEST_FAILED, SW3.SAM_NOT_AUTHORISED)

_MESSAGES = {
    "not_answering": (Level.FAULT, "身份证读卡器无响应", "ཐོབ་ཐང་ལག་ཁྱེར་ཀློག་ཆས་ལན་མི་འདེབས།",
                      "ID card reader is not answering"),
    "disconnected": (Level.FAULT, "身份证读卡器已断开", "ཐོབ་ཐང་ལག་ཁྱེར་ཀློག་ཆས་ཀྱི་འབྲེལ་མཐུད་ཆད་འདུག",
                     "ID card reader is disconnected"),
    "sam_fault": (Level.FAULT, "身份证读卡器安全模块故障", "ཐོབ་ཐང་ལག་ཁྱེར་ཀློག་ཆས་ཀྱི་བདེ་འཇགས་ཆ་ཤས་ལ་སྐྱོན་བྱུང་།",
                  "ID card reader security module (SAM) fault"),
    "read_errors": (Level.DEGRADED, "身份证读卡器通信错误频繁", "ཐོབ་ཐང་ལག་ཁྱེར་ཀློག་ཆས་ཀྱི་འབྲེལ་གཏུག་ལ་ནོར་འཁྲུལ་མང་པོ་བྱུང་།",
                    "ID card reader: repeated communication errors"),
    "ok": (Level.OK, "正常", "རྒྱུན་ལྡན།", "OK"),
}


def _status(code: str) -> Status:
    return status_from(_MESSAGES, code)


class CardReader:
    """A GA 467 SAM card reader on `port`; the port is opened on first use."""

    def __init__(self, port: str, baudrate: int = 115200, *, poll_interval: float = 0.3,
                 timeout_slack: float = 0.1) -> None:
        self.port = port
        self.baudrate = baudrate
        self.poll_interval = poll_interval
        self._slack = timeout_slack
        self._ser: serial.Serial | None = None
        self._lock = threading.Lock()
        self._source = StatusSource("card_reader")
        self._bad_replies = 0
        self._closed = threading.Event()
        self._reconnector: threading.Thread | None = None

    @property
    def longest_command_s(self) -> float:
        """The longest any one command may take to answer (a card watcher waits this long for a poll)."""
        return max(TIMEOUTS.values()) + self._slack

    # -- status ---------------------------------------------------------------------------
    def status(self) -> Status:
        return self._source.status()

    def subscribe(self, listener: Listener) -> None:
        self._source.subscribe(listener)

    def _set(self, code: str) -> None:
        self._source.set_status(_status(code))

    def _clear(self, *codes: str) -> None:
        if self._source.status().code in codes:
            self._set("ok")

    # -- commands -------------------------------------------------------------------------
    def reset(self) -> None:
        """Reset the SAM module."""
        self._expect_sam(self._command(Command.RESET_SAM), Command.RESET_SAM)

    def sam_status(self) -> None:
        """Ask the SAM module for its status; raises SamFault unless it is healthy."""
        self._expect_sam(self._command(Command.SAM_STATUS), Command.SAM_STATUS)

    def sam_id(self) -> str:
        frame = self._command(Command.READ_SAM_ID)
        self._expect_sam(frame, Command.READ_SAM_ID)
        try:
            return parse_sam_id(frame.data)
        except ProtocolError as e:
            raise ProtocolError(f"card reader at {self.port}: {e}") from None

    def find(self) -> None:
        """Look for a card; raises NoCard if none is there."""
        frame = self._command(Command.FIND_CARD)
        if frame.sw3 in (SW3.FIND_OK, SW3.SUCCESS):
            return
        if frame.sw3 == SW3.FIND_FAILED:
            raise NoCard(f"no card is on the reader at {self.port}", frame.sw3, sw3_name(frame.sw3))
        self._fail(frame, Command.FIND_CARD, SamError)

    def select(self) -> None:
        frame = self._command(Command.SELECT_CARD)
        if frame.sw3 != SW3.SUCCESS:
            self._fail(frame, Command.SELECT_CARD, CardReadError)

    def read(self, with_fingerprint: bool = False) -> CardRecord:
        """Read text + photo (and fingerprints) of the selected card."""
        command = Command.READ_WITH_FINGERPRINT if with_fingerprint else Command.READ_TEXT_PHOTO
        frame = self._command(command)
        if frame.sw3 != SW3.SUCCESS:
            self._fail(frame, command, CardReadError)
        try:
            text, photo, fingerprint = _split_read_reply(frame.data, with_fingerprint)
            record = textblock.parse(text, photo, fingerprint)
        except ProtocolError as e:
            raise CardReadError(f"card reader at {self.port}: {command.label} reply is malformed: {e}") from None
        self._clear("sam_fault")
        log.info("card read", extra={"port": self.port, "card_kind": record.kind.value,
                                     "fingerprint": fingerprint is not None})
        return record

    def read_new_address(self) -> str | None:
        """The address added after issue (read new address), or None if the card has none."""
        frame = self._command(Command.READ_NEW_ADDRESS)
        if frame.sw3 == SW3.NO_CONTENT:
            return None
        if frame.sw3 != SW3.SUCCESS:
            self._fail(frame, Command.READ_NEW_ADDRESS, CardReadError)
        try:
            return textblock.decode_address(frame.data)
        except ProtocolError as e:
            raise CardReadError(f"card reader at {self.port}: new address reply is malformed: {e}") from None

    def read_card(self, with_fingerprint: bool = False) -> CardRecord:
        """find -> select -> read; raises NoCard when the reader is empty."""
        self.find()
        self.select()
        return self.read(with_fingerprint)

    def wait_for_card(self, timeout: float | None = None, stop: threading.Event | None = None) -> CardRecord | None:
        """Block until a card is put on the reader and read; None on timeout or stop.

        A find every `poll_interval`; a card already lying on the reader counts as inserted.
        For a long-running kiosk use CardWatcher, which fires once per insertion in its own thread.
        """
        from devices.idcard.watcher import CardWatcher

        got: list[CardRecord] = []
        watcher = CardWatcher(self, got.append)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (stop and stop.is_set()):
            watcher.poll_once()
            if got:
                return got[0]
            if deadline is not None and time.monotonic() >= deadline:
                return None
            wait = self.poll_interval if deadline is None else min(self.poll_interval, deadline - time.monotonic())
            if stop:
                stop.wait(max(0.0, wait))
            else:
                time.sleep(max(0.0, wait))
        return None

    def _expect_sam(self, frame: Frame, command: Command) -> None:
        if frame.sw3 != SW3.SUCCESS:
            self._fail(frame, command, SamFault)
        self._clear("sam_fault")

    def _fail(self, frame: Frame, command: Command, error: type[SamError]) -> None:
        if frame.sw3 in _SAM_FAULT_CODES or error is SamFault:
            error = SamFault
            self._set("sam_fault")
        raise error(f"card reader at {self.port}: {command.label} failed: {sw3_describe(frame.sw3)}",
                    frame.sw3, sw3_name(frame.sw3))

    # -- transport ------------------------------------------------------------------------
    def _command(self, command: Command) -> Frame:
        """Send one command and return its reply; one retry if the reply (or, by SW3 10/11,
        the command) was corrupted on the line, within the same deadline."""
        timeout = TIMEOUTS[command] + self._slack
        if not self._lock.acquire(timeout=max(TIMEOUTS.values()) + self._slack):
            raise ReaderNotAnswering(f"card reader at {self.port} is busy with another command")
        try:
            ser = self._open_locked()
            deadline = time.monotonic() + timeout
            for attempt in (1, 2):
                try:
                    frame = self._exchange(ser, command, deadline)
                except ChecksumError:
                    self._bad_reply()
                    if attempt == 1:
                        continue
                    raise ProtocolError(f"card reader at {self.port}: reply to {command.label} "
                                        "failed its checksum twice") from None
                if frame.sw3 in (SW3.CHECKSUM_ERROR, SW3.LENGTH_ERROR):
                    self._bad_reply()
                    if attempt == 1:
                        continue
                    return frame
                self._good_reply()
                return frame
            raise AssertionError("unreachable")
        finally:
            self._lock.release()

    def _exchange(self, ser: serial.Serial, command: Command, deadline: float) -> Frame:
        parser = FrameParser()
        try:
            ser.reset_input_buffer()  # a late reply to an earlier command must not be taken for this one
            ser.write(encode_command(command))
            while True:
                if time.monotonic() >= deadline:
                    self._set("not_answering")
                    raise ReaderNotAnswering(self._silence_message(command, parser))
                chunk = ser.read(max(1, ser.in_waiting))
                if not chunk:
                    continue
                try:
                    frames = parser.feed(chunk)
                except ChecksumError as e:
                    if not e.frames and not parser.in_frame:
                        raise  # a corrupted reply: retry now rather than wait out the timeout
                    frames = e.frames  # a false preamble before the real reply: keep reading
                if frames:
                    return frames[0]
        except _IO_ERRORS as e:
            self._lost_locked()
            raise ReaderGone(f"card reader at {self.port} failed during {command.label}: "
                             f"{type(e).__name__} (unplugged?)") from None

    def _silence_message(self, command: Command, parser: FrameParser) -> str:
        ms = round((TIMEOUTS[command] + self._slack) * 1000)
        noise = parser.skipped + parser.pending
        if noise:
            return (f"card reader at {self.port} sent {noise} bytes that are not a valid reply to "
                    f"{command.label} within {ms} ms (wrong baud rate or wrong device?)")
        return f"card reader at {self.port} did not answer {command.label} within {ms} ms"

    def _good_reply(self) -> None:
        self._bad_replies = 0
        self._clear("not_answering", "disconnected", "read_errors")

    def _bad_reply(self) -> None:
        self._bad_replies += 1
        log.warning("corrupt reply from card reader", extra={"port": self.port, "consecutive": self._bad_replies})
        if self._bad_replies >= BAD_REPLIES_DEGRADED and self.status().level is Level.OK:
            self._set("read_errors")

    # -- port lifecycle -------------------------------------------------------------------
    def _open_locked(self) -> serial.Serial:
        if self._ser is not None:
            return self._ser
        if self._closed.is_set():
            raise ReaderGone(f"card reader at {self.port} is closed")
        if self._reconnector is not None and self._reconnector.is_alive():
            raise ReaderGone(f"card reader at {self.port} is disconnected; reconnecting")
        try:
            self._ser = self._open_port()
        except _IO_ERRORS as e:
            self._lost_locked()
            problem = "is missing" if not os.path.exists(self.port) else f"cannot be opened ({type(e).__name__})"
            raise ReaderGone(f"card reader port {self.port} {problem}") from None
        return self._ser

    def _open_port(self) -> serial.Serial:
        # exclusive: a maintenance command must not interleave frames with the running kiosk
        return serial.Serial(self.port, self.baudrate, timeout=READ_SLICE_S, write_timeout=1.0,
                             exclusive=True)

    def _close_port_locked(self) -> None:
        if self._ser is not None:
            with contextlib.suppress(*_IO_ERRORS):
                self._ser.close()
            self._ser = None

    def _lost_locked(self) -> None:
        self._close_port_locked()
        self._set("disconnected")
        log.warning("card reader port lost", extra={"port": self.port})
        if not self._closed.is_set() and (self._reconnector is None or not self._reconnector.is_alive()):
            self._reconnector = threading.Thread(target=self._reconnect_loop, name="card-reader-reconnect",
                                                 daemon=True)
            self._reconnector.start()

    def _reconnect_loop(self) -> None:
        tries = 1
        while not self._closed.wait(RECONNECT.delay(tries)):
            tries += 1
            if not os.path.exists(self.port):
                continue
            with self._lock:
                if self._closed.is_set():
                    return
                try:
                    self._ser = self._open_port()
                except _IO_ERRORS:
                    continue
            log.info("card reader port reopened", extra={"port": self.port})
            try:
                self.sam_status()  # a good reply clears `disconnected`
            except ReaderGone:
                continue  # gone again at once: keep trying
            except ReaderError as e:
                log.warning("card reader check after reconnect failed", extra={"port": self.port, "error": str(e)})
            return

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._close_port_locked()
        if self._reconnector is not None:
            self._reconnector.join(timeout=2)

    def __enter__(self) -> CardReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _split_read_reply(data: bytes, with_fingerprint: bool) -> tuple[bytes, bytes, bytes | None]:
    """Text, photo and fingerprint of a read reply (lengths big-endian at its start)."""
    header = 6 if with_fingerprint else 4
    if len(data) < header:
        raise ProtocolError(f"{len(data)} data bytes, too short for the length header")
    text_len, photo_len = struct.unpack_from(">HH", data)
    fp_len = struct.unpack_from(">H", data, 4)[0] if with_fingerprint else 0
    if text_len != textblock.TEXT_LEN or header + text_len + photo_len + fp_len != len(data):
        raise ProtocolError("the length header does not match the data")
    text = data[header:header + text_len]
    photo = data[header + text_len:header + text_len + photo_len]
    fingerprint = data[header + text_len + photo_len:] if with_fingerprint and fp_len else None
    return text, photo, fingerprint
