"""The real ReceiptPrinter driver against the ESC/POS simulator over a pty."""

from __future__ import annotations

import logging
import re
import time

import cv2
import numpy as np
import pytest

from devices.printer.printer import PrinterError
from devices.printer.receipt import Receipt, render_receipt, render_text_document
from devices.printer.render import qimage_to_bits
from kiosk.status import Level

TIBETAN = re.compile("[\u0f00-\u0fff]")
QR = "https://kiosk.example/t/TK-2024-000123"


def _receipt(qr: str = QR) -> Receipt:
    return Receipt(title="ཞབས་ཞུའི་ཨང་གྲངས།", title_alt="办事回执", lang="bo",
                   lines=[("ཨང་གྲངས།", "TK-2024-000123"), ("ལག་ཁྱེར།", "540102********1234"),
                          "བཀྲ་ཤིས་བདེ་ལེགས། ཁྱེད་ཀྱི་ཞུ་ཡིག་འབྱོར་སོང་།"],
                   qr=qr, footer="2024-05-01 10:30")


def _qr_on(page: np.ndarray) -> str:
    payload, _, _ = cv2.QRCodeDetector().detectAndDecode(page)
    return payload


def _wait_pages(sim, n: int, timeout: float = 5.0) -> None:
    """The driver returns once the printer confirmed the job; the page list is then up to date,
    but give the simulator thread a moment in case of scheduling."""
    deadline = time.monotonic() + timeout
    while len(sim.pages) < n and time.monotonic() < deadline:
        time.sleep(0.01)


OK_STATE = {"online": True, "paper": "ok", "cover_open": False, "cutter_error": False, "answering": True}


@pytest.mark.parametrize("setup,changes,code,level", [
    ({}, {}, "ok", Level.OK),
    ({"paper": "near_end"}, {"paper": "near_end"}, "paper_near_end", Level.DEGRADED),
    ({"paper": "out"}, {"paper": "out", "online": False}, "paper_out", Level.FAULT),
    ({"cover_open": True}, {"cover_open": True, "online": False}, "cover_open", Level.FAULT),
    ({"offline": True}, {"online": False}, "offline", Level.FAULT),
    ({"cutter_error": True}, {"cutter_error": True, "online": False}, "cutter_error", Level.FAULT),
])
def test_status_for_each_printer_condition(printer_sim, receipt_printer, setup, changes, code, level):
    for key, value in setup.items():
        setattr(printer_sim, key, value)
    state = receipt_printer.query_status()
    assert state.as_dict() == {**OK_STATE, **changes}
    status = receipt_printer.status_source.status()
    assert (status.code, status.level) == (code, level)
    assert status.zh and status.en and TIBETAN.search(status.bo)


def test_silence_is_a_fault_of_its_own_never_ok(printer_sim, receipt_printer):
    printer_sim.silent = True
    state = receipt_printer.query_status()
    assert state.answering is False and state.online is False
    assert state.paper is None  # unknown, not "ok"
    status = receipt_printer.status_source.status()
    assert (status.code, status.level) == ("not_answering", Level.FAULT)


def test_garbled_replies_are_not_ok(printer_sim, receipt_printer):
    printer_sim.garbled = True
    state = receipt_printer.query_status()
    assert state.answering is False
    assert receipt_printer.status_source.status().code == "garbled"


def test_listeners_hear_each_change_once(printer_sim, receipt_printer):
    heard = []
    receipt_printer.status_source.subscribe(lambda comp, st: heard.append((comp, st.code)))
    receipt_printer.query_status()
    printer_sim.paper = "out"
    receipt_printer.query_status()
    receipt_printer.query_status()
    printer_sim.paper = "ok"
    receipt_printer.query_status()
    assert heard == [("printer", "paper_out"), ("printer", "ok")]


def test_a_printed_receipt_reads_back_from_the_paper(printer_sim, receipt_printer):
    receipt = _receipt()
    job = receipt_printer.print_receipt(receipt)
    _wait_pages(printer_sim, 1)
    assert job and receipt_printer.pending_jobs == []
    page = printer_sim.pages[0]
    assert page.shape[1] == 576
    assert (page == 0).sum() > 5000  # ink
    assert _qr_on(page) == QR
    # Exactly the dots that were rendered: nothing lost or shifted on the wire.
    assert np.array_equal(page == 0, qimage_to_bits(render_receipt(receipt, 576)))
    assert receipt_printer.status_source.status().code == "ok"


def test_a_long_document_crosses_several_raster_bands_intact(printer_sim, receipt_printer):
    img = render_text_document("ལམ་སྟོན།", ["བཀྲ་ཤིས་བདེ་ལེགས། " * 12] * 4, "bo", 576)
    assert img.height() > 1000
    receipt_printer.print_image(img)
    _wait_pages(printer_sim, 1)
    assert np.array_equal(printer_sim.pages[0] == 0, qimage_to_bits(img))


