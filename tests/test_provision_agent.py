"""The real edge agent and the real fleet monitor on the provisioned TLS broker: a bundle installed by
`kiosk provision install` is all a kiosk needs to report, and a certificate about to expire is an alert."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from kiosk import config as config_mod
from kiosk import fleet_wire
from provisioning import layout
from tests.fixtures_fleet import TEST_INVENTORY
from tests.fixtures_mqtt import status_doc, wait_until
from tests.fixtures_provision import KIOSK_A, KIOSK_B, MONITOR, Pki


def agent_for(pki: Pki, kiosk_id: str, tmp_path: Path):
    """edge.agent.Agent configured only from what install put under the kiosk's root."""
    from edge.agent import Agent, BrokerConfig
    root = pki.installed[kiosk_id]
    cfg = config_mod.load(layout.under(root, layout.CONFIG))
    m = cfg.mqtt
    assert m.enabled and m.ca_file and m.cert_file and m.key_file
    broker = BrokerConfig(m.host, port=m.port, keepalive_s=2, ca=layout.under(root, m.ca_file),
                          cert=layout.under(root, m.cert_file), key=layout.under(root, m.key_file),
                          reconnect_min_s=0.2, reconnect_max_s=1.0)
    agent = Agent(cfg.kiosk.id, broker, tmp_path / f"agent-{kiosk_id}" / "spool.db",
                  lambda: status_doc({"printer": ("ok", "ok")}, kiosk_id=kiosk_id), poll_s=0.1, interval_s=30)
    agent.start()
    return agent


@pytest.fixture
def agents(pki: Pki, tmp_path: Path) -> Iterator[list]:
    made: list = []
    yield made
    for a in made:
        a.stop()


def test_an_installed_bundle_connects_the_real_agent_over_tls(pki, tls_client, agents, tmp_path: Path):
    monitor = tls_client(MONITOR, [fleet_wire.subscription(fleet_wire.KIND_STATE),
                                   fleet_wire.subscription(fleet_wire.KIND_AVAILABILITY)])
    agents.append(agent_for(pki, KIOSK_A, tmp_path))
    state_topic = fleet_wire.topic(KIOSK_A, fleet_wire.KIND_STATE)
    wait_until(lambda: monitor.seen(state_topic), what="kiosk A's state at the monitor")
    state = fleet_wire.decode(fleet_wire.KIND_STATE, monitor.seen(state_topic)[-1][1], KIOSK_A)
    assert state.components["printer"].level == "ok"
    assert state.components["broker_cert"].code == "ok"
    assert 700 <= state.broker_cert_days_left <= 730  # a two-year certificate, just issued
    avail = json.loads(monitor.seen(fleet_wire.topic(KIOSK_A, fleet_wire.KIND_AVAILABILITY))[-1][1])
    assert avail["online"] is True and avail["reason"] == "birth"


def test_the_monitor_ingests_over_tls_and_alerts_on_a_certificate_about_to_expire(pki, agents, tmp_path: Path):
    from central.fleet import commands, db
    from central.fleet.config import FleetConfig
    from central.fleet.inventory import apply, parse_inventory
    from central.fleet.rules import builtin
    from central.fleet.service import Monitor
    from tests.fixtures_fleet import alert_rows

    pki.enroll(KIOSK_B, "--days", "10")  # a short-lived certificate: re-enrolment is due
    pki.install(KIOSK_B)
    url = f"sqlite:///{tmp_path / 'fleet.sqlite3'}"
    apply(db.connect(url), parse_inventory(TEST_INVENTORY))
    cert, key = pki.identity(MONITOR)
    cfg = FleetConfig.model_validate({
        "monitor": {"db": url, "evaluate_every_s": 0.2},
        "broker": {"host": "127.0.0.1", "port": pki.port, "keepalive_s": 5, "shared_group": "mon",
                   "ca_file": str(pki.server_ca), "cert_file": str(cert), "key_file": str(key)},
        "web": {"public_url": "http://fleet.test"}})
    engine = db.connect(url)
    mon = Monitor(engine, cfg, builtin(), notify=False)
    mon.start()
    try:
        wait_until(mon.ingest.subscribed.is_set, what="the monitor to subscribe over TLS")
        agents.append(agent_for(pki, KIOSK_A, tmp_path))
        agents.append(agent_for(pki, KIOSK_B, tmp_path))

        def kiosk_row(k: str) -> dict | None:
            with engine.connect() as c:
                r = c.execute(db.kiosks.select().where(db.kiosks.c.id == k)).first()
            return dict(r._mapping) if r is not None and r.state is not None else None
        for k in (KIOSK_A, KIOSK_B):
            wait_until(lambda k=k: kiosk_row(k), what=f"{k}'s state in the fleet database")
        b_state = kiosk_row(KIOSK_B)["state"]
        assert b_state["components"]["broker_cert"]["code"] == "cert_expiring"
        assert b_state["broker_cert_days_left"] in (9, 10)
        opened = wait_until(lambda: alert_rows(engine, KIOSK_B, "broker_cert_expiring"),
                            what="the broker_cert_expiring alert for kiosk B")
        assert opened[0]["severity"] == "major"
        assert alert_rows(engine, KIOSK_A, "broker_cert_expiring") == []

        # The monitor's command goes out under its identity and the kiosk's answer comes back.
        cid = mon.commands.send(KIOSK_A, fleet_wire.CMD_SELF_TEST, {}, "tester")
        answered = wait_until(lambda: (r := commands.result(engine, cid)) and r["result"] and r,
                              what="kiosk A's answer to the monitor's command")
        assert answered["kiosk_id"] == KIOSK_A
    finally:
        mon.stop()
        engine.dispose()


