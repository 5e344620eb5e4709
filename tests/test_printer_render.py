"""Qt rendering of receipts and documents: real fonts, real wrapping, QR codes OpenCV can read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtGui import QFontInfo, QFontMetricsF

from devices.printer.receipt import (
    BODY_PX,
    SMALL_PX,
    TITLE_PX,
    BilingualLabelValue,
    Receipt,
    receipt_sections,
    render_receipt,
    render_text_document,
)
from devices.printer.render import (
    LabelValue,
    QrCode,
    Text,
    gray_array,
    layout_text,
    make_font,
    qimage_to_bits,
    render_blocks,
    resolve_family,
)

pytestmark = pytest.mark.usefixtures("qapp")

TIBETAN_FONTS = {"Noto Serif Tibetan", "Tibetan Machine Uni"}
# "Hello. Please take your receipt; your application has been received." (several lines' worth)
BO_PARAGRAPH = ("བཀྲ་ཤིས་བདེ་ལེགས། ཁྱེད་ཀྱི་ཞུ་ཡིག་འབྱོར་སོང་། ཤོག་བུ་འདི་ཉར་ཚགས་ཡག་པོ་བྱེད་རོགས། "
                "ལས་དོན་གྱི་གནས་སྟངས་ལ་ལྟ་བར་ཨང་གྲངས་འདི་བེད་སྤྱོད་གནང་རོགས།")
ZH_PARAGRAPH = "您的申请已经收到。请妥善保管这张回执，凭回执上的编号可以随时查询办理进度。" * 2


def _ink_rows(img) -> np.ndarray:
    return (gray_array(img) == 0).any(axis=1)


def test_the_tibetan_font_is_installed_and_chosen():
    assert resolve_family("bo") in TIBETAN_FONTS
    font = make_font("bo", 30)
    assert QFontInfo(font).family() in TIBETAN_FONTS
    metrics = QFontMetricsF(font)
    assert all(metrics.inFontUcs4(ord(ch)) for ch in "བཀྲ་ཤིས།")
    assert QFontInfo(make_font("zh", 28)).family() == "Noto Sans CJK SC"


def test_tibetan_text_is_drawn_as_real_glyphs_not_boxes():
    # Missing-glyph boxes would look the same for any two strings of equal length.
    a = gray_array(render_blocks([Text("བཀྲ་ཤིས་བདེ་ལེགས།", "bo", 30)], 576))
    b = gray_array(render_blocks([Text("ཀཀཀཀཀཀཀཀཀཀཀཀཀཀཀཀ", "bo", 30)], 576))
    assert (a == 0).sum() > 200  # ink in the text area
    assert a.shape == b.shape and not np.array_equal(a, b)


def test_tibetan_lines_get_much_more_height_than_chinese():
    bo = Text("བཀྲ་ཤིས་བདེ་ལེགས།", "bo", 28).measure(560)
    zh = Text("打印机测试", "zh", 28).measure(560)
    assert bo > 1.5 * zh


def test_long_tibetan_wraps_after_the_tsheg_within_the_width():
    layout, height = layout_text(BO_PARAGRAPH, make_font("bo", 30), 400)
    assert layout.lineCount() >= 3
    for i in range(layout.lineCount() - 1):
        line = layout.lineAt(i)
        assert line.naturalTextWidth() <= 400
        text = BO_PARAGRAPH[line.textStart():line.textStart() + line.textLength()].rstrip(" ")
        assert text[-1] in "་།"  # broken at a syllable boundary, never inside a stack
    img = gray_array(render_blocks([Text(BO_PARAGRAPH, "bo", 30)], 416, margin=8))
    assert not (img[:, :8] == 0).any() and not (img[:, -8:] == 0).any()  # nothing spills into the margins
    assert img.shape[0] >= height


def test_long_chinese_wraps_and_fills_more_height():
    one = Text("您的申请", "zh", 28).measure(560)
    many = Text(ZH_PARAGRAPH, "zh", 28).measure(560)
    assert many >= 3 * one


def test_label_value_falls_back_to_two_lines_when_it_does_not_fit():
    short = LabelValue("ཨང་གྲངས།", "TK-1", "bo", 30).measure(560)
    long = LabelValue("ཨང་གྲངས།", "TK-2024-000123-ABCDEFGHIJKLMNOP", "bo", 30).measure(560)
    assert long > 1.5 * short


def _receipt(**kw) -> Receipt:
    base = dict(title="ཞབས་ཞུའི་ཨང་གྲངས།", title_alt="办事回执", lang="bo",
                lines=[("ཨང་གྲངས།", "TK-2024-000123"), ("ལག་ཁྱེར།", "540102********1234"), BO_PARAGRAPH],
                qr="https://kiosk.example/t/TK-2024-000123", footer="2024-05-01 10:30")
    base.update(kw)
    return Receipt(**base)


@pytest.mark.parametrize("width", [576, 384])
def test_receipt_is_one_bit_at_the_printer_width_with_a_readable_qr(width):
    img = render_receipt(_receipt(), width_dots=width)
    page = gray_array(img)
    assert img.width() == width
    assert set(np.unique(page)) == {0, 255}
    payload, _, _ = cv2.QRCodeDetector().detectAndDecode(page)
    assert payload == "https://kiosk.example/t/TK-2024-000123"


def test_chinese_receipt_and_a_receipt_without_qr():
    img = render_receipt(_receipt(lang="zh", title="办事回执", title_alt="ཞབས་ཞུའི་ཨང་གྲངས།", qr=None,
                                  lines=[("编号", "TK-1"), ZH_PARAGRAPH]))
    payload, _, _ = cv2.QRCodeDetector().detectAndDecode(gray_array(img))
    assert payload == ""
    assert _ink_rows(img).sum() > 100


def test_a_bilingual_label_keeps_its_value_beside_it_or_below_when_too_long():
    labels = Text("受理编号", "zh", BODY_PX["zh"]).measure(560) + Text("ཨང་གྲངས།", "bo", SMALL_PX["bo"]).measure(560)
    short = BilingualLabelValue("受理编号", "ཨང་གྲངས།", "TK-1", "zh", "bo").measure(560)
    long = BilingualLabelValue("受理编号", "ཨང་གྲངས།", "TK-2024-000123-ABCDEFGHIJKLMNOP", "zh", "bo").measure(560)
    assert short == labels  # the value sits beside the two labels
    assert long > labels  # and goes below them when it does not fit


def test_the_other_language_is_printed_beneath_each_item_smaller():
    bo = Receipt(title="ཞབས་ཞུའི་ཨང་གྲངས།", lines=[("ཨང་གྲངས།", "TK-1")], footer="ཕུལ་ཟིན།", lang="bo",
                 hall="ཞབས་ཞུ་ལྟེ་གནས།", notes=[("དུས་ཚོད།", "ཉིན 20")], qr_caption="ཨང་རྟགས་བཤེར།")
    zh = Receipt(title="办事回执", lines=[("编号", "TK-1")], footer="已提交", lang="zh", hall="便民服务中心",
                 notes=[("办理时限", "20个工作日")], qr_caption="扫码查询", alt=bo)
    sections = dict(receipt_sections(zh))
    assert [(b.lang, b.size_px) for b in sections["title"]] == [("zh", TITLE_PX["zh"]), ("bo", BODY_PX["bo"])]
    for name in ("hall", "follow_up"):
        assert [(b.lang, b.size_px) for b in sections[name]] == [("zh", BODY_PX["zh"]), ("bo", SMALL_PX["bo"])]
    assert [b.text for b in sections["notes"] if isinstance(b, Text)] == ["办理时限", "20个工作日", "དུས་ཚོད།", "ཉིན 20"]
    assert [b.text for b in sections["footer"] if isinstance(b, Text)] == ["已提交", "ཕུལ་ཟིན།"]
    alone = render_receipt(Receipt(title="办事回执", lines=[("编号", "TK-1")], footer="已提交", lang="zh",
                                   hall="便民服务中心", notes=[("办理时限", "20个工作日")], qr_caption="扫码查询"))
    assert _ink_rows(render_receipt(zh)).sum() > _ink_rows(alone).sum()


def test_qr_modules_are_crisp_integer_squares():
    qr = QrCode("TK-2024-000123")
    scale = qr.scale(560)
    img = gray_array(render_blocks([qr], 576, margin=8))
    dark_cols = np.nonzero((img == 0).any(axis=0))[0]
    dark_rows = np.nonzero((img == 0).any(axis=1))[0]
    symbol = qr.modules_with_border - 8
    assert dark_cols.max() - dark_cols.min() + 1 == symbol * scale
    assert dark_rows.max() - dark_rows.min() + 1 == symbol * scale
    # A 4-module quiet zone above the symbol.
    assert dark_rows.min() - 8 == 4 * scale


def test_qr_too_big_for_the_paper_is_a_clear_error():
    with pytest.raises(ValueError, match="does not fit"):
        render_blocks([QrCode("x" * 2000)], 384)


def test_a_long_guide_renders_every_paragraph_down_a_tall_page():
    paragraphs = [f"{i + 1}. {BO_PARAGRAPH}" for i in range(12)]
    img = render_text_document("ལམ་སྟོན།", paragraphs, "bo", 576)
    ink = _ink_rows(img)
    assert img.width() == 576 and img.height() > 3000
    # Ink in every tenth of the page except the blank tail: no paragraph was dropped.
    tenths = np.array_split(ink[: int(len(ink) * 0.97)], 10)
    assert all(t.any() for t in tenths)


def test_bits_conversion_marks_ink_true():
    img = render_receipt(_receipt(qr=None))
    bits = qimage_to_bits(img)
    assert bits.dtype == bool and bits.shape == (img.height(), img.width())
    assert bits.sum() == (gray_array(img) == 0).sum()


def test_no_room_inside_margins_is_an_error():
    with pytest.raises(ValueError):
        render_blocks([Text("x", "zh")], 16, margin=8)


def test_rendering_on_a_worker_thread_gives_the_same_page():
    # The UI renders guides on its printer worker thread, not the GUI thread.
    from concurrent.futures import ThreadPoolExecutor

    def render() -> np.ndarray:
        return gray_array(render_text_document("ལམ་སྟོན།", [BO_PARAGRAPH, ZH_PARAGRAPH], "bo", 576))

    here = render()
    with ThreadPoolExecutor(2) as pool:
        there = list(pool.map(lambda _: render(), range(4)))
    assert all(np.array_equal(page, here) for page in there)
