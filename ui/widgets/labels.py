"""Words and icons: a label that word-wraps and reports heightForWidth, and an icon sized in dp.

Text is never given a fixed height, so a Tibetan line gets the room it needs, and no more: Tibetan is
set on lines fitted to its ink (ui.theme), not on the font's mostly empty 2.8 x line box.
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPalette, QTextLayout, QTextLine, QTextOption
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from ui.theme import INK_PAD, LINE_GAP, Theme, ink_extents, is_tall, line_ink
from ui.widgets import icons

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
        self._box: QRectF | None = None

    def glyph_box(self) -> QRectF:
        """The union of every drawn glyph's own box (what a test checks is inside the label).
        Kept once measured: layout asks for it on every size hint, and the lines never change."""
        if self._box is None:
            self._box = self._measure_box()
        return QRectF(self._box)

    def _measure_box(self) -> QRectF:
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
