"""Result: the application is safe, its tracking number, and what became of the receipt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout

from ui.screens.finishing import FinishingScreen
from ui.widgets.banner import Banner
from ui.widgets.labels import IconLabel, Label

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost


def sentences(parts: list[str], lang: str) -> str:
    """Short messages as one text: Chinese ends each with 。, Tibetan and others are space-separated."""
    if lang != "zh":
        return " ".join(parts)
    return "".join(p if p.endswith(("。", "！", "？")) else f"{p}。" for p in parts)


class ResultScreen(FinishingScreen):
    """Submitted: the application is safe (check), the tracking number big, and what happens with the
    receipt in a banner with its own icon — a printer fault is said with a printer-fault icon and
    words, not colour alone. All of it on one screen: nothing to scroll to."""

    name = "result"
    prompt_id = "receipt_printing"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
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
        host.bridge.printed.connect(self._printed)
        host.bridge.print_failed.connect(self._print_failed)

    def wipe(self) -> None:
        super().wipe()
        self.printing, self._printer_status = False, None
        self.retranslate()

    def enter(self, **kwargs: Any) -> None:
        flow = self.host.session.flow
        self._printer_status = None
        super().enter(**kwargs)
        if flow is not None and flow.tracking_number:
            self.host.mark_shown(flow.tracking_number)  # on screen now: the edge stops listing it for staff
        if flow is not None and flow.kind == "receipt" and flow.state == "active":
            self.printing = True
            self.host.bridge.print_receipt(self.host.receipt(flow, self.lang))

    def current_prompt_id(self) -> str:
        flow = self.host.session.flow
        if flow is None or flow.receipt_state is None:
            return "receipt_printing"
        if flow.receipt_state == "printed":
            return "receipt_taken"
        paper_out = self._printer_status is not None and self._printer_status.code == "paper_out"
        return "printer_no_paper" if paper_out else "need_help_counter"

    def speak(self) -> None:
        flow = self.host.session.flow
        if flow is not None and flow.submission is not None and flow.receipt_state is None:
            online = flow.submission.get("forwarded")
            self.host.speaker.prompt("submitted_online" if online else "submitted_offline", self.lang)
        else:
            super().speak()

    def retranslate(self) -> None:
        super().retranslate()
        flow = self.host.session.flow
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
        self.restyle(self.receipt)

    @property
    def _printer_words(self) -> str:
        s = self._printer_status
        if s is None:
            return ""
        return self.tr("printer_out_of_paper") if s.code == "paper_out" else s.message(self.lang)

    def _printed(self, job_id: str) -> None:
        flow = self.host.session.flow
        if not self.printing or flow is None or flow.kind != "receipt":
            return
        self.printing = False
        flow.receipt_printed()
        self.show_news()

    def _print_failed(self, code: str, status: Any) -> None:
        flow = self.host.session.flow
        if not self.printing or flow is None or flow.kind != "receipt":
            return
        self.printing = False
        self._printer_status = status
        flow.receipt_failed(code)
        self.show_news()
