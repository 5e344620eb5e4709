"""The maintenance audit log: append-only JSON lines on disk, nothing personal in it."""

from __future__ import annotations

import json
import logging
import threading

import pytest

from kiosk.audit import AuditLog, read_entries


def test_entries_append_in_order_and_survive_a_new_instance(tmp_path):
    path = tmp_path / "audit" / "maintenance.jsonl"  # the folder is created on first use
    AuditLog(path).record("pin_attempt", outcome="wrong", attempts_left=4)
    AuditLog(path).record("maintenance_open")
    entries = read_entries(path)
    assert [e["event"] for e in entries] == ["pin_attempt", "maintenance_open"]
    assert entries[0]["outcome"] == "wrong" and entries[0]["attempts_left"] == 4
    assert all(e["ts"].endswith("+00:00") for e in entries)
    assert (path.stat().st_mode & 0o777) == 0o600


def test_existing_lines_are_never_rewritten(tmp_path):
    path = tmp_path / "a.jsonl"
    log = AuditLog(path)
    log.record("maintenance_open")
    first = path.read_bytes()
    log.record("maintenance_close", reason="button")
    assert path.read_bytes().startswith(first)


def test_also_goes_to_stdlib_logging(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="kiosk.audit"):
        AuditLog(tmp_path / "a.jsonl").record("self_test", test="print")
    record = next(r for r in caplog.records if r.name == "kiosk.audit")
    assert record.audit["event"] == "self_test" and record.audit["test"] == "print"


@pytest.mark.parametrize("field", ["pin", "id_number", "name", "photo", "digits"])
def test_personal_fields_are_refused(tmp_path, field):
    log = AuditLog(tmp_path / "a.jsonl")
    with pytest.raises(ValueError):
        log.record("pin_attempt", **{field: "x"})
    assert read_entries(tmp_path / "a.jsonl") == []


def test_nested_values_and_bad_event_names_are_refused(tmp_path):
    log = AuditLog(tmp_path / "a.jsonl")
    with pytest.raises(TypeError):
        log.record("self_test", detail={"nested": 1})
    with pytest.raises(ValueError):
        log.record("Bad Event")


def test_an_id_number_in_free_text_is_scrubbed(tmp_path):
    log = AuditLog(tmp_path / "a.jsonl")
    log.record("self_test_result", test="card", error="read 11010519491231002X failed")
    text = (tmp_path / "a.jsonl").read_text()
    assert "11010519491231002X" not in text and "[id-redacted]" in text


def test_a_torn_last_line_is_skipped(tmp_path, caplog):
    path = tmp_path / "a.jsonl"
    AuditLog(path).record("maintenance_open")
    with path.open("ab") as f:
        f.write(b'{"ts":"2024-01-01T00:00:00+00:00","ev')  # power cut mid-write
    AuditLog(path).record("maintenance_close", reason="idle")
    assert [e["event"] for e in read_entries(path)] == ["maintenance_open", "maintenance_close"]
    assert "skipping unreadable audit line" in caplog.text


def test_a_disk_error_is_logged_not_raised(tmp_path, caplog):
    (tmp_path / "file").write_text("")
    entry = AuditLog(tmp_path / "file" / "a.jsonl").record("maintenance_open")
    assert entry["event"] == "maintenance_open"
    assert "cannot write audit log" in caplog.text


def test_writers_on_many_threads_never_interleave(tmp_path):
    log = AuditLog(tmp_path / "a.jsonl")
    threads = [threading.Thread(target=lambda i=i: [log.record("self_test", test=f"t{i}-{n}") for n in range(20)])
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert len(lines) == 80 and all(json.loads(line)["event"] == "self_test" for line in lines)
