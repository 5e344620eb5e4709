"""Confirm: the summary read back (and spoken, in Chinese) before the application is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout

from ui.screens.base import Screen
from ui.widgets.buttons import BigButton
from ui.widgets.pager import InfoPager, info_rows

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost


class ConfirmScreen(Screen):
    """The summary read back (and spoken) under the prompt; a page at a time if it is that long."""

    name = "confirm"
    prompt_id = "confirm"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self.rows = InfoPager(spacing=0)
        self.root.addWidget(self.rows, 1)
        row = QHBoxLayout()
        self.change_btn = BigButton("back", "")
        self.change_btn.setObjectName("change")
        self.change_btn.clicked.connect(self._change)
        self.ok_btn = BigButton("check", "", kind="primary")
        self.ok_btn.setObjectName("confirm")
        self.ok_btn.clicked.connect(self._confirm)
        row.addWidget(self.change_btn)
        row.addWidget(self.ok_btn)
        self.root.addLayout(row)
        self.bind(self.change_btn, "confirm_change")
        self.bind(self.ok_btn, "confirm_yes")

    def retranslate(self) -> None:
        super().retranslate()
        self.rows.retranslate(self.lang)
        flow = self.host.session.flow
        if flow is None:
            self.rows.clear()
            return
        # the prompt above already asks "is this right?": every line below it is the resident's
        lines = [(x.label, x.value, f"summary_{x.field_id or 'extra'}") for x in flow.summary(self.lang)]
        self.rows.set_rows(info_rows(lines, self.host.theme), self.restyle)

    def wipe(self) -> None:
        super().wipe()
        self.retranslate()  # with no flow: an empty summary

    def speak(self) -> None:
        flow = self.host.session.flow
        extra = "。".join(f"{x.label}，{x.value}" for x in flow.summary("zh")) if flow and self.lang == "zh" else ""
        self.host.speaker.prompt("confirm", self.lang, extra=extra)

    def _confirm(self) -> None:
        self.host.session.touch()
        errors = self.host.session.flow.confirm()
        if errors:
            self.host.go("form", field_id=errors[0].field_id, error=errors[0].message_key)
            return
        self.host.show_flow_step()

    def _change(self) -> None:
        self.host.session.touch()
        flow = self.host.session.flow
        while flow.kind != "form" and flow.back():
            pass
        self.host.show_flow_step()

    def go_back(self) -> None:
        self.host.flow_back()
