"""The services of one category, a tile each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ui.screens.base import Screen
from ui.widgets.icons import CATEGORY_ICONS
from ui.widgets.tiles import TileGrid

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost


class ServiceListScreen(Screen):
    name = "services"
    prompt_id = "choose_service"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self.category: str | None = None
        self.tiles = TileGrid(host.theme, 2)
        self.root.addWidget(self.tiles, 1)
        self._shown: tuple | None = None  # what the grid was last built from

    def enter(self, category: str | None = None, **kwargs: Any) -> None:
        self.category = category
        super().enter(**kwargs)

    def retranslate(self) -> None:
        super().retranslate()
        services = self.host.content.services(self.category)
        icon = CATEGORY_ICONS.get(self.category or "", "document")
        words = [(s.id, s.title.get(self.lang)) for s in services]
        theme = self.host.theme
        shown = (self.lang, theme.elder, theme.dpi, icon, tuple(words))
        if shown == self._shown:
            # the same tiles as last time (a re-entry): building and measuring them again is most of a tap
            self.tiles.page = 0
            self.tiles.paginate()
        else:
            self._shown = shown
            self.tiles.set_tiles([
                (f"service_{sid}", icon, title,
                 lambda _=False, sid=sid: self.host.go("detail", service_id=sid)) for sid, title in words],
                self.lang, self.restyle)
        if not services:
            self.banner.show_message("warn", self.tr("no_services"))
