"""Social-insurance payment lookup on the kiosk: the real card reader driver on the simulator, a real edge
daemon and the reference platform as subprocesses, records seeded with `kiosk platform add-payments`.

A resident inserts a card and sees their months (kind, amount, who paid; arrears with a word and an icon),
hears a summary; with the platform down they see the edge's last copy and how old it is, or, when the
edge has none, are sent to the counter. Every state in both languages (and elder mode) fits the screen,
a page at a time: a long answer is paged with big buttons, never scrolled (elderly residents do not scroll).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QScrollArea, QWidget

from devices.sim.card_reader import SAMPLE_CARDS
from kiosk import i18n, idnumber, wire
from kiosk.edge_client import EdgeClient
from kiosk.flows import Flow
from kiosk.flows import payments as pay
from kiosk.i18n import LANGS
from tests.fixtures_ui import ROOT, click, read_sample_card, wait_until
from tests.test_ui_flows import on, visible_text
from tests.test_ui_layout import clipped_labels, off_window, small_buttons
from ui.screens.lookup import local_time
from ui.widgets.labels import IconLabel

SERVICE = "insurance-payment-lookup"
MONTHS = "2025-07:2026-06"
YEAR = sorted([(2025, m) for m in range(7, 13)] + [(2026, m) for m in range(1, 7)], reverse=True)
PAID, ARREARS_ONE, OFFLINE_CARD, NEVER_SEEN = SAMPLE_CARDS[:4]  # the layout test uses these indexes


def add_payments(stack, card, months: str, kind: str, amount: str, status: str = wire.PAYER_PAID) -> None:
    """The operator's CLI against the running platform, as the demo and a test hall use it."""
    r = subprocess.run([sys.executable, "-m", "kiosk", "platform", "add-payments", "--id-number", card.id_number,
                        "--months", months, "--kind", kind, "--amount", amount, "--status", status,
                        "--url", stack.platform_url], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert card.id_number not in r.stdout + r.stderr  # the tool echoes the masked ID only


@pytest.fixture(scope="module")
def seeded(ui_stack):
    """PAID: a year of pension and medical, all paid. ARREARS_ONE: pension paid by the government,
    medical paid but for 2026-03. OFFLINE_CARD: pension paid (looked up once, then the platform goes)."""
    add_payments(ui_stack, PAID, MONTHS, "pension", "150")
    add_payments(ui_stack, PAID, MONTHS, "medical", "32.50")
    add_payments(ui_stack, ARREARS_ONE, MONTHS, "pension", "100", wire.PAYER_GOVERNMENT)
    add_payments(ui_stack, ARREARS_ONE, MONTHS, "medical", "32.50")
    add_payments(ui_stack, ARREARS_ONE, "2026-03", "medical", "32.50", wire.PAYER_ARREARS)
    add_payments(ui_stack, OFFLINE_CARD, MONTHS, "pension", "150")
    return ui_stack


def every_page(qtbot, w) -> Iterator[int]:
    """Page through the lookup screen's answer as a resident does, with the big page buttons: back to
    the first page, then each page in turn (yields the page shown)."""
    pager = w.screens["lookup"].body
    QApplication.processEvents()
    while pager.prev_btn.isVisible() and pager.prev_btn.isEnabled():
        qtbot.mouseClick(pager.prev_btn, Qt.LeftButton)
    for page in range(len(pager.pages)):
        QApplication.processEvents()
        assert pager.page == page
        if len(pager.pages) > 1:
            assert pager.page_label.text() == f"{page + 1} / {len(pager.pages)}"
        yield page
        if page + 1 < len(pager.pages):
            assert pager.next_btn.isVisible() and pager.next_btn.isEnabled()
            qtbot.mouseClick(pager.next_btn, Qt.LeftButton)
    assert not pager.next_btn.isVisible() or not pager.next_btn.isEnabled()  # nothing past the last page


def rows(qtbot, w, name: str) -> list[QWidget]:
    """The widgets called `name` shown on the lookup screen, over all its pages; each on one page only."""
    found = [r for _ in every_page(qtbot, w) for r in w.screens["lookup"].findChildren(QWidget, name)
             if r.isVisible()]
    assert len({id(r) for r in found}) == len(found)
    return found


def all_text(qtbot, w) -> str:
    """Every page's visible words."""
    return "\n".join(visible_text(w) for _ in every_page(qtbot, w))


def look_up_with_card(qtbot, w, stack, card) -> Flow:
    """From the home screen, the way a resident goes: category tile, service, start, card on the reader."""
    click(qtbot, w, "tile_social_security")
    click(qtbot, w, f"service_{SERVICE}")
    assert on(w, "detail")
    click(qtbot, w, "start")
    assert on(w, "identify")
    stack.card_sim.insert(card)
    wait_until(qtbot, lambda: on(w, "lookup"))
    flow = w.session.flow
    screen = w.screens["lookup"]  # busy until the answer has reached the screen (not just the flow)
    wait_until(qtbot, lambda: not screen.busy and (flow.lookup_result is not None or flow.lookup_error), 20_000)
    QApplication.processEvents()
    return flow


@pytest.mark.parametrize("lang", ["zh", "bo"])
def test_card_inserted_lists_the_seeded_months(qtbot, kiosk, seeded, lang):  # noqa: F811
    w = kiosk(lang)
    flow = look_up_with_card(qtbot, w, seeded, ARREARS_ONE)
    assert flow.lookup_result["source"] == "platform"
    screen = w.screens["lookup"]
    assert not screen.banner.isVisible() and screen.as_of is None  # fresh: no "as of" warning
    text = all_text(qtbot, w)
    for y, m in YEAR:
        assert pay.month_label(y, m, lang) in text
    for words in (i18n.tr("payment_kind_pension", lang), i18n.tr("payment_kind_medical", lang),
                  i18n.tr("payer_government_paid", lang), i18n.tr("payer_paid", lang),
                  i18n.tr("payer_arrears", lang), pay.amount_label("100.00", lang), pay.amount_label("32.50", lang)):
        assert words in text
    assert len(rows(qtbot, w, "payment_record")) + len(rows(qtbot, w, "payment_arrears")) == 24
    (arrears,) = rows(qtbot, w, "payment_arrears")  # the one month in arrears: words AND a warning icon
    icon = arrears.findChild(IconLabel, "payer_icon")
    assert icon.icon_name == "warning" and arrears.findChild(QWidget, "payer_status").text() == \
        i18n.tr("payer_arrears", lang)
    assert {r.findChild(IconLabel, "payer_icon").icon_name for r in rows(qtbot, w, "payment_record")} == \
        {"check", "building"}
    summary = [lab.text() for lab in rows(qtbot, w, "payments_summary")]
    assert summary == pay.summary_sentences(flow.lookup_result["payments"], lang)
    assert [i.icon_name for i in rows(qtbot, w, "summary_icon")] == ["check", "warning"]  # pension fine, medical owes
    if lang == "zh":
        assert summary[1] == "最近十二个月医疗保险：十一个月已缴费，一个月欠缴（2026年3月）"
        spoken = w.bridge.voice.last_utterance
        assert spoken.prompt_id is None and summary[0] in spoken.text and summary[1] in spoken.text  # TTS
    assert idnumber.mask(ARREARS_ONE.id_number) in text and ARREARS_ONE.id_number not in text and ARREARS_ONE.name not in text
    click(qtbot, w, "finish")
    assert on(w, "feedback") and not flow.has_personal_data


def test_platform_down_with_a_cached_answer_shows_as_of(qtbot, kiosk, seeded):  # noqa: F811
    first = EdgeClient(seeded.edge_url).payments(OFFLINE_CARD.id_number)  # an earlier visit: the edge keeps a copy
    assert first["source"] == "platform"
    seeded.platform.stop()
    try:
        w = kiosk("zh")
        flow = look_up_with_card(qtbot, w, seeded, OFFLINE_CARD)
        assert flow.lookup_result["source"] == "edge_cache" and flow.lookup_as_of == first["as_of"]
        banner = w.screens["lookup"].as_of
        assert banner.isVisible() and banner.property("state") == "warn"
        assert banner.text.text() == i18n.tr("payments_offline", "zh", as_of=local_time(first["as_of"]))
        assert w.screens["lookup"].prompt.text() == w.speaker.text("lookup_offline", "zh")
        assert [lab.text() for lab in rows(qtbot, w, "payments_summary")] == ["最近十二个月养老保险都已缴费"]
        assert len(rows(qtbot, w, "payment_record")) == 12
        click(qtbot, w, "bar_language")  # the age of the answer is said in Tibetan too
        banner = w.screens["lookup"].as_of
        assert banner.text.text() == i18n.tr("payments_offline", "bo", as_of=local_time(first["as_of"]))
    finally:
        seeded.platform.start()


def test_platform_down_and_nothing_cached_sends_to_the_counter(qtbot, kiosk, seeded):  # noqa: F811
    seeded.platform.stop()
    try:
        w = kiosk("zh")
        flow = look_up_with_card(qtbot, w, seeded, NEVER_SEEN)
        assert flow.lookup_result is None and flow.lookup_error == "payments_unreachable"
        screen = w.screens["lookup"]
        assert screen.prompt.text() == i18n.tr("payments_unreachable", "zh") == "现在查不到缴费记录，请到窗口找工作人员查询"
        assert w.bridge.voice.last_utterance.prompt_id == "payments_unreachable"  # said aloud, not only shown
        assert not rows(qtbot, w, "payment_record") and not rows(qtbot, w, "payments_summary")
        click(qtbot, w, "bar_language")
        assert screen.prompt.text() == i18n.tr("payments_unreachable", "bo")
    finally:
        seeded.platform.start()


def fit_problems(qtbot, w) -> list[str]:
    """tests/test_ui_layout.py's checks on every page of the lookup screen: nothing clipped, main
    controls (page buttons too) big enough, nothing off the window."""
    return [f"page {page + 1}: {p}" for page in every_page(qtbot, w)
            for p in clipped_labels(w) + small_buttons(w) + off_window(w)]


def test_every_payments_state_fits_in_both_languages(qtbot, kiosk, seeded):  # noqa: F811
    """Like tests/test_ui_layout.py, on every page: nothing clipped, main controls big enough, nothing off
    the window."""
    w = kiosk("bo")
    records = {}  # SAMPLE_CARDS index -> the CardRecord the real driver reads from the simulator

    def show(index: int, service: str = SERVICE) -> None:
        card = records.setdefault(index, read_sample_card(index))
        flow = w.session.begin_flow(Flow(w.content.service(service), edge=w.edge))
        flow.card_read(card.to_form_fields("zh"), localized={x: card.to_form_fields(x) for x in LANGS})
        flow.lookup()
        w.go("lookup")
        for _ in range(3):
            QApplication.processEvents()

    def check(states: dict) -> list[str]:
        problems = []
        for elder in (False, True):
            if w.session.elder_mode != elder:
                w.toggle_elder_mode()
            for lang in LANGS:
                if w.session.lang != lang:
                    w.switch_language()
                for name, args in states.items():
                    show(*args)
                    problems += [f"[{lang}{' elder' if elder else ''}] {name}: {p}" for p in fit_problems(qtbot, w)]
                    w.resize(1920, 1080)
        return problems

    problems = check({"list with arrears": (1,)})
    EdgeClient(seeded.edge_url).payments(PAID.id_number)
    seeded.platform.stop()
    try:
        problems += check({"edge copy, as of": (0,), "counter": (3,), "progress, offline": (3, "progress-lookup")})
    finally:
        seeded.platform.start()
    assert problems == [], "\n".join(problems)


def test_three_applications_are_paged_and_every_tracking_number_is_reached(qtbot, kiosk, seeded):  # noqa: F811
    """Three applications on record are more than one screen holds in elder mode: the resident pages
    with the big buttons and meets every tracking number, with the step it is at, exactly once, in both
    languages at both text sizes; nothing is clipped on any page, and no scroll area anywhere."""
    card = SAMPLE_CARDS[5]  # no other test in this module submits for this card
    edge = EdgeClient(seeded.edge_url)
    applicant = {"name": card.name, "id_number": card.id_number}
    numbers = []
    for phone in ("13900004441", "13900004442", "13900004443"):
        sub = edge.submit("old-age-allowance", {"phone": phone, "payout_account": "bank_card",
                                                "received_elsewhere": "no"}, applicant, lang="zh")
        numbers.append(sub["tracking_number"])
    wait_until(qtbot, lambda: all(edge.submission(n)["forwarded"] for n in numbers), 30_000)
    w = kiosk("zh")
    click(qtbot, w, "tile_lookup")
    seeded.card_sim.insert(card)
    wait_until(qtbot, lambda: on(w, "lookup"))
    screen = w.screens["lookup"]
    wait_until(qtbot, lambda: w.session.flow.lookup_result is not None and not screen.busy, 20_000)
    assert sorted(a["tracking_number"] for a in w.session.flow.lookup_result["applications"]) == sorted(numbers)
    problems, pages = [], {}
    for lang, elder in (("zh", False), ("bo", False), ("bo", True), ("zh", True)):
        if w.session.lang != lang:
            click(qtbot, w, "bar_language")
        if w.session.elder_mode != elder:
            click(qtbot, w, "bar_text_size")
        QApplication.processEvents()
        pager = screen.body
        assert pager.page == 0  # a fresh answer (or language) opens on page 1
        pages[lang, elder] = len(pager.pages)
        assert not screen.findChildren(QScrollArea)
        seen = []
        for page in every_page(qtbot, w):
            shown = [lab for lab in screen.findChildren(QLabel, "lookup_tracking") if lab.isVisible()]
            assert shown, f"[{lang}] page {page + 1} shows no application"
            for lab in shown:  # the number, and below it in its own panel the step it is at
                seen += [n for n in numbers if lab.text() == f"{i18n.tr('tracking_number', lang)}: {n}"]
                (status,) = [s for s in lab.parentWidget().findChildren(QLabel, "lookup_status") if s.isVisible()]
                assert status.text() == i18n.tr("status_received", lang)
            problems += [f"[{lang}{' elder' if elder else ''}] page {page + 1}: {p}"
                         for p in clipped_labels(w) + small_buttons(w) + off_window(w)]
        assert sorted(seen) == sorted(numbers), f"[{lang}{' elder' if elder else ''}]"
    assert problems == [], "\n".join(problems)
    assert pages["zh", True] > 1 and pages["bo", True] > 1, pages  # elder mode's big text does need paging
    assert card.id_number not in all_text(qtbot, w) and card.name not in all_text(qtbot, w)
