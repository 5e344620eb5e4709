"""The audit trail: a hash-chained log of security-relevant events in one SQLite file.

What is recorded: maintenance screen entries (PIN attempts and outcome, self-tests, opening and
closing), content and config changes, fleet commands and their outcome, rejected signatures,
resident sessions starting and ending (service, language, how it ended). What never is: the PIN, ID
numbers, names, photos. Field names that would carry them are refused outright and every string
passes the ID-number scrubber, so a mistake in a caller fails loudly in tests instead of leaking on a
kiosk. Each entry also goes to stdlib logging (the journal), so a broken disk still leaves a trace.

Two processes on one box (the UI and the edge) append to the same file: each append is one BEGIN
IMMEDIATE transaction that reads the head and writes the next entry (WAL, synchronous=FULL), so the
chain stays one chain. See kiosk/audit_chain.py for the hashing; `kiosk audit verify` checks it. A file
that cannot be read is reported and left alone — never reset, since a reset would erase the evidence.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.audit_chain import GENESIS, Entry, Head, canonical, entry_hash
from kiosk.durable import fsync_dir, write_transaction
from kiosk.log import scrub

log = logging.getLogger(__name__)

Scalar = str | int | float | bool | None
Clock = Callable[[], tuple[datetime, bool]]  # (now, is this time trusted)

_EVENT_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_FIELD_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_FORBIDDEN = {"pin", "pin_hash", "digits", "id_number", "id", "name", "full_name", "photo", "address",
              "phone", "birth_date", "card_number"}
_RESERVED = {"seq", "time", "time_trusted", "event", "hash", "prev_hash"}
_MAX_TEXT = 200
BUSY_TIMEOUT_S = 10.0  # the other process holds the write lock for one insert: milliseconds

_SCHEMA = ("CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, "
           "time_trusted INTEGER NOT NULL, event TEXT NOT NULL, fields TEXT NOT NULL, "
           "prev_hash TEXT NOT NULL, hash TEXT NOT NULL)")
_COLUMNS = "seq, time, time_trusted, event, fields, prev_hash, hash"


class AuditError(Exception):
    """The log file cannot be read or written as an audit log; the message says why in one line."""


def system_clock() -> tuple[datetime, bool]:
    """Until a trusted clock is wired in (see clock_of), the system clock, flagged as not trusted."""
    return datetime.now(UTC), False


def clock_of(trusted: Any) -> Clock:
    """An audit clock from kiosk.trusted_time.TrustedClock: its trusted time when it has one, else the
    system clock flagged untrusted (an entry always gets a time; the flag says how much it is worth)."""
    def now() -> tuple[datetime, bool]:
        try:
            reading = trusted.now()
        except Exception:  # a failing clock must not lose the entry
            log.exception("trusted clock failed")
            return system_clock()
        return (reading.at, True) if reading.at is not None else (reading.system, False)
    return now


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds")


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(_SCHEMA)
    except sqlite3.DatabaseError as e:
        db.close()
        raise AuditError(f"{path}: not a readable audit log ({e})") from None
    return db


@contextmanager
def _open(path: Path, *, create: bool) -> Iterator[sqlite3.Connection | None]:
    """A connection for one operation (so a file replaced under us is noticed, not written blind);
    None when the log does not exist and `create` is off."""
    if not path.exists():
        if not create:
            yield None
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # 0660 (less the umask) before SQLite makes it 0644: the UI (user kiosk) and the edge (user kiosk-edge)
        # append to one log through the kiosk-audit group (systemd/: UMask=0007, directory 2770)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o660))
        fsync_dir(path.parent)
    try:
        with closing(_connect(path)) as db:
            yield db
    except sqlite3.DatabaseError as e:
        raise AuditError(f"{path}: not a readable audit log ({e})") from None


class AuditLog:
    """record(event, **fields) appends one entry; safe from any thread and from several processes."""

    def __init__(self, path: Path | str, *, clock: Clock = system_clock) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._last: Head | None = None  # what this process last wrote: a log that shrank since is reported

    def record(self, event: str, **fields: Scalar) -> dict[str, Any]:
        """Append an entry and return it (flat). A disk or file error is logged, not raised: maintenance and
        residents go on. A bad event or field name raises: that is a bug in the caller."""
        clean = self._check(event, fields)
        log.info("audit", extra={"audit": {"event": event, **clean}})
        with self._lock:
            try:
                return self._append(event, clean).flat()
            except (OSError, AuditError, sqlite3.Error) as e:
                log.error("cannot write audit log", extra={"audit_path": str(self.path),
                                                           "error": getattr(e, "strerror", None) or str(e)})
        now, trusted = self._clock()
        return {**clean, "seq": None, "time": _iso(now), "time_trusted": trusted, "event": event}

    @staticmethod
    def _check(event: str, fields: dict[str, Scalar]) -> dict[str, Scalar]:
        if not _EVENT_RE.match(event):
            raise ValueError(f"bad audit event name {event!r}")
        out: dict[str, Scalar] = {}
        for key, value in fields.items():
            if not _FIELD_RE.match(key) or key in _FORBIDDEN or key in _RESERVED:
                raise ValueError(f"audit field {key!r} is not allowed")
            if not isinstance(value, Scalar):
                raise TypeError(f"audit field {key!r} must be a plain value, not {type(value).__name__}")
            if isinstance(value, float) and value != value:
                value = None  # NaN has no canonical JSON
            if isinstance(value, int) and not isinstance(value, bool) and scrub(str(value)) != str(value):
                value = str(value)  # an ID number passed as a number is scrubbed like one in text
            out[key] = scrub(value)[:_MAX_TEXT] if isinstance(value, str) else value
        return out

    def _append(self, event: str, fields: dict[str, Scalar]) -> Entry:
        with _open(self.path, create=True) as db:
            assert db is not None
            with write_transaction(db):
                row = db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
                head = Head(row[0], row[1]) if row else None
                if self._last is not None and (head is None or head.seq < self._last.seq):
                    log.error("audit log went backwards: entries were removed", extra={
                        "audit_path": str(self.path), "expected_seq": self._last.seq,
                        "found_seq": head.seq if head else 0})
                seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
                now, trusted = self._clock()
                time = _iso(now)
                h = entry_hash(seq, time, trusted, event, fields, prev)
                db.execute(f"INSERT INTO entries ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (seq, time, int(trusted), event, canonical(fields), prev, h))
        self._last = Head(seq, h)
        return Entry(seq, time, trusted, event, fields, prev, h)

    def head(self) -> Head | None:
        return read_head(self.path)


def read_head(path: Path | str) -> Head | None:
    """The newest entry's seq and hash; None for a log not written yet. AuditError when unreadable."""
    with _open(Path(path), create=False) as db:
        if db is None:
            return None
        row = db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    return Head(int(row[0]), str(row[1])) if row else None


