"""The headless demo's walk-through: what a maintenance engineer would check first, done on the simulators.

A card is read from the card-reader simulator, the old-age allowance is applied for by driving the
resident flow (kiosk.flows.Flow, the engine the screens drive: its validation, its one idempotency key,
its receipt) against the real edge, the receipt comes out of the printer simulator, and the outbox
forwards the application to the platform. The platform then approves it, and the document it issues
is printed on the A4 printer simulator (through CUPS) the way the "print my certificate" screen prints
it (kiosk.flows.documents). With the fleet up, a paper-out reaches the hall's team.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from kiosk.edge_client import EdgeClient
from kiosk.flows import Flow, Kind, State
from kiosk.i18n import LANGS
from ui.adapters.receipt import receipt_job
from ui.demo.fleet import DEMO_KIOSK, about
from ui.demo.stack import DemoStack, say

if TYPE_CHECKING:
    from kiosk.identity import CardRecord

SERVICE = "old-age-allowance"
LANG = "zh"
# What the resident answers, by field type (a choice takes its first option)
ANSWERS = {"phone": "13800138000", "yesno": "no"}
PAPER_OUT_RULE = "printer_paper_out"  # central/fleet/rules.py


def _answer(field: Any) -> str | None:
    if field.type == "choice" and field.choices:
        return field.choices[0].value
    return ANSWERS.get(field.type)


def apply(flow: Flow, card: CardRecord) -> None:
    """Walk the flow from the card to its submit step the way the screens would (no photo taken)."""
    while flow.state is State.ACTIVE and flow.kind is not Kind.SUBMIT:
        kind = flow.kind
        if kind is Kind.IDENTIFY:
            flow.card_read(card.to_form_fields(LANG), localized={lang: card.to_form_fields(lang) for lang in LANGS})
        elif kind is Kind.FORM:
            for f in flow.form_fields():
                value = _answer(f)
                if not flow.is_read_only(f) and value is not None:
                    flow.set_field(f.id, value)
            errors = flow.next()
            if errors:
                raise RuntimeError(f"the demo's answers do not fill {SERVICE}: {errors}")
        elif kind is Kind.PHOTO:
            if flow.skip_photo() is not None:
                raise RuntimeError(f"{SERVICE} requires a photo: the headless demo takes none")
        elif kind is Kind.CONFIRM:
            errors = flow.confirm()
            if errors:
                raise RuntimeError(f"{SERVICE} not confirmed: {errors}")
        elif kind is Kind.GUIDE:
            flow.next()
        else:
            raise RuntimeError(f"{SERVICE}: the headless demo cannot do a {kind.value!r} step")


def run(stack: DemoStack, cfg: Any) -> None:
    from devices.idcard.reader import CardReader
    from devices.printer.printer import ReceiptPrinter
    from devices.sim.card_reader import SAMPLE_CARDS

    reader = CardReader(cfg.devices.card_reader.port)
    stack.reader_sim.insert(SAMPLE_CARDS[0])
    card = reader.read_card()
    say(f"card reader: read a {card.kind.value} card, ID {card.masked_id} (masked)")
    reader.close()

    edge = EdgeClient(cfg.edge.url, token=cfg.edge.token)
    services = edge.services()
    say(f"edge: {len(services)} services in the active pack: " + ", ".join(s["title"]["zh"] for s in services))
    flow = Flow(edge.service(SERVICE), edge=edge, lang=LANG)
    apply(flow, card)
    outcome = flow.submit()
    if not outcome.ok:
        raise RuntimeError(f"the edge did not take the demo application: {outcome.error}")
    tracking = flow.tracking_number
    say(f"edge: application accepted at once, tracking number {tracking} (status {flow.submission['status']})")

    printer = ReceiptPrinter(cfg.devices.printer.port, width_dots=cfg.devices.printer.width_dots)
    printer.print_receipt(receipt_job(flow, LANG, hall=cfg.kiosk.hall_name, contact=edge.contact(), tz=cfg.kiosk.zone))
    printer.close()
    flow.receipt_printed()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        st = edge.submission(tracking)
        if st.get("status") != "queued":
            say(f"platform: application {tracking} is now '{st['status']}' (forwarded by the edge's outbox)")
            break
        time.sleep(0.5)
    else:
        say(f"platform: {tracking} still queued after 20 s; see {stack.workdir}/edge.log")
    if stack.a4_sim is not None and cfg.devices.a4_printer is not None:
        _certificate_printed(stack, cfg, edge, tracking, card.id_number)
    stack.reader_sim.remove()
    del card, flow
    if stack.fleet.sink is not None:
        _paper_out_reaches_the_team(stack, cfg, edge)


def _certificate_printed(stack: DemoStack, cfg: Any, edge: EdgeClient, tracking: str, id_number: str) -> None:
    """The platform approves the application; its document is listed by the card and lands as a PDF."""
    import json
    import urllib.request

    from devices.a4.printer import A4Printer
    from kiosk import wire
    from kiosk.flows.documents import DocumentsFlow, Outcome

    req = urllib.request.Request(cfg.edge.platform_url + wire.PLATFORM_SET_STATUS.format(tracking_number=tracking),
                                 data=json.dumps({"status": wire.STATUS_APPROVED}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10):
        pass
    say(f"platform: application {tracking} approved")
    before = set(stack.a4_sim.printed())
    flow = DocumentsFlow(edge, A4Printer(cfg.devices.a4_printer.queue, cfg.devices.a4_printer.server))
    if flow.by_card(id_number).outcome is not Outcome.LISTED:
        raise RuntimeError(f"the platform issued no document for {tracking}")
    mine = [e for e in flow.entries if e.tracking_number == tracking]
    entry = next((e for e in mine if e.kind == "residence_certificate"), mine[0])
    result = flow.print(entry.serial)
    flow.forget()
    if result.outcome is not Outcome.PRINTED:
        raise RuntimeError(f"the A4 printer did not print {entry.serial}: {result.outcome} {result.printer_code}")
    deadline = time.monotonic() + 15  # the printer's engine saves the job once it has "printed" it
    while not (landed := set(stack.a4_sim.printed()) - before):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the A4 printer reported {entry.serial} printed, but no PDF landed")
        time.sleep(0.1)
    (pdf,) = landed
    say(f"A4 printer: {entry.label('zh')} {entry.serial} printed -> {pdf}")


def _paper_out_reaches_the_team(stack: DemoStack, cfg: Any, edge: EdgeClient) -> None:
    """Paper out at the demo kiosk: the printer's own status goes to the edge as the UI would report it, the
    edge's agent publishes it, the monitor opens an alert and notifies the hall's team; paper back clears it."""
    from devices.printer.printer import ReceiptPrinter

    printer = ReceiptPrinter(cfg.devices.printer.port, width_dots=cfg.devices.printer.width_dots)
    try:
        for paper, kind in (("out", "open"), ("ok", "clear")):
            stack.printer_sim.paper = paper
            printer.query_status()
            edge.health(cfg.kiosk.id, {"printer": printer.status_source.status().as_dict()})
            t0 = time.monotonic()
            if stack.fleet.sink.wait_for(lambda d, k=kind: about(d, DEMO_KIOSK, k, PAPER_OUT_RULE), 60) is None:
                say(f"fleet: no '{kind}' notification for the paper within 60 s; see {stack.workdir}/fleet-monitor.log")
                return
            say(f"fleet: paper {paper} at {DEMO_KIOSK} -> '{kind}' notification after "
                f"{time.monotonic() - t0:.1f} s; alerts on {stack.fleet.dashboard}/alerts")
    finally:
        printer.close()
