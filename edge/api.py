"""The edge node's local HTTP API for kiosks (paths in kiosk/wire.py, documented in edge/openapi.py).

It must keep working whatever the WAN does: content comes from the local store, submissions are
answered as soon as they are durable in the outbox, progress and payment lookups fall back to the
edge's own record when the platform does not answer in time. Request bodies never reach a log line (the
access log holds the request line only, and no path carries personal data).

Callers: a kiosk on the hall LAN sends its token (`Authorization: Bearer`, known here by its SHA-256 in
`edge.kiosks`); the hall's own box may call over loopback without one. Lookups reach the platform on
their own few threads, rate-limited per kiosk; the outbox has its own thread, so a platform that never
answers cannot hold up a submission.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import mimetypes
import os
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from aiohttp import web
from pydantic import ValidationError

from edge.api_request import KIOSK_ID, ApiError, json_body
from edge.outbox import KIND_APPLICATION, KIND_FEEDBACK, IdempotencyConflict, Outbox, Submission
from edge.payment_cache import PaymentCache
from edge.platform_adapter import ApplicationStatus, PlatformAdapter, PlatformError, PlatformRejected
from edge.storage import StorageGuard, is_disk_full
from edge.submission_check import field_problem, validate_feedback, validate_submission
from kiosk import audit, fleet_wire, idnumber, wire
from kiosk.config import Config, KioskClient
from kiosk.content import Pack, PackError, Service, load_pack
from kiosk.manifest import FileEntry, Manifest

if TYPE_CHECKING:
    from edge.forwarder import Forwarder
    from edge.kiosk_commands import KioskCommandRelay
    from edge.store import Snapshot
    from edge.sync import SyncClient
    from kiosk.trusted_time import TrustedClock

log = logging.getLogger(__name__)

MAX_BODY = 4 << 20      # a submission with a photo, base64
_SMALL_FILE = 256 << 10  # files up to this size are cached in memory by hash
_CACHE_BYTES = 64 << 20
UNREACHABLE = object()  # the platform did not answer a lookup in time


class Store(Protocol):
    """What the API needs from the content store (edge.store.ContentStore)."""

    def active_version(self) -> int | None: ...
    def active_manifest(self) -> Manifest | None: ...
    def snapshot(self) -> Snapshot | None: ...


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
        # One snapshot: the version number and the directory loaded under it come from one readlink.
        snap = self.store.snapshot() if self.store is not None else None
        if snap is None:
            raise ApiError(503, "no_content", "no content pack is active on this edge yet")
        version, directory = snap.version, snap.directory
        if self._pack and self._pack[0] == version:
            return self._pack[1]
        async with self._lock:
            if self._pack and self._pack[0] == version:
                return self._pack[1]
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
        """Small files from memory (keyed by hash, so never stale); None = stream it from disk.

        What goes into the cache is checked against the hash first: a cache entry is served to
        every later request with that ETag, so it must never hold other bytes.
        """
        data = self._files.get(entry.sha256)
        if data is not None:
            self._files.move_to_end(entry.sha256)
            return data
        if entry.size > _SMALL_FILE:
            return None
        data = await asyncio.to_thread(_read_file, path)
        if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
            raise _content_changed(entry)
        self._files[entry.sha256] = data
        self._file_bytes += len(data)
        while self._file_bytes > _CACHE_BYTES:
            _, old = self._files.popitem(last=False)
            self._file_bytes -= len(old)
        return data


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:  # its version was pruned after the request resolved it
        raise _switching() from None


def _open_checked(path: Path, entry: FileEntry) -> BinaryIO:
    """The file opened (so a later prune cannot take it away mid-stream), if its size agrees."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - the caller streams it and closes it
    except FileNotFoundError:  # its version was pruned after the request resolved it
        raise _switching() from None
    if os.fstat(f.fileno()).st_size != entry.size:
        f.close()
        raise _content_changed(entry)
    return f


def _content_changed(entry: FileEntry) -> ApiError:
    log.error("content file does not match its manifest", extra={"path": entry.path})
    return _switching()


