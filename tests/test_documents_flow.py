""""Print my certificate" end to end: the reference platform issues documents on approval, the edge
proxies them, the kiosk's EdgeClient fetches them and the flow prints on a real CUPS queue with an
ippeveprinter behind it. Nothing is mocked."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest

from devices.a4.printer import A4Printer
from devices.a4.sim import A4Sim
from edge.platform_adapter import HttpPlatformAdapter
from kiosk import wire
from kiosk.edge_client import EdgeClient, EdgeRejected, EdgeUnavailable
from kiosk.flows.documents import DocumentsFlow, Outcome
from kiosk.netutil import free_port
from tests.fixtures_edge import Edge, ServerThread, make_id

NAME = "བཀྲ་ཤིས་སྒྲོལ་མ"


def apply(adapter: HttpPlatformAdapter, id_number: str, service_id: str, n: int) -> str:
    body = {"schema": wire.SUBMISSION_SCHEMA, "service_id": service_id, "platform_service_code": "HH-0401",
            "tracking_number": f"TK261203-00000{n}", "fields": {}, "lang": "bo",
            "applicant": {"id_number": id_number, "name": NAME}}
    return adapter.submit_application(f"key-{service_id}-{n}", body).tracking_number


def set_status(platform: ServerThread, tracking: str, status: str) -> None:
    req = urllib.request.Request(platform.url + wire.PLATFORM_SET_STATUS.format(tracking_number=tracking),
                                 data=json.dumps({"status": status}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200


@pytest.fixture
def approved(platform: ServerThread, adapter: HttpPlatformAdapter) -> tuple[str, str, str]:
    """A resident with an approved residence-certificate application and one still in review."""
    id_number = make_id(7)
    done = apply(adapter, id_number, "residence-certificate", 1)
    pending = apply(adapter, id_number, "old-age-allowance", 2)
    set_status(platform, done, wire.STATUS_APPROVED)
    set_status(platform, pending, wire.STATUS_IN_REVIEW)
    return id_number, done, pending


@pytest.fixture
def client(platform: ServerThread, edge_factory) -> EdgeClient:
    edge: Edge = edge_factory(platform.url, lookup_timeout_s=10.0)
    return EdgeClient(edge.url, timeout=15.0)


def pdf_text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    return re.sub(r"\s+", "", out)


def test_approval_issues_documents_listed_by_card_and_printed_on_a4(approved, client: EdgeClient,
                                                                    a4_sim: A4Sim, a4_printer: A4Printer) -> None:
    id_number, tracking, _ = approved
    flow = DocumentsFlow(client, a4_printer)
    assert flow.by_card(id_number).outcome is Outcome.LISTED
    assert sorted(e.kind for e in flow.entries) == ["acceptance_notice", "residence_certificate"]
    assert {e.tracking_number for e in flow.entries} == {tracking}  # the application in review has none
    cert = next(e for e in flow.entries if e.kind == "residence_certificate")
    assert cert.label("zh") == "居住证明" and cert.label("bo") == "སྡོད་གནས་ར་སྤྲོད་ཡི་གེ"

    result = flow.print(cert.serial)
    assert result.outcome is Outcome.PRINTED and result.text("zh").startswith("打印好了")
    (printed,) = a4_sim.printed()
    text = pdf_text(printed)
    assert cert.serial in text and tracking in text and re.sub(r"\s+", "", NAME) in text
    assert id_number not in text  # masked on paper too


def test_a_receipt_lists_the_application_but_a_named_certificate_needs_the_card(
        approved, client: EdgeClient, a4_sim: A4Sim, a4_printer: A4Printer) -> None:
    _, tracking, _ = approved
    flow = DocumentsFlow(client, a4_printer)
    assert flow.by_receipt(f"https://kiosk.example/t/{tracking}").outcome is Outcome.LISTED
    cert = next(e for e in flow.entries if e.kind == "residence_certificate")
    notice = next(e for e in flow.entries if e.kind == "acceptance_notice")
    assert not flow.can_print(cert) and flow.can_print(notice)
    assert flow.print(cert.serial).outcome is Outcome.NEEDS_CARD
    assert flow.print(notice.serial).outcome is Outcome.PRINTED
    assert len(a4_sim.printed()) == 1

    # The edge refuses it too, whatever a kiosk's screen lets through.
    with pytest.raises(EdgeRejected) as err:
        client.document_pdf(cert.serial, tracking_number=tracking)
    assert err.value.status == 403 and err.value.code == wire.ERR_CARD_REQUIRED


def test_another_residents_document_is_not_found(approved, client: EdgeClient) -> None:
    id_number, _, _ = approved
    serial = client.documents(id_number=id_number)["documents"][0]["serial"]
    with pytest.raises(EdgeRejected) as err:
        client.document_pdf(serial, id_number=make_id(8))
    assert err.value.status == 404


def test_nothing_issued_yet_and_not_a_receipt(approved, client: EdgeClient) -> None:
    _, _, pending = approved
    flow = DocumentsFlow(client, None)
    assert flow.by_receipt(pending).outcome is Outcome.NONE_ISSUED
    assert flow.by_receipt("WIFI:S:hall;P:secret;;").outcome is Outcome.NOT_A_RECEIPT
    assert flow.by_card(make_id(9)).outcome is Outcome.NONE_ISSUED


def test_no_a4_printer_sends_the_resident_to_the_counter(approved, client: EdgeClient) -> None:
    id_number, _, _ = approved
    flow = DocumentsFlow(client, None)
    flow.by_card(id_number)
    assert flow.print(flow.entries[0].serial).outcome is Outcome.NO_PRINTER


def test_a_printer_fault_keeps_the_job_and_says_go_to_the_counter(approved, client: EdgeClient, a4_sim: A4Sim,
                                                                  a4_printer: A4Printer) -> None:
    id_number, _, _ = approved
    a4_sim.media_empty()
    flow = DocumentsFlow(client, a4_printer)
    flow.by_card(id_number)
    result = flow.print(flow.entries[0].serial)
    assert result.outcome is Outcome.PRINTER_FAULT and result.printer_code == "paper_out"
    assert [j.id for j in a4_printer.pending_jobs] == [result.kept_job]
    a4_sim.tray(50)
    assert a4_printer.retry_pending() == 1 and len(a4_sim.printed()) == 1


def test_a_platform_that_cannot_be_reached_says_offline_try_later(edge_factory) -> None:
    edge: Edge = edge_factory(f"http://127.0.0.1:{free_port()}", lookup_timeout_s=1.0)
    client = EdgeClient(edge.url)
    with pytest.raises(EdgeUnavailable) as err:
        client.documents(id_number=make_id(7))
    assert err.value.code == wire.ERR_DOCUMENTS_UNREACHABLE
    assert DocumentsFlow(client, None).by_card(make_id(7)).outcome is Outcome.OFFLINE


def test_a_scanned_certificate_verifies_at_the_platform(approved, platform: ServerThread,
                                                        client: EdgeClient, tmp_path: Path) -> None:
    import cv2

    id_number, _, _ = approved
    serial = next(d["serial"] for d in client.documents(id_number=id_number)["documents"]
                  if d["kind"] == "residence_certificate")
    (tmp_path / "c.pdf").write_bytes(client.document_pdf(serial, id_number=id_number))
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "c.pdf"), str(tmp_path / "c")],
                   check=True)
    code, _, _ = cv2.QRCodeDetector().detectAndDecode(cv2.imread(str(tmp_path / "c.png"), cv2.IMREAD_GRAYSCALE))

    def verify(text: str) -> dict:
        req = urllib.request.Request(platform.url + wire.PLATFORM_DOCUMENT_VERIFY, method="POST",
                                     data=json.dumps({"code": text}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    answer = verify(code)
    assert answer["valid"] is True and answer["serial"] == serial
    assert NAME not in json.dumps(answer, ensure_ascii=False) and id_number not in json.dumps(answer)
    assert verify(code[:-1] + ("0" if code[-1] != "0" else "1"))["valid"] is False
