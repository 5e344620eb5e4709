"""Ingest against bad input (counted by reason, dropped, and the next good message still processed),
event dedupe and sequence gaps, unregistered kiosks, the inventory applied again, and commands."""

from __future__ import annotations

import base64
import json
import uuid

from sqlalchemy import select

from central.fleet import db
from central.fleet.commands import CommandError, result
from central.fleet.inventory import apply, parse_inventory
from kiosk import fleet_wire
from kiosk.wire import now_iso
from tests.fixtures_fleet import TEST_INVENTORY, alert_rows, notification_rows, state_payload
from tests.fixtures_mqtt import KIOSK_ID, status_doc, wait_until


def _kiosk(engine, kiosk_id: str) -> dict | None:
    with engine.connect() as c:
        r = c.execute(select(db.kiosks).where(db.kiosks.c.id == kiosk_id)).first()
    return dict(r._mapping) if r else None


def _event(kiosk_id: str, seq: int, eid: str | None = None) -> bytes:
    return fleet_wire.encode(fleet_wire.Event(id=eid or uuid.uuid4().hex, kiosk_id=kiosk_id, seq=seq, at=now_iso(),
                                              kind="status", component="printer", level="fault", code="paper_out"))


def test_bad_payloads_are_counted_and_dropped_and_ingest_goes_on(monitor_factory, mqtt_publisher):
    mon = monitor_factory()
    st = fleet_wire.topic("a-k2", fleet_wire.KIND_STATE)
    bad = [
        (st, b"{not json", "not_json"),
        (st, b"x" * (fleet_wire.MAX_PAYLOAD_BYTES + 1), "too_large"),
        (st, json.dumps({"schema": "kiosk.fleet.state/9", "kiosk_id": "a-k2"}).encode(), "wrong_schema"),
        (st, json.dumps({"schema": fleet_wire.SCHEMA_STATE, "kiosk_id": "a-k2"}).encode(), "invalid"),
        (st, state_payload("a-k3"), "wrong_kiosk"),
        ("kiosk/v1/fleet/state", state_payload("a-k2"), "unknown_topic"),
        ("kiosk/v1/Not_A_Kiosk/events", _event("a-k2", 1), "unknown_topic"),
    ]
    for topic, payload, _ in bad:
        mqtt_publisher.send(topic, payload)
    mqtt_publisher.send(st, state_payload("a-k2", {"printer": ("fault", "paper_out")}))
    wait_until(lambda: (_kiosk(mon.engine, "a-k2") or {}).get("state"), what="the good state after the bad ones")
    c = mon.ingest.counters()
    want: dict[str, int] = {}
    for _, _, reason in bad:
        want[reason] = want.get(reason, 0) + 1
    assert c["dropped"] == want and c["messages"] == {"state": 1}
    wait_until(lambda: alert_rows(mon.engine, "a-k2", "printer_paper_out"), what="its alert")

    ev = fleet_wire.topic("a-k2", fleet_wire.KIND_EVENTS)
    dup = uuid.uuid4().hex
    for seq, eid in ((1, dup), (1, dup), (2, None), (5, None)):  # a redelivery, then seqs 3 and 4 missing
        mqtt_publisher.send(ev, _event("a-k2", seq, eid))
    wait_until(lambda: mon.ingest.counters()["messages"].get("events") == 4 and mon.ingest.drained(),
               what="the events")
    c = mon.ingest.counters()
    assert c["duplicates"] == 1 and c["gaps"] == 2
    k = _kiosk(mon.engine, "a-k2")
    assert k["last_seq"] == 5 and k["gaps"] == 2
    mqtt_publisher.send(ev, _event("a-k2", 3))  # late, not lost: one gap filled
    wait_until(lambda: _kiosk(mon.engine, "a-k2")["gaps"] == 1, what="the late event to fill a gap")


def test_unregistered_kiosk_is_listed_and_alerts_without_notifying(monitor_factory, mqtt_publisher):
    mon = monitor_factory()
    stranger = "zz-k9"
    mqtt_publisher.send(fleet_wire.topic(stranger, fleet_wire.KIND_STATE),
                        state_payload(stranger, {"printer": ("fault", "paper_out")}))
    k = wait_until(lambda: _kiosk(mon.engine, stranger), what="the stranger's row")
    assert k["registered"] is False and k["site_id"] is None
    a = wait_until(lambda: alert_rows(mon.engine, stranger), what="its alert")[0]
    assert a["status"] == "active" and notification_rows(mon.engine, a["id"]) == [], "no team covers it"

    # The inventory again, without a-k4 and with the stranger: the stranger is registered, a-k4 is not.
    text = TEST_INVENTORY.replace('"a-k4"]', f'"{stranger}"]')
    counts = apply(mon.engine, parse_inventory(text))
    assert counts["unregistered"] == 1
    assert _kiosk(mon.engine, stranger)["registered"] is True and _kiosk(mon.engine, stranger)["site_id"] == "hall-a"
    assert _kiosk(mon.engine, "a-k4")["registered"] is False, "removed from the file: kept, unregistered"


def test_command_is_answered_and_a_screenshot_stored(agent_factory, monitor_factory):
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(200))
    shots = {"screenshot": lambda args: ("done", "captured", {"jpeg_b64": base64.b64encode(jpeg).decode()})}
    agent_factory(lambda: status_doc({}), handlers=shots)
    mon = monitor_factory()
    wait_until(lambda: _kiosk(mon.engine, KIOSK_ID) and _kiosk(mon.engine, KIOSK_ID)["online"],
               what="the agent online")
    cid = mon.commands.send(KIOSK_ID, "screenshot", {}, "zhuoma")
    row = wait_until(lambda: (r := result(mon.engine, cid)) and r["result"] and r, what="the answer")
    assert row["result"] == "done" and row["issued_by"] == "zhuoma" and row["kind"] == "screenshot"
    assert _kiosk(mon.engine, KIOSK_ID)["screenshot"] == jpeg
    other = mon.commands.send(KIOSK_ID, "self_test", {}, "zhuoma")  # this agent offers none
    assert wait_until(lambda: (result(mon.engine, other) or {}).get("result"), what="the refusal") == "rejected"
    for bad in (("Not A Kiosk", "screenshot"), (KIOSK_ID, "format_disk")):
        try:
            mon.commands.send(bad[0], bad[1], {}, "zhuoma")
        except CommandError as e:
            assert "\n" not in str(e)
        else:
            raise AssertionError(f"{bad} was sent")
