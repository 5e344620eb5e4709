"""Every screen, in Tibetan and in Chinese (and in elder mode): no text clipped, main controls at least
60 dp, the window fits the 1920x1080 design screen. The content is the demo pack served by the edge."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtWidgets import QApplication, QLabel, QScrollArea

from kiosk.flows import Flow
from kiosk.i18n import LANGS
from tests.fixtures_ui import wait_until
from ui.theme import MIN_CONTROL_DP
from ui.widgets.buttons import BigButton
from ui.widgets.labels import IconLabel, Label


@pytest.fixture
def window(qtbot, ui_stack, tmp_path, card_record):
    from ui.shell.composition import create_window

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
    """Labels whose text needs more room than the label has (wrapped at its own width).

    A Tibetan label is set on ink-fitted lines (ui.widgets.Label): the room it needs is where its
    shaped glyphs land, each glyph's own box, which must lie inside the label. Other labels need the
    font's line boxes (QLabel's own layout)."""
    bad = []
    for lab in w.findChildren(QLabel):
        if isinstance(lab, IconLabel) or not lab.isVisible() or not lab.text():
            continue
        r = lab.contentsRect()
        if isinstance(lab, Label) and lab.fitted():
            ink = lab.ink_rect()
            if not QRectF(r).adjusted(-0.5, -0.5, 0.5, 0.5).contains(ink):
                bad.append(f"{w.current_screen().name}: {lab.objectName() or lab.text()[:20]!r} ink at "
                           f"{ink.getRect()}, label {r.getRect()}")
            continue
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
        assert QFontInfo(w.bars.home_btn.label.font()).family() == family


def in_window(w, widget) -> bool:
    return w.rect().contains(QRect(widget.mapTo(w, QPoint(0, 0)), widget.size()))


def use(w, lang: str, elder: bool = False) -> None:
    if w.session.lang != lang:
        w.switch_language()
    if w.session.elder_mode != elder:
        w.toggle_elder_mode()


def test_the_old_age_summary_fits_one_screen_in_tibetan(qtbot, window, card_record):
    """All eight lines of the old-age application, read back in Tibetan at normal size: no page
    buttons, no scroll bar, every value inside the window."""
    w = window
    use(w, "bo")
    flow_at(w, "old-age-allowance", card_record, steps=2, **OLD_AGE)
    w.go("confirm")
    settle()
    screen = w.screens["confirm"]
    lines = w.session.flow.summary("bo")
    assert len(lines) >= 8
    values = [lab for lab in screen.findChildren(Label) if lab.objectName().startswith("summary_")]
    assert len(values) == len(lines) and all(v.isVisible() and in_window(w, v) for v in values)
    assert len(screen.rows.pages) == 1 and not screen.rows.nav.isVisible()
    assert not [a for a in screen.findChildren(QScrollArea) if a.isVisible()]
    assert clipped_labels(w) == []


def test_a_summary_too_long_for_the_screen_is_paged_with_big_buttons(qtbot, window, card_record):
    """Elder mode's larger text does not fit: whole rows a page at a time, big page buttons, each line
    on exactly one page, no scroll bar."""
    w = window
    use(w, "bo", elder=True)
    flow_at(w, "old-age-allowance", card_record, steps=2, **OLD_AGE)
    w.go("confirm")
    settle()
    pager = w.screens["confirm"].rows
    assert len(pager.pages) > 1 and pager.nav.isVisible()
    side = w.theme.dp(MIN_CONTROL_DP)
    assert pager.next_btn.height() >= side and pager.prev_btn.height() >= side
    assert not pager.prev_btn.isEnabled() and pager.page_label.text() == f"1 / {len(pager.pages)}"
    seen = []
    for page in range(len(pager.pages)):
        shown = [r for r in pager.rows if r.isVisible()]
        assert shown and all(in_window(w, r) for r in shown)
        assert clipped_labels(w) == []
        seen += shown
        if page + 1 < len(pager.pages):
            qtbot.mouseClick(pager.next_btn, Qt.LeftButton)
            settle()
    assert seen == pager.rows  # every line once, in order
    assert not pager.next_btn.isEnabled()
    qtbot.mouseClick(pager.prev_btn, Qt.LeftButton)
    assert pager.page == len(pager.pages) - 2


def test_one_service_is_a_tile_not_a_wall(qtbot, window):
    w = window
    use(w, "bo")
    w.go("services", category="civil_affairs")
    settle()
    (tile,) = [b for b in w.screens["services"].findChildren(BigButton) if b.objectName().startswith("service_")]
    max_w, max_h = (w.theme.dp(v) for v in w.screens["services"].tiles.MAX_TILE_DP)
    assert tile.width() <= max_w and tile.height() <= max_h
    left = tile.mapTo(w, QPoint(0, 0)).x()
    assert abs(left - (w.width() - left - tile.width())) <= 2  # centred


@pytest.mark.parametrize("lang", LANGS)
def test_elder_home_shows_every_tile(qtbot, window, lang):
    w = window
    use(w, lang, elder=True)
    w.go("home")
    settle()
    tiles = [b for b in w.screens["home"].findChildren(BigButton) if b.objectName().startswith("tile_")]
    assert len(tiles) == len(w.content.categories()) + 2
    assert all(t.isVisible() and in_window(w, t) for t in tiles)
    assert not w.screens["home"].tiles.nav.isVisible()


@pytest.mark.parametrize("lang", LANGS)
def test_bar_icons_and_words_share_a_centre_line(qtbot, window, lang):
    """The icon and the word's ink are level in every bar button (the Tibetan word on the Chinese
    screen's language button included), and the ink clears the button's top and bottom."""
    w = window
    use(w, lang)
    settle()
    buttons = [b for b in w.findChildren(BigButton) if b.objectName().startswith("bar_") and b.isVisible()]
    assert len(buttons) >= 8
    for b in buttons:
        ink = b.label.ink_rect().translated(QPointF(b.label.mapTo(b, QPoint(0, 0))))
        icon = QRectF(b.icon.geometry())
        assert abs(ink.center().y() - icon.center().y()) <= 2, (b.objectName(), ink, icon)
        assert ink.top() > 0 and ink.bottom() < b.height(), b.objectName()


@pytest.mark.parametrize("lang", LANGS)
def test_paper_out_says_printer_problem_and_shows_the_number(qtbot, window, card_record, lang):
    from kiosk import i18n
    from kiosk.status import Level, Status

    w = window
    use(w, lang)
    flow = flow_at(w, "old-age-allowance", card_record, steps=3, **OLD_AGE)
    assert flow.submit().ok
    w.go("result")
    result = w.screens["result"]
    result.printing = True
    paper_out = Status(Level.FAULT, "paper_out", "打印纸用完", "ཤོག་བུ་ཚར་འདུག", "Paper out")
    w.bridge.print_failed.emit("paper_out", paper_out)  # what the printer worker sends
    settle()
    banner = result.receipt
    assert banner.isVisible() and banner.property("state") == "warn"
    assert banner.icon.icon_name == "printer_fault"  # an icon and words, not colour alone
    assert i18n.tr("receipt_counter", lang) in result.receipt_text.text()
    assert result.tracking.text() == flow.tracking_number
    assert result.tracking.font().pixelSize() >= 2 * w.theme.text_px(lang)
    for widget in (banner, result.tracking, result.finish_btn):
        assert widget.isVisible() and in_window(w, widget)
    assert not [a for a in result.findChildren(QScrollArea) if a.isVisible()]


def test_pager_never_ends_a_page_on_a_heading(qtbot):
    """Six 100 px rows in a 350 px pager: three to a page, but the heading (row 2) goes over with the
    row it heads."""
    from PySide6.QtWidgets import QWidget

    from ui.widgets.pager import Pager

    pager = Pager(spacing=0)
    qtbot.addWidget(pager)
    rows = []
    for i in range(6):
        row = QWidget()
        row.setFixedHeight(100)
        row.setProperty("keep_with_next", i == 2)
        rows.append(row)
    pager.resize(800, 350 + pager.nav.sizeHint().height() + pager.layout().spacing())
    pager.show()
    pager.set_rows(rows)
    assert [list(p) for p in pager.pages] == [[0, 1], [2, 3, 4], [5]]
    assert [r.isVisible() for r in rows] == [True, True, False, False, False, False]
