"""A real `kiosk edge serve` with [mqtt] on a real broker and a pinned admin key, for the signed-command,
config-push and trusted-time tests; plus helpers that sign and send commands like the admin tools do."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from central.admin.keys import keygen, load_private
from edge.store import ContentStore
from kiosk import fleet_wire
from kiosk.netutil import free_port
from tests.fixtures_edge import EdgeProcess, install_pack, pack_files
from tests.fixtures_mqtt import Subscriber
from ui.demo.config import config_toml

KIOSK, SITE, REGION = "hall-07-k1", "hall-07", "county-a"
FAKETIME_LIB = next((p for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                                 "/usr/lib/faketime/libfaketime.so.1") if os.path.exists(p)), None)


def faketime_env(spec: str) -> dict[str, str]:
    """Environment that runs a process with its clock at `spec` (libfaketime: "@2019-03-01 08:00:00", "+3y")."""
    if FAKETIME_LIB is None:
        pytest.skip("libfaketime is not installed (apt-get install libfaketime)")
    return {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": spec, "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "FAKETIME_NO_CACHE": "1"}


@dataclass
class SignedEdge:
    workdir: Path
    broker_port: int
    key_file: Path
    key_id: str
    public: str
    env: dict[str, str] = field(default_factory=dict)
    origin_url: str = ""
    port: int = field(default_factory=free_port)
    proc: EdgeProcess | None = None

    @property
    def config(self) -> Path:
        return self.workdir / "kiosk.toml"

    @property
    def data(self) -> Path:
        return self.workdir / "edge"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> None:
        self.config.write_text(config_toml({
            "kiosk": {"id": KIOSK, "site": SITE, "region": REGION},
            "edge": {"listen_host": "127.0.0.1", "listen_port": self.port, "data_dir": self.data,
                     "platform_url": f"http://127.0.0.1:{free_port()}", "origin_url": self.origin_url,
                     "poll_interval_s": 2},
            "edge.admin_keys": [{"key_id": self.key_id, "public_key": self.public}],
            "mqtt": {"enabled": True, "host": "127.0.0.1", "port": self.broker_port, "keepalive_s": 5,
                     "interval_s": 2, "inspection_hour": "off"},
            "logging": {"format": "json"},
        }), encoding="utf-8")
        os.chmod(self.config, 0o640)

    def start(self) -> SignedEdge:
        if not self.config.exists():
            self.write_config()
            install_pack(ContentStore(self.data / "content"), pack_files(), 1)
        saved = dict(os.environ)
        os.environ.update(self.env)  # EdgeProcess copies os.environ
        try:
            self.proc = EdgeProcess(self.config, self.workdir / "edge.log")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.proc.wait_ready()
        return self

    def log(self) -> str:
        p = self.workdir / "edge.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.proc.poll() is None:
            self.proc.terminate()


@pytest.fixture
def signed_edge(tmp_path: Path, broker: Any) -> Iterator[Callable[..., SignedEdge]]:
    made: list[SignedEdge] = []
    key_file = tmp_path / "admin.key"
    key_id, public = keygen(key_file, "admin-test")

    def make(**kw: Any) -> SignedEdge:
        e = SignedEdge(tmp_path / f"kiosk{len(made)}", broker.port, key_file, key_id, public, **kw)
        e.workdir.mkdir(parents=True, exist_ok=True)
        made.append(e)
        return e
    yield make
    for e in made:
        e.stop()


def admin_key(edge: SignedEdge) -> Any:
    return load_private(edge.key_file)


def send(broker_port: int, cmd: fleet_wire.Command, kiosk: str = KIOSK) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.connect("127.0.0.1", broker_port)
    c.loop_start()
    try:
        c.publish(fleet_wire.topic(kiosk, fleet_wire.KIND_CMD), fleet_wire.encode(cmd), qos=1).wait_for_publish(10)
    finally:
        c.disconnect()
        c.loop_stop()


def result_for(sub: Subscriber, cid: str, timeout: float = 60.0) -> dict:
    return sub.wait_for(fleet_wire.topic(KIOSK, fleet_wire.KIND_CMD_RESULT), lambda d: d.get("id") == cid,
                        f"the answer to command {cid}", timeout=timeout)


def rejection_event(sub: Subscriber, cid: str) -> dict:
    return sub.wait_for(fleet_wire.topic(KIOSK, fleet_wire.KIND_EVENTS),
                        lambda d: d.get("kind") == "command" and d.get("code") == "rejected"
                        and d["details"].get("command_id") == cid, f"the rejection event of {cid}")


def other_key(tmp_path: Path) -> Any:
    f = tmp_path / "forger.key"
    if not f.exists():
        keygen(f, "admin-test")  # the same key id as the real one: only the signature tells them apart
    return load_private(f)

