"""The resident's calls to the edge, off the GUI thread, their answers back as Qt signals.

Submit, lookup and feedback share one worker thread of their own; housekeeping (health reports,
"receipt shown" marks) runs on its own threads (ui.adapters.edge_paths), so a resident's call never
queues behind a health report hanging on the edge.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from kiosk.edge_client import EdgeClient
from ui.adapters.edge_paths import HealthReporter, ShownReporter

if TYPE_CHECKING:  # the flow engine loads with the first flow, not before the home screen
    from kiosk.flows import Flow, SubmitOutcome

log = logging.getLogger(__name__)


class EdgeCalls(QObject):
    submitted = Signal(object)  # kiosk.flows.SubmitOutcome
    looked_up = Signal()

    FORWARD_WAIT_S = 2.0  # how long the receipt waits to learn whether the platform has it already

    def __init__(self, edge: EdgeClient, kiosk_id: str) -> None:
        super().__init__()
        self.edge = edge
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="edge-resident")
        self.health = HealthReporter(lambda statuses, voice: edge.health(kiosk_id, statuses, voice=voice))
        self.shown = ShownReporter(edge)
        self.submit_in_flight = False  # a submit's POST may still land: nobody leaves meanwhile
        self.submitted.connect(self._submit_answered)  # before the screens' slots: they may leave

    def submit(self, flow: Flow) -> None:
        self.submit_in_flight = True

        def work() -> None:
            try:
                outcome = flow.submit()
                deadline = time.monotonic() + self.FORWARD_WAIT_S
                while outcome.ok and not flow.refresh_submission() and time.monotonic() < deadline:
                    time.sleep(0.2)
            except Exception:
                from kiosk.flows import SubmitOutcome  # loaded: the flow ran

                log.exception("submit crashed")
                flow.outcome_unknown = True
                outcome = SubmitOutcome(False, error="edge_unavailable")
            self.submitted.emit(outcome)

        self._pool.submit(work)

    def lookup(self, flow: Flow) -> None:
        def work() -> None:
            try:
                flow.lookup()
            except Exception:
                log.exception("lookup crashed")
            self.looked_up.emit()

        self._pool.submit(work)

    def feedback(self, rating: int, reasons: list[str], service_id: str | None, lang: str) -> None:
        def work() -> None:
            try:
                self.edge.feedback(rating, reasons, service_id, lang=lang)
            except Exception as e:  # feedback is nice to have; the resident is not told
                log.warning("feedback not sent", extra={"error": type(e).__name__})

        self._pool.submit(work)

    def _submit_answered(self, _outcome: SubmitOutcome) -> None:
        """The submit's answer reached the GUI thread: leaving is possible again."""
        self.submit_in_flight = False

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.health.close()  # a report hanging on the edge is not waited for
        self.shown.close()
