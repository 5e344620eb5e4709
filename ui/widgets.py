"""The few widgets every screen is built from: wrapped labels, big icon+word buttons, keypads.

Text is never given a fixed height: labels word-wrap and report heightForWidth, so a Tibetan line
(about twice as tall as a Chinese one) gets the room it needs. Fonts are applied by role
("body", "button", "title", "key", "number") from ui.theme by `apply_fonts`, on every language switch.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPainter
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

from ui import icons
from ui.theme import Theme


class Label(QLabel):
    """A word-wrapped label with a font role; `role` is read by apply_fonts."""

    def __init__(self, text: str = "", role: str = "body", parent: QWidget | None = None,
                 align: Qt.AlignmentFlag = Qt.AlignLeft | Qt.AlignVCenter) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setProperty("role", role)
        self.setAlignment(align)
        self.setTextFormat(Qt.PlainText)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)


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
        self.icon = IconLabel(icon, icon_dp) if icon else None
        if self.icon:
            self.icon.setAttribute(Qt.WA_TransparentForMouseEvents)
            lay.addWidget(self.icon, 0, Qt.AlignCenter)
        self.label = Label(text, "button", align=Qt.AlignCenter if vertical else Qt.AlignLeft | Qt.AlignVCenter)
        self.label.setAttribute(Qt.WA_TransparentForMouseEvents)
        lay.addWidget(self.label, 1)
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

    def apply_theme(self, theme: Theme) -> None:
        m = theme.dp(14 * theme.scale)
        self.layout().setContentsMargins(m, m, m, m)
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
    """A message with an icon and a word: state "ok" (check), "warn" (triangle), "error" (cross)."""

    _ICON = {"ok": "check", "warn": "warning", "error": "cross"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Banner")
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        lay = QHBoxLayout(self)
        self.icon = IconLabel("warning", 56, "#FFFFFF")
        self.text = Label("", "body")
        lay.addWidget(self.icon, 0, Qt.AlignTop)
        lay.addWidget(self.text, 1)
        self.hide()

    def show_message(self, state: str, text: str) -> None:
        self.setProperty("state", state)
        self.icon.set_icon(self._ICON[state])
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
            w.setFont(theme.font(lang, w.property("role") or "body"))
        elif isinstance(w, IconLabel) and not isinstance(w.parent(), BigButton):
            w.apply_theme(theme)
        if isinstance(w, BigButton):
            w.apply_theme(theme)
    for w in [root, *root.findChildren(QWidget)]:
        if w.layout() is not None:
            w.layout().invalidate()
        w.updateGeometry()
