"""The big icon+word button every screen is built from (at least 60x60 dp)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractButton,
    QHBoxLayout,
    QSizePolicy,
    QStyle,
    QStyleOption,
    QVBoxLayout,
    QWidget,
)

from ui.theme import Theme
from ui.widgets.labels import IconLabel, Label


class BigButton(QAbstractButton):
    """Icon + word(s), at least 60x60 dp; kind "primary" / "normal" / "bar"; wraps long words."""

    def __init__(self, icon: str | None, text: str = "", kind: str = "normal", parent: QWidget | None = None,
                 vertical: bool = False, icon_dp: float = 56) -> None:
        super().__init__(parent)
        self.setProperty("kind", kind)
        self.setProperty("selected", False)
        self.setCursor(Qt.PointingHandCursor)
        self.setFocusPolicy(Qt.StrongFocus)
        lay = QVBoxLayout(self) if vertical else QHBoxLayout(self)
        if vertical:  # icon and words together in the middle of a tall tile
            lay.addStretch(1)
        self.icon = IconLabel(icon, icon_dp) if icon else None
        if self.icon:
            self.icon.setAttribute(Qt.WA_TransparentForMouseEvents)
            lay.addWidget(self.icon, 0, Qt.AlignCenter)
        self.label = Label(text, "button", align=Qt.AlignCenter if vertical else Qt.AlignLeft | Qt.AlignVCenter)
        self.label.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.label.ink_centre = True  # the word's ink level with the icon, whatever its script
        lay.addWidget(self.label, 0 if vertical else 1)
        if vertical:
            lay.addStretch(1)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        self.label.setText(text)
        super().setText(text)

    def text(self) -> str:
        return self.label.text()

    def set_selected(self, on: bool) -> None:
        self.setProperty("selected", on)
        self.style().unpolish(self)
        self.style().polish(self)

    min_width_dp = 0.0  # set for a button that must stand out (the idle overlay's one button)
    min_height_dp = 60.0  # answers to a question (choices, +/-) are made taller than this
    margin_dp = 14.0  # above and below icon and words; the bars' buttons use less (their height is the screen's)

    def apply_theme(self, theme: Theme) -> None:
        m = theme.dp(14 * theme.scale)
        v = theme.dp(self.margin_dp * theme.scale)
        self.layout().setContentsMargins(m, v, m, v)
        self.layout().setSpacing(m)
        side = theme.control_px()
        self.setMinimumSize(max(side, theme.dp(self.min_width_dp * theme.scale)),
                            max(side, theme.control_px(self.min_height_dp)))
        if self.icon:
            kind = self.property("kind")
            light = kind in ("primary", "bar")
            self.icon.apply_theme(theme, theme.colour("on_primary") if light else theme.colour("text"))

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.layout().sizeHint().expandedTo(self.minimumSize())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.layout().minimumSize().expandedTo(self.minimumSize())

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, w: int) -> int:  # noqa: N802
        return max(self.layout().totalHeightForWidth(w), self.minimumHeight())

    def paintEvent(self, event) -> None:  # noqa: N802
        opt = QStyleOption()
        opt.initFrom(self)
        p = QPainter(self)
        self.style().drawPrimitive(QStyle.PE_Widget, opt, p, self)
