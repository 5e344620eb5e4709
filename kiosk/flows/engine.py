"""A service's declarative steps run as a state machine: knows neither widgets nor bytes on a wire.

The UI feeds it events (a card was read, a field was set, the photo was taken, confirm, submit,
the receipt printed or not) and shows whatever step it is on. Anything a service needs is in its
content definition, so a newly published service runs with no code change.

Privacy: the card's fields live only in this object until `wipe()`; nothing here logs them, the
summary shows the masked ID, and `repr()` shows no personal data.
"""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from kiosk import i18n, wire
from kiosk.edge_client import EdgeRejected, EdgeUnavailable
from kiosk.flows import payments, receipt
from kiosk.flows.receipt import ReceiptContent
from kiosk.flows.validation import NO, YES, FieldError, normalise, validate

log = logging.getLogger(__name__)

MAX_CARD_TRIES = 3


class Kind(enum.StrEnum):
    IDENTIFY = "identify"
    FORM = "form"
    PHOTO = "photo"
    CONFIRM = "confirm"
    SUBMIT = "submit"
    RECEIPT = "receipt"
    GUIDE = "guide"
    LOOKUP = "lookup"


class State(enum.StrEnum):
    ACTIVE = "active"
    DONE = "done"
    CANCELLED = "cancelled"


class FlowError(Exception):
    """An event that does not fit the current step: a bug in the caller, not a resident's mistake."""


@dataclass(frozen=True)
class SummaryLine:
    label: str
    value: str
    field_id: str | None = None


@dataclass(frozen=True)
class SubmitOutcome:
    ok: bool
    tracking_number: str | None = None
    forwarded: bool = False
    error: str | None = None  # "edge_unavailable" (outcome unknown: retry with the same key) | "rejected"
    #                           | "storage_full" (the edge's disk is full: nothing stored; the counter)
    field_errors: tuple[FieldError, ...] = ()
    existing: bool = False  # the edge already held this flow's application (an earlier answer was lost)


