"""Building blocks of the maintenance screens: a button whose words are a fitted Label, and a titled box.

QPushButton and QGroupBox lay their text out in the font's own line box: for Tibetan that box is
2.8 x the font size and mostly empty, so a group title floats far above its box, and a Tibetan word
on a Chinese screen is cut at the top of its button. Here the words are ui.widgets.Label, set on
ink-fitted lines and, with `lang`, in the font of the language they are written in (the
`*[lang=...]` rules in ui.maintenance.style).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ui.widgets.labels import Label


class LabelButton(QPushButton):
    """A push button showing `text` in a wrapping, ink-fitted Label (text()/setText() are the label's)."""

    def __init__(self, text: str = "", *, lang: str | None = None, checkable: bool = False,
                 object_name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCheckable(checkable)
        if object_name:
            self.setObjectName(object_name)
        self.label = Label(text, "button", align=Qt.AlignmentFlag.AlignCenter)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.label.ink_centre = True
        if lang:
            self.label.setProperty("lang", lang)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)
        self.setAccessibleName(text)

    def set_padding(self, horizontal: int, vertical: int) -> None:
        self.layout().setContentsMargins(horizontal, vertical, horizontal, vertical)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        self.label.setText(text)
        self.setAccessibleName(text)

    def text(self) -> str:
        return self.label.text()

    def _floor(self) -> QSize:
        """The style's size for an empty button: the style sheet's min-height lives there."""
        return QSize(0, super().sizeHint().height()).expandedTo(self.minimumSize())

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.layout().sizeHint().expandedTo(self._floor())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.layout().minimumSize().expandedTo(self._floor())

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return max(self.layout().totalHeightForWidth(width), self._floor().height())


class Section(QWidget):
    """A title set right above its bordered box; put the contents in `box` (a QFrame#Box)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.heading = Label("", "title")
        self.heading.setObjectName("section_title")
        self.box = QFrame(objectName="Box")
        lay.addWidget(self.heading)
        lay.addWidget(self.box, 1)

    def setTitle(self, title: str) -> None:  # noqa: N802 (as QGroupBox)
        self.heading.setText(title)

    def title(self) -> str:
        return self.heading.text()
