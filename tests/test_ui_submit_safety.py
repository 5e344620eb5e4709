"""The submit path on the real kiosk window (real drivers on the simulators) against a real in-process edge
that can lose, hold or hang its answers: a tracking number is never lost, housekeeping never delays a submit."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from devices.camera.qr import decode_qr
from devices.sim.card_reader import SAMPLE_CARDS
from kiosk import i18n
from kiosk.status import Level, Status
from tests.fixtures_ui import FakeClock, click, platform_search, to_confirm, wait_until


def on(w, name: str) -> bool:
    return w.current_screen().name == name


def test_no_answer_freezes_the_form_and_try_again_prints_the_stored_application(qtbot, kiosk, ui_stack,
                                                                                trouble_edge):
    w = kiosk("zh", edge_url=trouble_edge.url)
    to_confirm(qtbot, w, ui_stack)
    flow = w.session.flow
    trouble_edge.lose_submit = True
    click(qtbot, w, "confirm")
    screen = w.screens["submitting"]
    wait_until(qtbot, lambda: screen.retry_btn.isVisible(), 20_000)
    assert screen.banner.text.text() == i18n.tr("submit_unknown", "zh")
    assert screen.counter_btn.isVisible()
    (stored,) = trouble_edge.unconfirmed()  # the edge kept it; the kiosk never heard
    click(qtbot, w, "bar_back")  # no way back to change anything
    assert on(w, "submitting") and w.session.flow is flow and flow.has_personal_data
    click(qtbot, w, "bar_language")  # the words follow the language; the request does not change
    assert screen.banner.text.text() == i18n.tr("submit_unknown", "bo")
    trouble_edge.lose_submit = False
    before = len(ui_stack.printer_sim.pages)
    click(qtbot, w, "retry_submit")
    wait_until(qtbot, lambda: on(w, "result"), 20_000)
    assert w.screens["result"].tracking.text() == stored
    wait_until(qtbot, lambda: len(ui_stack.printer_sim.pages) > before, 15_000)
    assert decode_qr(ui_stack.printer_sim.pages[before]) == stored
    wait_until(qtbot, lambda: platform_search(trouble_edge.platform_url, SAMPLE_CARDS[0].id_number), 20_000)
    assert [a["tracking_number"] for a in platform_search(trouble_edge.platform_url,
                                                          SAMPLE_CARDS[0].id_number)] == [stored]


def test_go_to_the_counter_ends_the_session_and_says_staff_will_help(qtbot, kiosk, ui_stack, trouble_edge):
    w = kiosk("zh", edge_url=trouble_edge.url)
    to_confirm(qtbot, w, ui_stack)
    flow = w.session.flow
    trouble_edge.lose_submit = True
    click(qtbot, w, "confirm")
    wait_until(qtbot, lambda: w.screens["submitting"].counter_btn.isVisible(), 20_000)
    click(qtbot, w, "submit_counter")
    assert on(w, "home") and w.session.flow is None and not flow.has_personal_data
    banner = w.screens["home"].banner
    assert banner.isVisible() and banner.text.text() == i18n.tr("submit_counter_done", "zh")


def test_home_and_idle_wait_for_the_answer_and_the_shown_mark_is_retried(qtbot, kiosk, ui_stack,
                                                                        trouble_edge):
    clock = FakeClock()
    w = kiosk("zh", edge_url=trouble_edge.url, clock=clock)
    w.calls.shown.retry_s = 0.2
    to_confirm(qtbot, w, ui_stack)
    flow = w.session.flow
    trouble_edge.hold_submit = True
    trouble_edge.fail_shown = True
    click(qtbot, w, "confirm")
    wait_until(qtbot, lambda: trouble_edge.submit_arrived.is_set())  # stored; its answer is held back
    screen = w.screens["submitting"]
    click(qtbot, w, "bar_home")
    assert on(w, "submitting") and w.session.flow is flow
    assert screen.banner.isVisible() and screen.banner.text.text() == i18n.tr("submit_wait", "zh")
    clock.t += 10 * w.session.idle_timeout_s
    w.tick()
    w.tick()
    assert on(w, "submitting") and w.session.flow is flow and not w.overlay.isVisible()
    trouble_edge.release()
    wait_until(qtbot, lambda: on(w, "result"), 20_000)
    tracking = w.screens["result"].tracking.text()
    assert tracking == flow.tracking_number
    wait_until(qtbot, lambda: trouble_edge.shown_failed >= 2)  # the edge refused the mark: tried again
    assert tracking in trouble_edge.unconfirmed()
    assert not w.screens["result"].banner.isVisible()  # the failed mark is never the resident's business
    trouble_edge.fail_shown = False
    wait_until(qtbot, lambda: tracking not in trouble_edge.unconfirmed())


def test_a_submit_completes_while_health_reports_hang(qtbot, kiosk, ui_stack, trouble_edge):
    trouble_edge.hang_health = True
    w = kiosk("zh", edge_url=trouble_edge.url)
    for n in range(10):  # a flapping printer: ten changes, each worth a report
        level = Level.FAULT if n % 2 else Level.OK
        w.bridge.status_changed.emit("printer", Status(level, f"flap{n}", "测试", "ཚོད་ལྟ།", "test"))
    QApplication.processEvents()
    to_confirm(qtbot, w, ui_stack)
    click(qtbot, w, "confirm")
    wait_until(qtbot, lambda: on(w, "result"), 20_000)  # ten hung reports in one queue would take 50 s
    assert w.screens["result"].tracking.text() == w.session.flow.tracking_number
    assert trouble_edge.health_max == 1  # one report in flight, the rest coalesced
    assert trouble_edge.health_seen < 10
