"""A real Mosquitto per test on a free loopback port, and a real subscriber client that records what it sees.

Never the machine's broker on 1883: each test gets its own config, port and persistence directory in
tmp_path, so a broker restart keeps retained messages and queued QoS 1 messages like a hall's would.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.local_broker import LocalBroker, mosquitto_path
from kiosk.netutil import free_port

WAIT_S = 20.0  # the bound for every "wait until": generous, a slow CI box is not a failure


def wait_until(predicate: Callable[[], Any], timeout: float = WAIT_S, what: str = "condition",
               seen: Callable[[], Any] | None = None) -> Any:
    """Poll `predicate` until it returns something truthy; fail the test with `what` after `timeout`
    (and with what `seen()` says was there instead)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}" + (f"; saw {seen()}" if seen else ""))
        time.sleep(0.05)


class Broker(LocalBroker):
    """One Mosquitto process with persistence; stop() and start() again are a broker restart."""

    def __init__(self, workdir: Path, port: int) -> None:
        super().__init__(workdir, port)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed (`make test` installs the Debian package mosquitto)")
    b = Broker(tmp_path / "broker", free_port())
    b.start()
    try:
        yield b
    finally:
        b.stop()


class Subscriber:
    """A real MQTT 5 client with a persistent session (so the broker queues QoS 1 messages for it across
    a broker restart), recording every message in arrival order."""

    def __init__(self, port: int, topics: list[str]) -> None:
        self.topics = topics
        self.messages: list[mqtt.MQTTMessage] = []
        self._cond = threading.Condition()
        self._connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-sub-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self._connected.clear()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.1, 0.5)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        # clean_start False from the first connect: Mosquitto 2.0.11 does not carry a session that began
        # with clean_start True over a broker restart (the client id is fresh, so nothing stale is resumed).
        self.client.connect("127.0.0.1", port, keepalive=5, clean_start=False, properties=props)
        self.client.loop_start()
        if not self._connected.wait(WAIT_S):
            raise AssertionError("test subscriber did not connect")

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        for t in self.topics:
            client.subscribe(t, qos=1)
        self._connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def wait_reconnected(self) -> None:
        wait_until(self._connected.is_set, what="test subscriber to reconnect")

    def on(self, topic: str) -> list[dict]:
        """Payloads seen on `topic`, decoded as JSON, in arrival order."""
        with self._cond:
            return [json.loads(m.payload) for m in self.messages if m.topic == topic and m.payload]

    def raw(self, topic: str) -> list[bytes]:
        with self._cond:
            return [m.payload for m in self.messages if m.topic == topic]

    def wait_for(self, topic: str, predicate: Callable[[dict], bool], what: str,
                 timeout: float = WAIT_S, start: int = 0) -> dict:
        """The first payload on `topic` (from index `start` of that topic's messages) matching `predicate`."""
        def found() -> dict | None:
            return next((p for p in self.on(topic)[start:] if predicate(p)), None)
        return wait_until(found, timeout, what)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber_factory(broker: Broker) -> Iterator[Callable[[list[str]], Subscriber]]:
    made: list[Subscriber] = []

    def make(topics: list[str]) -> Subscriber:
        s = Subscriber(broker.port, topics)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


# --- the fleet agent under test ---------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
KIOSK_ID = "hall-07-k1"


