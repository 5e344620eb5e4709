"""The submission outbox: what residents handed in, kept on disk until the platform has it.

One SQLite file (WAL, synchronous=FULL so a commit survives power loss, secure_delete so removed
PII is overwritten, not just unlinked from the page list). Two tables with two jobs:

- `outbox`: items still to forward (applications, feedback, usage events) with their payload,
  attempts and next attempt time. The payload is the only place PII (name, ID number, photo)
  lives at the edge; the row is deleted as soon as the platform acknowledges it.
- `submissions`: the edge's lasting record of every accepted item: tracking number, idempotency
  key, service, status history, and an HMAC of the applicant's ID number (per-edge secret key),
  so a resident can look up their applications while the WAN is down without the edge keeping
  the ID number itself.

Items the platform refuses for good stay in the outbox as dead letters (status shows them,
`requeue` sends them again after staff fixed the cause): nothing is dropped silently. After the
retention (`edge.dead_letter_retention_days`) a dead letter's payload is wiped: only its tracking
number, service and reason stay, and it can no longer be requeued.

Each application also records when its receipt was shown to the resident (`shown_at`); one never
shown (the kiosk crashed between the commit and the receipt) is listed by `unconfirmed()` so staff
can tell the resident their number.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk import idnumber, wire
from kiosk.durable import atomic_write, write_transaction

KIND_APPLICATION = "application"
KIND_FEEDBACK = "feedback"
KIND_EVENT = "event"
KINDS = (KIND_APPLICATION, KIND_FEEDBACK, KIND_EVENT)
UNCONFIRMED_GRACE_S = 120  # a receipt is normally shown within seconds; after this staff should know
WIPED_PAYLOAD = {"wiped": True}  # what a dead letter's payload becomes after the retention

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    idempotency_key   TEXT PRIMARY KEY,
    tracking_number   TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL,
    service_id        TEXT,
    id_hash           TEXT,
    fingerprint       TEXT NOT NULL,
    status            TEXT NOT NULL,
    status_history    TEXT NOT NULL,
    created           TEXT NOT NULL,
    updated           TEXT NOT NULL,
    forwarded_at      TEXT,
    status_checked_at TEXT,
    platform_ref      TEXT,
    dead_reason       TEXT,
    shown_at          TEXT,
    accepted_at       TEXT
);
CREATE INDEX IF NOT EXISTS submissions_id_hash ON submissions(id_hash);
CREATE TABLE IF NOT EXISTS outbox (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key   TEXT NOT NULL UNIQUE REFERENCES submissions(idempotency_key),
    kind              TEXT NOT NULL,
    payload           TEXT NOT NULL,
    created_ts        REAL NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   REAL NOT NULL DEFAULT 0,
    last_error        TEXT,
    dead              INTEGER NOT NULL DEFAULT 0,
    internal_errors   INTEGER NOT NULL DEFAULT 0,
    dead_at           REAL,
    wiped_at          REAL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(dead, next_attempt_at, seq);
"""
# Columns added after the first release: (table, column, declaration, backfill for existing rows).
# Existing records' receipts count as shown; existing dead letters' retention starts at the upgrade.
_ADDED_COLUMNS = (
    ("submissions", "shown_at", "TEXT", "UPDATE submissions SET shown_at = created"),
    ("outbox", "internal_errors", "INTEGER NOT NULL DEFAULT 0", None),
    ("outbox", "dead_at", "REAL", "UPDATE outbox SET dead_at = :now WHERE dead = 1"),
    ("outbox", "wiped_at", "REAL", None),
    ("submissions", "accepted_at", "TEXT", None),  # older records: when they came is not vouched for
)
_INDEXES = "CREATE INDEX IF NOT EXISTS submissions_unshown ON submissions(created) WHERE shown_at IS NULL;"


class OutboxError(Exception):
    pass


class DeadLetterWiped(OutboxError):
    """The dead letter's personal data was wiped after the retention: there is nothing left to send."""

    def __init__(self, key: str, tracking_number: str) -> None:
        super().__init__(f"{tracking_number}: its personal data was wiped after the dead-letter retention; "
                         "the resident must apply again")
        self.key = key
        self.tracking_number = tracking_number


