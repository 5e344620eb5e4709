"""The outbox on a real SQLite file: durable intake, idempotency, ordered batches, ack/defer/reject."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading

import pytest

from edge.outbox import KIND_APPLICATION, KIND_FEEDBACK, IdempotencyConflict, Outbox
from kiosk import wire
from tests.fixtures_edge import make_id

ID = make_id(7)


def app_payload(n: int = 0, id_number: str = ID) -> dict:
    return {"service_id": "old-age-allowance", "fields": {"phone": "13800000000", "n": n},
            "applicant": {"id_number": id_number, "name": "测试人"}}


def submit(ob: Outbox, key: str, payload: dict):
    return ob.submit(key, KIND_APPLICATION, payload, service_id="old-age-allowance",
                     id_number=payload["applicant"]["id_number"])


def test_submit_is_durable_and_visible_from_a_fresh_connection(tmp_path, outbox):
    sub, created = submit(outbox, "key-00000001", app_payload())
    assert created and sub.status == wire.STATUS_QUEUED and sub.tracking_number.startswith("TK")
    # Another process would see it: open the same file independently.
    reopened = Outbox.open(tmp_path)
    try:
        assert reopened.get(sub.tracking_number).idempotency_key == "key-00000001"
        assert reopened.stats()["depth"] == 1
    finally:
        reopened.close()
    db = sqlite3.connect(tmp_path / "outbox.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # The live connection: synchronous=FULL (2) so a commit survives power loss; secure_delete on.
    assert outbox._db.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert outbox._db.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_a_deleted_payload_is_overwritten_in_the_database_file(tmp_path, outbox):
    marker = "独一无二的删除标记"
    payload = {**app_payload(), "fields": {"note": marker * 20}}
    submit(outbox, "key-00000001", payload)
    submit(outbox, "key-00000002", app_payload(2))  # keeps the queue (and the page) in use
    outbox.checkpoint()
    db_file = tmp_path / "outbox.sqlite3"
    assert marker.encode() in db_file.read_bytes()  # the test can see it in the raw file...
    outbox.ack("key-00000001")
    # ...and after the delete it is gone from the file's pages, not just unlinked (secure_delete).
    assert marker.encode() not in db_file.read_bytes()
    assert outbox.stats()["depth"] == 1


def test_same_key_same_payload_returns_same_tracking_and_one_row(outbox):
    first, c1 = submit(outbox, "key-00000001", app_payload())
    again, c2 = submit(outbox, "key-00000001", app_payload())
    assert (c1, c2) == (True, False)
    assert again.tracking_number == first.tracking_number
    assert outbox.stats()["depth"] == 1


def test_same_key_different_payload_is_a_conflict(outbox):
    first, _ = submit(outbox, "key-00000001", app_payload(1))
    with pytest.raises(IdempotencyConflict) as e:
        submit(outbox, "key-00000001", app_payload(2))
    assert e.value.tracking_number == first.tracking_number
    assert outbox.stats()["depth"] == 1


def test_concurrent_duplicates_make_one_submission(outbox):
    results = []

    def worker():
        results.append(submit(outbox, "key-concurrent", app_payload()))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({s.tracking_number for s, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert outbox.stats()["depth"] == 1


def test_batches_are_oldest_first_and_stop_at_a_deferred_item(outbox):
    for i in range(5):
        submit(outbox, f"key-{i:08d}", app_payload(i))
    assert [it.payload["fields"]["n"] for it in outbox.next_batch(10)] == [0, 1, 2, 3, 4]
    outbox.defer("key-00000000", "platform unreachable: timeout", backoff_s=60)
    # Nothing overtakes the head item while it waits: order is kept.
    assert outbox.next_batch(10) == []
    head = outbox.next_batch(10, now=float("inf"))[0]
    assert head.attempts == 1 and "timeout" in head.last_error


def test_ack_deletes_payload_and_records_status(tmp_path, outbox):
    sub, _ = submit(outbox, "key-00000001", app_payload())
    outbox.ack("key-00000001", wire.STATUS_RECEIVED)
    assert outbox.stats() == {"depth": 0, "oldest_age_s": None, "dead_letters": 0, "dead_oldest_age_s": None,
                              "unconfirmed": 0}
    rec = outbox.get(sub.tracking_number)
    assert rec.status == wire.STATUS_RECEIVED and rec.forwarded_at
    assert [h["status"] for h in rec.history] == ["queued", "received"]
    # The applicant's ID number and name are gone from the file (secure_delete + WAL truncated).
    data = b"".join(p.read_bytes() for p in tmp_path.glob("outbox.sqlite3*"))
    assert ID.encode() not in data
    assert "测试人".encode() not in data


def test_record_keeps_only_an_id_hash_and_lookup_works_offline(outbox):
    a, _ = submit(outbox, "key-00000001", app_payload())
    b, _ = submit(outbox, "key-00000002", app_payload(2, make_id(8)))
    found = outbox.find_by_id(ID)
    assert [s.tracking_number for s in found] == [a.tracking_number]
    assert outbox.find_by_id(ID.lower()) == found  # a typed lower-case x still matches
    assert b.tracking_number not in [s.tracking_number for s in found]
    row = outbox._db.execute("SELECT * FROM submissions").fetchone()
    assert ID not in str(tuple(row))


def test_id_key_file_is_private_and_stable(tmp_path, outbox):
    key_file = tmp_path / "id_hmac.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    h = outbox.id_hash(ID)
    again = Outbox.open(tmp_path)
    try:
        assert again.id_hash(ID) == h
    finally:
        again.close()


def test_reject_keeps_a_dead_letter_visible_and_requeue_sends_it_again(outbox):
    sub, _ = submit(outbox, "key-00000001", app_payload())
    submit(outbox, "key-00000002", app_payload(2))
    outbox.reject("key-00000001", "unknown_service_code: SS-9999 is not a service of this region")
    stats = outbox.stats()
    assert stats["depth"] == 1 and stats["dead_letters"] == 1
    assert outbox.get(sub.tracking_number).status == wire.STATUS_UNDELIVERABLE
    assert [d["tracking_number"] for d in outbox.dead_letters()] == [sub.tracking_number]
    # The dead letter does not block the rest of the queue.
    assert [it.idempotency_key for it in outbox.next_batch()] == ["key-00000002"]
    assert outbox.requeue("key-00000001")
    assert outbox.get(sub.tracking_number).status == wire.STATUS_QUEUED
    assert outbox.stats()["dead_letters"] == 0
    assert not outbox.requeue("key-unknown")


def test_feedback_goes_through_the_same_queue(outbox):
    fb, created = outbox.submit("key-feedback1", KIND_FEEDBACK, {"rating": 5, "reasons": []})
    assert created and outbox.next_batch()[0].kind == KIND_FEEDBACK
    assert outbox.find_by_id(ID) == []  # feedback is never an application of anyone


def test_platform_status_updates_and_refresh_list(outbox):
    sub, _ = submit(outbox, "key-00000001", app_payload())
    assert outbox.to_refresh() == []  # not forwarded yet: nothing to ask the platform
    outbox.ack("key-00000001")
    assert [s.tracking_number for s in outbox.to_refresh()] == [sub.tracking_number]
    outbox.update_status(sub.tracking_number, wire.STATUS_APPROVED,
                         [{"status": "received", "at": "2026-01-01T00:00:00+00:00"},
                          {"status": "approved", "at": "2026-01-02T00:00:00+00:00"}])
    rec = outbox.get(sub.tracking_number)
    assert rec.final and [h["status"] for h in rec.history] == ["queued", "received", "approved"]
    assert outbox.to_refresh() == []
    with pytest.raises(ValueError):
        outbox.update_status(sub.tracking_number, "lost")


def test_oldest_age_and_unknown_kind(outbox):
    submit(outbox, "key-00000001", app_payload())
    assert outbox.stats()["oldest_age_s"] >= 0
    with pytest.raises(ValueError):
        outbox.submit("key-00000009", "letter", {})
