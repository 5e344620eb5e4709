"""Documents the platform issues for approved applications, as A4 PDFs in Tibetan and Chinese.

Kinds: the residence certificate (居住证明, for the residence-certificate service) and, for every
approved application, an acceptance notice (受理通知书). Each has a serial number, the tracking
number, the issue date and a verification QR (`verification_code`: the serial and a keyed check,
nothing personal), so a school or an employer can check a printed copy with the platform.

Rendering goes through WeasyPrint: Pango shapes the text with HarfBuzz (Tibetan stacks are shaped,
never drawn code point by code point) and each embedded glyph is mapped back to the characters it
was shaped from, so `pdftotext` gives the text back and a verifier can search it. Qt's PDF writer
(what the receipts use) shapes as well, but writes its ToUnicode map from the font's cmap alone:
a stacked consonant, which has no code point of its own, extracts as nothing, and CJK characters
that share a glyph with a Kangxi radical extract as the radical (示 -> ⽰). The fonts are the
receipts' (kiosk/fonts.py), found through fontconfig. A certificate names its
holder and shows the ID number masked; the full number stays in the platform.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from kiosk import idnumber
from kiosk.fonts import css_font_family

RESIDENCE_CERTIFICATE = "residence_certificate"
ACCEPTANCE_NOTICE = "acceptance_notice"
KINDS = (RESIDENCE_CERTIFICATE, ACCEPTANCE_NOTICE)
# A service's approval issues these, besides the acceptance notice every approval gets.
SERVICE_DOCUMENTS: dict[str, tuple[str, ...]] = {"residence-certificate": (RESIDENCE_CERTIFICATE,)}
SERIAL_PREFIX = {RESIDENCE_CERTIFICATE: "JZ", ACCEPTANCE_NOTICE: "SL"}
# Which documents name their holder: printing them needs the holder's card, not just a receipt.
NEEDS_CARD = (RESIDENCE_CERTIFICATE,)
QR_PREFIX = "TKDOC"  # verification payload: TKDOC:<serial>:<check>

TITLES: dict[str, dict[str, str]] = {  # Tibetan wording: to be reviewed by the region's translators
    RESIDENCE_CERTIFICATE: {"bo": "སྡོད་གནས་ར་སྤྲོད་ཡི་གེ", "zh": "居住证明", "en": "Residence certificate"},
    ACCEPTANCE_NOTICE: {"bo": "ཞུ་ཡིག་ལེན་པའི་བརྡ་ཐོ།", "zh": "受理通知书", "en": "Acceptance notice"},
}

# Point sizes: large for elderly readers; Tibetan glyphs look smaller than Chinese at the same size.
_CSS = """
@page { size: A4; margin: 20mm 22mm; }
body { font-family: {bo}; font-size: 15pt; line-height: 1.5; color: #000; }
.zh { font-family: {zh}; font-size: 13pt; }
.issuer { text-align: center; font-size: 12pt; margin: 0; }
h1 { text-align: center; font-size: 28pt; margin: 6mm 0 0 0; }
h1.zh { font-size: 24pt; margin: 0 0 4mm 0; }
hr { border: 0; border-top: 1.2pt solid #000; margin: 4mm 0; }
p.body { margin: 3mm 0; }
table { width: 100%; border-collapse: collapse; font-size: 12pt; margin-top: 4mm; }
td { padding: 1.5mm 0; vertical-align: top; }
td.value { text-align: right; font-weight: bold; font-family: {zh}; }
.qr { text-align: center; margin-top: 8mm; }
.qr img { width: 38mm; height: 38mm; }
.caption { text-align: center; font-size: 11pt; }
.seal { text-align: right; margin-top: 10mm; }
"""

@dataclass(frozen=True)
class Issuer:
    """Who issues the document, as printed at its head and beside the seal."""

    bo: str
    zh: str


DEMO_ISSUER = Issuer(bo="ལྷ་ཁུལ་ཤང་མི་དམངས་སྲིད་གཞུང་།", zh="示范乡人民政府")


@dataclass(frozen=True)
class IssuedDocument:
    serial: str
    kind: str
    tracking_number: str
    service_id: str
    issued_on: date
    holder_name: str
    holder_id_number: str  # full, for the platform; printed masked

    def summary(self) -> dict:
        """What a kiosk may list: nothing that names the holder."""
        return {"serial": self.serial, "kind": self.kind, "tracking_number": self.tracking_number,
                "service_id": self.service_id, "issued_on": self.issued_on.isoformat(),
                "title": dict(TITLES[self.kind]), "needs_card": self.kind in NEEDS_CARD,
                "holder_id_masked": idnumber.mask(self.holder_id_number)}


def make_serial(kind: str, year: int, seq: int) -> str:
    """e.g. JZ2026000123: the kind, the year of issue and the platform's running number that year."""
    return f"{SERIAL_PREFIX[kind]}{year:04d}{seq:06d}"


def check_code(doc: IssuedDocument, key: bytes) -> str:
    msg = "|".join((doc.serial, doc.kind, doc.tracking_number, doc.issued_on.isoformat(),
                    doc.holder_id_number.upper())).encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:16].upper()


def verification_code(doc: IssuedDocument, key: bytes) -> str:
    """The QR's text: serial and check only, so a scanned copy reveals nothing about the holder."""
    return f"{QR_PREFIX}:{doc.serial}:{check_code(doc, key)}"


def parse_verification(text: str) -> tuple[str, str] | None:
    parts = text.strip().split(":")
    if len(parts) != 3 or parts[0] != QR_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def _date_text(d: date, lang: str) -> str:
    if lang == "bo":
        return f"ཕྱི་ལོ་{d.year} ཟླ་{d.month} ཚེས་{d.day}"
    return f"{d.year}年{d.month}月{d.day}日"


def _body(doc: IssuedDocument, lang: str, issuer: Issuer) -> list[str]:
    masked = idnumber.mask(doc.holder_id_number)
    if doc.kind == RESIDENCE_CERTIFICATE:
        if lang == "bo":
            return [f"{doc.holder_name} (ཐོབ་ཐང་ལག་ཁྱེར་ཨང་། {masked}) ནི་{issuer.bo}ཡི་ས་ཁུལ་དུ་"
                    "དངོས་སུ་སྡོད་བཞིན་ཡོད་པ་ར་སྤྲོད་བྱེད།"]
        return [f"兹证明{doc.holder_name}（公民身份号码 {masked}）在{issuer.zh}辖区内实际居住。",
                "特此证明。"]
    if lang == "bo":
        return [f"{doc.holder_name} (ཐོབ་ཐང་ལག་ཁྱེར་ཨང་། {masked}) ཡིས་ཕུལ་བའི་ཞུ་ཡིག་ལེན་ཟིན་ཅིང་ཞིབ་བཤེར་གྲུབ་སོང་།"]
    return [f"{doc.holder_name}（公民身份号码 {masked}）提交的申请已受理，经审核予以办结。"]


def _fields(doc: IssuedDocument) -> list[tuple[str, str, str]]:
    """(Tibetan label, Chinese label, value) lines under the text."""
    issued = f"{_date_text(doc.issued_on, 'bo')} / {_date_text(doc.issued_on, 'zh')}"
    return [("ཞུ་ཡིག་ཨང་།", "受理编号", doc.tracking_number), ("ཡིག་ཆའི་ཨང་།", "证明编号", doc.serial),
            ("སྤྲོད་པའི་ཚེས་གྲངས།", "签发日期", issued)]


def document_html(doc: IssuedDocument, key: bytes, issuer: Issuer = DEMO_ISSUER) -> str:
    """The document as HTML for WeasyPrint; every personal value is escaped."""
    import segno

    e = html.escape
    title = TITLES[doc.kind]
    qr = segno.make_qr(verification_code(doc, key), error="m").svg_data_uri(scale=4, border=4)
    css = _CSS.replace("{bo}", css_font_family("bo")).replace("{zh}", css_font_family("zh"))
    body = "".join(f'<p class="body">{e(t)}</p>' for t in _body(doc, "bo", issuer))
    body += "".join(f'<p class="body zh">{e(t)}</p>' for t in _body(doc, "zh", issuer))
    rows = "".join(f'<tr><td>{e(bo)} <span class="zh">{e(zh)}</span></td><td class="value">{e(v)}</td></tr>'
                   for bo, zh, v in _fields(doc))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{e(title["zh"])} {e(doc.serial)}</title>'
            f"<style>{css}</style></head><body>"
            f'<p class="issuer">{e(issuer.bo)}</p><p class="issuer zh">{e(issuer.zh)}</p>'
            f'<h1>{e(title["bo"])}</h1><h1 class="zh">{e(title["zh"])}</h1><hr>{body}<hr>'
            f"<table>{rows}</table>"
            f'<div class="qr"><img src="{qr}" alt="QR"></div>'
            '<p class="caption">ཨང་རྟགས་བཤེར་ནས་ཡིག་ཆ་འདིའི་བདེན་མིན་ར་སྤྲོད་བྱེད། '
            '<span class="zh">扫描二维码核验本证明真伪</span></p>'
            f'<div class="seal"><div>{e(issuer.bo)}</div><div class="zh">{e(issuer.zh)}</div>'
            f'<div>{e(_date_text(doc.issued_on, "bo"))}</div>'
            f'<div class="zh">{e(_date_text(doc.issued_on, "zh"))}</div></div>'
            "</body></html>")


