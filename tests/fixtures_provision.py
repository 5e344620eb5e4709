"""A provisioned fleet for tests: a CA made by `kiosk provision`, enrolled kiosks, identities, and a real
Mosquitto started from the generated TLS configuration and ACL on a free loopback port.

Everything goes through the real command line (`kiosk.cli.main`), so a test exercises what an
administrator types. TLS clients are real paho clients with the certificates our code made.
"""

from __future__ import annotations

import ssl
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.lifecycle import child_dies_with_parent
from kiosk.local_broker import mosquitto_path
from kiosk.netutil import free_port
from tests.fixtures_mqtt import wait_until

KIOSK_A = "hall-07-k1"   # in the fleet tests' inventory (hall-a)
KIOSK_B = "b-k1"         # ditto (hall-b)
KIOSK_C = "hall-07-k9"   # the one that gets stolen
MONITOR = "monitor.central"
ADMIN = "admin.alice"


def kiosk_cli(*args: str | Path, config: Path | None = None) -> int:
    """`kiosk ...` in this process (the real parser and handlers), with an empty kiosk config."""
    from kiosk import cli
    argv = [str(a) for a in args]
    return cli.main((["--config", str(config)] if config else []) + argv)


class TlsBroker:
    """Mosquitto on the generated mosquitto.conf (TLS, ACL, CRL, persistence)."""

    def __init__(self, conf: Path, port: int, log: Path) -> None:
        self.conf, self.port, self.log = conf, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def _accepts(self) -> bool:
        import socket
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self) -> None:
        binary = mosquitto_path()
        assert binary is not None
        self.proc = subprocess.Popen([binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=child_dies_with_parent)
        wait_until(lambda: self._accepts() or self.proc.poll() is not None, what="mosquitto to listen")
        if self.proc.poll() is not None:
            raise AssertionError(f"mosquitto exited: {self.log_text()[-800:]}")

    def reload(self) -> None:
        """SIGHUP: Mosquitto re-reads its ACL file and TLS files (the CRL) for new connections."""
        assert self.proc is not None
        mark = self.log_text().count("Reloading config")
        self.proc.send_signal(1)
        wait_until(lambda: self.log_text().count("Reloading config") > mark, what="mosquitto to reload")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Pki:
    """The administrator's folder, the bundles, the broker folder, and what tests need to connect."""
    root: Path
    ca_dir: Path
    broker_dir: Path
    port: int
    config: Path                        # an empty kiosk.toml for the CLI
    admin_keys: Path                    # saved `kiosk admin keygen` output
    bundles: dict[str, Path] = field(default_factory=dict)
    installed: dict[str, Path] = field(default_factory=dict)  # kiosk id -> install root
    broker: TlsBroker | None = None

    @property
    def server_ca(self) -> Path:
        return self.ca_dir / "server-ca.crt"

    def identity(self, cn: str) -> tuple[Path, Path]:
        return self.ca_dir / "identities" / f"{cn}.crt", self.ca_dir / "identities" / f"{cn}.key"

    def kiosk_files(self, kiosk_id: str) -> tuple[Path, Path]:
        tls = self.installed[kiosk_id] / "etc/kiosk/tls"
        return tls / "kiosk.crt", tls / "kiosk.key"

    def enroll(self, kiosk_id: str, *extra: str) -> Path:
        out = self.root / f"{kiosk_id}.tar.gz"
        assert kiosk_cli("provision", "enroll", kiosk_id, "--site", f"site-{kiosk_id}", "--region", "region-1",
                         "--dir", self.ca_dir, "--out", out, "--admin-keys", self.admin_keys, "--force",
                         "--broker-host", "127.0.0.1", "--broker-port", str(self.port), *extra,
                         config=self.config) == 0
        self.bundles[kiosk_id] = out
        return out

    def install(self, kiosk_id: str) -> Path:
        root = self.root / f"kiosk-root-{kiosk_id}"
        assert kiosk_cli("provision", "install", self.bundles[kiosk_id], "--root", root, config=self.config) == 0
        self.installed[kiosk_id] = root
        return root

    def write_broker_config(self) -> None:
        assert kiosk_cli("provision", "broker-config", "--dir", self.ca_dir, "--out", self.broker_dir,
                         "--port", str(self.port), "--bind", "127.0.0.1", "--data-dir", self.root / "broker-data",
                         "--user", _me(), "--log-file", self.root / "mosquitto.log", config=self.config) == 0


def _me() -> str:
    import getpass
    return getpass.getuser()  # a root-started broker stays root so it can write its tmp directory


def make_pki(root: Path, kiosks: tuple[str, ...] = (KIOSK_A, KIOSK_B)) -> Pki:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "empty-kiosk.toml"
    config.write_text("")
    p = Pki(root=root, ca_dir=root / "ca", broker_dir=root / "broker", port=free_port(), config=config,
            admin_keys=root / "admin-keys.toml")
    (root / "broker-data").mkdir()
    assert kiosk_cli("provision", "ca", "init", "--dir", p.ca_dir, config=config) == 0
    assert kiosk_cli("provision", "broker-cert", "--dir", p.ca_dir, "--host", "localhost", "--ip", "127.0.0.1",
                     config=config) == 0
    from central.admin.keys import config_lines, keygen
    key_id, public = keygen(root / "admin.key", "region-test")
    p.admin_keys.write_text(config_lines(key_id, public))
    assert kiosk_cli("provision", "identity", "central", "--role", "monitor", "--dir", p.ca_dir, config=config) == 0
    assert kiosk_cli("provision", "identity", "alice", "--role", "admin", "--dir", p.ca_dir, config=config) == 0
    for k in kiosks:
        p.enroll(k)
        p.install(k)
    p.write_broker_config()
    return p


@pytest.fixture
def pki(tmp_path: Path) -> Iterator[Pki]:
    """A provisioned fleet (kiosks A and B enrolled and installed) and its TLS broker, running."""
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed (`make test` installs the Debian package mosquitto)")
    p = make_pki(tmp_path / "pki")
    p.broker = TlsBroker(p.broker_dir / "mosquitto.conf", p.port, p.root / "mosquitto.log")
    p.broker.start()
    try:
        yield p
    finally:
        p.broker.stop()


class TlsClient:
    """A real MQTT 5 client over TLS that records its fate: connected, or refused (TLS or CONNACK)."""

    def __init__(self, port: int, ca: Path | None, cert: Path | None = None, key: Path | None = None,
                 topics: list[str] | None = None, tls: bool = True) -> None:
        self.topics = topics or []
        self.messages: list[tuple[str, bytes]] = []
        self.granted: list[int] = []  # SUBACK reason codes, in subscription order
        self.connected, self.refused, self.subscribed = threading.Event(), threading.Event(), threading.Event()
        self.refusal = ""
        self._lock = threading.Lock()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
        if tls:
            c.tls_set(ca_certs=str(ca) if ca else None, certfile=str(cert) if cert else None,
                      keyfile=str(key) if key else None, cert_reqs=ssl.CERT_REQUIRED,
                      tls_version=ssl.PROTOCOL_TLS_CLIENT)
        c.on_connect, c.on_disconnect = self._on_connect, self._on_disconnect
        c.on_message, c.on_subscribe, c.on_publish = self._on_message, self._on_subscribe, self._on_publish
        self._acks: dict[int, int] = {}
        self.client = c
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0
        try:
            c.connect("127.0.0.1", port, keepalive=5, properties=props)
        except (OSError, ssl.SSLError) as e:  # TLS 1.2 refusals surface here, in the handshake
            self.refusal = f"{type(e).__name__}: {e}"
            self.refused.set()
            return
        c.loop_start()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if rc.is_failure:
            self.refusal = str(rc)
            self.refused.set()
            client.disconnect()
            return
        self.connected.set()
        if self.topics:
            client.subscribe([(t, 1) for t in self.topics])
        else:
            self.subscribed.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if not self.connected.is_set():  # TLS 1.3: the server's verdict on our certificate comes after
            self.refusal = self.refusal or str(rc)
            self.refused.set()
            client.disconnect()  # no reconnect loop for a client the broker refused

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        self.granted = [c.value for c in codes]
        self.subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload)))

    def ready(self) -> TlsClient:
        wait_until(lambda: self.subscribed.is_set() or self.refused.is_set(), what="the TLS client to connect")
        assert not self.refused.is_set(), f"broker refused the client: {self.refusal}"
        return self

    def wait_refused(self) -> str:
        wait_until(lambda: self.refused.is_set() or self.connected.is_set(), what="the broker's verdict")
        assert not self.connected.is_set(), "the broker accepted a client it must refuse"
        return self.refusal

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> int:
        """Publish at QoS 1 and return the PUBACK reason code: 0 = accepted (also "no matching
        subscribers", 16), 135 = not authorised."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        wait_until(lambda: info.mid in self._acks, what=f"the PUBACK for {topic}")
        code = self._acks[info.mid]
        return 0 if code < 128 else code

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, rc: Any, props: Any) -> None:
        self._acks[mid] = rc.value

    def seen(self, topic: str | None = None) -> list[tuple[str, bytes]]:
        with self._lock:
            return [m for m in self.messages if topic is None or m[0] == topic]

    def wait_for(self, topic: str, payload: bytes) -> None:
        wait_until(lambda: (topic, payload) in self.seen(), what=f"{payload!r} on {topic}", seen=self.seen)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def tls_client(pki: Pki) -> Iterator[Callable[..., TlsClient]]:
    """make(cn_or_kiosk_id, topics) -> a connected TlsClient with that identity's certificate."""
    made: list[TlsClient] = []

    def make(who: str, topics: list[str] | None = None, *, wait: bool = True) -> TlsClient:
        cert, key = pki.identity(who) if "." in who else pki.kiosk_files(who)
        c = TlsClient(pki.port, pki.server_ca, cert, key, topics)
        made.append(c)
        return c.ready() if wait else c
    yield make
    for c in made:
        c.close()
