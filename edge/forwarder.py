"""Moves outbox items to the platform, oldest first, and keeps the local status record fresh.

One item at a time, in order, each with its idempotency key, so a crash between the platform's
commit and our ack only leads to a replay the platform answers with the first response. A row
is deleted only after the platform acknowledged it. While the platform is unreachable the
forwarder backs off (kiosk/backoff.py: exponential, jittered, capped) and reports the WAN as down, with a
status code saying why (unreachable, credentials refused, not the platform answering); the first
success reports it up again.

Scheduling uses the forwarder's own waits (monotonic clock): the `next_attempt_at` stored with an
item is wall-clock time, which a clock step can move far off, so it is a record, not the schedule.
An item the platform accepted is never dead-lettered: if recording the ack fails, only the ack is
retried. Dead letters past the retention lose their personal data (at start, then hourly).
"""

from __future__ import annotations

import logging
import random
import threading
import time

from edge.outbox import KIND_APPLICATION, KIND_FEEDBACK, Outbox, OutboxItem
from edge.platform_adapter import (
    UNAVAILABLE_AUTH,
    UNAVAILABLE_UNEXPECTED,
    PlatformAdapter,
    PlatformRejected,
    PlatformUnavailable,
)
from kiosk import wire
from kiosk.backoff import Backoff
from kiosk.status import Level, Status, StatusSource

log = logging.getLogger(__name__)

WAN_UNKNOWN, WAN_UP, WAN_DOWN = "unknown", "up", "down"
_MAX_INTERNAL_ERRORS = 5  # an item that keeps crashing the sender becomes a dead letter
EXPIRY_INTERVAL_S = 3600.0  # how often dead letters past the retention are wiped

WAN_DOWN_STATUS = Status(Level.DEGRADED, "wan_down",
                         "无法连接政务服务平台，申请已在本地保存，网络恢复后自动提交",
                         "གཞུང་ཞབས་ཞུའི་སྟེགས་བུ་དང་འབྲེལ་མཐུད་བྱེད་མ་ཐུབ། ཞུ་ཡིག་ས་གནས་སུ་ཉར་ཡོད། དྲ་རྒྱ་བསྐྱར་གསོ་བྱུང་རྗེས་རང་འགུལ་གྱིས་འབུལ་རྒྱུ་ཡིན།",
                         "Service platform unreachable; submissions are kept locally and sent when it returns")
PLATFORM_AUTH_STATUS = Status(Level.DEGRADED, UNAVAILABLE_AUTH,
                              "政务服务平台拒绝了本机的凭据，申请已在本地保存；请联系维护人员",
                              "གཞུང་ཞབས་ཞུའི་སྟེགས་བུས་འཕྲུལ་ཆས་འདིའི་ལག་ཁྱེར་ངོས་ལེན་མ་བྱས། ཞུ་ཡིག་ས་གནས་སུ་ཉར་ཡོད། "
                              "ཉམས་གསོ་བ་དང་འབྲེལ་བ་གནང་རོགས།",
                              "Service platform refuses our credentials; submissions are kept locally. "
                              "Call maintenance")
PLATFORM_UNEXPECTED_STATUS = Status(Level.DEGRADED, UNAVAILABLE_UNEXPECTED,
                                    "政务服务平台的应答异常，申请已在本地保存，稍后自动重试",
                                    "གཞུང་ཞབས་ཞུའི་སྟེགས་བུའི་ལན་རྒྱུན་ལྡན་མིན། ཞུ་ཡིག་ས་གནས་སུ་ཉར་ཡོད། "
                                    "རྗེས་སུ་རང་འགུལ་གྱིས་ཡང་བསྐྱར་ཚོད་ལྟ་བྱེད།",
                                    "Unexpected answer from the service platform; submissions are kept locally "
                                    "and retried")
_DOWN_STATUSES = {UNAVAILABLE_AUTH: PLATFORM_AUTH_STATUS, UNAVAILABLE_UNEXPECTED: PLATFORM_UNEXPECTED_STATUS}