class DocumentTooLong(ValueError):
    """The document ran onto a second page: a template or a value is wrong."""


def render_pdf(doc: IssuedDocument, key: bytes, issuer: Issuer = DEMO_ISSUER) -> bytes:
    """The document as a one-page A4 PDF."""
    from weasyprint import HTML

    rendered = HTML(string=document_html(doc, key, issuer)).render()
    if len(rendered.pages) != 1:
        raise DocumentTooLong(f"{doc.kind} {doc.serial} takes {len(rendered.pages)} pages")
    return rendered.write_pdf()


# --- the platform's register of issued documents (SQLite, inside the platform's transactions) ---------
SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    serial           TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    tracking_number  TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    id_number        TEXT NOT NULL,
    name             TEXT NOT NULL,
    issued_on        TEXT NOT NULL,
    UNIQUE (tracking_number, kind)
);
CREATE INDEX IF NOT EXISTS documents_id_number ON documents(id_number);
CREATE TABLE IF NOT EXISTS document_key (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    key  BLOB NOT NULL
);
"""


def signing_key(db: sqlite3.Connection) -> bytes:
    """The platform's key for check codes, made once and kept with the register it vouches for."""
    db.execute("INSERT OR IGNORE INTO document_key VALUES (1, ?)", (secrets.token_bytes(32),))
    return bytes(db.execute("SELECT key FROM document_key WHERE id = 1").fetchone()[0])


