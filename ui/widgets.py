"""The few widgets every screen is built from: wrapped labels, big icon+word buttons, keypads, pages.

Text is never given a fixed height: labels word-wrap and report heightForWidth, so a Tibetan line
gets the room it needs — and no more: Tibetan is set on lines fitted to its ink (ui.theme), not on
the font's mostly empty 2.8 x line box. Fonts are applied by role ("body", "button", "title", "key",
"number", "tracking") from ui.theme by `apply_fonts`, on every language switch. Content longer than
the screen is shown a page at a time (Pager) with two big buttons: no scroll bar to fight with.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPalette, QPixmap, QTextLayout, QTextLine, QTextOption
from PySide6.QtWidgets import (
    QAbstractButton,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QStyleOption,
    QVBoxLayout,
    QWidget,
)

from kiosk import i18n
from ui import icons
from ui.theme import INK_PAD, LINE_GAP, Theme, ink_extents, is_tall, line_ink

_TIBETAN = re.compile("[\u0f00-\u0fff]")
_UNBOUNDED = 16_777_215  # QWIDGETSIZE_MAX: "one line, as long as it needs"


class _Lines:
    """Plain text laid out at one width on ink-fitted lines: each line gets the room its glyphs
    reach (at least the font's typical Tibetan ink), LINE_GAP between lines, INK_PAD around."""

    def __init__(self, text: str, font, width: int, align: Qt.AlignmentFlag) -> None:
        self.layout = QTextLayout(text, font)
        option = QTextOption(align & Qt.AlignHorizontal_Mask)
        option.setWrapMode(QTextOption.WordWrap)  # as QLabel: never inside a syllable
        self.layout.setTextOption(option)
        lines: list[QTextLine] = []
        self.layout.beginLayout()
        while (line := self.layout.createLine()).isValid():
            line.setLineWidth(max(1, width))
            lines.append(line)
        self.layout.endLayout()
        px = font.pixelSize() if font.pixelSize() > 0 else font.pointSizeF() * 96 / 72
        typical_above, typical_below = ink_extents(font)
        pad, gap = INK_PAD * px, LINE_GAP * px
        top = pad  # where this line's ink may start: below the previous line's ink and the gap
        bottom = pad + typical_above + typical_below  # an empty label is one line high
        for line in lines:
            above, below = line_ink(line)
            baseline = top + max(above, typical_above)
            line.setPosition(QPointF(0, baseline - line.ascent()))
            bottom = baseline + max(below, typical_below)
            top = bottom + gap
        self.height = bottom + pad

    def glyph_box(self) -> QRectF:
        """The union of every drawn glyph's own box (what a test checks is inside the label)."""
        box = QRectF()
        for i in range(self.layout.lineCount()):
            for run in self.layout.lineAt(i).glyphRuns():
                raw = run.rawFont()
                for index, pos in zip(run.glyphIndexes(), run.positions(), strict=True):
                    glyph = raw.boundingRect(index)
                    if not glyph.isEmpty():
                        box = box.united(glyph.translated(pos))
        return box


class Label(QLabel):
    """A word-wrapped label with a font role; `role` is read by apply_fonts (and `lang`, when the
    words are in a language other than the screen's, e.g. the language button's).

    Text in a font with a tall, mostly empty line box (Tibetan), or text with Tibetan letters in
    it, is laid out and painted here on ink-fitted lines (_Lines); other text is QLabel's own.
    `ink_centre` centres a one-line text's ink rather than its line box (icon beside a word)."""

    def __init__(self, text: str = "", role: str = "body", parent: QWidget | None = None,
                 align: Qt.AlignmentFlag = Qt.AlignLeft | Qt.AlignVCenter) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setProperty("role", role)
        self.setAlignment(align)
        self.setTextFormat(Qt.PlainText)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)
        self.ink_centre = False
        self._fitted: dict[tuple, _Lines] = {}

    def fitted(self) -> bool:
        """True when this label sets its text on ink-fitted lines."""
        return self.wordWrap() and (is_tall(self.font()) or bool(_TIBETAN.search(self.text())))

    def _lines(self, width: int) -> _Lines:
        key = (self.text(), self.font().key(), width, int(self.alignment()))
        lines = self._fitted.get(key)
        if lines is None:
            if len(self._fitted) > 16:
                self._fitted.clear()
            lines = self._fitted[key] = _Lines(self.text(), self.font(), width, self.alignment())
        return lines

    def _side(self) -> int:
        """Room left and right of fitted text for ink that reaches past the glyphs' advances."""
        lines = self._lines(_UNBOUNDED)
        ink = lines.glyph_box()
        if ink.isEmpty():
            return 0
        return max(0, math.ceil(-ink.left()), math.ceil(ink.right() - lines.layout.lineAt(0).naturalTextWidth()))

    def _frame(self) -> tuple[int, int]:
        """Horizontal and vertical room taken by margins around the text."""
        m = self.contentsMargins()
        return m.left() + m.right() + 2 * (self.margin() + self._side()), m.top() + m.bottom() + 2 * self.margin()

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt API)
        if not self.fitted():
            return super().heightForWidth(width)
        dx, dy = self._frame()
        return int(self._lines(width - dx).height + 0.999) + dy

    def sizeHint(self) -> QSize:  # noqa: N802
        if not self.fitted():
            return super().sizeHint()
        width = super().sizeHint().width() + 2 * self._side()
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        if not self.fitted():
            return super().minimumSizeHint()
        width = super().minimumSizeHint().width() + 2 * self._side()
        return QSize(width, min(self.heightForWidth(_UNBOUNDED), self.sizeHint().height()))

    def _origin(self) -> tuple[QPointF, _Lines]:
        m, side = self.margin(), self._side()
        r = self.contentsRect().adjusted(m + side, m, -m - side, -m)
        lines = self._lines(r.width())
        v = self.alignment() & Qt.AlignVertical_Mask
        if self.ink_centre and lines.layout.lineCount() == 1:
            ink = lines.glyph_box()
            if not ink.isEmpty():
                return QPointF(r.left(), r.top() + (r.height() - ink.height()) / 2 - ink.top()), lines
        if v & Qt.AlignTop:
            top = r.top()
        elif v & Qt.AlignBottom:
            top = r.bottom() + 1 - lines.height
        else:
            top = r.top() + (r.height() - lines.height) / 2
        return QPointF(r.left(), top), lines

    def ink_rect(self) -> QRectF:
        """Where this label's glyphs land, in its own coordinates (fitted labels only)."""
        origin, lines = self._origin()
        return lines.glyph_box().translated(origin)

    def paintEvent(self, event) -> None:  # noqa: N802
        if not self.fitted():
            super().paintEvent(event)
            return
        origin, lines = self._origin()
        p = QPainter(self)
        group = QPalette.Active if self.isEnabled() else QPalette.Disabled
        p.setPen(self.palette().color(group, self.foregroundRole()))
        lines.layout.draw(p, origin)


