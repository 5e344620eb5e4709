"""The printed page's fonts, in their fallback order: receipts (Qt), A4 guides and forms, and the
platform's certificates (WeasyPrint) all set Tibetan and Chinese in the same families.

Primary family first; the renderer falls back along the list per character (Chinese inside a Tibetan
line, Tibetan inside a Chinese one). The kiosk screen has its own list in ui/theme.py.
"""

from __future__ import annotations

PRINT_FAMILIES: dict[str, list[str]] = {
    "bo": ["Noto Serif Tibetan", "Tibetan Machine Uni", "Noto Sans CJK SC"],
    "zh": ["Noto Sans CJK SC", "Noto Serif Tibetan", "Tibetan Machine Uni"],
}
PRINT_FAMILIES["en"] = PRINT_FAMILIES["zh"]  # Noto Sans CJK SC has good Latin glyphs


def css_font_family(lang: str) -> str:
    """The families as a CSS font-family value (a language without its own list: the Chinese one)."""
    return ", ".join(f"'{f}'" for f in PRINT_FAMILIES.get(lang, PRINT_FAMILIES["zh"])) + ", serif"
