"""The theme's numbers: WCAG contrast of every colour pair used, 7 mm capitals, 60 dp controls."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFontInfo, QFontMetricsF

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
    assert t.line_height("bo") >= 1.8 * t.line_height("zh")  # why every height is asked, never fixed


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