def test_paper_out_before_a_job_refuses_keeps_it_and_retry_prints_it(printer_sim, receipt_printer):
    printer_sim.paper = "out"
    with pytest.raises(PrinterError) as err:
        receipt_printer.print_receipt(_receipt())
    assert err.value.code == "paper_out"
    assert [j.id for j in receipt_printer.pending_jobs] == [err.value.job_id]
    assert receipt_printer.pending_jobs[0].created
    assert printer_sim.pages == []
    assert receipt_printer.retry_pending() == 0  # still out: nothing printed, nothing dropped
    assert len(receipt_printer.pending_jobs) == 1

    printer_sim.paper = "ok"
    assert receipt_printer.retry_pending() == 1
    _wait_pages(printer_sim, 1)
    assert receipt_printer.pending_jobs == []
    assert _qr_on(printer_sim.pages[0]) == QR


def test_paper_running_out_mid_job_is_detected_after_and_the_job_kept(printer_sim, receipt_printer):
    printer_sim.paper_remaining_rows = 200  # the roll ends a quarter of the way down the receipt
    with pytest.raises(PrinterError) as err:
        receipt_printer.print_receipt(_receipt())
    assert err.value.code == "paper_out"
    assert printer_sim.pages == [] and printer_sim.discarded_rows > 0
    assert len(receipt_printer.pending_jobs) == 1

    printer_sim.paper_remaining_rows = None
    printer_sim.paper = "ok"
    assert receipt_printer.retry_pending() == 1
    _wait_pages(printer_sim, 1)
    assert _qr_on(printer_sim.pages[0]) == QR


@pytest.mark.parametrize("fault,code", [("cover_open", "cover_open"), ("silent", "not_answering"),
                                        ("cutter_error", "cutter_error"), ("offline", "offline")])
def test_any_fault_refuses_the_job_and_keeps_it(printer_sim, receipt_printer, fault, code):
    setattr(printer_sim, fault, True)
    with pytest.raises(PrinterError) as err:
        receipt_printer.print_receipt(_receipt())
    assert err.value.code == code and err.value.job_id
    assert len(receipt_printer.pending_jobs) == 1
    setattr(printer_sim, fault, False)
    assert receipt_printer.retry_pending() == 1


def test_paper_near_end_still_prints(printer_sim, receipt_printer):
    printer_sim.paper = "near_end"
    receipt_printer.print_receipt(_receipt())
    _wait_pages(printer_sim, 1)
    assert len(printer_sim.pages) == 1
    assert receipt_printer.status_source.status().code == "paper_near_end"


def test_retry_prints_kept_jobs_oldest_first(printer_sim, receipt_printer):
    printer_sim.cover_open = True
    for payload in ("first", "second"):
        with pytest.raises(PrinterError):
            receipt_printer.print_receipt(_receipt(qr=payload))
    printer_sim.cover_open = False
    assert receipt_printer.retry_pending() == 2
    _wait_pages(printer_sim, 2)
    assert [_qr_on(p) for p in printer_sim.pages] == ["first", "second"]


def test_unplugged_printer_is_disconnected_and_comes_back_when_plugged(printer_sim, receipt_printer):
    assert receipt_printer.query_status().answering
    printer_sim.unplug()
    assert receipt_printer.query_status().answering is False
    assert receipt_printer.status_source.status().code == "disconnected"
    with pytest.raises(PrinterError) as err:
        receipt_printer.print_receipt(_receipt())
    assert err.value.code == "disconnected" and len(receipt_printer.pending_jobs) == 1

    printer_sim.plug()
    deadline = time.monotonic() + 5  # reconnects after its backoff (0.05-0.2 s in this fixture)
    while not receipt_printer.query_status().answering and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receipt_printer.status_source.status().code == "ok"
    assert receipt_printer.retry_pending() == 1
    _wait_pages(printer_sim, 1)
    assert _qr_on(printer_sim.pages[0]) == QR


def test_port_that_never_existed_is_disconnected(tmp_path, qapp):
    from devices.printer.printer import ReceiptPrinter

    with ReceiptPrinter(str(tmp_path / "nope"), status_timeout=0.1) as printer:
        assert printer.query_status().answering is False
        assert printer.status_source.status().code == "disconnected"


def test_images_that_do_not_fit_are_refused_up_front(printer_sim, receipt_printer):
    with pytest.raises(ValueError):
        receipt_printer.print_image(np.zeros((10, 600), dtype=bool))
    with pytest.raises(TypeError):
        receipt_printer.print_image(np.zeros((10, 100), dtype=np.uint8))
    assert receipt_printer.pending_jobs == [] and printer_sim.bytes_received == 0


def test_logs_carry_no_receipt_content(printer_sim, receipt_printer, caplog):
    caplog.set_level(logging.DEBUG)
    receipt = _receipt()
    receipt.lines.append(("མིང་།", "བཀྲ་ཤིས་སྒྲོལ་མ།"))  # a name
    receipt_printer.print_receipt(receipt)
    printer_sim.paper = "out"
    with pytest.raises(PrinterError):
        receipt_printer.print_receipt(receipt)
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "receipt printed" in text and "kept for retry" in text
    for secret in ("བཀྲ་ཤིས་སྒྲོལ་མ", "1234", "TK-2024-000123"):
        assert secret not in text
