"""The kiosk UI's synchronous client for its edge node's local API (over kiosk/http_client.py).

No event loop needed: the UI calls it from worker threads, which share a few keep-alive connections.
Every call is bounded by `timeout`. `submit` and `feedback` carry an idempotency key and resend a
request whose connection broke with the SAME key, so a resident's one press never becomes two
applications. With a `token` (config `edge.token`) every request carries it, as an edge on the hall
LAN requires.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import urllib3

from kiosk import wire
from kiosk.content import BlankForm, Contact, Guide, Prompt, Service
from kiosk.http_client import HttpClient, Unreachable, json_request


class EdgeError(Exception):
    pass


class EdgeUnavailable(EdgeError):
    """The edge did not answer (down, timeout) or answered 5xx: show the offline screen, try later.
    `code` is the edge's stable error code when it answered one (e.g. "payments_unreachable")."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class EdgeRejected(EdgeError):
    """The edge refused the request (4xx). `code` is stable; `details` may list bad fields.
    `retry_after` (seconds) comes with 429 "rate_limited": too many lookups from this kiosk."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None, *,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details or {}
        self.retry_after = retry_after


class EdgeClient:
    def __init__(self, base_url: str, timeout: float = 5.0, *, retries: int = 2,
                 cache_bytes: int = 16 << 20, token: str = "") -> None:
        """`retries`: how often a keyed or read-only request is resent after its connection broke."""
        self._http = HttpClient(base_url, "edge", timeout=timeout, resends=retries)
        self._auth = {wire.AUTH_HEADER: f"{wire.AUTH_SCHEME} {token}"} if token else {}
        self._cache: OrderedDict[str, tuple[str, bytes]] = OrderedDict()  # path -> (etag, bytes)
        self._cache_limit = cache_bytes
        self._cache_size = 0

    # --- transport ----------------------------------------------------------------------------
    def _once(self, method: str, path: str, body: bytes | None, headers: Mapping[str, str],
              **kw: Any) -> urllib3.BaseHTTPResponse:
        """One exchange with the edge (resends included): what crossed the LAN."""
        return self._http.request(method, path, body=body, headers=headers, **kw)

    def _request(self, method: str, path: str, doc: Any = None, *, key: str | None = None,
                 headers: dict[str, str] | None = None, idempotent: bool = False,
                 timeout: float | None = None) -> tuple[int, Mapping[str, str], bytes]:
        """(status, headers, body) of a 2xx/304 answer; a keyed request resent keeps its key, so the edge
        answers a replay with the first result."""
        body, hdrs = json_request(doc, key, {**self._auth, **(headers or {})})
        try:
            resp = self._once(method, path, body, hdrs, idempotent=idempotent, timeout=timeout)
        except Unreachable as e:
            raise EdgeUnavailable(f"edge not reachable: {e}") from None
        status, raw = resp.status, resp.data
        if status >= 500:
            code, message, _ = self._error(raw, status)
            raise EdgeUnavailable(f"edge answered HTTP {status} ({code}: {message})", code)
        if status >= 400:
            raise EdgeRejected(status, *self._error(raw, status), retry_after=_seconds(resp.headers.get("retry-after")))
        return status, resp.headers, raw

    @staticmethod
    def _error(raw: bytes, status: int) -> tuple[str, str, dict]:
        """(code, message, details) from a wire.error_body, or generic ones for anything else."""
        try:
            err = json.loads(raw)["error"]
            details = err.get("details")
            return str(err["code"]), str(err["message"]), details if isinstance(details, dict) else {}
        except (ValueError, KeyError, TypeError, AttributeError):
            return f"http_{status}", f"HTTP {status}", {}

    def _json(self, method: str, path: str, doc: Any = None, **kw: Any) -> Any:
        _, _, raw = self._request(method, path, doc, **kw)
        try:
            return json.loads(raw)
        except ValueError:
            raise EdgeUnavailable("edge answered without a JSON document") from None

    def _cached(self, path: str) -> bytes:
        """GET with If-None-Match from a small LRU cache: unchanged content costs a 304."""
        hit = self._cache.get(path)
        status, headers, raw = self._request("GET", path, headers={"If-None-Match": hit[0]} if hit else None)
        if status == 304 and hit:
            self._cache.move_to_end(path)
            return hit[1]
        etag = headers.get("etag")
        if etag and len(raw) <= self._cache_limit // 4:
            if path in self._cache:
                self._cache_size -= len(self._cache.pop(path)[1])
            self._cache[path] = (etag, raw)
            self._cache_size += len(raw)
            while self._cache_size > self._cache_limit:
                _, (_, old) = self._cache.popitem(last=False)
                self._cache_size -= len(old)
        return raw

    def _cached_json(self, path: str) -> Any:
        try:
            return json.loads(self._cached(path))
        except ValueError:
            raise EdgeUnavailable("edge answered without a JSON document") from None

    # --- content ------------------------------------------------------------------------------
    def status(self) -> dict:
        return self._json("GET", wire.API_STATUS)

    def services(self) -> list[dict]:
        """Summaries in home-screen order: id, category, title, summary, icon."""
        return self._cached_json(wire.API_SERVICES)["services"]

    def contact(self) -> Contact | None:
        """The active pack's hotline (printed on receipts), or None when the pack has none."""
        raw = self._cached_json(wire.API_SERVICES).get("contact")
        return Contact.from_dict(raw) if isinstance(raw, dict) else None

    def service(self, service_id: str) -> Service:
        return Service.from_dict(self._cached_json(wire.API_SERVICE.format(service_id=quote(service_id, safe=""))))

    def prompts(self) -> dict[str, Prompt]:
        return {k: Prompt.from_dict(v) for k, v in self._cached_json(wire.API_PROMPTS)["prompts"].items()}

    def guide(self, guide_id: str) -> Guide:
        return Guide.from_dict(self._cached_json(wire.API_GUIDE.format(guide_id=quote(guide_id, safe=""))))

    def form(self, form_id: str) -> BlankForm:
        return BlankForm.from_dict(self._cached_json(wire.API_FORM.format(form_id=quote(form_id, safe=""))))

    def file_bytes(self, path: str) -> bytes:
        """A file of the active pack (icon, audio clip) by its pack-relative path."""
        return self._cached(wire.API_FILE.format(path=quote(path, safe="/")))

    # --- submissions --------------------------------------------------------------------------
    def submit(self, service_id: str, fields: dict, applicant: dict, photo: bytes | None = None,
               lang: str = "zh", idempotency_key: str | None = None) -> dict:
        """Hand in an application: {"tracking_number", "status": "queued", "created", "forwarded"}.

        Keep the key for the resident's action and pass it again if you retry yourself.
        """
        doc: dict[str, Any] = {"schema": wire.SUBMISSION_SCHEMA, "service_id": service_id, "fields": fields,
                               "applicant": applicant, "lang": lang}
        if photo is not None:
            doc["photo_jpeg_b64"] = base64.b64encode(photo).decode()
        return self._json("POST", wire.API_SUBMISSIONS, doc, key=idempotency_key or new_key())

    def submission(self, tracking_number: str) -> dict:
        return self._json("GET", wire.API_SUBMISSION.format(tracking_number=quote(tracking_number, safe="")))

    def submission_shown(self, tracking_number: str) -> None:
        """The resident has seen this receipt (EdgeRejected 404 "not_found" if the edge does not know it)."""
        self._json("POST", wire.API_SUBMISSION_SHOWN.format(tracking_number=quote(tracking_number, safe="")))

    def unconfirmed_submissions(self) -> list[dict]:
        """Accepted applications whose receipt was not shown: tracking_number, service_id, created, status."""
        return self._json("GET", wire.API_UNCONFIRMED)["applications"]

    def progress(self, *, id_number: str | None = None, tracking_number: str | None = None) -> dict:
        """{"source": "platform"|"edge_cache", "as_of", "applications": [...]}; the ID goes in the body."""
        if (id_number is None) == (tracking_number is None):
            raise ValueError("give exactly one of id_number or tracking_number")
        doc = {"id_number": id_number} if id_number is not None else {"tracking_number": tracking_number}
        return self._json("POST", wire.API_PROGRESS, doc, idempotent=True)  # a read

    def payments(self, id_number: str) -> dict:
        """{"source": "platform"|"edge_cache", "as_of", "payments": [{"year", "month", "kind", "amount",
        "paid_at", "payer_status"}, ...]}, latest first; the ID goes in the body. EdgeUnavailable with
        code "payments_unreachable" when neither the platform nor the edge's copy can answer."""
        return self._json("POST", wire.API_PAYMENTS, {"id_number": id_number}, idempotent=True)  # a read

    def documents(self, *, id_number: str | None = None, tracking_number: str | None = None) -> dict:
        """{"source": "platform", "as_of", "documents": [{"serial", "kind", "tracking_number", "issued_on",
        "title": {"bo", "zh", "en"}, "needs_card", ...}]}: documents issued to the card's holder or for the
        receipt's application. EdgeUnavailable with code "documents_unreachable" when the platform is down."""
        return self._json("POST", wire.API_DOCUMENTS, _holder(id_number, tracking_number), idempotent=True)

    def document_pdf(self, serial: str, *, id_number: str | None = None,
                     tracking_number: str | None = None) -> bytes:
        """One issued document as an A4 PDF. EdgeRejected 403 "card_required" for a document that names
        its holder asked for by receipt; 404 "not_found" when it is not this resident's."""
        path = wire.API_DOCUMENT_PDF.format(serial=quote(serial, safe=""))
        _, _, raw = self._request("POST", path, _holder(id_number, tracking_number), idempotent=True)
        if not raw.startswith(b"%PDF-"):
            raise EdgeUnavailable("edge answered without a PDF document")
        return raw

    def feedback(self, rating: int, reasons: list[str] | None = None, service_id: str | None = None,
                 lang: str = "zh", idempotency_key: str | None = None) -> dict:
        doc: dict[str, Any] = {"rating": rating, "reasons": reasons or [], "lang": lang}
        if service_id is not None:
            doc["service_id"] = service_id
        return self._json("POST", wire.API_FEEDBACK, doc, key=idempotency_key or new_key())

    def health(self, kiosk_id: str, components: dict[str, dict], *, voice: dict[str, dict] | None = None) -> None:
        """Report component statuses (kiosk.status.Status.as_dict() per component) and, when known, the voice
        coverage per language (kiosk.fleet_wire.VoiceCoverage as a dict)."""
        body: dict[str, Any] = {"kiosk_id": kiosk_id, "components": components}
        if voice:
            body["voice"] = voice
        self._json("POST", wire.API_HEALTH, body)

    # --- the fleet agent's requests for this kiosk's UI (edge/kiosk_commands.py) ----------------
    def kiosk_command(self, wait_s: float = 25.0) -> dict | None:
        """Long poll: the next request {"id", "kind", "args", "timeout_s"}, or None after wait_s."""
        status, _, raw = self._request("GET", f"{wire.API_KIOSK_COMMANDS}?wait={wait_s:g}",
                                       timeout=wait_s + self._http.timeout)
        if status == 204:
            return None
        try:
            doc = json.loads(raw)
        except ValueError:
            raise EdgeUnavailable("edge answered without a JSON document") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
            raise EdgeUnavailable("edge answered a request without an id")
        return doc

    def kiosk_command_result(self, request_id: str, result: str, message: str = "",
                             data: dict | None = None) -> None:
        """Answer a request taken with kiosk_command (EdgeRejected 404 once it has timed out)."""
        self._json("POST", wire.API_KIOSK_COMMAND_RESULT.format(request_id=quote(request_id, safe="")),
                   {"result": result, "message": message, "data": data or {}})


def _holder(id_number: str | None, tracking_number: str | None) -> dict[str, str]:
    if (id_number is None) == (tracking_number is None):
        raise ValueError("give exactly one of id_number or tracking_number")
    return {"id_number": id_number} if id_number is not None else {"tracking_number": tracking_number}


def new_key() -> str:
    return uuid.uuid4().hex


def _seconds(value: str | None) -> float | None:
    """A Retry-After in seconds (the edge never sends the HTTP-date form)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
