"""The edge's copy of the last social-insurance payment records the platform gave each resident,
so a lookup still answers (with "as of" that time) while the WAN is down.

Keyed by the keyed ID hash (HMAC under the per-edge secret, `Outbox.id_hash`), never the ID number:
the file alone does not say whose records these are. One row per resident, replaced by every fresh
answer; rows older than `max_age_s` are neither served nor kept (secure_delete overwrites them).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payments_cache (
    id_hash   TEXT PRIMARY KEY,
    as_of     TEXT NOT NULL,
    as_of_ts  REAL NOT NULL,
    payments  TEXT NOT NULL
);
"""
MAX_AGE_S = 30 * 86400  # a month: long enough for any WAN outage, short enough not to hoard records


class PaymentCache:
    """Thread-safe (the API calls it from worker threads): one connection behind a lock."""

    def __init__(self, path: Path, max_age_s: float = MAX_AGE_S) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # owner-only from the start; SQLite gives its -wal/-shm the same mode
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "secure_delete=ON"):
            self._db.execute(f"PRAGMA {pragma}")  # NORMAL: losing the last cached answer to a power cut is fine
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, id_hash: str, payments: list[dict], as_of: str) -> None:
        """Keep `payments` (records without any ID) as the platform's answer at `as_of` (UTC ISO-8601)."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM payments_cache WHERE as_of_ts < ?", (now - self.max_age_s,))
                self._db.execute("INSERT OR REPLACE INTO payments_cache VALUES (?,?,?,?)",
                                 (id_hash, as_of, now, json.dumps(payments, ensure_ascii=False)))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def get(self, id_hash: str) -> tuple[str, list[dict]] | None:
        """(as_of, payments) of the last answer for this resident, or None if none is fresh enough."""
        with self._lock:
            row = self._db.execute("SELECT as_of, payments FROM payments_cache WHERE id_hash = ? AND as_of_ts >= ?",
                                   (id_hash, time.time() - self.max_age_s)).fetchone()
        return (row[0], json.loads(row[1])) if row else None
