"""The date answer on a form: big +/- buttons never produce a date that does not exist."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ui.widgets.buttons import BigButton
from ui.widgets.date_entry import DateEntry


def _entry(qtbot, value: str):
    seen: list[str] = []
    entry = DateEntry(value, seen.append, lambda key: key)
    qtbot.addWidget(entry)
    entry.show()
    qtbot.waitExposed(entry)
    return entry, seen


def _tap(qtbot, entry, name: str) -> None:
    qtbot.mouseClick(entry.findChild(BigButton, name), Qt.LeftButton)


def test_day_minus_on_the_first_stays_on_the_first(qtbot):
    entry, seen = _entry(qtbot, "2024-03-01")
    _tap(qtbot, entry, "date_day_minus")
    assert entry.value() == "2024-03-01" and seen[-1] == "2024-03-01"


def test_changing_month_or_year_keeps_the_day_inside_the_month(qtbot):
    entry, seen = _entry(qtbot, "2024-03-31")
    _tap(qtbot, entry, "date_month_minus")
    assert entry.value() == "2024-02-29"  # leap year
    _tap(qtbot, entry, "date_year_plus")
    assert entry.value() == "2025-02-28"
    _tap(qtbot, entry, "date_day_plus")
    assert entry.value() == "2025-02-28"  # no 29 February in 2025
    assert seen[-1] == entry.value()
