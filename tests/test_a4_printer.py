"""The A4 driver against a real CUPS scheduler and a real IPP printer (ippeveprinter) behind it."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from devices.a4.messages import code_for_reasons, status_for
from devices.a4.printer import A4Error, A4Printer
from devices.a4.sim import A4Sim
from kiosk.netutil import free_port
from kiosk.status import Level, Status

WAIT_S = 20.0  # an upper bound for things that happen in well under a second


@pytest.fixture(scope="module")
def two_page_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real two-page A4 PDF, drawn by Qt as the certificates are."""
    from PySide6.QtGui import QPageSize, QPainter, QPdfWriter

    from devices.printer.render import ensure_gui_app

    ensure_gui_app()
    path = tmp_path_factory.mktemp("pdf") / "two.pdf"
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    painter = QPainter(writer)
    painter.drawText(200, 200, "page one")
    writer.newPage()
    painter.drawText(200, 200, "page two")
    painter.end()
    return path.read_bytes()


def pdf_pages(path: Path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[1] for line in out.splitlines() if line.startswith("Pages:")))


def codes_seen(printer: A4Printer) -> list[str]:
    seen: list[str] = []
    printer.status_source.subscribe(lambda _c, s: seen.append(s.code))
    return seen


def when_status(printer: A4Printer, code: str, action) -> threading.Event:
    """Run `action` once, the first time the driver reports `code` (from its own polling thread)."""
    done = threading.Event()

    def listener(_component: str, status: Status) -> None:
        if status.code == code and not done.is_set():
            done.set()
            action()

    printer.status_source.subscribe(listener)
    return done



def _print_in_background(printer: A4Printer, pdf: bytes, title: str) -> tuple[threading.Thread, list[BaseException]]:
    """The print job on a thread of its own, as the kiosk runs it; the A4Error it ends with lands in the list."""
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            printer.print_pdf(pdf, title)
        except A4Error as e:
            outcome.append(e)

    worker = threading.Thread(target=run)
    worker.start()
    return worker, outcome

def test_prints_a_pdf_and_follows_it_until_it_is_printed(a4_sim: A4Sim, a4_printer: A4Printer,
                                                         two_page_pdf: bytes) -> None:
    job = a4_printer.print_pdf(two_page_pdf, "residence-certificate RC-0001")
    (printed,) = a4_sim.printed()
    assert printed.read_bytes() == two_page_pdf
    assert pdf_pages(printed) == 2
    assert job.cups_job_id is not None and job.attempts == 1
    assert a4_printer.pending_jobs == []
    assert a4_printer.status_source.status().code == "ok"


def test_an_empty_tray_is_seen_before_printing_and_the_job_is_kept(a4_sim: A4Sim, a4_printer: A4Printer,
                                                                   two_page_pdf: bytes) -> None:
    a4_sim.media_empty()
    assert a4_printer.query_status().code == "paper_out"  # asked of the idle printer itself
    with pytest.raises(A4Error) as err:
        a4_printer.print_pdf(two_page_pdf, "acceptance-notice AN-0002")
    assert err.value.code == "paper_out" and err.value.status.level is Level.FAULT
    assert [j.id for j in a4_printer.pending_jobs] == [err.value.job_id]
    assert a4_sim.received() == [] and a4_sim.printed() == []

    a4_sim.tray(100)
    assert a4_printer.query_status().code == "ok"
    assert a4_printer.retry_pending() == 1
    assert [p.read_bytes() for p in a4_sim.printed()] == [two_page_pdf]
    assert a4_printer.pending_jobs == []


@pytest.mark.parametrize(("reason", "code"), [("media-jam", "paper_jam"), ("cover-open", "cover_open")])
def test_a_fault_mid_job_is_reported_and_the_job_kept_not_printed_later(
        a4_sim: A4Sim, a4_printer: A4Printer, two_page_pdf: bytes, reason: str, code: str) -> None:
    seen = codes_seen(a4_printer)
    a4_sim.faults(reason)  # the engine stops on it once it has the job
    with pytest.raises(A4Error) as err:
        a4_printer.print_pdf(two_page_pdf, "residence-certificate RC-0003")
    assert err.value.code == code
    assert code in seen
    assert len(a4_printer.pending_jobs) == 1 and a4_sim.printed() == []

    a4_sim.faults()
    _wait_for(lambda: a4_printer.query_status().code == "ok", "the printer to report the fault cleared")
    assert a4_printer.retry_pending() == 1
    # Only the re-sent job came out: the cancelled one did not print once the fault cleared.
    assert [p.read_bytes() for p in a4_sim.printed()] == [two_page_pdf]


def test_a_fault_cleared_within_the_grace_time_lets_the_job_finish(a4_sim: A4Sim, a4_printer: A4Printer,
                                                                   two_page_pdf: bytes) -> None:
    a4_sim.faults("media-jam")
    cleared = when_status(a4_printer, "paper_jam", a4_sim.faults)  # staff open the printer, take the sheet out
    a4_printer.print_pdf(two_page_pdf, "residence-certificate RC-0004")
    assert cleared.is_set()
    assert len(a4_sim.printed()) == 1 and a4_printer.pending_jobs == []
    assert a4_printer.status_source.status().code == "ok"


