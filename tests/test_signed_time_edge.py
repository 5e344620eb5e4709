"""Trusted time on a real `kiosk edge serve` whose clock is wrong (libfaketime), and signed content
announcements. With the clock at 2019 (behind a time the kiosk had already proven) or three years ahead,
the origin unreachable: the last good content still serves, submissions are taken, and the fleet state says
the clock is not trusted. With a trusted clock an expired announcement is refused; a valid one syncs."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk import fleet_wire
from kiosk.edge_client import EdgeClient
from kiosk.fleet_signing import sign_announcement, sign_command, target_of
from tests.fixtures_edge import make_id, pack_files
from tests.fixtures_mqtt import wait_until
from tests.fixtures_signed import KIOSK, admin_key, faketime_env, result_for, send

TOPICS = [f"kiosk/v1/{KIOSK}/#"]
STATE = fleet_wire.topic(KIOSK, fleet_wire.KIND_STATE)
EVENTS = fleet_wire.topic(KIOSK, fleet_wire.KIND_EVENTS)


def _corroborate(edge, sub) -> None:
    """A genuine signed command: the kiosk learns a signed time (and keeps it as its high-water mark)."""
    cmd = sign_command("restart_component", {}, target_of(kiosk=KIOSK), admin_key(edge), edge.key_id)
    send(edge.broker_port, cmd)
    assert "does not offer" in result_for(sub, cmd.id)["message"]


def _serves_and_takes_submissions(edge, n: int) -> str:
    client = EdgeClient(edge.url)
    assert any(s["id"] == "old-age-allowance" for s in client.services())  # the last good content
    answer = client.submit("old-age-allowance", {"phone": "13912345678", "account": "bank", "agree": True},
                           {"id_number": make_id(n), "name": "test"})
    return answer["tracking_number"]


def _clock_state(sub, code: str) -> dict:
    return sub.wait_for(STATE, lambda d: (d.get("components") or {}).get("clock", {}).get("code") == code,
                        f"a state with clock {code}")


def test_clock_in_2019_behind_what_was_proven_still_serves_and_is_reported(signed_edge, subscriber_factory):
    edge = signed_edge(origin_url="http://127.0.0.1:9")  # origin unreachable
    edge.start()
    sub = subscriber_factory(TOPICS)
    _corroborate(edge, sub)
    assert (edge.data / "trusted-time.json").exists()
    edge.stop()

    edge.env = faketime_env("@2019-03-01 08:00:00")  # a box with no RTC battery, booted offline
    edge.start()
    st = _clock_state(sub, "clock_behind")
    assert st["components"]["clock"]["level"] == "fault" and st["clock_trusted"] is False
    assert st["clock_offset_s"] < -365 * 86400  # years behind: the fleet's clock_wrong rule fires on it
    assert _serves_and_takes_submissions(edge, 41)


def test_clock_three_years_ahead_still_serves_and_is_not_trusted(signed_edge, subscriber_factory):
    edge = signed_edge(origin_url="http://127.0.0.1:9", env=faketime_env("+3y"))
    edge.start()
    sub = subscriber_factory(TOPICS)
    st = _clock_state(sub, "clock_not_trusted")
    assert st["components"]["clock"]["level"] == "degraded" and st["clock_trusted"] is False
    assert _serves_and_takes_submissions(edge, 42)
    # A genuine command signed seconds ago (on the admin's real clock) is not expired for this kiosk.
    _corroborate(edge, sub)
    st = sub.wait_for(STATE, lambda d: (d.get("clock_offset_s") or 0) > 2 * 365 * 86400,
                      "the state with the clock's offset from the signed time")
    assert st["clock_trusted"] is True  # the signed time, carried forward, is what expiry now uses


def _announce(port: int, body: bytes) -> None:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        c.publish(fleet_wire.CONTENT_TOPIC, body, qos=1, retain=True).wait_for_publish(10)
    finally:
        c.disconnect()
        c.loop_stop()


def test_announcements_are_verified_an_expired_one_is_refused_on_a_trusted_clock(signed_edge, subscriber_factory,
                                                                                origin, publisher):
    edge = signed_edge(origin_url=origin.url)
    edge.write_config()  # sync only when told: the announcement is what must trigger it
    edge.config.write_text(edge.config.read_text().replace("poll_interval_s = 2", "poll_interval_s = 3600"))
    publisher.key, publisher.key_id = admin_key(edge), edge.key_id
    publisher.publish(pack_files(), 1)
    from edge.store import ContentStore
    from tests.fixtures_edge import install_pack
    install_pack(ContentStore(edge.data / "content"), pack_files(), 1)
    edge.start()
    sub = subscriber_factory(TOPICS)
    _corroborate(edge, sub)  # the clock is trusted now
    publisher.publish(pack_files("v2"), 2)
    client = EdgeClient(edge.url)

    _announce(edge.broker_port, sign_announcement(2, admin_key(edge), edge.key_id, valid_for=timedelta(minutes=-5)))
    ev = sub.wait_for(EVENTS, lambda d: d.get("details", {}).get("command") == "content_announcement",
                      "the refused announcement event")
    assert ev["code"] == "rejected" and ev["details"]["reason"].startswith("expired")
    forged = sign_announcement(2, admin_key(edge), "someone-else")
    _announce(edge.broker_port, forged)
    sub.wait_for(EVENTS, lambda d: "unknown_key" in d.get("details", {}).get("reason", ""),
                 "the announcement signed with an unpinned key refused")
    assert client.status()["content"]["active_version"] == 1  # neither triggered a sync

    out = subprocess.run([sys.executable, "-m", "kiosk", "admin", "content", "announce", "--version", "2",
                          "--key", str(edge.key_file), "--key-id", edge.key_id,
                          "--broker", f"127.0.0.1:{edge.broker_port}"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "announced content version 2" in out.stdout, out.stderr
    wait_until(lambda: client.status()["content"]["active_version"] == 2, what="the announced version synced")
