"""A printer out of paper, reported by the real agent: one alert, told to the team of that county only;
paper back: cleared. A printer that keeps toggling: one "flapping" notification, not a storm."""

from __future__ import annotations

from tests.fixtures_fleet import alert_rows, notification_rows
from tests.fixtures_mqtt import KIOSK_ID, status_doc, wait_until

RULES = """
[flapping]
changes = 4
window_s = 120
"""


def _status(holder: dict):
    return lambda: status_doc(holder["components"])


def _alert(mon, status: str):
    return wait_until(lambda: next((a for a in alert_rows(mon.engine, KIOSK_ID, "printer_paper_out")
                                    if a["status"] == status), None),
                      what=f"the paper-out alert to be {status}", seen=lambda: alert_rows(mon.engine, KIOSK_ID))


def test_paper_out_opens_one_alert_for_its_team_and_clears(agent_factory, monitor_factory):
    mon = monitor_factory(RULES)
    holder = {"components": {"printer": ("ok", "ok"), "card_reader": ("ok", "ok")}}
    agent_factory(_status(holder))
    wait_until(lambda: mon.ingest.counters()["messages"].get("state"), what="the first state")

    holder["components"] = {"printer": ("fault", "paper_out"), "card_reader": ("ok", "ok")}
    a = _alert(mon, "active")
    assert a["severity"] == "major" and a["details"]["component"] == "printer"
    assert a["details"]["code"] == "paper_out" and a["details"]["zh"] == "paper_out", "the driver's own words"
    rows = notification_rows(mon.engine, a["id"])
    assert {n["team_id"] for n in rows} == {"team-a"} and {n["kind"] for n in rows} == {"open"}
    assert len(rows) == 2, "one row per channel of team-a"
    assert rows[0]["payload"]["mention"] == ["13800000001"], "a major alert @s the primary contact"

    holder["components"] = {"printer": ("ok", "ok"), "card_reader": ("ok", "ok")}
    _alert(mon, "cleared")
    assert [n["kind"] for n in notification_rows(mon.engine, a["id"])].count("clear") == 2
    assert len(alert_rows(mon.engine, KIOSK_ID, "printer_paper_out")) == 1


def test_flapping_printer_gives_one_flapping_notice_not_a_storm(agent_factory, monitor_factory):
    mon = monitor_factory(RULES)
    holder = {"components": {"printer": ("ok", "ok")}}
    agent_factory(_status(holder))
    wait_until(lambda: mon.ingest.counters()["messages"].get("state"), what="the first state")
    out, ok = {"printer": ("fault", "paper_out")}, {"printer": ("ok", "ok")}
    for _ in range(2):  # open, clear, open, clear: each one notified
        holder["components"] = out
        _alert(mon, "active")
        holder["components"] = ok
        _alert(mon, "cleared")
    holder["components"] = out  # the fifth change within the window: flapping
    wait_until(lambda: alert_rows(mon.engine, KIOSK_ID, "printer_paper_out")[0]["flapping"], what="flapping")
    for n in range(3):  # keeps toggling: counted, not notified
        holder["components"] = ok if n % 2 == 0 else out
        wait_until(lambda n=n: len(alert_rows(mon.engine, KIOSK_ID, "printer_paper_out")[0]["flaps"]) >= 6 + n,
                   what="the toggle to be counted")
    a = alert_rows(mon.engine, KIOSK_ID, "printer_paper_out")
    assert len(a) == 1 and a[0]["status"] == "active" and a[0]["flapping"], "held active while flapping"
    kinds = [n["kind"] for n in notification_rows(mon.engine, a[0]["id"]) if n["channel"] == "robot"]
    assert kinds == ["open", "clear", "open", "clear", "flapping"], kinds


def test_the_a4_printer_out_of_paper_is_its_own_alert_beside_the_receipt_printer(agent_factory, monitor_factory):
    """The hall's A4 printer reports under its own component: its paper out opens the A4 alert for the team,
    and the receipt printer's alert stays shut."""
    mon = monitor_factory(RULES)
    holder = {"components": {"printer": ("ok", "ok"), "a4_printer": ("ok", "ok")}}
    agent_factory(_status(holder))
    wait_until(lambda: mon.ingest.counters()["messages"].get("state"), what="the first state")

    holder["components"] = {"printer": ("ok", "ok"), "a4_printer": ("fault", "paper_out")}
    a = wait_until(lambda: next(iter(alert_rows(mon.engine, KIOSK_ID, "a4_printer_paper_out")), None),
                   what="the A4 paper-out alert", seen=lambda: alert_rows(mon.engine, KIOSK_ID))
    assert a["status"] == "active" and a["details"]["component"] == "a4_printer"
    assert {n["team_id"] for n in notification_rows(mon.engine, a["id"])} == {"team-a"}
    assert alert_rows(mon.engine, KIOSK_ID, "printer_paper_out") == []
