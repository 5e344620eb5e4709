"""A kiosk whose agent process is killed (a power cut): the broker's Last Will makes the monitor open
the offline alert, and the team covering that kiosk's county — only that team — gets notification rows.
The agent back: the alert clears and a clear row follows."""

from __future__ import annotations

from tests.fixtures_fleet import alert_rows, notification_rows
from tests.fixtures_mqtt import KIOSK_ID, wait_until, write_status

RULES = """
[[rules]]
id = "kiosk_offline"
type = "offline"
severity = "critical"
for_s = 0
group_wait_s = 5
"""


def test_killed_agent_opens_offline_alert_for_its_team_and_clears_when_back(agent_process, monitor_factory):
    mon = monitor_factory(RULES)
    agent = agent_process(keepalive=2)
    write_status(agent.status_file, {"printer": ("ok", "ok")})
    agent.start()
    wait_until(lambda: mon.ingest.counters()["messages"].get("state"), what="the first state",
               seen=agent.log_tail)
    assert not alert_rows(mon.engine, KIOSK_ID, "kiosk_offline"), "an online kiosk has no offline alert"

    agent.kill()
    alert = wait_until(lambda: next((a for a in alert_rows(mon.engine, KIOSK_ID, "kiosk_offline")
                                     if a["status"] == "active"), None), what="the offline alert")
    assert alert["severity"] == "critical" and alert["details"]["reason"] == "connection_lost"
    assert alert["site_id"] == "hall-a"
    opened = [n for n in notification_rows(mon.engine, alert["id"]) if n["kind"] == "open"]
    # team-a covers county-a (two channels); team-b is not told about a hall it does not cover.
    assert sorted((n["team_id"], n["channel"]) for n in opened) == [("team-a", "robot"), ("team-a", "wecom")]
    p = opened[0]["payload"]
    assert p["where"]["site"]["zh"] == "城关区第一服务大厅" and p["where"]["county"]["zh"] == "城关区"
    assert p["link"] == f"http://fleet.test/alerts/{alert['id']}" and p["mention"] == ["13800000001"]
    assert p["group_key"] == "team-a|hall-a|open|kiosk_offline" and p["what"]["zh"] == "自助机离线"
    assert abs(opened[0]["next_attempt_ts"] - (opened[0]["created_ts"] + 5)) < 1e-6, "group_wait_s applies"

    agent.start()
    wait_until(lambda: alert_rows(mon.engine, KIOSK_ID, "kiosk_offline")[0]["status"] == "cleared",
               what="the offline alert to clear", seen=lambda: alert_rows(mon.engine, KIOSK_ID))
    cleared = [n for n in notification_rows(mon.engine, alert["id"]) if n["kind"] == "clear"]
    assert sorted(n["channel"] for n in cleared) == ["robot", "wecom"] and cleared[0]["payload"]["mention"] == []
    assert len(alert_rows(mon.engine, KIOSK_ID, "kiosk_offline")) == 1, "one alert, cleared, not a second one"
