"""The edge node's local HTTP API for kiosks (paths in kiosk/wire.py, documented in edge/openapi.py).

It must keep working whatever the WAN does: content comes from the local store, submissions are
answered as soon as they are durable in the outbox, progress lookups fall back to the edge's own
record when the platform does not answer in time. Request bodies never reach a log line (the
access log holds the request line only, and no path carries personal data).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import mimetypes
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from edge.outbox import KIND_APPLICATION, KIND_FEEDBACK, IdempotencyConflict, Outbox, Submission, fingerprint
from edge.platform_adapter import ApplicationStatus, PlatformAdapter, PlatformError
from kiosk import idnumber, wire
from kiosk.config import Config
from kiosk.content import CARD_FIELDS, LANGS, Field, Pack, PackError, Service, load_pack
from kiosk.manifest import FileEntry, Manifest

if TYPE_CHECKING:
    from edge.forwarder import Forwarder
    from edge.sync import SyncClient

log = logging.getLogger(__name__)

_KEY_RE = re.compile(r"^[A-Za-z0-9_.:\-]{8,128}$")
_PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_REASON_RE = re.compile(r"^[a-z0-9_]{1,40}$")
_TRACKING_RE = re.compile(r"^[A-Za-z0-9\-]{4,40}$")
MAX_TEXT = 500          # a text field without its own max_length
MAX_PHOTO = 2 << 20     # decoded JPEG bytes
MAX_BODY = 4 << 20      # a submission with a photo, base64
_SMALL_FILE = 256 << 10  # files up to this size are cached in memory by hash
_CACHE_BYTES = 64 << 20
UNREACHABLE = object()  # the platform did not answer a lookup in time
_CARD_KEEP = tuple(f for f in CARD_FIELDS if f != "id_masked")  # applicant fields forwarded; others dropped


class Store(Protocol):
    """What the API needs from the content store (edge.store.ContentStore)."""

    def active_version(self) -> int | None: ...
    def active_dir(self) -> Path | None: ...
    def active_manifest(self) -> Manifest | None: ...
    def file_path(self, rel_path: str) -> Path | None: ...
    def file_entry(self, rel_path: str) -> FileEntry | None: ...


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _problem(field: str, code: str, message: str) -> dict:
    return {"field": field, "code": code, "message": message}


# --- validation of a submission against the service definition ------------------------------------
def check_field(f: Field, value: Any) -> tuple[Any, dict | None]:
    """(normalised value, problem or None) for one resident-entered value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if f.required:
            return None, _problem(f.id, "required", "this field is required")
        return None, None
    t = f.type
    if t in ("text", "phone"):
        if not isinstance(value, str):
            return None, _problem(f.id, "type", "must be text")
        value = value.strip()
        if t == "phone":
            if not _PHONE_RE.match(value):
                return None, _problem(f.id, "phone", "must be an 11-digit mobile number starting with 1")
            return value, None
        if f.min_length is not None and len(value) < f.min_length:
            return None, _problem(f.id, "too_short", f"must be at least {f.min_length} characters")
        if len(value) > (f.max_length or MAX_TEXT):
            return None, _problem(f.id, "too_long", f"must be at most {f.max_length or MAX_TEXT} characters")
        if f.pattern and not re.fullmatch(f.pattern, value):
            return None, _problem(f.id, "pattern", "is not in the expected format")
        return value, None
    if t == "number":
        if isinstance(value, str):
            try:
                value = float(value.strip()) if "." in value else int(value.strip())
            except ValueError:
                return None, _problem(f.id, "type", "must be a number")
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            return None, _problem(f.id, "type", "must be a number")
        if f.min is not None and value < f.min:
            return None, _problem(f.id, "too_small", f"must be at least {f.min:g}")
        if f.max is not None and value > f.max:
            return None, _problem(f.id, "too_large", f"must be at most {f.max:g}")
        return value, None
    if t == "choice":
        values = [c.value for c in f.choices]
        if value not in values:
            return None, _problem(f.id, "choice", f"must be one of: {', '.join(values)}")
        return value, None
    if t == "date":
        if not isinstance(value, str) or not _DATE_RE.match(value):
            return None, _problem(f.id, "date", "must be a date written YYYY-MM-DD")
        try:
            date.fromisoformat(value)
        except ValueError:
            return None, _problem(f.id, "date", "is not a real calendar date")
        return value, None
    if t == "yesno":
        if isinstance(value, str) and value.lower() in ("yes", "no"):
            return value.lower() == "yes", None
        if not isinstance(value, bool):
            return None, _problem(f.id, "type", "must be yes or no (true/false)")
        return value, None
    return None, _problem(f.id, "type", f"unsupported field type {t!r}")


