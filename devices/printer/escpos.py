"""ESC/POS byte builders and the real-time status decoder (pure functions, no I/O).

Only the handful of commands a raster-printing kiosk needs. Images are 2-D arrays where a true
(non-zero) cell is a black dot; the Qt side converts its QImage with `render.qimage_to_bits`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

ESC, GS, DLE, EOT = 0x1B, 0x1D, 0x10, 0x04

INIT = bytes([ESC, 0x40])
FULL_CUT = bytes([GS, 0x56, 0x00])
PARTIAL_CUT = bytes([GS, 0x56, 0x01])

# Printers with small receive buffers choke on one huge GS v 0 image; ~1000 rows per band is safe.
MAX_BAND_ROWS = 1000
# GS v 0 carries the width in bytes and the height in rows as 16-bit values.
_MAX_X_BYTES = 0xFFFF
_MAX_ROWS = 0xFFFF

# Real-time status (DLE EOT n) replies always match 0xx1xx10; GS r 1 replies match 0xx0xx00.
_FIXED_MASK = 0b1001_0011
_FIXED_VALUE = 0b0001_0010
_SENSOR_VALUE = 0b0000_0000


def init() -> bytes:
    """ESC @: clear the buffer and reset modes."""
    return INIT


def cut(partial: bool = False) -> bytes:
    """GS V 0 (full) or GS V 1 (partial, leaves a hinge of paper)."""
    return PARTIAL_CUT if partial else FULL_CUT


def feed(lines: int) -> bytes:
    """ESC d n: print the buffer and feed n lines (0..255)."""
    if not 0 <= lines <= 255:
        raise ValueError(f"feed lines must be 0..255, got {lines}")
    return bytes([ESC, 0x64, lines])


def status_query(n: int) -> bytes:
    """DLE EOT n: real-time status request, answered with one byte even while the printer is busy."""
    if n not in (1, 2, 3, 4):
        raise ValueError(f"status query n must be 1..4, got {n}")
    return bytes([DLE, EOT, n])


def transmit_paper_status() -> bytes:
    """GS r 1: unlike DLE EOT, processed in order, so its reply means "everything before me is
    printed". A printer that stopped mid-job (paper out) never answers it."""
    return bytes([GS, 0x72, 0x01])


def raster(black: np.ndarray, *, band_rows: int = MAX_BAND_ROWS) -> bytes:
    """GS v 0 raster commands for a 2-D image (true = black), split into bands of <= band_rows rows.

    Rows are packed MSB first (leftmost dot = bit 7) and padded with white to whole bytes.
    """
    import numpy as np  # only printing needs it: the status decoder loads at the kiosk's start-up

    bits = np.asarray(black)
    if bits.ndim != 2:
        raise ValueError(f"raster image must be 2-D, got shape {bits.shape}")
    if not 1 <= band_rows <= _MAX_ROWS:
        raise ValueError(f"band_rows must be 1..{_MAX_ROWS}, got {band_rows}")
    height, width = bits.shape
    if height == 0 or width == 0:
        return b""
    packed = np.packbits(bits.astype(bool), axis=1)  # pads each row with zero (white) bits
    x_bytes = packed.shape[1]
    if x_bytes > _MAX_X_BYTES:
        raise ValueError(f"raster image too wide: {width} dots")
    out = bytearray()
    for top in range(0, height, band_rows):
        band = packed[top:top + band_rows]
        rows = band.shape[0]
        out += bytes([GS, 0x76, 0x30, 0, x_bytes & 0xFF, x_bytes >> 8, rows & 0xFF, rows >> 8])
        out += band.tobytes()
    return bytes(out)


# Bit names per query, from the DLE EOT table in shared/DEVICES.md.
_BITS: dict[int, dict[str, int]] = {
    1: {"offline": 0x08, "waiting_online_recovery": 0x20, "feed_button_pressed": 0x40},
    2: {"cover_open": 0x04, "feeding_by_button": 0x08, "stopped_paper_end": 0x20, "error": 0x40},
    3: {"recoverable_error": 0x04, "autocutter_error": 0x08, "unrecoverable_error": 0x20,
        "auto_recoverable_error": 0x40},
    4: {"paper_near_end": 0x0C, "paper_end": 0x60},
}


@dataclass(frozen=True)
class StatusByte:
    """One decoded DLE EOT reply. A garbled byte has no flags: it says nothing about the printer."""

    n: int
    raw: int
    garbled: bool
    flags: dict[str, bool] = field(default_factory=dict)

    def __getitem__(self, name: str) -> bool:
        return self.flags[name]


def is_status_byte(byte: int) -> bool:
    return byte & _FIXED_MASK == _FIXED_VALUE


def is_paper_sensor_byte(byte: int) -> bool:
    return byte & _FIXED_MASK == _SENSOR_VALUE


def decode_status(n: int, byte: int) -> StatusByte:
    """Decode the reply to DLE EOT n. Two-bit fields (paper near-end/end) count as set if either
    bit is: a printer that reports half a paper warning is still warning."""
    if n not in _BITS:
        raise ValueError(f"status query n must be 1..4, got {n}")
    if not 0 <= byte <= 0xFF:
        raise ValueError(f"status reply must be one byte, got {byte}")
    if not is_status_byte(byte):
        return StatusByte(n, byte, garbled=True)
    return StatusByte(n, byte, garbled=False, flags={k: bool(byte & m) for k, m in _BITS[n].items()})
