"""End to end: the kiosk window with the REAL drivers on the simulators, a real edge daemon and the
reference platform as subprocesses. A resident's whole visit, in Tibetan and in Chinese."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QLabel

from devices.camera.qr import decode_qr as camera_decode_qr
from devices.sim.camera_media import face_image, qr_image
from devices.sim.card_reader import SAMPLE_CARDS
from kiosk import i18n
from kiosk.edge_client import EdgeClient
from tests.fixtures_ui import click, wait_until
from ui.widgets.labels import IconLabel

CARD = SAMPLE_CARDS[0]


class FakeClock:
    """Stands in for time.monotonic so the idle timeout is tested without waiting 50 s."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def on(window, name: str) -> bool:
    return window.current_screen().name == name


def visible_text(window) -> str:
    QApplication.processEvents()  # let freshly built rows show
    return "\n".join(lab.text() for lab in window.findChildren(QLabel) if lab.isVisible())


def enter_digits(qtbot, window, digits: str) -> None:
    for d in digits:
        click(qtbot, window, f"key_{d}")


def decode_qr(page: np.ndarray) -> str:
    """What the kiosk's own camera decoder reads off the printed page."""
    return camera_decode_qr(page) or ""


def start_old_age_allowance(qtbot, w, stack) -> None:
    click(qtbot, w, "tile_civil_affairs")
    assert on(w, "services")
    click(qtbot, w, "service_old-age-allowance")
    assert on(w, "detail")
    click(qtbot, w, "start")
    assert on(w, "identify")
    stack.card_sim.insert(0)
    wait_until(qtbot, lambda: on(w, "form"))


def fill_form(qtbot, w) -> None:
    click(qtbot, w, "next")                  # the card page: read-only
    enter_digits(qtbot, w, "13800138000")
    click(qtbot, w, "next")
    click(qtbot, w, "choice_bank_card")       # one tap answers a choice
    click(qtbot, w, "choice_no")
    assert on(w, "photo")


def pages_then(stack, before: int) -> list[np.ndarray]:
    return stack.printer_sim.pages[before:]


@pytest.mark.parametrize("lang", ["bo", "zh"])
def test_full_application(qtbot, kiosk, ui_stack, tmp_path, lang):
    camera = face_image(tmp_path / "face.png") if lang == "zh" else None
    w = kiosk(lang, camera=camera)
    start_old_age_allowance(qtbot, w, ui_stack)
    text = visible_text(w)
    assert CARD.name in text and "540102********" in text
    assert CARD.id_number not in text  # never the full number on screen
    fill_form(qtbot, w)
    if lang == "zh":  # a photo from the camera, guided by the face hint
        wait_until(qtbot, lambda: w.screens["photo"].hint == "ok")
        assert w.screens["photo"].hint_text.text() == i18n.tr("face_ok", "zh")
        click(qtbot, w, "capture")
    else:
        click(qtbot, w, "skip_photo")
    wait_until(qtbot, lambda: on(w, "confirm"))
    summary = visible_text(w)
    assert "540102********" in summary and CARD.id_number not in summary
    flow = w.session.flow
    before = len(ui_stack.printer_sim.pages)
    click(qtbot, w, "confirm")
    wait_until(qtbot, lambda: on(w, "result"), 15_000)
    wait_until(qtbot, lambda: flow.receipt_state == "printed", 15_000)
    tracking = flow.tracking_number
    assert w.screens["result"].tracking.text() == tracking
    assert w.screens["result"].receipt_text.text() == i18n.tr("receipt_take", lang)
    apps = ui_stack.applications(CARD.id_number)
    assert tracking in [a["tracking_number"] for a in apps]
    mine = next(a for a in apps if a["tracking_number"] == tracking)
    assert mine["service_id"] == "old-age-allowance"
    wait_until(qtbot, lambda: len(pages_then(ui_stack, before)) == 1)
    page = pages_then(ui_stack, before)[0]
    assert page.shape[1] == 576 and (page < 128).any()
    assert decode_qr(page) == tracking
    if lang == "zh":
        assert flow.photo and flow.photo[:3] == b"\xff\xd8\xff"
    click(qtbot, w, "finish")
    assert on(w, "feedback") and w.session.flow is None and not flow.has_personal_data
    click(qtbot, w, "rating_5")
    click(qtbot, w, "reason_helpful")
    click(qtbot, w, "send_feedback")
    wait_until(qtbot, lambda: on(w, "home") and w.session.lang == lang)


