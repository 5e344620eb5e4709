"""A date as three big +/- counters (year, month, day): no typing, no calendar to decode."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QWidget

from ui.widgets.buttons import BigButton
from ui.widgets.labels import Label

ANSWER_DP = 130  # choice and +/- buttons: the answer to the one question on the page, so big


class DateEntry(QWidget):
    """Year / month / day, each with big - and + buttons: no typing, no calendar to decode."""

    def __init__(self, value: str, on_change: Callable[[str], None], tr: Callable[[str], str]) -> None:
        super().__init__()
        try:
            d = date.fromisoformat(value)
        except ValueError:
            d = date.today()
        self.parts = [d.year, d.month, d.day]
        self.on_change = on_change
        grid = QGridLayout(self)
        self.values: list[Label] = []
        for col, key in enumerate(("year", "month", "day")):
            grid.addWidget(Label(tr(key), "title", align=Qt.AlignCenter), 0, col)
            plus = BigButton("plus", "", vertical=True)
            plus.min_height_dp = ANSWER_DP
            plus.setObjectName(f"date_{key}_plus")
            plus.clicked.connect(lambda _=False, i=col: self._bump(i, 1))
            value = Label("", "number", align=Qt.AlignCenter)
            minus = BigButton("minus", "", vertical=True)
            minus.min_height_dp = ANSWER_DP
            minus.setObjectName(f"date_{key}_minus")
            minus.clicked.connect(lambda _=False, i=col: self._bump(i, -1))
            grid.addWidget(plus, 1, col)
            grid.addWidget(value, 2, col)
            grid.addWidget(minus, 3, col)
            self.values.append(value)
        self._show()

    def _bump(self, i: int, delta: int) -> None:
        y, m, d = self.parts
        if i == 0:
            y += delta
        elif i == 1:
            m = (m - 1 + delta) % 12 + 1
        else:
            d += delta
        d = max(1, min(d, calendar.monthrange(y, m)[1]))  # within the month: 31 -> 30 / 28, never 0
        self.parts = [y, m, d]
        self._show()

    def value(self) -> str:
        y, m, d = self.parts
        return f"{y:04d}-{m:02d}-{d:02d}"

    def _show(self) -> None:
        for label, v in zip(self.values, self.parts, strict=True):
            label.setText(str(v))
        self.on_change(self.value())
