"""The base of a flow's last screen (a receipt, a lookup's answer): one big Finish button ends the visit."""

from __future__ import annotations

from ui.screens.base import Screen
from ui.widgets.buttons import BigButton


class FinishingScreen(Screen):
    """The last screen of a flow (a receipt, a lookup's answer): one big Finish button ends the visit,
    and so does the bar's Back, as there is nothing left to go back to."""

    def add_finish_button(self) -> None:
        self.finish_btn = BigButton("check", "", kind="primary")
        self.finish_btn.setObjectName("finish")
        self.finish_btn.clicked.connect(self._finish)
        self.root.addWidget(self.finish_btn)
        self.bind(self.finish_btn, "finish")

    def show_news(self) -> None:
        """Something arrived while the resident waits (an answer, the printer's word): show it, say it."""
        self.retranslate()
        self.speak()

    def _finish(self) -> None:
        self.host.session.touch()
        self.host.finish_flow()

    def go_back(self) -> None:
        self._finish()
