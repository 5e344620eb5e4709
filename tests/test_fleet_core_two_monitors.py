"""Two monitor processes' worth of work (each its own MQTT client and engine) on one database and one
shared subscription: the fleet's messages are split between them, and still every alert is opened once
and every notification row exists once."""

from __future__ import annotations

import random

from kiosk import fleet_wire
from tests.fixtures_fleet import alert_rows, notification_rows, state_payload
from tests.fixtures_mqtt import wait_until

KIOSKS = ["a-k2", "a-k3", "a-k4", "b-k1", "b-k2"]
RULES = '[[rules]]\nid = "speech_failing"\ntype = "component"\ncomponent = "voice"\nseverity = "major"\n' \
    'codes = ["tts_failed"]\n'


def test_two_monitors_open_each_alert_once(monitor_factory, mqtt_publisher):
    seed = random.randrange(1 << 30)
    print(f"seed={seed}")
    rng = random.Random(seed)
    m1 = monitor_factory(RULES, client_id="mon-one")
    m2 = monitor_factory(RULES, client_id="mon-two")
    for round_ in range(4):  # ok, then faults, republished: both monitors see some of every kind
        for k in rng.sample(KIOSKS, len(KIOSKS)):
            comps = {"printer": ("fault", "paper_out") if round_ else ("ok", "ok"),
                     "voice": ("fault", "tts_failed") if round_ and k.startswith("b") else ("ok", "ok")}
            at = f"2025-05-01T08:00:0{round_}+00:00"  # the kiosk's own time orders its states
            mqtt_publisher.send(fleet_wire.topic(k, fleet_wire.KIND_STATE),
                                state_payload(k, comps, disk_used_pct=50.0, at=at))

    def opened():
        return [a for a in alert_rows(m1.engine) if a["status"] == "active"]
    wait_until(lambda: len(opened()) >= 7, what="7 alerts", seen=opened)
    for m in (m1, m2):  # a few more rounds each, racing on the same rows
        m.evaluator.run_once()
    got = sorted((a["kiosk_id"], a["rule_id"]) for a in alert_rows(m1.engine))
    want = sorted([(k, "printer_paper_out") for k in KIOSKS] + [("b-k1", "speech_failing"),
                                                                ("b-k2", "speech_failing")])
    assert got == want, "every alert exactly once"
    notes = notification_rows(m1.engine)
    keys = [(n["alert_id"], n["team_id"], n["channel"], n["kind"]) for n in notes]
    assert len(keys) == len(set(keys)), "no notification twice"
    assert len(notes) == 3 * 2 + 4, "team-a: 3 alerts x 2 channels; team-b: 4 alerts x 1 channel"
    c1, c2 = m1.ingest.counters(), m2.ingest.counters()
    assert c1["messages"].get("state", 0) + c2["messages"].get("state", 0) == 20
    assert c1["messages"].get("state") and c2["messages"].get("state"), "the shared subscription split the work"
