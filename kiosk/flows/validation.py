"""Field validation mirroring the content pack's rules, returning codes the UI turns into words.

The edge validates again on submit (it is the authority); checking here lets the kiosk point at the
one field to fix while the resident is still on the form, instead of after a round trip.
Each code `c` has the words `err_<c>` in kiosk.i18n.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from kiosk.content_model import PHONE_RE

_NUMBER_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
YES, NO = "yes", "no"


@dataclass(frozen=True)
class FieldError:
    field_id: str
    code: str  # required, phone, number, too_small, too_large, too_short, too_long, pattern, choice, date, ...

    @property
    def message_key(self) -> str:
        return f"err_{self.code}"


def _get(field: Any, *names: str) -> Any:
    for n in names:
        v = getattr(field, n, None)
        if v is not None:
            return v
    return None


def normalise(field: Any, value: object) -> str:
    """The canonical string form of what the resident entered (spaces/dashes out of a phone number)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    text = str(value).strip()
    kind = _get(field, "type") or "text"
    if kind in ("phone", "number"):
        text = re.sub(r"[\s\-]", "", text)
    return text


def validate(field: Any, value: str) -> str | None:
    """The error code for `value` in `field`, or None when it is acceptable. `value` is normalised."""
    kind = _get(field, "type") or "text"
    if value == "":
        return "required" if _get(field, "required") else None
    if kind == "phone" and not PHONE_RE.match(value):
        return "phone"
    if kind == "number":
        if not _NUMBER_RE.match(value):
            return "number"
        num = float(value)
        lo, hi = _get(field, "min", "min_value"), _get(field, "max", "max_value")
        if lo is not None and num < lo:
            return "too_small"
        if hi is not None and num > hi:
            return "too_large"
    if kind == "choice":
        values = {c.value for c in (_get(field, "choices") or ())}
        if value not in values:
            return "choice"
    if kind == "yesno" and value not in (YES, NO):
        return "yesno"
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return "date"
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return "date"
    lo_len, hi_len = _get(field, "min_length"), _get(field, "max_length")
    if lo_len is not None and len(value) < lo_len:
        return "too_short"
    if hi_len is not None and len(value) > hi_len:
        return "too_long"
    pattern = _get(field, "pattern")
    if pattern and not re.fullmatch(pattern, value):
        return "pattern"
    return None