class Forwarder:
    def __init__(self, outbox: Outbox, adapter: PlatformAdapter, *, backoff_base_s: float = 1.0,
                 backoff_cap_s: float = 60.0, idle_poll_s: float = 5.0, refresh_interval_s: float = 300.0,
                 refresh_batch: int = 20, extra_payload: dict | None = None,
                 dead_letter_retention_s: float | None = 30 * 86400.0, rng: random.Random | None = None) -> None:
        self.outbox = outbox
        self.adapter = adapter
        self.backoff_cap_s = backoff_cap_s  # also the wait after an internal error
        self.idle_poll_s = idle_poll_s
        self.refresh_interval_s = refresh_interval_s
        self.refresh_batch = refresh_batch
        self._backoff = Backoff(backoff_base_s, backoff_cap_s, rng)  # tests pass a seeded rng
        self._extra = dict(extra_payload or {})  # e.g. {"edge_id": ...}, added to every delivery
        self.dead_letter_retention_s = dead_letter_retention_s  # None: keep dead letters' data for ever
        self._next_expiry = 0.0
        # Accepted by the platform, ack not yet recorded locally (key -> status, platform ref).
        self._accepted: dict[str, tuple[str, str | None]] = {}
        self._acked_since_checkpoint = 0
        self.source = StatusSource("wan")
        self._wan = WAN_UNKNOWN
        self._wan_since = wire.now_iso()
        self._last_error: str | None = None
        self._last_ok: str | None = None
        self._failures = 0
        self._forwarded = 0
        self._next_refresh = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()   # new work: ends an idle wait
        self._kick = threading.Event()   # evidence the platform is back: ends a backoff or an idle wait
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="edge-forwarder", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """New items were queued: forward now if the WAN is up (a backoff is not cut short)."""
        self._wake.set()

    def platform_reachable(self) -> None:
        """Someone else just reached the platform (e.g. a progress lookup): end any backoff."""
        self._kick.set()
        self._wake.set()

    # --- state --------------------------------------------------------------------------------
    def state(self) -> dict:
        with self._lock:
            return {"wan": self._wan, "since": self._wan_since, "last_error": self._last_error,
                    "last_ok_at": self._last_ok, "consecutive_failures": self._failures,
                    "forwarded": self._forwarded}

    def status(self) -> Status:
        return self.source.status()

    def _mark(self, up: bool, error: str | None = None, code: str | None = None) -> None:
        status = Status(Level.OK, "ok", "平台连接正常", "སྟེགས་བུ་དང་འབྲེལ་མཐུད་རྒྱུན་ལྡན།",
                        "Service platform reachable") if up else _DOWN_STATUSES.get(code or "", WAN_DOWN_STATUS)
        with self._lock:
            new = WAN_UP if up else WAN_DOWN
            if new != self._wan:
                self._wan, self._wan_since = new, wire.now_iso()
            if up:
                self._failures, self._last_ok = 0, wire.now_iso()
            else:
                self._failures += 1
                self._last_error = error
        if not status.same_as(self.source.status()):  # also when the reason changes while down
            log.info("wan state", extra={"wan": new, "code": status.code, "error": error})
            self.source.set_status(status)

    def backoff_s(self) -> float:
        """How long to wait after the current run of failures."""
        return self._backoff.delay(self._failures)

    # --- work ---------------------------------------------------------------------------------
    def _send(self, item: OutboxItem) -> None:
        if item.idempotency_key not in self._accepted:
            self._accepted[item.idempotency_key] = self._deliver(item)
        status, ref = self._accepted[item.idempotency_key]
        self.outbox.ack(item.idempotency_key, status, ref, checkpoint=False)  # forward_once checkpoints
        del self._accepted[item.idempotency_key]

    def _deliver(self, item: OutboxItem) -> tuple[str, str | None]:
        """Hand the item to the platform; (status to record, the platform's own number if it differs)."""
        payload = {**item.payload, **self._extra, "tracking_number": item.tracking_number,
                   "submitted_at": item.created}
        if item.kind == KIND_APPLICATION:
            ack = self.adapter.submit_application(item.idempotency_key, payload)
        elif item.kind == KIND_FEEDBACK:
            ack = self.adapter.submit_feedback(item.idempotency_key, payload)
        else:
            # Usage events have no platform endpoint in the reference adapter; they are acknowledged
            # locally so they never block the queue. A region adapter may deliver them.
            sender = getattr(self.adapter, "submit_event", None)
            ack = sender(item.idempotency_key, payload) if sender else None
        status = ack.status if ack is not None and ack.status in wire.STATUSES else wire.STATUS_RECEIVED
        ref = ack.tracking_number if ack is not None and ack.tracking_number != item.tracking_number else None
        return (status if item.kind == KIND_APPLICATION else wire.STATUS_RECEIVED), ref

    def forward_once(self, batch: int = 20, *, ignore_backoff: bool = False) -> tuple[int, float | None]:
        """Send the due items in order. Returns (delivered, backoff in s if the platform is unavailable).
        After a batch with acks the WAL is truncated, taking the acked payloads' old pages with it."""
        try:
            return self._forward_batch(batch, ignore_backoff)
        finally:
            if self._acked_since_checkpoint:
                self._acked_since_checkpoint = 0
                self.outbox.checkpoint()

    def _forward_batch(self, batch: int, ignore_backoff: bool) -> tuple[int, float | None]:
        delivered = 0
        for item in self.outbox.next_batch(batch, now=float("inf") if ignore_backoff else None):
            if self._stop.is_set():
                break
            try:
                self._send(item)
            except PlatformUnavailable as e:
                self._mark(False, str(e), e.code)
                delay = self.backoff_s()
                self.outbox.defer(item.idempotency_key, str(e), delay)
                return delivered, delay
            except PlatformRejected as e:
                self._mark(True)
                log.warning("platform refused item; kept as dead letter",
                            extra={"tracking_number": item.tracking_number, "kind": item.kind, "code": e.code})
                self.outbox.reject(item.idempotency_key, f"{e.code}: {e.reason}")
                continue
            except Exception as e:  # a bug must not stop the queue for long: retry a few times, then park it
                log.exception("forwarding failed", extra={"tracking_number": item.tracking_number})
                if item.idempotency_key in self._accepted:
                    # The platform has it; only recording the ack failed (e.g. the disk): retry just that.
                    return delivered, self.backoff_cap_s
                error = f"internal error: {type(e).__name__}"
                if item.internal_errors + 1 >= _MAX_INTERNAL_ERRORS:
                    self.outbox.reject(item.idempotency_key, error)
                    continue
                self.outbox.defer(item.idempotency_key, error, self.backoff_cap_s, internal=True)
                return delivered, self.backoff_cap_s
            self._mark(True)
            delivered += 1
            self._acked_since_checkpoint += 1
            with self._lock:
                self._forwarded += 1
        return delivered, None

    def refresh_statuses(self) -> int:
        """Ask the platform about undecided applications; how many were confirmed, -1 if unreachable."""
        confirmed = 0
        for sub in self.outbox.to_refresh(self.refresh_batch):
            if self._stop.is_set():
                break
            try:
                st = self.adapter.get_status(sub.platform_ref or sub.tracking_number)
            except PlatformUnavailable as e:
                self._mark(False, str(e), e.code)
                return -1
            except PlatformRejected as e:
                log.warning("status refresh refused", extra={"tracking_number": sub.tracking_number,
                                                             "code": e.code})
                continue
            self._mark(True)
            if st is not None:
                self.outbox.update_status(sub.tracking_number, st.status, st.history)
                confirmed += 1
        return confirmed

    def expire_dead_letters(self) -> int:
        """Wipe the personal data of dead letters past the retention; how many were wiped."""
        if self.dead_letter_retention_s is None:
            return 0
        n = self.outbox.expire_dead_letters(self.dead_letter_retention_s)
        if n:
            log.info("dead letters wiped after retention", extra={"wiped": n})
        return n

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self._kick.clear()
            try:
                if time.monotonic() >= self._next_expiry:
                    self._next_expiry = time.monotonic() + EXPIRY_INTERVAL_S
                    self.expire_dead_letters()
                # Every pass follows one of our own (monotonic) waits, so whatever is queued is due now:
                # the wall-clock next_attempt_at in the file may be far off after a clock step.
                delivered, delay = self.forward_once(ignore_backoff=True)
                if delay is None and time.monotonic() >= self._next_refresh:
                    self._next_refresh = time.monotonic() + self.refresh_interval_s
                    if self.refresh_statuses() < 0:
                        delay = self.backoff_s()
            except Exception:  # the database or a bug: keep the thread alive, try again later
                log.exception("forwarder loop failed")
                delivered, delay = 0, self.backoff_cap_s
            if delay is not None:
                self._kick.wait(delay)  # new items (wake) do not cut a backoff short; the platform's return does
            elif delivered == 0:
                self._wake.wait(self.idle_poll_s)  # platform_reachable() sets _wake too
