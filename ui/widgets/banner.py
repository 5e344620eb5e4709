"""A message line with an icon that says its state (colour is never the only cue)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QSizePolicy, QWidget

from ui.widgets.labels import IconLabel, Label


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
