"""Every receipt the kiosk prints can be read back by the kiosk's own camera decoder.

OpenCV's classic QR detector misses about one code in a hundred outright, depending on the
payload alone; a resident holding up such a receipt would be told it cannot be read.
"""

from __future__ import annotations

from datetime import datetime

import cv2

from devices.camera.qr import decode_qr
from devices.printer.cli import make_test_receipt
from devices.printer.receipt import Receipt, receipt_from_content, render_receipt
from devices.printer.render import ensure_gui_app, gray_array
from kiosk.config import HallName
from kiosk.content import load_pack
from kiosk.flows import receipt
from kiosk.wire import new_tracking_number
from tests.fixtures_ui import DEMO


def test_a_payload_the_classic_detector_misses_is_still_read():
    ensure_gui_app()
    receipt = make_test_receipt("bo", "dev-kiosk", datetime(2026, 11, 25, 19, 57))
    page = gray_array(render_receipt(receipt))
    assert cv2.QRCodeDetector().detectAndDecode(page)[0] == ""  # why decode_qr has a second detector
    assert decode_qr(page) == receipt.qr


def test_receipts_with_random_tracking_numbers_all_read_back():
    ensure_gui_app()
    unread = []
    for i in range(150):
        tracking = new_tracking_number()
        lang = "bo" if i % 2 else "zh"
        page = gray_array(render_receipt(Receipt(title="回执", lines=[("受理编号", tracking)], qr=tracking,
                                                 footer="", lang=lang)))
        if decode_qr(page) != tracking:
            unread.append(tracking)
    assert unread == []


def test_full_bilingual_receipts_read_back_in_either_language():
    ensure_gui_app()
    pack = load_pack(DEMO)
    hall = HallName(bo="དཔེ་སྟོན་ཤང་གི་དམངས་ཕན་ཞབས་ཞུ་ལྟེ་གནས།", zh="示例乡便民服务中心")
    unread = []
    for i in range(20):
        tracking = new_tracking_number()
        content = receipt.build(pack.services["old-age-allowance"],
                                {"tracking_number": tracking, "accepted_at": "2026-11-25T11:57:03+00:00"},
                                "540102********1234", "bo" if i % 2 else "zh", hall=hall, contact=pack.contact)
        if decode_qr(gray_array(render_receipt(receipt_from_content(content)))) != tracking:
            unread.append(tracking)
    assert unread == []