def test_platform_down_receipt_says_later_and_application_arrives(qtbot, kiosk, ui_stack):
    ui_stack.platform.stop()
    try:
        w = kiosk("zh")
        start_old_age_allowance(qtbot, w, ui_stack)
        fill_form(qtbot, w)
        click(qtbot, w, "skip_photo")
        flow = w.session.flow
        before = len(ui_stack.printer_sim.pages)
        click(qtbot, w, "confirm")
        wait_until(qtbot, lambda: flow.receipt_state == "printed", 15_000)
        assert flow.receipt_content("zh").footer == i18n.tr("submitted_offline", "zh")
        assert w.screens["result"].status_text.text() == i18n.tr("submitted_offline", "zh")
        wait_until(qtbot, lambda: len(pages_then(ui_stack, before)) == 1)
        tracking = flow.tracking_number
        assert decode_qr(pages_then(ui_stack, before)[0]) == tracking
    finally:
        ui_stack.platform.start()
    wait_until(qtbot, lambda: tracking in [a["tracking_number"] for a in ui_stack.applications(CARD.id_number)],
               45_000)


def test_progress_lookup_by_receipt_qr(qtbot, kiosk, ui_stack, tmp_path):
    edge = EdgeClient(ui_stack.edge_url)
    applicant = {k: v for k, v in SAMPLE_CARDS[1].__dict__.items() if k in ("name", "id_number")}
    sub = edge.submit("old-age-allowance", {"phone": "13900001111", "payout_account": "bank_card",
                                            "received_elsewhere": "no"}, applicant, lang="zh")
    camera = qr_image(sub["tracking_number"], tmp_path / "receipt-qr.png")
    w = kiosk("zh", camera=camera)
    click(qtbot, w, "tile_lookup")
    assert on(w, "identify")
    click(qtbot, w, "use_qr")
    wait_until(qtbot, lambda: on(w, "lookup"), 15_000)
    wait_until(qtbot, lambda: w.session.flow.lookup_result is not None, 15_000)
    text = visible_text(w)
    assert sub["tracking_number"] in text
    status = w.session.flow.lookup_result["applications"][0]["status"]
    assert i18n.tr(f"status_{status}", "zh") in text
    assert SAMPLE_CARDS[1].id_number not in text and SAMPLE_CARDS[1].name not in text


def test_language_switch_mid_flow_keeps_the_form(qtbot, kiosk, ui_stack):
    w = kiosk("bo")
    start_old_age_allowance(qtbot, w, ui_stack)
    click(qtbot, w, "next")
    enter_digits(qtbot, w, "1390000")
    form = w.screens["form"]
    bo_prompt, bo_next = form.prompt.text(), form.next_btn.text()
    assert bo_next == i18n.tr("next", "bo")
    click(qtbot, w, "bar_language")
    assert w.session.lang == "zh"
    assert form.next_btn.text() == i18n.tr("next", "zh") and form.prompt.text() != bo_prompt
    assert w.bars.home_btn.text() == i18n.tr("home", "zh")
    assert w.session.flow.value("phone") == "1390000"
    assert form.editor.value == "1390000"
    enter_digits(qtbot, w, "1111")
    click(qtbot, w, "next")
    assert w.session.flow.value("phone") == "13900001111"


def test_idle_timeout_wipes_the_session(qtbot, kiosk, ui_stack):
    clock = FakeClock()
    w = kiosk("zh", clock=clock)
    start_old_age_allowance(qtbot, w, ui_stack)
    click(qtbot, w, "next")
    enter_digits(qtbot, w, "138")
    flow = w.session.flow
    assert flow.has_personal_data
    clock.t += 31
    w.tick()
    assert w.overlay.isVisible()
    assert w.overlay.extend_btn.text() == i18n.tr("need_more_time", "zh")
    click(qtbot, w, "need_more_time")  # one touch gives the time back
    assert not w.overlay.isVisible() and w.session.flow is flow
    clock.t += 31
    w.tick()
    assert w.overlay.isVisible()
    clock.t += 21
    w.tick()
    assert on(w, "home") and not w.overlay.isVisible()
    assert w.session.flow is None and not flow.has_personal_data
    everything = "\n".join(lab.text() for lab in w.findChildren(QLabel))  # visible or not
    for secret in (CARD.name, CARD.id_number, "540102********", CARD.address[:6], "138"):
        assert secret not in everything
    assert w.session.lang == "zh"  # back to this kiosk's default language


