""""Print my certificate": identify (ID card or receipt QR) -> the resident's issued documents ->
print the chosen one on the hall's A4 printer -> an outcome the screen shows and the voice says.

Pure (no Qt, no device bytes): the edge client and the A4 printer are handed in, so the screen, the
headless demo and the tests share one reading of it. A document that names its holder (the
residence certificate) prints only for a resident who identified with the card: a receipt QR can be
lost or photographed. Nothing here logs a name or an ID number.

The edge answers {"source": "platform", "documents": [summary, ...]} (central.documents
IssuedDocument.summary: serial, kind, tracking_number, issued_on, title {bo, zh, en}, needs_card).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Protocol

from kiosk import wire
from kiosk.edge_client import EdgeError, EdgeRejected

log = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    LISTED = "listed"                  # documents to choose from
    NONE_ISSUED = "none_issued"        # identified, nothing issued (yet)
    NOT_A_RECEIPT = "not_a_receipt"    # the QR is not one of our receipts
    OFFLINE = "offline"                # the platform (or the edge) cannot be reached: try later
    PRINTED = "printed"
    NEEDS_CARD = "needs_card"          # this document prints only after the card is read
    NO_PRINTER = "no_printer"          # this hall has no A4 printer: ask at the counter
    PRINTER_FAULT = "printer_fault"    # the printer stopped; the job is kept, staff can re-send it


# outcome -> (zh, bo, en): what the screen shows and the voice says
OUTCOME_TEXT: dict[Outcome, tuple[str, str, str]] = {
    Outcome.LISTED: ("请选择要打印的证明", "པར་འདེབས་བྱ་རྒྱུའི་ཡིག་ཆ་འདེམས་རོགས།", "Choose a document to print"),
    Outcome.NONE_ISSUED: ("暂时没有可以打印的证明", "ད་ལྟ་པར་འདེབས་རུང་བའི་ཡིག་ཆ་མི་འདུག",
                          "No documents have been issued to you yet"),
    Outcome.NOT_A_RECEIPT: ("这不是本系统的回执二维码", "འདི་ནི་ལག་ཁྱེར་གྱི་ཨང་རྟགས་མ་རེད།",
                            "This QR code is not one of our receipts"),
    Outcome.OFFLINE: ("暂时连不上办理系统，请稍后再试", "ད་ལྟ་ལས་དོན་མ་ལག་དང་འབྲེལ་མཐུད་མི་ཐུབ། ཏོག་ཙམ་ནས་ཡང་བསྐྱར་ཚོད་ལྟ་བྱེད་རོགས།",
                      "The service platform cannot be reached; please try again later"),
    Outcome.PRINTED: ("打印好了，请取走您的证明", "པར་བརྒྱབ་ཟིན། ཡིག་ཆ་ལེན་རོགས།", "Printed: please take your document"),
    Outcome.NEEDS_CARD: ("打印这份证明需要先刷身份证", "ཡིག་ཆ་འདི་པར་འདེབས་བྱེད་པར་ཐོབ་ཐང་ལག་ཁྱེར་དགོས།",
                         "Please read your ID card to print this document"),
    Outcome.NO_PRINTER: ("本机不能打印A4证明，请到服务窗口办理", "འཕྲུལ་ཆས་འདིས་A4 པར་འདེབས་མི་ཐུབ། ཞབས་ཞུའི་སྒོ་ཁར་ཕེབས་རོགས།",
                         "This kiosk cannot print A4 documents; please go to the counter"),
    Outcome.PRINTER_FAULT: ("打印机出了问题，没能打印。请到服务窗口领取", "པར་ཆས་ལ་སྐྱོན་ཤོར་བས་པར་འདེབས་མ་ཐུབ། ཞབས་ཞུའི་སྒོ་ཁར་ལེན་རོགས།",
                            "The printer stopped and did not print it; please collect it at the counter"),
}


class DocumentsEdge(Protocol):
    """What the flow needs of kiosk.edge_client.EdgeClient."""

    def documents(self, *, id_number: str | None = None, tracking_number: str | None = None) -> dict: ...

    def document_pdf(self, serial: str, *, id_number: str | None = None,
                     tracking_number: str | None = None) -> bytes: ...


class PdfPrinter(Protocol):
    """What the flow needs of devices.a4.printer.A4Printer (kiosk may not import devices): `failure`
    is the exception print_pdf raises when it did not print, with `code` (a status code) and `job_id`
    (the job it kept)."""

    failure: type[Exception]

    def print_pdf(self, pdf: bytes, title: str, *, copies: int = 1) -> object: ...


@dataclass(frozen=True)
class Entry:
    serial: str
    kind: str
    tracking_number: str
    issued_on: str
    title: dict[str, str]
    needs_card: bool

    def label(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("zh") or self.kind


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    printer_code: str | None = None    # the printer's status code when it stopped (devices/a4/messages)
    kept_job: str | None = None        # the kept job's id, for the maintenance screen's "re-send"

    def text(self, lang: str) -> str:
        zh, bo, en = OUTCOME_TEXT[self.outcome]
        return {"zh": zh, "bo": bo}.get(lang, en)


@dataclass
class DocumentsFlow:
    """One resident's visit: identify, choose, print. Make a new one per session (it holds the ID)."""

    edge: DocumentsEdge
    printer: PdfPrinter | None
    entries: list[Entry] = field(default_factory=list)
    _id_number: str | None = field(default=None, repr=False)
    _tracking: str | None = None

    # -- identify -------------------------------------------------------------------------------
    def by_card(self, id_number: str) -> Result:
        self._id_number, self._tracking = id_number, None
        return self._load(id_number=id_number)

    def by_receipt(self, qr_text: str) -> Result:
        tracking = wire.tracking_number_in(qr_text)
        if tracking is None:
            return Result(Outcome.NOT_A_RECEIPT)
        self._id_number, self._tracking = None, tracking
        return self._load(tracking_number=tracking)

    def _load(self, **who: str) -> Result:
        try:
            answer = self.edge.documents(**who)
        except EdgeError as e:
            log.warning("documents lookup failed", extra={"error": type(e).__name__})
            self.entries = []
            return Result(Outcome.OFFLINE)
        self.entries = [Entry(serial=str(d["serial"]), kind=str(d["kind"]), tracking_number=str(d["tracking_number"]),
                              issued_on=str(d["issued_on"]), title=dict(d.get("title") or {}),
                              needs_card=bool(d.get("needs_card")))
                        for d in answer.get("documents", [])]
        return Result(Outcome.LISTED if self.entries else Outcome.NONE_ISSUED)

    # -- print ----------------------------------------------------------------------------------
    def can_print(self, entry: Entry) -> bool:
        return self._id_number is not None or not entry.needs_card

    def print(self, serial: str) -> Result:
        entry = next((e for e in self.entries if e.serial == serial), None)
        if entry is None:
            raise ValueError("that document is not in this resident's list")
        if not self.can_print(entry):
            return Result(Outcome.NEEDS_CARD)
        if self.printer is None:
            return Result(Outcome.NO_PRINTER)
        try:
            pdf = self.edge.document_pdf(serial, id_number=self._id_number, tracking_number=self._tracking)
        except EdgeRejected as e:
            if e.code == wire.ERR_CARD_REQUIRED:
                return Result(Outcome.NEEDS_CARD)
            log.warning("document download refused", extra={"code": e.code})
            return Result(Outcome.OFFLINE)
        except EdgeError:
            return Result(Outcome.OFFLINE)
        try:
            self.printer.print_pdf(pdf, f"{entry.kind} {entry.serial}")  # a job name with nothing personal
        except self.printer.failure as e:
            return Result(Outcome.PRINTER_FAULT, printer_code=getattr(e, "code", None),
                          kept_job=getattr(e, "job_id", None))
        return Result(Outcome.PRINTED)

    def forget(self) -> None:
        """The session ended: drop the ID number and the list."""
        self._id_number = self._tracking = None
        self.entries = []

