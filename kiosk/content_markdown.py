"""The small Markdown subset guides are written in: headings, paragraphs, bullet and numbered lists.

Guides are shown on screen, read aloud and printed as raster images on a thermal printer, so the
subset is what all three can render. Anything else (tables, images, code, quotes, HTML, inline
emphasis) is reported by `unsupported()` so an author learns at build time, not on a kiosk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.+)$")
_NUMBERED = re.compile(r"^\s*(\d{1,3})[.)]\s+(.+)$")
_UNSUPPORTED = (
    (re.compile(r"^\s*(```|~~~)"), "code blocks are not supported"),
    (re.compile(r"^\s*\|"), "tables are not supported"),
    (re.compile(r"^\s*>"), "block quotes are not supported"),
    (re.compile(r"!\["), "images are not supported"),
    (re.compile(r"<[A-Za-z/][^>]*>"), "HTML is not supported"),
    (re.compile(r"^#{4,}\s"), "only heading levels 1-3 are supported"),
    (re.compile(r"\*\*|__|`"), "inline formatting (**, __, `) is not supported; write plain text"),
)


@dataclass(frozen=True)
class Block:
    kind: str  # "heading" | "paragraph" | "bullet" | "numbered"
    text: str
    level: int = 0  # heading level 1-3; the item number of a numbered item


def parse_markdown(text: str) -> list[Block]:
    """Blocks in reading order; consecutive plain lines join into one paragraph."""
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("paragraph", _join(para)))
            para.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif m := _HEADING.match(line):
            flush()
            blocks.append(Block("heading", m.group(2), len(m.group(1))))
        elif m := _BULLET.match(raw):
            flush()
            blocks.append(Block("bullet", m.group(1).strip()))
        elif m := _NUMBERED.match(raw):
            flush()
            blocks.append(Block("numbered", m.group(2).strip(), int(m.group(1))))
        else:
            para.append(line)
    flush()
    return blocks


def _join(lines: list[str]) -> str:
    """Wrapped lines of one paragraph: Chinese, and Tibetan broken after a tsheg, join with no space."""
    out = lines[0]
    for line in lines[1:]:
        last = out[-1]
        glue = "" if last == "\u0f0b" or "\u3000" <= last <= "\u9fff" or "\uff00" <= last <= "\uffef" else " "
        out += glue + line
    return out


def unsupported(text: str) -> list[tuple[int, str]]:
    """(line number, reason) for every construct the kiosk cannot render."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        for rx, reason in _UNSUPPORTED:
            if rx.search(line):
                found.append((n, reason))
                break
    return found
