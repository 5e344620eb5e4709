"""The whole fleet path as a maintenance team sees it: a kiosk's agent (its own process) -> a real Mosquitto
-> `kiosk fleet serve` (its own process: ingest, rules, alerts, dispatcher, dashboard) -> the team's webhook.

The sink is the demo's own (ui/demo_fleet.py), a real HTTP server on a free port.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.netutil import free_port
from tests.fixtures_mqtt import KIOSK_ID, WAIT_S, wait_until, write_status
from ui.demo.fleet import NotificationSink, about

ROOT = Path(__file__).resolve().parents[1]
OK = {"printer": ("ok", "ok"), "card_reader": ("ok", "ok")}
PAPER_OUT = {**OK, "printer": ("fault", "paper_out")}
RULES = """
[flapping]
changes = 4
window_s = 600

[[rules]]           # the Last Will is the evidence: no extra wait, a short one to group a hall
id = "kiosk_offline"
type = "offline"
severity = "critical"
group_wait_s = 1
"""


@pytest.fixture
def fleet(tmp_path, broker):
    from central.fleet.inventory import sample_inventory
    from ui.demo.config import config_toml

    sink = NotificationSink(free_port(), lambda line: print(line, flush=True))
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(sample_inventory(30, first_hall=(KIOSK_ID,),
                                          webhook_base=f"http://127.0.0.1:{sink.server.server_port}/hook"))
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    cfg = tmp_path / "fleet.toml"
    cfg.write_text(config_toml({
        "monitor": {"db": f"sqlite:///{tmp_path / 'fleet.sqlite3'}", "inventory": inventory, "rules": rules,
                    "evaluate_every_s": 0.2},
        "broker": {"port": broker.port, "client_id": "e2e-monitor"},
        "web": {"listen_port": free_port()},
    }))
    log = open(tmp_path / "monitor.log", "wb")  # noqa: SIM115 - lives with the process
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "fleet", "serve", "--fleet-config", str(cfg)],
                            cwd=ROOT, stdout=log, stderr=log)
    sink.db = tmp_path / "fleet.sqlite3"
    yield sink
    proc.terminate()
    proc.wait(timeout=30)
    log.close()
    sink.close()


def _team(doc: dict) -> str:
    return str(doc.get("team_id"))


def _online(subscriber_factory) -> None:
    from kiosk import fleet_wire

    topic = fleet_wire.topic(KIOSK_ID, fleet_wire.KIND_AVAILABILITY)
    subscriber_factory([topic]).wait_for(topic, lambda p: p["online"], "the kiosk's birth message")


def _flaps(db_path) -> int:
    """How many opens and clears the monitor has counted for the printer alert (its own database)."""
    import json
    import sqlite3

    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT flaps FROM alerts WHERE rule_id = 'printer_paper_out' ORDER BY id DESC").fetchone()
    return len(json.loads(row[0])) if row else 0


def test_a_killed_kiosk_reaches_its_team_as_offline_and_its_return_as_cleared(fleet, agent_process,
                                                                             subscriber_factory):
    agent = agent_process()
    write_status(agent.status_file, OK)
    agent.start()
    _online(subscriber_factory)
    agent.kill()  # a power cut: no goodbye, the broker's Last Will speaks for it
    opened = fleet.wait_for(lambda d: about(d, KIOSK_ID, "open"), WAIT_S * 2)
    assert opened is not None, "no offline notification reached the team"
    assert _team(opened) == "team-lhasa" and opened["alerts"][0]["rule_id"] == "kiosk_offline"
    agent.start()
    assert fleet.wait_for(lambda d: about(d, KIOSK_ID, "clear"), WAIT_S * 2) is not None, "no clear notification"
    assert {_team(d) for d in fleet.received} == {"team-lhasa"}  # no other team hears of this hall


def test_paper_out_is_one_alert_for_the_right_team_and_a_flapping_printer_no_storm(fleet, agent_process,
                                                                                   subscriber_factory):
    agent = agent_process()
    write_status(agent.status_file, OK)
    agent.start()
    _online(subscriber_factory)
    write_status(agent.status_file, PAPER_OUT)
    opened = fleet.wait_for(lambda d: about(d, KIOSK_ID, "open"), WAIT_S)
    assert opened is not None and opened["alerts"][0]["rule_id"] == "printer_paper_out"
    write_status(agent.status_file, OK)
    assert fleet.wait_for(lambda d: about(d, KIOSK_ID, "clear"), WAIT_S) is not None

    def printer_notes() -> list[dict]:
        return [d for d in fleet.received if any(a.get("rule_id") == "printer_paper_out" for a in d["alerts"])]

    counted = _flaps(fleet.db)
    for i in range(12):  # paper in and out, again and again: a loose roll holder
        write_status(agent.status_file, PAPER_OUT if i % 2 == 0 else OK)
        wait_until(lambda n=counted + i + 1: _flaps(fleet.db) >= n, what=f"the monitor to count change {i + 1}")
    assert fleet.wait_for(lambda d: about(d, KIOSK_ID, "flapping"), WAIT_S) is not None
    flapping = [d for d in printer_notes() if d["kind"] == "flapping"]
    assert len(flapping) == 1
    # the opens and clears before the damping started, and nothing since: far fewer than the 14 changes
    assert len(printer_notes()) <= 6, [d["kind"] for d in printer_notes()]
    assert {_team(d) for d in fleet.received} == {"team-lhasa"}
