"""The theme's numbers: WCAG contrast of every colour pair used, 7 mm capitals, 60 dp controls."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QFont, QFontInfo, QFontMetricsF, QImage, QPainter

from ui.theme import DESIGN_DPI, LINE_SPACING, PALETTE, TEXT_PAIRS, Theme, contrast_ratio


def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # the classic AA grey


@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_every_text_colour_pair_reaches_4_5(fg, bg):
    assert contrast_ratio(PALETTE[fg], PALETTE[bg]) >= 4.5


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
    from ui.widgets import Label

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
    from ui.widgets import Label

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
    from ui import icons

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
