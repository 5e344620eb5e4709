"""Housekeeping calls to the edge, each on its own thread so none of them delays a resident's submit.

HealthReporter: the latest status per component, coalesced; at most one report in flight, so a
flapping device or a hanging edge endpoint costs one request, not a queue of them.
ShownReporter: tells the edge which tracking numbers a resident saw on screen; kept and retried
while the edge is down. Neither ever tells the resident about a failure.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kiosk.edge_client import EdgeRejected

log = logging.getLogger(__name__)


class _Sender:
    """One daemon thread that runs `_run` and sleeps on `_cond` until there is work or `close()`."""

    def __init__(self, name: str) -> None:
        self._closed = False
        self._cond = threading.Condition()
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _run(self) -> None:
        raise NotImplementedError


class HealthReporter(_Sender):
    """`send(statuses, voice)`: voice is the latest voice coverage per language (fleet_wire.VoiceCoverage dicts)."""

    def __init__(self, send: Callable[[dict[str, dict], dict[str, dict]], None]) -> None:
        self._send = send
        self._latest: dict[str, dict] = {}
        self._voice: dict[str, dict] = {}
        self._dirty = False
        self.reports_sent = 0
        super().__init__("edge-health")

    def report(self, statuses: dict[str, dict]) -> None:
        """Newer statuses replace older ones of the same component; the next report carries them all."""
        with self._cond:
            self._latest.update(statuses)
            self._dirty = True
            self._cond.notify()

    def report_voice(self, coverage: dict[str, dict]) -> None:
        """How each language's prompts are heard (clip, stand-in, synthetic, silent); rides with the statuses."""
        with self._cond:
            self._voice = dict(coverage)
            self._dirty = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._dirty or self._closed)
                if self._closed:
                    return
                snapshot, voice, self._dirty = dict(self._latest), dict(self._voice), False
            try:
                self._send(snapshot, voice)
                self.reports_sent += 1
            except Exception as e:  # the next change sends the latest statuses again
                log.info("health not reported", extra={"error": type(e).__name__})


class ShownReporter(_Sender):
    """`mark(tn)`: the edge learns that tn's receipt was seen; retried every `retry_s` until it answers."""

    def __init__(self, edge: Any, retry_s: float = 30.0) -> None:
        self._edge = edge
        self.retry_s = retry_s
        self._pending: list[str] = []
        super().__init__("edge-shown")

    @property
    def pending(self) -> list[str]:
        with self._cond:
            return list(self._pending)

    def mark(self, tracking_number: str) -> None:
        with self._cond:
            if tracking_number not in self._pending:
                self._pending.append(tracking_number)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if self._closed:
                    return
                batch = list(self._pending)
            failed = False
            for tn in batch:
                try:
                    self._edge.submission_shown(tn)
                except EdgeRejected as e:
                    if e.status != 404:  # e.g. a token not yet accepted: try again later
                        failed = True
                        continue
                    log.warning("shown not recorded: unknown to the edge", extra={"tracking_number": tn})
                except Exception as e:
                    log.info("shown not reported yet", extra={"tracking_number": tn, "error": type(e).__name__})
                    failed = True
                    continue
                with self._cond:
                    self._pending.remove(tn)
            if failed:
                with self._cond:
                    self._cond.wait_for(lambda: self._closed, timeout=self.retry_s)
