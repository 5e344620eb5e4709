"""The 256-byte text block of a card (UCS-2 little-endian, space padded) -> CardRecord.

The card-type flag at byte 248 selects the layout:
- resident ID card and `J` (Hong Kong/Macao/Taiwan residence permit): DEVICES.md table; J adds
  the pass number (18 bytes at 220) and issue count (4 bytes at 238).
- `I`, foreigner permanent residence card, older (2017) layout, and `Y`, the 2023 layout: not
  in DEVICES.md. The offsets below come from public vendor SDK headers (the `t_idforeigner`
  and `t_idforeigner2023` structs of a PC/SC ID-reader SDK, and Centerm's IDCardDef.h
  PERSONINFO comments), which agree with each other, and from the National Immigration
  Administration's "新版外国人永久居留身份证机读信息规则 (2023版)" as republished by reader
  vendors (e.g. eastcoms.com/service/pro/840.html): 18-character number led by 9 with the
  MOD 11-2 check, English name split over two fields (characters 1-35 and 36-46).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from devices.idcard.errors import ProtocolError
from kiosk.identity import CardKind, CardRecord

TEXT_LEN = 256
FLAG_OFFSET = 248
LONG_TERM = "长期"

# field -> (offset, length in bytes)
RESIDENT = {
    "name": (0, 30), "gender": (30, 2), "nation": (32, 4), "birth": (36, 16), "address": (52, 70),
    "number": (122, 36), "issuer": (158, 30), "valid_from": (188, 16), "valid_to": (204, 16),
}
HMT_EXTRA = {"pass_number": (220, 18), "issue_count": (238, 4)}
FOREIGNER_OLD = {
    "name_en": (0, 120), "gender": (120, 2), "number": (122, 30), "nationality": (152, 6),
    "name_zh": (158, 30), "valid_from": (188, 16), "valid_to": (204, 16), "birth": (220, 16),
    "card_version": (236, 4), "authority_code": (240, 8),
}
FOREIGNER_2023 = {
    "name_zh": (0, 30), "gender": (30, 2), "issue_count": (32, 4), "birth": (36, 16),
    "name_en_1": (52, 70), "number": (122, 36), "valid_from": (188, 16), "valid_to": (204, 16),
    "name_en_2": (220, 22), "nationality": (242, 6), "previous_number_link": (250, 6),
}


class TextBlockError(ProtocolError):
    """The text block cannot be decoded; the message names the field, never its value."""


def _raw(block: bytes, offset: int, length: int, field: str) -> str:
    try:
        return block[offset:offset + length].decode("utf-16-le")
    except UnicodeDecodeError:
        raise TextBlockError(f"text block field {field} is not valid UCS-2") from None


def _field(block: bytes, layout: dict[str, tuple[int, int]], field: str) -> str:
    return _raw(block, *layout[field], field).strip(" \x00")


def _date(text: str, field: str) -> date:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise TextBlockError(f"text block field {field} is not a YYYYMMDD date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise TextBlockError(f"text block field {field} is not a real date") from None


def _valid_to(text: str) -> date | None:
    return None if text == LONG_TERM else _date(text, "valid_to")


def _count(text: str) -> int | str:
    return int(text) if text.isascii() and text.isdigit() else text


def card_kind(block: bytes) -> CardKind:
    return CardKind.from_flag(_raw(block, FLAG_OFFSET, 2, "card type"))


def parse(block: bytes, photo: bytes = b"", fingerprint: bytes | None = None) -> CardRecord:
    """Decode one text block (plus the opaque photo/fingerprint) into a CardRecord."""
    if len(block) != TEXT_LEN:
        raise TextBlockError(f"text block is {len(block)} bytes, expected {TEXT_LEN}")
    kind = card_kind(block)
    return _PARSERS[kind](block, kind, photo, fingerprint)


def _resident(block: bytes, kind: CardKind, photo: bytes, fingerprint: bytes | None) -> CardRecord:
    f = {name: _field(block, RESIDENT, name) for name in RESIDENT}
    extra: dict[str, object] = {}
    if kind is CardKind.HMT_PERMIT:
        extra = {"pass_number": _field(block, HMT_EXTRA, "pass_number"),
                 "issue_count": _count(_field(block, HMT_EXTRA, "issue_count"))}
    return CardRecord(
        kind=kind, name=f["name"], gender_code=f["gender"], nation_code=f["nation"],
        birth_date=_date(f["birth"], "birth_date"), address=f["address"], id_number=f["number"],
        issuer=f["issuer"], valid_from=_date(f["valid_from"], "valid_from"),
        valid_to=_valid_to(f["valid_to"]), extra=extra, photo=photo, fingerprint=fingerprint)


def _foreigner_old(block: bytes, kind: CardKind, photo: bytes, fingerprint: bytes | None) -> CardRecord:
    f = {name: _field(block, FOREIGNER_OLD, name) for name in FOREIGNER_OLD}
    return CardRecord(
        kind=kind, name=f["name_en"], gender_code=f["gender"], nation_code="",
        birth_date=_date(f["birth"], "birth_date"), address="", id_number=f["number"],
        issuer=f["authority_code"], valid_from=_date(f["valid_from"], "valid_from"),
        valid_to=_valid_to(f["valid_to"]),
        extra={"name_zh": f["name_zh"], "nationality": f["nationality"],
               "card_version": f["card_version"], "authority_code": f["authority_code"]},
        photo=photo, fingerprint=fingerprint)


def _foreigner_2023(block: bytes, kind: CardKind, photo: bytes, fingerprint: bytes | None) -> CardRecord:
    f = {name: _field(block, FOREIGNER_2023, name) for name in FOREIGNER_2023}
    # The English name runs on from the first field into the second: join the raw texts so a
    # space at the split point survives, then strip the padding.
    name_en = (_raw(block, *FOREIGNER_2023["name_en_1"], "name_en")
               + _raw(block, *FOREIGNER_2023["name_en_2"], "name_en")).strip(" \x00")
    return CardRecord(
        kind=kind, name=name_en, gender_code=f["gender"], nation_code="",
        birth_date=_date(f["birth"], "birth_date"), address="", id_number=f["number"], issuer="",
        valid_from=_date(f["valid_from"], "valid_from"), valid_to=_valid_to(f["valid_to"]),
        extra={"name_zh": f["name_zh"], "nationality": f["nationality"],
               "issue_count": _count(f["issue_count"]),
               "previous_number_link": f["previous_number_link"]},
        photo=photo, fingerprint=fingerprint)


_PARSERS: dict[CardKind, Callable[[bytes, CardKind, bytes, bytes | None], CardRecord]] = {
    CardKind.RESIDENT: _resident,
    CardKind.HMT_PERMIT: _resident,
    CardKind.FOREIGNER_OLD: _foreigner_old,
    CardKind.FOREIGNER_2023: _foreigner_2023,
}


def decode_address(data: bytes) -> str:
    """The "read new address" reply: UCS-2LE text, space padded."""
    if len(data) % 2:
        raise TextBlockError("new address has an odd number of bytes")
    return _raw(data, 0, len(data), "new_address").strip(" \x00")
