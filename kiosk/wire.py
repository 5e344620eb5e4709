"""Wire contracts between the kiosk UI, the edge node and the service platform.

Written once here; the edge API, its client in the UI, the forwarder and the reference
platform all import these names. JSON everywhere, UTC ISO-8601 timestamps, `schema` fields on
documents that are stored or forwarded. Errors are `{"error": {"code": ..., "message": ...}}`.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TypeGuard

IDEMPOTENCY_HEADER = "Idempotency-Key"
# One key per resident action (the kiosk makes a UUID), reused unchanged on every retry.
IDEMPOTENCY_KEY_PATTERN = r"[A-Za-z0-9_.:\-]{8,128}"
_IDEMPOTENCY_KEY_RE = re.compile(IDEMPOTENCY_KEY_PATTERN)
# Kiosks on the hall LAN send `Authorization: Bearer <token>`; the edge knows each token's SHA-256.
AUTH_HEADER = "Authorization"
AUTH_SCHEME = "Bearer"

# --- the edge node's local API (kiosk UI -> edge) ------------------------------------------
API = "/api/v1"
API_STATUS = f"{API}/status"                    # GET: wan, content version, outbox depth/age
API_OPENAPI = f"{API}/openapi.json"             # GET: this API as an OpenAPI document
API_MANIFEST = f"{API}/content/manifest"        # GET: the active content manifest (ETag)
API_FILE = f"{API}/content/files/{{path}}"      # GET: one file of the active pack (ETag = sha256)
API_SERVICES = f"{API}/services"                # GET: service summaries of the active pack
API_SERVICE = f"{API}/services/{{service_id}}"  # GET: one full service definition
API_PROMPTS = f"{API}/prompts"                  # GET: voice/screen prompts of the active pack
API_GUIDE = f"{API}/guides/{{guide_id}}"        # GET: one guide (markdown per language)
API_FORM = f"{API}/forms/{{form_id}}"           # GET: one printable blank form
API_SUBMISSIONS = f"{API}/submissions"          # POST (Idempotency-Key required): a submission
API_SUBMISSION = f"{API}/submissions/{{tracking_number}}"  # GET: status of one submission
API_SUBMISSION_SHOWN = f"{API}/submissions/{{tracking_number}}/shown"  # POST: the resident saw the receipt
API_UNCONFIRMED = f"{API}/submissions/unconfirmed"  # GET: accepted, receipt not (yet) shown to the resident
API_PROGRESS = f"{API}/progress"                # POST {"id_number"} or {"tracking_number"}
API_PAYMENTS = f"{API}/payments"                # POST {"id_number"}: social-insurance payment records
API_FEEDBACK = f"{API}/feedback"                # POST (Idempotency-Key required)
API_HEALTH = f"{API}/health"                    # POST: device/UI health from a kiosk
API_KIOSK_COMMANDS = f"{API}/kiosk/commands"    # GET ?wait=s: the fleet agent's next request for the UI (long poll)
API_KIOSK_COMMAND_RESULT = f"{API}/kiosk/commands/{{request_id}}/result"  # POST: the UI's answer to it
API_DOCUMENTS = f"{API}/documents"              # POST {"id_number"} or {"tracking_number"}: issued documents
API_DOCUMENT_PDF = f"{API}/documents/{{serial}}/pdf"  # POST {"id_number"} or {"tracking_number"}: the A4 PDF

# --- the service platform (edge forwarder -> platform), reached through an adapter ----------
PLATFORM = "/platform/v1"
PLATFORM_APPLICATIONS = f"{PLATFORM}/applications"                        # POST (Idempotency-Key); GET list
PLATFORM_APPLICATION = f"{PLATFORM}/applications/{{tracking_number}}"     # GET
PLATFORM_SEARCH = f"{PLATFORM}/applications/search"                       # POST {"id_number"}
PLATFORM_SET_STATUS = f"{PLATFORM}/applications/{{tracking_number}}/status"  # POST (operator)
PLATFORM_FEEDBACK = f"{PLATFORM}/feedback"                                # POST (Idempotency-Key)
PLATFORM_PAYMENTS = f"{PLATFORM}/payments"                                # POST (operator): add records
PLATFORM_PAYMENTS_SEARCH = f"{PLATFORM}/payments/search"                  # POST {"id_number"}
# Documents issued when an application is approved (central/documents.py). Who asks names the holder
# in the body, never the URL: {"id_number"} (card) or {"tracking_number"} (receipt QR).
PLATFORM_DOCUMENTS_SEARCH = f"{PLATFORM}/documents/search"                # POST: {"documents": [summary]}
PLATFORM_DOCUMENT_PDF = f"{PLATFORM}/documents/{{serial}}/pdf"            # POST: application/pdf
PLATFORM_DOCUMENT_VERIFY = f"{PLATFORM}/documents/verify"                 # POST {"code"}: a scanned QR

# Application states, in the order a resident sees them. "queued" exists only at the edge:
# stored durably, not yet acknowledged by the platform.
STATUS_QUEUED = "queued"
STATUS_RECEIVED = "received"
STATUS_IN_REVIEW = "in_review"
STATUS_APPROVED = "approved"
STATUS_REJECTED = "rejected"
# Edge only: the platform refused the item at intake (malformed, unknown service code...). It stays
# in the edge's dead-letter queue for staff to fix and resend; the resident should ask at the counter.
STATUS_UNDELIVERABLE = "undeliverable"
STATUSES = (STATUS_QUEUED, STATUS_RECEIVED, STATUS_IN_REVIEW, STATUS_APPROVED, STATUS_REJECTED,
            STATUS_UNDELIVERABLE)
FINAL_STATUSES = (STATUS_APPROVED, STATUS_REJECTED)

# Social-insurance payment records: one per person, month and kind of insurance. A record is
# {"year", "month", "kind", "amount" (yuan as a decimal string, e.g. "150.00"), "paid_at" (YYYY-MM-DD
# or null), "payer_status"}; lookups answer the latest PAYMENTS_MAX_MONTHS months on record, latest first.
PAYMENT_KINDS = ("pension", "medical")  # residents' basic pension / residents' basic medical insurance
PAYER_PAID = "paid"                      # the resident paid
PAYER_GOVERNMENT = "government_paid"     # paid on their behalf (e.g. a low-income household)
PAYER_ARREARS = "arrears"                # due and not paid
PAYER_STATUSES = (PAYER_PAID, PAYER_GOVERNMENT, PAYER_ARREARS)
PAYMENTS_MAX_MONTHS = 24

# Error codes a kiosk may act on (others are in the edge's OpenAPI document).
ERR_UNAUTHORIZED = "unauthorized"   # 401: no token from the LAN, or a token the edge does not know
ERR_FORBIDDEN = "forbidden"         # 403: the token is for another kiosk
ERR_RATE_LIMITED = "rate_limited"   # 429: too many lookups from this kiosk; see Retry-After
ERR_STORAGE_FULL = "storage_full"   # 507: the edge's disk is (nearly) full; nothing was stored
ERR_NOT_FOUND = "not_found"
ERR_CARD_REQUIRED = "card_required"  # 403: this document names its holder; identify with the ID card
ERR_DOCUMENTS_UNREACHABLE = "documents_unreachable"  # 503: the platform did not answer; try again later

# In the edge's answer to a submission (POST and GET): when the edge accepted it, UTC ISO-8601 from its
# trusted clock (kiosk/trusted_time.py), or null when that clock was not verified at the time. A receipt
# prints this time or none, never the kiosk's own, possibly wrong, clock.
SUBMISSION_ACCEPTED_AT = "accepted_at"

SUBMISSION_SCHEMA = "kiosk.submission/1"
FEEDBACK_SCHEMA = "kiosk.feedback/1"

# Crockford base32 without I, L, O, U: easy to read aloud and to type at a counter.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_PATTERN = r"TK[0-9]{6}-[0-9A-HJKMNP-TV-Z]{6}"  # what new_tracking_number() makes
_TRACKING_RE = re.compile(TRACKING_PATTERN)


class BadRequest(ValueError):
    """A request refused as malformed (HTTP 400); `code` and `message` go into error_body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def is_tracking_number(text: object) -> TypeGuard[str]:
    """A whole tracking number as new_tracking_number() makes them (the only kind on a receipt)."""
    return isinstance(text, str) and _TRACKING_RE.fullmatch(text) is not None