def validate_submission(service: Service, body: dict) -> tuple[dict, list[dict]]:
    """The payload to forward and every problem found (all of them, not just the first)."""
    problems: list[dict] = []
    applicant = body.get("applicant")
    if not isinstance(applicant, dict):
        problems.append(_problem("applicant", "required", "the card holder's data is required"))
        applicant = {}
    id_number = applicant.get("id_number")
    if not isinstance(id_number, str) or not idnumber.is_valid(id_number):
        problems.append(_problem("applicant.id_number", "id_number", "must be a valid 18-character ID number"))
        id_number = None
    name = applicant.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 60:
        problems.append(_problem("applicant.name", "required", "the card holder's name is required"))
    card = {k: str(applicant[k]).strip() for k in _CARD_KEEP if isinstance(applicant.get(k), str | int)}
    if id_number:
        card["id_number"] = id_number.strip().upper()

    given = body.get("fields", {})
    if not isinstance(given, dict):
        problems.append(_problem("fields", "type", "must be an object of field id -> value"))
        given = {}
    known = {f.id: f for f in service.fields}
    for fid in given:
        if fid not in known:
            problems.append(_problem(str(fid), "unknown", "is not a field of this service"))
    fields: dict[str, Any] = {}
    for f in service.fields:
        if f.source:  # read-only: always what the card says, never what the client typed
            value = idnumber.mask(card["id_number"]) if f.source == "id_masked" and "id_number" in card \
                else card.get(f.source)
            if f.required and not value:
                problems.append(_problem(f.id, "required", f"the card data has no {f.source}"))
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
            problems.append(_problem("photo_jpeg_b64", "unexpected", "this service takes no photo"))
        else:
            try:
                jpeg = base64.b64decode(photo, validate=True) if isinstance(photo, str) else b""
            except (binascii.Error, ValueError):
                jpeg = b""
            if not jpeg.startswith(b"\xff\xd8\xff"):
                problems.append(_problem("photo_jpeg_b64", "photo", "must be a base64 JPEG image"))
            elif len(jpeg) > MAX_PHOTO:
                problems.append(_problem("photo_jpeg_b64", "too_large", f"must be at most {MAX_PHOTO >> 20} MB"))
    elif photo_step is not None and photo_step.required:
        problems.append(_problem("photo_jpeg_b64", "required", "this service needs a photo"))

    lang = body.get("lang", "zh")
    if lang not in LANGS:
        problems.append(_problem("lang", "lang", f"must be one of: {', '.join(LANGS)}"))
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
        problems.append(_problem("rating", "rating", "must be a whole number from 1 to 5"))
    reasons = body.get("reasons", [])
    if not isinstance(reasons, list) or len(reasons) > 10 or not all(
            isinstance(r, str) and _REASON_RE.match(r) for r in reasons):
        problems.append(_problem("reasons", "reasons", "must be a list of up to 10 reason codes (a-z, 0-9, _)"))
    service_id = body.get("service_id")
    if service_id is not None and (not isinstance(service_id, str)
                                   or (pack is not None and service_id not in pack.services)):
        problems.append(_problem("service_id", "unknown", "is not a service of the active content"))
    lang = body.get("lang", "zh")
    if lang not in LANGS:
        problems.append(_problem("lang", "lang", f"must be one of: {', '.join(LANGS)}"))
    return {"schema": wire.FEEDBACK_SCHEMA, "rating": rating, "reasons": reasons, "service_id": service_id,
            "lang": lang}, problems


