"""Free space on the edge's data directory (statvfs), as a status: ok, `disk_low`, `storage_full`.

Below the warning level the edge reports `disk_low` (degraded: someone should come and look); below the
critical level it refuses new submissions (507 `storage_full`) so the space left goes to what is already
queued — forwarding it, recording the acknowledgement, checkpointing the WAL — and nothing half-written is
ever acknowledged to a resident. An SQLITE_FULL during a write is answered the same way (`is_disk_full`).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from kiosk.status import OK, Level, Status, StatusSource

MB = 1024 * 1024

# bo: to be reviewed by the translators
_LOW = ("ཉར་ཚགས་ས་སྟོང་ཉུང་དུ་ཕྱིན།", "存储空间不足", "Storage space is running low")
_FULL = ("ཉར་ཚགས་ས་སྟོང་ཁེངས་ཚར། ཞུ་ཡིག་གསར་པ་ལེན་མི་ཐུབ།", "存储空间已满，暂停接收新申请",
         "Storage is full: new applications are refused until space is freed")


def is_disk_full(e: BaseException) -> bool:
    """SQLite's SQLITE_FULL, or the OS's ENOSPC / EDQUOT."""
    if isinstance(e, sqlite3.Error):
        return getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(e)
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)


class StorageGuard:
    """Reads the free space of the filesystem holding `path`; thresholds in MiB (free for unprivileged
    writers: f_bavail, the edge runs as its own user)."""

    def __init__(self, path: Path, warn_free_mb: float, critical_free_mb: float) -> None:
        self.path = Path(path)
        self.warn_bytes = int(warn_free_mb * MB)
        self.critical_bytes = int(critical_free_mb * MB)
        self.source = StatusSource("storage")  # logs each change once

    def free_bytes(self) -> int | None:
        try:
            st = os.statvfs(self.path)
        except OSError:
            return None
        return st.f_bavail * st.f_frsize

    def check(self) -> Status:
        """The current status (and the source updated, so a change is logged)."""
        free = self.free_bytes()
        if free is None:  # cannot tell: do not refuse residents on a guess
            status = OK
        elif free < self.critical_bytes:
            status = Status(Level.FAULT, "storage_full", _FULL[1], _FULL[0], _FULL[2])
        elif free < self.warn_bytes:
            status = Status(Level.DEGRADED, "disk_low", _LOW[1], _LOW[0], _LOW[2])
        else:
            status = OK
        self.source.set_status(status)
        return self.source.status()

    def full(self) -> bool:
        return self.check().code == "storage_full"

    def as_dict(self) -> dict:
        """For /api/v1/status (and so the fleet's `storage` component): the status and the free space."""
        status = self.check().as_dict()
        free = self.free_bytes()
        return {**status, "free_mb": round(free / MB, 1) if free is not None else None}
