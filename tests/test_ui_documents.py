""""Print my certificate" on the kiosk: home tile -> ID card on the reader -> the resident's issued
documents -> printed on a real CUPS queue with an ippeveprinter behind it (one per module); a paper-out
printer shows the receipt printer's banner, keeps the job and tells the edge; no A4 printer, no tile.
Platform and edge are the real processes of tests/fixtures_ui.py."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.a4.sim import A4Sim, missing_binaries
from edge.platform_adapter import HttpPlatformAdapter
from kiosk import wire
from kiosk.config import parse
from tests.fixtures_ui import click, wait_until


@pytest.fixture(scope="module")
def a4(tmp_path_factory) -> Iterator[A4Sim]:
    if missing := missing_binaries():
        pytest.skip(f"CUPS test programs missing ({', '.join(missing)}): Debian cups-daemon cups-client "
                    "cups-ipp-utils")
    sim = A4Sim(tmp_path_factory.mktemp("a4") / "sim").start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def approved(ui_stack, card_record) -> str:
    """Card 0's holder has an approved residence-certificate application: its tracking number."""
    adapter = HttpPlatformAdapter(ui_stack.platform_url, timeout=10)
    try:
        body = {"schema": wire.SUBMISSION_SCHEMA, "service_id": "residence-certificate",
                "platform_service_code": "HH-0401", "tracking_number": "TK261203-000071", "fields": {},
                "lang": "zh", "applicant": {"id_number": card_record.id_number, "name": card_record.name}}
        tracking = adapter.submit_application("key-ui-documents-1", body).tracking_number
    finally:
        adapter.close()
    req = urllib.request.Request(ui_stack.platform_url + wire.PLATFORM_SET_STATUS.format(tracking_number=tracking),
                                 data=json.dumps({"status": wire.STATUS_APPROVED}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
    return tracking


@pytest.fixture
def a4_kiosk(kiosk, ui_stack, a4: A4Sim, monkeypatch):
    """kiosk(lang) with the hall's A4 printer configured."""
    a4_table = f'\n[devices.a4_printer]\nqueue = "{a4.queue}"\nserver = "{a4.cups_server}"\n'

    def cfg(lang: str = "bo", camera: Path | None = None, pin_hash: str = ""):
        return parse(ui_stack.config_text(lang, camera, pin_hash) + a4_table)

    monkeypatch.setattr(ui_stack, "cfg", cfg)
    yield kiosk
    a4.faults()
    a4.tray(250)


def pdf_text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    return re.sub(r"\s+", "", out)


def to_documents(qtbot, w, ui_stack) -> None:
    click(qtbot, w, "tile_documents")
    assert w.current_screen().name == "identify"
    assert w.current_screen().prompt.text().startswith("打印证明")
    ui_stack.card_sim.insert(0)
    wait_until(qtbot, lambda: w.current_screen().name == "documents" and w.findChildren(
        type(w.bars.back_btn), "document_residence_certificate"))


def test_a_resident_prints_the_certificate_with_the_card(qtbot, a4_kiosk, ui_stack, a4: A4Sim, approved: str,
                                                         card_record) -> None:
    w = a4_kiosk("zh")
    before = len(a4.printed())
    to_documents(qtbot, w, ui_stack)
    screen = w.current_screen()
    assert screen.prompt.text() == "请选择要打印的证明。"
    click(qtbot, w, "document_residence_certificate")
    assert screen.prompt.text().startswith("正在用A4纸打印")
    wait_until(qtbot, lambda: len(a4.printed()) > before and not screen.printing, 30_000)
    assert screen.prompt.text() == "打印好了，请取走您的证明。" and screen.banner.isVisible()
    text = pdf_text(a4.printed()[-1])
    assert "居住证明" in text and approved in text
    assert card_record.id_number not in text  # masked on paper

    click(qtbot, w, "finish")  # the visit ends: the list and the ID number are gone
    wait_until(qtbot, lambda: w.current_screen().name in ("feedback", "home"))
    wait_until(qtbot, lambda: not w.documents.entries)


def test_paper_out_shows_the_banner_keeps_the_job_and_tells_the_edge(qtbot, a4_kiosk, ui_stack, a4: A4Sim,
                                                                     approved: str) -> None:
    w = a4_kiosk("zh")
    to_documents(qtbot, w, ui_stack)
    a4.media_empty()
    before = len(a4.printed())
    click(qtbot, w, "document_residence_certificate")
    screen = w.current_screen()
    wait_until(qtbot, lambda: not screen.printing, 30_000)
    assert screen.banner.isVisible()
    assert "A4打印机没有纸了" in screen.banner.text.text() and "窗口" in screen.banner.text.text()
    assert len(w.documents.printer.pending_jobs) == 1 and len(a4.printed()) == before  # kept, not printed

    def edge_sees_paper_out() -> bool:
        with urllib.request.urlopen(ui_stack.edge_url + wire.API_STATUS, timeout=5) as r:
            kiosks = json.loads(r.read())["kiosks"]
        return kiosks.get("test-kiosk", {}).get("components", {}).get("a4_printer", {}).get("code") == "paper_out"

    wait_until(qtbot, edge_sees_paper_out)
    a4.tray(250)
    assert w.documents.printer.retry_pending() == 1 and len(a4.printed()) == before + 1


def test_blank_forms_print_on_a4_when_there_is_an_a4_printer(qtbot, a4_kiosk, a4: A4Sim) -> None:
    w = a4_kiosk("zh")
    form = w.content.forms()[0]
    before = len(a4.printed())
    w.go("print_form")
    click(qtbot, w, f"form_{form.id}")
    wait_until(qtbot, lambda: len(a4.printed()) > before, 30_000)
    assert re.sub(r"\s+", "", form.title.get("zh")) in pdf_text(a4.printed()[-1])


def test_no_a4_printer_no_tile(qtbot, kiosk) -> None:
    w = kiosk("zh")
    qtbot.wait(1)
    assert w.documents is None
    assert not [b for b in w.findChildren(type(w.bars.back_btn), "tile_documents") if b.isVisible()]
    assert [b for b in w.findChildren(type(w.bars.back_btn), "tile_lookup") if b.isVisible()]
