"""`kiosk ui` as a process: it starts with every device missing and the edge down, says so, and stops
cleanly on SIGTERM (how systemd stops it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kiosk.netutil import free_port
from ui.demo.config import config_toml, device_tables

ROOT = Path(__file__).resolve().parents[1]


def test_ui_starts_degraded_and_stops_on_sigterm(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(config_toml({
        "kiosk": {"id": "cli-kiosk"},
        **device_tables(tmp_path / "no-reader", tmp_path / "no-printer", tmp_path / "no-camera.png", tmp_path / "tts",
                        "true"),
        "edge": {"url": f"http://127.0.0.1:{free_port()}"},
    }))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(cfg), "ui", "--windowed"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[dict] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            if line.startswith("{"):
                lines.append(json.loads(line))
            if any(e.get("msg") == "content refresh failed" for e in lines) and \
                    any(e.get("msg") == "screen" for e in lines):
                break
        assert any(e.get("msg") == "screen" and e.get("screen") == "home" for e in lines)
        assert any(e.get("msg") == "content refresh failed" for e in lines)  # edge down: said, not fatal
        assert proc.poll() is None  # still running
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
