"""Blank forms to take home and fill in by hand, printed on the A4 printer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ui.screens.printing import PrintingScreen
from ui.widgets.tiles import TileGrid

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost


class PrintFormScreen(PrintingScreen):
    name = "print_form"
    prompt_id = "print_form"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self.tiles = TileGrid(host.theme, 2)
        self.root.addWidget(self.tiles, 1)

    def retranslate(self) -> None:
        super().retranslate()
        self.tiles.set_tiles([
            (f"form_{f.id}", "document", f.title.get(self.lang), lambda _=False, form=f: self._print(form))
            for f in self.host.content.forms()],
            self.lang, self.restyle)

    def _print(self, form: Any) -> None:
        lang = self.lang
        paras = []
        for field in form.fields:
            paras.append(f"{field.label.get(lang)}:")
            paras.extend(["_" * 30] * max(1, field.lines))
        if form.note:
            paras.append(form.note.get(lang))
        self.start_print(form.title.get(lang), paras)
