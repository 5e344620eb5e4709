"""The outbox's record of what happened to each item, on a real SQLite file: receipts shown or not,
personal data gone from the raw bytes after an ack or the dead-letter retention, older files migrated."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from edge.outbox import (
    KIND_APPLICATION,
    KIND_FEEDBACK,
    UNCONFIRMED_GRACE_S,
    DeadLetterWiped,
    Outbox,
)
from kiosk import wire
from kiosk.netutil import free_port
from tests.fixtures_edge import REPO, make_id, write_config

RETENTION_S = 30 * 86400.0


def person(n: int) -> tuple[str, str]:
    """A unique ID number and name, so the raw bytes of the files can be searched for them."""
    return make_id(100 + n), f"唯一测试人{n:03d}"


def submit(ob: Outbox, n: int, kind: str = KIND_APPLICATION):
    id_number, name = person(n)
    payload = {"service_id": "old-age-allowance", "fields": {"n": n},
               "applicant": {"id_number": id_number, "name": name}}
    sub, _ = ob.submit(f"key-{n:08d}", kind, payload, service_id="old-age-allowance", id_number=id_number)
    return sub


def raw_bytes(tmp_path) -> dict[str, bytes]:
    """outbox.sqlite3 and its WAL as they are on disk (the WAL may be absent or empty)."""
    return {p.name: p.read_bytes() for p in (tmp_path / "outbox.sqlite3", tmp_path / "outbox.sqlite3-wal")
            if p.exists()}


def on_disk(tmp_path, n: int) -> list[str]:
    """Which files hold person n's ID number or name."""
    id_number, name = person(n)
    return [f for f, data in raw_bytes(tmp_path).items()
            if id_number.encode() in data or name.encode() in data]


def age_created(tmp_path, tracking: str, seconds: float) -> None:
    """Make a record look `seconds` old (as one made before a restart would be)."""
    then = (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="seconds")
    db = sqlite3.connect(tmp_path / "outbox.sqlite3")
    db.execute("UPDATE submissions SET created = ? WHERE tracking_number = ?", (then, tracking))
    db.commit()
    db.close()


# --- 8: receipts shown ------------------------------------------------------------------------------
def test_an_application_whose_receipt_was_never_shown_is_listed_for_staff(tmp_path, outbox):
    shown, lost = submit(outbox, 1), submit(outbox, 2)
    submit(outbox, 3, KIND_FEEDBACK)  # feedback has no receipt to miss
    assert outbox.mark_shown(shown.tracking_number)
    assert not outbox.mark_shown("TK000000-NOSUCH")
    assert outbox.unconfirmed(min_age_s=0) == [
        {"tracking_number": lost.tracking_number, "service_id": "old-age-allowance", "created": lost.created,
         "status": wire.STATUS_QUEUED}]
    # Within the grace a receipt is probably still being printed: not yet a problem.
    assert outbox.unconfirmed() == [] and outbox.stats()["unconfirmed"] == 0
    age_created(tmp_path, lost.tracking_number, UNCONFIRMED_GRACE_S + 60)
    assert [u["tracking_number"] for u in outbox.unconfirmed()] == [lost.tracking_number]
    assert outbox.stats()["unconfirmed"] == 1
    # Forwarded or not, it stays listed (with its current status) until the receipt is shown.
    outbox.ack(lost.idempotency_key)
    assert outbox.unconfirmed()[0]["status"] == wire.STATUS_RECEIVED
    assert outbox.mark_shown(lost.tracking_number)
    assert outbox.unconfirmed(min_age_s=0) == [] and outbox.stats()["unconfirmed"] == 0
    assert UNCONFIRMED_GRACE_S == 120


def test_unconfirmed_is_oldest_first_and_holds_no_personal_data(tmp_path, outbox):
    subs = [submit(outbox, n) for n in range(3)]
    for i, sub in enumerate(subs):
        age_created(tmp_path, sub.tracking_number, 1000 - i * 100)
    listed = outbox.unconfirmed()
    assert [u["tracking_number"] for u in listed] == [s.tracking_number for s in subs]
    id_number, name = person(0)
    assert id_number not in json.dumps(listed, ensure_ascii=False) and name not in json.dumps(listed,
                                                                                              ensure_ascii=False)


OLD_SCHEMA = """
CREATE TABLE submissions (idempotency_key TEXT PRIMARY KEY, tracking_number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL, service_id TEXT, id_hash TEXT, fingerprint TEXT NOT NULL, status TEXT NOT NULL,
    status_history TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL, forwarded_at TEXT,
    status_checked_at TEXT, platform_ref TEXT, dead_reason TEXT);
CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL, payload TEXT NOT NULL, created_ts REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0, last_error TEXT, dead INTEGER NOT NULL DEFAULT 0);
INSERT INTO submissions VALUES ('key-old-0001', 'TK250101-OLD001', 'application', 'old-age-allowance', NULL,
    'fp', 'undeliverable', '[]', '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00', NULL, NULL, NULL,
    'invalid_application: x');
INSERT INTO outbox (idempotency_key, kind, payload, created_ts, attempts, dead)
    VALUES ('key-old-0001', 'application', '{"n": 1}', 1735689600, 3, 1);
"""


