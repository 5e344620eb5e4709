"""What a kiosk prints: receipts (title, label/value lines, QR code, footer) and long text
documents (guides, blank forms), laid out with `render` into 1-bit page images.

Callers put only masked ID numbers on a receipt (first 6, `*` x8, last 4); this module prints
what it is given and logs nothing of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from PySide6.QtGui import QImage

from devices.printer.render import Block, LabelValue, QrCode, Rule, Spacer, Text, render_blocks

Lang = Literal["bo", "zh"]

# Pixel sizes at 203 dpi (8 dots/mm). Tibetan glyphs look smaller than Chinese at the same size,
# so Tibetan gets a little more; both stay large for elderly readers.
TITLE_PX: dict[str, int] = {"bo": 42, "zh": 38}
BODY_PX: dict[str, int] = {"bo": 30, "zh": 28}
SMALL_PX: dict[str, int] = {"bo": 26, "zh": 22}
# Blank paper after the last line so the cutter (a few mm above the print head) clears the text.
TAIL_DOTS = 48


def other_lang(lang: str) -> Lang:
    return "zh" if lang == "bo" else "bo"


@dataclass
class Receipt:
    """`lines` holds (label, value) pairs or plain paragraphs, in order."""

    title: str
    lines: list[tuple[str, str] | str] = field(default_factory=list)
    qr: str | None = None
    footer: str | None = None
    lang: Lang = "bo"
    title_alt: str | None = None  # the title again in the second language
    title_alt_lang: Lang | None = None  # defaults to the other kiosk language


def receipt_blocks(receipt: Receipt) -> list[Block]:
    lang = receipt.lang
    blocks: list[Block] = [Text(receipt.title, lang, TITLE_PX[lang], bold=True, align="center")]
    if receipt.title_alt:
        alt = receipt.title_alt_lang or other_lang(lang)
        blocks.append(Text(receipt.title_alt, alt, BODY_PX[alt], align="center"))
    blocks.append(Rule())
    for line in receipt.lines:
        if isinstance(line, tuple):
            label, value = line
            blocks.append(LabelValue(label, value, lang, BODY_PX[lang]))
        else:
            blocks.append(Text(line, lang, BODY_PX[lang]))
    if receipt.qr:
        blocks += [Spacer(12), QrCode(receipt.qr)]
    if receipt.footer:
        blocks += [Rule(), Text(receipt.footer, lang, SMALL_PX[lang], align="center")]
    blocks.append(Spacer(TAIL_DOTS))
    return blocks


def render_receipt(receipt: Receipt, width_dots: int = 576) -> QImage:
    """The receipt as a thresholded Grayscale8 image `width_dots` wide (0 = ink, 255 = paper)."""
    return render_blocks(receipt_blocks(receipt), width_dots)


def render_text_document(title: str, paragraphs: Sequence[str], lang: Lang,
                         width_dots: int = 576) -> QImage:
    """A guide or blank form: a centred title and wrapped paragraphs, as long as it needs to be."""
    blocks: list[Block] = [Text(title, lang, TITLE_PX[lang], bold=True, align="center"), Rule()]
    for paragraph in paragraphs:
        blocks += [Text(paragraph, lang, BODY_PX[lang]), Spacer(10)]
    blocks.append(Spacer(TAIL_DOTS))
    return render_blocks(blocks, width_dots)
