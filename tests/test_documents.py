"""The platform's A4 documents: real PDFs read back with poppler (pdftotext, pdfinfo, pdftoppm)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from central import documents as d

KEY = b"k" * 32
NAME_BO = "བཀྲ་ཤིས་སྒྲོལ་མ"  # stacks: ཀྲ, སྒྲ
ID_NUMBER = "540102199001011234"

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="poppler-utils missing (`make test` installs it)")


def cert(kind: str = d.RESIDENCE_CERTIFICATE, name: str = NAME_BO) -> d.IssuedDocument:
    return d.IssuedDocument(serial=d.make_serial(kind, 2026, 17), kind=kind, tracking_number="TK261203-7KQ2M9",
                            service_id="residence-certificate", issued_on=date(2026, 12, 3), holder_name=name,
                            holder_id_number=ID_NUMBER)


def text_of(pdf: Path) -> str:
    """The PDF's text in content order, whitespace removed: pdftotext breaks a line wherever a Tibetan
    vowel sign sits above the baseline, which says nothing about the characters themselves."""
    out = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", "", out.stdout.decode())


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def cert_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("doc") / "certificate.pdf"
    path.write_bytes(d.render_pdf(cert(), KEY))
    return path


def test_the_certificate_is_one_a4_page(cert_pdf: Path) -> None:
    info = subprocess.run(["pdfinfo", str(cert_pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)
    assert "595 x 842 pts (A4)" in info or "595.276 x 841.89 pts (A4)" in info
    assert re.search(r"^Title:\s+居住证明 JZ2026000017$", info, re.M)  # no holder in the metadata


def test_tibetan_and_chinese_text_comes_back_whole_with_its_stacks(cert_pdf: Path) -> None:
    text = text_of(cert_pdf)
    for expected in ("སྡོད་གནས་ར་སྤྲོད་ཡི་གེ", "居住证明", NAME_BO, "ཐོབ་ཐང་ལག་ཁྱེར་ཨང་།",
                     "兹证明", "在示范乡人民政府辖区内实际居住。", "ལྷ་ཁུལ་ཤང་མི་དམངས་སྲིད་གཞུང་།",
                     "TK261203-7KQ2M9", "JZ2026000017", "540102********1234", "2026年12月3日",
                     "扫描二维码核验本证明真伪"):
        assert squeeze(expected) in text, expected
    assert ID_NUMBER not in text  # printed masked: the full number stays in the platform


def test_the_page_is_drawn_and_its_qr_verifies(cert_pdf: Path, tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(cert_pdf), str(tmp_path / "page")],
                   check=True)
    page = cv2.imread(str(tmp_path / "page.png"), cv2.IMREAD_GRAYSCALE)
    assert abs(page.shape[0] - 1754) <= 1 and abs(page.shape[1] - 1240) <= 1  # A4 at 150 dpi
    ink = float(np.mean(page < 128))
    assert 0.01 < ink < 0.3  # text and a QR code on white paper
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(page)
    assert decoded == d.verification_code(cert(), KEY)
    assert d.parse_verification(decoded) == ("JZ2026000017", d.check_code(cert(), KEY))


def test_the_acceptance_notice_has_its_own_title_and_serial(tmp_path: Path) -> None:
    doc = cert(d.ACCEPTANCE_NOTICE, name="扎西卓玛")
    path = tmp_path / "notice.pdf"
    path.write_bytes(d.render_pdf(doc, KEY))
    text = text_of(path)
    assert "受理通知书" in text and squeeze("ཞུ་ཡིག་ལེན་པའི་བརྡ་ཐོ།") in text
    assert "SL2026000017" in text and "扎西卓玛" in text and "已受理" in text


def test_a_check_code_changes_with_any_field_and_with_the_key() -> None:
    doc = cert()
    assert d.check_code(doc, KEY) == d.check_code(cert(), KEY)
    other = d.IssuedDocument(**{**doc.__dict__, "serial": "JZ2026000018"})
    assert d.check_code(other, KEY) != d.check_code(doc, KEY)
    assert d.check_code(doc, b"another key") != d.check_code(doc, KEY)
    assert NAME_BO not in d.verification_code(doc, KEY) and ID_NUMBER not in d.verification_code(doc, KEY)
    assert d.parse_verification("TKDOC:only-two") is None and d.parse_verification("http://x/y") is None


def test_a_listing_names_nobody() -> None:
    summary = cert().summary()
    assert summary["holder_id_masked"] == "540102********1234"
    assert NAME_BO not in str(summary) and ID_NUMBER not in str(summary)
    assert summary["needs_card"] is True and cert(d.ACCEPTANCE_NOTICE).summary()["needs_card"] is False
    assert summary["title"]["zh"] == "居住证明"


def test_markup_in_a_name_is_printed_as_text(tmp_path: Path) -> None:
    path = tmp_path / "odd.pdf"
    path.write_bytes(d.render_pdf(cert(name="<b>卓玛</b>&"), KEY))
    assert "<b>卓玛</b>&" in text_of(path)


def test_a_document_that_would_run_onto_a_second_page_is_refused() -> None:
    with pytest.raises(d.DocumentTooLong):
        d.render_pdf(cert(name="卓玛" * 3000), KEY)
