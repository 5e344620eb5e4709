"""`python -m central.fleet.service serve`: the whole monitor in one process against a real broker; its
files validated with readable errors; SIGTERM stops it cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request

import pytest

from central.fleet.inventory import parse_inventory, sample_inventory
from central.fleet.rules import parse_rules
from kiosk.config import ConfigError
from kiosk.netutil import free_port
from tests.fixtures_fleet import TEST_INVENTORY, alert_rows, state_payload
from tests.fixtures_mqtt import ROOT, wait_until


def test_bad_files_get_every_problem_by_key():
    with pytest.raises(ConfigError) as e:
        parse_inventory(TEST_INVENTORY.replace('lang = "bo"', 'lang = "en"').replace('"county-b"]', '"nowhere"]'))
    msg = str(e.value)
    assert "teams.1.lang = 'en'" in msg and "problem(s)" in msg
    with pytest.raises(ConfigError) as e:
        parse_rules('[[rules]]\nid = "disk_full"\ntype = "threshold"\nseverity = "major"\nfield = "disk_used_pct"\n'
                    'above = 90\nclear_below = 95\n')
    assert "rules.0.clear_below" in str(e.value)
    with pytest.raises(ConfigError, match="rules.0.threshold.severity"):
        parse_rules('[[rules]]\nid = "x"\ntype = "threshold"\nseverity = "huge"\nfield = "disk_used_pct"\nabove = 1\n')
    inv = parse_inventory(sample_inventory(40))
    assert len(inv.kiosk_sites()) == 40 and len(inv.prefectures) == 7 and all(t.channels for t in inv.teams)


def test_serve_runs_everything_and_stops_on_sigterm(tmp_path, broker, fleet_db_url, mqtt_publisher):
    from central.fleet import db
    from kiosk import fleet_wire
    (tmp_path / "inventory.toml").write_text(TEST_INVENTORY, encoding="utf-8")
    web_port = free_port()
    (tmp_path / "fleet.toml").write_text(
        f'[monitor]\ndb = "{fleet_db_url}"\ninventory = "{tmp_path / "inventory.toml"}"\nevaluate_every_s = 0.2\n'
        f'[broker]\nport = {broker.port}\nclient_id = "serve-test"\n'
        f'[web]\nlisten_port = {web_port}\n', encoding="utf-8")
    engine = db.connect(fleet_db_url)  # the schema first: two create_all at once can collide on PostgreSQL
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "fleet", "serve", "--fleet-config",
                             str(tmp_path / "fleet.toml")], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _has_kiosks(engine), what="the inventory applied")
        topic = fleet_wire.topic("b-k1", fleet_wire.KIND_STATE)

        def alerted():
            mqtt_publisher.send(topic, state_payload("b-k1", {"printer": ("fault", "paper_out")}), retain=True)
            return alert_rows(engine, "b-k1", "printer_paper_out")
        wait_until(alerted, what="the served monitor to open the alert")
        try:
            from central.fleet.web import make_app  # noqa: F401
        except ImportError:
            pass
        else:
            body = wait_until(lambda: _get(f"http://127.0.0.1:{web_port}/healthz"), what="the dashboard")
            assert b"ok" in body
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.stdout.read().decode(errors="replace")[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_with_a_broken_inventory_says_why_in_plain_words(tmp_path):
    (tmp_path / "inventory.toml").write_text("[[teams]]\nid = 5\n", encoding="utf-8")
    (tmp_path / "fleet.toml").write_text(f'[monitor]\ndb = "sqlite:///{tmp_path}/f.db"\n'
                                         f'inventory = "{tmp_path / "inventory.toml"}"\n', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "kiosk", "fleet", "serve", "--fleet-config",
                          str(tmp_path / "fleet.toml")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "teams.0.id" in out.stderr and "teams.0.name: required key is missing" in out.stderr


def _has_kiosks(engine) -> bool:
    from sqlalchemy import func, select

    from central.fleet import db
    with engine.connect() as c:
        return bool(c.execute(select(func.count()).select_from(db.kiosks)).scalar())


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read()
    except OSError:
        return None
