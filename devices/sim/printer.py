"""An ESC/POS receipt printer on a pty: answers DLE EOT status queries and turns raster data
back into page images, so tests can read a printed receipt with OpenCV.

The parser is streaming (a command may arrive split over several reads, as it does on a real
serial line). Like a real printer, it prints nothing while the paper is out, the cover is open,
it is offline or its cutter has failed: that data is discarded and counted.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np

from devices.sim.pty import PtyDevice

Paper = Literal["ok", "near_end", "out"]

ESC, GS, DLE, LF = 0x1B, 0x1D, 0x10, 0x0A
LINE_DOTS = 30  # default line feed pitch (ESC 2, 1/6 inch at 203 dpi ~ 34; many models use 30)
GARBLED_BYTE = 0xFF  # fails the 0xx1xx10 pattern, as line noise or a wrong baud rate would

# Total length of fixed-size commands, keyed by the byte after ESC / GS.
_ESC_LEN = {0x40: 2, 0x32: 2, 0x3C: 2, 0x61: 3, 0x64: 3, 0x45: 3, 0x21: 3, 0x2D: 3, 0x33: 3, 0x4A: 3,
            0x74: 3, 0x4D: 3, 0x52: 3, 0x7B: 3, 0x47: 3, 0x56: 3, 0x20: 3, 0x63: 4, 0x70: 5, 0x24: 4}
_GS_LEN = {0x21: 3, 0x42: 3, 0x48: 3, 0x66: 3, 0x68: 3, 0x77: 3, 0x61: 3, 0x49: 3,
           0x4C: 4, 0x57: 4}
_CUT_WITH_FEED = {0x41, 0x42, 0x61, 0x62, 0x67, 0x68}  # GS V m n: feed n then cut


class PrinterSim:
    """Settable state: paper, cover_open, offline, cutter_error, silent, garbled and
    paper_remaining_rows (None = endless roll; at 0 the paper runs out mid-job)."""

    def __init__(self, link_dir: Path | str | None = None, width_dots: int = 576, name: str = "printer"):
        self.width_dots = width_dots
        self.paper: Paper = "ok"
        self.cover_open = False
        self.offline = False
        self.cutter_error = False
        self.silent = False
        self.garbled = False
        self.paper_remaining_rows: int | None = None
        self.pages: list[np.ndarray] = []
        self.cuts = 0
        self.bytes_received = 0
        self.status_queries = 0
        self.discarded_rows = 0  # raster/feed rows the printer could not print
        self.discarded_bytes = 0  # raster data bytes received while it could not print
        self.unknown_commands = 0
        self.on_page: Callable[[np.ndarray], None] | None = None
        self._buf = bytearray()
        self._rows: list[np.ndarray] = []  # the page being printed, bands of uint8 rows
        self._lock = threading.Lock()
        self._device = PtyDevice(name, self.feed, Path(link_dir) if link_dir else None)

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def path(self) -> str:
        return self._device.path

    def start(self) -> PrinterSim:
        self._device.start()
        return self

    def stop(self) -> None:
        self._device.stop()

    def unplug(self) -> None:
        self._device.unplug()

    def plug(self) -> None:
        self._buf.clear()
        self._device.plug()

    def __enter__(self) -> PrinterSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state ----------------------------------------------------------------------------------
    def can_print(self) -> bool:
        return self.paper != "out" and not (self.cover_open or self.offline or self.cutter_error)

    def status_byte(self, n: int) -> int:
        """The reply to DLE EOT n for the current state (bit table in shared/DEVICES.md)."""
        out = self.paper == "out"
        byte = 0x12
        if n == 1:
            if not self.can_print():
                byte |= 0x08
            if self.cutter_error:
                byte |= 0x20
        elif n == 2:
            byte |= (0x04 if self.cover_open else 0) | (0x20 if out else 0) | (0x40 if self.cutter_error else 0)
        elif n == 3:
            byte |= 0x08 if self.cutter_error else 0
        elif n == 4:
            byte |= 0x6C if out else (0x0C if self.paper == "near_end" else 0)
        return byte

    def save_pages(self, directory: Path | str) -> list[Path]:
        import cv2

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for i, page in enumerate(list(self.pages), 1):
            path = out / f"page-{i:04d}.png"
            if not cv2.imwrite(str(path), page):
                raise OSError(f"could not write {path}")
            paths.append(path)
        return paths

    # -- wire -----------------------------------------------------------------------------------
    def feed(self, data: bytes) -> bytes | None:
        """Everything the driver wrote; returns the bytes the printer answers with."""
        replies = bytearray()
        pages: list[np.ndarray] = []
        with self._lock:
            self.bytes_received += len(data)
            self._buf += data
            while self._buf:
                used = self._parse_one(replies, pages)
                if used == 0:
                    break  # incomplete command: wait for the rest
                del self._buf[:used]
        for page in pages:
            if self.on_page:
                self.on_page(page)
        return bytes(replies) or None

    def _parse_one(self, replies: bytearray, pages: list[np.ndarray]) -> int:
        buf = self._buf
        b0 = buf[0]
        if b0 == DLE:
            return self._parse_dle(replies)
        if b0 == ESC:
            return self._parse_esc()
        if b0 == GS:
            return self._parse_gs(replies, pages)
        if b0 == LF:
            self._print_rows(np.full((LINE_DOTS, self.width_dots), 255, np.uint8))
        return 1  # text and other single bytes: consumed (no text font in this simulator)

    def _parse_dle(self, replies: bytearray) -> int:
        if len(self._buf) < 3:
            return 0
        cmd, n = self._buf[1], self._buf[2]
        if cmd == 0x04:
            self.status_queries += 1
            if not self.silent and 1 <= n <= 4:
                replies.append(GARBLED_BYTE if self.garbled else self.status_byte(n))
            return 3
        if cmd == 0x14:  # DLE DC4 fn m t (real-time pulse / power off)
            return 5 if len(self._buf) >= 5 else 0
        if cmd != 0x05:
            self.unknown_commands += 1
        return 3

    def _parse_esc(self) -> int:
        if len(self._buf) < 2:
            return 0
        cmd = self._buf[1]
        size = _ESC_LEN.get(cmd, 2)
        if cmd not in _ESC_LEN:
            self.unknown_commands += 1
        if len(self._buf) < size:
            return 0
        if cmd == 0x64:  # ESC d n: feed n lines
            self._print_rows(np.full((LINE_DOTS * self._buf[2], self.width_dots), 255, np.uint8))
        elif cmd == 0x4A:  # ESC J n: feed n dots
            self._print_rows(np.full((self._buf[2], self.width_dots), 255, np.uint8))
        return size

    def _parse_gs(self, replies: bytearray, pages: list[np.ndarray]) -> int:
        buf = self._buf
        if len(buf) < 2:
            return 0
        cmd = buf[1]
        if cmd == 0x76:  # GS v 0 m xL xH yL yH data
            if len(buf) >= 3 and buf[2] != 0x30:
                self.unknown_commands += 1
                return 2
            if len(buf) < 8:
                return 0
            x_bytes, rows = buf[4] | buf[5] << 8, buf[6] | buf[7] << 8
            size = 8 + x_bytes * rows
            if len(buf) < size:
                return 0
            self._raster(buf[3], x_bytes, rows, bytes(buf[8:size]))
            return size
        if cmd == 0x56:  # GS V m [n]: cut
            if len(buf) < 3:
                return 0
            size = 4 if buf[2] in _CUT_WITH_FEED else 3
            if len(buf) < size:
                return 0
            if size == 4:
                self._print_rows(np.full((buf[3], self.width_dots), 255, np.uint8))
            self._cut(pages)
            return size
        if cmd == 0x28:  # GS ( X pL pH ...: QR codes, graphics, etc.
            if len(buf) < 5:
                return 0
            size = 5 + (buf[3] | buf[4] << 8)
            return size if len(buf) >= size else 0
        if cmd == 0x72:  # GS r n: transmit status, answered only once the data before it is printed
            if len(buf) < 3:
                return 0
            if buf[2] in (1, 49) and self.can_print() and not self.silent:
                sensor = 0x0C if self.paper == "near_end" else 0x00  # pattern 0xx0xx00
                replies.append(GARBLED_BYTE if self.garbled else sensor)
            return 3
        size = _GS_LEN.get(cmd, 2)
        if cmd not in _GS_LEN:
            self.unknown_commands += 1
        return size if len(buf) >= size else 0

    def _raster(self, mode: int, x_bytes: int, rows: int, data: bytes) -> None:
        if not self.can_print():
            self.discarded_bytes += len(data)
            self.discarded_rows += rows
            return
        packed = np.frombuffer(data, dtype=np.uint8).reshape(rows, x_bytes)
        black = np.unpackbits(packed, axis=1)  # MSB first, 1 = black
        if mode & 1:  # double width
            black = np.repeat(black, 2, axis=1)
        if mode & 2:  # double height
            black = np.repeat(black, 2, axis=0)
        black = black[:, : self.width_dots]  # the head cannot print past the paper
        self._print_rows(np.where(black == 1, 0, 255).astype(np.uint8))

    def _print_rows(self, rows: np.ndarray) -> None:
        if not self.can_print():
            self.discarded_rows += rows.shape[0]
            return
        if self.paper_remaining_rows is not None:
            fit = min(rows.shape[0], self.paper_remaining_rows)
            self.discarded_rows += rows.shape[0] - fit
            rows = rows[:fit]
            self.paper_remaining_rows -= fit
            if self.paper_remaining_rows == 0:
                self.paper = "out"
        if rows.shape[0]:
            self._rows.append(rows)

    def _cut(self, pages: list[np.ndarray]) -> None:
        if not self.can_print():
            return  # no cut happens; what did print stays on the roll until the next cut
        self.cuts += 1
        if not self._rows:
            return
        width = max(r.shape[1] for r in self._rows)
        page = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1])), constant_values=255) for r in self._rows])
        self._rows = []
        self.pages.append(page)
        pages.append(page)


# -- `kiosk sim printer` ------------------------------------------------------------------------
_HELP = ("commands: paper ok|near_end|out, cover open|closed, silent on|off, offline on|off, "
         "cutter ok|error, garbled on|off, status, quit")


def apply_command(sim: PrinterSim, line: str) -> str:
    """One stdin command; returns what to print back."""
    words = line.split()
    if not words:
        return ""
    match words:
        case ["paper", ("ok" | "near_end" | "out") as v]:
            sim.paper = v
        case ["cover", ("open" | "closed") as v]:
            sim.cover_open = v == "open"
        case ["silent", ("on" | "off") as v]:
            sim.silent = v == "on"
        case ["offline", ("on" | "off") as v]:
            sim.offline = v == "on"
        case ["garbled", ("on" | "off") as v]:
            sim.garbled = v == "on"
        case ["cutter", ("ok" | "error") as v]:
            sim.cutter_error = v == "error"
        case ["status"]:
            pass
        case _:
            return f"? {_HELP}"
    return (f"paper={sim.paper} cover_open={sim.cover_open} offline={sim.offline} "
            f"cutter_error={sim.cutter_error} silent={sim.silent} garbled={sim.garbled} "
            f"pages={len(sim.pages)} cuts={sim.cuts} discarded_rows={sim.discarded_rows}")


def _run(args: argparse.Namespace) -> int:
    import cv2

    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    sim = PrinterSim(link_dir=args.link_dir, width_dots=args.width)
    done = threading.Event()

    printed = itertools.count(1)

    def save(page: np.ndarray) -> None:
        n = next(printed)
        if out:
            path = out / f"page-{n:04d}.png"
            cv2.imwrite(str(path), page)
            print(f"page {n} printed ({page.shape[1]}x{page.shape[0]}): {path}", flush=True)
        else:
            print(f"page {n} printed ({page.shape[1]}x{page.shape[0]})", flush=True)

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip() == "quit":
                break
            reply = apply_command(sim, line)
            if reply:
                print(reply, flush=True)
        else:
            return  # end of input: keep serving until signalled (`kiosk sim printer &` works)
        done.set()

    sim.on_page = save
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with sim:
        print(sim.path, flush=True)
        print(_HELP, file=sys.stderr, flush=True)
        threading.Thread(target=read_stdin, name="sim-printer-stdin", daemon=True).start()
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


def register_cli(ssub: argparse._SubParsersAction) -> None:
    p = ssub.add_parser("printer", help="ESC/POS receipt printer simulator on a pty")
    p.add_argument("--out", help="write every printed page here as a PNG")
    p.add_argument("--link-dir", help="directory for the stable port symlink (default: a temp dir)")
    p.add_argument("--width", type=int, default=576, help="print width in dots (default 576)")
    p.set_defaults(func=_run)
