"""Moves outbox items to the platform, oldest first, and keeps the local status record fresh.

One item at a time, in order, each with its idempotency key, so a crash between the platform's
commit and our ack only leads to a replay the platform answers with the first response. A row
is deleted only after the platform acknowledged it. While the platform is unreachable the
forwarder backs off (exponential, full jitter, capped) and reports the WAN as down; the first
success reports it up again.
"""

from __future__ import annotations

import logging
import random
import threading
import time

from edge.outbox import KIND_APPLICATION, KIND_FEEDBACK, Outbox, OutboxItem
from edge.platform_adapter import PlatformAdapter, PlatformRejected, PlatformUnavailable
from kiosk import wire
from kiosk.status import Level, Status, StatusSource

log = logging.getLogger(__name__)

WAN_UNKNOWN, WAN_UP, WAN_DOWN = "unknown", "up", "down"
_MAX_INTERNAL_ERRORS = 5  # an item that keeps crashing the sender becomes a dead letter

WAN_DOWN_STATUS = Status(Level.DEGRADED, "wan_down",
                         "无法连接政务服务平台，申请已在本地保存，网络恢复后自动提交",
                         "གཞུང་ཞབས་ཞུའི་སྟེགས་བུ་དང་འབྲེལ་མཐུད་བྱེད་མ་ཐུབ། ཞུ་ཡིག་ས་གནས་སུ་ཉར་ཡོད། དྲ་རྒྱ་བསྐྱར་གསོ་བྱུང་རྗེས་རང་འགུལ་གྱིས་འབུལ་རྒྱུ་ཡིན།",
                         "Service platform unreachable; submissions are kept locally and sent when it returns")


class Forwarder:
    def __init__(self, outbox: Outbox, adapter: PlatformAdapter, *, backoff_base_s: float = 1.0,
                 backoff_cap_s: float = 60.0, idle_poll_s: float = 5.0, refresh_interval_s: float = 300.0,
                 refresh_batch: int = 20, extra_payload: dict | None = None) -> None:
        self.outbox = outbox
        self.adapter = adapter
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.idle_poll_s = idle_poll_s
        self.refresh_interval_s = refresh_interval_s
        self.refresh_batch = refresh_batch
        self._extra = dict(extra_payload or {})  # e.g. {"edge_id": ...}, added to every delivery
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
        self._wake = threading.Event()   # new work while the WAN is up
        self._kick = threading.Event()   # evidence the platform is back: end a backoff early
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

    def _mark(self, up: bool, error: str | None = None) -> None:
        with self._lock:
            new = WAN_UP if up else WAN_DOWN
            changed = new != self._wan
            if changed:
                self._wan, self._wan_since = new, wire.now_iso()
            if up:
                self._failures, self._last_ok = 0, wire.now_iso()
            else:
                self._failures += 1
                self._last_error = error
        if changed:
            log.info("wan state", extra={"wan": new, "error": error})
            self.source.set_status(Status(Level.OK, "ok", "平台连接正常", "སྟེགས་བུ་དང་འབྲེལ་མཐུད་རྒྱུན་ལྡན།",
                                          "Service platform reachable") if up else WAN_DOWN_STATUS)

    def backoff_s(self) -> float:
        """Full jitter over an exponentially growing, capped window."""
        window = min(self.backoff_cap_s, self.backoff_base_s * 2 ** min(self._failures - 1, 30))
        return random.uniform(window / 2, window)

    # --- work ---------------------------------------------------------------------------------
    def _send(self, item: OutboxItem) -> None:
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
        self.outbox.ack(item.idempotency_key, status if item.kind == KIND_APPLICATION else wire.STATUS_RECEIVED,
                        ref)

    def forward_once(self, batch: int = 20, *, ignore_backoff: bool = False) -> tuple[int, float | None]:
        """Send the due items in order. Returns (delivered, backoff in s if the platform is unavailable)."""
        delivered = 0
        for item in self.outbox.next_batch(batch, now=float("inf") if ignore_backoff else None):
            if self._stop.is_set():
                break
            try:
                self._send(item)
            except PlatformUnavailable as e:
                self._mark(False, str(e))
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
                error = f"internal error: {type(e).__name__}"
                if item.attempts + 1 >= _MAX_INTERNAL_ERRORS:
                    self.outbox.reject(item.idempotency_key, error)
                    continue
                self.outbox.defer(item.idempotency_key, error, self.backoff_cap_s)
                return delivered, self.backoff_cap_s
            self._mark(True)
            delivered += 1
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
                self._mark(False, str(e))
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

    def _run(self) -> None:
        kicked = True  # a fresh start knows nothing of the WAN: try once now, whatever the old backoff said
        while not self._stop.is_set():
            self._wake.clear()
            try:
                delivered, delay = self.forward_once(ignore_backoff=kicked)
                if delay is None and time.monotonic() >= self._next_refresh:
                    self._next_refresh = time.monotonic() + self.refresh_interval_s
                    if self.refresh_statuses() < 0:
                        delay = self.backoff_s()
            except Exception:  # the database or a bug: keep the thread alive, try again later
                log.exception("forwarder loop failed")
                delivered, delay = 0, self.backoff_cap_s
            kicked = False
            if delay is not None:
                self._kick.clear()
                kicked = self._kick.wait(delay)
            elif delivered == 0:
                self._wake.wait(self.idle_poll_s)