class IconLabel(QLabel):
    """An icon drawn at a size given in dp (re-drawn when the theme changes)."""

    def __init__(self, name: str, size_dp: float = 60, colour: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.icon_name, self.size_dp, self.colour = name, size_dp, colour
        self.setProperty("icon", True)
        self.setAlignment(Qt.AlignCenter)

    def set_icon(self, name: str, colour: str | None = None) -> None:
        self.icon_name = name
        if colour:
            self.colour = colour
        if getattr(self, "_theme", None):
            self.apply_theme(self._theme)

    def apply_theme(self, theme: Theme, colour: str | None = None) -> None:
        self._theme = theme
        px = theme.dp(self.size_dp * theme.scale)
        self.setPixmap(icons.pixmap(self.icon_name, px, self.colour or colour or theme.colour("text")))
        self.setFixedSize(px, px)


class BigButton(QAbstractButton):
    """Icon + word(s), at least 60x60 dp; kind "primary" / "normal" / "bar"; wraps long words."""

    def __init__(self, icon: str | None, text: str = "", kind: str = "normal", parent: QWidget | None = None,
                 vertical: bool = False, icon_dp: float = 56) -> None:
        super().__init__(parent)
        self.setProperty("kind", kind)
        self.setProperty("selected", False)
        self.setCursor(Qt.PointingHandCursor)
        self.setFocusPolicy(Qt.StrongFocus)
        lay = QVBoxLayout(self) if vertical else QHBoxLayout(self)
        if vertical:  # icon and words together in the middle of a tall tile
            lay.addStretch(1)
        self.icon = IconLabel(icon, icon_dp) if icon else None
        if self.icon:
            self.icon.setAttribute(Qt.WA_TransparentForMouseEvents)
            lay.addWidget(self.icon, 0, Qt.AlignCenter)
        self.label = Label(text, "button", align=Qt.AlignCenter if vertical else Qt.AlignLeft | Qt.AlignVCenter)
        self.label.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.label.ink_centre = True  # the word's ink level with the icon, whatever its script
        lay.addWidget(self.label, 0 if vertical else 1)
        if vertical:
            lay.addStretch(1)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        self.label.setText(text)
        super().setText(text)

    def text(self) -> str:
        return self.label.text()

    def set_selected(self, on: bool) -> None:
        self.setProperty("selected", on)
        self.style().unpolish(self)
        self.style().polish(self)

    min_width_dp = 0.0  # set for a button that must stand out (the idle overlay's one button)
    min_height_dp = 60.0  # answers to a question (choices, +/-) are made taller than this
    margin_dp = 14.0  # above and below icon and words; the bars' buttons use less (their height is the screen's)

    def apply_theme(self, theme: Theme) -> None:
        m = theme.dp(14 * theme.scale)
        v = theme.dp(self.margin_dp * theme.scale)
        self.layout().setContentsMargins(m, v, m, v)
        self.layout().setSpacing(m)
        side = theme.control_px()
        self.setMinimumSize(max(side, theme.dp(self.min_width_dp * theme.scale)),
                            max(side, theme.control_px(self.min_height_dp)))
        if self.icon:
            kind = self.property("kind")
            light = kind in ("primary", "bar")
            self.icon.apply_theme(theme, theme.colour("on_primary") if light else theme.colour("text"))

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.layout().sizeHint().expandedTo(self.minimumSize())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.layout().minimumSize().expandedTo(self.minimumSize())

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, w: int) -> int:  # noqa: N802
        return max(self.layout().totalHeightForWidth(w), self.minimumHeight())

    def paintEvent(self, event) -> None:  # noqa: N802
        opt = QStyleOption()
        opt.initFrom(self)
        p = QPainter(self)
        self.style().drawPrimitive(QStyle.PE_Widget, opt, p, self)


