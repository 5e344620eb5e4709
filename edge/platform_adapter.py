"""How the edge talks to the region's government-service platform (see docs/platform-adapter.md).

Every region runs a different platform; the forwarder and the local API only see the
`PlatformAdapter` protocol below, and its two kinds of failure:
- `PlatformUnavailable`: try again later (network down, timeout, 5xx, 429, our credentials refused,
  anything that is not the platform's own answer). The item stays queued; `code` says why.
- `PlatformRejected`: the platform refused this item for good: HTTP 400/409/422 with the platform's
  own JSON error code. Retrying the same bytes cannot help; the item becomes a dead letter for staff.

`HttpPlatformAdapter` speaks the reference platform's HTTP API (central/platform.py). It is
synchronous (kiosk/http_client.py): it runs in the forwarder's thread and in worker threads of
the API, which share a few keep-alive connections.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Protocol, TypeVar
from urllib.parse import quote

import urllib3

from kiosk import wire
from kiosk.http_client import HttpClient, Unreachable, json_request

_Item = TypeVar("_Item")


class PlatformError(Exception):
    pass


UNAVAILABLE_NETWORK = "wan_down"               # not reachable, timeout, 5xx, 408/425/429
UNAVAILABLE_AUTH = "platform_auth"             # 401/403: the platform (or a proxy) refuses our credentials
UNAVAILABLE_UNEXPECTED = "platform_unexpected"  # an answer that is not the platform's: 404/405/413, HTML...
# Only these statuses, carrying the platform's JSON error code, are a refusal of the item itself.
PERMANENT_STATUSES = (400, 409, 422)


class PlatformUnavailable(PlatformError):
    """Temporary: the platform could not be reached, asked us to come back later, refused our
    credentials or did not answer as the platform. `code` is one of the UNAVAILABLE_* values."""

    def __init__(self, message: str, code: str = UNAVAILABLE_NETWORK) -> None:
        super().__init__(message)
        self.code = code


class PlatformRejected(PlatformError):
    """Permanent: the platform refused this request; `code` and `reason` are the platform's words."""

    def __init__(self, code: str, reason: str, http_status: int | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.http_status = http_status


@dataclass(frozen=True)
class Ack:
    """The platform has the item. `tracking_number` is the platform's number for it (normally the
    one the edge proposed and printed on the receipt)."""
    tracking_number: str
    status: str = wire.STATUS_RECEIVED


@dataclass(frozen=True)
class ApplicationStatus:
    tracking_number: str
    service_id: str
    status: str
    history: list[dict] = field(default_factory=list)  # [{"status", "at"}], oldest first


@dataclass(frozen=True)
class PaymentRecord:
    """One month of one kind of social insurance for one person (the person is not in it)."""
    year: int
    month: int
    kind: str            # wire.PAYMENT_KINDS
    amount: str          # yuan, a decimal string with 2 places ("150.00"): exact, ready to show
    paid_at: str | None  # YYYY-MM-DD; None when nothing was paid
    payer_status: str    # wire.PAYER_STATUSES

    def to_dict(self) -> dict:
        return asdict(self)


class PlatformAdapter(Protocol):
    def submit_application(self, key: str, payload: dict) -> Ack:
        """Deliver one application. Must be idempotent on `key`: a replay returns the first Ack."""
        ...

    def submit_feedback(self, key: str, payload: dict) -> Ack:
        ...

    def get_status(self, tracking_number: str) -> ApplicationStatus | None:
        """None when the platform does not know the number."""
        ...

    def search_by_id(self, id_number: str) -> list[ApplicationStatus]:
        ...

    def search_payments(self, id_number: str) -> list[PaymentRecord]:
        """The resident's social-insurance payments: latest first, at most wire.PAYMENTS_MAX_MONTHS
        months; [] when the platform has none."""
        ...

    def search_documents(self, **who: str) -> list[dict]:
        """Documents issued to a holder (id_number=) or for an application (tracking_number=): their
        summaries (central/documents.IssuedDocument.summary), nothing that names the holder."""
        ...

    def document_pdf(self, serial: str, **who: str) -> bytes | None:
        """One document as a PDF; None when the platform has no such document for `who`. A document
        that names its holder asked for by tracking number is PlatformRejected(wire.ERR_CARD_REQUIRED)."""
        ...


def _status_from(d: dict) -> ApplicationStatus:
    status = str(d["status"])
    if status not in wire.STATUSES:
        raise ValueError(f"unknown status {status!r}")
    history = [{"status": str(h["status"]), "at": str(h["at"])} for h in d.get("history") or []]
    return ApplicationStatus(str(d["tracking_number"]), str(d.get("service_id", "")), status, history)


_AMOUNT_RE = re.compile(r"^[0-9]{1,9}\.[0-9]{2}$")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _payment_from(d: dict) -> PaymentRecord:
    year, month, kind, amount = d["year"], d["month"], d["kind"], d["amount"]
    paid_at, payer = d.get("paid_at"), d["payer_status"]
    if isinstance(year, bool) or not isinstance(year, int) or isinstance(month, bool) or not isinstance(month, int) \
            or not 1 <= month <= 12:
        raise ValueError("bad year or month")
    if kind not in wire.PAYMENT_KINDS or payer not in wire.PAYER_STATUSES:
        raise ValueError("unknown kind or payer status")
    if not isinstance(amount, str) or not _AMOUNT_RE.match(amount):
        raise ValueError("amount is not a yuan decimal string")
    if paid_at is not None and not (isinstance(paid_at, str) and _DATE_RE.match(paid_at)):
        raise ValueError("paid_at is not a date")
    return PaymentRecord(year, month, kind, amount, paid_at, payer)


class HttpPlatformAdapter:
    """The reference platform over HTTP(S). `timeout` bounds connect and each read."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self._http = HttpClient(base_url, "platform", timeout=timeout)

    def close(self) -> None:
        """Close the idle connections (the adapter stays usable)."""
        self._http.close()

    def _exchange(self, method: str, path: str, body: dict | None = None,
                  key: str | None = None) -> urllib3.BaseHTTPResponse:
        data, headers = json_request(body, key)
        # Every request is safe to send twice (reads, searches, writes with an idempotency key), so one
        # whose connection broke is sent once more on a new one.
        try:
            return self._http.request(method, path, body=data, headers=headers, idempotent=True)
        except Unreachable as e:
            raise PlatformUnavailable(f"platform unreachable: {e}") from None

    def _request(self, method: str, path: str, body: dict | None = None,
                 key: str | None = None) -> tuple[int, dict]:
        return self._answer(self._exchange(method, path, body, key))

    @staticmethod
    def _answer(resp: urllib3.BaseHTTPResponse) -> tuple[int, dict]:
        """(status, JSON document) of an answer that is the platform talking; PlatformUnavailable otherwise."""
        status, raw = resp.status, resp.data
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            doc = None
        if status >= 500 or status in (408, 425, 429):
            raise PlatformUnavailable(f"platform answered HTTP {status}")
        if status in (401, 403):
            raise PlatformUnavailable(f"platform refuses our credentials (HTTP {status})", UNAVAILABLE_AUTH)
        if not isinstance(doc, dict):
            # e.g. a captive portal or proxy page: not the platform talking
            raise PlatformUnavailable(f"platform answered HTTP {status} without a JSON document",
                                      UNAVAILABLE_UNEXPECTED)
        return status, doc

    @staticmethod
    def _not_found(status: int, doc: dict) -> bool:
        """The platform itself says it does not know the thing (not a proxy's 404)."""
        err = doc.get("error")
        return status == 404 and isinstance(err, dict) and err.get("code") == wire.ERR_NOT_FOUND

    @staticmethod
    def _refusal(status: int, doc: dict) -> PlatformError:
        """A non-success answer: permanent only if it is the platform refusing the request in its own
        words (a PERMANENT_STATUSES status with {"error": {"code", "message"}}); anything else may be a
        proxy, a wrong URL or a platform mid-upgrade, so try again later."""
        err = doc.get("error")
        if status in PERMANENT_STATUSES and isinstance(err, dict) and isinstance(err.get("code"), str) \
                and err["code"]:
            return PlatformRejected(err["code"], str(err.get("message") or f"platform answered HTTP {status}"),
                                    status)
        return PlatformUnavailable(f"platform answered HTTP {status} without its error code",
                                   UNAVAILABLE_UNEXPECTED)

    def _submit(self, path: str, key: str, payload: dict) -> Ack:
        status, doc = self._request("POST", path, payload, key)
        if status not in (200, 201):
            raise self._refusal(status, doc)
        try:
            return Ack(str(doc["tracking_number"]), str(doc.get("status") or wire.STATUS_RECEIVED))
        except KeyError:
            raise PlatformUnavailable("platform acknowledgement without a tracking number") from None

    def submit_application(self, key: str, payload: dict) -> Ack:
        return self._submit(wire.PLATFORM_APPLICATIONS, key, payload)

    def submit_feedback(self, key: str, payload: dict) -> Ack:
        return self._submit(wire.PLATFORM_FEEDBACK, key, payload)

    def get_status(self, tracking_number: str) -> ApplicationStatus | None:
        path = wire.PLATFORM_APPLICATION.format(tracking_number=quote(tracking_number, safe=""))
        status, doc = self._request("GET", path)
        if self._not_found(status, doc):
            return None
        if status != 200:
            raise self._refusal(status, doc)
        try:
            return _status_from(doc)
        except (KeyError, TypeError, ValueError):
            raise PlatformUnavailable("platform sent a malformed status document") from None

    def _search(self, path: str, query: dict[str, str], key: str, parse: Callable[[dict], _Item],
                what: str) -> list[_Item]:
        """POST a search; each item of the answer's `key` list through `parse`. A malformed answer is
        temporary (a proxy page, a platform mid-upgrade), not a refusal."""
        status, doc = self._request("POST", path, query)
        if status != 200:
            raise self._refusal(status, doc)
        try:
            return [parse(d) for d in doc[key]]
        except (KeyError, TypeError, ValueError):
            raise PlatformUnavailable(f"platform sent a malformed {what} result") from None

    def search_by_id(self, id_number: str) -> list[ApplicationStatus]:
        return self._search(wire.PLATFORM_SEARCH, {"id_number": id_number}, "applications", _status_from, "search")

    def search_payments(self, id_number: str) -> list[PaymentRecord]:
        return self._search(wire.PLATFORM_PAYMENTS_SEARCH, {"id_number": id_number}, "payments", _payment_from,
                            "payments")

    def search_documents(self, **who: str) -> list[dict]:
        return self._search(wire.PLATFORM_DOCUMENTS_SEARCH, who, "documents", _document_from, "documents")

    def document_pdf(self, serial: str, **who: str) -> bytes | None:
        path = wire.PLATFORM_DOCUMENT_PDF.format(serial=quote(serial, safe=""))
        resp = self._exchange("POST", path, who)
        if resp.status == 200 and resp.data.startswith(b"%PDF-"):
            return resp.data
        status, doc = self._answer(resp)  # not a PDF: the platform's error document, or not the platform at all
        if self._not_found(status, doc):
            return None
        raise self._refusal(status, doc)


def _document_from(d: dict) -> dict:
    """A document summary, checked: what the kiosk lists and speaks."""
    title = d["title"]
    if not all(isinstance(d[k], str) and d[k] for k in ("serial", "kind", "tracking_number", "issued_on")) \
            or not isinstance(title, dict) or not all(isinstance(title.get(lang), str) for lang in ("bo", "zh")):
        raise ValueError("bad document summary")
    return {"serial": d["serial"], "kind": d["kind"], "tracking_number": d["tracking_number"],
            "service_id": str(d.get("service_id", "")), "issued_on": d["issued_on"],
            "title": {k: str(v) for k, v in title.items()}, "needs_card": bool(d.get("needs_card")),
            "holder_id_masked": str(d.get("holder_id_masked", ""))}
