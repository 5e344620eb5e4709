"""Progress for long admin work: a live line on a terminal, a line per 10% in logs and pipes."""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    """Call with (done, total); usable as the `progress` callback of publish.py's functions."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = 0  # last tenth reported (non-TTY)

    def __call__(self, done: int, total: int) -> None:
        if total <= 0:
            return
        pct = done * 100 // total
        if self.tty:
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{self.label}: {done}/{total} ({pct}%){end}")
        elif pct // 10 > self._last:
            self._last = pct // 10
            self.stream.write(f"{self.label}: {self._last * 10}%\n")
        self.stream.flush()
