"""The big tiles of the home, services and blank-form screens."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QWidget

from ui.theme import Theme
from ui.widgets.buttons import BigButton
from ui.widgets.pager import Pager

Tile = tuple[str, str, str, Callable[..., object]]  # object name, icon, words, on_click


class TileGrid(Pager):
    """Big vertical icon+word tiles, `columns` to a row, a page of rows at a time (big page buttons,
    never a scroll bar); rebuilt when content or language changes.

    A tile never grows past MAX_TILE_DP (one service is a tile, not a wall) and a short row is
    centred with its tiles as wide as a full row's."""

    MAX_TILE_DP = (1000, 480)  # width, height (x elder scale)

    def __init__(self, theme: Theme, columns: int) -> None:
        super().__init__(spacing=theme.dp(24), expand=True)
        self.theme = theme
        self.columns = columns
        self.max_height = 0

    def paginate(self) -> None:
        # a row grows into spare height up to the cap, but is never held below what its words need
        for row in self.rows:
            row.setMaximumHeight(max(self.max_height, row.heightForWidth(self.width())))
        super().paginate()

    def set_tiles(self, tiles: list[Tile], lang: str, style: Callable[[QWidget], None]) -> None:
        """Rebuild the grid; `style` applies fonts to the new rows (before they are measured)."""
        theme = self.theme
        max_w, self.max_height = (theme.dp(v * theme.scale) for v in self.MAX_TILE_DP)
        rows = []
        for start in range(0, len(tiles), self.columns):
            chunk = tiles[start:start + self.columns]
            row = QWidget()
            lay = QHBoxLayout(row)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.setSpacing(self.body.spacing())
            side = self.columns - len(chunk)  # half a tile's width of room each side, per missing tile
            lay.addStretch(side)
            for name, icon, words, on_click in chunk:
                b = BigButton(icon, words, vertical=True, icon_dp=110)
                b.setObjectName(name)
                b.setMaximumWidth(max_w)
                b.clicked.connect(on_click)
                lay.addWidget(b, 2)
            lay.addStretch(side)
            rows.append(row)
        self.retranslate(lang)
        self.set_rows(rows, style)
