"""Checks a resident's submission (or feedback) against the active content pack, at the edge.

One job: given the service definition and what the kiosk sent, build the payload to forward and
list every field problem at once (not just the first), so the resident fixes them in one go. Values
a card supplies (name, masked ID...) always come from the card, never from what the client typed.
Problems never echo personal data: they name the field and what is wrong with it.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from typing import Any

from kiosk import idnumber, wire
from kiosk.content import CARD_FIELDS, LANGS, Field, Pack, Service
from kiosk.content_model import PHONE_RE

_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_REASON_RE = re.compile(r"^[a-z0-9_]{1,40}$")
MAX_TEXT = 500          # a text field without its own max_length
MAX_PHOTO = 2 << 20     # decoded JPEG bytes
_CARD_KEEP = tuple(f for f in CARD_FIELDS if f != "id_masked")  # applicant fields forwarded; others dropped


def field_problem(field: str, code: str, message: str) -> dict:
    """One entry of an error's details.fields (see the FieldProblem schema in edge/openapi.py)."""
    return {"field": field, "code": code, "message": message}


def check_field(f: Field, value: Any) -> tuple[Any, dict | None]:
    """(normalised value, problem or None) for one resident-entered value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if f.required:
            return None, field_problem(f.id, "required", "this field is required")
        return None, None
    t = f.type
    if t in ("text", "phone"):
        if not isinstance(value, str):
            return None, field_problem(f.id, "type", "must be text")
        value = value.strip()
        if t == "phone":
            if not PHONE_RE.match(value):
                return None, field_problem(f.id, "phone", "must be an 11-digit mobile number starting with 1")
            return value, None
        if f.min_length is not None and len(value) < f.min_length:
            return None, field_problem(f.id, "too_short", f"must be at least {f.min_length} characters")
        if len(value) > (f.max_length or MAX_TEXT):
            return None, field_problem(f.id, "too_long", f"must be at most {f.max_length or MAX_TEXT} characters")
        if f.pattern and not re.fullmatch(f.pattern, value):
            return None, field_problem(f.id, "pattern", "is not in the expected format")
        return value, None
    if t == "number":
        if isinstance(value, str):
            try:
                value = float(value.strip()) if "." in value else int(value.strip())
            except ValueError:
                return None, field_problem(f.id, "type", "must be a number")
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            return None, field_problem(f.id, "type", "must be a number")
        if f.min is not None and value < f.min:
            return None, field_problem(f.id, "too_small", f"must be at least {f.min:g}")
        if f.max is not None and value > f.max:
            return None, field_problem(f.id, "too_large", f"must be at most {f.max:g}")
        return value, None
    if t == "choice":
        values = [c.value for c in f.choices]
        if value not in values:
            return None, field_problem(f.id, "choice", f"must be one of: {', '.join(values)}")
        return value, None
    if t == "date":
        if not isinstance(value, str) or not _DATE_RE.match(value):
            return None, field_problem(f.id, "date", "must be a date written YYYY-MM-DD")
        try:
            date.fromisoformat(value)
        except ValueError:
            return None, field_problem(f.id, "date", "is not a real calendar date")
        return value, None
    if t == "yesno":
        if isinstance(value, str) and value.lower() in ("yes", "no"):
            return value.lower() == "yes", None
        if not isinstance(value, bool):
            return None, field_problem(f.id, "type", "must be yes or no (true/false)")
        return value, None
    return None, field_problem(f.id, "type", f"unsupported field type {t!r}")


def validate_submission(service: Service, body: dict) -> tuple[dict, list[dict]]:
    """The payload to forward and every problem found (all of them, not just the first)."""
    problems: list[dict] = []
    applicant = body.get("applicant")
    if not isinstance(applicant, dict):
        problems.append(field_problem("applicant", "required", "the card holder's data is required"))
        applicant = {}
    id_number = applicant.get("id_number")
    if not isinstance(id_number, str) or not idnumber.is_valid(id_number):
        problems.append(field_problem("applicant.id_number", "id_number", "must be a valid 18-character ID number"))
        id_number = None
    name = applicant.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 60:
        problems.append(field_problem("applicant.name", "required", "the card holder's name is required"))
    card = {k: str(applicant[k]).strip() for k in _CARD_KEEP if isinstance(applicant.get(k), str | int)}
    if id_number:
        card["id_number"] = id_number.strip().upper()

    given = body.get("fields", {})
    if not isinstance(given, dict):
        problems.append(field_problem("fields", "type", "must be an object of field id -> value"))
        given = {}
    known = {f.id: f for f in service.fields}
    for fid in given:
        if fid not in known:
            problems.append(field_problem(str(fid), "unknown", "is not a field of this service"))
    fields: dict[str, Any] = {}
    for f in service.fields:
        if f.source:  # read-only: always what the card says, never what the client typed
            value = idnumber.mask(card["id_number"]) if f.source == "id_masked" and "id_number" in card \
                else card.get(f.source)
            if f.required and not value:
                problems.append(field_problem(f.id, "required", f"the card data has no {f.source}"))
            elif value:
                fields[f.id] = value
            continue
        value, problem = check_field(f, given.get(f.id))
        if problem:
            problems.append(problem)
        elif value is not None:
            fields[f.id] = value

    photo = body.get("photo_jpeg_b64")
    photo_step = next((s for s in service.steps if s.kind == "photo"), None)
    if photo is not None:
        if photo_step is None:
            problems.append(field_problem("photo_jpeg_b64", "unexpected", "this service takes no photo"))
        else:
            try:
                jpeg = base64.b64decode(photo, validate=True) if isinstance(photo, str) else b""
            except (binascii.Error, ValueError):
                jpeg = b""
            if not jpeg.startswith(b"\xff\xd8\xff"):
                problems.append(field_problem("photo_jpeg_b64", "photo", "must be a base64 JPEG image"))
            elif len(jpeg) > MAX_PHOTO:
                problems.append(field_problem("photo_jpeg_b64", "too_large", f"must be at most {MAX_PHOTO >> 20} MB"))
    elif photo_step is not None and photo_step.required:
        problems.append(field_problem("photo_jpeg_b64", "required", "this service needs a photo"))

    lang = body.get("lang", "zh")
    if lang not in LANGS:
        problems.append(field_problem("lang", "lang", f"must be one of: {', '.join(LANGS)}"))
    payload = {"schema": wire.SUBMISSION_SCHEMA, "service_id": service.id,
               "platform_service_code": service.platform_service_code, "fields": fields,
               "applicant": card, "lang": lang}
    if photo is not None:
        payload["photo_jpeg_b64"] = photo
    return payload, problems


def validate_feedback(body: dict, pack: Pack | None) -> tuple[dict, list[dict]]:
    problems = []
    rating = body.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        problems.append(field_problem("rating", "rating", "must be a whole number from 1 to 5"))
    reasons = body.get("reasons", [])
    if not isinstance(reasons, list) or len(reasons) > 10 or not all(
            isinstance(r, str) and _REASON_RE.match(r) for r in reasons):
        problems.append(field_problem("reasons", "reasons", "must be a list of up to 10 reason codes (a-z, 0-9, _)"))
    service_id = body.get("service_id")
    if service_id is not None and (not isinstance(service_id, str)
                                   or (pack is not None and service_id not in pack.services)):
        problems.append(field_problem("service_id", "unknown", "is not a service of the active content"))
    lang = body.get("lang", "zh")
    if lang not in LANGS:
        problems.append(field_problem("lang", "lang", f"must be one of: {', '.join(LANGS)}"))
    return {"schema": wire.FEEDBACK_SCHEMA, "rating": rating, "reasons": reasons, "service_id": service_id,
            "lang": lang}, problems
