"""Append-only audit log of maintenance actions: one JSON object per line, fsync'd per entry.

What is recorded: PIN attempts and their outcome, self-tests and their result, the maintenance
screen opening and closing. What never is: the PIN, ID numbers, names, photos. Field names that
would carry them are refused outright, and every string passes the ID-number scrubber, so a
mistake in a caller fails loudly in tests instead of leaking on a kiosk. Each entry also goes to
stdlib logging (the journal), so a broken disk still leaves a trace.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from kiosk.log import scrub

log = logging.getLogger(__name__)

Scalar = str | int | float | bool | None

_EVENT_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_FIELD_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_FORBIDDEN = {"pin", "pin_hash", "digits", "id_number", "id", "name", "photo", "address"}
_MAX_TEXT = 200


class AuditLog:
    """record(event, **fields) appends one line; safe to call from any thread."""

    def __init__(self, path: Path | str, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()

    def record(self, event: str, **fields: Scalar) -> dict[str, Scalar]:
        """Append an entry and return it. A disk error is logged, not raised: maintenance goes on."""
        entry = self._entry(event, fields)
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        log.info("maintenance audit", extra={"audit": entry})
        with self._lock:
            try:
                self._append(line.encode())
            except OSError as e:
                log.error("cannot write audit log", extra={"audit_path": str(self.path), "error": e.strerror})
        return entry

    def _entry(self, event: str, fields: dict[str, Scalar]) -> dict[str, Scalar]:
        if not _EVENT_RE.match(event):
            raise ValueError(f"bad audit event name {event!r}")
        entry: dict[str, Scalar] = {"ts": self._clock().isoformat(timespec="milliseconds"), "event": event}
        for key, value in fields.items():
            if not _FIELD_RE.match(key) or key in _FORBIDDEN or key in entry:
                raise ValueError(f"audit field {key!r} is not allowed")
            if not isinstance(value, Scalar):
                raise TypeError(f"audit field {key!r} must be a plain value, not {type(value).__name__}")
            entry[key] = scrub(value)[:_MAX_TEXT] if isinstance(value, str) else value
        return entry

    def _append(self, data: bytes) -> None:
        new = not self.path.exists()
        if new:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: one write() lands whole at the end, even with another writer on the file.
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a line torn by a power cut stays alone; this entry stays whole
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:  # make the new directory entry durable too
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def read_entries(path: Path | str) -> list[dict[str, Scalar]]:
    """All whole entries in order; a torn last line (power cut mid-write) is skipped, not fatal."""
    p = Path(path)
    if not p.exists():
        return []
    entries = []
    for n, raw in enumerate(p.read_bytes().splitlines(), 1):
        try:
            entry = json.loads(raw)
        except ValueError:
            log.warning("skipping unreadable audit line", extra={"audit_path": str(p), "line": n})
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
