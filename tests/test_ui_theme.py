"""The theme's numbers: WCAG contrast of every colour pair the style sheet uses, 7 mm capitals, 60 dp controls."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QFont, QFontInfo, QFontMetricsF, QImage, QPainter

from ui.theme import DESIGN_DPI, LINE_SPACING, PALETTE, Theme, contrast_ratio


def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # the classic AA grey


_HEX = re.compile(r"#[0-9A-Fa-f]{6}")


def sheet_rules(css: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, {property: value}) for every selector of every rule of a Qt style sheet."""
    out = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        props = {k.strip(): v.strip() for k, _, v in (d.partition(":") for d in body.split(";")) if v.strip()}
        out += [(sel.strip(), props) for sel in selectors.split(",")]
    return out


def _matches(ancestor: str, selector: str) -> bool:
    """`selector` styles a widget `ancestor` picks out: same type#id, at least the ancestor's [attributes]."""
    base = lambda s: s.split("[", 1)[0]  # noqa: E731
    attrs = lambda s: set(re.findall(r"\[[^\]]*\]", s))  # noqa: E731
    return base(ancestor) == base(selector) and attrs(ancestor) <= attrs(selector)


def colour_pairs(css: str) -> set[tuple[str, str]]:
    """Text colour and the background it is drawn on, for each rule that sets a colour: its own
    background, else its ancestor's (`A QLabel` on A's backgrounds), else (a bare `QLabel`) every
    background of a widget that holds labels and has no label colour of its own."""
    rules = sheet_rules(css)
    backgrounds = [(sel, _HEX.search(p["background"]).group(0).upper()) for sel, p in rules
                   if _HEX.search(p.get("background", "")) and "::" not in sel and not sel.startswith("QScrollBar")]
    pairs = set()
    for sel, props in rules:
        fg = _HEX.search(props.get("color", ""))
        if not fg:
            continue
        own = _HEX.search(props.get("background", ""))
        if own:
            pairs.add((fg.group(0).upper(), own.group(0).upper()))
        elif " " in sel:
            ancestor = sel.rsplit(" ", 1)[0]
            pairs |= {(fg.group(0).upper(), bg) for s, bg in backgrounds if _matches(ancestor, s)}
        else:
            coloured = [s.rsplit(" ", 1)[0] for s, p in rules if " " in s and "color" in p]
            pairs |= {(fg.group(0).upper(), bg) for s, bg in backgrounds
                      if not any(_matches(a, s) for a in coloured)}
    return pairs


@pytest.mark.parametrize("elder", [False, True])
def test_every_colour_pair_the_stylesheet_uses_reaches_4_5(elder):
    pairs = colour_pairs(Theme(elder=elder).stylesheet())
    p = {k: v.upper() for k, v in PALETTE.items()}
    # the extraction finds the pairs on every kind of surface: page, tile, band, bar, banner, button, overlay
    for fg, bg in [("text", "bg"), ("text", "surface"), ("text", "band"), ("on_bar", "bar"), ("on_warn", "warn"),
                   ("on_error", "error"), ("on_primary", "primary"), ("on_overlay", "overlay")]:
        assert (p[fg], p[bg]) in pairs, (fg, bg)
    low = {pair: round(contrast_ratio(*pair), 2) for pair in pairs if contrast_ratio(*pair) < 4.5}
    assert not low, low


def test_icons_drawn_in_state_colours_stand_out_on_every_surface():
    """Colours the code (not the style sheet) gives icons: the payment marks' state colours, drawn on a page
    or a card; WCAG asks 3:1 of graphics, the theme keeps them at text contrast (4.5:1) as they sit by words."""
    from ui.screens.payments_answer import _UNKNOWN_ICON, PAYER_ICONS

    colours = {colour for _icon, colour in [*PAYER_ICONS.values(), _UNKNOWN_ICON]}
    assert {"ok", "error"} <= colours  # what a resident reads "paid" / "in arrears" from, with the word
    low = {(c, bg): round(contrast_ratio(PALETTE[c], PALETTE[bg]), 2) for c in colours for bg in ("surface", "bg")
           if contrast_ratio(PALETTE[c], PALETTE[bg]) < 4.5}
    assert not low, low


@pytest.mark.parametrize("lang", ["bo", "zh"])
@pytest.mark.parametrize("elder", [False, True])
def test_body_capitals_are_7_mm_at_the_design_screen(qapp, lang, elder):
    t = Theme(dpi=DESIGN_DPI, elder=elder)
    cap_px = QFontMetricsF(t.font(lang, "body")).capHeight()
    assert cap_px / DESIGN_DPI * 25.4 >= 7.0
    if elder:  # MIIT elder mode: main text at least 30 dp
        assert t.text_px(lang) / (DESIGN_DPI / 160) >= 30


def test_fonts_resolve_to_the_named_families(qapp):
    t = Theme()
    assert QFontInfo(t.font("bo")).family() == "Noto Serif Tibetan"
    assert QFontInfo(t.font("zh")).family() == "Noto Sans CJK SC"
    assert QFontInfo(t.font("bo", "number")).family() == "Noto Sans CJK SC"  # digits: no Tibetan height


