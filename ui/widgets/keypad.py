"""The on-screen keypad: digits, an optional point and letters, the entry shown large beside them."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from ui.widgets.buttons import BigButton
from ui.widgets.labels import Label


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