class IdempotencyConflict(OutboxError):
    """The key was already used for a different payload: a client bug, never a retry."""

    def __init__(self, key: str, tracking_number: str) -> None:
        super().__init__("idempotency key already used for a different submission")
        self.key = key
        self.tracking_number = tracking_number


@dataclass(frozen=True)
class Submission:
    idempotency_key: str
    tracking_number: str
    kind: str
    service_id: str | None
    status: str
    history: list[dict]
    created: str
    updated: str
    forwarded_at: str | None
    status_checked_at: str | None
    platform_ref: str | None
    dead_reason: str | None
    # The trusted clock's time of acceptance (what a receipt prints); None when it was not verified.
    # `created` is the system clock's, kept for ordering and retention whatever that clock says.
    accepted_at: str | None = None

    @property
    def final(self) -> bool:
        return self.status in wire.FINAL_STATUSES

    def as_dict(self) -> dict:
        return {"tracking_number": self.tracking_number, "kind": self.kind, "service_id": self.service_id,
                "status": self.status, "history": self.history, "created": self.created,
                "updated": self.updated, "forwarded_at": self.forwarded_at,
                "status_checked_at": self.status_checked_at, "dead_reason": self.dead_reason,
                "accepted_at": self.accepted_at}


@dataclass(frozen=True)
class OutboxItem:
    seq: int
    idempotency_key: str
    kind: str
    payload: dict
    tracking_number: str
    created: str
    attempts: int
    last_error: str | None
    internal_errors: int = 0


def load_or_create_key(path: Path) -> bytes:
    """The per-edge secret for ID hashes; created once (0600, fsync'd) and kept with the data."""
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    atomic_write(path, key, mode=0o600)
    return key


def _row_to_submission(r: sqlite3.Row) -> Submission:
    return Submission(r["idempotency_key"], r["tracking_number"], r["kind"], r["service_id"], r["status"],
                      json.loads(r["status_history"]), r["created"], r["updated"], r["forwarded_at"],
                      r["status_checked_at"], r["platform_ref"], r["dead_reason"], r["accepted_at"])