def test_an_expired_or_unreadable_certificate_is_a_fault(pki: Pki):
    from edge.agent.cert_expiry import CertWatch
    path = pki.kiosk_files(KIOSK_A)[0]
    watch = CertWatch(path)
    not_after = x509.load_pem_x509_certificate(path.read_bytes()).not_valid_after_utc
    days, st = watch.check(not_after + timedelta(days=1))
    assert (days, st.level, st.code) == (-1, "fault", "cert_expired")
    days, st = watch.check(not_after - timedelta(days=29, hours=12))
    assert (days, st.level, st.code) == (29, "degraded", "cert_expiring") and "29" in st.en
    days, st = watch.check(datetime(2019, 1, 1, tzinfo=UTC))  # a kiosk whose clock fell back to 2019
    assert (st.level, st.code) == ("degraded", "cert_not_yet_valid")
    path.unlink()
    assert watch.check()[1].code == "cert_unreadable"


def test_a_kiosk_whose_clock_is_past_its_certificate_reports_it_expired(pki, tls_client, tmp_path: Path):
    """The real agent process with its clock 740 days on (libfaketime): its two-year certificate has
    expired by its own clock (the broker's clock, and so the connection, are still fine), and it says so."""
    import os
    import subprocess
    import sys

    from tests.fixtures_mqtt import ROOT, write_status
    from tests.fixtures_signed import faketime_env
    env = {**os.environ, **faketime_env("+740d")}
    root = pki.installed[KIOSK_A]
    work = tmp_path / "agent"
    work.mkdir()
    write_status(work / "status.json", {"printer": ("ok", "ok")}, kiosk_id=KIOSK_A)
    monitor = tls_client(MONITOR, [fleet_wire.subscription(fleet_wire.KIND_STATE),
                                   fleet_wire.subscription(fleet_wire.KIND_EVENTS)])
    log = open(work / "agent.log", "wb")  # noqa: SIM115 - lives with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge.agent.run", "--kiosk-id", KIOSK_A, "--broker", f"127.0.0.1:{pki.port}",
         "--spool", str(work / "spool.db"), "--status-file", str(work / "status.json"), "--poll", "0.1",
         "--reconnect-min", "0.2", "--reconnect-max", "1",
         "--ca", str(layout.under(root, layout.BROKER_CA)), "--cert", str(layout.under(root, layout.CERT)),
         "--key", str(layout.under(root, layout.KEY))], cwd=ROOT, env=env, stdout=log, stderr=log)
    log.close()
    try:
        topic = fleet_wire.topic(KIOSK_A, fleet_wire.KIND_STATE)
        wait_until(lambda: monitor.seen(topic), what="the agent's state",
                   seen=lambda: (work / "agent.log").read_text(errors="replace")[-800:])
        state = fleet_wire.decode(fleet_wire.KIND_STATE, monitor.seen(topic)[-1][1], KIOSK_A)
        assert (state.components["broker_cert"].level, state.components["broker_cert"].code) == \
            ("fault", "cert_expired")
        assert state.broker_cert_days_left < 0
        events = fleet_wire.topic(KIOSK_A, fleet_wire.KIND_EVENTS)
        wait_until(lambda: any(json.loads(p).get("component") == "broker_cert" for _, p in monitor.seen(events)),
                   what="the broker_cert event")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
