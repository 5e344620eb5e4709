"""The audit log's head goes out with the fleet state of a real `kiosk edge serve` on a real broker, and
follows the log: entries the UI writes, and a refused command the agent writes itself."""

from __future__ import annotations

import json
import uuid

from kiosk import fleet_wire
from kiosk.audit import AuditLog, read_entries, read_head
from kiosk.netutil import free_port
from tests.fixtures_edge import EdgeProcess

KIOSK = "hall-09-k1"


def _config(tmp_path, data, port, broker_port):
    from ui.demo.config import config_toml

    path = tmp_path / "kiosk.toml"
    path.write_text(config_toml({
        "kiosk": {"id": KIOSK},
        "edge": {"listen_host": "127.0.0.1", "listen_port": port, "data_dir": data,
                 "platform_url": f"http://127.0.0.1:{free_port()}"},
        "mqtt": {"enabled": True, "host": "127.0.0.1", "port": broker_port, "keepalive_s": 5, "interval_s": 2},
        "logging": {"format": "json"},
    }), encoding="utf-8")
    return path


def test_the_published_head_follows_the_audit_log(tmp_path, broker, subscriber_factory, mqtt_publisher):
    data, port = tmp_path / "edge", free_port()
    log_path = tmp_path / "audit" / "audit.sqlite3"  # <edge.data_dir>/../audit/, shared with the UI
    topics = {k: fleet_wire.topic(KIOSK, k) for k in fleet_wire.KINDS}
    sub = subscriber_factory([topics["state"], topics["cmd/result"]])
    ui_side = AuditLog(log_path)
    ui_side.record("maintenance_open")
    proc = EdgeProcess(_config(tmp_path, data, port, broker.port), tmp_path / "edge.log")
    try:
        proc.wait_ready()
        first = str(read_head(log_path))
        sub.wait_for(topics["state"], lambda p: p.get("audit_head") == first, "the state with the first head")

        ui_side.record("pin_attempt", outcome="wrong", attempts_left=4)  # the UI writes; the state follows
        second = str(read_head(log_path))
        assert second.startswith("2:")
        sub.wait_for(topics["state"], lambda p: p.get("audit_head") == second, "the state with the second head")

        # An unsigned command that would change something: refused, recorded by the agent, head moves again.
        cmd_id = uuid.uuid4().hex
        mqtt_publisher.send(topics["cmd"], json.dumps({"schema": fleet_wire.SCHEMA_COMMAND, "id": cmd_id,
                                                       "kind": "restart_component", "args": {}}).encode())
        sub.wait_for(topics["cmd/result"], lambda p: p["id"] == cmd_id and p["result"] == "rejected",
                     "the refusal")
        refused = [e for e in read_entries(log_path) if e["event"] == "command_refused"]
        assert refused and refused[0]["command_id"] == cmd_id and refused[0]["command"] == "restart_component"
        third = str(read_head(log_path))
        assert third.startswith("3:")
        sub.wait_for(topics["state"], lambda p: p.get("audit_head") == third, "the state with the third head")
    finally:
        assert proc.terminate() == 0