# --- content --------------------------------------------------------------------------------------
class ContentView:
    """The active pack, loaded once per version; JSON documents cached with their ETag."""

    def __init__(self, store: Store | None) -> None:
        self.store = store
        self._pack: tuple[int, Pack] | None = None
        self._docs: dict[tuple[int, str], tuple[bytes, str]] = {}
        self._files: OrderedDict[str, bytes] = OrderedDict()
        self._file_bytes = 0
        self._lock = asyncio.Lock()

    def version(self) -> int | None:
        return self.store.active_version() if self.store is not None else None

    async def pack(self) -> Pack:
        version = self.version()
        if version is None:
            raise ApiError(503, "no_content", "no content pack is active on this edge yet")
        if self._pack and self._pack[0] == version:
            return self._pack[1]
        async with self._lock:
            if self._pack and self._pack[0] == version:
                return self._pack[1]
            directory = self.store.active_dir()
            try:
                pack = await asyncio.to_thread(load_pack, directory)
            except PackError as e:
                log.error("active content pack is invalid", extra={"version": version,
                                                                   "problems": len(e.problems)})
                raise ApiError(503, "content_invalid", "the active content pack cannot be loaded") from None
            self._pack = (version, pack)
            self._docs = {k: v for k, v in self._docs.items() if k[0] == version}
            return pack

    async def doc(self, name: str, build: Callable[[Pack], object]) -> tuple[bytes, str]:
        pack = await self.pack()
        version = self._pack[0] if self._pack else 0
        cached = self._docs.get((version, name))
        if cached is None:
            body = json.dumps(build(pack), ensure_ascii=False).encode()
            cached = (body, hashlib.sha256(body).hexdigest())
            self._docs[(version, name)] = cached
        return cached

    async def file(self, entry: FileEntry, path: Path) -> bytes | None:
        """Small files from memory (keyed by hash, so never stale); None = stream it from disk."""
        data = self._files.get(entry.sha256)
        if data is not None:
            self._files.move_to_end(entry.sha256)
            return data
        if entry.size > _SMALL_FILE:
            return None
        data = await asyncio.to_thread(path.read_bytes)
        self._files[entry.sha256] = data
        self._file_bytes += len(data)
        while self._file_bytes > _CACHE_BYTES:
            _, old = self._files.popitem(last=False)
            self._file_bytes -= len(old)
        return data


def _not_modified(request: web.Request, etag: str) -> bool:
    inm = request.headers.get("If-None-Match", "")
    tags = {t.strip().removeprefix("W/").strip('"') for t in inm.split(",")}
    return etag in tags or "*" in tags


def _cached_response(request: web.Request, body: bytes, etag: str, content_type: str) -> web.Response:
    headers = {"ETag": f'"{etag}"', "Cache-Control": "no-cache"}  # revalidate: cheap with the ETag
    if _not_modified(request, etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers=headers, content_type=content_type,
                        charset="utf-8" if content_type == "application/json" else None)


# --- the application ------------------------------------------------------------------------------
def _error_response(status: int, code: str, message: str, **details: object) -> web.Response:
    return web.json_response(wire.error_body(code, message, **details), status=status,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
               415: "unsupported_media_type"}


@web.middleware
async def _errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                  ) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as e:
        return _error_response(e.status, e.code, e.message, **e.details)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return _error_response(e.status, _HTTP_CODES.get(e.status, f"http_{e.status}"), e.reason)
    except Exception:  # the request body is not logged: it may hold an ID number
        log.exception("request failed", extra={"path": request.path, "method": request.method})
        return _error_response(500, "internal", "the edge could not handle this request")


