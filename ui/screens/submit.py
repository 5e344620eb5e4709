"""Confirm (spoken summary), submitting (edge call off the GUI thread), result + receipt printing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout

from ui.screens.base import Screen
from ui.widgets import Banner, BigButton, IconLabel, InfoPager, Label, info_rows


def sentences(parts: list[str], lang: str) -> str:
    """Short messages as one text: Chinese ends each with 。, Tibetan and others are space-separated."""
    if lang != "zh":
        return " ".join(parts)
    return "".join(p if p.endswith(("。", "！", "？")) else f"{p}。" for p in parts)


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
        self.app.session.touch()
        self.app.finish_flow()

    def go_back(self) -> None:
        self._finish()


class ConfirmScreen(Screen):
    """The summary read back (and spoken) under the prompt; a page at a time if it is that long."""

    name = "confirm"
    prompt_id = "confirm"

    def __init__(self, app: Any) -> None:
        super().__init__(app)
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
        flow = self.app.session.flow
        if flow is None:
            self.rows.clear()
            return
        # the prompt above already asks "is this right?": every line below it is the resident's
        lines = [(x.label, x.value, f"summary_{x.field_id or 'extra'}") for x in flow.summary(self.lang)]
        self.rows.set_rows(info_rows(lines, self.app.theme), self.app.restyle)

    def wipe(self) -> None:
        super().wipe()
        self.retranslate()  # with no flow: an empty summary

    def speak(self) -> None:
        flow = self.app.session.flow
        extra = "。".join(f"{x.label}，{x.value}" for x in flow.summary("zh")) if flow and self.lang == "zh" else ""
        self.app.speaker.prompt("confirm", self.lang, extra=extra)

    def _confirm(self) -> None:
        self.app.session.touch()
        errors = self.app.session.flow.confirm()
        if errors:
            self.app.go("form", field_id=errors[0].field_id)
            self.app.screens["form"].banner.show_message("error", self.tr(errors[0].message_key))
            return
        self.app.show_flow_step()

    def _change(self) -> None:
        self.app.session.touch()
        flow = self.app.session.flow
        while flow.kind != "form" and flow.back():
            pass
        self.app.show_flow_step()

    def go_back(self) -> None:
        self.app.flow_back()


class SubmittingScreen(Screen):
    """The edge call, off the GUI thread. Nobody leaves while it is in flight (its answer holds the
    tracking number); once its outcome is unknown the flow is frozen: "try again" with the same key,
    or the counter, where staff find the application if it did arrive."""

    name = "submitting"
    prompt_id = "submitting"

    def __init__(self, app: Any) -> None:
        super().__init__(app)
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
        app.submitted.connect(self._done)

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
        self.app.restyle(self.banner)

    def _submit(self) -> None:
        if self.busy:
            return
        self.app.session.touch()
        self.busy = True
        self.retry_btn.hide()
        self.counter_btn.hide()
        self.banner.hide()
        self.spinner.show()
        self.app.run_submit()

    def please_wait(self) -> None:
        """Home or Back pressed while the application is on its way: say why nothing happens."""
        self._say("info", "submit_wait")
        self.app.speaker.prompt("submit_wait", self.lang)

    def _done(self, outcome: Any) -> None:
        self.busy = False
        if self.app.current_screen() is not self:
            return
        if outcome.ok:
            self.app.show_flow_step()
            return
        self.spinner.hide()
        flow = self.app.session.flow
        frozen = flow is not None and flow.outcome_unknown
        if outcome.error == "rejected":
            self._say("error", "submit_rejected")
        elif outcome.error == "storage_full":  # nothing stored, and trying again will not help: the counter
            self._say("error", "submit_storage_full")
            self.app.speaker.say(self.tr("submit_storage_full"), self.lang)
            frozen = True
        else:  # no answer: it may have been stored; the same idempotency key is reused on retry
            self._say("error", "submit_unknown")
            self.app.speaker.prompt("submit_unknown", self.lang)
            self.retry_btn.show()
        self.counter_btn.setVisible(frozen)

    def _counter(self) -> None:
        self.app.send_to_counter()

    def go_back(self) -> None:
        flow = self.app.session.flow
        if self.busy:
            self.please_wait()
        elif flow is not None and flow.outcome_unknown:
            self._say("error", "submit_unknown")  # frozen: only "try again" or the counter
        else:
            self.app.flow_back()


class ResultScreen(FinishingScreen):
    """Submitted: the application is safe (check), the tracking number big, and what happens with the
    receipt in a banner with its own icon — a printer fault is said with a printer-fault icon and
    words, not colour alone. All of it on one screen: nothing to scroll to."""

    name = "result"
    prompt_id = "receipt_printing"

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        head = QHBoxLayout()
        self.icon = IconLabel("check", 72)
        self.status_text = Label("", "title")
        self.status_text.setObjectName("result_status")
        head.addWidget(self.icon, 0, Qt.AlignVCenter)
        head.addWidget(self.status_text, 1)
        self.root.addLayout(head)
        number = QHBoxLayout()
        self.tracking_label = Label("", "body", align=Qt.AlignRight | Qt.AlignVCenter)
        self.tracking = Label("", "tracking", align=Qt.AlignLeft | Qt.AlignVCenter)
        self.tracking.setObjectName("tracking_number")
        number.addWidget(self.tracking_label, 2)
        number.addWidget(self.tracking, 5)
        self.root.addLayout(number)
        self.receipt = Banner(icon_dp=96)
        self.receipt_text = self.receipt.text
        self.receipt_text.setObjectName("receipt_status")
        self.root.addWidget(self.receipt)
        self.root.addStretch(1)
        self.add_finish_button()
        self.bind(self.tracking_label, "tracking_number")
        self.printing = False
        self._printer_status: Any = None  # the printer's Status when the receipt could not print
        app.bridge.printed.connect(self._printed)
        app.bridge.print_failed.connect(self._print_failed)

    def wipe(self) -> None:
        super().wipe()
        self.printing, self._printer_status = False, None
        self.retranslate()

    def enter(self, **kwargs: Any) -> None:
        flow = self.app.session.flow
        self._printer_status = None
        super().enter(**kwargs)
        if flow is not None and flow.tracking_number:
            self.app.mark_shown(flow.tracking_number)  # on screen now: the edge stops listing it for staff
        if flow is not None and flow.kind == "receipt" and flow.state == "active":
            self.printing = True
            self.app.print_receipt(flow.receipt_content(self.lang))

    def current_prompt_id(self) -> str:
        flow = self.app.session.flow
        if flow is None or flow.receipt_state is None:
            return "receipt_printing"
        if flow.receipt_state == "printed":
            return "receipt_taken"
        paper_out = self._printer_status is not None and self._printer_status.code == "paper_out"
        return "printer_no_paper" if paper_out else "need_help_counter"

    def speak(self) -> None:
        flow = self.app.session.flow
        if flow is not None and flow.submission is not None and flow.receipt_state is None:
            online = flow.submission.get("forwarded")
            self.app.speaker.prompt("submitted_online" if online else "submitted_offline", self.lang)
        else:
            super().speak()

    def retranslate(self) -> None:
        super().retranslate()
        flow = self.app.session.flow
        if flow is None or flow.submission is None:
            for label in (self.status_text, self.tracking, self.receipt_text):
                label.setText("")
            self.receipt.hide()
            return
        forwarded = bool(flow.submission.get("forwarded"))
        self.status_text.setText(self.tr("submitted_online" if forwarded else "submitted_offline"))
        self.tracking.setText(flow.tracking_number or "")
        if flow.receipt_state == "failed":  # the application is safe; only the paper did not come out
            reason = self._printer_words or self.tr("printer_unavailable")
            self.receipt.show_message("warn", sentences([reason, self.tr("job_kept"), self.tr("receipt_counter")],
                                                        self.lang), icon="printer_fault")
        elif flow.receipt_state == "printed":
            self.receipt.show_message("ok", self.tr("receipt_take"), icon="receipt")
        else:
            self.receipt.show_message("info", self.tr("receipt_printing"), icon="printer")
        self.app.restyle(self.receipt)

    @property
    def _printer_words(self) -> str:
        s = self._printer_status
        if s is None:
            return ""
        return self.tr("printer_out_of_paper") if s.code == "paper_out" else s.message(self.lang)

    def _printed(self, job_id: str) -> None:
        flow = self.app.session.flow
        if not self.printing or flow is None or flow.kind != "receipt":
            return
        self.printing = False
        flow.receipt_printed()
        self.show_news()

    def _print_failed(self, code: str, status: Any) -> None:
        flow = self.app.session.flow
        if not self.printing or flow is None or flow.kind != "receipt":
            return
        self.printing = False
        self._printer_status = status
        flow.receipt_failed(code)
        self.show_news()
