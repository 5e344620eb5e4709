"""The hidden way into maintenance: hold a finger in the top-left corner for 3 seconds.

Residents never hold still that long in a corner; a technician finds it without a keyboard.
The filter watches the whole application (a press in the corner usually lands on a child widget,
which a filter on the window alone would never see) but only reacts to presses inside `window`.
It never eats a press, so the resident UI under the corner works as usual; it only eats the
release of a hold that fired, so the button under the finger is not also clicked.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QTouchEvent
from PySide6.QtWidgets import QApplication, QWidget

from ui.maintenance.style import CORNER_DP, default_theme

_PRESS = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin}
_MOVE = {QEvent.Type.MouseMove, QEvent.Type.TouchUpdate}
_RELEASE = {QEvent.Type.MouseButtonRelease, QEvent.Type.TouchEnd, QEvent.Type.TouchCancel}


class CornerGesture(QObject):
    triggered = Signal()

    def __init__(self, window: QWidget, *, hold_ms: int = 3000, corner_px: int | None = None) -> None:
        super().__init__(window)
        self._window = window
        self._corner = corner_px if corner_px is not None else default_theme().dp(CORNER_DP)
        self._timer = QTimer(self, singleShot=True, interval=hold_ms)
        self._timer.timeout.connect(self._fire)
        self._fired = False
        app = QApplication.instance()
        if app is None:
            raise RuntimeError("CornerGesture needs a QApplication")
        app.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        kind = event.type()
        if kind not in _PRESS and kind not in _MOVE and kind not in _RELEASE:
            return False
        if not isinstance(obj, QWidget) or obj.window() is not self._window:
            return False
        if kind in _RELEASE:
            fired, self._fired = self._fired, False
            self._timer.stop()
            return fired
        pos = self._global_pos(event)
        inside = pos is not None and self._in_corner(pos)
        if kind in _PRESS and inside and not self._timer.isActive():
            self._fired = False
            self._timer.start()  # one physical press reaches the filter once per receiver
        elif not inside:
            self._timer.stop()  # slid out of the corner, or a press elsewhere
        return False

    def _in_corner(self, global_pos: QPointF) -> bool:
        local = self._window.mapFromGlobal(global_pos)
        return 0 <= local.x() < self._corner and 0 <= local.y() < self._corner

    @staticmethod
    def _global_pos(event: QEvent) -> QPointF | None:
        if isinstance(event, QMouseEvent):
            return event.globalPosition()
        if isinstance(event, QTouchEvent) and event.points():
            return event.points()[0].globalPosition()
        return None

    def _fire(self) -> None:
        self._fired = True
        self.triggered.emit()
