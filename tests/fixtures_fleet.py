"""The fleet monitor's databases for tests: a fresh SQLite file, or a fresh database on a real PostgreSQL
that the test session starts itself (never the machine's own server on 5432).

`fleet_db_url` is parametrized over both, so every test that takes it runs on each backend.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.netutil import free_port

PG_USER = "postgres"


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


@dataclass
class PgServer:
    port: int
    datadir: Path

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{db}"

    def create_database(self) -> str:
        """A new, empty database; its URL."""
        from sqlalchemy import create_engine, text
        name = f"fleet_{uuid.uuid4().hex[:12]}"
        eng = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with eng.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            eng.dispose()
        return self.url(name)


def _as_pg_user(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root: run the server as the postgres system user then.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin; `make test` installs the Debian "
                    "package postgresql)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root and `runuser` is missing: cannot start PostgreSQL as the postgres user")
    # Directly under /tmp: pytest's own tmp dirs are root-only (0700), the postgres user could not enter them.
    root = Path(tempfile.mkdtemp(prefix="fleet-pg-"))
    datadir = root / "data"
    datadir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, PG_USER)
        shutil.chown(datadir, PG_USER)
    subprocess.run(_as_pg_user([str(bindir / "initdb"), "-D", str(datadir), "-U", PG_USER, "--auth=trust",
                                "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port = free_port()
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c max_connections=200"
    log = root / "postgres.log"
    subprocess.run(_as_pg_user([str(bindir / "pg_ctl"), "-D", str(datadir), "-o", opts, "-l", str(log),
                                "-w", "-t", "30", "start"]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield PgServer(port, datadir)
    finally:
        subprocess.run(_as_pg_user([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w",
                                    "stop"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def fleet_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh fleet database: a new SQLite file, or CREATE DATABASE on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fleet.sqlite3'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database()


# --- a small fleet and a monitor on this test's broker and database ----------------------------------
# Two prefectures, one county each; team-a covers county-a (two channels), team-b covers county-b.
# KIOSK_ID (the agent fixtures' kiosk) stands in hall-a; "b-k1" in hall-b; anything else is unregistered.
TEST_INVENTORY = """
[[prefectures]]
id = "pref-a"
zh = "拉萨市"
bo = "ལྷ་ས།"
  [[prefectures.counties]]
  id = "county-a"
  zh = "城关区"
  bo = "ཁྲིན་ཀོན།"
    [[prefectures.counties.sites]]
    id = "hall-a"
    zh = "城关区第一服务大厅"
    bo = "ཞབས་ཞུ་ཁང་དང་པོ།"
    address = "北京中路 1 号"
    kiosks = ["hall-07-k1", "a-k2", "a-k3", "a-k4"]
[[prefectures]]
id = "pref-b"
zh = "日喀则市"
  [[prefectures.counties]]
  id = "county-b"
  zh = "桑珠孜区"
    [[prefectures.counties.sites]]
    id = "hall-b"
    zh = "桑珠孜区服务大厅"
    kiosks = ["b-k1", "b-k2"]

[[teams]]
id = "team-a"
name = "城关运维组"
lang = "zh"
counties = ["county-a"]
contacts = [{ name = "值班员", phone = "13800000001" }, { name = "组长", phone = "13800000002" }]
  [[teams.channels]]
  name = "robot"
  kind = "webhook"
  url = "http://127.0.0.1:9/a"
  [[teams.channels]]
  name = "wecom"
  kind = "wecom"
  url = "http://127.0.0.1:9/wecom"
[[teams]]
id = "team-b"
name = "桑珠孜运维组"
lang = "bo"
counties = ["county-b"]
contacts = [{ name = "b1", phone = "13900000001" }]
  [[teams.channels]]
  name = "robot"
  kind = "webhook"
  url = "http://127.0.0.1:9/b"
"""


def fleet_config(broker_port: int, **monitor: object):
    from central.fleet.config import FleetConfig
    return FleetConfig.model_validate({
        "monitor": {"evaluate_every_s": 0.2, "offline_after_intervals": 3.0, **monitor},
        "broker": {"host": "127.0.0.1", "port": broker_port, "keepalive_s": 5, "shared_group": "mon"},
        "web": {"public_url": "http://fleet.test"}})


class Publisher:
    """A test client that publishes fleet_wire payloads (as a kiosk would) and waits for each PUBACK."""

    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()

    def send(self, topic: str, payload: bytes, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(10)
        assert info.is_published(), f"publish to {topic} not acknowledged"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def state_payload(kiosk_id: str, components: dict[str, tuple[str, str]] | None = None, **fields: object) -> bytes:
    from kiosk import fleet_wire
    from kiosk.wire import now_iso
    comps = {n: fleet_wire.ComponentStatus(level=lv, code=code, zh=f"{n}:{code}", en=f"{n}: {code}")
             for n, (lv, code) in (components or {}).items()}
    fields.setdefault("at", now_iso())
    fields.setdefault("interval_s", 30.0)
    return fleet_wire.encode(fleet_wire.State(kiosk_id=kiosk_id, software_version="test", components=comps,
                                              **fields))


@pytest.fixture
def mqtt_publisher(broker) -> Iterator[Publisher]:
    p = Publisher(broker.port)
    yield p
    p.close()


@pytest.fixture
def monitor_factory(fleet_db_url: str, broker):
    """make(rules_text=None, client_id=None, start=True, evaluate=True) -> a started service.Monitor with its
    own engine on this test's database (the inventory above applied); all stopped at teardown."""
    from central.fleet import db
    from central.fleet.inventory import apply, parse_inventory
    from central.fleet.rules import builtin, parse_rules
    from central.fleet.service import Monitor
    from tests.fixtures_mqtt import wait_until
    made: list[tuple[object, bool]] = []
    engines = []
    apply(db.connect(fleet_db_url), parse_inventory(TEST_INVENTORY))

    def make(rules_text: str | None = None, client_id: str | None = None, evaluate: bool = True, **monitor):
        engine = db.connect(fleet_db_url)
        engines.append(engine)
        cfg = fleet_config(broker.port, db=fleet_db_url, **monitor)
        ruleset = parse_rules(rules_text) if rules_text is not None else builtin()
        m = Monitor(engine, cfg, ruleset, client_id=client_id or f"mon-{uuid.uuid4().hex[:8]}", notify=False)
        m.ingest.start()
        if evaluate:
            m.evaluator.start()
        made.append((m, evaluate))
        wait_until(m.ingest.subscribed.is_set, what="the monitor to subscribe")
        return m
    yield make
    for m, _ in made:
        m.stop()  # type: ignore[attr-defined]
    for e in engines:
        e.dispose()


def alert_rows(engine, kiosk_id: str | None = None, rule_id: str | None = None) -> list[dict]:
    from sqlalchemy import select

    from central.fleet import db
    q = select(db.alerts).order_by(db.alerts.c.id)
    if kiosk_id is not None:
        q = q.where(db.alerts.c.kiosk_id == kiosk_id)
    if rule_id is not None:
        q = q.where(db.alerts.c.rule_id == rule_id)
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(q)]


def notification_rows(engine, alert_id: int | None = None) -> list[dict]:
    from sqlalchemy import select

    from central.fleet import db
    q = select(db.notifications).order_by(db.notifications.c.id)
    if alert_id is not None:
        q = q.where(db.notifications.c.alert_id == alert_id)
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(q)]