class Flow:
    """One resident's pass through one service."""

    def __init__(self, service: Any, *, edge: Any, lang: str = "bo") -> None:
        self.service = service
        self.edge = edge
        self.lang = lang
        self._steps = list(service.steps)
        if not self._steps:
            raise FlowError(f"service {service.id} has no steps")
        self._index = 0
        self.state = State.ACTIVE
        # one key for this flow: a retry after a timeout must not make a second application
        self.idempotency_key = uuid.uuid4().hex
        self._wipe_data()

    def _wipe_data(self) -> None:
        self._card: dict[str, str] = {}
        self._card_l10n: dict[str, dict[str, str]] = {}
        self._values: dict[str, str] = {}
        self._photo: bytes | None = None
        self.card_failures = 0
        self.tracking_ref: str | None = None  # a tracking number read from a receipt QR
        self.submission: dict | None = None
        self.receipt_state: str | None = None  # None | "printed" | "failed"
        self.receipt_error: str | None = None
        self.lookup_result: dict | None = None
        self.lookup_error: str | None = None
        # A submit whose answer was lost may have been stored: from then on the flow is frozen (no
        # back, no edits), so a retry sends the same request under the same key.
        self.outcome_unknown = False
        self._request: dict | None = None  # what was sent; holds personal data, wiped with the rest

    def __repr__(self) -> str:
        return f"<Flow service={self.service.id} step={self._index}:{self.kind} state={self.state}>"

    # --- where we are -------------------------------------------------------------------------
    @property
    def step(self) -> Any:
        return self._steps[min(self._index, len(self._steps) - 1)]

    @property
    def kind(self) -> Kind:
        return Kind(self.step.kind)

    @property
    def offer_counter(self) -> bool:
        """After three unreadable cards, stop asking and send the resident to the counter."""
        return self.card_failures >= MAX_CARD_TRIES

    @property
    def submitted(self) -> bool:
        return self.submission is not None

    @property
    def tracking_number(self) -> str | None:
        return self.submission["tracking_number"] if self.submission else None

    @property
    def identified(self) -> bool:
        """A card was read or a receipt QR was shown."""
        return bool(self._card or self.tracking_ref)

    @property
    def masked_id(self) -> str | None:
        return self._card.get("id_masked")

    @property
    def photo(self) -> bytes | None:
        return self._photo

    @property
    def has_personal_data(self) -> bool:
        return bool(self._card or self._values or self._photo or self.lookup_result or self._request)

    def _require(self, *kinds: Kind) -> None:
        if self.state is not State.ACTIVE:
            raise FlowError(f"flow is {self.state}")
        if self.kind not in kinds:
            raise FlowError(f"event needs step {'/'.join(kinds)}, flow is on {self.kind}")

    def _advance(self) -> None:
        self._index += 1
        if self._index >= len(self._steps):
            self._index = len(self._steps) - 1
            self.state = State.DONE
        log.info("flow step", extra={"service": self.service.id, "step": self.kind.value,
                                     "state": self.state.value})

    # --- identify -------------------------------------------------------------------------------
    def card_read(self, record_fields: dict[str, str], *,
                  localized: dict[str, dict[str, str]] | None = None) -> None:
        """A card was read (CardRecord.to_form_fields()); card-sourced form fields fill and lock.

        `localized` holds to_form_fields(lang) per language, so gender and nation follow a
        language switch.
        """
        self._require(Kind.IDENTIFY, Kind.LOOKUP)
        self._card = {k: str(v) for k, v in record_fields.items() if v is not None}
        self._card_l10n = {lang: {k: str(v) for k, v in d.items() if v is not None}
                           for lang, d in (localized or {}).items()}
        self.tracking_ref = None
        if self.kind is Kind.IDENTIFY:
            self._advance()

    def card_failed(self) -> bool:
        """An unreadable card; returns True when it is time to offer the counter."""
        self._require(Kind.IDENTIFY, Kind.LOOKUP)
        self.card_failures += 1
        return self.offer_counter

    def qr_read(self, text: str) -> bool:
        """A receipt QR was shown; False (nothing changes) when it holds no tracking number."""
        self._require(Kind.IDENTIFY, Kind.LOOKUP)
        if "qr" not in self.methods:
            raise FlowError("this step does not accept a QR code")
        tracking = wire.tracking_number_in(text or "")
        if tracking is None:
            return False
        self.tracking_ref = tracking
        self._card, self._card_l10n = {}, {}
        if self.kind is Kind.IDENTIFY:
            self._advance()
        return True

    @property
    def methods(self) -> list[str]:
        """How this step identifies the resident: a step that names none takes a card or a receipt QR."""
        return list(getattr(self.step, "methods", None) or ["card", "qr"])

    # --- form ----------------------------------------------------------------------------------
    def form_fields(self) -> list[Any]:
        """Fields of the current form step (every form step's fields on other steps)."""
        if self.kind is Kind.FORM:
            return list(self.step.fields)
        return self.all_fields()

    def all_fields(self) -> list[Any]:
        return list(self.service.fields)

    def _field(self, field_id: str) -> Any:
        for f in self.all_fields():
            if f.id == field_id:
                return f
        raise FlowError(f"no field {field_id!r} in service {self.service.id}")

    def is_read_only(self, field: Any) -> bool:
        """Filled from the card: shown, never editable (an edit would contradict the card)."""
        src = getattr(field, "source", None)
        return bool(src) and src in self._card

    def value(self, field_id: str) -> str:
        f = self._field(field_id)
        src = getattr(f, "source", None)
        if src and src in self._card:
            return self._card_l10n.get(self.lang, {}).get(src, self._card[src])
        return self._values.get(field_id, "")

    def card_value(self, card_field: str) -> str | None:
        """A value read from the card (e.g. to offer its address for a "current address" field)."""
        return self._card_l10n.get(self.lang, {}).get(card_field, self._card.get(card_field))

    @property
    def frozen(self) -> bool:
        """Submitted, or sent with no answer: nothing the resident entered may change any more."""
        return self.submitted or self.outcome_unknown

    def set_field(self, field_id: str, value: object) -> FieldError | None:
        """Keep what was entered (nothing is thrown away for a typo) and say what is wrong with it."""
        if self.state is not State.ACTIVE or self.frozen:
            raise FlowError("the form can no longer change")
        f = self._field(field_id)
        if self.is_read_only(f):
            return FieldError(field_id, "read_only")
        text = normalise(f, value)
        self._values[field_id] = text
        code = validate(f, text)
        return FieldError(field_id, code) if code else None

    def field_errors(self, fields: list[Any] | None = None) -> list[FieldError]:
        errors = []
        for f in fields if fields is not None else self.form_fields():
            code = validate(f, self.value(f.id))
            if code:
                errors.append(FieldError(f.id, code))
        return errors

    def next(self) -> list[FieldError]:
        """Leave a form (when every field is fine) or a guide step; errors keep the resident here."""
        self._require(Kind.FORM, Kind.GUIDE)
        if self.kind is Kind.FORM:
            errors = self.field_errors()
            if errors:
                return errors
        self._advance()
        return []

    # --- photo -----------------------------------------------------------------------------------
    @property
    def photo_required(self) -> bool:
        return any(s.kind == Kind.PHOTO and getattr(s, "required", False) for s in self._steps)

    def photo_taken(self, jpeg: bytes) -> None:
        self._require(Kind.PHOTO)
        if not jpeg:
            raise FlowError("empty photo")
        self._photo = bytes(jpeg)
        self._advance()

    def skip_photo(self) -> FieldError | None:
        self._require(Kind.PHOTO)
        if getattr(self.step, "required", False):
            return FieldError("photo", "photo_required")
        self._photo = None
        self._advance()
        return None

    # --- confirm / submit ----------------------------------------------------------------------
    def confirm(self) -> list[FieldError]:
        """The resident said the summary is right; a field that became invalid keeps them here."""
        self._require(Kind.CONFIRM)
        errors = self.field_errors(self.all_fields())
        if not errors:
            self._advance()
        return errors

    def applicant(self) -> dict[str, str]:
        return {k: v for k, v in self._card.items() if k != "id_masked"}

    def submit(self) -> SubmitOutcome:
        """Send to the edge with this flow's one idempotency key; a retry after failure reuses it.

        Blocks for at most the edge client's timeout: the UI calls it from a worker thread.
        """
        self._require(Kind.SUBMIT)
        if self._request is None:
            # built once: a retry (even after a language switch) is the very same request
            fields = {f.id: self.value(f.id) for f in self.all_fields()
                      if not getattr(f, "source", None) and self.value(f.id) != ""}
            self._request = {"fields": fields, "applicant": self.applicant(), "photo": self._photo,
                             "lang": self.lang}
        req = self._request
        try:
            result = self.edge.submit(self.service.id, req["fields"], req["applicant"], photo=req["photo"],
                                      lang=req["lang"], idempotency_key=self.idempotency_key)
        except EdgeUnavailable as e:
            if e.code == wire.ERR_STORAGE_FULL:  # the edge answered: nothing stored under this key
                self.outcome_unknown = False
                log.warning("submit refused: edge storage full", extra={"service": self.service.id})
                return SubmitOutcome(False, error="storage_full")
            self.outcome_unknown = True
            log.warning("submit failed: edge unavailable, outcome unknown", extra={"service": self.service.id})
            return SubmitOutcome(False, error="edge_unavailable")
        except EdgeRejected as e:
            tracking = (e.details or {}).get("tracking_number") if e.status == 409 else None
            if wire.is_tracking_number(tracking):
                # this flow's key already made an application (an earlier answer was lost): it is this one
                log.warning("submit: key already used, showing the existing application",
                            extra={"service": self.service.id})
                return self._accepted(self._existing(tracking), existing=True)
            log.warning("submit rejected", extra={"service": self.service.id, "code": e.code})
            return SubmitOutcome(False, error="rejected", field_errors=self._rejected_fields(e))
        return self._accepted(dict(result))

    def _existing(self, tracking: str) -> dict:
        """What the edge says of an application it already holds; its tracking number alone if it cannot say."""
        try:
            doc = dict(self.edge.submission(tracking))
        except (EdgeUnavailable, EdgeRejected):
            doc = {}
        return {"status": wire.STATUS_QUEUED, "forwarded": False, **doc, "tracking_number": tracking}

    def _accepted(self, submission: dict, *, existing: bool = False) -> SubmitOutcome:
        self.submission = submission
        self.outcome_unknown = False
        self._advance()
        return SubmitOutcome(True, tracking_number=self.tracking_number,
                             forwarded=bool(self.submission.get("forwarded")), existing=existing)

    def refresh_submission(self) -> bool:
        """Ask the edge whether the platform has acknowledged the application; True once forwarded.

        The edge answers a submit at once ("queued"); a moment later the forwarder has usually
        delivered it, and the receipt can then say "submitted" rather than "will be sent later".
        """
        if not self.submission:
            return False
        try:
            doc = self.edge.submission(self.tracking_number)
        except (EdgeUnavailable, EdgeRejected):
            return bool(self.submission.get("forwarded"))
        if doc.get("forwarded"):
            self.submission["forwarded"] = True
            self.submission["status"] = doc.get("status", self.submission.get("status"))
        return bool(self.submission.get("forwarded"))

    @staticmethod
    def _rejected_fields(e: Any) -> tuple[FieldError, ...]:
        """The edge's 422 lists {field, code, message}; codes we have words for are kept."""
        details = getattr(e, "details", None) or {}
        bad = details.get("fields") if isinstance(details, dict) else None
        out = []
        for b in bad if isinstance(bad, list) else ():
            if isinstance(b, dict) and b.get("field"):
                code = str(b.get("code", ""))
                out.append(FieldError(str(b["field"]), code if i18n.has(f"err_{code}") else "unknown"))
        return tuple(out)

    # --- receipt -----------------------------------------------------------------------------------
    def receipt_printed(self) -> None:
        self._require(Kind.RECEIPT)
        self.receipt_state, self.receipt_error = "printed", None
        self._advance()

    def receipt_failed(self, code: str) -> None:
        """The printer could not print (job kept by the driver): the tracking number goes on screen."""
        self._require(Kind.RECEIPT)
        self.receipt_state, self.receipt_error = "failed", code
        self._advance()

    def receipt_content(self, lang: str | None = None, *, hall: receipt.Words | None = None,
                        contact: receipt.Hotline | None = None, tz: tzinfo | None = None) -> ReceiptContent:
        """The receipt in `lang` with the other language as `.alt`. hall: the config's `kiosk.hall_name`;
        contact: the pack's `contact`; tz: the hall's zone (`kiosk.zone`) for the edge's trusted time."""
        if not self.submission:
            raise FlowError("nothing submitted yet")
        return receipt.build(self.service, self.submission, self._card.get("id_masked"), lang or self.lang,
                             hall=hall, contact=contact, tz=tz)

    # --- lookup --------------------------------------------------------------------------------------
    @property
    def lookup_query(self) -> str:
        """What the lookup step asks for: "progress" or "insurance_payments" (kiosk.flows.payments)."""
        step = next((s for s in self._steps if s.kind == Kind.LOOKUP), None)
        return (getattr(step, "query", None) or "progress") if step is not None else "progress"

    @property
    def lookup_offline(self) -> bool:
        """The answer is the edge's last copy (platform unreachable): the screen says how old it is."""
        return bool(self.lookup_result) and self.lookup_result.get("source") == "edge_cache"

    @property
    def lookup_as_of(self) -> str | None:
        return self.lookup_result.get("as_of") if self.lookup_result else None

    def lookup(self) -> dict | None:
        """Ask the edge: progress by the card's ID number or the receipt's tracking number, or the card
        holder's payment records. None (and `lookup_error` set) when there is no answer.

        Blocks for at most the edge client's timeout: the UI calls it from a worker thread.
        """
        self._require(Kind.LOOKUP)
        query = self.lookup_query
        if query not in ("progress", payments.QUERY):
            self.lookup_error = "unsupported"
            log.warning("lookup query not supported", extra={"service": self.service.id, "query": query})
            return None
        if query == payments.QUERY and not self._card.get("id_number"):
            self.lookup_error = "needs_card"  # a receipt QR names an application, not a person
            return None
        try:
            if query == payments.QUERY:
                result = self.edge.payments(self._card["id_number"])
            elif self.tracking_ref:
                result = self.edge.progress(tracking_number=self.tracking_ref)
            elif self._card.get("id_number"):
                result = self.edge.progress(id_number=self._card["id_number"])
            else:
                raise FlowError("lookup needs a card or a receipt QR first")
        except EdgeUnavailable as e:
            # "payments_unreachable": the edge is up but neither the platform nor its copy has the
            # records (the counter can help); anything else: the edge itself did not answer
            self.lookup_error = "payments_unreachable" if e.code == "payments_unreachable" else "edge_unavailable"
            log.warning("lookup failed", extra={"service": self.service.id, "error": self.lookup_error})
            return None
        except EdgeRejected as e:
            # Over the edge's per-kiosk lookup rate: "try again in a moment", not a refusal of the resident.
            self.lookup_error = "rate_limited" if e.code == wire.ERR_RATE_LIMITED else "rejected"
            log.warning("lookup failed", extra={"service": self.service.id, "error": self.lookup_error,
                                                "code": e.code})
            return None
        self.lookup_result, self.lookup_error = dict(result), None
        log.info("lookup answered", extra={"service": self.service.id, "query": query,
                                           "source": self.lookup_result.get("source")})
        return self.lookup_result

    # --- going back, leaving ---------------------------------------------------------------------
    def back(self) -> bool:
        """One screen back; False at the first step (the caller leaves the flow) or once submitted.

        Refused (FlowError) while the outcome of a submit is unknown: going back to change anything
        could leave a stored application behind under a tracking number nobody saw."""
        if self.outcome_unknown and self.state is State.ACTIVE:
            raise FlowError("the outcome of the submit is unknown: retry it or go to the counter")
        if self.state is not State.ACTIVE or self.submitted:
            return False
        i = self._index - 1
        while i >= 0 and self._steps[i].kind == Kind.SUBMIT:
            i -= 1
        if i < 0:
            return False
        self._index = i
        return True

    def cancel(self) -> None:
        self.state = State.CANCELLED
        self.wipe()

    def wipe(self) -> None:
        """Forget everything about the resident: card, form, photo, lookup result."""
        if self.state is State.ACTIVE:
            self.state = State.CANCELLED
        self._wipe_data()

    # --- the confirm screen ------------------------------------------------------------------------
    def summary(self, lang: str | None = None) -> list[SummaryLine]:
        """Label/value lines for the confirm screen (spoken too): the masked ID, never the full one."""
        lang = lang or self.lang
        lines: list[SummaryLine] = []
        shown_id = False
        full_id = self._card.get("id_number")
        for f in self.all_fields():
            src = getattr(f, "source", None)
            raw = self.value(f.id)
            if src in ("id_number", "id_masked") or (full_id and raw == full_id):
                raw, shown_id = self._card.get("id_masked", ""), True
            lines.append(SummaryLine(f.label.get(lang), self._display(f, raw, lang), f.id))
        if self._card.get("id_masked") and not shown_id:
            lines.insert(0, SummaryLine(i18n.tr("id_number", lang), self._card["id_masked"], None))
        if self.tracking_ref:
            lines.insert(0, SummaryLine(i18n.tr("tracking_number", lang), self.tracking_ref, None))
        if self.service.has_step(Kind.PHOTO):
            lines.append(SummaryLine(i18n.tr("photo", lang),
                                     i18n.tr("photo_taken" if self._photo else "photo_none", lang), None))
        return lines

    @staticmethod
    def _display(field: Any, raw: str, lang: str) -> str:
        if raw == "":
            return i18n.tr("not_filled", lang)
        kind = getattr(field, "type", "text")
        if kind == "choice":
            for c in getattr(field, "choices", None) or ():
                if c.value == raw:
                    return c.label.get(lang)
        if kind == "yesno" and raw in (YES, NO):
            return i18n.tr(raw, lang)
        return raw
