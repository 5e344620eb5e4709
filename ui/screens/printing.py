"""The base of the screens that print on the A4 printer (a service's guide, a blank form)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ui.screens.base import Screen

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost


class PrintingScreen(Screen):
    """A screen that prints on the A4 printer: one job at a time, its outcome on the banner if the resident
    is still on this screen when it ends."""

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self._printing = False
        host.bridge.printed.connect(self._printed)
        host.bridge.print_failed.connect(self._print_failed)

    def start_print(self, title: str, paras: list[str], prompt_id: str | None = None) -> None:
        """Print unless a job of this screen is still running; `prompt_id` is spoken as it starts."""
        if self._printing:
            return
        self.host.session.touch()
        self._printing = True
        self.banner.show_message("ok", self.tr("printing"))
        if prompt_id:
            self.host.speaker.prompt(prompt_id, self.lang)
        self.host.bridge.print_document(title, paras, self.lang)

    def _printed(self, job_id: str) -> None:
        if self._printing and self.isVisible():
            self._printing = False
            self.banner.show_message("ok", self.tr("printed"))

    def _print_failed(self, code: str, status: Any) -> None:
        if self._printing and self.isVisible():
            self._printing = False
            self.banner.show_message("error", f"{status.message(self.lang)} {self.tr('need_help_counter')}")
