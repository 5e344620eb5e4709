"""`kiosk edge serve` with [mqtt] enabled: the real edge daemon runs the fleet agent against a real broker.

What the fleet monitor will see: the kiosk online, a retained state built from the edge's own status
(content version, queued applications, the UI's component report), an event when the UI reports a fault,
and a retained "offline, shutdown" when the daemon stops.
"""

from __future__ import annotations

from kiosk import fleet_wire
from kiosk.edge_client import EdgeClient
from kiosk.netutil import free_port
from tests.fixtures_edge import EdgeProcess, install_pack, make_id, pack_files

KIOSK = "hall-03-k2"


def _config(tmp_path, data, port, broker_port):
    from ui.demo.config import config_toml

    path = tmp_path / "kiosk.toml"
    path.write_text(config_toml({
        "kiosk": {"id": KIOSK},
        "edge": {"listen_host": "127.0.0.1", "listen_port": port, "data_dir": data,
                 "platform_url": f"http://127.0.0.1:{free_port()}"},  # nobody there: the application stays queued
        "mqtt": {"enabled": True, "host": "127.0.0.1", "port": broker_port, "keepalive_s": 5, "interval_s": 2},
        "logging": {"format": "json"},
    }), encoding="utf-8")
    return path


def test_edge_daemon_reports_its_health_over_mqtt(tmp_path, broker, subscriber_factory):
    from edge.store import ContentStore

    data, port = tmp_path / "edge", free_port()
    install_pack(ContentStore(data / "content"), pack_files(), 4)
    topics = {k: fleet_wire.topic(KIOSK, k) for k in fleet_wire.KINDS}
    sub = subscriber_factory([topics["availability"], topics["state"], topics["events"]])
    proc = EdgeProcess(_config(tmp_path, data, port, broker.port), tmp_path / "edge.log")
    try:
        proc.wait_ready()
        sub.wait_for(topics["availability"], lambda p: p["online"] and p["reason"] == "birth", "birth message")
        state = sub.wait_for(topics["state"], lambda p: p["content_version"] == 4, "state with content version")
        assert state["kiosk_id"] == KIOSK and state["outbox"]["depth"] == 0

        client = EdgeClient(f"http://127.0.0.1:{port}")
        name, id_number = "次仁卓玛", make_id(77)
        client.submit("old-age-allowance", {"phone": "13912345678", "account": "bank", "agree": True},
                      {"id_number": id_number, "name": name})
        voice = {"bo": {"clip": 3, "stand_in": 3, "synthetic": 50, "silent": 0},
                 "zh": {"clip": 0, "stand_in": 0, "synthetic": 53, "silent": 0}}
        client.health(KIOSK, {"printer": {"level": "fault", "code": "paper_out", "zh": "缺纸", "bo": "", "en": "out"}},
                      voice=voice)

        event = sub.wait_for(topics["events"], lambda p: p.get("component") == "printer", "printer event")
        assert (event["level"], event["code"]) == ("fault", "paper_out")
        state = sub.wait_for(topics["state"], lambda p: p["outbox"]["depth"] == 1
                             and p["components"].get("printer", {}).get("code") == "paper_out",
                             "state with the queued application and the printer fault")
        assert state["outbox"]["oldest_age_s"] is not None
        # How the kiosk's prompts are heard reaches the fleet: the synthetic and stand-in ones count as missing
        # native clips (the monitor's "missing Tibetan clips" rule reads missing_clips).
        assert state["voice_coverage"]["bo"] == voice["bo"]
        assert state["missing_clips"]["bo"] == 53
        everything = b"".join(b for t in topics.values() for b in sub.raw(t))
        assert name.encode() not in everything and id_number.encode() not in everything
    finally:
        assert proc.terminate() == 0
    sub.wait_for(topics["availability"], lambda p: not p["online"] and p["reason"] == "shutdown", "clean offline")
