"""Submitting: the application on its way to the edge; what to do when its answer was lost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout

from ui.screens.base import Screen
from ui.widgets.buttons import BigButton
from ui.widgets.labels import IconLabel

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost


class SubmittingScreen(Screen):
    """The edge call, off the GUI thread. Nobody leaves while it is in flight (its answer holds the
    tracking number); once its outcome is unknown the flow is frozen: "try again" with the same key,
    or the counter, where staff find the application if it did arrive."""

    name = "submitting"
    prompt_id = "submitting"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self.spinner = IconLabel("spinner", 160)
        self.root.addWidget(self.spinner, 1, Qt.AlignCenter)
        row = QHBoxLayout()
        self.counter_btn = BigButton("people", "")
        self.counter_btn.setObjectName("submit_counter")
        self.counter_btn.clicked.connect(self._counter)
        self.retry_btn = BigButton("repeat", "", kind="primary")
        self.retry_btn.setObjectName("retry_submit")
        self.retry_btn.clicked.connect(self._submit)
        row.addWidget(self.counter_btn)
        row.addWidget(self.retry_btn)
        self.root.addLayout(row)
        self.bind(self.retry_btn, "try_again")
        self.bind(self.counter_btn, "go_to_counter")
        self.busy = False
        self._message: tuple[str, str] | None = None  # (state, catalog key) of the banner, kept on a language switch
        host.submitted.connect(self._done)

    def enter(self, **kwargs: Any) -> None:
        super().enter(**kwargs)
        self._submit()

    def retranslate(self) -> None:
        super().retranslate()
        if self._message is not None and self.banner.isVisible():
            self._say(*self._message)

    def wipe(self) -> None:
        super().wipe()
        self.busy, self._message = False, None
        self.retry_btn.hide()
        self.counter_btn.hide()

    def _say(self, state: str, key: str) -> None:
        self._message = (state, key)
        self.banner.show_message(state, self.tr(key))
        self.restyle(self.banner)

    def _submit(self) -> None:
        if self.busy:
            return
        self.host.session.touch()
        self.busy = True
        self.retry_btn.hide()
        self.counter_btn.hide()
        self.banner.hide()
        self.spinner.show()
        self.host.run_submit()

    def please_wait(self) -> None:
        """Home or Back pressed while the application is on its way: say why nothing happens."""
        self._say("info", "submit_wait")
        self.host.speaker.prompt("submit_wait", self.lang)

    def _done(self, outcome: Any) -> None:
        self.busy = False
        if not self.host.is_current(self):
            return
        if outcome.ok:
            self.host.show_flow_step()
            return
        self.spinner.hide()
        flow = self.host.session.flow
        frozen = flow is not None and flow.outcome_unknown
        if outcome.error == "rejected":
            self._say("error", "submit_rejected")
        elif outcome.error == "storage_full":  # nothing stored, and trying again will not help: the counter
            self._say("error", "submit_storage_full")
            self.host.speaker.say(self.tr("submit_storage_full"), self.lang)
            frozen = True
        else:  # no answer: it may have been stored; the same idempotency key is reused on retry
            self._say("error", "submit_unknown")
            self.host.speaker.prompt("submit_unknown", self.lang)
            self.retry_btn.show()
        self.counter_btn.setVisible(frozen)

    def _counter(self) -> None:
        self.host.send_to_counter()

    def go_back(self) -> None:
        flow = self.host.session.flow
        if self.busy:
            self.please_wait()
        elif flow is not None and flow.outcome_unknown:
            self._say("error", "submit_unknown")  # frozen: only "try again" or the counter
        else:
            self.host.flow_back()
