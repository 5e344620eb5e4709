"""Feedback after each session: five big faces and a few reason buttons, then thanks and a clean slate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from ui.screens.base import Screen
from ui.widgets.buttons import BigButton

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost

REASONS = ("reason_helpful", "reason_too_slow", "reason_hard_to_use", "reason_cannot_read", "reason_device_problem")
THANKS_MS = 4000


class FeedbackScreen(Screen):
    name = "feedback"
    prompt_id = "feedback"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        body = QWidget()
        body_lay = QVBoxLayout(body)
        faces = QHBoxLayout()
        self.faces: list[BigButton] = []
        for rating in range(1, 6):
            b = BigButton(f"face_{rating}", "", vertical=True, icon_dp=140)
            b.setObjectName(f"rating_{rating}")
            b.clicked.connect(lambda _=False, r=rating: self._rate(r))
            faces.addWidget(b)
            self.bind(b, f"rating_{rating}")
            self.faces.append(b)
        body_lay.addLayout(faces)
        grid = QGridLayout()
        self.reasons: dict[str, BigButton] = {}
        for i, key in enumerate(REASONS):
            b = BigButton(None, "")
            b.setObjectName(key)
            b.clicked.connect(lambda _=False, k=key: self._toggle(k))
            grid.addWidget(b, i // 3, i % 3)
            self.bind(b, key)
            self.reasons[key] = b
        body_lay.addLayout(grid)
        body_lay.addStretch(1)
        self.root.addWidget(body, 1)  # it all fits: nothing here should hide below a scroll
        self.send_btn = BigButton("check", "", kind="primary")
        self.send_btn.setObjectName("send_feedback")
        self.send_btn.clicked.connect(self._send)
        self.root.addWidget(self.send_btn)
        self.bind(self.send_btn, "send_feedback")
        self.rating: int | None = None
        self.chosen: set[str] = set()
        self.service_id: str | None = None
        self._thanks = QTimer(self)
        self._thanks.setSingleShot(True)
        self._thanks.timeout.connect(lambda: self.host.session.end("done"))

    def enter(self, service_id: str | None = None, **kwargs: Any) -> None:
        self.service_id = service_id
        self.rating, self.chosen = None, set()
        for b in [*self.faces, *self.reasons.values()]:
            b.set_selected(False)
            b.setEnabled(True)
        self.send_btn.setEnabled(False)
        super().enter(**kwargs)

    def _rate(self, rating: int) -> None:
        self.host.session.touch()
        self.rating = rating
        for i, b in enumerate(self.faces, start=1):
            b.set_selected(i == rating)
        self.send_btn.setEnabled(True)

    def _toggle(self, key: str) -> None:
        self.host.session.touch()
        self.chosen ^= {key}
        self.reasons[key].set_selected(key in self.chosen)

    def _send(self) -> None:
        if self.rating is None:
            return
        self.host.send_feedback(self.rating, sorted(k.removeprefix("reason_") for k in self.chosen), self.service_id)
        for b in [*self.faces, *self.reasons.values(), self.send_btn]:
            b.setEnabled(False)
        self.prompt.setText(self.host.speaker.prompt("thanks", self.lang))
        self._thanks.start(THANKS_MS)

    def leave(self) -> None:
        self._thanks.stop()

    def go_back(self) -> None:
        self.host.session.end("done")
