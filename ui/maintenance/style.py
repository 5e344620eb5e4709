"""Sizes, fonts and colours of the maintenance screens, all taken from ui.theme in one place.

Technicians get the residents' type sizes and contrast too: they read the screen standing, at
arm's length, often in a dim hall.
"""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from ui.theme import FAMILIES, Theme, theme_lang

CONTROL_DP = 60  # every button (the brief asks >= 60 dp)
KEYPAD_KEY_DP = 96
CORNER_DP = 80  # the hidden gesture's square in the top-left corner

QR_COLOUR = "#00C853"  # overlay marks on a camera picture, each drawn with a word beside it
FACE_COLOUR = "#FF9100"


def default_theme() -> Theme:
    return Theme.for_screen(QGuiApplication.primaryScreen())


def _families(lang: str) -> str:
    return ", ".join(f'"{f}"' for f in FAMILIES[theme_lang(lang)])


def stylesheet(theme: Theme, lang: str) -> str:
    p = theme.palette
    tl = theme_lang(lang)
    digits = _families("zh")  # digits and dots: Tibetan fonts' tall lines waste space
    control = theme.control_px(CONTROL_DP)  # height only: a min-width here would let layouts clip the text
    key = theme.control_px(KEYPAD_KEY_DP)
    border = theme.dp(3)
    # words written in another language than the screen's (a language's own name) take its font
    own_fonts = "\n".join(f'    QLabel[lang="{code}"] {{ font-family: {_families(code)}; '
                           f'font-size: {theme.text_px(theme_lang(code))}px; }}' for code in ("bo", "zh", "en"))
    return f"""
    QWidget {{ font-family: {_families(tl)}; font-size: {theme.text_px(tl)}px; background: {p['bg']};
               color: {p['text']}; }}
    QLabel {{ background: transparent; }}
    QLabel#title {{ font-size: {theme.text_px(tl, 'title')}px; font-weight: bold; }}
    QLabel#section_title {{ font-weight: bold; }}
{own_fonts}
    QFrame#Box {{ background: {p['surface']}; border: {border}px solid {p['border']}; }}
    QPushButton {{ min-height: {control}px; padding: 0 {theme.dp(16)}px;
                   background: {p['primary']}; color: {p['on_primary']}; border-radius: {theme.dp(12)}px; }}
    QPushButton QLabel {{ color: {p['on_primary']}; }}
    QPushButton:disabled {{ background: {p['surface']}; color: {p['muted_text']};
                            border: {border}px dashed {p['border']}; }}
    QPushButton QLabel:disabled {{ color: {p['muted_text']}; }}
    QPushButton:checked {{ border: {theme.dp(6)}px solid {p['focus']}; }}
    QPushButton#key, QLabel#dots {{ font-family: {digits}; font-size: {theme.text_px('zh', 'title')}px; }}
    QListWidget {{ font-family: {digits}; }}  /* prompt keys: Latin letters, no Tibetan line height */
    QPushButton#key {{ min-height: {key}px; min-width: {key}px; }}
    QLabel[level="ok"] {{ color: {p['ok']}; }}
    QLabel[level="degraded"] {{ color: {p['warn']}; }}
    QLabel[level="fault"] {{ color: {p['error']}; }}
    """
