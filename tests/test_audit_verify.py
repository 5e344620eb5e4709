"""`kiosk audit verify` (the real CLI in a subprocess) against a log an attacker edited with sqlite3."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.audit import AuditLog, read_head

ROOT = Path(__file__).resolve().parent.parent


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "kiosk", "--log-format", "text", *args], capture_output=True,
                          text=True, timeout=60, env=env, cwd=ROOT)


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "audit" / "audit.sqlite3"
    log = AuditLog(path)
    log.record("maintenance_open")
    log.record("pin_attempt", outcome="wrong", attempts_left=4)
    log.record("content_applied", version=7, previous=6)
    log.record("command", command="sync_content", result="done")
    log.record("maintenance_close", reason="button")
    return path


def sql(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)  # as an attacker with a shell would: straight into the file
    with db:
        for s in statements:
            db.execute(s)
    db.close()


def test_an_intact_log_verifies_with_its_count_and_head(log_file):
    r = kiosk("audit", "verify", "--path", str(log_file))
    head = read_head(log_file)
    assert r.returncode == 0, r.stderr
    assert "intact, 5 entries" in r.stdout and str(head) in r.stdout and head.seq == 5


def test_an_edited_entry_is_named(log_file):
    sql(log_file, """UPDATE entries SET fields = '{"outcome":"ok"}' WHERE seq = 2""")
    r = kiosk("audit", "verify", "--path", str(log_file))
    assert r.returncode == 1
    assert "BROKEN at entry 2" in r.stderr and "altered" in r.stderr


def test_an_edit_with_a_recomputed_hash_still_breaks_the_link(log_file):
    # A careful attacker rewrites entry 3 and fixes its own hash: entry 4's prev_hash still points at the old one.
    from kiosk.audit_chain import entry_hash
    db = sqlite3.connect(log_file)
    seq, time, trusted, event, _fields, prev = db.execute(
        "SELECT seq, time, time_trusted, event, fields, prev_hash FROM entries WHERE seq = 3").fetchone()
    forged = {"version": 1, "previous": 6}
    with db:
        db.execute("UPDATE entries SET fields = ?, hash = ? WHERE seq = 3",
                   (json.dumps(forged), entry_hash(seq, time, bool(trusted), event, forged, prev)))
    db.close()
    r = kiosk("audit", "verify", "--path", str(log_file))
    assert r.returncode == 1 and "BROKEN at entry 4" in r.stderr and "does not follow entry 3" in r.stderr


def test_a_deleted_entry_is_named(log_file):
    sql(log_file, "DELETE FROM entries WHERE seq = 3")
    r = kiosk("audit", "verify", "--path", str(log_file))
    assert r.returncode == 1 and "BROKEN at entry 3" in r.stderr and "missing" in r.stderr


def test_reordered_entries_are_caught(log_file):
    # Swap entries 2 and 4 whole (contents, hashes and links), keeping the seq numbers in place.
    sql(log_file, "UPDATE entries SET seq = -2 WHERE seq = 2", "UPDATE entries SET seq = 2 WHERE seq = 4",
        "UPDATE entries SET seq = 4 WHERE seq = -2")
    r = kiosk("audit", "verify", "--path", str(log_file))
    assert r.returncode == 1 and "BROKEN at entry 2" in r.stderr


def test_a_truncated_tail_is_caught_against_an_expected_head(log_file):
    head = read_head(log_file)
    assert head is not None
    sql(log_file, "DELETE FROM entries WHERE seq >= 4")
    alone = kiosk("audit", "verify", "--path", str(log_file))
    assert alone.returncode == 0 and "3 entries" in alone.stdout  # a shorter chain is a valid chain...
    r = kiosk("audit", "verify", "--path", str(log_file), "--expect-head", str(head))
    assert r.returncode == 1  # ...but not the one the monitor saw
    assert "BROKEN at entry 4" in r.stderr and "ends at entry 3" in r.stderr


def test_a_log_rewritten_past_the_expected_head_is_caught(log_file, tmp_path):
    head = read_head(log_file)
    assert head is not None
    log_file.unlink()
    fresh = AuditLog(log_file)
    for n in range(7):  # the attacker starts over and writes more than there was
        fresh.record("self_test", test=f"t{n}")
    r = kiosk("audit", "verify", "--path", str(log_file), "--expect-head", str(head))
    assert r.returncode == 1 and "BROKEN at entry 5" in r.stderr and "not the one expected" in r.stderr


def test_a_removed_log_with_an_expected_head_fails(tmp_path):
    r = kiosk("audit", "verify", "--path", str(tmp_path / "gone.sqlite3"), "--expect-head", "3:" + "a" * 64)
    assert r.returncode == 1 and "no audit log" in r.stderr


def test_a_file_that_is_not_a_log_is_reported_and_left_alone(tmp_path, caplog):
    path = tmp_path / "audit.sqlite3"
    path.write_bytes(b"this was an audit log before a disk went bad\n" * 100)
    before = path.read_bytes()
    r = kiosk("audit", "verify", "--path", str(path))
    assert r.returncode == 2 and "not a readable audit log" in r.stderr
    entry = AuditLog(path).record("maintenance_open")  # maintenance goes on...
    assert entry["event"] == "maintenance_open" and entry["seq"] is None
    assert "cannot write audit log" in caplog.text
    assert path.read_bytes() == before  # ...and the evidence is not reset


def test_show_prints_the_newest_entries(log_file):
    r = kiosk("audit", "show", "--path", str(log_file), "--last", "2")
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert r.returncode == 0 and [e["seq"] for e in lines] == [4, 5]
    assert lines[0]["event"] == "command" and lines[0]["fields"] == {"command": "sync_content", "result": "done"}


def test_the_default_path_comes_from_the_config(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[edge]\ndata_dir = "{tmp_path / "edge"}"\n')
    AuditLog(tmp_path / "audit" / "audit.sqlite3").record("maintenance_open")
    r = kiosk("--config", str(cfg), "audit", "verify")
    assert r.returncode == 0 and "intact, 1 entries" in r.stdout
    cfg.write_text(f'[audit]\npath = "{tmp_path / "elsewhere.sqlite3"}"\n')
    r = kiosk("--config", str(cfg), "audit", "verify")
    assert r.returncode == 2 and "elsewhere.sqlite3" in r.stderr
