"""Layout helpers: empty a layout at once, let long content scroll."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLayout, QScrollArea, QWidget


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
