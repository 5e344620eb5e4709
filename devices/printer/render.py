"""Multi-language text and QR codes drawn by Qt into 1-bit images for raster printing.

Thermal printers carry no Tibetan font, so everything printed is a picture. This module is the
one place that knows the fonts and how to wrap text; receipts, guides and blank forms (and the UI
team's print previews) are lists of blocks handed to `render_blocks`.

Tibetan needs roughly twice the line height of Chinese at the same pixel size (deep stacks below
the baseline), so every height comes from the font's own metrics via QTextLayout, never a constant.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import segno
from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QImage,
    QPainter,
    QTextLayout,
    QTextOption,
)

from kiosk.fonts import PRINT_FAMILIES

Align = Literal["left", "center", "right"]

FAMILIES = PRINT_FAMILIES  # Qt falls back along each list per character

# Anti-aliased grey below this becomes a black dot; biased dark so thin Tibetan strokes survive.
INK_THRESHOLD = 160
# Below 3 dots (0.375 mm at 203 dpi) a module is too small for the kiosk camera to read back.
MIN_QR_MODULE_DOTS = 3

_ALIGN = {"left": Qt.AlignmentFlag.AlignLeft, "center": Qt.AlignmentFlag.AlignHCenter,
          "right": Qt.AlignmentFlag.AlignRight}


def ensure_gui_app() -> QGuiApplication:
    """Return the running Qt application, creating one if there is none.

    A QApplication (not a bare QGuiApplication) is created so widget code in the same process
    (the kiosk UI, its tests) keeps working. Without a display the offscreen platform is used.
    """
    app = QGuiApplication.instance()
    if app is not None:
        if not isinstance(app, QGuiApplication):
            raise RuntimeError("a non-GUI QCoreApplication is running; text rendering needs a GUI app")
        return app
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication(["kiosk"])


def resolve_family(lang: str) -> str:
    """The first installed family for `lang` (what a test or the maintenance screen should check)."""
    ensure_gui_app()
    installed = set(QFontDatabase.families())
    for family in FAMILIES.get(lang, FAMILIES["zh"]):
        if family in installed:
            return family
    raise RuntimeError(f"no font installed for language {lang!r}: need one of {FAMILIES.get(lang)}")


def make_font(lang: str, size_px: int, bold: bool = False) -> QFont:
    ensure_gui_app()
    font = QFont()
    font.setFamilies(FAMILIES.get(lang, FAMILIES["zh"]))
    font.setPixelSize(size_px)
    font.setBold(bold)
    return font


def layout_text(text: str, font: QFont, width: float, align: Align = "left",
                line_spacing: float = 1.0) -> tuple[QTextLayout, float]:
    """Wrap `text` to `width` (Qt breaks Tibetan after the tsheg, Chinese between characters,
    and anywhere inside an over-long token). Returns the layout and its height in pixels."""
    layout = QTextLayout(text.replace("\n", "\u2028"), font)  # U+2028 is a forced line break
    option = QTextOption(_ALIGN[align])
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    y = 0.0
    layout.beginLayout()
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        line.setPosition(QPointF(0, y))
        y += line.height() * line_spacing
    layout.endLayout()
    return layout, y


def draw_wrapped_text(painter: QPainter, text: str, lang: str, x: float, y: float, width: float, *,
                      size_px: int = 28, bold: bool = False, align: Align = "left",
                      line_spacing: float = 1.0) -> float:
    """Draw wrapped text with the right fonts for `lang`; returns the y just below it."""
    layout, height = layout_text(text, make_font(lang, size_px, bold), width, align, line_spacing)
    painter.setPen(QColor(0, 0, 0))
    layout.draw(painter, QPointF(x, y))
    return y + height


class Block(Protocol):
    """One vertical piece of a printed page: measured first, then painted at its place."""

    def measure(self, width: int) -> int: ...

    def paint(self, painter: QPainter, x: int, y: int, width: int) -> None: ...


@dataclass
class Text:
    text: str
    lang: str
    size_px: int = 28
    bold: bool = False
    align: Align = "left"
    line_spacing: float = 1.0

    def measure(self, width: int) -> int:
        _, height = layout_text(self.text, make_font(self.lang, self.size_px, self.bold), width,
                                self.align, self.line_spacing)
        return int(np.ceil(height))

    def paint(self, painter: QPainter, x: int, y: int, width: int) -> None:
        draw_wrapped_text(painter, self.text, self.lang, x, y, width, size_px=self.size_px,
                          bold=self.bold, align=self.align, line_spacing=self.line_spacing)


@dataclass
class LabelValue:
    """`label ..... value` on one line when both fit, else the label above an indented value."""

    label: str
    value: str
    lang: str
    size_px: int = 28
    gap: int = 16
    indent: int = 24

    def _natural_width(self, text: str, bold: bool) -> float:
        layout, _ = layout_text(text, make_font(self.lang, self.size_px, bold), 1e6)
        return max((layout.lineAt(i).naturalTextWidth() for i in range(layout.lineCount())), default=0.0)

    def _one_line(self, width: int) -> bool:
        if "\n" in self.label or "\n" in self.value:
            return False
        return self._natural_width(self.label, False) + self.gap + self._natural_width(self.value, True) <= width

    def _parts(self, width: int) -> tuple[Text, Text, int]:
        label = Text(self.label, self.lang, self.size_px)
        value = Text(self.value, self.lang, self.size_px, bold=True)
        if self._one_line(width):
            value.align = "right"
            return label, value, 0
        return label, value, self.indent

    def measure(self, width: int) -> int:
        label, value, indent = self._parts(width)
        if indent == 0:
            return max(label.measure(width), value.measure(width))
        return label.measure(width) + value.measure(width - indent)

    def paint(self, painter: QPainter, x: int, y: int, width: int) -> None:
        label, value, indent = self._parts(width)
        if indent == 0:
            label.paint(painter, x, y, width)
            value.paint(painter, x, y, width)
            return
        label.paint(painter, x, y, width)
        value.paint(painter, x + indent, y + label.measure(width), width - indent)


@dataclass
class Rule:
    """A horizontal line with some air above and below."""

    thickness: int = 2
    pad: int = 10

    def measure(self, width: int) -> int:
        return self.thickness + 2 * self.pad

    def paint(self, painter: QPainter, x: int, y: int, width: int) -> None:
        painter.fillRect(QRect(x, y + self.pad, width, self.thickness), QColor(0, 0, 0))


@dataclass
class Spacer:
    height: int

    def measure(self, width: int) -> int:
        return self.height

    def paint(self, painter: QPainter, x: int, y: int, width: int) -> None:
        return None


@dataclass
class QrCode:
    """A QR code (never Micro QR: OpenCV cannot read it) with crisp integer-sized modules and the
    4-module quiet zone, centred; about `fraction` of the width unless `module_px` is given."""

    data: str
    module_px: int | None = None
    fraction: float = 0.5
    error: str = "m"
    _matrix: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        qr = segno.make_qr(self.data, error=self.error)
        self._matrix = np.array([list(row) for row in qr.matrix], dtype=bool)

    @property
    def modules_with_border(self) -> int:
        return self._matrix.shape[0] + 8

    def scale(self, width: int) -> int:
        """Dots per module: integer, so every module prints as the same crisp square."""
        fits = width // self.modules_with_border
        if fits < MIN_QR_MODULE_DOTS:
            raise ValueError(f"QR code with {len(self.data)} characters does not fit {width} dots")
        wanted = self.module_px or int(width * self.fraction) // self.modules_with_border
        return min(max(wanted, MIN_QR_MODULE_DOTS), fits)

    def measure(self, width: int) -> int:
        return self.modules_with_border * self.scale(width)

    def paint(self, painter: QPainter, x: int, y: int, width: int) -> None:
        s = self.scale(width)
        left = x + (width - self.modules_with_border * s) // 2 + 4 * s
        top = y + 4 * s
        black = QColor(0, 0, 0)
        for r, c in zip(*np.nonzero(self._matrix), strict=True):
            painter.fillRect(QRect(left + int(c) * s, top + int(r) * s, s, s), black)


def render_blocks(blocks: Sequence[Block], width_dots: int, *, margin: int = 8,
                  threshold: int = INK_THRESHOLD) -> QImage:
    """Lay the blocks out top to bottom on a page `width_dots` wide; returns a thresholded
    Grayscale8 image (every pixel 0 = ink or 255 = paper)."""
    ensure_gui_app()
    inner = width_dots - 2 * margin
    if inner <= 0:
        raise ValueError(f"page width {width_dots} leaves no room inside margins of {margin}")
    heights = [b.measure(inner) for b in blocks]
    img = QImage(width_dots, sum(heights) + 2 * margin, QImage.Format.Format_Grayscale8)
    img.fill(255)
    painter = QPainter(img)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    try:
        y = margin
        for block, height in zip(blocks, heights, strict=True):
            block.paint(painter, margin, y, inner)
            y += height
    finally:
        painter.end()
    return to_one_bit(img, threshold)


def gray_array(img: QImage) -> np.ndarray:
    """A copy of the image as a (height, width) uint8 array, 0 = black."""
    gray = img if img.format() == QImage.Format.Format_Grayscale8 else img.convertToFormat(
        QImage.Format.Format_Grayscale8)
    w, h, bpl = gray.width(), gray.height(), gray.bytesPerLine()
    if w == 0 or h == 0:
        return np.zeros((h, w), dtype=np.uint8)
    buf = np.frombuffer(gray.constBits(), dtype=np.uint8, count=bpl * h)
    return buf.reshape(h, bpl)[:, :w].copy()


def to_one_bit(img: QImage, threshold: int = INK_THRESHOLD) -> QImage:
    """Threshold to pure black/white, kept as Grayscale8 so previews and PNGs stay simple."""
    mono = np.where(gray_array(img) < threshold, 0, 255).astype(np.uint8)
    h, w = mono.shape
    data = mono.tobytes()  # must outlive the QImage that wraps it until copy() owns the pixels
    return QImage(data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def qimage_to_bits(img: QImage, threshold: int = 128) -> np.ndarray:
    """Boolean (height, width) array, true = black dot: what `escpos.raster` takes."""
    return gray_array(img) < threshold