class Banner(QFrame):
    """A message with an icon and words: state "info" (the icon given), "ok" (check), "warn"
    (triangle), "error" (cross); `icon` names a more telling one (a printer with a fault mark)."""

    _ICON = {"info": "document", "ok": "check", "warn": "warning", "error": "cross"}

    def __init__(self, parent: QWidget | None = None, icon_dp: float = 56) -> None:
        super().__init__(parent)
        self.setObjectName("Banner")
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        lay = QHBoxLayout(self)
        self.icon = IconLabel("warning", icon_dp, "#FFFFFF")
        self.text = Label("", "body")
        lay.addWidget(self.icon, 0, Qt.AlignVCenter)
        lay.addWidget(self.text, 1)
        self.hide()

    def show_message(self, state: str, text: str, icon: str | None = None) -> None:
        self.setProperty("state", state)
        self.icon.set_icon(icon or self._ICON[state])
        self.text.setText(text)
        self.style().unpolish(self)
        self.style().polish(self)
        self.show()


class Keypad(QWidget):
    """A big on-screen keypad (no OS keyboard on a kiosk): the entry shown large beside the keys.

    Digits sit in the familiar phone layout with Delete and Clear beside them; `decimal` adds a
    point (areas, amounts); `letters` adds A-Z (certificate numbers) in columns to the right, so
    the keys stay four rows high and fit a screen under a two-line Tibetan question.
    """

    changed = Signal(str)

    LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"

    def __init__(self, letters: bool = False, decimal: bool = False, max_length: int = 18,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.max_length = max_length
        self._value = ""
        lay = QHBoxLayout(self)
        self.side = QVBoxLayout()
        self.display = Label("_", "number", align=Qt.AlignCenter)
        self.display.setObjectName("KeypadDisplay")
        self.side.addWidget(self.display)
        self.side.addStretch(1)
        lay.addLayout(self.side, 2)
        grid = QGridLayout()
        lay.addLayout(grid, 3 if letters else 2)
        self.keys: dict[str, BigButton] = {}
        rows = ["123", "456", "789", ("." if decimal else "") + "0"]
        for r, row in enumerate(rows):
            for c, ch in enumerate(row):
                self._key(grid, ch, r, c + (1 if row == "0" else 0))
        self.delete = BigButton("back", "", vertical=True)
        self.delete.setObjectName("key_delete")
        self.delete.clicked.connect(self.backspace)
        self.clear_btn = BigButton("cross", "", vertical=True)
        self.clear_btn.setObjectName("key_clear")
        self.clear_btn.clicked.connect(self.clear)
        grid.addWidget(self.delete, 0, 3, 2, 1)
        grid.addWidget(self.clear_btn, 2, 3, 2, 1)
        if letters:
            for i, ch in enumerate(self.LETTERS):
                self._key(grid, ch, i // 6, 4 + i % 6)
        for c in range(grid.columnCount()):
            grid.setColumnStretch(c, 1)

    def add_side(self, widget: QWidget) -> None:
        """A widget (the field's hint) above the entry, beside the keys."""
        self.side.insertWidget(0, widget)

    def _key(self, grid: QGridLayout, ch: str, row: int, col: int) -> None:
        b = BigButton(None, ch, vertical=True)
        b.label.setProperty("role", "key")
        b.setObjectName(f"key_{ch}")
        b.clicked.connect(lambda _=False, c=ch: self.press(c))
        grid.addWidget(b, row, col)
        self.keys[ch] = b

    def retranslate(self, tr) -> None:
        self.delete.setText(tr("delete"))
        self.clear_btn.setText(tr("clear"))

    @property
    def value(self) -> str:
        return self._value

    def set_value(self, value: str) -> None:
        self._value = value[: self.max_length]
        self._show()

    def press(self, ch: str) -> None:
        if len(self._value) < self.max_length:
            self._value += ch
            self._show()

    def backspace(self) -> None:
        self._value = self._value[:-1]
        self._show()

    def clear(self) -> None:
        self._value = ""
        self._show()

    def _show(self) -> None:
        v = self._value
        # 3-4-4 grouping reads back like a phone number is said aloud
        shown = f"{v[:3]} {v[3:7]} {v[7:]}".strip() if v.isdigit() and len(v) > 3 else v
        self.display.setText(shown or "_")
        self.changed.emit(self._value)


def clear_layout(layout: QLayout) -> None:
    """Empty a layout now: its widgets leave the window at once (personal data must not linger
    until the next event-loop turn) and are deleted later; nested layouts likewise."""
    while layout.count():
        item = layout.takeAt(0)
        w = item.widget()
        if w is not None:
            w.hide()
            w.setParent(None)
            w.deleteLater()
        elif item.layout() is not None:
            clear_layout(item.layout())
            item.layout().deleteLater()


class Pager(QWidget):
    """Rows shown a page at a time: as many whole rows as fit the height it is given and, only when
    they do not all fit, big "previous page" / "next page" buttons with "1 / 2" between them.

    The pager asks for no height of its own (the screen gives it the stretch): it never pushes the
    window taller. `expand` lets rows grow into spare height up to their maximum (tiles). A row with
    the property "keep_with_next" (a heading) never ends a page."""

    def __init__(self, spacing: int = 8, expand: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Pager")
        self.rows: list[QWidget] = []
        self.page = 0
        self.pages: list[range] = [range(0)]
        self.expand = expand
        self._paginating = self._again = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.body = QVBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(spacing)
        outer.addLayout(self.body, 1)
        self.nav = QWidget()
        nav = QHBoxLayout(self.nav)
        nav.setContentsMargins(0, 0, 0, 0)
        # page buttons look unlike the flow's own (Back, Next: sideways arrows, blue)
        self.prev_btn = BigButton("page_previous", "")
        self.prev_btn.setObjectName("page_previous")
        self.prev_btn.clicked.connect(lambda: self.show_page(self.page - 1))
        self.page_label = Label("", "number", align=Qt.AlignCenter)
        self.page_label.setObjectName("page_number")
        self.next_btn = BigButton("page_next", "")
        self.next_btn.setObjectName("page_next")
        self.next_btn.clicked.connect(lambda: self.show_page(self.page + 1))
        nav.addWidget(self.prev_btn, 2)
        nav.addWidget(self.page_label, 1)
        nav.addWidget(self.next_btn, 2)
        outer.addWidget(self.nav)
        self.nav.hide()
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Ignored)

    def retranslate(self, lang: str) -> None:
        self.prev_btn.setText(i18n.tr("page_previous", lang))
        self.next_btn.setText(i18n.tr("page_next", lang))

    def set_rows(self, rows: Sequence[QWidget], style: Callable[[QWidget], None] | None = None) -> None:
        """Replace the rows (the old ones are deleted); `style` applies fonts before measuring."""
        clear_layout(self.body)
        self.rows = list(rows)
        for row in self.rows:
            row.hide()
            # a new widget counts as hidden until first shown, and a layout leaves hidden widgets out
            # of its height: mark the row's insides shown, so the row can be measured while it waits
            for inner in row.findChildren(QWidget):
                if not inner.testAttribute(Qt.WA_WState_ExplicitShowHide):
                    inner.setVisible(True)
            self.body.addWidget(row, 1 if self.expand else 0)
        self.body.addStretch(0 if self.expand else 1)  # spare height below the rows, not between them
        if style is not None:
            style(self)
        self.page = 0
        self.paginate()

    def clear(self) -> None:
        self.set_rows([])

    @staticmethod
    def _row_height(row: QWidget, width: int) -> int:
        # not minimumSizeHint: a wrapping label's minimum is its height at its (narrower) hint width
        h = row.heightForWidth(width) if row.hasHeightForWidth() else row.sizeHint().height()
        return max(h, row.minimumHeight())

    def paginate(self) -> None:
        """Split the rows into pages that fit the current height, then show the current page.

        Showing a row can resize the pager at once (a nested call): that call wins, and this one
        starts over with the new size rather than finish with the old one."""
        if self._paginating:
            self._again = True
            return
        self._paginating = True
        try:
            self._again, rounds = True, 0
            while self._again and rounds < 4:  # bounded: a size that keeps changing settles on the last
                self._again, rounds = False, rounds + 1
                self._paginate()
        finally:
            self._paginating = False

    def _paginate(self) -> None:
        width, height = self.width(), self.height()
        gap = self.body.spacing()
        heights = [self._row_height(r, width) for r in self.rows]
        if sum(heights) + gap * max(0, len(heights) - 1) <= height:
            self.pages = [range(len(self.rows))]
        else:
            nav = self.nav.sizeHint().height() if self.nav.isHidden() else self.nav.height()
            room = height - max(nav, self.nav.minimumSizeHint().height()) - self.layout().spacing()
            self.pages, start, used = [], 0, 0
            for i, h in enumerate(heights):
                if i > start and used + gap + h > room:
                    end = i
                    while end - 1 > start and self.rows[end - 1].property("keep_with_next"):
                        end -= 1  # a heading goes over with what it heads
                    self.pages.append(range(start, end))
                    start = end
                    used = sum(heights[start:i]) + gap * max(0, i - start - 1)
                used += h + (gap if i > start else 0)
            self.pages.append(range(start, len(self.rows)))
        self.show_page(self.page)

    def show_page(self, page: int) -> None:
        self.page = max(0, min(page, len(self.pages) - 1))
        shown = self.pages[self.page]
        for i, row in enumerate(self.rows):
            row.setVisible(i in shown)
        paged = len(self.pages) > 1
        self.nav.setVisible(paged)
        if paged:
            self.page_label.setText(f"{self.page + 1} / {len(self.pages)}")
            self.prev_btn.setEnabled(self.page > 0)
            self.next_btn.setEnabled(self.page + 1 < len(self.pages))

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt API): its height is whatever it is given
        return False

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.layout().sizeHint().width(), 0)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.layout().minimumSize().width(), 0)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.paginate()


