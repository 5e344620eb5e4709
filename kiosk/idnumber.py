"""Resident ID numbers (GB 11643-1999): check character, validity, masking, pseudonyms.

An ID number is 6 digits of region, 8 of birth date, 3 of sequence (odd = male) and a check
character computed by ISO 7064 MOD 11-2. The 2023 foreigner permanent-residence card uses the
same 18-character shape and check with a leading 9, so `is_valid` accepts that too.

Screens and receipts show only `mask(id)`; logs and telemetry carry at most `id_hash(id, key)`.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"  # remainder 0..10 -> check character

# First two digits: provinces (GB/T 2260), 71 Taiwan, 81/82/83 for Hong Kong / Macao / Taiwan
# residence permits; 9 leads a 2023 foreigner permanent-residence number.
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
     50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)


def check_char(first17: str) -> str:
    """The check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("an ID number body is exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def make_valid(first17: str) -> str:
    """The full 18-character number for a 17-digit body (test data, simulators)."""
    return first17 + check_char(first17)


def _birth_date_ok(digits: str) -> bool:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def is_valid(id_number: str) -> bool:
    """True if the number has the right shape, a plausible region and birth date, and its check
    character matches. Lower-case x is accepted (people type it); cards always carry X."""
    s = id_number.strip().upper()
    if len(s) != 18 or not s[:17].isascii() or not s[:17].isdigit():
        return False
    if s[0] != "9" and int(s[:2]) not in _PROVINCES:
        return False
    if not _birth_date_ok(s[6:14]):
        return False
    return check_char(s[:17]) == s[17]


def mask(id_number: str) -> str:
    """First 6, `*` for the middle, last 4: hides the birth date and sequence.

    An 18-character number gets exactly 8 stars; other lengths (the 15-character foreigner
    card number) hide everything between the same first 6 and last 4. Anything too short to
    keep 10 characters visible is hidden completely.
    """
    s = id_number.strip()
    if len(s) <= 10:
        return "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def id_hash(id_number: str, key: bytes, length: int = 16) -> str:
    """A stable pseudonym for logs/telemetry: HMAC-SHA256 under a site secret, hex prefix.

    A key is required: an unkeyed hash of an 18-digit number with a known structure can be
    reversed by trying every birth date and sequence in minutes.
    """
    if not key:
        raise ValueError("id_hash needs a non-empty secret key")
    digest = hmac.new(key, id_number.strip().upper().encode("ascii", "replace"), hashlib.sha256)
    return digest.hexdigest()[:length]