def raw_rows(path: Path | str, last: int | None = None) -> list[tuple[Any, ...]]:
    """Rows as stored, in seq order (the last `last` only); [] for no file. AuditError when unreadable."""
    with _open(Path(path), create=False) as db:
        if db is None:
            return []
        if last is not None:
            rows = db.execute(f"SELECT {_COLUMNS} FROM entries ORDER BY seq DESC LIMIT ?", (last,)).fetchall()
            return rows[::-1]
        return db.execute(f"SELECT {_COLUMNS} FROM entries ORDER BY seq").fetchall()


def read_entries(path: Path | str) -> list[dict[str, Any]]:
    """All entries, oldest first, as flat dicts (fields beside seq, time, time_trusted, event)."""
    return [Entry(r[0], r[1], bool(r[2]), r[3], json.loads(r[4]), r[5], r[6]).flat() for r in raw_rows(path)]


def status(path: Path | str) -> dict[str, Any]:
    """For the edge's status document (and so the fleet state): the head as "seq:hash", or the error."""
    try:
        head = read_head(path)
    except (AuditError, OSError, sqlite3.Error) as e:
        return {"head": None, "error": str(e)[:200]}
    return {"head": str(head) if head else None, "error": None}


def path_for(cfg: Any) -> Path:
    """Where this kiosk's log lives: `[audit] path`, else <edge.data_dir>/../audit/audit.sqlite3 (with the
    defaults /var/lib/kiosk/audit/audit.sqlite3), a directory of its own that the UI and the edge share."""
    configured = getattr(getattr(cfg, "audit", None), "path", None)
    return Path(configured) if configured else Path(cfg.edge.data_dir).parent / "audit" / "audit.sqlite3"


# --- the process's log, for one-line calls from anywhere (edge sync, agent, config apply) ------------
_default: AuditLog | None = None


def configure(path: Path | str, clock: Clock = system_clock) -> AuditLog:
    """Set this process's log (done once by each entry point: `kiosk edge serve`, `kiosk ui`, ...)."""
    global _default
    _default = AuditLog(path, clock=clock)
    return _default


def event(name: str, **fields: Scalar) -> None:
    """Record into this process's log; with none configured, only the journal line is written."""
    if _default is not None:
        _default.record(name, **fields)
    else:
        log.info("audit", extra={"audit": {"event": name, **AuditLog._check(name, fields)}})