class InfoPager(Pager):
    """A pager of info_rows whose labels share one column, as wide as the longest label needs and at
    most half the width: values line up, and a short label does not squeeze a long address."""

    LABEL_SHARE = 0.5

    def paginate(self) -> None:
        labels = [row.findChild(Label, "info_label") for row in self.rows]
        labels = [label for label in labels if label is not None]
        if labels:
            need = max(label.fontMetrics().horizontalAdvance(label.text()) + 2 * label._side() + 1
                       for label in labels)
            column = min(need, int(self.width() * self.LABEL_SHARE))
            for label in labels:
                label.setFixedWidth(column)
        super().paginate()


def info_rows(lines: Sequence[tuple[str, str, str]], theme: Theme, icon: str | None = None) -> list[QFrame]:
    """Label/value rows of a summary (for an InfoPager), (label, value, name of the value label) each,
    on alternating bands so the eye keeps a row across the gap between label and value. Rows touch:
    the bands separate them, spacing would only cost height a Tibetan summary does not have."""
    rows = []
    for i, (label, value, value_name) in enumerate(lines):
        row = QFrame()
        row.setObjectName("InfoRow")
        row.setProperty("band", i % 2 == 1)
        lay = QHBoxLayout(row)
        m = theme.dp(8)
        lay.setContentsMargins(m, theme.dp(4), m, theme.dp(4))
        lay.setSpacing(theme.dp(32))
        if icon:
            lay.addWidget(IconLabel(icon, 40), 0, Qt.AlignVCenter)
        words = Label(label, "body")
        words.setObjectName("info_label")
        lay.addWidget(words)
        shown = Label(value, "body")
        shown.setObjectName(value_name)
        lay.addWidget(shown, 1)
        rows.append(row)
    return rows


def show_frame(preview: QLabel, image: QImage) -> None:
    """A camera frame scaled into `preview`, in proportion; none before the preview has been laid out."""
    if preview.width() > 10:
        preview.setPixmap(QPixmap.fromImage(image).scaled(preview.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))


def scroll(widget: QWidget) -> QScrollArea:
    """Long content scrolls (with a wide scroll bar) instead of being squeezed or clipped."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    return area


def apply_fonts(root: QWidget, theme: Theme, lang: str) -> None:
    """Set every label's font (family per language, size per role) and every button's size."""
    for w in [root, *root.findChildren(QWidget)]:
        if isinstance(w, QLabel) and not w.property("icon"):
            w.setFont(theme.font(w.property("lang") or lang, w.property("role") or "body"))
        elif isinstance(w, IconLabel) and not isinstance(w.parent(), BigButton):
            w.apply_theme(theme)
        if isinstance(w, BigButton):
            w.apply_theme(theme)
    for w in [root, *root.findChildren(QWidget)]:
        if w.layout() is not None:
            w.layout().invalidate()
        w.updateGeometry()
