"""Writes that survive kill -9 and power loss: atomic file replacement and SQLite write transactions.

Shared by the edge store and outbox, the maintenance lock, the pack publisher and the reference
platform, so each of them gets the same fsync discipline.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make a rename or new entry in `path` durable (the directory's own metadata)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace `path` with `data`: readers see the old file or the new one, never a torn one.

    The temporary file has a unique name (two writers never share it) and is removed if the write fails.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


@contextlib.contextmanager
def write_transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE (one writer at a time); COMMIT when the block ends, even by return; ROLLBACK if
    it raises. The connection must be in autocommit mode (isolation_level=None)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    try:
        db.execute("COMMIT")
    except BaseException:  # e.g. SQLITE_FULL: SQLite may leave the transaction open; never keep half of it
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
