"""The maintenance audit log (now the hash-chained kiosk/audit.py): in order, never rewritten, nothing personal."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from kiosk.audit import AuditLog, raw_rows, read_entries
from kiosk.audit_chain import check


def raw_bytes(path: Path) -> bytes:
    """Everything on disk for the log: the database and its write-ahead log."""
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_entries_append_in_order_and_survive_a_new_instance(tmp_path):
    path = tmp_path / "audit" / "audit.sqlite3"  # the folder is created on first use
    AuditLog(path).record("pin_attempt", outcome="wrong", attempts_left=4)
    AuditLog(path).record("maintenance_open")
    entries = read_entries(path)
    assert [e["event"] for e in entries] == ["pin_attempt", "maintenance_open"]
    assert [e["seq"] for e in entries] == [1, 2]
    assert entries[0]["outcome"] == "wrong" and entries[0]["attempts_left"] == 4
    assert all(e["time"].endswith("+00:00") for e in entries)
    assert all(e["time_trusted"] in (True, False) for e in entries)
    mode = path.stat().st_mode & 0o777
    assert mode & 0o600 == 0o600 and mode & 0o007 == 0  # its users (and their audit group), nobody else


def test_existing_entries_are_never_rewritten(tmp_path):
    path = tmp_path / "a.sqlite3"
    log = AuditLog(path)
    log.record("maintenance_open")
    first = raw_rows(path)
    log.record("maintenance_close", reason="button")
    assert raw_rows(path)[:1] == first and len(raw_rows(path)) == 2
    assert check(raw_rows(path))[2] is None


def test_also_goes_to_stdlib_logging(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="kiosk.audit"):
        AuditLog(tmp_path / "a.sqlite3").record("self_test", test="print")
    record = next(r for r in caplog.records if r.name == "kiosk.audit")
    assert record.audit["event"] == "self_test" and record.audit["test"] == "print"


@pytest.mark.parametrize("field", ["pin", "id_number", "name", "photo", "digits", "address", "seq", "time"])
def test_personal_and_reserved_fields_are_refused(tmp_path, field):
    log = AuditLog(tmp_path / "a.sqlite3")
    with pytest.raises(ValueError):
        log.record("pin_attempt", **{field: "x"})
    assert read_entries(tmp_path / "a.sqlite3") == []


def test_nested_values_and_bad_event_names_are_refused(tmp_path):
    log = AuditLog(tmp_path / "a.sqlite3")
    with pytest.raises(TypeError):
        log.record("self_test", detail={"nested": 1})
    with pytest.raises(ValueError):
        log.record("Bad Event")


def test_an_id_number_in_free_text_is_scrubbed(tmp_path, caplog):
    path = tmp_path / "a.sqlite3"
    log = AuditLog(path)
    log.record("self_test_result", test="card", error="read 11010519491231002X failed")
    log.record("self_test_result", test="card", code=110105194912310021)  # a number is no way around it
    assert read_entries(path)[0]["error"] == "read [id-redacted] failed"
    assert read_entries(path)[1]["code"] == "[id-redacted]"
    for number in ("11010519491231002X", "110105194912310021"):
        assert number.encode() not in raw_bytes(path) and number not in caplog.text


def test_a_disk_error_is_logged_not_raised(tmp_path, caplog):
    (tmp_path / "file").write_text("")
    entry = AuditLog(tmp_path / "file" / "a.sqlite3").record("maintenance_open")
    assert entry["event"] == "maintenance_open" and entry["seq"] is None
    assert "cannot write audit log" in caplog.text


def test_a_log_that_shrank_under_a_writer_is_reported(tmp_path, caplog):
    path = tmp_path / "a.sqlite3"
    log = AuditLog(path)
    log.record("maintenance_open")
    log.record("maintenance_close", reason="idle")
    path.unlink()  # someone removed the file under the running kiosk
    entry = log.record("maintenance_open")
    assert entry["seq"] == 1  # the new chain starts over (the fleet monitor sees the head go back)...
    assert "audit log went backwards" in caplog.text  # ...and this process says so at once


def test_writers_on_many_threads_make_one_chain(tmp_path):
    log = AuditLog(tmp_path / "a.sqlite3")
    threads = [threading.Thread(target=lambda i=i: [log.record("self_test", test=f"t{i}-{n}") for n in range(20)])
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    count, head, problem = check(raw_rows(tmp_path / "a.sqlite3"))
    assert problem is None and count == 80 and head is not None and head.seq == 80