def test_line_spacing_and_tibetan_height_budget(qapp):
    t = Theme()
    for lang in ("bo", "zh"):
        assert t.line_height(lang) >= LINE_SPACING * t.text_px(lang)
    declared = QFontMetricsF(t.font("bo")).lineSpacing()  # Noto Serif Tibetan: 2.8 x its size
    assert t.line_height("bo") > 1.1 * t.line_height("zh")  # Tibetan still needs more: heights are asked
    assert t.line_height("bo") < 0.7 * declared  # but not the font's mostly empty line box


def ink_rows(image: QImage) -> tuple[int, int, int]:
    """(first row, last row, pixel count) of dark ink on a white image."""
    grey = image.convertToFormat(QImage.Format_Grayscale8)
    a = np.frombuffer(grey.constBits(), np.uint8).reshape(grey.height(), grey.bytesPerLine())[:, :grey.width()]
    rows = np.where((a < 160).any(axis=1))[0]
    return int(rows.min()), int(rows.max()), int((a < 160).sum())


def reference_ink(text: str, font: QFont) -> tuple[int, int, int]:
    """The same text drawn by QPainter on a canvas far larger than it: nothing can be cut off."""
    image = QImage(3000, 600, QImage.Format_RGB32)
    image.fill(QColor("white"))
    p = QPainter(image)
    p.setFont(font)
    p.setPen(QColor("black"))
    p.drawText(QPointF(100, 300), text)
    p.end()
    return ink_rows(image)


# Stacks three deep, vowel signs and marks above (ཾ ཱ ཿ), a syllable with Chinese and digits beside it
TIBETAN = ["བསྒྲུབས་ཀྱི་ཞུ་ཡིག", "ཨོཾ་མ་ཎི་པདྨེ་ཧཱུྃ།", "ཧྲཱིཿ", "ཐོབ་ཐང་ལག་ཁྱེར། 540102********0119", "མིང་། 扎西次仁"]


@pytest.mark.parametrize("text", TIBETAN)
def test_a_tibetan_label_is_compact_and_draws_every_glyph_whole(qapp, text):
    """Independent of how the label places its lines: its pixels hold exactly the ink of the same text
    drawn with room to spare, none of it on the label's edge, in much less than the font's line box."""
    from ui.widgets.labels import Label

    t = Theme()
    label = Label(text, "body")
    label.setFont(t.font("bo"))
    label.setStyleSheet("background: white; color: black")
    label.resize(1500, label.heightForWidth(1500))  # one line, as the reference
    top, bottom, pixels = ink_rows(label.grab().toImage())
    ref_top, ref_bottom, ref_pixels = reference_ink(text, label.font())
    assert bottom - top == pytest.approx(ref_bottom - ref_top, abs=1)
    assert pixels == pytest.approx(ref_pixels, rel=0.02)
    assert top > 0 and bottom < label.height() - 1  # not touching an edge: nothing cut
    assert label.height() < 0.75 * QFontMetricsF(label.font()).lineSpacing()


def test_a_wrapped_tibetan_label_keeps_every_line(qapp):
    from ui.widgets.labels import Label

    t = Theme()
    text = "ནོར་འཁྲུལ་མེད་ན་ཞུ་ཡིག་འབུལ་རོགས། ནོར་འཁྲུལ་ཡོད་ན་བཅོས་རོགས། བསྒྲུབས་ཀྱི་ཞུ་ཡིག"
    label = Label(text, "body")
    label.setFont(t.font("bo"))
    label.setStyleSheet("background: white; color: black")
    label.resize(300, label.heightForWidth(300))
    assert label.height() > 3 * t.line_height("bo") * 0.9  # wrapped to several lines
    top, bottom, pixels = ink_rows(label.grab().toImage())
    assert pixels == pytest.approx(reference_ink(text, label.font())[2], rel=0.03)  # every glyph, whole
    assert top > 0 and bottom < label.height() - 1


def test_feedback_faces_are_told_apart(qapp):
    """Neighbouring faces differ in many pixels (a mouth's curve, eyes, brows), and "very good" stands
    apart from "good" at least as much as any other neighbours (a deeper curve alone did not)."""
    from ui.widgets import icons

    def pixels(name: str) -> np.ndarray:
        image = icons.pixmap(name, 120).toImage().convertToFormat(QImage.Format_ARGB32)
        a = np.frombuffer(image.constBits(), np.uint8).reshape(120, image.bytesPerLine() // 4, 4)
        return a[:, :120, 3] > 128  # drawn where alpha is high

    faces = [pixels(f"face_{n}") for n in range(1, 6)]
    changes = [int((a ^ b).sum()) for a, b in zip(faces, faces[1:], strict=False)]
    assert min(changes) > 300  # at 120 px: a mouth moved well clear of where it was
    assert changes[-1] >= max(changes[:-1])


def test_dp_and_control_sizes():
    assert Theme(dpi=160).dp(60) == 60
    assert Theme(dpi=DESIGN_DPI).control_px() == round(60 * DESIGN_DPI / 160)
    assert Theme(dpi=DESIGN_DPI, elder=True).control_px() > Theme(dpi=DESIGN_DPI).control_px()


def test_a_screen_reporting_nonsense_dpi_gets_the_design_dpi():
    class Screen:
        def __init__(self, dpi):
            self.dpi = dpi

        def physicalDotsPerInch(self):  # noqa: N802 (Qt's name)
            return self.dpi

    assert Theme.for_screen(Screen(0.0)).dpi == DESIGN_DPI
    assert Theme.for_screen(Screen(141.0)).dpi == 141.0
