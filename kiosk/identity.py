"""What an ID card says about its holder, as the rest of the kiosk sees it.

`CardRecord` is personal data: its repr/str show only the card kind and the masked number, so
it can never reach a log line or an exception message by accident. The photo is opaque WLT
data that only closed vendor libraries decode: the kiosk keeps it as read and does not decode it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from kiosk import idnumber, nations

# The 2017 foreigner card number: 3-letter nationality + 12 digits, no check character.
_FOREIGNER_OLD_RE = re.compile(r"^[A-Z]{3}[0-9]{12}$")


class CardKind(enum.StrEnum):
    RESIDENT = "resident"
    HMT_PERMIT = "hmt_permit"  # Hong Kong/Macao/Taiwan residence permit, text flag J
    FOREIGNER_OLD = "foreigner_old"  # foreigner permanent residence card, older layout, flag I
    FOREIGNER_2023 = "foreigner_2023"  # foreigner permanent residence card, 2023 layout, flag Y

    @classmethod
    def from_flag(cls, flag: str) -> CardKind:
        return {"J": cls.HMT_PERMIT, "I": cls.FOREIGNER_OLD, "Y": cls.FOREIGNER_2023}.get(flag, cls.RESIDENT)


@dataclass(frozen=True, repr=False)
class CardRecord:
    """One card as read. For foreigner cards `name` is the English name (the legal name on the
    card), `extra["name_zh"]` the Chinese name, `extra["nationality"]` the country code and
    `nation_code` is empty; Hong Kong/Macao/Taiwan permits have no nation either."""

    kind: CardKind
    name: str
    gender_code: str
    nation_code: str
    birth_date: date
    address: str
    id_number: str
    issuer: str
    valid_from: date
    valid_to: date | None  # None: long-term (长期)
    extra: Mapping[str, Any] = field(default_factory=dict)
    photo: bytes = b""
    fingerprint: bytes | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def __repr__(self) -> str:
        return f"CardRecord(kind={self.kind.value}, id={self.masked_id})"

    __str__ = __repr__

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)

    @property
    def id_valid(self) -> bool:
        """The number is well formed; for 18-character numbers the check character matches."""
        if self.kind is CardKind.FOREIGNER_OLD:
            return bool(_FOREIGNER_OLD_RE.match(self.id_number))
        return idnumber.is_valid(self.id_number)

    def gender(self, lang: str = "zh") -> str:
        return nations.gender_name(self.gender_code, lang)

    def nation(self, lang: str = "zh") -> str:
        """Nation for resident cards; foreigners get their nationality code, HMT permits ""."""
        if self.nation_code:
            return nations.nation_name(self.nation_code, lang)
        return str(self.extra.get("nationality", ""))

    def to_form_fields(self, lang: str = "zh") -> dict[str, str]:
        """Card-sourced values for form autofill (gender and nation named in `lang`)."""
        return {
            "name": self.name,
            "gender": self.gender(lang),
            "nation": self.nation(lang),
            "birth_date": self.birth_date.isoformat(),
            "address": self.address,
            "id_number": self.id_number,
            "id_masked": self.masked_id,
        }
