"""`kiosk device scan-qr`, run as a technician would, against recorded camera input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devices.sim import camera_media as media

ROOT = Path(__file__).parents[1]


def scan(source: str | Path, tmp_path: Path, timeout: str = "5") -> subprocess.CompletedProcess[str]:
    config = tmp_path / "kiosk.toml"
    config.write_text("")
    return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), "--log-level", "WARNING",
                           "device", "scan-qr", "--source", str(source), "--timeout", timeout],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


def test_scan_qr_prints_the_payload(tmp_path: Path) -> None:
    payload = "社保卡补办 ZW2025031500042"
    proc = scan(media.qr_video(payload, tmp_path / "v.avi", frames=8, blank_frames=3), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == payload + "\n"


def test_scan_qr_without_code_exits_3_with_one_line(tmp_path: Path) -> None:
    proc = scan(media.blank_image(tmp_path / "blank.png"), tmp_path, timeout="0.5")
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == ["scan-qr: no QR code found within 0.5 s"]


def test_scan_qr_bad_source_exits_4(tmp_path: Path) -> None:
    proc = scan(tmp_path / "missing.avi", tmp_path)
    assert proc.returncode == 4
    assert "cannot open camera source" in proc.stderr.strip().splitlines()[-1]


def test_scan_qr_absent_device_index_exits_4(tmp_path: Path) -> None:
    proc = scan("7", tmp_path)
    assert proc.returncode == 4
    assert "cannot open camera source 7" in proc.stderr