def test_an_outbox_file_from_before_these_columns_is_migrated_in_place(tmp_path):
    db = sqlite3.connect(tmp_path / "outbox.sqlite3")
    db.executescript(OLD_SCHEMA)
    db.close()
    ob = Outbox.open(tmp_path)
    try:
        # Old receipts count as shown; the old dead letter's retention starts now, not at its creation.
        assert ob.unconfirmed(min_age_s=0) == [] and ob.stats()["unconfirmed"] == 0
        assert ob.stats()["dead_letters"] == 1 and ob.stats()["dead_oldest_age_s"] < 3600
        assert ob.expire_dead_letters(RETENTION_S) == 0
        assert ob.requeue("key-old-0001")
        assert ob.next_batch(now=float("inf"))[0].internal_errors == 0
        new = submit(ob, 5)
        assert [u["tracking_number"] for u in ob.unconfirmed(min_age_s=0)] == [new.tracking_number]
    finally:
        ob.close()
    Outbox.open(tmp_path).close()  # a second open finds every column and changes nothing


# --- 6: acknowledged data leaves the disk while others are still queued -------------------------------
def test_an_acknowledged_applicants_data_leaves_the_files_while_others_are_queued(tmp_path, outbox):
    for n in range(4):
        submit(outbox, n)
    assert on_disk(tmp_path, 0) and on_disk(tmp_path, 1)  # the test can see personal data in the raw bytes
    outbox.ack("key-00000000")
    outbox.ack("key-00000001")
    assert outbox.stats()["depth"] == 2
    assert on_disk(tmp_path, 0) == [] and on_disk(tmp_path, 1) == []
    assert on_disk(tmp_path, 2) and on_disk(tmp_path, 3)  # the queued ones are still there to send


# --- 7: dead-letter retention -------------------------------------------------------------------------
def test_a_dead_letter_past_the_retention_keeps_only_number_service_and_reason(tmp_path, outbox):
    dead, young = submit(outbox, 1), submit(outbox, 2)
    submit(outbox, 3)  # still queued: proves the files are readable
    for sub in (dead, young):
        outbox.reject(sub.idempotency_key, "invalid_application: unknown service code")
    assert on_disk(tmp_path, 1)
    assert outbox.expire_dead_letters(RETENTION_S) == 0  # both too young
    # The first became a dead letter just over the retention ago (counted from then, not its creation).
    outbox._db.execute("UPDATE outbox SET dead_at = ? WHERE idempotency_key = ?",
                       (time.time() - RETENTION_S - 60, dead.idempotency_key))
    assert outbox.expire_dead_letters(RETENTION_S) == 1
    assert on_disk(tmp_path, 1) == [] and on_disk(tmp_path, 3)
    assert on_disk(tmp_path, 2)  # the younger dead letter keeps its data until its own time
    letters = {d["tracking_number"]: d for d in outbox.dead_letters()}
    assert letters[dead.tracking_number]["wiped"] and not letters[young.tracking_number]["wiped"]
    assert letters[dead.tracking_number]["service_id"] == "old-age-allowance"
    rec = outbox.get(dead.tracking_number)
    assert rec.status == wire.STATUS_UNDELIVERABLE and "unknown service code" in rec.dead_reason
    with pytest.raises(DeadLetterWiped, match="apply again"):
        outbox.requeue(dead.idempotency_key)
    assert outbox.get(dead.tracking_number).status == wire.STATUS_UNDELIVERABLE  # refusal changed nothing
    assert outbox.requeue_all() == (1, 1)
    assert [d["tracking_number"] for d in outbox.dead_letters()] == [dead.tracking_number]


def test_stats_show_how_old_the_oldest_dead_letter_is(outbox):
    assert outbox.stats()["dead_oldest_age_s"] is None
    submit(outbox, 1)
    outbox.reject("key-00000001", "invalid_application: x")
    assert outbox.stats()["dead_oldest_age_s"] >= 0
    db = outbox._db
    db.execute("UPDATE outbox SET dead_at = ?", (time.time() - 5 * 86400,))
    assert 5 * 86400 <= outbox.stats()["dead_oldest_age_s"] < 6 * 86400


# --- `kiosk edge outbox requeue --all` ----------------------------------------------------------------
def test_requeue_all_from_the_command_line(tmp_path):
    data = tmp_path / "edge"
    ob = Outbox.open(data)
    for n in range(5):
        submit(ob, n)
        ob.reject(f"key-{n:08d}", "invalid_application: service code unknown")
    ob._db.execute("UPDATE outbox SET dead_at = ? WHERE seq <= 3", (time.time() - RETENTION_S - 60,))
    assert ob.expire_dead_letters(RETENTION_S) == 3  # two keep their data
    ob.close()
    cfg = write_config(tmp_path / "kiosk.toml", data, free_port(), "http://127.0.0.1:9")
    cmd = [sys.executable, "-m", "kiosk", "--config", str(cfg), "edge", "outbox"]
    out = subprocess.run([*cmd, "requeue", "--all"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "requeued 2" in out.stdout and "3 dead letter(s) kept" in out.stderr
    out = subprocess.run([*cmd, "requeue", "key-00000000"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 1 and "wiped" in out.stderr and "apply again" in out.stderr
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "queued: 2" in out.stdout and "dead letters: 3" in out.stdout and "personal data wiped" in out.stdout
    out = subprocess.run([*cmd, "requeue"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 2 and "--all" in out.stderr