def test_a_printer_that_goes_away_mid_job_keeps_the_job_until_it_is_re_sent(tmp_path: Path,
                                                                            two_page_pdf: bytes) -> None:
    with A4Sim(tmp_path / "slow", page_s=1.0) as sim:
        printer = A4Printer(sim.queue, sim.cups_server, poll_s=0.1, fault_grace_s=2.0, job_timeout_s=30.0)
        worker, outcome = _print_in_background(printer, two_page_pdf, "residence-certificate RC-0005")
        _wait_for(lambda: sim.received(), "the printer to take the job")
        sim.away()  # switched off with the job half printed
        worker.join(WAIT_S)
        (err,) = outcome
        # CUPS may call the job completed (all data was sent) or keep retrying: either way it is kept.
        assert isinstance(err, A4Error) and err.code in ("job_unconfirmed", "offline")
        assert len(printer.pending_jobs) == 1 and sim.printed() == []
        assert printer.query_status().code == "offline"

        sim.back()
        assert printer.query_status().code == "ok"
        assert printer.retry_pending() == 1
        assert [p.read_bytes() for p in sim.printed()] == [two_page_pdf]


def test_a_job_cups_calls_completed_after_the_printer_lost_it_is_kept(tmp_path: Path,
                                                                      two_page_pdf: bytes) -> None:
    """CUPS marks a job completed when the printer comes back without it: the driver does not believe it."""
    with A4Sim(tmp_path / "slow", page_s=1.0) as sim:
        printer = A4Printer(sim.queue, sim.cups_server, poll_s=0.1, fault_grace_s=15.0, job_timeout_s=30.0)
        when_status(printer, "offline", sim.back)  # back on before the driver gives up
        worker, outcome = _print_in_background(printer, two_page_pdf, "residence-certificate RC-0006")
        _wait_for(lambda: sim.received(), "the printer to take the job")
        sim.away()
        worker.join(WAIT_S)
        (err,) = outcome
        assert isinstance(err, A4Error) and err.code == "job_unconfirmed"
        assert sim.printed() == [] and len(printer.pending_jobs) == 1
        assert printer.retry_pending() == 1, printer.pending_jobs
        assert len(sim.printed()) == 1


def test_a_scheduler_that_does_not_answer_is_not_answering_and_keeps_the_job(two_page_pdf: bytes) -> None:
    printer = A4Printer("hall-a4", f"127.0.0.1:{free_port()}", cups_timeout_s=2.0)
    assert printer.query_status().code == "not_answering"
    with pytest.raises(A4Error) as err:
        printer.print_pdf(two_page_pdf, "residence-certificate RC-0007")
    assert err.value.code == "not_answering" and len(printer.pending_jobs) == 1


def test_only_pdf_documents_are_taken() -> None:
    printer = A4Printer("hall-a4", "127.0.0.1:1")
    with pytest.raises(ValueError, match="PDF"):
        printer.print_pdf(b"\x1b@receipt bytes", "receipt")
    assert printer.pending_jobs == []


@pytest.mark.parametrize(("reasons", "code"), [
    (("media-empty-warning", "media-needed-warning"), "paper_out"),
    (("media-jam-error", "cover-open-report"), "cover_open"),  # the open door first: it explains the jam
    (("door-open-error",), "cover_open"),
    (("offline-report",), "offline"),
    (("media-low-report",), "paper_near_end"),
    (("toner-low-warning", "cups-waiting-for-job-completed"), "toner_low"),
    (("none",), "ok"),
    ((), "ok"),
])
def test_printer_state_reasons_map_to_the_receipt_printers_codes(reasons: tuple[str, ...], code: str) -> None:
    assert code_for_reasons(reasons) == code
    assert status_for(code).code == code


def test_every_status_has_text_in_every_language() -> None:
    for code in ("paper_out", "paper_near_end", "cover_open", "paper_jam", "toner_out", "toner_low", "offline",
                 "not_answering", "job_failed", "job_unconfirmed"):
        status = status_for(code)
        assert status.zh and status.bo and status.en


def _wait_for(condition, what: str) -> None:
    event = threading.Event()
    for _ in range(int(WAIT_S / 0.05)):
        if condition():
            return
        event.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_printer_switched_off_is_offline_and_nothing_is_queued(a4_sim: A4Sim, a4_printer: A4Printer,
                                                                 two_page_pdf: bytes) -> None:
    a4_sim.away()
    with pytest.raises(A4Error) as err:
        a4_printer.print_pdf(two_page_pdf, "acceptance-notice AN-0008")
    assert err.value.code == "offline" and len(a4_printer.pending_jobs) == 1
    a4_sim.back()
    assert a4_printer.retry_pending() == 1 and len(a4_sim.printed()) == 1
