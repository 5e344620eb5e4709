"""The services screen keeps its tiles when entered again with the same services (the tap from home
is then only a page switch), and builds them anew when the words or the text size change."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from ui.widgets.buttons import BigButton


@pytest.fixture
def window(kiosk):
    return kiosk("bo")


def service_tiles(w) -> dict[str, BigButton]:
    for _ in range(3):
        QApplication.processEvents()
    screen = w.screens["services"]
    return {b.objectName(): b for b in screen.findChildren(BigButton)
            if b.objectName().startswith("service_") and b.isVisible()}


def test_reentry_keeps_the_tiles_and_a_change_rebuilds_them(qtbot, window):
    w = window
    category = w.content.categories()[0]
    titles = {f"service_{s.id}": s.title for s in w.content.services(category)}
    w.go("services", category=category)
    first = service_tiles(w)
    assert first and set(first) == set(titles)

    w.go("home")
    w.go("services", category=category)
    again = service_tiles(w)
    assert all(again[name] is tile for name, tile in first.items())  # the same widgets, shown again
    assert w.screens["services"].tiles.page == 0

    w.switch_language()  # to Chinese: every tile says its service in the new language
    w.go("home")
    w.go("services", category=category)
    zh = service_tiles(w)
    assert {name: tile.text() for name, tile in zh.items()} == {n: t.get("zh") for n, t in titles.items()}

    w.toggle_elder_mode()  # bigger text: the tiles are built again at the new size
    w.go("home")
    w.go("services", category=category)
    elder = service_tiles(w)
    assert set(elder) == set(titles) and not any(elder[n] is zh[n] for n in zh)
