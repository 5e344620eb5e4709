"""Resident sessions in the audit trail: start, end, service, language, how it ended — and nothing of the
resident, even with a card read into the flow."""

from __future__ import annotations

from pathlib import Path

from kiosk.audit import AuditLog, raw_rows, read_entries
from kiosk.audit_chain import check
from kiosk.session import Session
from kiosk.session_audit import SessionAudit
from tests.test_session import Clock, demo_flow


def raw_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_a_session_is_recorded_without_the_resident(tmp_path, card_record, caplog):
    path = tmp_path / "audit.sqlite3"
    clock = Clock()
    session = Session(default_lang="bo", idle_timeout_s=90, idle_warning_s=30, clock=clock)
    trail = SessionAudit(session, AuditLog(path))
    session.end("startup")  # an end with no session (the UI coming up) records nothing
    session.touch()
    flow = session.begin_flow(demo_flow(card_record))
    assert flow.has_personal_data
    session.set_language("zh")
    clock.t += 120
    session.tick()
    clock.t += 30
    session.tick()  # the idle countdown ran out: wiped
    session.touch()
    session.end("done")
    trail.close()

    entries = read_entries(path)
    assert [e["event"] for e in entries] == ["session_start", "session_end", "session_start", "session_end"]
    start, end = entries[0], entries[1]
    assert start["lang"] == "bo"
    assert end["reason"] == "idle" and end["lang"] == "zh" and end["service"] == "old-age-allowance"
    assert end["services"] == 1 and isinstance(end["duration_s"], int)
    assert entries[3]["reason"] == "done" and entries[3]["service"] is None
    assert check(raw_rows(path))[2] is None
    disk = raw_bytes(path)
    for secret in (card_record.id_number, card_record.name):
        assert secret.encode() not in disk and secret not in caplog.text
