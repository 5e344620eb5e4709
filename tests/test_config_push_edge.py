"""Signed configuration pushes to a real `kiosk edge serve` over a real Mosquitto: applied (the edge restarts
into the new file and says so on cmd/result and in its state), rolled back when the new config breaks health,
and refused — forged, replayed, expired on a trusted clock, for another site — with the file untouched."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import timedelta

from kiosk import fleet_wire
from kiosk.fleet_signing import sign_command, target_of
from tests.fixtures_edge import REPO
from tests.fixtures_signed import KIOSK, SITE, admin_key, other_key, rejection_event, result_for, send

TOPICS = [f"kiosk/v1/{KIOSK}/#"]


def _push(edge, tmp_path, body: str, *who: str) -> subprocess.CompletedProcess:
    f = tmp_path / "push.toml"
    f.write_text(body, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "kiosk", "admin", "config", "push", *(who or ("--kiosk", KIOSK)),
                           str(f), "--key", str(edge.key_file), "--key-id", edge.key_id,
                           "--broker", f"127.0.0.1:{edge.broker_port}", "--wait", "60"],
                          cwd=REPO, capture_output=True, text=True, timeout=90)


def test_a_valid_push_is_applied_after_a_restart_and_reported(tmp_path, signed_edge, subscriber_factory):
    edge = signed_edge().start()
    sub = subscriber_factory(TOPICS)
    pid = edge.proc.proc.pid
    out = _push(edge, tmp_path, "[kiosk]\nidle_timeout_s = 120\n\n[devices.printer]\nport = \"/dev/null\"\nwidth_dots = 384\n")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{KIOSK}: applied" in out.stdout and "1 of 1 applied" in out.stdout
    cfg = tomllib.loads(edge.config.read_text())
    assert cfg["kiosk"]["idle_timeout_s"] == 120 and cfg["devices"]["printer"]["width_dots"] == 384
    assert cfg["kiosk"]["id"] == KIOSK and cfg["edge"]["admin_keys"][0]["key_id"] == edge.key_id  # the rest kept
    assert edge.config.with_name("kiosk.toml.prev").exists()
    assert edge.proc.proc.poll() is None and edge.proc.proc.pid == pid  # re-executed in place, still serving
    assert "config_applied" in _audited(edge)
    state = sub.wait_for(fleet_wire.topic(KIOSK, fleet_wire.KIND_STATE),
                         lambda d: isinstance(d.get("config_version"), int), "the state with the config version")
    assert state["config_version"] > 0


def test_a_config_that_breaks_health_is_rolled_back_and_reported(tmp_path, signed_edge):
    edge = signed_edge().start()
    before = edge.config.read_bytes()
    out = _push(edge, tmp_path, '[devices.printer]\nenabled = true\nport = "/dev/kiosk-test-no-such-printer"\n')
    assert out.returncode == 1
    assert f"{KIOSK}: rolled back" in out.stdout and "/dev/kiosk-test-no-such-printer" in out.stdout
    assert edge.config.read_bytes() == before  # the previous file is back, byte for byte
    assert edge.proc.proc.poll() is None
    assert "config_rolled_back" in _audited(edge)


def _audited(edge) -> list[str]:
    """The events in the edge's hash-chained audit log (where `[audit] path` defaults to)."""
    from kiosk.audit import read_entries

    return [e["event"] for e in read_entries(edge.data.parent / "audit" / "audit.sqlite3")]


def test_an_invalid_file_is_refused_before_anything_is_sent(tmp_path, signed_edge, subscriber_factory):
    edge = signed_edge().start()
    sub = subscriber_factory(TOPICS)
    out = _push(edge, tmp_path, "[kiosk]\nidle_timeout_s = 5\n[printer]\nport = 1\n")
    assert out.returncode == 1
    assert "kiosk.idle_timeout_s" in out.stderr and "printer: unknown key" in out.stderr
    assert sub.raw(fleet_wire.topic(KIOSK, fleet_wire.KIND_CMD)) == []


def test_forged_replayed_expired_and_misdirected_pushes_are_rejected_and_reported(tmp_path, signed_edge,
                                                                                  subscriber_factory):
    edge = signed_edge().start()
    sub = subscriber_factory(TOPICS)
    before = edge.config.read_bytes()
    key = admin_key(edge)
    args = {"toml": "[kiosk]\nidle_timeout_s = 200\n", "config_version": 10}

    def push(cmd: fleet_wire.Command) -> dict:
        send(edge.broker_port, cmd)
        return result_for(sub, cmd.id)

    forged = sign_command("config", args, target_of(kiosk=KIOSK), other_key(tmp_path), edge.key_id)
    r = push(forged)
    assert r["result"] == "rejected" and r["message"].startswith("bad_signature")
    assert "bad_signature" in rejection_event(sub, forged.id)["details"]["reason"]

    unsigned = fleet_wire.Command(id="u" * 16, kind="config", args=args)
    assert push(unsigned)["message"].startswith("unsigned")

    tampered = sign_command("config", args, target_of(kiosk=KIOSK), key, edge.key_id)
    tampered = tampered.model_copy(update={"args": {**args, "toml": "[kiosk]\nidle_timeout_s = 300\n"}})
    assert push(tampered)["message"].startswith("mismatch")

    elsewhere = sign_command("config", args, target_of(site="hall-99"), key, edge.key_id)
    r = push(elsewhere)
    assert r["result"] == "rejected" and "wrong_target" in r["message"] and "hall-99" in r["message"]

    # A genuine command for the kiosk's site passes verification (this edge offers no restart_component, so
    # that is the answer), sets the version mark and, issued seconds ago, corroborates the kiosk's clock.
    first = sign_command("restart_component", {}, target_of(site=SITE), key, edge.key_id, version=2_000)
    assert "does not offer" in push(first)["message"]
    replay = sign_command("config", args, target_of(kiosk=KIOSK), key, edge.key_id, version=1_999)
    r = push(replay)
    assert r["result"] == "rejected" and r["message"].startswith("replayed")

    expired = sign_command("config", args, target_of(kiosk=KIOSK), key, edge.key_id,
                           valid_for=timedelta(seconds=-60))
    r = push(expired)
    assert r["result"] == "rejected" and r["message"].startswith("expired")
    assert rejection_event(sub, expired.id)["level"] == "degraded"

    assert edge.config.read_bytes() == before  # nothing refused touched the file
    log = edge.log()
    assert log.count('"command refused"') >= 6
