"""The relay between the fleet agent and the kiosk UI: the devices and the screen belong to the UI process,
so a fleet command that needs them (self_test, screenshot) is queued here for the UI to collect.

The agent's command handler calls `request(...)` on its worker thread and blocks until the UI answers or
the timeout passes (then `failed`, "kiosk UI did not answer"). The UI long-polls the edge API
(`GET /api/v1/kiosk/commands?wait=25`, served by `next_request` on the event loop) and posts its answer
(`answer`). A request nobody collected before its timeout is withdrawn, so a UI that comes back later
never runs a stale self-test. Thread-safe: one lock; event-loop waiters are woken with
`call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

RESULTS = ("done", "failed", "rejected")
DEFAULT_TIMEOUT_S = 60.0  # a self-test renders speech and asks every device: seconds, not minutes
MAX_PENDING = 8
NO_ANSWER = "kiosk UI did not answer"

Outcome = tuple[str, str, dict[str, Any]]  # (result, message, data), as an agent Handler returns it


@dataclass
class _Request:
    id: str
    kind: str
    args: dict[str, Any]
    kiosk_id: str | None  # whose UI may collect it; None: any caller (tests, a one-box hall)
    deadline: float  # time.monotonic()
    claimed: bool = False
    outcome: Outcome | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def doc(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "args": dict(self.args),
                "timeout_s": round(max(0.0, self.deadline - time.monotonic()), 1)}


class UnknownRequest(LookupError):
    """No pending request with that id (answered already, timed out, or never made)."""


class NotYours(PermissionError):
    """The request is for another kiosk's UI."""


class KioskCommandRelay:
    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, max_pending: int = MAX_PENDING) -> None:
        self.timeout_s = timeout_s
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._pending: dict[str, _Request] = {}  # insertion order = the order the UI gets them
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self.last_poll: float | None = None  # time.monotonic() of the UI's last poll: is a UI there?
        self._closed = False

    # --- the agent's side (blocking, any thread) --------------------------------------------------
    def request(self, kind: str, args: dict[str, Any], *, kiosk_id: str | None = None,
                timeout_s: float | None = None) -> Outcome:
        """Queue a request for the kiosk UI and wait for its answer; never raises."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        req = _Request(uuid.uuid4().hex, kind, dict(args), kiosk_id, time.monotonic() + timeout)
        with self._lock:
            self._expire_locked()
            if self._closed:
                return "failed", "the edge is stopping", {}
            if len(self._pending) >= self.max_pending:
                return "failed", f"{len(self._pending)} requests are already waiting for the kiosk UI", {}
            self._pending[req.id] = req
            self._wake_locked()
        log.info("kiosk request queued", extra={"request_id": req.id, "kind": kind})
        req.done.wait(timeout)
        with self._lock:
            self._pending.pop(req.id, None)
            outcome, claimed = req.outcome, req.claimed
        if outcome is not None:  # also an answer that landed just as the wait ran out
            return outcome
        log.warning("kiosk UI did not answer", extra={"request_id": req.id, "kind": kind, "claimed": claimed})
        why = "it took the request but gave no answer" if claimed else "nothing collected the request"
        return "failed", f"{NO_ANSWER} within {timeout:g} s ({why})", {}

    # --- the UI's side (the edge API, on the event loop) ------------------------------------------
    async def next_request(self, caller: str | None, wait_s: float,
                           still_there: Callable[[], bool] = lambda: True) -> dict[str, Any] | None:
        """The oldest uncollected request this caller may take, waiting up to wait_s for one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, wait_s)
        while True:
            event = asyncio.Event()
            with self._lock:
                self.last_poll = time.monotonic()
                self._expire_locked()
                if self._closed:
                    return None
                if still_there():  # a caller that hung up must not take a request into the void
                    for req in self._pending.values():
                        if not req.claimed and (req.kiosk_id is None or caller is None or req.kiosk_id == caller):
                            req.claimed = True
                            return req.doc()
                self._waiters.append((loop, event))
            left = deadline - loop.time()
            try:
                if left <= 0:
                    return None
                await asyncio.wait_for(event.wait(), left)
            except TimeoutError:
                return None
            finally:
                with self._lock:
                    if (loop, event) in self._waiters:
                        self._waiters.remove((loop, event))

    def answer(self, request_id: str, caller: str | None, outcome: Outcome) -> None:
        """The UI's answer; UnknownRequest / NotYours when it cannot be taken."""
        with self._lock:
            req = self._pending.get(request_id)
            if req is None or req.outcome is not None:
                raise UnknownRequest(request_id)
            if caller is not None and req.kiosk_id is not None and req.kiosk_id != caller:
                raise NotYours(request_id)
            req.outcome = outcome
            req.done.set()

    def close(self) -> None:
        """The edge is stopping: every waiting request is answered failed at once (nothing hangs a stop)."""
        with self._lock:
            self._closed = True
            for req in self._pending.values():
                if req.outcome is None:
                    req.outcome = ("failed", "the edge stopped before the kiosk UI answered", {})
                    req.done.set()
            self._wake_locked()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    # --- internals (under the lock) ---------------------------------------------------------------
    def _expire_locked(self) -> None:
        now = time.monotonic()
        for rid in [r.id for r in self._pending.values() if r.deadline <= now]:
            self._pending.pop(rid)

    def _wake_locked(self) -> None:
        for loop, event in self._waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed: its waiter is gone with it
                loop.call_soon_threadsafe(event.set)
