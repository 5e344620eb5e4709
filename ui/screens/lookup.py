"""Lookup results: each application's progress steps, or a resident's payment records (ui.screens.payments_answer),
with icons and words, spoken; an offline answer says how old it is; no answer says where to go.

A long answer is shown a page at a time (Pager, big page buttons): elderly residents do not scroll.
Each application, and each month of payments, is one row of the pager, so its tracking number and its
steps are always on the same page."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from kiosk import wire
from ui.screens import payments_answer
from ui.screens.finishing import FinishingScreen
from ui.widgets.banner import Banner
from ui.widgets.labels import IconLabel, Label
from ui.widgets.pager import Pager

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost

# The steps a resident sees, in order; the last one is whichever final state was reached.
_PATH = (wire.STATUS_QUEUED, wire.STATUS_RECEIVED, wire.STATUS_IN_REVIEW)
# Flow.lookup_error -> the words (a catalog key, also spoken) when there is no answer to show.
_ERROR_WORDS = {"unsupported": "lookup_unsupported", "needs_card": "payments_need_card",
                "payments_unreachable": "payments_unreachable", "edge_unavailable": "edge_unavailable",
                "rate_limited": "lookup_failed"}  # "try again later": the edge's per-kiosk limit


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


class LookupScreen(FinishingScreen):
    name = "lookup"
    prompt_id = "lookup_result"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self.body = Pager(spacing=host.theme.dp(12))
        self.root.addWidget(self.body, 1)
        self.add_finish_button()
        self.busy = False
        self.as_of: Banner | None = None  # the "as of" line of an offline answer, when shown
        host.looked_up.connect(self._done)

    def enter(self, **kwargs: Any) -> None:
        super().enter(**kwargs)
        flow = self.host.session.flow
        if flow is not None and flow.lookup_result is None and not self.busy:
            self.busy = True
            self.host.run_lookup()

    def current_prompt_id(self) -> str:
        flow = self.host.session.flow
        if flow is None:
            return self.prompt_id
        if flow.lookup_result is None and flow.lookup_error:
            return _ERROR_WORDS.get(flow.lookup_error, "lookup_failed")
        if flow.lookup_offline:
            return "lookup_offline"
        return payments_answer.default_prompt(flow) if payments_answer.is_payments(flow) else self.prompt_id

    def speak(self) -> None:
        flow = self.host.session.flow
        if flow is None or (flow.lookup_result is None and not flow.lookup_error):
            return  # the result's arrival speaks
        extra = ""
        # A synthetic voice reads the resident's own answer (Tibetan: tracking numbers digit by digit).
        if flow.lookup_result is not None and payments_answer.is_payments(flow):
            if self.lang == "zh":
                extra = payments_answer.spoken_extra(flow, self.lang, local_time(flow.lookup_as_of or ""))
        elif flow.lookup_result is not None:
            stop, comma = ("。", "，") if self.lang == "zh" else ("། ", "། ")
            extra = stop.join(f"{a.get('tracking_number', '')}{comma}{self.tr('status_' + a.get('status', 'unknown'))}"
                              for a in flow.lookup_result.get("applications") or [])
        self.host.speaker.prompt(self.current_prompt_id(), self.lang, extra=extra)

    def retranslate(self) -> None:
        super().retranslate()
        self.body.retranslate(self.lang)
        self.as_of = None
        flow = self.host.session.flow
        if flow is None:
            self.body.clear()
            return
        self.body.set_rows(self._rows(flow), self.restyle)

    def _rows(self, flow: Any) -> list[QWidget]:
        """The pager's rows: what the answer says, most important first."""
        result = flow.lookup_result
        if result is None:
            if not flow.lookup_error:
                return [Label("…", "title")]
            # the prompt above says what happened; the icon says "the counter" (or "your card")
            row = QWidget()
            lay = QHBoxLayout(row)
            lay.addWidget(IconLabel("people" if flow.lookup_error != "needs_card" else "card", 160), 0, Qt.AlignCenter)
            return [row]
        self.banner.hide()
        payments = payments_answer.is_payments(flow)
        rows: list[QWidget] = []
        if flow.lookup_offline:
            # the edge's copy: how old it is comes first, on the first page (not the screen's banner)
            # so a long Tibetan offline prompt above keeps its room in elder mode
            self.as_of = Banner(self.body)  # parented: never a window of its own
            key = "payments_offline" if payments else "lookup_offline"
            self.as_of.show_message("warn", self.tr(key, as_of=local_time(flow.lookup_as_of or "")))
            rows.append(self.as_of)
        if payments:
            return rows + payments_answer.build(flow, self.lang, self.host.theme)
        apps = result.get("applications") or []
        if not apps:
            rows.append(Label(self.tr("lookup_none"), "title"))
        return rows + [self._application(a) for a in apps]

    def _application(self, a: dict) -> QWidget:
        """One application's panel: what it is, its tracking number, then its steps side by side, left
        to right, as they follow each other: a whole application fits a page, even in elder mode."""
        box = QFrame()
        box.setObjectName("Panel")
        lay = QVBoxLayout(box)
        service = self.host.content.service(a.get("service_id", ""))
        title = service.title.get(self.lang) if service else a.get("service_id", "")
        lay.addWidget(Label(title, "title"))
        num = Label(f"{self.tr('tracking_number')}: {a.get('tracking_number', '')}", "body")
        num.setObjectName("lookup_tracking")
        lay.addWidget(num)
        steps = QHBoxLayout()
        steps.setSpacing(self.host.theme.dp(16))
        for status, state in status_steps(a.get("status", "")):
            icon = {"done": "check", "current": "next", "todo": "clock"}[state]
            if state == "current" and status in (wire.STATUS_REJECTED, wire.STATUS_UNDELIVERABLE):
                icon = "cross"
            steps.addWidget(IconLabel(icon, 48), 0, Qt.AlignVCenter)
            words = Label(self.tr(f"status_{status}"), "title" if state == "current" else "body")
            if state == "current":
                words.setObjectName("lookup_status")
            steps.addWidget(words, 1)
        lay.addLayout(steps)
        return box

    def wipe(self) -> None:
        super().wipe()
        self.retranslate()  # with no flow: nothing shown

    def _done(self) -> None:
        self.busy = False
        if self.host.is_current(self):
            self.show_news()
