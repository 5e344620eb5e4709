"""GA 467 SAM serial protocol: command frames, an incremental reply parser, status words.

Frame: AA AA AA 96 69 | LEN (2, big-endian, counts every byte after itself incl. CHK) |
payload | CHK (XOR of LEN..last payload byte). Commands carry CMD PARA, replies SW1 SW2 SW3
and data. See /work/shared/DEVICES.md for the byte-by-byte facts this follows.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from functools import reduce

from devices.idcard.errors import ChecksumError, ProtocolError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2
MIN_REPLY_LEN = 4  # SW1 SW2 SW3 CHK
MAX_LEN = 4096  # largest real reply (text + photo + fingerprint) is ~2.3 KiB


class Command(enum.Enum):
    """(CMD, PARA) of every command, with a short label for messages."""

    RESET_SAM = (0x10, 0xFF)
    SAM_STATUS = (0x11, 0xFF)
    READ_SAM_ID = (0x12, 0xFF)
    FIND_CARD = (0x20, 0x01)
    SELECT_CARD = (0x20, 0x02)
    READ_TEXT_PHOTO = (0x30, 0x01)
    READ_NEW_ADDRESS = (0x30, 0x03)
    READ_WITH_FINGERPRINT = (0x30, 0x10)

    @property
    def cmd(self) -> int:
        return self.value[0]

    @property
    def para(self) -> int:
        return self.value[1]

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


class SW3(enum.IntEnum):
    """Status words of the SAM module, with their meaning."""

    SUCCESS = 0x90
    FIND_OK = 0x9F
    NO_CONTENT = 0x91
    CHECKSUM_ERROR = 0x10
    LENGTH_ERROR = 0x11
    COMMAND_ERROR = 0x21
    UNAUTHORISED = 0x23
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_SAM_FAILED = 0x31
    SAM_AUTH_CARD_FAILED = 0x32
    VERIFY_ERROR = 0x33
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    FIND_FAILED = 0x80
    SELECT_FAILED = 0x81

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    SW3.SUCCESS: "success",
    SW3.FIND_OK: "find card success",
    SW3.NO_CONTENT: "card has no content for this item",
    SW3.CHECKSUM_ERROR: "checksum error",
    SW3.LENGTH_ERROR: "length error",
    SW3.COMMAND_ERROR: "command error",
    SW3.UNAUTHORISED: "unauthorised operation",
    SW3.UNKNOWN_ERROR: "unknown error",
    SW3.CARD_AUTH_SAM_FAILED: "card failed to authenticate the SAM",
    SW3.SAM_AUTH_CARD_FAILED: "SAM failed to authenticate the card",
    SW3.VERIFY_ERROR: "information verification error",
    SW3.UNKNOWN_CARD_TYPE: "unknown card type",
    SW3.READ_FAILED: "read card failed",
    SW3.RANDOM_FAILED: "random number failed",
    SW3.SAM_SELF_TEST_FAILED: "SAM self-test failed",
    SW3.SAM_NOT_AUTHORISED: "SAM not authorised",
    SW3.FIND_FAILED: "find card failed",
    SW3.SELECT_FAILED: "select card failed",
}


def sw3_name(code: int) -> str:
    """Stable lower-case name of a status word ("read_failed"); unknown ones "sw3_0x??"."""
    try:
        return SW3(code).name.lower()
    except ValueError:
        return f"sw3_0x{code:02x}"


def sw3_describe(code: int) -> str:
    try:
        return f"SW3 0x{code:02X} {SW3(code).meaning}"
    except ValueError:
        return f"SW3 0x{code:02X} (not in the protocol)"


def _xor(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


def encode_command(cmd: int | Command, para: int | None = None, data: bytes = b"") -> bytes:
    """A complete command frame: encode_command(Command.FIND_CARD) or encode_command(0x20, 0x01)."""
    if isinstance(cmd, Command):
        cmd, para = cmd.cmd, cmd.para
    if para is None:
        raise ValueError("a command needs CMD and PARA")
    body = bytes((cmd, para)) + data
    length = struct.pack(">H", len(body) + 1)
    return PREAMBLE + length + body + bytes((_xor(length + body),))


@dataclass(frozen=True)
class Frame:
    """One reply: its status word and data (after SW1 SW2 SW3, before CHK)."""

    sw3: int
    data: bytes = b""

    def __repr__(self) -> str:  # the data can be card text: show only its size
        return f"Frame(sw3=0x{self.sw3:02X}, {len(self.data)} data bytes)"


class FrameParser:
    """Incremental reply parser: feed it whatever the port returned, get complete frames.

    Bytes before a preamble are skipped (counted in `skipped`). A header with an impossible
    LEN is treated as noise. A frame that fails its checksum is dropped by advancing one byte
    past its preamble, so a good frame hidden behind a false preamble is still found; the
    failure is raised as ChecksumError at the end of the `feed` call, carrying the good frames.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.skipped = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        bad = 0
        while True:
            start = self._buf.find(PREAMBLE)
            if start < 0:
                # keep a possible partial preamble at the end, drop the rest
                keep = next((k for k in range(len(PREAMBLE) - 1, 0, -1)
                             if self._buf.endswith(PREAMBLE[:k])), 0)
                self._drop(len(self._buf) - keep)
                break
            self._drop(start)
            if len(self._buf) < HEADER_LEN:
                break
            length = struct.unpack_from(">H", self._buf, len(PREAMBLE))[0]
            if not MIN_REPLY_LEN <= length <= MAX_LEN:
                self._drop(1)
                continue
            end = HEADER_LEN + length
            if len(self._buf) < end:
                break
            body = bytes(self._buf[len(PREAMBLE):end - 1])  # LEN .. last data byte
            if _xor(body) != self._buf[end - 1]:
                bad += 1
                self._drop(1)
                continue
            frames.append(Frame(sw3=body[4], data=body[5:]))
            del self._buf[:end]
        if bad:
            raise ChecksumError(bad, frames)
        return frames

    def _drop(self, n: int) -> None:
        if n > 0:
            self.skipped += n
            del self._buf[:n]

    @property
    def in_frame(self) -> bool:
        """A preamble has been seen and the rest of its frame is awaited."""
        return self._buf.startswith(PREAMBLE)

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)


def parse_sam_id(data: bytes) -> str:
    """The SAM ID as printed on the module: "%02X.%02X-%d-%010d-%010d"."""
    if len(data) < 16:
        raise ProtocolError(f"SAM ID reply has {len(data)} data bytes, expected 16")
    a, b, c = struct.unpack_from("<III", data, 4)
    return f"{data[0]:02X}.{data[2]:02X}-{a}-{b:010d}-{c:010d}"
