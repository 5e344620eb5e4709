"""The idle warning: covers the screen with a countdown and ONE big "I need more time" button."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from ui.widgets.buttons import BigButton
from ui.widgets.labels import IconLabel, Label


class IdleOverlay(QFrame):
    def __init__(self, parent: QWidget, on_extend: Any) -> None:
        super().__init__(parent)
        self.setObjectName("Overlay")
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        self.icon = IconLabel("clock", 140, "#FFFFFF")
        lay.addWidget(self.icon, 0, Qt.AlignCenter)
        self.text = Label("", "title", align=Qt.AlignCenter)
        self.text.setObjectName("idle_text")
        lay.addWidget(self.text)
        self.count = Label("", "number", align=Qt.AlignCenter)
        self.count.setProperty("role", "number")
        self.count.setObjectName("idle_count")
        lay.addWidget(self.count)
        self.extend_btn = BigButton("plus", "", kind="primary", vertical=True, icon_dp=100)
        self.extend_btn.setObjectName("need_more_time")
        self.extend_btn.min_width_dp = 900
        self.extend_btn.clicked.connect(on_extend)
        lay.addWidget(self.extend_btn, 0, Qt.AlignCenter)
        lay.addStretch(1)
        self.hide()

    def update_text(self, text: str, seconds: int, button: str) -> None:
        self.text.setText(text)
        self.count.setText(str(seconds))
        self.extend_btn.setText(button)

    def cover(self) -> None:
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()
