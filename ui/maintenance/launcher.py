"""The way into the maintenance screen: the corner gesture, then the PIN, then the screen."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QWidget

from kiosk.audit import AuditLog
from kiosk.lockout import PinGate
from ui.maintenance.gesture import CornerGesture
from ui.maintenance.pin import PinDialog
from ui.maintenance.screen import MaintenanceScreen
from ui.maintenance.services import MaintenanceServices
from ui.maintenance.style import CORNER_DP, default_theme
from ui.theme import Theme


class MaintenanceLauncher(QObject):
    """Wires the corner gesture to the PIN dialog and the PIN to the screen.

    `mount(screen)` puts the screen in the main window (say, a page of its stack); without it
    the screen opens as its own window over `window`. Either way the screen is deleted after
    it closes, which also takes it out of a stack. `opened`/`closed` let the main window pause
    the resident session's idle timer meanwhile.
    """

    opened = Signal(object)  # the MaintenanceScreen
    closed = Signal()

    def __init__(self, window: QWidget, *, gate: PinGate, audit: AuditLog, services: MaintenanceServices,
                 lang: str | Callable[[], str], mount: Callable[[QWidget], None] | None = None,
                 theme: Theme | None = None, hold_ms: int = 3000) -> None:
        super().__init__(window)
        self._theme = theme or default_theme()
        self._window = window
        self._gate = gate
        self._audit = audit
        self._services = services
        self._lang = lang if callable(lang) else (lambda: lang)
        self._mount = mount
        self.dialog: PinDialog | None = None
        self.screen: MaintenanceScreen | None = None
        self.gesture = CornerGesture(window, hold_ms=hold_ms, corner_px=self._theme.dp(CORNER_DP))
        self.gesture.triggered.connect(self.request)

    def request(self) -> None:
        """Ask for the PIN (ignored while the dialog or the screen is already up)."""
        if self.dialog is not None or self.screen is not None:
            return
        self.dialog = PinDialog(self._gate, lang=self._lang(), audit=self._audit, parent=self._window,
                                theme=self._theme)
        self.dialog.finished.connect(self._on_pin)
        self.dialog.open()

    def _on_pin(self, code: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()
        if code == QDialog.DialogCode.Accepted:
            self._open_screen()

    def _open_screen(self) -> None:
        screen = MaintenanceScreen(self._services, lang=self._lang(), audit=self._audit, theme=self._theme)
        screen.closed.connect(self._on_closed)
        self.screen = screen
        if self._mount is not None:
            self._mount(screen)
        else:
            screen.setParent(self._window, Qt.WindowType.Window)
            screen.setGeometry(self._window.geometry())
            if self._window.isFullScreen():
                screen.showFullScreen()
            else:
                screen.show()
        self.opened.emit(screen)

    def _on_closed(self, _reason: str) -> None:
        screen, self.screen = self.screen, None
        if screen is not None:
            screen.hide()
            screen.deleteLater()
        self.closed.emit()
