"""What a kiosk prints: receipts (title, hall, label/value lines, notes, QR code with how to follow up,
footer) and long text documents (guides, blank forms), laid out with `render` into 1-bit page images.

A receipt is in the resident's language; with `alt` (the same receipt in the other language) each of
its texts has the other language's words beneath, smaller, and values (numbers) are printed once.

Callers put only masked ID numbers on a receipt (first 6, `*` x8, last 4); this module prints
what it is given and logs nothing of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from PySide6.QtGui import QImage, QPainter

from devices.printer.render import (
    Align,
    Block,
    LabelValue,
    QrCode,
    Rule,
    Spacer,
    Text,
    layout_text,
    make_font,
    render_blocks,
)

if TYPE_CHECKING:
    from kiosk.flows.receipt import ReceiptContent

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
    """`lines` holds (label, value) pairs or plain paragraphs, in order; `notes` (heading, paragraph)."""

    title: str
    lines: list[tuple[str, str] | str] = field(default_factory=list)
    qr: str | None = None
    footer: str | None = None
    lang: Lang = "bo"
    title_alt: str | None = None  # the title again in the second language (default: alt's title)
    title_alt_lang: Lang | None = None  # defaults to the other kiosk language
    hall: str | None = None  # where it was printed, under the title
    notes: list[tuple[str, str]] = field(default_factory=list)  # e.g. processing time, what happens next
    qr_caption: str | None = None  # under the QR: how to follow up with it
    # The same receipt in the other language, item for item (its own alt unused): printed beneath each item.
    alt: Receipt | None = None

    def __post_init__(self) -> None:
        if self.alt is not None and _shape(self.alt) != _shape(self):
            raise ValueError("a receipt's alt must have the same lines and notes, item for item")


def _shape(receipt: Receipt) -> tuple[list[bool], int]:
    return [isinstance(line, tuple) for line in receipt.lines], len(receipt.notes)


def receipt_from_content(content: ReceiptContent) -> Receipt:
    """The printable receipt for the flow engine's ReceiptContent (same fields, its alt beneath)."""
    return Receipt(title=content.title, lines=list(content.lines), qr=content.qr, footer=content.footer or None,
                   lang=content.lang, hall=content.hall or None, notes=list(content.notes),
                   qr_caption=content.qr_caption or None,
                   alt=receipt_from_content(content.alt) if content.alt is not None else None)


def _natural_width(text: Text) -> float:
    layout, _ = layout_text(text.text, make_font(text.lang, text.size_px, text.bold), 1e6)
    return max((layout.lineAt(i).naturalTextWidth() for i in range(layout.lineCount())), default=0.0)


@dataclass
class BilingualLabelValue:
    """A label with the other language's label beneath it, and the value (a number, the same in both
    languages) right of them when it fits, else below them, indented."""

    label: str
    label_alt: str
    value: str
    lang: Lang
    alt_lang: Lang
    gap: int = 16
    indent: int = 24

    def _parts(self, width: int) -> tuple[Text, Text, Text, bool]:
        label = Text(self.label, self.lang, BODY_PX[self.lang])
        label_alt = Text(self.label_alt, self.alt_lang, SMALL_PX[self.alt_lang])
        value = Text(self.value, self.lang, BODY_PX[self.lang], bold=True)
        widest = max(_natural_width(label), _natural_width(label_alt))
        beside = widest + self.gap + _natural_width(value) <= width
        if beside:
            value.align = "right"
        return label, label_alt, value, beside

    def measure(self, width: int) -> int:
        label, label_alt, value, beside = self._parts(width)
        labels = label.measure(width) + label_alt.measure(width)
        return max(labels, value.measure(width)) if beside else labels + value.measure(width - self.indent)

    def paint(self, painter: QPainter, x: int, y: int, width: int) -> None:
        label, label_alt, value, beside = self._parts(width)
        label.paint(painter, x, y, width)
        below = y + label.measure(width)
        label_alt.paint(painter, x, below, width)
        if beside:
            value.paint(painter, x, y, width)
        else:
            value.paint(painter, x + self.indent, below + label_alt.measure(width), width - self.indent)


def _beneath(text: str | None, lang: Lang, *, bold: bool = False, align: Align = "left") -> list[Block]:
    """The other language's words under an item: smaller, so the resident's own stand out."""
    return [Text(text, lang, SMALL_PX[lang], bold=bold, align=align)] if text else []


def receipt_sections(receipt: Receipt) -> list[tuple[str, list[Block]]]:
    """The receipt's blocks top to bottom in named sections (title, hall, lines, notes, qr, follow_up,
    footer, tail); sections with nothing to say are left out."""
    lang, alt = receipt.lang, receipt.alt
    alt_lang: Lang = receipt.title_alt_lang or (alt.lang if alt else other_lang(lang))
    title_alt = receipt.title_alt or (alt.title if alt else None)
    sections: list[tuple[str, list[Block]]] = [("title", [
        Text(receipt.title, lang, TITLE_PX[lang], bold=True, align="center"),
        *([Text(title_alt, alt_lang, BODY_PX[alt_lang], align="center")] if title_alt else [])])]
    if receipt.hall:
        sections.append(("hall", [Text(receipt.hall, lang, BODY_PX[lang], align="center"),
                                  *_beneath(alt.hall if alt else None, alt_lang, align="center")]))
    lines: list[Block] = [Rule()]
    for i, line in enumerate(receipt.lines):
        other = alt.lines[i] if alt else None
        if isinstance(line, tuple) and isinstance(other, tuple):
            lines.append(BilingualLabelValue(line[0], other[0], line[1], lang, alt_lang))
        elif isinstance(line, tuple):
            lines.append(LabelValue(line[0], line[1], lang, BODY_PX[lang]))
        else:
            lines.append(Text(line, lang, BODY_PX[lang]))
            lines += _beneath(other if isinstance(other, str) else None, alt_lang)
    sections.append(("lines", lines))
    if receipt.notes:
        notes: list[Block] = [Rule()]
        for i, (heading, paragraph) in enumerate(receipt.notes):
            notes += [Text(heading, lang, BODY_PX[lang], bold=True), Text(paragraph, lang, BODY_PX[lang])]
            if alt:
                notes += [*_beneath(alt.notes[i][0], alt_lang, bold=True), *_beneath(alt.notes[i][1], alt_lang)]
            notes.append(Spacer(8))
        sections.append(("notes", notes))
    if receipt.qr:
        sections.append(("qr", [Spacer(12), QrCode(receipt.qr)]))
    if receipt.qr_caption:
        sections.append(("follow_up", [Text(receipt.qr_caption, lang, BODY_PX[lang], align="center"),
                                       *_beneath(alt.qr_caption if alt else None, alt_lang, align="center")]))
    if receipt.footer:
        sections.append(("footer", [Rule(), Text(receipt.footer, lang, SMALL_PX[lang], align="center"),
                                    *_beneath(alt.footer if alt else None, alt_lang, align="center")]))
    sections.append(("tail", [Spacer(TAIL_DOTS)]))
    return sections


def receipt_blocks(receipt: Receipt) -> list[Block]:
    return [block for _, blocks in receipt_sections(receipt) for block in blocks]


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