def tracking_number_in(text: str) -> str | None:
    """The first tracking number inside a text, e.g. a receipt's QR code, or None."""
    match = _TRACKING_RE.search(text)
    return match.group(0) if match else None


def idempotency_key(headers: Mapping[str, str]) -> str:
    """The request's idempotency key; BadRequest when it is missing or not a key."""
    key = headers.get(IDEMPOTENCY_HEADER)
    if not key:
        raise BadRequest("idempotency_key_required",
                         f"the {IDEMPOTENCY_HEADER} header is required (one key per resident action, "
                         "reused on every retry)")
    if not _IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise BadRequest("bad_idempotency_key", "the idempotency key must be 8-128 characters [A-Za-z0-9_.:-]")
    return key


def json_object(raw: bytes) -> dict:
    """A request body that must be a JSON object; BadRequest that says what is wrong with it."""
    try:
        doc = json.loads(raw)
    except ValueError:  # UnicodeDecodeError included
        raise BadRequest("bad_json", "the request body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise BadRequest("bad_json", "the request body must be a JSON object")
    return doc


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_tracking_number() -> str:
    """e.g. "TK261125-7KQ2M9": the date it was made and 6 random characters (1e9 per day)."""
    day = datetime.now(UTC).strftime("%y%m%d")
    return f"TK{day}-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


def fingerprint(doc: object) -> str:
    """A stable hash of a JSON document, whatever its key order: an idempotency key replayed with a
    different document is a conflict, with the same one a replay (edge outbox and platform alike)."""
    canon = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def error_body(code: str, message: str, **details: object) -> dict:
    err: dict = {"code": code, "message": message}
    if details:
        err["details"] = details
    return {"error": err}

