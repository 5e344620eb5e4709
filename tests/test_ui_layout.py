"""Every screen, in Tibetan and in Chinese (and in elder mode): no text clipped, main controls at least
60 dp, the window fits the 1920x1080 design screen. The content is the demo pack served by the edge."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QLabel, QScrollArea

from kiosk.flows import Flow
from kiosk.i18n import LANGS
from tests.fixtures_ui import wait_until
from ui.theme import MIN_CONTROL_DP
from ui.widgets import BigButton, IconLabel


@pytest.fixture
def window(qtbot, ui_stack, tmp_path, card_record):
    from ui.factory import create_window

    w = create_window(ui_stack.cfg("bo"), clip_dir=tmp_path / "clips")
    w.resize(1920, 1080)
    w.show()
    qtbot.waitExposed(w)
    wait_until(qtbot, lambda: w.content.loaded)
    yield w
    w.shutdown()
    w.close()


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def clipped_labels(w) -> list[str]:
    """Labels whose text needs more room than the label has (wrapped at its own width)."""
    bad = []
    for lab in w.findChildren(QLabel):
        if isinstance(lab, IconLabel) or not lab.isVisible() or not lab.text():
            continue
        r = lab.contentsRect()
        need = lab.fontMetrics().boundingRect(QRect(0, 0, r.width(), 100_000),
                                              int(lab.alignment()) | Qt.TextWordWrap, lab.text())
        if need.width() > r.width() + 1 or need.height() > r.height() + 1:
            bad.append(f"{w.current_screen().name}: {lab.objectName() or lab.text()[:20]!r} needs "
                       f"{need.width()}x{need.height()}, has {r.width()}x{r.height()}")
    return bad


def small_buttons(w) -> list[str]:
    side = w.theme.dp(MIN_CONTROL_DP)
    return [f"{w.current_screen().name}: {b.objectName()} {b.width()}x{b.height()} < {side}"
            for b in w.findChildren(BigButton) if b.isVisible() and (b.width() < side or b.height() < side)]


def off_window(w) -> list[str]:
    """Widgets outside any scroll area that the layout pushed (partly) off the 1920x1080 window."""
    bad = []
    for wd in [*w.findChildren(BigButton), *w.findChildren(QLabel)]:
        if not wd.isVisible() or _in_scroll(wd):
            continue
        rect = QRect(wd.mapTo(w, QPoint(0, 0)), wd.size())
        if not w.rect().contains(rect):
            bad.append(f"{w.current_screen().name}: {wd.objectName() or type(wd).__name__} at {rect.getRect()}")
    return bad


def _in_scroll(wd) -> bool:
    p = wd.parentWidget()
    while p is not None:
        if isinstance(p, QScrollArea):
            return True
        p = p.parentWidget()
    return False


def flow_at(w, service_id: str, card_record, steps: int = 0, **values: str) -> Flow:
    """A flow of a demo service with the card read, `values` entered, moved on `steps` times."""
    flow = Flow(w.content.service(service_id), edge=w.edge)
    w.session.begin_flow(flow)
    flow.card_read(card_record.to_form_fields("zh"), localized={x: card_record.to_form_fields(x) for x in LANGS})
    for k, v in values.items():
        flow.set_field(k, v)
    for _ in range(steps):
        if flow.kind == "form":
            assert flow.next() == []
        elif flow.kind == "photo":
            flow.skip_photo()
        elif flow.kind == "confirm":
            assert flow.confirm() == []
    return flow


OLD_AGE = {"phone": "13800138000", "payout_account": "subsidy_card", "received_elsewhere": "yes"}


def states(w, card_record):
    """(description, setup) for every screen and every kind of form page."""
    def form(service_id, page, **values):
        def go():
            flow_at(w, service_id, card_record, **values)
            w.go("form", page=page)
        return go

    def submitted():
        flow = flow_at(w, "old-age-allowance", card_record, steps=3, **OLD_AGE)
        assert flow.submit().ok
        flow.receipt_failed("paper_out")
        w.go("result")

    def looked_up():
        flow = Flow(w.content.service("progress-lookup"), edge=w.edge)
        w.session.begin_flow(flow)
        flow.card_read(card_record.to_form_fields("zh"))
        flow.lookup()
        w.go("lookup")

    def overlay():
        w.go("home")
        w._idle_warning(20)

    return [
        ("home", lambda: w.go("home")),
        ("services", lambda: w.go("services", category="civil_affairs")),
        ("detail", lambda: w.go("detail", service_id="old-age-allowance")),
        ("detail guide", lambda: w.go("detail", service_id="medical-reimbursement")),
        ("print form", lambda: w.go("print_form")),
        ("identify", lambda: (w.start_service(w.content.service("old-age-allowance")))),
        ("form card page", form("old-age-allowance", 0)),
        ("form phone", form("old-age-allowance", 1, phone="1380013")),
        ("form choice", form("old-age-allowance", 2, payout_account="bank_card")),
        ("form yesno", form("old-age-allowance", 3)),
        ("form text", form("residence-certificate", 1, current_address="ABCD")),
        ("form date", form("residence-certificate", 2)),
        ("form number", form("grassland-subsidy", 1)),
        ("photo", lambda: (flow_at(w, "old-age-allowance", card_record, steps=1, **OLD_AGE), w.go("photo"))),
        ("confirm", lambda: (flow_at(w, "old-age-allowance", card_record, steps=2, **OLD_AGE), w.go("confirm"))),
        ("result, printer out of paper", submitted),
        ("lookup", looked_up),
        ("feedback", lambda: w.go("feedback", service_id="old-age-allowance")),
        ("idle overlay", overlay),
    ]


@pytest.mark.parametrize("elder", [False, True])
def test_no_text_clipped_and_controls_big_enough(qtbot, window, card_record, elder):
    w = window
    if elder:
        w.toggle_elder_mode()
    problems = []
    for lang in LANGS:
        if w.session.lang != lang:
            w.switch_language()
        for name, setup in states(w, card_record):
            setup()
            settle()
            problems += [f"[{lang}] {name}: {p}" for p in clipped_labels(w) + small_buttons(w) + off_window(w)]
            if w.height() > 1080 or w.width() > 1920:
                problems.append(f"[{lang}] {name}: window grew to {w.width()}x{w.height()}")
            w.overlay.hide()
            w.resize(1920, 1080)  # judge every state on its own
    assert problems == [], "\n".join(problems)


def test_fonts_are_set_by_family_per_language(window):
    from PySide6.QtGui import QFontInfo

    w = window
    for lang, family in (("bo", "Noto Serif Tibetan"), ("zh", "Noto Sans CJK SC")):
        if w.session.lang != lang:
            w.switch_language()
        assert QFontInfo(w.screens["home"].prompt.font()).family() == family
        assert QFontInfo(w.home_btn.label.font()).family() == family
