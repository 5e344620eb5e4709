"""Everything the ID-card driver raises. Messages name the port and the problem, never card data."""

from __future__ import annotations


class ReaderError(Exception):
    """Base of every card-reader error."""


class ReaderGone(ReaderError):
    """The port is missing or failed with an I/O error (adapter unplugged, wrong path)."""


class ReaderNotAnswering(ReaderError):
    """Nothing usable came back within the command's timeout (silence or line noise)."""


class ProtocolError(ReaderError):
    """Bytes on the wire that break the frame format."""


class ChecksumError(ProtocolError):
    """One or more frames failed the XOR check; `frames` holds the good ones decoded in the
    same `FrameParser.feed` call, so nothing good is lost."""

    def __init__(self, count: int, frames: list | None = None) -> None:
        super().__init__(f"{count} frame(s) failed the checksum")
        self.count = count
        self.frames = frames or []


class SamError(ReaderError):
    """The SAM module answered with a failure status word (SW3). `code` is None when the
    failure is not an SW3 (e.g. a reply whose content is malformed)."""

    def __init__(self, message: str, code: int | None = None, name: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.name = name


class NoCard(SamError):
    """Find card answered SW3 80: no card on the reader."""


class CardReadError(SamError):
    """A card is there but select or read failed."""


class SamFault(SamError):
    """The SAM module itself is faulty or not authorised (self-test failed, SW3 60/66, ...)."""