class Outbox:
    """Thread-safe: one connection behind a lock (the API's worker threads and the forwarder share it)."""

    def __init__(self, db_path: Path, id_key: bytes) -> None:
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._id_key = id_key
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        self._db.row_factory = sqlite3.Row
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "secure_delete=ON", "foreign_keys=ON"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Add the columns an older outbox file lacks (one transaction), then their indexes."""
        with self._write():
            for table, column, decl, backfill in _ADDED_COLUMNS:
                have = {r["name"] for r in self._db.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
                    if backfill:
                        self._db.execute(backfill, {"now": time.time()})
        self._db.executescript(_INDEXES)

    @classmethod
    def open(cls, data_dir: Path) -> Outbox:
        data_dir = Path(data_dir)
        return cls(data_dir / "outbox.sqlite3", load_or_create_key(data_dir / "id_hmac.key"))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def id_hash(self, id_number: str) -> str:
        return idnumber.id_hash(id_number, self._id_key, length=64)

    @contextmanager
    def _write(self) -> Iterator[None]:
        """Hold the lock and one write transaction (BEGIN IMMEDIATE): COMMIT when the block ends, even
        by return; ROLLBACK if it raises."""
        with self._lock, write_transaction(self._db):
            yield

    # --- intake -------------------------------------------------------------------------------
    def submit(self, idempotency_key: str, kind: str, payload: dict, *, service_id: str | None = None,
               id_number: str | None = None, fingerprint_: str | None = None,
               accepted_at: str | None = None) -> tuple[Submission, bool]:
        """Store durably (returns after the commit is on disk) and return (record, created).
        `accepted_at`: the trusted time now (TrustedClock.stamp()), None when the clock is not verified.

        `fingerprint_` identifies what the client sent (defaults to the payload's hash): the same
        key with the same fingerprint returns the existing record; with another, IdempotencyConflict.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}")
        fp = fingerprint_ or wire.fingerprint(payload)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        id_hash = self.id_hash(id_number) if id_number else None
        now, now_ts = wire.now_iso(), time.time()
        history = json.dumps([{"status": wire.STATUS_QUEUED, "at": now}])
        with self._write():
            row = self._db.execute("SELECT * FROM submissions WHERE idempotency_key = ?",
                                   (idempotency_key,)).fetchone()
            if row is not None:
                if row["fingerprint"] != fp:
                    raise IdempotencyConflict(idempotency_key, row["tracking_number"])
                return _row_to_submission(row), False
            for _ in range(5):  # tracking numbers are random: retry the rare collision
                tracking = wire.new_tracking_number()
                try:
                    self._db.execute(
                        "INSERT INTO submissions (idempotency_key, tracking_number, kind, service_id, id_hash,"
                        " fingerprint, status, status_history, created, updated, accepted_at)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (idempotency_key, tracking, kind, service_id, id_hash, fp, wire.STATUS_QUEUED,
                         history, now, now, accepted_at))
                    break
                except sqlite3.IntegrityError:
                    continue
            else:
                raise OutboxError("could not allocate a unique tracking number")
            self._db.execute("INSERT INTO outbox (idempotency_key, kind, payload, created_ts)"
                             " VALUES (?,?,?,?)", (idempotency_key, kind, body, now_ts))
            row = self._db.execute("SELECT * FROM submissions WHERE idempotency_key = ?",
                                   (idempotency_key,)).fetchone()
        return _row_to_submission(row), True

    def existing(self, idempotency_key: str, fingerprint_: str) -> Submission | None:
        """The record already made under this key (None if none); IdempotencyConflict if it was made
        for a different request. Lets the API answer a replay before validating anything again."""
        with self._lock:
            row = self._db.execute("SELECT * FROM submissions WHERE idempotency_key = ?",
                                   (idempotency_key,)).fetchone()
        if row is None:
            return None
        if row["fingerprint"] != fingerprint_:
            raise IdempotencyConflict(idempotency_key, row["tracking_number"])
        return _row_to_submission(row)

    # --- forwarding ---------------------------------------------------------------------------
    def next_batch(self, limit: int = 10, now: float | None = None) -> list[OutboxItem]:
        """The oldest pending items in order, up to the first one not yet due (dead letters skipped).

        Stopping at a deferred item keeps delivery in order: nothing overtakes an item in backoff.
        """
        now = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute(
                "SELECT o.*, s.tracking_number, s.created FROM outbox o"
                " JOIN submissions s USING (idempotency_key)"
                " WHERE o.dead = 0 ORDER BY o.seq LIMIT ?", (limit,)).fetchall()
        items = []
        for r in rows:
            if r["next_attempt_at"] > now:
                break
            items.append(OutboxItem(r["seq"], r["idempotency_key"], r["kind"], json.loads(r["payload"]),
                                    r["tracking_number"], r["created"], r["attempts"], r["last_error"],
                                    r["internal_errors"]))
        return items

    def ack(self, key: str, status: str = wire.STATUS_RECEIVED, platform_ref: str | None = None, *,
            checkpoint: bool = True) -> None:
        """The platform has the item: drop the payload (PII) and record the acknowledged status.
        `checkpoint=False` leaves the WAL for the caller to checkpoint() after a batch (cheaper)."""
        now = wire.now_iso()
        with self._lock:
            with self._write():
                self._db.execute("DELETE FROM outbox WHERE idempotency_key = ?", (key,))
                self._set_status(key, status, now, forwarded_at=now, status_checked_at=now,
                                 platform_ref=platform_ref, dead_reason=None)
            if checkpoint:
                self.checkpoint()

    def checkpoint(self) -> None:
        """Copy the WAL into the database file and truncate it: WAL frames still hold the pages from
        before a delete, i.e. the payloads just removed (secure_delete only clears the new pages)."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def defer(self, key: str, error: str, backoff_s: float, *, internal: bool = False) -> None:
        """Try again in backoff_s. `internal`: our own error, counted apart from network deferrals."""
        counter = "internal_errors" if internal else "attempts"
        with self._lock:
            self._db.execute(f"UPDATE outbox SET {counter} = {counter} + 1, last_error = ?, next_attempt_at = ?"
                             " WHERE idempotency_key = ?", (error[:500], time.time() + backoff_s, key))

    def reject(self, key: str, reason: str) -> None:
        """A permanent refusal by the platform: keep the item as a dead letter, mark the record."""
        now = wire.now_iso()
        with self._write():
            self._db.execute("UPDATE outbox SET dead = 1, dead_at = ?, attempts = attempts + 1, last_error = ?"
                             " WHERE idempotency_key = ?", (time.time(), reason[:500], key))
            self._set_status(key, wire.STATUS_UNDELIVERABLE, now, dead_reason=reason[:500])

    def requeue(self, key: str) -> bool:
        """Send a dead letter again (after staff fixed the cause). False if there is none by that key;
        DeadLetterWiped if its personal data is already gone (nothing left to send)."""
        now = wire.now_iso()
        with self._write():
            row = self._db.execute("SELECT o.wiped_at, s.tracking_number FROM outbox o JOIN submissions s"
                                   " USING (idempotency_key) WHERE o.idempotency_key = ? AND o.dead = 1",
                                   (key,)).fetchone()
            if row is None:
                return False
            if row["wiped_at"] is not None:
                raise DeadLetterWiped(key, row["tracking_number"])
            # Staff fixed the cause: the item gets a full set of internal-error retries again.
            self._db.execute("UPDATE outbox SET dead = 0, dead_at = NULL, next_attempt_at = 0, internal_errors = 0"
                             " WHERE idempotency_key = ?", (key,))
            self._set_status(key, wire.STATUS_QUEUED, now, dead_reason=None)
        return True

    def requeue_all(self) -> tuple[int, int]:
        """Requeue every dead letter that still has its data, in their original order.
        Returns (requeued, wiped ones left as they are)."""
        with self._lock:
            rows = self._db.execute("SELECT idempotency_key, wiped_at FROM outbox WHERE dead = 1 ORDER BY seq"
                                    ).fetchall()
            requeued = sum(self.requeue(r["idempotency_key"]) for r in rows if r["wiped_at"] is None)
        return requeued, sum(r["wiped_at"] is not None for r in rows)

    def expire_dead_letters(self, retention_s: float, now: float | None = None) -> int:
        """Wipe the payload (the only PII) of dead letters older than retention_s; how many were wiped."""
        now = time.time() if now is None else now
        stub = json.dumps(WIPED_PAYLOAD)
        with self._lock:
            with self._write():
                n = self._db.execute("UPDATE outbox SET payload = ?, wiped_at = ? WHERE dead = 1"
                                     " AND wiped_at IS NULL AND dead_at <= ?",
                                     (stub, now, now - retention_s)).rowcount
            if n:
                self.checkpoint()
        return n

    def _set_status(self, key: str, status: str, at: str, **extra: object) -> None:
        """Inside a transaction: move a record to `status` (history grows on a change), setting `extra` columns."""
        row = self._db.execute("SELECT status, status_history FROM submissions WHERE idempotency_key = ?",
                               (key,)).fetchone()
        if row is None:
            return
        history = json.loads(row["status_history"])
        if status != row["status"]:
            history.append({"status": status, "at": at})
        sets = ", ".join(f"{k} = ?" for k in extra)
        self._db.execute(f"UPDATE submissions SET status = ?, status_history = ?, updated = ?"
                         f"{', ' + sets if sets else ''} WHERE idempotency_key = ?",
                         (status, json.dumps(history), at, *extra.values(), key))

    # --- status kept from the platform ----------------------------------------------------------
    def update_status(self, tracking_number: str, status: str, history: list[dict] | None = None,
                      checked_at: str | None = None) -> bool:
        """Record what the platform said about a forwarded application (its history wins if given)."""
        if status not in wire.STATUSES:
            raise ValueError(f"unknown status {status!r}")
        at = checked_at or wire.now_iso()
        with self._lock:
            row = self._db.execute("SELECT status, status_history FROM submissions WHERE tracking_number = ?",
                                   (tracking_number,)).fetchone()
            if row is None:
                return False
            hist = json.loads(row["status_history"])
            if history:
                # Keep the edge's own "queued" entry, then the platform's view of the rest.
                hist = [h for h in hist if h.get("status") == wire.STATUS_QUEUED][:1] + [
                    {"status": str(h["status"]), "at": str(h["at"])} for h in history]
            elif status != row["status"]:
                hist.append({"status": status, "at": at})
            self._db.execute("UPDATE submissions SET status = ?, status_history = ?, updated = ?,"
                             " status_checked_at = ? WHERE tracking_number = ?",
                             (status, json.dumps(hist), at, at, tracking_number))
        return True

    def to_refresh(self, limit: int = 20) -> list[Submission]:
        """Forwarded applications not yet decided, least recently confirmed first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM submissions WHERE kind = ? AND forwarded_at IS NOT NULL AND status NOT IN (?, ?)"
                " ORDER BY status_checked_at LIMIT ?",
                (KIND_APPLICATION, *wire.FINAL_STATUSES, limit)).fetchall()
        return [_row_to_submission(r) for r in rows]

    # --- lookups ------------------------------------------------------------------------------
    def get(self, tracking_number: str) -> Submission | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM submissions WHERE tracking_number = ?",
                                   (tracking_number,)).fetchone()
        return _row_to_submission(row) if row else None

    def find_by_id(self, id_number: str) -> list[Submission]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM submissions WHERE id_hash = ? AND kind = ? ORDER BY created",
                                    (self.id_hash(id_number), KIND_APPLICATION)).fetchall()
        return [_row_to_submission(r) for r in rows]

    def dead_letters(self) -> list[dict]:
        """Every dead letter, oldest first; `wiped` once its personal data is gone (no requeue)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT o.idempotency_key, o.kind, o.attempts, o.last_error, o.dead_at,"
                " o.wiped_at IS NOT NULL AS wiped, s.tracking_number, s.service_id"
                " FROM outbox o JOIN submissions s USING (idempotency_key) WHERE o.dead = 1 ORDER BY o.seq"
            ).fetchall()
        return [{**dict(r), "wiped": bool(r["wiped"])} for r in rows]

    # --- receipts shown -------------------------------------------------------------------------
    def mark_shown(self, tracking_number: str) -> bool:
        """The resident saw the receipt (the first time counts). False if the number is unknown."""
        with self._lock:
            return self._db.execute("UPDATE submissions SET shown_at = COALESCE(shown_at, ?)"
                                    " WHERE tracking_number = ?", (wire.now_iso(), tracking_number)).rowcount > 0

    def _unconfirmed_where(self, min_age_s: float) -> tuple[str, tuple]:
        cutoff = (datetime.now(UTC) - timedelta(seconds=min_age_s)).isoformat(timespec="seconds")
        return " FROM submissions WHERE shown_at IS NULL AND kind = ? AND created <= ?", (KIND_APPLICATION, cutoff)

    def unconfirmed(self, min_age_s: float = UNCONFIRMED_GRACE_S) -> list[dict]:
        """Applications whose receipt was never shown, made at least min_age_s ago, oldest first
        (no personal data: staff use the tracking number)."""
        where, args = self._unconfirmed_where(min_age_s)
        with self._lock:
            rows = self._db.execute("SELECT tracking_number, service_id, created, status" + where
                                    + " ORDER BY created, rowid", args).fetchall()
        return [dict(r) for r in rows]

    def stats(self) -> dict:
        """Depth (pending, not dead), age of the oldest pending item in seconds, dead letters and the
        age of the oldest one, applications whose receipt was never shown."""
        where, args = self._unconfirmed_where(UNCONFIRMED_GRACE_S)
        with self._lock:
            depth, oldest = self._db.execute(
                "SELECT COUNT(*), MIN(created_ts) FROM outbox WHERE dead = 0").fetchone()
            dead, dead_oldest = self._db.execute(
                "SELECT COUNT(*), MIN(COALESCE(dead_at, created_ts)) FROM outbox WHERE dead = 1").fetchone()
            unconfirmed = self._db.execute("SELECT COUNT(*)" + where, args).fetchone()[0]
        now = time.time()
        age = round(max(0.0, now - oldest), 1) if oldest is not None else None
        dead_age = round(max(0.0, now - dead_oldest), 1) if dead_oldest is not None else None
        return {"depth": depth, "oldest_age_s": age, "dead_letters": dead, "dead_oldest_age_s": dead_age,
                "unconfirmed": unconfirmed}

    def ping(self) -> None:
        """Raise if the database is not usable (the daemon's watchdog check)."""
        with self._lock:
            self._db.execute("SELECT 1 FROM outbox LIMIT 1").fetchall()