def issue(db: sqlite3.Connection, application: sqlite3.Row, on: date) -> list[IssuedDocument]:
    """Issue the documents an approved application earns. Call inside the transaction that approves
    it, so an approval and its documents are stored together or not at all; issuing twice is a no-op."""
    issued = []
    for kind in (*SERVICE_DOCUMENTS.get(application["service_id"], ()), ACCEPTANCE_NOTICE):
        prefix = f"{SERIAL_PREFIX[kind]}{on.year:04d}"
        last = db.execute("SELECT MAX(serial) FROM documents WHERE serial LIKE ?", (prefix + "%",)).fetchone()[0]
        serial = make_serial(kind, on.year, int(last[len(prefix):]) + 1 if last else 1)
        cur = db.execute("INSERT OR IGNORE INTO documents VALUES (?,?,?,?,?,?,?)",
                         (serial, kind, application["tracking_number"], application["service_id"],
                          application["id_number"], application["name"], on.isoformat()))
        if cur.rowcount:
            issued.append(_from_row(db.execute("SELECT * FROM documents WHERE serial = ?", (serial,)).fetchone()))
    return issued


def _from_row(row: sqlite3.Row) -> IssuedDocument:
    return IssuedDocument(serial=row["serial"], kind=row["kind"], tracking_number=row["tracking_number"],
                          service_id=row["service_id"], issued_on=date.fromisoformat(row["issued_on"]),
                          holder_name=row["name"], holder_id_number=row["id_number"])


def find(db: sqlite3.Connection, *, id_number: str | None = None,
         tracking_number: str | None = None) -> list[IssuedDocument]:
    """A holder's documents (by ID number) or one application's (by tracking number), newest first."""
    if (id_number is None) == (tracking_number is None):
        raise ValueError("give exactly one of id_number or tracking_number")
    column, value = ("id_number", id_number.upper()) if id_number else ("tracking_number", tracking_number)
    rows = db.execute(f"SELECT * FROM documents WHERE {column} = ? ORDER BY issued_on DESC, serial DESC",
                      (value,)).fetchall()
    return [_from_row(r) for r in rows]


def verify(db: sqlite3.Connection, code: str) -> IssuedDocument | None:
    """The document a scanned verification code names, if the code is genuine."""
    parsed = parse_verification(code)
    if parsed is None:
        return None
    row = db.execute("SELECT * FROM documents WHERE serial = ?", (parsed[0],)).fetchone()
    if row is None:
        return None
    doc = _from_row(row)
    return doc if hmac.compare_digest(check_code(doc, signing_key(db)), parsed[1]) else None


def issue_date() -> date:
    """Today where the documents are issued (China Standard Time), not on the server's clock zone."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()
