"""`kiosk edge serve` as a real process: sd_notify READY and watchdog pings, the API up, submissions
forwarded, SIGTERM a clean stop, nothing personal in its log (access log included)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from edge.store import ContentStore
from kiosk import sdnotify
from kiosk.edge_client import EdgeClient
from kiosk.netutil import free_port
from tests.fixtures_edge import (
    REPO,
    EdgeProcess,
    NotifySocket,
    install_pack,
    make_id,
    pack_files,
    write_config,
)

ID = make_id(31)


def test_daemon_serves_notifies_forwards_and_stops_cleanly(tmp_path, platform_factory):
    platform = platform_factory()
    data = tmp_path / "edge"
    install_pack(ContentStore(data / "content"), pack_files(), 1)
    port = free_port()
    cfg = write_config(tmp_path / "kiosk.toml", data, port, platform.url)
    log_path = tmp_path / "edge.log"
    proc = EdgeProcess(cfg, log_path, watchdog_usec=400_000)
    try:
        proc.wait_ready()
        assert proc.notify.wait_for("WATCHDOG=1", timeout=5)
        client = EdgeClient(f"http://127.0.0.1:{port}")
        tn = client.submit("old-age-allowance", {"phone": "13912345678", "account": "bank", "agree": True},
                           {"id_number": ID, "name": "尼玛"})["tracking_number"]
        deadline = time.monotonic() + 20
        while client.submission(tn)["status"] != "received":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert client.progress(id_number=ID)["source"] == "platform"
        assert client.status()["kiosk_id"] == "test-hall-1"
    finally:
        code = proc.terminate()
    assert code == 0
    assert any("STOPPING=1" in m for m in proc.notify.messages)
    log = log_path.read_text()
    assert '"edge ready"' in log and '"POST /api/v1/submissions' in log  # access log is on...
    assert ID not in log and "尼玛" not in log  # ...and carries no body


def test_daemon_takes_lan_kiosks_from_its_config_and_refuses_unknown_tokens(tmp_path):
    import hashlib

    from kiosk.edge_client import EdgeRejected
    from ui.demo.config import config_toml

    token = "daemon-test-token-0123456789"
    data, port = tmp_path / "edge", free_port()
    install_pack(ContentStore(data / "content"), pack_files(), 1)
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(config_toml({
        "kiosk": {"id": "test-hall-1"},
        "edge": {"listen_host": "127.0.0.1", "listen_port": port, "data_dir": data,
                 "platform_url": f"http://127.0.0.1:{free_port()}", "lookup_rate_per_min": 1},
        "edge.kiosks": [{"id": "hall-1-kiosk-2", "token_sha256": hashlib.sha256(token.encode()).hexdigest()}],
        "logging": {"format": "json"},
    }), encoding="utf-8")
    log_path = tmp_path / "edge.log"
    proc = EdgeProcess(cfg, log_path)
    try:
        proc.wait_ready()
        url = f"http://127.0.0.1:{port}"
        kiosk = EdgeClient(url, token=token)
        kiosk.health("hall-1-kiosk-2", {"app": {"level": "ok", "code": "ok"}})
        assert kiosk.progress(id_number=ID)["source"] == "edge_cache"
        with pytest.raises(EdgeRejected) as rate:  # the configured rate: one lookup a minute for this kiosk
            kiosk.progress(id_number=ID)
        assert (rate.value.status, rate.value.code) == (429, "rate_limited")
        with pytest.raises(EdgeRejected) as unknown:
            EdgeClient(url, token="not-this-one").status()
        assert (unknown.value.status, unknown.value.code) == (401, "unauthorized")
    finally:
        assert proc.terminate() == 0
    log = log_path.read_text()
    assert '"request refused"' in log and token not in log and "not-this-one" not in log


def test_sdnotify_is_a_no_op_without_systemd(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.notify("READY=1") is False
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert sdnotify.watchdog_interval() is None


def test_sdnotify_sends_to_the_socket_and_reads_the_watchdog(monkeypatch):
    sock = NotifySocket()
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", sock.name)
        assert sdnotify.notify("READY=1")
        assert sock.wait_for("READY=1", timeout=2)
    finally:
        sock.close()
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert sdnotify.watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert sdnotify.watchdog_interval() is None


def test_outbox_command_lists_dead_letters(tmp_path):
    from edge.outbox import KIND_APPLICATION, Outbox

    data = tmp_path / "edge"
    ob = Outbox.open(data)
    sub, _ = ob.submit("key-00000001", KIND_APPLICATION, {"n": 1})
    ob.reject("key-00000001", "invalid_application: service code unknown")
    ob.close()
    cfg = write_config(tmp_path / "kiosk.toml", data, free_port(), "http://127.0.0.1:9")
    cmd = [sys.executable, "-m", "kiosk", "--config", str(cfg), "edge", "outbox"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0 and "dead letters: 1" in out.stdout and sub.tracking_number in out.stdout
    out = subprocess.run([*cmd, "--requeue", "key-00000001"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "queued: 1" in out.stdout and "dead letters: 0" in out.stdout