def test_printer_out_of_paper_mid_flow(qtbot, kiosk, ui_stack):
    w = kiosk("bo")
    start_old_age_allowance(qtbot, w, ui_stack)
    fill_form(qtbot, w)
    click(qtbot, w, "skip_photo")
    ui_stack.printer_sim.paper = "out"
    flow = w.session.flow
    click(qtbot, w, "confirm")
    wait_until(qtbot, lambda: flow.receipt_state == "failed", 15_000)
    result = w.screens["result"]
    assert flow.receipt_error == "paper_out"
    assert result.tracking.text() == flow.tracking_number and result.tracking.isVisible()
    words = result.receipt_text.text()
    assert i18n.tr("printer_out_of_paper", "bo") in words and i18n.tr("receipt_counter", "bo") in words
    assert result.prompt.text() == w.speaker.text("printer_no_paper", "bo")
    printer = w.bridge.printer
    assert len(printer.pending_jobs) == 1  # the job is kept
    ui_stack.printer_sim.paper = "ok"
    before = len(ui_stack.printer_sim.pages)
    assert printer.retry_pending() == 1
    wait_until(qtbot, lambda: len(pages_then(ui_stack, before)) == 1)
    assert decode_qr(pages_then(ui_stack, before)[0]) == flow.tracking_number


def test_every_screen_speaks_and_voice_controls_work(qtbot, kiosk, ui_stack):
    w = kiosk("zh")
    voice = w.bridge.voice
    click(qtbot, w, "tile_civil_affairs")
    click(qtbot, w, "service_old-age-allowance")
    click(qtbot, w, "start")
    assert voice.last_utterance.prompt_id == "insert_card" and voice.last_utterance.spoken  # Mandarin TTS
    default = voice.volume
    click(qtbot, w, "bar_louder")
    assert voice.volume > default and str(round(voice.volume * 100)) in w.bars.volume_label.text()
    click(qtbot, w, "bar_stop")
    wait_until(qtbot, lambda: not voice.playing, 2000)
    click(qtbot, w, "bar_repeat")
    assert voice.last_utterance.prompt_id == "insert_card"
    click(qtbot, w, "bar_language")  # the voice follows the language: Tibetan has no clip in the demo pack
    assert voice.last_utterance.lang == "bo" and not voice.last_utterance.spoken
    assert "insert_card" in voice.missing_clips  # reported for the maintenance team; the words are shown
    assert w.screens["identify"].prompt.text() == w.speaker.text("insert_card", "bo")
    w.session.end("done")
    assert voice.volume == default  # the next resident starts at the default volume


