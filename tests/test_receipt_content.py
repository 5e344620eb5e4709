"""Receipts a resident can act on: submitted through a real edge whose trusted clock is verified (or not),
printed by the real driver on the printer simulator over a pty, and read back from the decoded page: every
section where it belongs, the QR readable, the time only when the edge's clock vouched for it."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from devices.camera.qr import decode_qr
from devices.printer.receipt import BODY_PX, Receipt, receipt_from_content, receipt_sections
from devices.printer.render import Text, gray_array, render_blocks
from kiosk import i18n
from kiosk.config import ConfigError, parse
from kiosk.content import load_pack
from kiosk.edge_client import EdgeClient
from kiosk.flows import Flow
from kiosk.trusted_time import TrustedClock, parse_time
from tests.fixtures_edge import ServerThread
from tests.fixtures_ui import DEMO, install_demo
from tests.test_flow_submit import ready_to_submit

MARGIN = 8  # render_blocks' default page margin
CFG = parse((Path(__file__).resolve().parents[1] / "kiosk.example.toml").read_text(encoding="utf-8"))


class ClockEdge:
    """An edge API with the demo pack, an outbox on disk and a real TrustedClock whose NTP probe says
    `synced` (None: the box cannot tell, as on a kiosk without timedatectl); no platform behind it."""

    def __init__(self, data: Path, synced: bool | None) -> None:
        from edge.api import make_app
        from edge.outbox import Outbox
        from edge.store import ContentStore
        from kiosk.config import Config

        self.store = ContentStore(data / "content")
        install_demo(self.store)
        self.outbox = Outbox.open(data)
        self.clock = TrustedClock(data / "trusted-time.json", lambda: synced)
        self.server = ServerThread(lambda: make_app(self.store, self.outbox, None, Config(),
                                                    clock=self.clock)).start()
        self.client = EdgeClient(self.server.url)

    def close(self) -> None:
        self.server.stop()
        self.outbox.close()


@pytest.fixture
def clock_edge(tmp_path: Path) -> Iterator[Callable[[bool | None], ClockEdge]]:
    edges: list[ClockEdge] = []

    def make(synced: bool | None) -> ClockEdge:
        edges.append(ClockEdge(tmp_path / f"edge{len(edges)}", synced))
        return edges[-1]

    yield make
    for e in edges:
        e.close()


@pytest.fixture(scope="module")
def pack():
    return load_pack(DEMO)


def _submitted(pack, card_record, edge: ClockEdge, lang: str = "bo") -> Flow:
    flow = ready_to_submit(pack, card_record, edge.client)
    flow.lang = lang
    assert flow.submit().ok
    return flow


def _content(flow: Flow, pack, lang: str):
    return flow.receipt_content(lang, hall=CFG.kiosk.hall_name, contact=pack.contact, tz=CFG.kiosk.zone)


def _print(printer_sim, receipt_printer, receipt: Receipt) -> np.ndarray:
    """The page the simulator decoded from the raster the driver sent."""
    receipt_printer.print_receipt(receipt)
    deadline = time.monotonic() + 10
    while not printer_sim.pages and time.monotonic() < deadline:
        time.sleep(0.02)
    (page,) = printer_sim.pages
    return page


def _sections_on(page: np.ndarray, receipt: Receipt) -> list[str]:
    """Each section rendered on its own is exactly what lies at its place on the page; returns their names."""
    names, y = [], MARGIN
    for name, blocks in receipt_sections(receipt):
        alone = gray_array(render_blocks(blocks, page.shape[1]))[MARGIN:-MARGIN]
        assert np.array_equal(page[y:y + alone.shape[0]], alone), f"section {name} is not where it belongs"
        assert name == "tail" or (alone == 0).any(), f"section {name} printed no ink"
        names.append(name)
        y += alone.shape[0]
    assert page.shape[0] == y + MARGIN
    return names


def _rows_showing(page: np.ndarray, text: Text) -> list[int]:
    """Where on the page `text` (drawn at the left margin) appears, by its exact ink."""
    alone = gray_array(render_blocks([text], page.shape[1]))
    ink = np.argwhere(alone == 0)
    (r0, c0), (r1, c1) = ink.min(axis=0), ink.max(axis=0) + 1
    patch, h = alone[r0:r1, c0:c1], r1 - r0
    return [y for y in range(page.shape[0] - h + 1) if np.array_equal(page[y:y + h, c0:c1], patch)]


@pytest.mark.parametrize("lang", ["bo", "zh"])
def test_a_trusted_edge_clock_puts_the_date_and_time_on_a_receipt_with_every_section(
        pack, card_record, clock_edge, printer_sim, receipt_printer, lang):
    edge = clock_edge(True)
    flow = _submitted(pack, card_record, edge, lang)
    stamp = edge.outbox.get(flow.tracking_number).accepted_at
    assert stamp is not None and flow.submission["accepted_at"] == stamp
    when = parse_time(stamp).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")

    content = _content(flow, pack, lang)
    other = i18n.other_language(lang)
    assert content.lang == lang and content.alt.lang == other
    assert dict(content.lines)[i18n.tr("date", lang)] == when  # Beijing time, whatever the box's zone
    assert dict(content.lines)[i18n.tr("id_number", lang)] == card_record.masked_id
    service = pack.services["old-age-allowance"]
    for side, side_lang in ((content, lang), (content.alt, other)):
        assert side.hall == CFG.kiosk.hall_name.get(side_lang)
        assert [text for _, text in side.notes] == [service.processing_time.get(side_lang),
                                                   service.next_steps.get(side_lang)]
        assert side.qr_caption.endswith(f"{pack.contact.name.get(side_lang)} {pack.contact.phone}")
    assert card_record.id_number not in repr(content)

    receipt = receipt_from_content(content)
    page = _print(printer_sim, receipt_printer, receipt)
    assert _sections_on(page, receipt) == ["title", "hall", "lines", "notes", "qr", "follow_up", "footer", "tail"]
    assert decode_qr(page) == flow.tracking_number
    assert len(_rows_showing(page, Text(i18n.tr("date", lang), lang, BODY_PX[lang]))) == 1


def test_an_untrusted_edge_clock_prints_neither_date_nor_time(pack, card_record, clock_edge, printer_sim,
                                                            receipt_printer):
    edge = clock_edge(None)
    flow = _submitted(pack, card_record, edge, "zh")
    assert flow.submission["accepted_at"] is None and edge.outbox.get(flow.tracking_number).accepted_at is None
    assert edge.outbox.get(flow.tracking_number).created  # the system clock's time is still kept, for ordering

    content = _content(flow, pack, "zh")
    assert [label for label, _ in content.lines] == ["受理编号", "身份证号"]
    assert [label for label, _ in content.alt.lines] == [i18n.tr("tracking_number", "bo"), i18n.tr("id_number", "bo")]
    receipt = receipt_from_content(content)
    page = _print(printer_sim, receipt_printer, receipt)
    assert "lines" in _sections_on(page, receipt)
    assert decode_qr(page) == flow.tracking_number
    assert _rows_showing(page, Text("日期", "zh", BODY_PX["zh"])) == []
    assert _rows_showing(page, Text("受理编号", "zh", BODY_PX["zh"]))  # the search does find what is there


def test_the_existing_application_shown_after_a_lost_answer_keeps_its_time(pack, card_record, clock_edge):
    edge = clock_edge(True)
    flow = ready_to_submit(pack, card_record, edge.client)
    first = edge.client.submit("old-age-allowance", {"phone": "13900009999", "payout_account": "bank_card",
                                                     "received_elsewhere": "no"}, flow.applicant(), lang="zh",
                               idempotency_key=flow.idempotency_key)
    assert first["accepted_at"] is not None
    out = flow.submit()  # the same key with another request: the edge answers 409 with the stored number
    assert out.ok and out.existing and flow.submission["accepted_at"] == first["accepted_at"]
    replay = edge.client.submit("old-age-allowance", {"phone": "13900009999", "payout_account": "bank_card",
                                                      "received_elsewhere": "no"}, flow.applicant(), lang="zh",
                                idempotency_key=flow.idempotency_key)
    assert replay == first  # stored with the record, never stamped again


def test_a_receipt_says_no_more_than_the_pack_and_the_config_give(pack, card_record, clock_edge):
    edge = clock_edge(True)
    flow = _submitted(pack, card_record, edge)
    flow.service = pack.services["old-age-allowance"].model_copy(update={"processing_time": None,
                                                                        "next_steps": None})
    bare = flow.receipt_content("bo")
    assert bare.notes == [] and bare.hall == ""
    assert bare.qr_caption and "\n" not in bare.qr_caption  # scan at any kiosk; no phone line without a contact
    assert [name for name, _ in receipt_sections(receipt_from_content(bare))] == [
        "title", "lines", "qr", "follow_up", "footer", "tail"]


def test_only_a_verified_wall_clock_stamps_a_submission(tmp_path):
    clock = TrustedClock(tmp_path / "t.json", lambda: None)
    assert clock.stamp() is None  # nothing vouches for the time
    clock.observe_signed_time(datetime.now(UTC) - timedelta(days=2))  # e.g. a command that arrived late
    assert clock.now().trusted and clock.stamp() is None  # a lower bound is not a time to print
    signed = datetime.now(UTC)
    clock.observe_signed_time(signed)
    stamp = clock.stamp()  # the system clock agrees with a signed time: corroborated
    assert stamp is not None and parse_time(stamp) >= signed.replace(microsecond=0)


def test_the_edge_daemon_stamps_submissions_once_its_clock_is_verified(signed_edge, subscriber_factory):
    from edge.clock_check import ntp_synchronised
    from kiosk.fleet_signing import sign_command, target_of
    from tests.fixtures_edge import make_id
    from tests.fixtures_signed import KIOSK, admin_key, result_for, send

    edge = signed_edge()
    edge.start()
    client = EdgeClient(edge.url)

    def submit(n: int) -> dict:
        return client.submit("old-age-allowance", {"phone": "13912345678", "account": "bank", "agree": True},
                             {"id_number": make_id(n), "name": "test"})

    # a box whose NTP state nobody can vouch for (this one, unless its kernel says it is synchronised)
    assert (submit(61)["accepted_at"] is not None) == (ntp_synchronised() is True)
    sub = subscriber_factory([f"kiosk/v1/{KIOSK}/#"])
    cmd = sign_command("restart_component", {}, target_of(kiosk=KIOSK), admin_key(edge), edge.key_id)
    send(edge.broker_port, cmd)
    result_for(sub, cmd.id)  # verified: the system clock now agrees with a signed time
    stamped = submit(62)["accepted_at"]
    assert stamped is not None and parse_time(stamped) >= parse_time(cmd.issued_at).replace(microsecond=0)


def test_an_outbox_from_before_the_stamp_opens_with_its_records_unstamped(tmp_path):
    from edge.outbox import KIND_APPLICATION, Outbox

    outbox = Outbox.open(tmp_path)
    old, _ = outbox.submit("key-old-00001", KIND_APPLICATION, {"x": 1})
    outbox.close()
    with sqlite3.connect(tmp_path / "outbox.sqlite3") as db:
        db.execute("ALTER TABLE submissions DROP COLUMN accepted_at")  # as the previous release left it
    outbox = Outbox.open(tmp_path)
    try:
        assert outbox.get(old.tracking_number).accepted_at is None
        new, _ = outbox.submit("key-new-00001", KIND_APPLICATION, {"x": 2}, accepted_at="2026-11-25T11:57:03+00:00")
        assert outbox.get(new.tracking_number).accepted_at == "2026-11-25T11:57:03+00:00"
    finally:
        outbox.close()


@pytest.mark.parametrize("text, problem", [
    ('[kiosk]\nhall_name = { zh = "示例乡便民服务中心" }', "kiosk.hall_name"),
    ('[kiosk]\ntimezone = "Beijing"', "kiosk.timezone"),
])
def test_a_hall_name_in_one_language_or_an_unknown_zone_is_refused(text, problem):
    with pytest.raises(ConfigError, match=problem):
        parse(text)


def test_a_receipt_whose_other_language_does_not_match_item_for_item_is_refused():
    with pytest.raises(ValueError, match="item for item"):
        Receipt(title="回执", lines=[("受理编号", "TK1")], lang="zh",
                alt=Receipt(title="ཤོག་བྱང་།", lines=[], lang="bo"))
