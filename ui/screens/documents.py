"""Print my certificate (证照打印): the resident's issued documents, one big button each; the chosen one
prints on the hall's A4 printer and the outcome is shown and spoken.

The resident identified on the identify screen (card or receipt QR); the list and the printing run on
the documents desk (ui.adapters.documents). A document that names its holder needs the card: with a
receipt its button is greyed with the words "read your ID card". A printer fault shows the printer's
own words on the banner, as for a receipt, and sends the resident to the counter (the job is kept).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiosk.flows.documents import Entry, Outcome, Result
from ui.screens.finishing import FinishingScreen
from ui.widgets.buttons import BigButton
from ui.widgets.pager import Pager

if TYPE_CHECKING:
    from kiosk.status import Status
    from ui.screens.host import ScreenHost


def prompt_for(outcome: Outcome) -> str:
    """The pack's prompt id for an outcome (content/demo/prompts.toml)."""
    return f"documents_{outcome.value}"


class DocumentsScreen(FinishingScreen):
    name = "documents"
    prompt_id = "documents_waiting"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self.body = Pager(spacing=host.theme.dp(16))
        self.root.addWidget(self.body, 1)
        self.add_finish_button()
        self.result: Result | None = None   # the last answer: the list's, then the print's
        self.stopped: Status | None = None  # the printer's words when it stopped
        self.printing = False
        desk = host.documents
        if desk is not None:
            desk.listed.connect(self._listed)
            desk.printed.connect(self._printed)

    def enter(self, **kwargs: Any) -> None:
        self.result, self.stopped, self.printing = None, None, False
        flow, desk = self.host.session.flow, self.host.documents
        if flow is not None and desk is not None:
            id_number = flow.card_value("id_number")
            desk.identify(id_number=id_number, tracking_number=None if id_number else flow.tracking_ref)
        super().enter(**kwargs)

    def leave(self) -> None:
        if self.host.documents is not None:
            self.host.documents.forget()  # the visit is over: drop the ID number and the list

    def wipe(self) -> None:
        super().wipe()
        self.result, self.stopped, self.printing = None, None, False
        self.body.clear()

    def current_prompt_id(self) -> str:
        if self.printing:
            return "documents_printing"
        return prompt_for(self.result.outcome) if self.result is not None else self.prompt_id

    def retranslate(self) -> None:
        super().retranslate()
        if self.result is not None and not self.prompt.text():  # a pack without these prompts
            self.prompt.setText(self.result.text(self.lang))
        self.body.retranslate(self.lang)
        self.body.set_rows(self._rows(), self.restyle)

    def _rows(self) -> list[Any]:
        desk = self.host.documents
        if desk is None or self.result is None or self.result.outcome is not Outcome.LISTED or self.printing:
            return []
        return [self._entry(e, desk.can_print(e)) for e in desk.entries]

    def _entry(self, entry: Entry, printable: bool) -> BigButton:
        words = f"{entry.label(self.lang)}\n{self.tr('tracking_number')}: {entry.tracking_number}  {entry.issued_on}"
        if not printable:
            words += "\n" + self.host.speaker.text(prompt_for(Outcome.NEEDS_CARD), self.lang)
        b = BigButton("document" if printable else "card", words)
        b.setObjectName(f"document_{entry.kind}")
        b.setEnabled(printable)
        b.clicked.connect(lambda _=False, serial=entry.serial: self._print(serial))
        return b

    def _print(self, serial: str) -> None:
        if self.printing or self.host.documents is None:
            return
        self.host.session.touch()
        self.printing = True
        self.banner.show_message("ok", self.tr("printing"))
        self.show_news()
        self.host.documents.print(serial)

    # --- the desk's answers ----------------------------------------------------------------------
    def _listed(self, result: Result) -> None:
        if self.host.is_current(self) and not self.printing:
            self.result = result
            self.show_news()

    def _printed(self, result: Result, stopped: Status | None) -> None:
        if not (self.host.is_current(self) and self.printing):
            return  # the resident left: the job finished (or was kept) all the same
        self.printing, self.stopped = False, stopped
        self.host.session.touch()
        if result.outcome is Outcome.PRINTED:
            self.result = result
            self.banner.show_message("ok", self.tr("printed"))
        elif result.outcome is Outcome.PRINTER_FAULT:
            self.result = result
            words = stopped.message(self.lang) if stopped is not None else ""
            self.banner.show_message("error", f"{words} {self.tr('need_help_counter')}".strip(), icon="printer_fault")
        else:  # needs the card, offline, no printer: the words say it; the list stays to choose again
            self.result = Result(Outcome.LISTED)
            self.banner.show_message("warn", self.host.speaker.text(prompt_for(result.outcome), self.lang)
                                     or result.text(self.lang))
        self.restyle(self.banner)
        self.retranslate()
        self.host.speaker.prompt(prompt_for(result.outcome), self.lang)