def status_doc(components: dict[str, tuple[str, str]], kiosk_id: str = KIOSK_ID, version: int = 3) -> dict:
    """An edge `/api/v1/status` document (the shape of edge.api's get_status) with these UI components."""
    return {
        "schema": "kiosk.edge-status/1", "kiosk_id": kiosk_id, "started": "2025-01-01T00:00:00+00:00",
        "wan": {"wan": "up", "since": None, "last_error": None, "consecutive_failures": 0, "forwarded": 4},
        "content": {"active_version": version, "allow_unsigned": False,
                    "sync": {"active_version": version, "refused": None,
                             "status_detail": {"level": "ok", "code": "ok", "zh": "正常", "bo": "", "en": "OK"}}},
        "outbox": {"depth": 2, "oldest_age_s": 12.5, "dead_letters": 0, "dead_oldest_age_s": None,
                   "unconfirmed": 0},
        "kiosks": {kiosk_id: {"received_at": "2025-01-01T00:00:00+00:00", "components": {
            name: {"level": lv, "code": code, "zh": code, "bo": code, "en": code}
            for name, (lv, code) in components.items()}}},
    }


def write_status(path: Path, components: dict[str, tuple[str, str]], **kw: Any) -> None:
    """Replace the status file atomically: the agent must never read half a document."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status_doc(components, **kw)), encoding="utf-8")
    tmp.replace(path)


def spool_next_seq(path: Path) -> int:
    """The next sequence number the agent's spool will give (1 before anything), read from the real file."""
    if not path.exists():
        return 1
    import sqlite3
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()
    except sqlite3.OperationalError:  # tables not created yet
        return 1
    finally:
        db.close()
    return int(row[0]) if row else 1


class AgentProcess:
    """`python -m edge.agent.run` in a subprocess, so a test can SIGKILL it like a power cut would."""

    def __init__(self, workdir: Path, port: int, keepalive: int = 2, spool_max: int = 10_000,
                 kiosk_id: str = KIOSK_ID) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.spool = workdir / "spool.db"
        self.status_file = workdir / "status.json"
        self.sync_file = workdir / "sync-triggered.txt"
        self.args = [sys.executable, "-m", "edge.agent.run", "--kiosk-id", kiosk_id,
                     "--broker", f"127.0.0.1:{port}", "--spool", str(self.spool),
                     "--status-file", str(self.status_file), "--sync-trigger-file", str(self.sync_file),
                     "--keepalive", str(keepalive), "--poll", "0.1", "--interval", "30",
                     "--reconnect-min", "0.2", "--reconnect-max", "1", "--spool-max", str(spool_max)]
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.proc is None
        self.starts += 1
        log = open(self.workdir / f"agent-{self.starts}.log", "wb")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=log, stderr=log)
        log.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        rc = self.proc.wait(timeout=20)
        self.proc = None
        return rc

    def log_tail(self) -> str:
        p = self.workdir / f"agent-{self.starts}.log"
        return p.read_text(errors="replace")[-2000:] if p.exists() else ""


@pytest.fixture
def agent_process(tmp_path: Path, broker: Broker) -> Iterator[Callable[..., AgentProcess]]:
    made: list[AgentProcess] = []

    def make(**kw: Any) -> AgentProcess:
        a = AgentProcess(tmp_path / f"agent{len(made)}", broker.port, **kw)
        made.append(a)
        return a
    yield make
    for a in made:
        if a.proc is not None:
            a.proc.kill()
            a.proc.wait(timeout=10)


@pytest.fixture
def agent_factory(tmp_path: Path, broker: Broker) -> Iterator[Callable[..., Any]]:
    """An in-process `edge.agent.Agent` on this test's broker; stopped at teardown."""
    from edge.agent import Agent, BrokerConfig
    made: list[Any] = []

    def make(status_provider: Callable[[], dict], name: str = "agent", **kw: Any) -> Any:
        """The same `name` again is the same kiosk restarted: it reopens that spool (and result cache)."""
        cfg = BrokerConfig(host="127.0.0.1", port=broker.port, keepalive_s=2, reconnect_min_s=0.2,
                           reconnect_max_s=1.0)
        kw.setdefault("poll_s", 0.1)
        kw.setdefault("interval_s", 30.0)
        a = Agent(KIOSK_ID, cfg, tmp_path / name / "spool.db", status_provider, **kw)
        made.append(a)
        a.start()
        return a
    yield make
    for a in made:
        a.stop()
