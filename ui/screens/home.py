"""Home: one big tile per service category, the progress lookup, blank forms; what is out of order today."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal

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
    rebuilt = Signal()  # the tiles were rebuilt (the shell starts its background work after the first)

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self.tiles = TileGrid(host.theme, 4)
        self.root.addWidget(self.tiles, 1)
        self._rebuild_pending = False
        host.content.changed.connect(self._content_changed)
        host.content.failed.connect(self.show_status)

    def _content_changed(self) -> None:
        """Rebuild once on the next pass: content and device news arriving together cost one rebuild."""
        if not self._rebuild_pending:
            self._rebuild_pending = True
            QTimer.singleShot(0, self.retranslate)

    def retranslate(self) -> None:
        self._rebuild_pending = False
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
        self.show_status()
        self.rebuilt.emit()

    def show_status(self) -> None:
        """The banner: the edge unreachable, or a device out of order today."""
        if self._rebuild_pending:
            return  # the rebuild on its way shows it
        content = self.host.content
        if not content.loaded and content.error is None:
            self.banner.hide()  # the first fetch is on its way (tens of ms): no false alarm at start-up
        elif not content.loaded:
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
