"""The fleet side of `kiosk demo`: a broker, the fleet monitor with its dashboard, a few hundred simulated
kiosks beside the demo's own, and a webhook sink that prints every notification a maintenance team gets.

Everything central runs as `kiosk ...` processes (ui/ imports nothing of central/); the sink is a thread
here so its lines land in the demo's own output.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kiosk.local_broker import LocalBroker, mosquitto_path
from kiosk.netutil import free_port

SIMULATED_KIOSKS = 300
ADMIN, ADMIN_PASSWORD = "admin", "demo-fleet-admin"
DEMO_KIOSK = "demo-kiosk"


class NotificationSink:
    """A team's webhook: prints each notification (title and where) and keeps them for the walk-through."""

    def __init__(self, port: int, say: Callable[[str], None]) -> None:
        self.received: list[dict] = []
        self._cond = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = {}
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')
                sink._received(self.path.rsplit("/", 1)[-1], doc, say)

            def log_message(self, *args: object) -> None:  # the demo prints its own line
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, name="demo-sink", daemon=True).start()

    def _received(self, team: str, doc: dict, say: Callable[[str], None]) -> None:
        kiosks = ", ".join(sorted({str(a.get("kiosk_id")) for a in doc.get("alerts") or [] if a.get("kiosk_id")}))
        say(f"notification to {team} ({doc.get('lang', '?')}, {doc.get('kind', '?')}): "
            f"{doc.get('title', '')} [{kiosks}]")
        with self._cond:
            self.received.append(doc)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[dict], bool], timeout_s: float) -> dict | None:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                found = next((d for d in self.received if predicate(d)), None)
                left = deadline - time.monotonic()
                if found or left <= 0:
                    return found
                self._cond.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def about(doc: dict, kiosk_id: str, kind: str, rule_id: str | None = None) -> bool:
    """A notification of `kind` (open, clear, ...) that names `kiosk_id` (for the alert rule `rule_id`, if given:
    one hall's alerts travel in one message, and a kiosk just started may have another one open)."""
    return doc.get("kind") == kind and any(a.get("kiosk_id") == kiosk_id and rule_id in (None, a.get("rule_id"))
                                           for a in doc.get("alerts") or [])


class DemoFleet:
    def __init__(self, workdir: Path, kiosk_cmd: Callable[..., list[str]], spawn: Callable[[str, list[str]], None],
                 say: Callable[[str], None]) -> None:
        self.workdir = workdir
        self.available = mosquitto_path() is not None
        self.ports = {"mqtt": free_port(), "web": free_port(), "sink": free_port()}
        self._kiosk, self._spawn, self._say = kiosk_cmd, spawn, say
        self.broker: LocalBroker | None = None
        self.sink: NotificationSink | None = None
        self.config_path = workdir / "fleet.toml"
        self.db_url = f"sqlite:///{workdir / 'fleet.sqlite3'}"

    @property
    def dashboard(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}"

    def kiosk_mqtt(self) -> dict:
        """The [mqtt] table of the demo kiosk's config: its edge reports to this fleet's broker."""
        return {"enabled": True, "port": self.ports["mqtt"], "keepalive_s": 10, "interval_s": 10}

    def prepare(self, config_toml: Callable[[dict], str], admin_key: Path, key_id: str) -> None:
        """`admin_key`: the demo's admin signing key, which the demo kiosk pins: the dashboard's "sync now"
        is a signed command."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        inventory = self.workdir / "inventory.toml"
        r = subprocess.run(self._kiosk("fleet", "sample-inventory", "--kiosks", str(SIMULATED_KIOSKS),
                                       "--first-hall", DEMO_KIOSK,
                                       "--webhook-base", f"http://127.0.0.1:{self.ports['sink']}/hook"),
                           capture_output=True, text=True, check=True)
        inventory.write_text(r.stdout, encoding="utf-8")
        self.config_path.write_text("# written by `kiosk demo`\n" + config_toml({
            "monitor": {"db": self.db_url, "inventory": inventory, "evaluate_every_s": 1.0},
            "broker": {"port": self.ports["mqtt"], "client_id": "demo-fleet-monitor"},
            "web": {"listen_port": self.ports["web"], "public_url": self.dashboard},
            "admin": {"signing_key_file": admin_key, "key_id": key_id},
        }), encoding="utf-8")
        subprocess.run(self._kiosk("fleet", "user", "add", ADMIN, "--role", "admin", "--db", self.db_url),
                       input=ADMIN_PASSWORD + "\n", capture_output=True, text=True, check=True)

    def start(self) -> None:
        self.broker = LocalBroker(self.workdir / "mqtt", self.ports["mqtt"]).start()
        self.sink = NotificationSink(self.ports["sink"], self._say)
        self._spawn("fleet-monitor", self._kiosk("fleet", "serve", "--fleet-config", str(self.config_path)))
        self._spawn("fleet-simulator", self._kiosk("fleet", "simulate", "--kiosks", str(SIMULATED_KIOSKS),
                                                   "--broker", f"127.0.0.1:{self.ports['mqtt']}",
                                                   "--interval", "30", "--fault-rate", "0.2", "--seed", "7",
                                                   "--report-every", "0"))
        self._say(f"fleet: Mosquitto on 127.0.0.1:{self.ports['mqtt']}, {SIMULATED_KIOSKS} simulated kiosks "
                  f"in 7 prefectures beside {DEMO_KIOSK}; dashboard {self.dashboard} "
                  f"(log in as {ADMIN} / {ADMIN_PASSWORD}); team notifications are printed here")

    def stop(self) -> None:
        if self.sink is not None:
            self.sink.close()
            self.sink = None
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
