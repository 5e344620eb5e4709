"""`kiosk device read-card` as a subprocess against the simulator (in this process, on a pty),
and `kiosk sim card-reader` driven over stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices.sim.card_reader import SAMPLE_CARDS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def kiosk(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text("")  # every key has a default

    def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    return run


def _assert_private(text: str, card) -> None:
    for secret in (card.id_number, card.address, card.birth_date.strftime("%Y%m%d")):
        assert not secret or secret not in text


def test_read_card_masks_the_id_and_logs_nothing_personal(card_sim, kiosk):
    card = SAMPLE_CARDS[0]
    card_sim.insert(0)
    result = kiosk("--log-level", "DEBUG", "--log-format", "text", "device", "read-card", "--port", card_sim.path)
    assert result.returncode == 0, result.stderr
    assert "540102********0119" in result.stdout
    assert card.name in result.stdout  # shown on the technician's terminal, by design
    assert "藏 / བོད། / Tibetan" in result.stdout
    assert "05.01-20101025-0000012345-1234567890" in result.stdout
    _assert_private(result.stdout + result.stderr, card)
    assert card.name not in result.stderr  # the log stream
    assert "[id-redacted]" not in result.stderr  # kept out by the code, not caught by the log scrubber
    assert "card read" in result.stderr  # the DEBUG log really was on


def test_read_card_json(card_sim, kiosk):
    card = SAMPLE_CARDS[5]
    card_sim.insert(5)
    result = kiosk("device", "read-card", "--port", card_sim.path, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "foreigner_2023" and data["id_valid"] is True
    assert data["id_masked"] == card.id_number[:6] + "********" + card.id_number[-4:]
    assert data["valid_to"] == "2034-01-15"
    _assert_private(result.stdout + result.stderr, card)


def test_no_card_exits_3(card_sim, kiosk):
    result = kiosk("device", "read-card", "--port", card_sim.path)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [f"no card is on the reader at {card_sim.path}"]


def test_silent_reader_exits_4(card_sim, kiosk):
    card_sim.insert(0)
    card_sim.silence(True)
    result = kiosk("device", "read-card", "--port", card_sim.path)
    assert result.returncode == 4
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and card_sim.path in lines[0] and "did not answer" in lines[0]


def test_garbled_reader_exits_4(card_sim, kiosk):
    card_sim.noise(True)
    result = kiosk("device", "read-card", "--port", card_sim.path)
    assert result.returncode == 4
    assert "not a valid reply" in result.stderr and card_sim.path in result.stderr


def test_missing_port_exits_4(tmp_path, kiosk):
    port = str(tmp_path / "ttyUSB9")
    result = kiosk("device", "read-card", "--port", port)
    assert result.returncode == 4
    assert result.stderr.strip().splitlines() == [f"card reader port {port} is missing"]


def test_unreadable_card_exits_5(card_sim, kiosk):
    card_sim.insert(0)
    card_sim.fail_next("read", 0x41)
    result = kiosk("device", "read-card", "--port", card_sim.path)
    assert result.returncode == 5
    assert "read card failed" in result.stderr


def test_sim_cli_is_driven_over_stdin(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", os.devnull, "sim", "card-reader",
                             "--card", "0", "--link-dir", str(tmp_path)],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        path = proc.stdout.readline().strip()
        assert path == str(tmp_path / "card-reader") and os.path.exists(path)
        from devices.idcard.reader import CardReader

        with CardReader(path) as reader:
            assert reader.read_card().name == SAMPLE_CARDS[0].name
            proc.stdin.write("insert 4\n")
            proc.stdin.flush()
            while proc.stdout.readline().strip() != "ok":
                pass
            assert reader.read_card().name == SAMPLE_CARDS[4].name
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
