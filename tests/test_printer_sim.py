"""The ESC/POS simulator: a streaming parser that must survive split commands and give back
exactly the dots it was sent, or the driver tests that read receipts through it prove nothing."""

from __future__ import annotations

import cv2
import numpy as np
import serial

from devices.printer import escpos
from devices.sim.printer import PrinterSim, apply_command


def _image(rows: int, width: int = 576, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((rows, width)) < 0.3


def _as_page(bits: np.ndarray) -> np.ndarray:
    return np.where(bits, 0, 255).astype(np.uint8)


def test_a_job_fed_one_byte_at_a_time_comes_back_dot_for_dot():
    sim = PrinterSim()  # not started: the parser is driven directly
    img = _image(37, 576)
    job = escpos.init() + escpos.status_query(4) + escpos.raster(img, band_rows=10) + escpos.cut()
    replies = b"".join(sim.feed(job[i:i + 1]) or b"" for i in range(len(job)))
    assert replies == bytes([0x12])
    assert len(sim.pages) == 1 and sim.cuts == 1
    assert np.array_equal(sim.pages[0], _as_page(img))
    assert sim.bytes_received == len(job)


def test_over_the_pty_a_tall_multi_band_image_round_trips(printer_sim):
    img = _image(2345, 576, seed=7)
    with serial.Serial(printer_sim.path, 115200, timeout=1) as port:
        port.write(escpos.init() + escpos.raster(img) + escpos.cut())
        port.write(escpos.status_query(1))  # answered after the data: the simulator processes in order
        assert port.read(1) == b"\x12"
    assert len(printer_sim.pages) == 1
    assert np.array_equal(printer_sim.pages[0], _as_page(img))


def test_other_common_commands_are_consumed_without_disturbing_the_raster():
    sim = PrinterSim()
    img = _image(12, 576)
    qr_store = bytes([0x1D, 0x28, 0x6B, 5, 0, 0x31, 0x50, 0x30]) + b"ab"  # GS ( k: store 2 bytes of QR data
    noise = (bytes.fromhex("1B6101") + bytes.fromhex("1B4501") + qr_store + b"hello" + bytes.fromhex("1D2111")
             + bytes.fromhex("1B7400"))
    sim.feed(escpos.init() + noise + escpos.raster(img) + escpos.cut(partial=True))
    assert sim.unknown_commands == 0
    assert np.array_equal(sim.pages[0], _as_page(img))


def test_feeds_add_blank_paper_to_the_page():
    sim = PrinterSim()
    img = _image(5, 576)
    sim.feed(escpos.raster(img) + escpos.feed(2) + escpos.cut())
    page = sim.pages[0]
    assert page.shape[0] > 5 and (page[5:] == 255).all()


def test_double_width_raster_mode_is_honoured():
    sim = PrinterSim()
    img = _image(4, 64)
    data = bytearray(escpos.raster(img))
    data[3] = 1  # m = 1: double width
    sim.feed(bytes(data) + escpos.cut())
    assert np.array_equal(sim.pages[0], np.repeat(_as_page(img), 2, axis=1))


def test_status_bytes_follow_the_examples_in_devices_md():
    sim = PrinterSim()
    assert [sim.status_byte(n) for n in (1, 2, 3, 4)] == [0x12] * 4
    sim.paper = "near_end"
    assert sim.status_byte(4) == 0x1E
    sim.paper = "out"
    assert sim.status_byte(4) == 0x7E
    assert sim.status_byte(1) & 0x08 and sim.status_byte(2) & 0x20


def test_while_the_paper_is_out_raster_is_discarded_and_counted_and_no_page_comes_out():
    sim = PrinterSim()
    sim.paper = "out"
    data = escpos.raster(_image(40, 576))
    sim.feed(data + escpos.cut())
    assert sim.pages == [] and sim.cuts == 0
    assert sim.discarded_rows == 40 and sim.discarded_bytes == len(data) - 8


def test_the_roll_runs_out_mid_page():
    sim = PrinterSim()
    sim.paper_remaining_rows = 25
    sim.feed(escpos.raster(_image(60, 576)) + escpos.cut())
    assert sim.paper == "out"
    assert sim.discarded_rows == 35
    assert sim.pages == []  # no cut happens without paper


def test_silent_and_garbled_printers():
    sim = PrinterSim()
    sim.silent = True
    assert sim.feed(escpos.status_query(1)) is None
    sim.silent, sim.garbled = False, True
    assert escpos.decode_status(1, sim.feed(escpos.status_query(1))[0]).garbled


def test_save_pages_writes_pngs_that_read_back_identically(tmp_path):
    sim = PrinterSim()
    imgs = [_image(30, 576, seed=s) for s in (1, 2)]
    for img in imgs:
        sim.feed(escpos.raster(img) + escpos.cut())
    paths = sim.save_pages(tmp_path / "out")
    assert [p.name for p in paths] == ["page-0001.png", "page-0002.png"]
    for path, img in zip(paths, imgs, strict=True):
        assert np.array_equal(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), _as_page(img))


def test_stdin_commands_change_state_and_unknown_ones_get_help():
    sim = PrinterSim()
    for line, check in [("paper near_end", lambda: sim.paper == "near_end"),
                        ("cover open", lambda: sim.cover_open), ("silent on", lambda: sim.silent),
                        ("offline on", lambda: sim.offline), ("cutter error", lambda: sim.cutter_error)]:
        assert "paper=" in apply_command(sim, line)
        assert check()
    assert apply_command(sim, "paper maybe").startswith("?")
    assert sim.paper == "near_end"