async def _json_body(request: web.Request) -> dict:
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_json", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the request body must be a JSON object")
    return body


def _idempotency_key(request: web.Request) -> str:
    key = request.headers.get(wire.IDEMPOTENCY_HEADER)
    if not key:
        raise ApiError(400, "idempotency_key_required",
                       f"the {wire.IDEMPOTENCY_HEADER} header is required (one key per resident action, "
                       "reused on every retry)")
    if not _KEY_RE.match(key):
        raise ApiError(400, "bad_idempotency_key", "the idempotency key must be 8-128 characters [A-Za-z0-9_.:-]")
    return key


def _accepted(sub: Submission) -> dict:
    """The answer to an accepted submission; a replay of the same key gets this same body."""
    return {"tracking_number": sub.tracking_number, "status": wire.STATUS_QUEUED, "created": sub.created,
            "forwarded": False}


def _app_entry(tracking: str, service_id: str | None, status: str, history: list[dict], as_of: str) -> dict:
    return {"tracking_number": tracking, "service_id": service_id, "status": status, "history": history,
            "as_of": as_of}


def _local_entry(sub: Submission, now: str) -> dict:
    # Until the platform acknowledges an item the edge itself is the authority: "queued" is true now.
    as_of = now if sub.forwarded_at is None else (sub.status_checked_at or sub.forwarded_at)
    return _app_entry(sub.tracking_number, sub.service_id, sub.status, sub.history, as_of)


