"""Home: one big tile per service category, the progress lookup, blank forms; what is out of order today."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.content import CATEGORIES, Text
from kiosk.status import Level
from ui.screens.base import Screen
from ui.widgets.icons import CATEGORY_ICONS
from ui.widgets.tiles import TileGrid

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost


class HomeScreen(Screen):
    name = "home"
    prompt_id = "home"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self.tiles = TileGrid(host.theme, 4)
        self.root.addWidget(self.tiles, 1)
        host.content.changed.connect(self.retranslate)

    def retranslate(self) -> None:
        super().retranslate()
        tiles = []
        for cat in self.host.content.categories():
            words = CATEGORIES.get(cat, Text(cat, cat, cat)).get(self.lang)
            tiles.append((f"tile_{cat}", CATEGORY_ICONS.get(cat, "document"), words,
                          lambda _=False, c=cat: self.host.go("services", category=c)))
        tiles.append(("tile_lookup", "search", self.tr("progress_lookup"), lambda: self.host.start_lookup()))
        if self.host.documents is not None:  # the hall has an A4 printer
            tiles.append(("tile_documents", "printer", self.host.speaker.text("documents_tile", self.lang),
                          lambda: self.host.start_documents()))
        if self.host.content.forms():
            tiles.append(("tile_print_form", "printer", self.tr("print_form"), lambda: self.host.go("print_form")))
        self.tiles.set_tiles(tiles, self.lang, self.restyle)
        if not self.host.content.loaded:
            self.banner.show_message("warn", self.tr("edge_unavailable"))
        elif self._device_fault():
            self.banner.show_message("warn", self.tr("degraded_service"))
        else:
            self.banner.hide()

    def _device_fault(self) -> bool:
        """The card reader or a printer is out: some services cannot be done here today."""
        statuses = self.host.bridge.statuses()
        return any(statuses[c].level is Level.FAULT for c in ("card_reader", "printer", "a4_printer")
                   if c in statuses)
