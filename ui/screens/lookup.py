"""Lookup results: each application's progress steps, or a resident's payment records (ui.screens.payments),
with icons and words, spoken; an offline answer says how old it is; no answer says where to go."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from kiosk import wire
from ui.screens import payments as payments_view
from ui.screens.base import Screen
from ui.widgets import Banner, BigButton, IconLabel, Label, clear_layout, scroll

# The steps a resident sees, in order; the last one is whichever final state was reached.
_PATH = (wire.STATUS_QUEUED, wire.STATUS_RECEIVED, wire.STATUS_IN_REVIEW)
# Flow.lookup_error -> the words (a catalog key, also spoken) when there is no answer to show.
_ERROR_WORDS = {"unsupported": "lookup_unsupported", "needs_card": "payments_need_card",
                "payments_unreachable": "payments_unreachable", "edge_unavailable": "edge_unavailable"}


def status_steps(status: str) -> list[tuple[str, str]]:
    """(status, "done" | "current" | "todo") for the progress line of one application."""
    if status == wire.STATUS_UNDELIVERABLE:  # stuck at the edge: staff must act, nothing else follows
        return [(wire.STATUS_QUEUED, "done"), (status, "current")]
    final = status if status in wire.FINAL_STATUSES else wire.STATUS_APPROVED
    order = [*_PATH, final]
    here = order.index(status) if status in order else 0
    return [(s, "done" if i < here else "current" if i == here else "todo") for i, s in enumerate(order)]


def local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return iso or "?"


class LookupScreen(Screen):
    name = "lookup"
    prompt_id = "lookup_result"

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.body = QWidget()
        self.body_lay = QVBoxLayout(self.body)
        self.root.addWidget(scroll(self.body), 1)
        self.finish_btn = BigButton("check", "", kind="primary")
        self.finish_btn.setObjectName("finish")
        self.finish_btn.clicked.connect(self._finish)
        self.root.addWidget(self.finish_btn)
        self.bind(self.finish_btn, "finish")
        self.busy = False
        self.as_of: Banner | None = None  # the "as of" line of an offline answer, when shown
        app.looked_up.connect(self._done)

    def enter(self, **kwargs: Any) -> None:
        super().enter(**kwargs)
        flow = self.app.session.flow
        if flow is not None and flow.lookup_result is None and not self.busy:
            self.busy = True
            self.app.run_lookup()

    def current_prompt_id(self) -> str:
        flow = self.app.session.flow
        if flow is None:
            return self.prompt_id
        if flow.lookup_result is None and flow.lookup_error:
            return _ERROR_WORDS.get(flow.lookup_error, "lookup_failed")
        if flow.lookup_offline:
            return "lookup_offline"
        return payments_view.default_prompt(flow) if payments_view.is_payments(flow) else self.prompt_id

    def speak(self) -> None:
        flow = self.app.session.flow
        if flow is None or (flow.lookup_result is None and not flow.lookup_error):
            return  # the result's arrival speaks
        extra = ""
        if flow.lookup_result is not None and self.lang == "zh":  # TTS reads the resident's own answer
            if payments_view.is_payments(flow):
                extra = payments_view.spoken_extra(flow, self.lang, local_time(flow.lookup_as_of or ""))
            else:
                extra = "。".join(f"{a.get('tracking_number', '')}，{self.tr('status_' + a.get('status', 'unknown'))}"
                                 for a in flow.lookup_result.get("applications") or [])
        self.app.speaker.prompt(self.current_prompt_id(), self.lang, extra=extra)

    def retranslate(self) -> None:
        super().retranslate()
        clear_layout(self.body_lay)
        self.as_of = None
        flow = self.app.session.flow
        if flow is None:
            return
        result = flow.lookup_result
        if result is None:
            if flow.lookup_error:  # the prompt above says what happened; the icon says "the counter"
                icon = "people" if flow.lookup_error != "needs_card" else "card"
                self.body_lay.addWidget(IconLabel(icon, 160), 0, Qt.AlignCenter)
            else:
                self.body_lay.addWidget(Label("…", "title"))
            self.body_lay.addStretch(1)
            self.app.restyle(self.body)
            return
        self.banner.hide()
        payments = payments_view.is_payments(flow)
        if flow.lookup_offline:
            # the edge's copy: how old it is comes first, in the scrolled body (not the screen's banner)
            # so a long Tibetan offline prompt above keeps its room in elder mode
            self.as_of = Banner()
            key = "payments_offline" if payments else "lookup_offline"
            self.as_of.show_message("warn", self.tr(key, as_of=local_time(flow.lookup_as_of or "")))
            self.body_lay.addWidget(self.as_of)
        if payments:
            for w in payments_view.build(self, flow):
                self.body_lay.addWidget(w)
        else:
            apps = result.get("applications") or []
            if not apps:
                self.body_lay.addWidget(Label(self.tr("lookup_none"), "title"))
            for a in apps:
                self.body_lay.addWidget(self._application(a))
        self.body_lay.addStretch(1)
        self.app.restyle(self.body)

    def _application(self, a: dict) -> QWidget:
        box = QFrame()
        box.setObjectName("Panel")
        lay = QVBoxLayout(box)
        service = self.app.content.service(a.get("service_id", ""))
        title = service.title.get(self.lang) if service else a.get("service_id", "")
        lay.addWidget(Label(title, "title"))
        num = Label(f"{self.tr('tracking_number')}: {a.get('tracking_number', '')}", "body")
        num.setObjectName("lookup_tracking")
        lay.addWidget(num)
        for status, state in status_steps(a.get("status", "")):
            row = QHBoxLayout()
            icon = {"done": "check", "current": "next", "todo": "clock"}[state]
            if state == "current" and status in (wire.STATUS_REJECTED, wire.STATUS_UNDELIVERABLE):
                icon = "cross"
            row.addWidget(IconLabel(icon, 48))
            words = Label(self.tr(f"status_{status}"), "title" if state == "current" else "body")
            words.setProperty("role", "title" if state == "current" else "body")
            if state == "current":
                words.setObjectName("lookup_status")
            row.addWidget(words, 1)
            lay.addLayout(row)
        return box

    def wipe(self) -> None:
        super().wipe()
        self.retranslate()  # with no flow: nothing shown

    def _done(self) -> None:
        self.busy = False
        if self.app.current_screen() is not self:
            return
        self.retranslate()
        self.speak()

    def _finish(self) -> None:
        self.app.session.touch()
        self.app.finish_flow()

    def go_back(self) -> None:
        self._finish()
