"""The two bars around every screen: home, back, title, language and text size on top; the voice
controls, the volume and "help" at the bottom."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout

from kiosk import i18n
from ui.theme import Theme
from ui.widgets.buttons import BigButton
from ui.widgets.labels import IconLabel, Label

Action = Callable[[], object]


@dataclass(frozen=True)
class BarActions:
    home: Action
    back: Action
    language: Action
    text_size: Action
    repeat: Action
    stop: Action
    quieter: Action
    louder: Action
    help: Action


class Bars:
    def __init__(self, theme: Theme, actions: BarActions) -> None:
        self.theme = theme
        self.top, lay = self._bar()
        self.home_btn = self._button(lay, "bar_home", "home", actions.home)
        self.back_btn = self._button(lay, "bar_back", "back", actions.back)
        self.title = Label("", "body", align=Qt.AlignCenter)
        self.title.setObjectName("bar_title")
        lay.addWidget(self.title, 1)
        self.lang_btn = self._button(lay, "bar_language", "language", actions.language)
        self.text_btn = self._button(lay, "bar_text_size", "text_size", actions.text_size)

        self.bottom, lay = self._bar()
        self.repeat_btn = self._button(lay, "bar_repeat", "repeat", actions.repeat)
        self.stop_btn = self._button(lay, "bar_stop", "stop", actions.stop)
        lay.addStretch(1)
        self.quieter_btn = self._button(lay, "bar_quieter", "minus", actions.quieter)
        self.volume_icon = IconLabel("speaker", 48, "#FFFFFF")
        lay.addWidget(self.volume_icon)
        self.volume_label = Label("", "body", align=Qt.AlignCenter)
        self.volume_label.setObjectName("bar_volume")
        lay.addWidget(self.volume_label)
        self.louder_btn = self._button(lay, "bar_louder", "plus", actions.louder)
        lay.addStretch(1)
        self.help_btn = self._button(lay, "bar_help", "people", actions.help)

    def _bar(self) -> tuple[QFrame, QHBoxLayout]:
        bar = QFrame()
        bar.setObjectName("Bar")
        lay = QHBoxLayout(bar)
        m = self.theme.dp(8)
        lay.setContentsMargins(m, m, m, m)
        lay.setSpacing(m)
        return bar, lay

    @staticmethod
    def _button(lay: QHBoxLayout, name: str, icon: str, on_click: Action) -> BigButton:
        b = BigButton(icon, "", kind="bar")
        b.margin_dp = 8  # the bars take height from every screen: snug around the words
        b.setObjectName(name)
        b.clicked.connect(on_click)
        lay.addWidget(b)
        return b

    def retranslate(self, lang: str, *, elder: bool, title: str, volume: float) -> None:
        def tr(key: str) -> str:
            return i18n.tr(key, lang)

        self.home_btn.setText(tr("home"))
        self.back_btn.setText(tr("back"))
        self.lang_btn.setText(tr("language_other"))
        # the other language's name, in that language's own font (a Tibetan word in the Chinese
        # font sits high and crowds the button's top)
        self.lang_btn.label.setProperty("lang", i18n.other_language(lang))
        self.text_btn.setText(tr("normal_text" if elder else "larger_text"))
        self.repeat_btn.setText(tr("repeat"))
        self.stop_btn.setText(tr("stop"))
        self.quieter_btn.setText(tr("quieter"))
        self.louder_btn.setText(tr("louder"))
        self.help_btn.setText(tr("help"))
        self.show_volume(lang, volume)
        self.title.setText(title)

    def show_volume(self, lang: str, volume: float) -> None:
        self.volume_label.setText(f"{i18n.tr('volume', lang)} {round(volume * 100)}%")
