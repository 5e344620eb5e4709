"""`kiosk device printer-status|print-test` and `kiosk sim printer`, run as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from devices.camera.qr import decode_qr

KEYS = {"online", "paper", "cover_open", "cutter_error", "answering"}


@pytest.fixture
def kiosk(tmp_path: Path):
    """Run `python -m kiosk ...` with an empty (all defaults) config, not whatever is in /etc."""
    config = tmp_path / "kiosk.toml"
    config.write_text("")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), *args],
                              capture_output=True, text=True, timeout=60, env=os.environ)

    return run


def test_status_json_when_fine(printer_sim, kiosk):
    r = kiosk("device", "printer-status", "--port", printer_sim.path, "--json")
    assert r.returncode == 0, r.stderr
    state = json.loads(r.stdout)
    assert set(state) == KEYS
    assert state == {"online": True, "paper": "ok", "cover_open": False, "cutter_error": False, "answering": True}


def test_status_json_paper_out_still_exits_0_because_it_answers(printer_sim, kiosk):
    printer_sim.paper = "out"
    r = kiosk("device", "printer-status", "--port", printer_sim.path, "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout)["paper"] == "out"


def test_silent_printer_exits_4_and_says_so(printer_sim, kiosk):
    printer_sim.silent = True
    r = kiosk("device", "printer-status", "--port", printer_sim.path, "--json")
    assert r.returncode == 4
    assert json.loads(r.stdout)["answering"] is False
    r = kiosk("device", "printer-status", "--port", printer_sim.path)
    assert r.returncode == 4
    assert "not answering" in r.stdout and "打印机没有应答" in r.stdout


def test_human_output_in_plain_words(printer_sim, kiosk):
    printer_sim.cover_open = True
    r = kiosk("device", "printer-status", "--port", printer_sim.path)
    assert r.returncode == 0
    assert "cover is open" in r.stdout and "cover:      open" in r.stdout


def test_missing_port_exits_4(tmp_path, kiosk):
    r = kiosk("device", "printer-status", "--port", str(tmp_path / "no-such-port"))
    assert r.returncode == 4
    assert "not connected" in r.stdout


def test_print_test_prints_a_bilingual_receipt_with_a_readable_qr(printer_sim, kiosk):
    r = kiosk("device", "print-test", "--port", printer_sim.path, "--lang", "zh")
    assert r.returncode == 0, r.stderr
    payload = r.stdout.split("QR: ", 1)[1].strip()
    assert payload.startswith("kiosk-print-test dev-kiosk ")
    assert len(printer_sim.pages) == 1
    page = printer_sim.pages[0]
    assert page.shape[1] == 576
    assert decode_qr(page) == payload  # the decoder the kiosk's camera uses


def test_print_test_exits_4_with_a_clear_line_when_it_cannot_print(printer_sim, kiosk):
    printer_sim.paper = "out"
    r = kiosk("device", "print-test", "--port", printer_sim.path)
    assert r.returncode == 4
    assert "cannot print: The printer is out of paper" in r.stderr
    assert printer_sim.pages == []


def test_simulator_cli_takes_commands_and_writes_printed_pages(tmp_path, kiosk):
    out = tmp_path / "pages"
    sim = subprocess.Popen([sys.executable, "-m", "kiosk", "sim", "printer", "--out", str(out),
                            "--link-dir", str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, env=os.environ)
    try:
        port = sim.stdout.readline().strip()
        assert port == str(tmp_path / "printer")

        sim.stdin.write("paper out\n")
        sim.stdin.flush()
        assert "paper=out" in sim.stdout.readline()
        assert json.loads(kiosk("device", "printer-status", "--port", port, "--json").stdout)["paper"] == "out"

        sim.stdin.write("paper ok\n")
        sim.stdin.flush()
        assert "paper=ok" in sim.stdout.readline()
        r = kiosk("device", "print-test", "--port", port)
        assert r.returncode == 0, r.stderr
        assert "page 1 printed" in sim.stdout.readline()
        png = out / "page-0001.png"
        page = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
        assert page.shape[1] == 576
        assert decode_qr(page) == r.stdout.split("QR: ", 1)[1].strip()

        sim.stdin.write("quit\n")
        sim.stdin.flush()
        assert sim.wait(timeout=10) == 0
        deadline = time.monotonic() + 2
        while Path(port).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(port).exists()  # the port goes away with the simulator
    finally:
        if sim.poll() is None:
            sim.kill()
            sim.wait()
