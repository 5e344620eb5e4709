"""Fixtures for the fleet's kiosk commands: the real edge (API, outbox, forwarder, demo pack) with its
kiosk-command relay in reach, and the real fleet agent on a real broker with the relay's handlers and
the inspection wired the way edge/daemon.py wires them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk import fleet_wire

KIOSK = "test-kiosk"  # the id tests/fixtures_ui.py's window reports as
TOPICS = {k: fleet_wire.topic(KIOSK, k) for k in fleet_wire.KINDS}


class RelayEdge:
    def __init__(self, root: Path, platform_url: str, *, relay_timeout_s: float = 30.0, config: Any = None) -> None:
        from edge.api import make_app
        from edge.kiosk_commands import KioskCommandRelay
        from kiosk.config import Config
        from tests.fixtures_edge import Edge, ServerThread
        from tests.fixtures_ui import install_demo

        self.root = root
        self.relay = KioskCommandRelay(timeout_s=relay_timeout_s)
        self.edge = Edge(root, platform_url, with_pack=False)
        install_demo(self.edge.store)
        self.edge.server.stop()  # the same parts, served by an app whose relay this test holds
        cfg = config or Config()
        self.server = ServerThread(lambda: make_app(self.edge.store, self.edge.outbox, self.edge.forwarder, cfg,
                                                    kiosk_commands=self.relay)).start()
        self.url = self.server.url

    def close(self) -> None:
        self.relay.close()
        self.server.stop()
        self.edge.close()


@pytest.fixture
def relay_edge_factory(tmp_path: Path, platform_factory) -> Iterator[Callable[..., RelayEdge]]:
    made: list[RelayEdge] = []

    def make(**kw: Any) -> RelayEdge:
        e = RelayEdge(tmp_path / f"relay-edge{len(made)}", platform_factory().url, **kw)
        made.append(e)
        return e
    yield make
    for e in made:
        e.close()


class FleetAgent:
    """The real Agent with the inspector's handlers, as edge/daemon.py builds it; `restart()` is a new
    process on the same data directory (spool, result cache, inspection record)."""

    def __init__(self, broker_port: int, data_dir: Path, relay: Any, **inspector_kw: Any) -> None:
        self.broker_port, self.data_dir, self.relay, self.inspector_kw = broker_port, data_dir, relay, inspector_kw
        self.agent: Any = None
        self.inspector: Any = None
        self.start()

    def start(self) -> None:
        from edge.agent import Agent, BrokerConfig
        from edge.inspection import Inspector
        from tests.fixtures_mqtt import status_doc

        self.inspector = Inspector(self.relay, self.data_dir / "fleet-inspection.json", data_dir=self.data_dir,
                                   kiosk_id=KIOSK, **self.inspector_kw)
        broker = BrokerConfig(host="127.0.0.1", port=self.broker_port, keepalive_s=2, reconnect_min_s=0.2,
                              reconnect_max_s=1.0)
        self.agent = Agent(KIOSK, broker, self.data_dir / "fleet-spool.sqlite3",
                           lambda: status_doc({"printer": ("ok", "ok")}, kiosk_id=KIOSK), data_dir=self.data_dir,
                           poll_s=0.1, interval_s=30.0, handlers=self.inspector.handlers(), inspector=self.inspector)
        self.agent.start()

    def stop(self) -> None:
        if self.agent is not None:
            self.agent.stop()
            self.agent = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def fleet_agent_factory(tmp_path: Path, broker) -> Iterator[Callable[..., FleetAgent]]:
    made: list[FleetAgent] = []

    def make(relay: Any, **inspector_kw: Any) -> FleetAgent:
        inspector_kw.setdefault("hour", None)
        a = FleetAgent(broker.port, tmp_path / f"fleet-agent{len(made)}", relay, **inspector_kw)
        made.append(a)
        return a
    yield make
    for a in made:
        a.stop()


def command(kind: str, **args: Any) -> tuple[str, bytes]:
    cid = uuid.uuid4().hex
    return cid, fleet_wire.encode(fleet_wire.Command(id=cid, kind=kind, args=args, issued_by="test"))


def send(sub: Any, payload: bytes) -> None:
    sub.client.publish(TOPICS["cmd"], payload, qos=1).wait_for_publish(10)


def answer_to(sub: Any, cid: str) -> dict | None:
    return next((p for p in sub.on(TOPICS["cmd/result"]) if p.get("id") == cid), None)
