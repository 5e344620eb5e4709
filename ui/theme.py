"""Fonts, sizes, colours: the numbers that make the kiosk readable for an elderly herder.

Sizes are in dp (1 dp = 1/160 inch, the unit of the MIIT elder-mode guidance), turned into pixels with
the screen's DPI: px = dp * dpi / 160. Design screen: 21.5" 1920x1080, sqrt(1920^2 + 1080^2) / 21.5
= 102.5 dpi, so 1 dp = 0.64 px there and a 60 dp control is 38 px = 9.5 mm.

Body text: capital letters at least 7 mm tall at 600 mm viewing distance (EN 301 549 5.1.4). In pixels
cap_px = 7 mm * dpi / 25.4 (28.2 px at 102.5 dpi). Each font's cap height is a fixed fraction of its
pixel size (QFontMetricsF.capHeight at a 100 px reference: Noto Sans CJK SC 0.733, Noto Serif
Tibetan 0.714), so the pixel size is ceil(cap_px / fraction): 39 px for Chinese, 40 px for Tibetan on
the design screen. Elder mode multiplies by 1.3 (36 dp+ body, above MIIT's 30 dp minimum).

Line spacing: Noto Sans CJK's own (1.45 x its size, above the 1.3 x minimum). Noto Serif Tibetan
declares 2.8 x its size, but that box is mostly air: the ink of real Tibetan text (a vowel sign
above, a subscript and a vowel below) spans about 1.6 x the size. A font whose declared line box is that
tall is set on lines fitted to the ink instead (see `ink_extents`, ui.widgets.Label): a Tibetan line
is then about 1.3 x a Chinese one rather than 1.9 x, so a summary, a tile or a bar is not mostly
empty padding. A line whose stacks reach further gets the room it needs. Heights are still never
fixed numbers: every label word-wraps and tells the layout its height for a width.

Colours: dark text on light and light text on dark, every pair the style sheet sets checked with the
WCAG 2.x contrast ratio (>= 4.5:1, tests/test_ui_theme.py reads them from the sheet); state is shown with an icon and a word, never colour alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

DESIGN_DPI = math.hypot(1920, 1080) / 21.5  # 102.5
DP_PER_INCH = 160
CAP_HEIGHT_MM = 7.0
LINE_SPACING = 1.3
ELDER_SCALE = 1.3
MIN_CONTROL_DP = 60      # main controls (MIIT elder mode)

ROLE_FACTORS = {"body": 1.0, "button": 1.0, "title": 1.2, "key": 1.3, "number": 1.6, "tracking": 2.4}
# Tibetan lines are already twice as tall as Chinese ones: a Tibetan title is set apart by weight,
# not size, so a two-line question still leaves room for the answer below it.
TITLE_FACTOR_BO = 1.0
# Digits and tracking numbers need no Tibetan font: set in the CJK font (Latin digits, 1.45x line
# spacing) so a keypad or a tracking number is not given Tibetan's 2.8x line height.
NUMERIC_ROLES = ("key", "number", "tracking")

# A font whose declared line box is taller than this x its pixel size is set on ink-fitted lines.
TALL_LINE_BOX = 1.7
# The ink every Tibetan line is given room for: a vowel sign above, a subscript and a vowel below.
# A line whose stacks reach further (སྒྲུ) is given more.
INK_REFERENCE = "ཀིཀྲུ"
LINE_GAP = 0.2   # between one line's ink and the next line's, x pixel size
INK_PAD = 0.08   # above the first line's ink and below the last line's, x pixel size

FAMILIES = {
    "bo": ["Noto Serif Tibetan", "Tibetan Machine Uni", "Noto Sans CJK SC"],
    "zh": ["Noto Sans CJK SC", "Noto Serif Tibetan"],
}

# --- colours ----------------------------------------------------------------------------------
PALETTE = {
    "bg": "#F7F5EF",          # warm off-white page
    "text": "#1A1A1A",
    "muted_text": "#3D3D3D",   # still >= 4.5:1 on bg and surface
    "surface": "#FFFFFF",      # tiles, cards
    "band": "#E9E4D6",         # every other row of a summary, so the eye keeps the row across the gap
    "border": "#5A5A5A",
    "primary": "#0B4F8A",      # deep blue buttons with white text
    "on_primary": "#FFFFFF",
    "bar": "#14324F",          # the common bars, white text
    "on_bar": "#FFFFFF",
    "ok": "#1B6E2E",           # green with white text + a check icon
    "on_ok": "#FFFFFF",
    "warn": "#8A4B00",         # amber-brown with white text + a triangle icon
    "on_warn": "#FFFFFF",
    "error": "#A4161A",        # red with white text + a cross icon
    "on_error": "#FFFFFF",
    "focus": "#F2C14E",        # selection outline, beside dark text
    "overlay": "#102A43",      # idle overlay, white text
    "on_overlay": "#FFFFFF",
}


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of "#RRGGBB"."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG contrast ratio (1..21) between two "#RRGGBB" colours."""
    a, b = relative_luminance(fg), relative_luminance(bg)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


