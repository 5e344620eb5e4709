"""The window's screens by name, each built (and its module imported) the first time it is needed.

Only home is needed for the first paint; building the other twelve up front cost ~80 ms of imports
(the flow engine among them) and widget construction before a resident saw anything. The window
asks `build_rest()` once home is painted, one screen per event-loop pass so a tap in between is
answered at once; a screen asked for before then (a test, the navigator) is built on the spot.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QStackedWidget, QWidget

if TYPE_CHECKING:
    from ui.screens.base import Screen
    from ui.screens.host import ScreenHost

# name -> (module, class); home first (it is built with the window)
SCREENS: dict[str, tuple[str, str]] = {
    "home": ("ui.screens.home", "HomeScreen"),
    "services": ("ui.screens.services", "ServiceListScreen"),
    "detail": ("ui.screens.service_detail", "ServiceDetailScreen"),
    "print_form": ("ui.screens.print_form", "PrintFormScreen"),
    "identify": ("ui.screens.identify", "IdentifyScreen"),
    "form": ("ui.screens.form", "FormScreen"),
    "photo": ("ui.screens.photo", "PhotoScreen"),
    "confirm": ("ui.screens.confirm", "ConfirmScreen"),
    "submitting": ("ui.screens.submitting", "SubmittingScreen"),
    "result": ("ui.screens.result", "ResultScreen"),
    "lookup": ("ui.screens.lookup", "LookupScreen"),
    "documents": ("ui.screens.documents", "DocumentsScreen"),
    "feedback": ("ui.screens.feedback", "FeedbackScreen"),
}


class ScreenSet(Mapping[str, "Screen"]):
    def __init__(self, host: ScreenHost, stack: QStackedWidget, restyle: Callable[[QWidget], None]) -> None:
        self._host, self._stack, self._restyle = host, stack, restyle
        self._built: dict[str, Screen] = {}

    def __getitem__(self, name: str) -> Screen:
        screen = self._built.get(name)
        if screen is None:
            module, cls_name = SCREENS[name]  # KeyError: no such screen
            cls = getattr(importlib.import_module(module), cls_name)
            screen = cls(self._host)
            if screen.name != name:
                raise RuntimeError(f"{module}.{cls_name} is named {screen.name!r}, registered as {name!r}")
            self._built[name] = screen
            self._stack.addWidget(screen)
            self._restyle(screen)  # the current language's fonts, as the window gave those built before
        return screen

    def __iter__(self) -> Iterator[str]:
        return iter(SCREENS)

    def __len__(self) -> int:
        return len(SCREENS)

    def built(self) -> list[Screen]:
        return list(self._built.values())

    def build_rest(self) -> None:
        """Build the next screen not built yet, then come back on the next pass until all are."""
        missing = next((name for name in SCREENS if name not in self._built), None)
        if missing is not None:
            self.__getitem__(missing)
            QTimer.singleShot(0, self.build_rest)
