"""A guide or a blank form as an A4 PDF, for the hall's A4 printer.

WeasyPrint, as central/documents.py renders certificates: Pango shapes Tibetan stacks with HarfBuzz
and maps each glyph back to its characters, so `pdftotext` gives the words back. The fonts are the
receipts' (kiosk/fonts.py), found through fontconfig. Long guides run onto more pages.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from kiosk.fonts import css_font_family

_CSS = """@page { size: A4; margin: 18mm 18mm 20mm 18mm; }
body { font-family: {families}; font-size: 14pt; line-height: 1.6; color: #000; }
h1 { text-align: center; font-size: 24pt; margin: 0 0 4mm 0; }
hr { border: 0; border-top: 1.5pt solid #000; margin: 0 0 6mm 0; }
p { margin: 0 0 4mm 0; }
"""


def text_document_pdf(title: str, paragraphs: Sequence[str], lang: str) -> bytes:
    """A centred title and its paragraphs in `lang` ("bo", "zh" or "en"); every text is escaped."""
    from weasyprint import HTML  # a second or so to import: only when something is printed

    families = css_font_family(lang)
    e = html.escape
    body = "".join(f"<p>{e(p)}</p>" for p in paragraphs)
    page = (f'<!DOCTYPE html><html lang="{e(lang)}"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{_CSS.replace('{families}', families)}</style></head>"
            f"<body><h1>{e(title)}</h1><hr>{body}</body></html>")
    return HTML(string=page).write_pdf()