def _storage_full() -> ApiError:
    return ApiError(507, wire.ERR_STORAGE_FULL, "the edge's storage is full: nothing was stored; the "
                    "resident should go to the counter")


def _switching() -> ApiError:
    return ApiError(503, "content_switching", "the content is being updated; try again")


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
def _error_response(status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                    **details: object) -> web.Response:
    return web.json_response(wire.error_body(code, message, **details), status=status, headers=headers,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
               415: "unsupported_media_type"}


@web.middleware
async def _errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                  ) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as e:
        return _error_response(e.status, e.code, e.message, headers=e.headers, **e.details)
    except wire.BadRequest as e:  # a malformed body or idempotency key (the wire's rules)
        return _error_response(400, e.code, e.message)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return _error_response(e.status, _HTTP_CODES.get(e.status, f"http_{e.status}"), e.reason)
    except Exception:  # the request body is not logged: it may hold an ID number
        log.exception("request failed", extra={"path": request.path, "method": request.method})
        return _error_response(500, "internal", "the edge could not handle this request")


# --- callers ---------------------------------------------------------------------------------------
_LOOPBACK = ""  # the rate-limit key of loopback callers without a token (kiosk ids are never empty)


def _voice_coverage(raw: Any, problems: list[dict]) -> dict[str, dict[str, int]]:
    """A health report's optional `voice` (language -> fleet_wire.VoiceCoverage), checked; bad input is a problem."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > 8:
        problems.append(field_problem("voice", "type", "must be an object of language -> counts"))
        return {}
    out = {}
    for lang, counts in raw.items():
        try:
            out[str(lang)[:8]] = fleet_wire.VoiceCoverage.model_validate(counts).model_dump()
        except ValidationError:
            problems.append(field_problem(f"voice.{str(lang)[:8]}", "counts",
                                          "must hold clip, stand_in, synthetic and silent as counts of 0 or more"))
    return out


def _peer_ip(request: web.Request) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The socket's peer, never a header (X-Forwarded-For is the caller's to forge)."""
    peer = request.transport.get_extra_info("peername") if request.transport is not None else None
    if not isinstance(peer, tuple) or not peer:
        return None
    try:
        ip = ipaddress.ip_address(peer[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class KioskTokens:
    """Which kiosk a bearer token belongs to, by its SHA-256 in `edge.kiosks`."""

    def __init__(self, kiosks: list[KioskClient]) -> None:
        self._known = [(bytes.fromhex(k.token_sha256), k.id) for k in kiosks]

    def kiosk_for(self, token: str) -> str | None:
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        for known, kiosk_id in self._known:  # compare with every entry: the time says nothing
            if hmac.compare_digest(digest, known):
                found = kiosk_id
        return found


def _authenticator(tokens: KioskTokens) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def authenticate(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                           ) -> web.StreamResponse:
        header = request.headers.get(wire.AUTH_HEADER)
        ip = _peer_ip(request)
        if header is None:
            kiosk_id = None
            refused = None if ip is not None and ip.is_loopback else "no token"
        else:
            scheme, _, token = header.strip().partition(" ")
            kiosk_id = tokens.kiosk_for(token.strip()) if scheme.lower() == wire.AUTH_SCHEME.lower() else None
            refused = "unknown token" if kiosk_id is None else None
        if refused is not None:  # the token itself is never logged
            log.warning("request refused", extra={"peer": str(ip), "method": request.method, "path": request.path,
                                                  "reason": refused})
            raise ApiError(401, wire.ERR_UNAUTHORIZED, "this edge needs a known kiosk token "
                           f"({wire.AUTH_HEADER}: {wire.AUTH_SCHEME} <token>)",
                           headers={"WWW-Authenticate": wire.AUTH_SCHEME})
        request[KIOSK_ID] = kiosk_id
        return await handler(request)
    return authenticate


class LookupBuckets:
    """A token bucket per kiosk: `per_min` lookups at once, refilled evenly over a minute. Used on the
    event loop only (no lock)."""

    def __init__(self, per_min: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity, self.rate, self.clock = float(per_min), per_min / 60.0, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # kiosk -> (tokens, when)

    def take(self, kiosk: str) -> float:
        """0 if this kiosk may look up now (and counts it), else the seconds until it may."""
        now = self.clock()
        tokens, at = self._buckets.get(kiosk, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[kiosk] = (tokens - 1.0, now)
            return 0.0
        self._buckets[kiosk] = (tokens, now)
        return (1.0 - tokens) / self.rate


def _accepted(sub: Submission) -> dict:
    """The answer to an accepted submission; a replay of the same key gets this same body."""
    return {"tracking_number": sub.tracking_number, "status": wire.STATUS_QUEUED, "created": sub.created,
            "forwarded": False, wire.SUBMISSION_ACCEPTED_AT: sub.accepted_at}


def _app_entry(tracking: str, service_id: str | None, status: str, history: list[dict], as_of: str) -> dict:
    return {"tracking_number": tracking, "service_id": service_id, "status": status, "history": history,
            "as_of": as_of}


def _local_entry(sub: Submission, now: str) -> dict:
    # Until the platform acknowledges an item the edge itself is the authority: "queued" is true now.
    as_of = now if sub.forwarded_at is None else (sub.status_checked_at or sub.forwarded_at)
    return _app_entry(sub.tracking_number, sub.service_id, sub.status, sub.history, as_of)


def _latest_months(payments: list[dict]) -> list[dict]:
    """Latest first, at most wire.PAYMENTS_MAX_MONTHS months, whatever order and span a platform sends."""
    kinds = {k: i for i, k in enumerate(wire.PAYMENT_KINDS)}
    ordered = sorted(payments, key=lambda p: (-p["year"], -p["month"], kinds.get(p["kind"], len(kinds))))
    months = sorted({(p["year"], p["month"]) for p in payments}, reverse=True)[:wire.PAYMENTS_MAX_MONTHS]
    return [p for p in ordered if (p["year"], p["month"]) >= months[-1]] if months else []


STATUS_DOCUMENT: web.AppKey[Callable[[], dict]] = web.AppKey("status_document", Callable[[], dict])
KIOSK_COMMANDS: web.AppKey[KioskCommandRelay] = web.AppKey("kiosk_commands")


def make_app(store: Store | None, outbox: Outbox, forwarder: Forwarder | None, config: Config, *,
             sync: SyncClient | None = None, lookup_adapter: PlatformAdapter | None = None,
             lookup_timeout_s: float = 3.0, payment_cache: PaymentCache | None = None,
             kiosk_commands: KioskCommandRelay | None = None, clock: TrustedClock | None = None) -> web.Application:
    """store: the content store; forwarder: edge.forwarder.Forwarder (WAN state, wake-ups; its adapter
    is used for lookups unless lookup_adapter is given); sync: edge.sync.SyncClient for its state();
    payment_cache: where payment answers are kept for offline lookups (default: a file beside the
    outbox, opened here and closed with the app); kiosk_commands: the relay from the fleet agent to the
    kiosk UI (default: a new one, at app[KIOSK_COMMANDS]); clock: the edge's trusted clock, which stamps
    accepted submissions (without one, none is stamped: receipts then print no time)."""
    content = ContentView(store)
    own_cache = payment_cache is None
    payments_cache = payment_cache or PaymentCache(outbox.path.parent / "payments_cache.sqlite3")
    adapter = lookup_adapter or (forwarder.adapter if forwarder is not None else None)
    health: dict[str, dict] = {}
    started = wire.now_iso()
    buckets = LookupBuckets(config.edge.lookup_rate_per_min)
    # A lookup the platform never answers keeps its thread until the adapter's own timeout: a few
    # threads of their own bound that, and the outbox's thread stays free for submissions.
    workers = config.edge.lookup_workers
    lookup_pool = ThreadPoolExecutor(workers, thread_name_prefix="edge-lookup")
    lookup_slots = threading.BoundedSemaphore(workers)
    disk_pool = ThreadPoolExecutor(2, thread_name_prefix="edge-outbox")
    storage = StorageGuard(outbox.path.parent, config.edge.disk_warn_free_mb, config.edge.disk_critical_free_mb)

    async def disk(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Outbox and payment-cache work, on threads no platform call can take."""
        return await asyncio.get_running_loop().run_in_executor(disk_pool, functools.partial(fn, *args, **kw))

    def wake() -> None:
        if forwarder is not None:
            forwarder.wake()

    def limit_lookups(request: web.Request) -> None:
        kiosk = request[KIOSK_ID]
        wait = buckets.take(kiosk if kiosk is not None else _LOOPBACK)
        if wait:
            log.warning("lookup rate limit reached", extra={"kiosk": kiosk or "loopback"})
            retry = max(1, math.ceil(wait))
            raise ApiError(429, wire.ERR_RATE_LIMITED, "too many lookups from this kiosk; try again shortly",
                           headers={"Retry-After": str(retry)}, retry_after_s=retry)

    async def ask_platform(fn: Callable[..., Any], *args: Any) -> Any:
        """The platform's answer, or UNREACHABLE if it does not answer within the lookup timeout or
        every lookup thread is still waiting for it (answer now rather than queue behind them)."""
        if not lookup_slots.acquire(blocking=False):
            log.warning("all lookup workers busy; answering without the platform", extra={"workers": workers})
            return UNREACHABLE
        try:
            future = lookup_pool.submit(fn, *args)
        except RuntimeError:  # shutting down
            lookup_slots.release()
            return UNREACHABLE
        future.add_done_callback(lambda _: lookup_slots.release())  # when the thread is free, not at the timeout
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(future), lookup_timeout_s)
        except (TimeoutError, PlatformError):
            return UNREACHABLE
        if forwarder is not None:
            forwarder.platform_reachable()
        return result

    # --- status -----------------------------------------------------------------------------
    def status_document() -> dict:
        """The edge's whole status; blocking (the outbox), callable from any thread (the fleet agent's too)."""
        wan = forwarder.state() if forwarder is not None else {"wan": "unknown"}
        sync_state = sync.state() if sync is not None else None
        return {
            "schema": "kiosk.edge-status/1", "kiosk_id": config.kiosk.id, "started": started, "now": wire.now_iso(),
            "wan": wan, "content": {"active_version": content.version(),
                                    "allow_unsigned": config.edge.allow_unsigned, "sync": sync_state},
            "outbox": outbox.stats(), "storage": storage.as_dict(),
            "audit": audit.status(audit.path_for(config)),  # its head goes out with the fleet state
            "kiosks": {k: dict(v) for k, v in list(health.items())}}

    async def get_status(request: web.Request) -> web.Response:
        doc = await disk(status_document)
        return web.json_response(doc, dumps=lambda o: json.dumps(o, ensure_ascii=False, default=str))

    # --- content ----------------------------------------------------------------------------
    async def get_manifest(request: web.Request) -> web.Response:
        snap = store.snapshot() if store is not None else None
        if snap is None:
            raise ApiError(503, "no_content", "no content pack is active on this edge yet")
        body = snap.manifest.to_json()
        return _cached_response(request, body, hashlib.sha256(body).hexdigest(), "application/json")

    async def get_file(request: web.Request) -> web.StreamResponse:
        rel = request.match_info["path"]
        # One snapshot for entry, path, ETag and cache key: a switch mid-request must not pair
        # one version's hash and size with another's bytes.
        snap = store.snapshot() if store is not None else None
        if snap is None:
            raise ApiError(503, "no_content", "no content pack is active on this edge yet")
        entry, path = snap.entry(rel), snap.path(rel)
        if entry is None or path is None:
            raise ApiError(404, "not_found", "no such file in the active content pack")
        ctype = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        data = await content.file(entry, path)
        if data is not None:
            return _cached_response(request, data, entry.sha256, ctype)
        headers = {"ETag": f'"{entry.sha256}"', "Cache-Control": "no-cache"}
        if _not_modified(request, entry.sha256):
            return web.Response(status=304, headers=headers)
        f = await asyncio.to_thread(_open_checked, path, entry)
        with f:
            resp = web.StreamResponse(headers={**headers, "Content-Type": ctype})
            resp.content_length = entry.size
            await resp.prepare(request)
            while chunk := await asyncio.to_thread(f.read, 256 << 10):
                await resp.write(chunk)
        await resp.write_eof()
        return resp

    def _summary(s: Service) -> dict:
        d = s.to_dict()
        return {k: d[k] for k in ("id", "category", "title", "summary", "icon")}

    async def get_services(request: web.Request) -> web.Response:
        # the pack's hotline rides along: receipts print it (kiosk.flows.receipt)
        body, etag = await content.doc("services", lambda p: {"services": [_summary(s) for s in p.services.values()],
                                                               "contact": p.contact.to_dict() if p.contact else None})
        return _cached_response(request, body, etag, "application/json")

    def get_pack_item(kind: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        """The GET handler for one service, guide or form of the active pack, by the `<kind>_id` in the path."""
        async def handler(request: web.Request) -> web.Response:
            item_id = request.match_info[f"{kind}_id"]
            if item_id not in getattr(await content.pack(), f"{kind}s"):
                raise ApiError(404, f"unknown_{kind}", f"no such {kind} in the active content pack")
            body, etag = await content.doc(f"{kind}:{item_id}", lambda p: getattr(p, f"{kind}s")[item_id].to_dict())
            return _cached_response(request, body, etag, "application/json")
        return handler

    async def get_prompts(request: web.Request) -> web.Response:
        body, etag = await content.doc("prompts", lambda p: {"prompts": {k: v.to_dict() for k, v in p.prompts.items()}})
        return _cached_response(request, body, etag, "application/json")

    # --- submissions --------------------------------------------------------------------------
    async def keyed(request: web.Request) -> tuple[str, dict, str, web.Response | None]:
        """A keyed intake's key, body and fingerprint, and the first answer when it is a replay."""
        key = wire.idempotency_key(request.headers)
        body = await json_body(request)
        fp = wire.fingerprint(body)
        return key, body, fp, await replay(key, fp)

    async def replay(key: str, fp: str) -> web.Response | None:
        try:
            sub = await disk(outbox.existing, key, fp)
        except IdempotencyConflict as e:
            raise ApiError(409, "idempotency_conflict", "this Idempotency-Key was already used for a different "
                           "request; make a new key for a new resident action",
                           tracking_number=e.tracking_number) from None
        if sub is None:
            return None
        return web.json_response(_accepted(sub), status=200, headers={"Idempotent-Replayed": "true"})

    async def queue(key: str, kind: str, payload: dict, fp: str, **fields: Any) -> tuple[Submission, bool]:
        """Into the outbox (durable before the answer), waking the forwarder for a new item. A (nearly)
        full disk refuses it whole: 507, nothing stored, the space left kept for what is already queued."""
        if await disk(storage.full):
            raise _storage_full()
        try:
            sub, created = await disk(outbox.submit, key, kind, payload, fingerprint_=fp, **fields)
        except sqlite3.OperationalError as e:
            if not is_disk_full(e):
                raise
            storage.check()
            log.error("outbox write failed: disk full", extra={"kind": kind})  # rolled back: nothing half-written
            raise _storage_full() from None
        except IdempotencyConflict as e:  # a concurrent request with the same key won the race
            raise ApiError(409, "idempotency_conflict", "this Idempotency-Key was already used for a different "
                           "request", tracking_number=e.tracking_number) from None
        if created:
            wake()
        return sub, created

    async def post_submission(request: web.Request) -> web.Response:
        key, body, fp, answer = await keyed(request)
        if answer is not None:
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
        # the clock may ask timedatectl (a subprocess): off the event loop, like the outbox
        sub, created = await queue(key, KIND_APPLICATION, payload, fp, service_id=sid,
                                   id_number=payload["applicant"]["id_number"],
                                   accepted_at=await disk(clock.stamp) if clock is not None else None)
        if created:
            log.info("submission queued", extra={"tracking_number": sub.tracking_number, "service_id": sid})
        return web.json_response(_accepted(sub), status=201 if created else 200)

    async def get_submission(request: web.Request) -> web.Response:
        sub = await disk(outbox.get, request.match_info["tracking_number"])
        if sub is None or sub.kind != KIND_APPLICATION:
            raise ApiError(404, "not_found", "no submission with this tracking number on this edge")
        return web.json_response(_local_entry(sub, wire.now_iso()) | {
            "created": sub.created, "forwarded": sub.forwarded_at is not None, "forwarded_at": sub.forwarded_at,
            wire.SUBMISSION_ACCEPTED_AT: sub.accepted_at})

    # --- progress lookup ----------------------------------------------------------------------
    async def post_progress(request: web.Request) -> web.Response:
        limit_lookups(request)
        body = await json_body(request)
        id_number, tracking = body.get("id_number"), body.get("tracking_number")
        if (id_number is None) == (tracking is None):
            raise ApiError(400, "bad_query", "give exactly one of id_number or tracking_number")
        now = wire.now_iso()
        if id_number is not None:
            if not isinstance(id_number, str) or not idnumber.is_valid(id_number):
                raise ApiError(422, "invalid_id_number", "id_number must be a valid 18-character ID number")
            local = await disk(outbox.find_by_id, id_number)
            remote = await ask_platform(adapter.search_by_id, id_number) if adapter else UNREACHABLE
        else:
            if not wire.is_tracking_number(tracking):
                raise ApiError(422, "invalid_tracking_number", "tracking_number is not in the expected format")
            sub = await disk(outbox.get, tracking)
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
                    await disk(outbox.update_status, mine.tracking_number, r.status, r.history, now)
                apps.append(_app_entry(tracking_here, r.service_id or (mine.service_id if mine else None),
                                       r.status, r.history, now))
            # Still in the outbox (or refused): the platform cannot know them yet; the edge does.
            apps += [_local_entry(s, now) for s in by_ref.values() if s.forwarded_at is None]
            source, as_of = "platform", now
        if tracking is not None and not apps:
            raise ApiError(404, "not_found", "no application with this tracking number")
        return web.json_response({"source": source, "as_of": as_of, "applications": apps})

    # --- social-insurance payments ------------------------------------------------------------
    async def post_payments(request: web.Request) -> web.Response:
        limit_lookups(request)
        body = await json_body(request)
        id_number = body.get("id_number")
        if not isinstance(id_number, str) or not idnumber.is_valid(id_number):
            raise ApiError(422, "invalid_id_number", "id_number must be a valid 18-character ID number")
        id_number = id_number.strip().upper()
        id_hash = outbox.id_hash(id_number)
        remote = await ask_platform(adapter.search_payments, id_number) if adapter else UNREACHABLE
        if remote is not UNREACHABLE:
            payments, as_of = _latest_months([p.to_dict() for p in remote]), wire.now_iso()
            try:
                await disk(payments_cache.put, id_hash, payments, as_of)
            except sqlite3.Error as e:  # the resident still gets the answer; only the offline copy is lost
                log.warning("payment cache not written", extra={"error": type(e).__name__})
            return web.json_response({"source": "platform", "as_of": as_of, "payments": payments})
        try:
            cached = await disk(payments_cache.get, id_hash)
        except sqlite3.Error as e:
            log.warning("payment cache not readable", extra={"error": type(e).__name__})
            cached = None
        if cached is None:
            raise ApiError(503, "payments_unreachable",
                           "the payment records cannot be reached now; the counter can help")
        as_of, payments = cached
        log.info("payments answered from the edge cache", extra={"as_of": as_of, "records": len(payments)})
        return web.json_response({"source": "edge_cache", "as_of": as_of, "payments": payments})

    # --- issued documents (A4 certificates): proxied, never stored at the edge ------------------
    def document_holder(body: dict) -> dict[str, str]:
        id_number, tracking = body.get("id_number"), body.get("tracking_number")
        if (id_number is None) == (tracking is None):
            raise ApiError(400, "bad_query", "give exactly one of id_number or tracking_number")
        if id_number is not None:
            if not isinstance(id_number, str) or not idnumber.is_valid(id_number):
                raise ApiError(422, "invalid_id_number", "id_number must be a valid 18-character ID number")
            return {"id_number": id_number.strip().upper()}
        if not wire.is_tracking_number(tracking):
            raise ApiError(422, "invalid_tracking_number", "tracking_number is not in the expected format")
        return {"tracking_number": tracking}

    def documents_offline() -> ApiError:
        return ApiError(503, wire.ERR_DOCUMENTS_UNREACHABLE,
                        "the service platform cannot be reached now; please try again later")

    async def post_documents(request: web.Request) -> web.Response:
        limit_lookups(request)
        who = document_holder(await json_body(request))
        found = await ask_platform(functools.partial(adapter.search_documents, **who)) if adapter else UNREACHABLE
        if found is UNREACHABLE:
            raise documents_offline()
        return web.json_response({"source": "platform", "as_of": wire.now_iso(), "documents": found})

    async def post_document_pdf(request: web.Request) -> web.Response:
        limit_lookups(request)
        who = document_holder(await json_body(request))
        serial = request.match_info["serial"]

        def fetch() -> bytes | None | PlatformRejected:
            try:
                return adapter.document_pdf(serial, **who)
            except PlatformRejected as e:  # the platform's own refusal: tell the kiosk why
                return e

        pdf = await ask_platform(fetch) if adapter else UNREACHABLE
        if pdf is UNREACHABLE:
            raise documents_offline()
        if isinstance(pdf, PlatformRejected):
            if pdf.code == wire.ERR_CARD_REQUIRED:
                raise ApiError(403, wire.ERR_CARD_REQUIRED, "this document names its holder: read the ID card")
            raise ApiError(422, "document_refused", "the platform refused to give this document")
        if pdf is None:
            raise ApiError(404, wire.ERR_NOT_FOUND, "no such document for this resident")
        return web.Response(body=pdf, content_type="application/pdf", headers={"Cache-Control": "no-store"})

    # --- feedback and kiosk health ------------------------------------------------------------
    async def post_feedback(request: web.Request) -> web.Response:
        key, body, fp, answer = await keyed(request)
        if answer is not None:
            return answer
        try:
            pack = await content.pack()
        except ApiError:
            pack = None  # feedback is welcome even before content arrives
        payload, problems = validate_feedback(body, pack)
        if problems:
            raise ApiError(422, "invalid_feedback", "the feedback needs attention: "
                           + ", ".join(p["field"] for p in problems), fields=problems)
        sub, created = await queue(key, KIND_FEEDBACK, payload, fp, service_id=payload["service_id"])
        return web.json_response(_accepted(sub), status=201 if created else 200)

    async def post_health(request: web.Request) -> web.Response:
        body = await json_body(request)
        kiosk_id, components = body.get("kiosk_id"), body.get("components")
        problems = []
        if not isinstance(kiosk_id, str) or not re.match(r"^[a-z0-9][a-z0-9-]{1,62}$", kiosk_id):
            problems.append(field_problem("kiosk_id", "kiosk_id", "must be the kiosk's id (lowercase, digits, dashes)"))
        if not isinstance(components, dict) or len(components) > 32:
            problems.append(field_problem("components", "type", "must be an object of component -> status"))
        else:
            for name, st in components.items():
                if not isinstance(st, dict) or st.get("level") not in ("ok", "degraded", "fault") \
                        or not isinstance(st.get("code"), str):
                    problems.append(field_problem(f"components.{name}", "status",
                                             "must have level ok|degraded|fault and a code"))
        voice = _voice_coverage(body.get("voice"), problems)
        if problems:
            raise ApiError(422, "invalid_health", "the health report needs attention", fields=problems)
        caller = request[KIOSK_ID]
        if caller is not None and kiosk_id != caller:
            raise ApiError(403, wire.ERR_FORBIDDEN, "this kiosk's token does not allow reporting for another kiosk")
        if kiosk_id not in health and len(health) >= 64:
            raise ApiError(429, "too_many_kiosks", "this edge already tracks 64 kiosks")
        keep = ("level", "code", "zh", "bo", "en", "since")
        health[kiosk_id] = {"received_at": wire.now_iso(),
                            "components": {str(n)[:40]: {k: str(v)[:200] for k, v in st.items() if k in keep}
                                           for n, st in components.items()}}
        if voice:
            health[kiosk_id]["voice"] = voice
        return web.json_response({"ok": True})

    # --- receipts the resident has not been shown yet ----------------------------------------
    async def post_shown(request: web.Request) -> web.Response:
        tracking = request.match_info["tracking_number"]
        if not wire.is_tracking_number(tracking):
            raise ApiError(400, "bad_tracking_number", "the tracking number is not in the format TKyymmdd-XXXXXX")
        if not await disk(outbox.mark_shown, tracking):
            raise ApiError(404, wire.ERR_NOT_FOUND, "no submission with this tracking number on this edge")
        return web.json_response({"tracking_number": tracking, "shown": True})

    async def get_unconfirmed(request: web.Request) -> web.Response:
        return web.json_response({"applications": await disk(outbox.unconfirmed)})

    async def get_openapi(request: web.Request) -> web.Response:
        from edge.openapi import document
        return web.json_response(document(), dumps=lambda o: json.dumps(o, ensure_ascii=False))

    app = web.Application(middlewares=[_errors, _authenticator(KioskTokens(config.edge.kiosks))],
                          client_max_size=MAX_BODY)

    async def close_resources(_app: web.Application) -> None:
        lookup_pool.shutdown(wait=False, cancel_futures=True)  # a black-holed lookup must not hold up a stop
        disk_pool.shutdown(wait=True)
        if own_cache:
            payments_cache.close()
    app.on_cleanup.append(close_resources)
    r = app.router
    r.add_get(wire.API_STATUS, get_status)
    r.add_get(wire.API_OPENAPI, get_openapi)
    r.add_get(wire.API_MANIFEST, get_manifest)
    r.add_get(wire.API_FILE.replace("{path}", "{path:.+}"), get_file)
    r.add_get(wire.API_SERVICES, get_services)
    r.add_get(wire.API_SERVICE, get_pack_item("service"))
    r.add_get(wire.API_PROMPTS, get_prompts)
    r.add_get(wire.API_GUIDE, get_pack_item("guide"))
    r.add_get(wire.API_FORM, get_pack_item("form"))
    r.add_post(wire.API_SUBMISSIONS, post_submission)
    r.add_get(wire.API_UNCONFIRMED, get_unconfirmed)  # before API_SUBMISSION, which would capture it
    r.add_get(wire.API_SUBMISSION, get_submission)
    r.add_post(wire.API_SUBMISSION_SHOWN, post_shown)
    r.add_post(wire.API_PROGRESS, post_progress)
    r.add_post(wire.API_PAYMENTS, post_payments)
    r.add_post(wire.API_DOCUMENTS, post_documents)
    r.add_post(wire.API_DOCUMENT_PDF, post_document_pdf)
    r.add_post(wire.API_FEEDBACK, post_feedback)
    r.add_post(wire.API_HEALTH, post_health)
    from edge.kiosk_commands import KioskCommandRelay
    from edge.kiosk_commands_api import add_routes

    app[KIOSK_COMMANDS] = kiosk_commands or KioskCommandRelay()
    add_routes(app, app[KIOSK_COMMANDS])
    app[STATUS_DOCUMENT] = status_document
    return app
