"""Fonts by role ("body", "button", "title", "key", "number", "tracking") from ui.theme, applied to a
widget tree on every language switch and elder-mode change."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from ui.theme import Theme
from ui.widgets.buttons import BigButton
from ui.widgets.labels import IconLabel


def apply_fonts(root: QWidget, theme: Theme, lang: str) -> None:
    """Set every label's font (family per language, size per role) and every button's size."""
    for w in [root, *root.findChildren(QWidget)]:
        if isinstance(w, QLabel) and not w.property("icon"):
            w.setFont(theme.font(w.property("lang") or lang, w.property("role") or "body"))
        elif isinstance(w, IconLabel) and not isinstance(w.parent(), BigButton):
            w.apply_theme(theme)
        if isinstance(w, BigButton):
            w.apply_theme(theme)
    for w in [root, *root.findChildren(QWidget)]:
        if w.layout() is not None:
            w.layout().invalidate()
        w.updateGeometry()
