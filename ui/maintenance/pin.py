"""PIN entry: a big numeric keypad in front of a PinGate; every try goes to the audit log.

The PIN is checked off the GUI thread (PBKDF2 is slow on purpose). The typed digits live only in
this dialog and are cleared after each try; the audit log gets the outcome, never the digits.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.audit import AuditLog
from kiosk.lockout import Outcome, PinGate, PinResult
from ui.maintenance.style import default_theme, stylesheet
from ui.maintenance.text import format_countdown, tr
from ui.maintenance.worker import BackgroundCalls, CallResult
from ui.theme import Theme
from ui.widgets.labels import Label

MAX_PIN_LEN = 12
PIN_DIALOG_DP = 720  # about seven keys wide: room for twelve dots and a two-line Tibetan prompt


class PinDialog(QDialog):
    """accept()s when the gate says OK; reject()s on cancel."""

    def __init__(self, gate: PinGate, *, lang: str, audit: AuditLog | None = None,
                 parent: QWidget | None = None, theme: Theme | None = None) -> None:
        super().__init__(parent)
        self._gate = gate
        self._lang = lang
        self._audit = audit
        self._digits = ""
        self._checking = False
        self._calls = BackgroundCalls(self)
        self._calls.finished.connect(self._on_checked)
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self._update_state)

        theme = theme or default_theme()
        self.setWindowTitle(tr("title", lang))
        self.setModal(True)
        self.setStyleSheet(stylesheet(theme, lang))
        # words wrap within the keypad's width (a Tibetan prompt is wider than three keys)
        self.prompt = Label(tr("pin_prompt", lang), align=Qt.AlignmentFlag.AlignCenter)
        self.dots = QLabel("", objectName="dots", alignment=Qt.AlignmentFlag.AlignCenter)
        self.message = Label("", align=Qt.AlignmentFlag.AlignCenter)
        self.keys: dict[str, QPushButton] = {}
        grid = QGridLayout()
        labels = [*"123456789", "⌫", "0", "✔"]
        for i, label in enumerate(labels):
            key = QPushButton(label, objectName="key")
            if label == "⌫":
                key.setAccessibleName(tr("backspace", lang))
                key.clicked.connect(self._backspace)
            elif label == "✔":
                key.setAccessibleName(tr("ok", lang))
                key.clicked.connect(self.submit)
            else:
                key.clicked.connect(lambda _=False, d=label: self.press_digit(d))
            self.keys[label] = key
            grid.addWidget(key, i // 3, i % 3)
        self.cancel_button = QPushButton(tr("cancel", lang))
        self.cancel_button.clicked.connect(self.reject)
        box = QVBoxLayout(self)
        for w in (self.prompt, self.dots, self.message):
            box.addWidget(w)
        box.addLayout(grid)
        box.addWidget(self.cancel_button)

        # As wide as the keypad and its margins, as tall as the wrapped words need: Qt would open a
        # dialog at no more than 2/3 of the screen, and a wrapping label asks for no width of its own.
        self.setFixedWidth(max(box.sizeHint().width(), theme.dp(PIN_DIALOG_DP)))
        self.resize(self.width(), min(box.totalHeightForWidth(self.width()),
                                      self.screen().availableGeometry().height()))

        state = "disabled" if not gate.enabled else ("locked" if gate.seconds_locked() else "ready")
        if audit is not None:
            audit.record("pin_prompt", state=state)
        self._update_state()

    # -- input --------------------------------------------------------------------------------
    def press_digit(self, digit: str) -> None:
        if self._input_allowed() and len(self._digits) < MAX_PIN_LEN:
            self._digits += digit
            self.dots.setText("●" * len(self._digits))

    def _backspace(self) -> None:
        if self._input_allowed():
            self._digits = self._digits[:-1]
            self.dots.setText("●" * len(self._digits))

    def submit(self) -> None:
        if not self._input_allowed() or not self._digits:
            return
        pin, self._digits = self._digits, ""
        self._checking = True
        self.message.setText(tr("pin_checking", self._lang))
        self._set_keys_enabled(False)
        self._calls.submit("pin", self._gate.verify, pin)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API) — a technician's USB keyboard
        text = event.text()
        if text.isdigit() and text.isascii():
            self.press_digit(text)
        elif event.key() == Qt.Key.Key_Backspace:
            self._backspace()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit()
        else:
            super().keyPressEvent(event)

    def done(self, result: int) -> None:
        self._tick.stop()
        self._calls.close()
        self._digits = ""
        super().done(result)

    # -- outcome ------------------------------------------------------------------------------
    def _on_checked(self, _key: str, call: CallResult) -> None:
        self._checking = False
        self.dots.setText("")
        if not call.ok:
            self.message.setText(tr("pin_error", self._lang))
            if self._audit is not None:
                self._audit.record("pin_attempt", outcome="error", error=type(call.error).__name__)
            self._update_state()
            return
        result: PinResult = call.value  # type: ignore[assignment]
        if self._audit is not None:
            self._audit.record("pin_attempt", outcome=result.outcome.value,
                               attempts_left=result.attempts_left, locked_s=result.seconds_left)
        if result.ok:
            self.accept()
            return
        if result.outcome is Outcome.WRONG and not result.seconds_left:
            self.message.setText(tr("pin_wrong", self._lang, n=result.attempts_left))
        self._update_state()

    def _update_state(self) -> None:
        """Disabled and locked states shut the keypad; the lock counts down once a second."""
        if not self._gate.enabled:
            self.message.setText(tr("pin_disabled", self._lang))
            self._set_keys_enabled(False)
            return
        left = self._gate.seconds_locked()
        if left:
            self.message.setText(tr("pin_locked", self._lang, t=format_countdown(left)))
            self._set_keys_enabled(False)
            self._tick.start()
            return
        if self._tick.isActive():  # a lock just ended
            self._tick.stop()
            self.message.setText("")
        self._set_keys_enabled(not self._checking)

    def _input_allowed(self) -> bool:
        return self._gate.enabled and not self._checking and self.keys["0"].isEnabled()

    def _set_keys_enabled(self, on: bool) -> None:
        for key in self.keys.values():
            key.setEnabled(on)
