"""PinGate: tries, lockout, and a lock that survives a restart or a reboot (real state files)."""

from __future__ import annotations

import json

import pytest

from kiosk.lockout import Outcome, PinGate, hash_is_usable
from kiosk.pin import hash_pin

PIN = "482916"
HASH = hash_pin(PIN, iterations=1000)  # few iterations: same code path, fast tests


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def gate(tmp_path, clock, **kw) -> PinGate:
    return PinGate(HASH, attempts=5, lockout_s=300, clock=clock, state_file=tmp_path / "lock.json",
                   boot_id=kw.pop("boot_id", "boot-a"), **kw)


def lock_out(g: PinGate) -> None:
    for _ in range(5):
        g.verify("000000")


def test_right_pin_opens(tmp_path):
    result = gate(tmp_path, Clock()).verify(PIN)
    assert result.ok and result.outcome is Outcome.OK


def test_wrong_pin_counts_down_attempts(tmp_path):
    g = gate(tmp_path, Clock())
    assert [g.verify("1111").attempts_left for _ in range(4)] == [4, 3, 2, 1]
    assert g.verify(PIN).ok
    assert g.attempts_left() == 5  # a success forgives earlier mistakes


def test_five_wrong_lock_for_five_minutes(tmp_path):
    clock = Clock()
    g = gate(tmp_path, clock)
    results = [g.verify("1111") for _ in range(5)]
    assert results[-1].outcome is Outcome.WRONG and results[-1].seconds_left == 300
    locked = g.verify(PIN)  # even the right PIN is refused while locked
    assert locked.outcome is Outcome.LOCKED and locked.seconds_left == 300
    clock.t += 299.5
    assert g.verify(PIN).outcome is Outcome.LOCKED
    assert g.seconds_locked() == 1
    clock.t += 0.5
    assert g.seconds_locked() == 0
    assert g.verify(PIN).ok


def test_after_a_lock_ends_there_are_five_new_tries(tmp_path):
    clock = Clock()
    g = gate(tmp_path, clock)
    lock_out(g)
    clock.t += 300
    assert g.verify("1111").attempts_left == 4


def test_lock_survives_a_new_gate_on_the_same_state_file(tmp_path):
    clock = Clock()
    lock_out(gate(tmp_path, clock))
    clock.t += 100
    again = gate(tmp_path, clock)  # the kiosk app restarted within the same boot
    result = again.verify(PIN)
    assert result.outcome is Outcome.LOCKED and result.seconds_left == 200
    clock.t += 200
    assert again.verify(PIN).ok


def test_lock_survives_a_reboot(tmp_path):
    clock = Clock(5000.0)
    lock_out(gate(tmp_path, clock))
    clock.t += 120
    gate(tmp_path, clock).verify(PIN)  # a try while locked records the time still to serve
    rebooted = gate(tmp_path, Clock(3.0), boot_id="boot-b")  # monotonic time starts again
    assert rebooted.seconds_locked() == 180
    assert rebooted.verify(PIN).outcome is Outcome.LOCKED


def test_reboot_never_makes_a_lock_longer_than_one_lockout(tmp_path):
    (tmp_path / "lock.json").write_text(json.dumps(
        {"schema": 1, "failures": 5, "boot_id": "x", "locked_deadline": 9e9, "locked_remaining_s": 9e9}))
    assert gate(tmp_path, Clock(), boot_id="x").seconds_locked() == 300


def test_failed_tries_survive_a_restart(tmp_path):
    clock = Clock()
    g = gate(tmp_path, clock)
    for _ in range(3):
        g.verify("1111")
    again = gate(tmp_path, clock, boot_id="boot-b")
    assert again.verify("1111").attempts_left == 1  # rebooting bought no extra tries


def test_corrupt_state_file_fails_closed(tmp_path, caplog):
    (tmp_path / "lock.json").write_text("{not json")
    g = gate(tmp_path, Clock())
    assert g.verify(PIN).outcome is Outcome.LOCKED
    assert "unreadable" in caplog.text
    assert json.loads((tmp_path / "lock.json").read_text())["locked_remaining_s"] == 300


@pytest.mark.parametrize("state", ['{"locked_remaining_s": "abc"}', '[1, 2]', '{"failures": "many"}'])
def test_state_file_with_wrong_types_fails_closed(tmp_path, state):
    (tmp_path / "lock.json").write_text(state)
    g = gate(tmp_path, Clock())
    assert g.verify(PIN).outcome is Outcome.LOCKED


def test_state_file_holds_no_pin(tmp_path):
    g = gate(tmp_path, Clock())
    g.verify("135790")
    g.verify(PIN)
    text = (tmp_path / "lock.json").read_text()
    assert "135790" not in text and PIN not in text and HASH not in text


def test_unwritable_state_file_still_locks_in_memory(tmp_path, caplog):
    (tmp_path / "not-a-dir").write_text("")  # the state file's folder is a file: every write fails
    g = PinGate(HASH, clock=Clock(), state_file=tmp_path / "not-a-dir" / "lock.json", boot_id="a")
    lock_out(g)
    assert g.verify(PIN).outcome is Outcome.LOCKED
    assert "cannot write maintenance lock state" in caplog.text


def test_no_state_file_is_memory_only(tmp_path):
    g = PinGate(HASH, clock=Clock(), boot_id="a")
    lock_out(g)
    assert g.verify(PIN).outcome is Outcome.LOCKED
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["", "plain-text-pin", "pbkdf2_sha256$x$00$00", "md5$1$00$00",
                                 "pbkdf2_sha256$1000$zz$00"])
def test_empty_or_malformed_hash_disables_maintenance(tmp_path, bad, caplog):
    g = PinGate(bad, clock=Clock(), state_file=tmp_path / "lock.json")
    assert not g.enabled and not hash_is_usable(bad)
    assert g.verify("").outcome is Outcome.DISABLED
    assert g.verify("1234").outcome is Outcome.DISABLED
    assert "maintenance is disabled" in caplog.text


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        PinGate(HASH, attempts=0)