@lru_cache(maxsize=8)
def cap_fraction(lang: str) -> float:
    """Cap height / pixel size of the font this language resolves to (needs a QGuiApplication)."""
    from PySide6.QtGui import QFont, QFontMetricsF

    f = QFont()
    f.setFamilies(FAMILIES[lang])
    f.setPixelSize(100)
    cap = QFontMetricsF(f).capHeight()
    return cap / 100 if cap > 0 else 0.7


def line_ink(line) -> tuple[float, float]:
    """(above, below) the baseline: how far a laid-out QTextLine's glyphs really reach, in pixels.

    Taken from the shaped glyphs' own boxes: QFontMetricsF.tightBoundingRect misses the vowel
    signs above Tibetan letters."""
    base = line.y() + line.ascent()
    above = below = 0.0
    for run in line.glyphRuns():
        raw = run.rawFont()
        for index, pos in zip(run.glyphIndexes(), run.positions(), strict=True):
            box = raw.boundingRect(index)
            above = max(above, base - (pos.y() + box.top()))
            below = max(below, pos.y() + box.bottom() - base)
    return above, below


_INK_CACHE: dict[str, tuple[float, float]] = {}


def ink_extents(font) -> tuple[float, float]:
    """(above, below) the baseline that every line in `font` is given: the reference text's ink."""
    key = font.key()
    if key not in _INK_CACHE:
        from PySide6.QtGui import QTextLayout

        layout = QTextLayout(INK_REFERENCE, font)
        layout.beginLayout()
        line = layout.createLine()
        line.setLineWidth(1e6)
        layout.endLayout()
        _INK_CACHE[key] = line_ink(line)
    return _INK_CACHE[key]


_TALL_CACHE: dict[str, bool] = {}


def is_tall(font) -> bool:
    """True for a font whose declared line box is mostly air (Noto Serif Tibetan: 2.8 x its size).
    Kept per font: every label asks on each size hint and paint, and metrics cost a font lookup."""
    key = font.key()
    tall = _TALL_CACHE.get(key)
    if tall is None:
        from PySide6.QtGui import QFontInfo, QFontMetricsF

        tall = _TALL_CACHE[key] = QFontMetricsF(font).lineSpacing() > TALL_LINE_BOX * max(1, QFontInfo(font).pixelSize())
    return tall


def fitted_line_height(font) -> float:
    """One ink-fitted line plus the gap to the next: the pitch of a Tibetan paragraph."""
    from PySide6.QtGui import QFontInfo

    above, below = ink_extents(font)
    return above + below + LINE_GAP * QFontInfo(font).pixelSize()


def theme_lang(lang: str) -> str:
    """The theme knows the kiosk languages; English (the maintenance screen's third language) is set in
    the Chinese font, which has Latin."""
    return lang if lang in FAMILIES else "zh"