def make_app(store: Store | None, outbox: Outbox, forwarder: Forwarder | None, config: Config, *,
             sync: SyncClient | None = None, lookup_adapter: PlatformAdapter | None = None,
             lookup_timeout_s: float = 3.0) -> web.Application:
    """store: the content store; forwarder: edge.forwarder.Forwarder (WAN state, wake-ups; its adapter
    is used for lookups unless lookup_adapter is given); sync: edge.sync.SyncClient for its state()."""
    content = ContentView(store)
    adapter = lookup_adapter or (forwarder.adapter if forwarder is not None else None)
    health: dict[str, dict] = {}
    started = wire.now_iso()

    def wake() -> None:
        if forwarder is not None:
            forwarder.wake()

    async def ask_platform(fn: Callable[..., Any], *args: Any) -> Any:
        """The platform's answer, or UNREACHABLE if it does not answer within the lookup timeout."""
        try:
            result = await asyncio.wait_for(asyncio.to_thread(fn, *args), lookup_timeout_s)
        except (TimeoutError, PlatformError):
            return UNREACHABLE
        if forwarder is not None:
            forwarder.platform_reachable()
        return result

    # --- status -----------------------------------------------------------------------------
    async def get_status(request: web.Request) -> web.Response:
        stats = await asyncio.to_thread(outbox.stats)
        wan = forwarder.state() if forwarder is not None else {"wan": "unknown"}
        sync_state = sync.state() if sync is not None else None
        return web.json_response({
            "schema": "kiosk.edge-status/1", "kiosk_id": config.kiosk.id, "started": started, "now": wire.now_iso(),
            "wan": wan, "content": {"active_version": content.version(),
                                    "allow_unsigned": config.edge.allow_unsigned, "sync": sync_state},
            "outbox": stats, "kiosks": health}, dumps=lambda o: json.dumps(o, ensure_ascii=False, default=str))

    # --- content ----------------------------------------------------------------------------
    async def get_manifest(request: web.Request) -> web.Response:
        manifest = store.active_manifest() if store is not None else None
        if manifest is None:
            raise ApiError(503, "no_content", "no content pack is active on this edge yet")
        body = manifest.to_json()
        return _cached_response(request, body, hashlib.sha256(body).hexdigest(), "application/json")

    async def get_file(request: web.Request) -> web.StreamResponse:
        rel = request.match_info["path"]
        if store is None or store.active_version() is None:
            raise ApiError(503, "no_content", "no content pack is active on this edge yet")
        entry, path = store.file_entry(rel), store.file_path(rel)
        if entry is None or path is None:
            raise ApiError(404, "not_found", "no such file in the active content pack")
        ctype = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        data = await content.file(entry, path)
        if data is not None:
            return _cached_response(request, data, entry.sha256, ctype)
        headers = {"ETag": f'"{entry.sha256}"', "Cache-Control": "no-cache"}
        if _not_modified(request, entry.sha256):
            return web.Response(status=304, headers=headers)
        resp = web.StreamResponse(headers={**headers, "Content-Type": ctype})
        resp.content_length = entry.size
        await resp.prepare(request)
        with open(path, "rb") as f:
            while chunk := await asyncio.to_thread(f.read, 256 << 10):
                await resp.write(chunk)
        await resp.write_eof()
        return resp

    def _summary(s: Service) -> dict:
        d = s.to_dict()
        return {k: d[k] for k in ("id", "category", "title", "summary", "icon")}

    async def get_services(request: web.Request) -> web.Response:
        body, etag = await content.doc("services", lambda p: {"services": [_summary(s) for s in p.services.values()]})
        return _cached_response(request, body, etag, "application/json")

    async def get_service(request: web.Request) -> web.Response:
        sid = request.match_info["service_id"]
        if sid not in (await content.pack()).services:
            raise ApiError(404, "unknown_service", "no such service in the active content pack")
        body, etag = await content.doc(f"service:{sid}", lambda p: p.services[sid].to_dict())
        return _cached_response(request, body, etag, "application/json")

    async def get_prompts(request: web.Request) -> web.Response:
        body, etag = await content.doc("prompts", lambda p: {"prompts": {k: v.to_dict() for k, v in p.prompts.items()}})
        return _cached_response(request, body, etag, "application/json")

    async def get_guide(request: web.Request) -> web.Response:
        gid = request.match_info["guide_id"]
        if gid not in (await content.pack()).guides:
            raise ApiError(404, "unknown_guide", "no such guide in the active content pack")
        body, etag = await content.doc(f"guide:{gid}", lambda p: p.guides[gid].to_dict())
        return _cached_response(request, body, etag, "application/json")

    async def get_form(request: web.Request) -> web.Response:
        fid = request.match_info["form_id"]
        if fid not in (await content.pack()).forms:
            raise ApiError(404, "unknown_form", "no such form in the active content pack")
        body, etag = await content.doc(f"form:{fid}", lambda p: p.forms[fid].to_dict())
        return _cached_response(request, body, etag, "application/json")

    # --- submissions --------------------------------------------------------------------------
    async def replay(key: str, fp: str) -> web.Response | None:
        try:
            sub = await asyncio.to_thread(outbox.existing, key, fp)
        except IdempotencyConflict as e:
            raise ApiError(409, "idempotency_conflict", "this Idempotency-Key was already used for a different "
                           "request; make a new key for a new resident action",
                           tracking_number=e.tracking_number) from None
        if sub is None:
            return None
        return web.json_response(_accepted(sub), status=200, headers={"Idempotent-Replayed": "true"})

    async def post_submission(request: web.Request) -> web.Response:
        key = _idempotency_key(request)
        body = await _json_body(request)
        fp = fingerprint(body)
        if (answer := await replay(key, fp)) is not None:
            return answer
        if body.get("schema") != wire.SUBMISSION_SCHEMA:
            raise ApiError(400, "bad_schema", f"the body's schema must be {wire.SUBMISSION_SCHEMA!r}")
        sid = body.get("service_id")
        pack = await content.pack()
        if not isinstance(sid, str) or sid not in pack.services:
            raise ApiError(404, "unknown_service", "no such service in the active content pack")
        service = pack.services[sid]
        if not service.has_step("submit") or not service.platform_service_code:
            raise ApiError(422, "not_submittable", "this service takes no submissions (it is a guide or lookup)")
        payload, problems = validate_submission(service, body)
        if problems:
            raise ApiError(422, "invalid_submission",
                           f"{len(problems)} field(s) need attention: " + ", ".join(p["field"] for p in problems),
                           fields=problems)
        try:
            sub, created = await asyncio.to_thread(
                outbox.submit, key, KIND_APPLICATION, payload, service_id=sid,
                id_number=payload["applicant"]["id_number"], fingerprint_=fp)
        except IdempotencyConflict as e:  # a concurrent request with the same key won the race
            raise ApiError(409, "idempotency_conflict", "this Idempotency-Key was already used for a different "
                           "request", tracking_number=e.tracking_number) from None
        if created:
            log.info("submission queued", extra={"tracking_number": sub.tracking_number, "service_id": sid})
            wake()
        return web.json_response(_accepted(sub), status=201 if created else 200)

    async def get_submission(request: web.Request) -> web.Response:
        sub = await asyncio.to_thread(outbox.get, request.match_info["tracking_number"])
        if sub is None or sub.kind != KIND_APPLICATION:
            raise ApiError(404, "not_found", "no submission with this tracking number on this edge")
        return web.json_response(_local_entry(sub, wire.now_iso()) | {
            "created": sub.created, "forwarded": sub.forwarded_at is not None, "forwarded_at": sub.forwarded_at})

    # --- progress lookup ----------------------------------------------------------------------
    async def post_progress(request: web.Request) -> web.Response:
        body = await _json_body(request)
        id_number, tracking = body.get("id_number"), body.get("tracking_number")
        if (id_number is None) == (tracking is None):
            raise ApiError(400, "bad_query", "give exactly one of id_number or tracking_number")
        now = wire.now_iso()
        if id_number is not None:
            if not isinstance(id_number, str) or not idnumber.is_valid(id_number):
                raise ApiError(422, "invalid_id_number", "id_number must be a valid 18-character ID number")
            local = await asyncio.to_thread(outbox.find_by_id, id_number)
            remote = await ask_platform(adapter.search_by_id, id_number) if adapter else UNREACHABLE
        else:
            if not isinstance(tracking, str) or not _TRACKING_RE.match(tracking):
                raise ApiError(422, "invalid_tracking_number", "tracking_number is not in the expected format")
            sub = await asyncio.to_thread(outbox.get, tracking)
            local = [sub] if sub is not None and sub.kind == KIND_APPLICATION else []
            remote = UNREACHABLE
            if adapter is not None and not (local and local[0].forwarded_at is None):
                ref = (local[0].platform_ref or tracking) if local else tracking
                one = await ask_platform(adapter.get_status, ref)
                remote = one if one is UNREACHABLE else ([one] if one is not None else [])
        if remote is UNREACHABLE:  # platform unreachable (or not asked): the edge's own record
            apps = [_local_entry(s, now) for s in local]
            source = "edge_cache"
            as_of = min((a["as_of"] for a in apps), default=now)
        else:
            remote_list: list[ApplicationStatus] = remote
            by_ref = {s.platform_ref or s.tracking_number: s for s in local}
            apps = []
            for r in remote_list:
                mine = by_ref.pop(r.tracking_number, None)
                tracking_here = mine.tracking_number if mine else r.tracking_number
                if mine is not None:
                    await asyncio.to_thread(outbox.update_status, mine.tracking_number, r.status, r.history, now)
                apps.append(_app_entry(tracking_here, r.service_id or (mine.service_id if mine else None),
                                       r.status, r.history, now))
            # Still in the outbox (or refused): the platform cannot know them yet; the edge does.
            apps += [_local_entry(s, now) for s in by_ref.values() if s.forwarded_at is None]
            source, as_of = "platform", now
        if tracking is not None and not apps:
            raise ApiError(404, "not_found", "no application with this tracking number")
        return web.json_response({"source": source, "as_of": as_of, "applications": apps})

    # --- feedback and kiosk health ------------------------------------------------------------
    async def post_feedback(request: web.Request) -> web.Response:
        key = _idempotency_key(request)
        body = await _json_body(request)
        fp = fingerprint(body)
        if (answer := await replay(key, fp)) is not None:
            return answer
        try:
            pack = await content.pack()
        except ApiError:
            pack = None  # feedback is welcome even before content arrives
        payload, problems = validate_feedback(body, pack)
        if problems:
            raise ApiError(422, "invalid_feedback", "the feedback needs attention: "
                           + ", ".join(p["field"] for p in problems), fields=problems)
        try:
            sub, created = await asyncio.to_thread(outbox.submit, key, KIND_FEEDBACK, payload,
                                                   service_id=payload["service_id"], fingerprint_=fp)
        except IdempotencyConflict as e:
            raise ApiError(409, "idempotency_conflict", "this Idempotency-Key was already used for a different "
                           "request", tracking_number=e.tracking_number) from None
        if created:
            wake()
        return web.json_response(_accepted(sub), status=201 if created else 200)

    async def post_health(request: web.Request) -> web.Response:
        body = await _json_body(request)
        kiosk_id, components = body.get("kiosk_id"), body.get("components")
        problems = []
        if not isinstance(kiosk_id, str) or not re.match(r"^[a-z0-9][a-z0-9-]{1,62}$", kiosk_id):
            problems.append(_problem("kiosk_id", "kiosk_id", "must be the kiosk's id (lowercase, digits, dashes)"))
        if not isinstance(components, dict) or len(components) > 32:
            problems.append(_problem("components", "type", "must be an object of component -> status"))
        else:
            for name, st in components.items():
                if not isinstance(st, dict) or st.get("level") not in ("ok", "degraded", "fault") \
                        or not isinstance(st.get("code"), str):
                    problems.append(_problem(f"components.{name}", "status",
                                             "must have level ok|degraded|fault and a code"))
        if problems:
            raise ApiError(422, "invalid_health", "the health report needs attention", fields=problems)
        if kiosk_id not in health and len(health) >= 64:
            raise ApiError(429, "too_many_kiosks", "this edge already tracks 64 kiosks")
        keep = ("level", "code", "zh", "bo", "en", "since")
        health[kiosk_id] = {"received_at": wire.now_iso(),
                            "components": {str(n)[:40]: {k: str(v)[:200] for k, v in st.items() if k in keep}
                                           for n, st in components.items()}}
        return web.json_response({"ok": True})

    async def get_openapi(request: web.Request) -> web.Response:
        from edge.openapi import document
        return web.json_response(document(), dumps=lambda o: json.dumps(o, ensure_ascii=False))

    app = web.Application(middlewares=[_errors], client_max_size=MAX_BODY)
    r = app.router
    r.add_get(wire.API_STATUS, get_status)
    r.add_get(wire.API_OPENAPI, get_openapi)
    r.add_get(wire.API_MANIFEST, get_manifest)
    r.add_get(wire.API_FILE.replace("{path}", "{path:.+}"), get_file)
    r.add_get(wire.API_SERVICES, get_services)
    r.add_get(wire.API_SERVICE, get_service)
    r.add_get(wire.API_PROMPTS, get_prompts)
    r.add_get(wire.API_GUIDE, get_guide)
    r.add_get(wire.API_FORM, get_form)
    r.add_post(wire.API_SUBMISSIONS, post_submission)
    r.add_get(wire.API_SUBMISSION, get_submission)
    r.add_post(wire.API_PROGRESS, post_progress)
    r.add_post(wire.API_FEEDBACK, post_feedback)
    r.add_post(wire.API_HEALTH, post_health)
    return app
