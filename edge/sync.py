"""Content sync: poll the origin, verify the signed manifest, fetch missing blobs, switch atomically.

A bad pack (bad signature, unknown key, expired, older than the active one, malformed, a blob that
does not match its hash) is refused with one log line and a `content_refused` event; the active
version keeps serving and the status says `content_refused` (with why) until a good version is
applied or the origin offers the active one again. A network fault changes nothing: partial
downloads stay for the next try to resume.

Downloads run under the store's sync lock only; the store lock (which rollback takes) is held
just to commit a blob and to activate a version.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any

from edge.origin_client import OriginClient, OriginError
from edge.store import ContentStore, StoreError
from kiosk import audit, wire
from kiosk import manifest as manifest_mod
from kiosk.backoff import Backoff
from kiosk.config import EdgeSection
from kiosk.manifest import FileEntry, Manifest, ManifestError
from kiosk.signing import Envelope, EnvelopeError, verify
from kiosk.status import Level, Status, StatusSource
from kiosk.trusted_time import TrustedClock

log = logging.getLogger("edge.sync")

EventSink = Callable[[str, dict], None]
_MANIFEST_REL_RE = re.compile(r"^manifests/[0-9]{1,18}\.json$")

ST_OK = Status(Level.OK, "ok", "内容正常", "ནང་དོན་རྒྱུན་ལྡན།", "Content up to date")
ST_NO_CONTENT = Status(Level.FAULT, "no_content", "没有可用的服务内容",
                       "བེད་སྤྱོད་རུང་བའི་ཞབས་ཞུའི་ནང་དོན་མི་འདུག", "No service content is installed")
ST_UNSIGNED = Status(Level.DEGRADED, "unsigned_allowed", "允许未签名的内容（仅供开发使用）",
                     "མིང་རྟགས་མེད་པའི་ནང་དོན་ཆོག་པ་བྱས་ཡོད། (གསར་སྤེལ་ཁོ་ནའི་ཆེད་དུ།)",
                     "Unsigned content is allowed (development only)")
ST_FAILING = Status(Level.DEGRADED, "sync_failing", "无法连接内容服务器，继续使用当前内容",
                    "ནང་དོན་ཞབས་ཞུ་འཕྲུལ་ཆས་ལ་འབྲེལ་བ་བྱེད་མ་ཐུབ། ད་ཡོད་ནང་དོན་བེད་སྤྱོད་བྱེད་བཞིན་ཡོད།",
                    "Content origin unreachable; serving the current content")

# Why a pack was refused, in plain words (zh, bo, en), by refusal code; anything else is malformed.
_REFUSAL_WORDS: dict[str, tuple[str, str, str]] = {
    "unknown_key": ("签名密钥未在本机登记", "མིང་རྟགས་ཀྱི་ལྡེ་མིག་འདིར་ཐོ་འགོད་བྱས་མེད།",
                    "it is signed with a key this edge does not trust"),
    "expired": ("签名已过期，请检查本机时钟", "མིང་རྟགས་ཀྱི་དུས་ཚོད་ཡོལ་ཟིན། འཕྲུལ་ཆས་འདིའི་ཆུ་ཚོད་ལ་ཞིབ་བཤེར་གནང་།",
                "its signature has expired; check this edge's clock"),
    "bad_signature": ("签名不符，内容可能被篡改", "མིང་རྟགས་མི་མཐུན། ནང་དོན་བཅོས་སྒྱུར་ཐེབས་སྲིད།",
                      "its signature does not match; it may have been tampered with"),
    "hash_mismatch": ("文件与签名清单不符，可能被篡改", "ཡིག་ཆ་དང་མིང་རྟགས་ཐོ་གཞུང་མི་མཐུན། བཅོས་སྒྱུར་ཐེབས་སྲིད།",
                      "a file does not match the signed list; it may have been tampered with"),
    "rollback": ("版本比正在使用的旧", "པར་གཞི་འདི་ད་ལྟ་བེད་སྤྱོད་བྱེད་བཞིན་པ་ལས་རྙིང་།",
                 "it is older than the version in use"),
    "unsigned": ("内容包没有签名", "ནང་དོན་ཐུམ་སྒྲིལ་ལ་མིང་རྟགས་མེད།", "it is not signed"),
}
_MALFORMED_WORDS = ("内容包格式有误", "ནང་དོན་ཐུམ་སྒྲིལ་གྱི་རྣམ་གཞག་ནོར་འདུག", "the pack is malformed")


def refused_status(code: str) -> Status:
    """`content_refused`, degraded: the previous good version keeps serving."""
    zh, bo, en = _REFUSAL_WORDS.get(code, _MALFORMED_WORDS)
    return Status(Level.DEGRADED, "content_refused", f"已拒绝新的内容包：{zh}。继续使用当前内容",
                  f"ནང་དོན་ཐུམ་སྒྲིལ་གསར་པ་ངོས་ལེན་མ་བྱས། {bo} ད་ཡོད་ནང་དོན་བེད་སྤྱོད་བྱེད་བཞིན་ཡོད།",
                  f"New content pack refused: {en}. Serving the current content")


class _ContentStatus(StatusSource):
    """StatusSource whose message follows a new refusal reason under the same code (same_as
    compares level and code only, so the base class would keep the first reason's words)."""

    def set_status(self, new: Status) -> None:
        old = self.status()
        if new.same_as(old) and new.en != old.en:
            with self._lock:
                self._status = replace(new, since=old.since)  # same condition since then
            return
        super().set_status(new)


@dataclass(frozen=True)
class SyncResult:
    outcome: str  # "updated" | "up_to_date" | "refused" | "failed"
    version: int | None = None  # the version offered (or active, when up to date)
    bytes_downloaded: int = 0
    blobs_downloaded: int = 0
    blobs_reused: int = 0
    code: str = ""
    reason: str = ""

    def summary(self) -> str:
        if self.outcome == "updated":
            return (f"updated to version {self.version}: {self.blobs_downloaded} blob(s) downloaded "
                    f"({self.bytes_downloaded} bytes), {self.blobs_reused} reused")
        if self.outcome == "up_to_date":
            return f"up to date at version {self.version}" + (f" ({self.reason})" if self.reason else "")
        return f"{self.outcome} [{self.code}]: {self.reason}"


class _Refused(Exception):
    def __init__(self, code: str, reason: str, version: int | None) -> None:
        super().__init__(reason)
        self.code, self.reason, self.version = code, reason, version


class SyncClient:
    def __init__(self, store: ContentStore, origin_url: str, *, pinned_keys: dict[str, str],
                 allow_unsigned: bool = False, timeout: float = 20.0, poll_interval_s: float = 300.0,
                 failing_after_s: float | None = None, concurrency: int = 4,
                 on_event: EventSink | None = None, clock: TrustedClock | None = None,
                 rng: random.Random | None = None) -> None:
        self.store = store
        self.clock = clock  # expiry by trusted time (None: the system clock, as before)
        self.origin_url = origin_url
        self.pinned_keys = dict(pinned_keys)
        self.allow_unsigned = allow_unsigned
        self.poll_interval_s = poll_interval_s
        # After failures: the first retry within 1.25-2.5 s, growing up to the poll interval.
        self._retry_wait = Backoff(min(poll_interval_s, 5.0) / 2, poll_interval_s, rng)
        # How long the origin may stay unreachable before the status says so.
        self.failing_after_s = failing_after_s if failing_after_s is not None else 3 * poll_interval_s
        self.on_event = on_event
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self._round_abort = threading.Event()
        self._origin = self._new_origin()
        self._blob_bytes = 0
        self._thread: threading.Thread | None = None
        self._failures = 0  # consecutive failed rounds
        self._backoff = 0  # backoff step: grows with failed rounds that made no progress
        self._last_contact = time.monotonic()  # the failing clock starts when we do
        self._state: dict[str, Any] = {
            "active_version": store.active_version(), "last_sync_at": None, "last_ok_at": None,
            "last_outcome": None, "last_error": None, "bytes_total": 0,
            "refused": None}  # {"version", "reason", "code", "at"} of the pack refused last
        self.status: StatusSource = _ContentStatus("content", self._compute_status())

    def _new_origin(self) -> OriginClient:
        return OriginClient(self.origin_url, timeout=self.timeout,
                            abort=lambda: self._stop.is_set() or self._round_abort.is_set())

    @classmethod
    def from_config(cls, edge: EdgeSection, store: ContentStore | None = None,
                    on_event: EventSink | None = None, clock: TrustedClock | None = None) -> SyncClient:
        return cls(store or ContentStore.for_config(edge), edge.origin_url,
                   pinned_keys={k.key_id: k.public_key for k in edge.admin_keys},
                   allow_unsigned=edge.allow_unsigned, poll_interval_s=edge.poll_interval_s, on_event=on_event,
                   clock=clock)

    # --- one sync --------------------------------------------------------------------------------

    def sync_once(self) -> SyncResult:
        before, active_before = self._blob_bytes, self.store.active_version()
        try:
            with self.store.sync_lock():
                result = self._sync()
        except StoreError as e:
            result = SyncResult("failed", code=e.code, reason=str(e))
        except OSError as e:  # disk full, permissions: nothing switched, try again later
            result = SyncResult("failed", code="store_error", reason=f"content store: {e.strerror or e}")
        finally:
            self._origin.close()
        # Bytes of a failed round crossed the link too (and are kept as partials): report them.
        result = replace(result, bytes_downloaded=self._blob_bytes - before)
        self._record(result)
        if result.outcome == "updated":
            audit.event("content_applied", version=result.version, previous=active_before)
            self._emit("content_updated", {"version": result.version, "previous": active_before,
                                           "bytes_downloaded": result.bytes_downloaded,
                                           "blobs_downloaded": result.blobs_downloaded,
                                           "blobs_reused": result.blobs_reused})
        return result

    def _sync(self) -> SyncResult:
        active = self.store.active_version()
        try:
            latest_version, manifest_rel = self._latest()
            if active is not None and latest_version < active:
                # An origin restored from an old backup, or a replay: never go back by sync.
                raise _Refused("rollback", f"the origin offers version {latest_version}, older than the "
                                           f"active {active}", latest_version)
            if latest_version == active:
                return SyncResult("up_to_date", active)
            if latest_version in self.store.blocked_versions():
                return SyncResult("up_to_date", active, reason=f"version {latest_version} was rolled back")
            env_bytes = self._origin.get_bytes(manifest_rel)
            manifest = self._verified_manifest(env_bytes, latest_version, active)
            counts = self._fetch_blobs(manifest)
            with self.store.lock():
                # A rollback (or another writer) may have run during the download: re-check.
                active = self.store.active_version()
                if active is not None and manifest.version <= active:
                    return SyncResult("up_to_date", active, reason=f"version {active} became active meanwhile")
                if manifest.version in self.store.blocked_versions():
                    return SyncResult("up_to_date", active, reason=f"version {manifest.version} was rolled back")
                self.store.activate(manifest, env_bytes)
        except OriginError as e:
            return SyncResult("failed", code=e.code, reason=str(e))
        except _Refused as e:
            self._refuse(e)
            return SyncResult("refused", e.version, code=e.code, reason=e.reason)
        return SyncResult("updated", manifest.version, **counts)

    def _latest(self) -> tuple[int, str]:
        raw = self._origin.get_bytes("latest.json", max_bytes=64 << 10)
        try:
            d = json.loads(raw)
            if not isinstance(d, dict) or d.get("schema") != manifest_mod.LATEST_SCHEMA:
                raise ValueError("unknown schema")
            version = d["version"]
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise ValueError("version is not a positive integer")
            rel = d.get("manifest", manifest_mod.manifest_path(version))
            if not isinstance(rel, str) or not _MANIFEST_REL_RE.match(rel):
                raise ValueError("manifest path is not manifests/<version>.json")
        except (ValueError, KeyError) as e:
            raise _Refused("bad_latest", f"latest.json is malformed: {e}", None) from None
        return version, rel

    def _verified_manifest(self, env_bytes: bytes, offered: int, active: int | None) -> Manifest:
        try:
            env = Envelope.from_json(env_bytes)
            payload = verify(env, manifest_mod.ENVELOPE_KIND, self.pinned_keys, current_version=active,
                             allow_unsigned=self.allow_unsigned, enforce_expiry=self.clock is None)
            if self.clock is not None and self.clock.expired(env.expires):  # never on a wrong clock alone
                raise EnvelopeError("expired", f"envelope expired at {env.expires}")
        except EnvelopeError as e:
            # One vocabulary for "older than active", whether latest.json or the envelope says so.
            raise _Refused("rollback" if e.code == "not_newer" else e.code, str(e), offered) from None
        if env.version != offered:
            raise _Refused("version_mismatch", f"latest.json offers version {offered} but the signed "
                                               f"manifest is version {env.version}", offered)
        try:
            manifest = Manifest.from_json(payload)
            ContentStore.check_manifest(manifest)
        except (ManifestError, StoreError) as e:
            raise _Refused("bad_manifest", str(e), offered) from None
        if manifest.version != env.version:
            raise _Refused("version_mismatch", f"manifest says version {manifest.version}, its signed "
                                               f"envelope says {env.version}", offered)
        if self.clock is not None and env.signed:
            self.clock.observe_signed_time(manifest.created)
        return manifest

    def _fetch_blobs(self, manifest: Manifest) -> dict[str, int]:
        wanted: dict[str, FileEntry] = {}
        reused = 0
        for f in manifest.files:
            if f.sha256 in wanted:
                continue
            if self.store.has_blob(f.sha256):
                reused += 1
            else:
                wanted[f.sha256] = f
        if wanted:
            self._download_all(list(wanted.values()), manifest.version)
        return {"blobs_downloaded": len(wanted), "blobs_reused": reused}

    def _download_all(self, entries: list[FileEntry], version: int) -> None:
        """Download blobs on a few keep-alive connections at once, commit each in this thread.

        Parallel connections keep a high-latency link busy through each request's round trip. A
        connection that drops after moving bytes is resumed at once (the link works, it flapped);
        an attempt that moves nothing ends the round: the others stop at their next chunk, blobs
        already complete are still committed, partials stay for the next round. A resumed download
        that fails its hash may be local damage (a partial cut by power loss), so it is fetched
        once more from zero before the pack is called bad.
        """
        self._round_abort.clear()
        clients: queue.SimpleQueue[OriginClient] = queue.SimpleQueue()
        made = [self._new_origin() for _ in range(min(self.concurrency, len(entries)))]
        for c in made:
            clients.put(c)

        def fetch(f: FileEntry) -> tuple[bool, OriginError | None, bool]:
            """(resumed, error, progressed)"""
            part = self.store.partial_path(f.sha256)
            before = part.stat().st_size if part.exists() else 0
            c = clients.get()
            try:
                return c.download(manifest_mod.blob_path(f.sha256), part, f.size)[1], None, False
            except OriginError as e:
                return False, e, (part.stat().st_size if part.exists() else 0) > before
            finally:
                clients.put(c)

        error: OriginError | None = None
        try:
            with ThreadPoolExecutor(len(made), thread_name_prefix="content-fetch") as pool:
                pending = {pool.submit(fetch, f): (f, False) for f in entries}
                try:
                    while pending:
                        done, _ = wait(pending, return_when=FIRST_COMPLETED)
                        for fut in done:
                            f, retried = pending.pop(fut)
                            resumed, err, progressed = fut.result()
                            if err is not None:
                                if err.code == "network" and progressed and not self._round_abort.is_set():
                                    pending[pool.submit(fetch, f)] = (f, retried)
                                    continue
                                if error is None or error.code == "aborted":
                                    error = err
                                self._round_abort.set()
                            elif (not self._commit(f, version, retry=resumed and not retried)
                                  and not self._round_abort.is_set()):
                                pending[pool.submit(fetch, f)] = (f, True)
                finally:
                    self._round_abort.set()  # whatever ends the round stops every download in it
        finally:
            for c in made:
                self._blob_bytes += c.bytes_received
                c.close()
        if error is not None:
            raise error

    def _commit(self, f: FileEntry, version: int, *, retry: bool) -> bool:
        """Verify and commit one downloaded blob; False = fetch it again from zero."""
        try:
            self.store.commit_blob(f.sha256, self.store.partial_path(f.sha256))
            return True
        except StoreError as e:
            if e.code != "hash_mismatch":
                raise
            if retry:
                return False
            raise _Refused("hash_mismatch", f"blob {f.path} does not match its hash", version) from None

    # --- reporting -------------------------------------------------------------------------------

    def _refuse(self, e: _Refused) -> None:
        log.warning("content pack refused", extra={"code": e.code, "version": e.version, "reason": e.reason})
        last = self._state["refused"]  # the audit trail gets each refusal once, not once per poll
        if last is None or (last["version"], last["code"]) != (e.version, e.code):
            audit.event("content_refused", code=e.code, version=e.version, reason=e.reason)
        self._emit("content_refused", {"code": e.code, "version": e.version, "reason": e.reason})

    def _emit(self, event: str, data: dict) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event, data)
        except Exception:  # a broken listener must not stop content updates
            log.exception("content event listener failed", extra={"event": event})

    def _record(self, r: SyncResult) -> None:
        st = self._state
        st["last_sync_at"] = wire.now_iso()
        st["last_outcome"] = r.outcome
        st["bytes_total"] += r.bytes_downloaded
        st["active_version"] = self.store.active_version()
        if r.code == "aborted":  # shutting down: not a fault of the link
            log.debug("content sync stopped", extra={"version": r.version})
        elif r.outcome == "failed":
            self._failures += 1
            # A round that moved bytes reached the origin: the link works but dropped, so retry
            # soon instead of backing off further.
            self._backoff = 1 if r.bytes_downloaded else self._backoff + 1
            if r.bytes_downloaded:
                self._last_contact = time.monotonic()
            st["last_error"] = f"{r.code}: {r.reason}"
            level = logging.WARNING if self._failures == 1 else logging.INFO
            log.log(level, "content sync failed", extra={"code": r.code, "reason": r.reason,
                                                          "failures": self._failures})
        else:
            self._failures = self._backoff = 0
            self._last_contact = time.monotonic()
            if r.outcome == "refused":
                st["last_error"] = f"{r.code}: {r.reason}"
                st["refused"] = {"version": r.version, "reason": r.reason, "code": r.code,
                                 "at": st["last_sync_at"]}
            else:
                st["last_ok_at"] = st["last_sync_at"]
                st["last_error"] = None
                # Cleared by a good version applied or the active one offered again, not by an
                # offer we skip (a version rolled back here): that says nothing about the refusal.
                if r.outcome == "updated" or (r.version is not None and not r.reason):
                    st["refused"] = None
        self.status.set_status(self._compute_status())

    def _compute_status(self) -> Status:
        if self.store.active_version() is None:
            return ST_NO_CONTENT
        if self._failures and time.monotonic() - self._last_contact >= self.failing_after_s:
            return ST_FAILING
        refused = self._state["refused"]
        if refused is not None:
            return refused_status(refused["code"])
        if self.allow_unsigned:
            return ST_UNSIGNED
        return ST_OK

    def state(self) -> dict:
        st = self.status.status()
        return {**self._state, "blocked_versions": self.store.blocked_versions(),
                "status": st.code, "status_detail": st.as_dict()}

    # --- the loop --------------------------------------------------------------------------------

    def trigger(self) -> None:
        """Sync now (e.g. on an MQTT content announcement) instead of at the next poll."""
        self._wake.set()

    def next_delay(self) -> float:
        """Poll interval after a success or refusal; after failures the backoff, capped at the poll
        interval, so a flapping link is retried soon but not hammered."""
        return self._retry_wait.delay(self._backoff) if self._backoff else self.poll_interval_s

    def run(self, stop: threading.Event) -> None:
        """Sync at once, then every poll interval, until `stop` is set."""
        self._stop = stop
        while not stop.is_set():
            self._wake.clear()
            try:
                result = self.sync_once()
            except Exception:  # keep the loop alive whatever happens in one round
                log.exception("content sync crashed")
                self._failures += 1
                self._backoff += 1
                result = None
            if result is not None and result.outcome == "updated":
                continue  # a newer version may already be waiting
            deadline = time.monotonic() + self.next_delay()
            while not stop.is_set() and not self._wake.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._wake.wait(min(remaining, 0.25))

    def start(self) -> None:
        """Run in a daemon thread; close() stops it."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, args=(self._stop,), name="content-sync",
                                            daemon=True)
            self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._origin.close()