@dataclass
class Theme:
    dpi: float = DESIGN_DPI
    elder: bool = False
    palette: dict[str, str] = field(default_factory=lambda: dict(PALETTE))

    @classmethod
    def for_screen(cls, screen: object | None = None, elder: bool = False) -> Theme:
        """Uses the screen's physical DPI; a screen reporting nonsense gets the design DPI."""
        dpi = DESIGN_DPI
        if screen is not None:
            reported = float(screen.physicalDotsPerInch())
            if 60 <= reported <= 400:
                dpi = reported
        return cls(dpi=dpi, elder=elder)

    # --- sizes ------------------------------------------------------------------------------------
    @property
    def scale(self) -> float:
        return ELDER_SCALE if self.elder else 1.0

    def dp(self, value: float) -> int:
        return max(1, round(value * self.dpi / DP_PER_INCH))

    def control_px(self, dp_value: float = MIN_CONTROL_DP) -> int:
        """A control's minimum side: never below 60 dp, grown with elder mode."""
        return self.dp(max(dp_value, MIN_CONTROL_DP) * self.scale)

    def cap_px(self) -> float:
        return CAP_HEIGHT_MM * self.dpi / 25.4

    def text_px(self, lang: str, role: str = "body") -> int:
        """Pixel size for a text role; "body" meets the 7 mm cap height, others are larger."""
        lang = "zh" if role in NUMERIC_ROLES else lang
        base = math.ceil(self.cap_px() / cap_fraction(lang))
        factor = TITLE_FACTOR_BO if (lang, role) == ("bo", "title") else ROLE_FACTORS[role]
        # the tracking number is already 2.4x body: elder mode's 1.3x would only push the rest away
        return math.ceil(base * factor * (1.0 if role == "tracking" else self.scale))

    def font(self, lang: str, role: str = "body"):
        from PySide6.QtGui import QFont

        lang = "zh" if role in NUMERIC_ROLES else theme_lang(lang)
        f = QFont()
        f.setFamilies(FAMILIES[lang])
        f.setPixelSize(self.text_px(lang, role))
        f.setBold(role in ("title", "number", "tracking"))
        return f

    def line_height(self, lang: str, role: str = "body") -> int:
        """The pitch of a paragraph's lines: at least 1.3x the pixel size; the font's own spacing,
        or for a font with a mostly empty line box (Tibetan) lines fitted to the ink."""
        from PySide6.QtGui import QFontMetricsF

        font = self.font(lang, role)
        natural = fitted_line_height(font) if is_tall(font) else QFontMetricsF(font).lineSpacing()
        return math.ceil(max(natural, LINE_SPACING * self.text_px(lang, role)))

    def colour(self, name: str) -> str:
        return self.palette[name]

    # --- Qt style sheet ---------------------------------------------------------------------------
    def stylesheet(self) -> str:
        p = self.palette
        r = self.dp(16)
        return f"""
        QWidget#Root, QStackedWidget, QScrollArea, QScrollArea > QWidget > QWidget {{
            background: {p['bg']}; color: {p['text']}; }}
        QLabel {{ color: {p['text']}; background: transparent; }}
        QFrame#Bar {{ background: {p['bar']}; }}
        QFrame#Bar QLabel {{ color: {p['on_bar']}; }}
        BigButton {{ background: {p['surface']}; border: {self.dp(4)}px solid {p['border']};
            border-radius: {r}px; }}
        BigButton[kind="primary"] {{ background: {p['primary']}; border-color: {p['primary']}; }}
        BigButton[kind="primary"] QLabel {{ color: {p['on_primary']}; }}
        BigButton[kind="bar"] {{ background: {p['bar']}; border: {self.dp(3)}px solid {p['on_bar']}; }}
        BigButton[kind="bar"] QLabel {{ color: {p['on_bar']}; }}
        BigButton[selected="true"] {{ border: {self.dp(8)}px solid {p['focus']}; }}
        BigButton:disabled {{ border-style: dashed; }}
        QFrame#Banner[state="info"] {{ background: {p['primary']}; }}
        QFrame#Banner[state="ok"] {{ background: {p['ok']}; }}
        QFrame#Banner[state="warn"] {{ background: {p['warn']}; }}
        QFrame#Banner[state="error"] {{ background: {p['error']}; }}
        QFrame#Banner QLabel {{ color: #FFFFFF; }}
        QFrame#Overlay {{ background: {p['overlay']}; }}
        QFrame#Overlay QLabel {{ color: {p['on_overlay']}; }}
        QFrame#InfoRow {{ background: {p['surface']}; }}
        QFrame#InfoRow[band="true"] {{ background: {p['band']}; }}
        QFrame#Panel {{ background: {p['surface']}; border: {self.dp(3)}px solid {p['border']};
            border-radius: {r}px; }}
        QScrollBar:vertical {{ width: {self.dp(44)}px; background: {p['surface']}; }}
        QScrollBar::handle:vertical {{ background: {p['border']}; min-height: {self.dp(60)}px;
            border-radius: {self.dp(8)}px; }}
        """