def test_no_personal_data_in_logs(qtbot, kiosk, ui_stack, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    w = kiosk("zh")
    start_old_age_allowance(qtbot, w, ui_stack)
    fill_form(qtbot, w)
    click(qtbot, w, "skip_photo")
    flow = w.session.flow
    click(qtbot, w, "confirm")
    wait_until(qtbot, lambda: flow.receipt_state == "printed", 15_000)
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "screen" in text  # the UI did log its way through
    for secret in (CARD.id_number, CARD.name, CARD.address, "13800138000"):
        assert secret not in text


def test_guide_and_blank_form_work_with_the_platform_down(qtbot, kiosk, ui_stack):
    ui_stack.platform.stop()
    try:
        w = kiosk("bo")
        click(qtbot, w, "tile_medical")
        click(qtbot, w, "service_medical-reimbursement")
        assert on(w, "detail")
        guide = w.content.guide("medical-reimbursement")
        first_heading = next(b.text for b in guide.blocks("bo") if b.kind == "heading")
        assert first_heading in visible_text(w)
        assert not w.screens["detail"].start_btn.isVisible()  # a guide-only service: nothing to start
        before = len(ui_stack.printer_sim.pages)
        click(qtbot, w, "print_guide")
        wait_until(qtbot, lambda: w.screens["detail"].banner.text.text() == i18n.tr("printed", "bo"), 15_000)
        click(qtbot, w, "bar_home")
        click(qtbot, w, "tile_print_form")
        assert on(w, "print_form")
        click(qtbot, w, "form_old-age-allowance")
        wait_until(qtbot, lambda: w.screens["print_form"].banner.text.text() == i18n.tr("printed", "bo"), 15_000)
        pages = pages_then(ui_stack, before)
        assert len(pages) == 2 and all(p.shape[1] == 576 and (p < 128).mean() > 0.005 for p in pages)
    finally:
        ui_stack.platform.start()


def test_address_field_offers_the_card_address(qtbot, kiosk, ui_stack):
    w = kiosk("zh")
    w.start_service(w.content.service("residence-certificate"))
    ui_stack.card_sim.insert(0)
    wait_until(qtbot, lambda: on(w, "form"))
    click(qtbot, w, "next")  # the card page
    click(qtbot, w, "same_as_card")
    assert w.session.flow.value("current_address") == CARD.address
    click(qtbot, w, "next")
    assert w.screens["form"].current_field().type == "date"


def test_lookup_offline_shows_last_known_status_and_its_age(qtbot, kiosk, ui_stack):
    card = SAMPLE_CARDS[2]
    edge = EdgeClient(ui_stack.edge_url)
    sub = edge.submit("old-age-allowance", {"phone": "13900002222", "payout_account": "bank_card",
                                            "received_elsewhere": "no"},
                      {"name": card.name, "id_number": card.id_number}, lang="zh")
    wait_until(qtbot, lambda: edge.submission(sub["tracking_number"])["forwarded"], 30_000)
    ui_stack.platform.stop()
    try:
        w = kiosk("zh")
        click(qtbot, w, "tile_lookup")
        ui_stack.card_sim.insert(card)
        wait_until(qtbot, lambda: on(w, "lookup"))
        screen = w.screens["lookup"]  # busy until the answer has reached the screen (not just the flow)
        wait_until(qtbot, lambda: w.session.flow.lookup_result is not None and not screen.busy, 20_000)
        QApplication.processEvents()
        result = w.session.flow.lookup_result
        assert result["source"] == "edge_cache"
        banner = screen.as_of
        assert banner.isVisible() and banner.text.text().startswith("网络不通")
        from ui.screens.lookup import local_time

        assert local_time(result["as_of"]) in banner.text.text()  # how fresh the status is
        text = visible_text(w)
        assert sub["tracking_number"] in text and i18n.tr("status_received", "zh") in text
        assert w.bridge.voice.last_utterance.prompt_id is None  # TTS read the prompt with the statuses
    finally:
        ui_stack.platform.start()


def test_lookup_shows_an_undeliverable_application_with_words_for_the_counter(qtbot, kiosk, ui_stack, tmp_path):
    from kiosk.netutil import free_port
    from tests.fixtures_edge import Edge
    from tests.fixtures_ui import install_demo

    card = SAMPLE_CARDS[1]
    # An in-process edge whose platform is not there: the application waits in its outbox until refused.
    edge = Edge(tmp_path / "edge", f"http://127.0.0.1:{free_port()}", with_pack=False)
    install_demo(edge.store)
    try:
        key = "undeliverable-0001"
        sub = EdgeClient(edge.url).submit("old-age-allowance", {"phone": "13900003333", "payout_account": "bank_card",
                                                                 "received_elsewhere": "no"},
                                          {"name": card.name, "id_number": card.id_number}, lang="zh",
                                          idempotency_key=key)
        # What the forwarder does when the platform refuses an item for good (tests/test_forwarder.py)
        edge.outbox.reject(key, "invalid_application: unknown service code")
        w = kiosk("zh", edge_url=edge.url)
        click(qtbot, w, "tile_lookup")
        ui_stack.card_sim.insert(card)
        wait_until(qtbot, lambda: on(w, "lookup"))
        screen = w.screens["lookup"]
        wait_until(qtbot, lambda: w.session.flow.lookup_result is not None and not screen.busy, 20_000)
        QApplication.processEvents()  # let the freshly built rows show
        (status,) = [lab for lab in screen.findChildren(QLabel, "lookup_status") if lab.isVisible()]
        assert status.text() == i18n.tr("status_undeliverable", "zh") == "申请没能送达，请到窗口咨询"
        assert sub["tracking_number"] in visible_text(w)
        icons = [i.icon_name for i in status.parentWidget().findChildren(IconLabel) if i.isVisible()]
        assert icons == ["check", "cross"]  # queued (done), then stuck: an icon and the words, nothing to come
        click(qtbot, w, "bar_language")
        QApplication.processEvents()
        (status,) = [lab for lab in screen.findChildren(QLabel, "lookup_status") if lab.isVisible()]
        assert status.text() == i18n.tr("status_undeliverable", "bo")
    finally:
        edge.close()


def test_edge_down_at_submit_then_retry_makes_one_application(qtbot, kiosk, ui_stack):
    card = SAMPLE_CARDS[3] if len(SAMPLE_CARDS) > 3 else SAMPLE_CARDS[1]
    w = kiosk("zh")
    w.start_service(w.content.service("old-age-allowance"))
    ui_stack.card_sim.insert(card)
    wait_until(qtbot, lambda: on(w, "form"))
    fill_form(qtbot, w)
    click(qtbot, w, "skip_photo")
    flow = w.session.flow
    key = flow.idempotency_key
    ui_stack.edge.stop()
    try:
        click(qtbot, w, "confirm")
        screen = w.screens["submitting"]
        wait_until(qtbot, lambda: screen.retry_btn.isVisible(), 20_000)
        assert screen.banner.text.text() == i18n.tr("submit_unknown", "zh") and on(w, "submitting")
    finally:
        ui_stack.edge.start()
    click(qtbot, w, "retry_submit")
    wait_until(qtbot, lambda: on(w, "result"), 20_000)
    assert flow.idempotency_key == key
    wait_until(qtbot, lambda: flow.tracking_number in [a["tracking_number"]
                                                       for a in ui_stack.applications(card.id_number)], 30_000)
    mine = [a for a in ui_stack.applications(card.id_number) if a["service_id"] == "old-age-allowance"]
    assert len(mine) == 1
