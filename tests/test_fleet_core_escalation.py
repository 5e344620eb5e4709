"""Escalation and restarts. The evaluator is driven round by round with explicit times (timers are
derived from the database, so a round at t0 + 61 s is what a monitor would do one minute later)."""

from __future__ import annotations

import time

from central.fleet.alerts import acknowledge, resolve
from kiosk import fleet_wire
from tests.fixtures_fleet import alert_rows, notification_rows, state_payload
from tests.fixtures_mqtt import wait_until

RULES = """
[escalation]
after_s = 60
remind_every_s = 0
"""


def _publish_states(pub, mon, states: dict[str, dict]) -> None:
    before = mon.ingest.counters()["messages"].get("state", 0)
    for k, comps in states.items():
        pub.send(fleet_wire.topic(k, fleet_wire.KIND_STATE), state_payload(k, comps, interval_s=3600.0),
                 retain=True)
    wait_until(lambda: mon.ingest.counters()["messages"].get("state", 0) >= before + len(states)
               and mon.ingest.drained(), what="the states to be stored")


def _one(engine, kiosk_id: str) -> dict:
    rows = alert_rows(engine, kiosk_id)
    assert len(rows) == 1, rows
    return rows[0]


def test_unacknowledged_critical_escalates_once_acknowledged_does_not(monitor_factory, mqtt_publisher):
    mon = monitor_factory(RULES, evaluate=False)
    down = {"card_reader": ("fault", "not_answering")}
    _publish_states(mqtt_publisher, mon, {"a-k2": down, "a-k3": down})
    t0 = time.time()
    mon.evaluator.run_once(now=t0)
    assert {a["status"] for a in alert_rows(mon.engine)} == {"pending"}, "for_s 10: pending first"
    mon.evaluator.run_once(now=t0 + 11)
    assert {a["status"] for a in alert_rows(mon.engine)} == {"active"}
    assert acknowledge(mon.engine, _one(mon.engine, "a-k3")["id"], "zhuoma", now=t0 + 20)
    assert not acknowledge(mon.engine, _one(mon.engine, "a-k3")["id"], "zhuoma", now=t0 + 21), "already acked"
    mon.evaluator.run_once(now=t0 + 50)
    assert not [n for n in notification_rows(mon.engine) if n["kind"] == "escalate"], "not yet"
    mon.evaluator.run_once(now=t0 + 72)
    mon.evaluator.run_once(now=t0 + 100)
    esc = [n for n in notification_rows(mon.engine) if n["kind"] == "escalate"]
    k2 = _one(mon.engine, "a-k2")
    assert {n["alert_id"] for n in esc} == {k2["id"]}, "the acknowledged alert is not escalated"
    assert len(esc) == 2, "once, on each of team-a's two channels"
    assert esc[0]["payload"]["mention"] == ["13800000002"], "the team's second contact"
    assert k2["escalated_ts"] == t0 + 72


def test_restarted_monitor_keeps_alerts_acks_and_timers(monitor_factory, mqtt_publisher):
    m1 = monitor_factory(RULES, evaluate=False)
    _publish_states(mqtt_publisher, m1, {"a-k2": {"card_reader": ("fault", "sam_fault")},
                                         "a-k3": {"printer": ("fault", "paper_out")}})
    t0 = time.time()
    m1.evaluator.run_once(now=t0)
    paper = _one(m1.engine, "a-k3")
    assert paper["status"] == "active" and _one(m1.engine, "a-k2")["status"] == "pending"
    assert acknowledge(m1.engine, paper["id"], "zhuoma", now=t0 + 1)
    m1.stop()

    m2 = monitor_factory(RULES, evaluate=False)  # a new process: new engine, new client, same database
    wait_until(lambda: m2.ingest.counters()["messages"].get("state", 0) >= 2 and m2.ingest.drained(),
               what="the retained states")
    m2.evaluator.run_once(now=t0 + 5)
    assert _one(m2.engine, "a-k2")["status"] == "pending", "the pending timer did not restart from zero..."
    m2.evaluator.run_once(now=t0 + 10.5)
    reader = _one(m2.engine, "a-k2")
    assert reader["status"] == "active" and reader["active_ts"] == t0 + 10.5, "...it opened at pending_ts + for_s"
    paper = _one(m2.engine, "a-k3")
    assert paper["acked"] and paper["acked_by"] == "zhuoma" and paper["status"] == "active"
    m2.evaluator.run_once(now=t0 + 71)
    assert _one(m2.engine, "a-k2")["escalated_ts"] == t0 + 71, "escalation counts from the original active_ts"
    assert not _one(m2.engine, "a-k3")["escalated_ts"]
    # Resolving by hand closes it; its condition still holds, so the next round opens a new alert.
    assert resolve(m2.engine, paper["id"], "zhuoma", now=t0 + 80)
    assert not resolve(m2.engine, paper["id"], "zhuoma", now=t0 + 81)
    m2.evaluator.run_once(now=t0 + 82)
    statuses = [a["status"] for a in alert_rows(m2.engine, "a-k3")]
    assert statuses == ["closed", "active"]
