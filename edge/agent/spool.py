"""The agent's event spool: every event is on disk before it is published, and leaves only on PUBACK.

paho keeps unacknowledged QoS 1 messages in memory only, so a process restart would lose them; this
SQLite file (WAL, synchronous=FULL) holds them instead. Sequence numbers are assigned in the same
transaction that stores the event, so a restart can neither lose one nor reuse one. Bounded: past
`max_events` the oldest are dropped and counted (the count is persistent and reported).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

from kiosk import fleet_wire
from kiosk.durable import write_transaction
from kiosk.wire import now_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# meta keys
NEXT_SEQ = "next_seq"
EVICTED_TOTAL = "evicted_total"
EVICTED_UNREPORTED = "evicted_unreported"  # evicted since the last spool_evicted event
EVICTED_FIRST, EVICTED_LAST = "evicted_first_seq", "evicted_last_seq"  # range since the last report
COMPONENTS = "components"  # the last component snapshot the events were diffed against


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


class Spool:
    def __init__(self, path: Path, kiosk_id: str, max_events: int = 10_000) -> None:
        if max_events < 1:
            raise ValueError("the spool must hold at least one event")
        self.kiosk_id = kiosk_id
        self.max_events = max_events
        self._lock = threading.Lock()
        self._db = connect(path)
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- meta ----------------------------------------------------------------------------------
    def _get(self, key: str, default: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _set(self, key: str, value: str | int) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                         "value = excluded.value", (key, str(value)))

    def components(self) -> dict[str, list[str]] | None:
        """The last snapshot diffed against ({name: [level, code]}), None before the first one."""
        with self._lock:
            raw = self._get(COMPONENTS, "")
        return json.loads(raw) if raw else None

    # --- events --------------------------------------------------------------------------------
    def _append(self, kind: str, bounded: bool, **fields: Any) -> fleet_wire.Event:
        seq = int(self._get(NEXT_SEQ, "1"))
        event = fleet_wire.Event(id=uuid.uuid4().hex, kiosk_id=self.kiosk_id, seq=seq, at=now_iso(),
                                 kind=kind, **fields)
        self._db.execute("INSERT INTO events (seq, id, body) VALUES (?, ?, ?)",
                         (seq, event.id, fleet_wire.encode(event)))
        self._set(NEXT_SEQ, seq + 1)
        if bounded:
            self._evict()
        return event

    def _evict(self) -> None:
        over = self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0] - self.max_events
        if over <= 0:
            return
        seqs = [r[0] for r in self._db.execute("SELECT seq FROM events ORDER BY seq LIMIT ?", (over,))]
        self._db.execute("DELETE FROM events WHERE seq <= ?", (seqs[-1],))
        self._set(EVICTED_TOTAL, int(self._get(EVICTED_TOTAL, "0")) + len(seqs))
        unreported = int(self._get(EVICTED_UNREPORTED, "0"))
        if unreported == 0:
            self._set(EVICTED_FIRST, seqs[0])
        self._set(EVICTED_UNREPORTED, unreported + len(seqs))
        self._set(EVICTED_LAST, seqs[-1])

    def append(self, kind: str, **fields: Any) -> fleet_wire.Event:
        with self._lock, write_transaction(self._db):
            return self._append(kind, True, **fields)

    def record_components(self, snapshot: dict[str, list[str]],
                          events: list[dict[str, Any]]) -> list[fleet_wire.Event]:
        """Store the status events of one snapshot and the snapshot itself in one transaction: a crash
        between them could otherwise report a change twice or never."""
        with self._lock, write_transaction(self._db):
            out = [self._append("status", True, **e) for e in events]
            self._set(COMPONENTS, json.dumps(snapshot, sort_keys=True))
            return out

    def append_eviction_notice(self) -> fleet_wire.Event | None:
        """One `spool_evicted` event for the evictions since the last notice, or None if there were none.
        It may take the spool one over its bound: evicting for the notice would need another notice."""
        with self._lock, write_transaction(self._db):
            count = int(self._get(EVICTED_UNREPORTED, "0"))
            if count == 0:
                return None
            details = {"count": count, "total": int(self._get(EVICTED_TOTAL, "0")),
                       "first_seq": int(self._get(EVICTED_FIRST, "0")),
                       "last_seq": int(self._get(EVICTED_LAST, "0")), "max_events": self.max_events}
            self._set(EVICTED_UNREPORTED, 0)
            return self._append("spool_evicted", False, level="degraded", code="spool_evicted",
                                message=fleet_wire.Message(
                                    zh=f"离线期间事件过多，已丢弃最早的 {count} 条",
                                    bo=f"དྲ་རྒྱ་མེད་སྐབས་བྱ་བ་ {count} བསུབས།",
                                    en=f"{count} oldest events dropped while offline (spool full)"),
                                details=details)

    def pending(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` spooled events with seq > `after_seq`, in seq order."""
        with self._lock:
            return [(r[0], bytes(r[1])) for r in self._db.execute(
                "SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit))]

    def acked(self, seq: int) -> None:
        with self._lock, write_transaction(self._db):
            self._db.execute("DELETE FROM events WHERE seq = ?", (seq,))

    def depth(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def evicted_total(self) -> int:
        with self._lock:
            return int(self._get(EVICTED_TOTAL, "0"))
