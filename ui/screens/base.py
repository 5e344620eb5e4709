"""The screen base class: a prompt spoken and shown on arrival, retranslate() on a language switch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk import i18n
from ui.widgets.banner import Banner
from ui.widgets.fonts import apply_fonts
from ui.widgets.labels import Label

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost


class Screen(QWidget):
    """Subclasses set `name` and `prompt_id`, build widgets in __init__, fill text in retranslate()."""

    name = ""
    prompt_id = "home"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__()
        self.host = host
        self.setObjectName(f"screen_{self.name}")
        self.root = QVBoxLayout(self)
        m = host.theme.dp(24)
        self.root.setContentsMargins(m, m, m, m)
        self.root.setSpacing(m)
        self.prompt = Label("", "title", align=Qt.AlignCenter)
        self.prompt.setObjectName("prompt")
        self.root.addWidget(self.prompt)
        self.banner = Banner()
        self.root.addWidget(self.banner)
        self._keys: list[tuple[Any, str]] = []

    @property
    def lang(self) -> str:
        return self.host.session.lang

    def tr(self, key: str, **params: object) -> str:
        return i18n.tr(key, self.lang, **params)

    def restyle(self, widget: QWidget) -> None:
        """Fonts and sizes of the current language and text size on freshly built widgets."""
        apply_fonts(widget, self.host.theme, self.lang)

    def bind(self, widget: Any, key: str) -> Any:
        """Let retranslate() set this widget's text from catalog `key` in the current language."""
        self._keys.append((widget, key))
        widget.setText(self.tr(key))
        return widget

    def current_prompt_id(self) -> str:
        return self.prompt_id

    def retranslate(self) -> None:
        for widget, key in self._keys:
            widget.setText(self.tr(key))
        self.prompt.setText(self.host.speaker.text(self.current_prompt_id(), self.lang))

    def enter(self, **kwargs: Any) -> None:
        """Shown: fill texts and speak the prompt. Subclasses extend (and call super last)."""
        self.banner.hide()
        self.retranslate()
        self.speak()

    def speak(self) -> None:
        self.host.speaker.prompt(self.current_prompt_id(), self.lang)

    def leave(self) -> None:
        """About to be hidden (stop the camera, timers)."""

    def wipe(self) -> None:
        """The session ended: drop anything shown about the resident (subclasses clear their own)."""
        self.banner.hide()

    def go_back(self) -> None:
        """The bar's Back button; default: home."""
        self.host.go_home()
