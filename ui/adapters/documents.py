"""The "print my certificate" desk: kiosk.flows.documents.DocumentsFlow on a worker thread of its own,
its answers back as Qt signals on the GUI thread.

Listing goes through the edge and printing follows the A4 job to completion (a minute when the tray
needs paper): neither may freeze a screen, and neither may queue behind a submit. One worker, so a
visit's calls run in order and `forget()` (the session ended) always runs after the calls before it:
a print already sent finishes, and then the resident's ID number and list are dropped.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from kiosk.flows.documents import DocumentsFlow, Entry
    from kiosk.status import Status

log = logging.getLogger(__name__)


class DocumentsDesk(QObject):
    listed = Signal(object)   # Result of identifying (LISTED, NONE_ISSUED, NOT_A_RECEIPT, OFFLINE)
    printed = Signal(object, object)  # Result of printing, the A4 printer's Status when it stopped (else None)

    def __init__(self, edge: Any, printer: Any) -> None:
        super().__init__()
        self.printer = printer
        self._edge = edge
        self._built: DocumentsFlow | None = None  # with the first visit: the flow engine loads after home
        self._lock = threading.Lock()  # the GUI thread (entries) and the worker may race to build it
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="documents")

    @property
    def _flow(self) -> DocumentsFlow:
        with self._lock:
            if self._built is None:
                from kiosk.flows.documents import DocumentsFlow

                self._built = DocumentsFlow(self._edge, self.printer)
            return self._built

    @property
    def entries(self) -> list[Entry]:
        """The resident's documents, as last listed (read on the GUI thread after `listed`)."""
        return list(self._flow.entries)

    def can_print(self, entry: Entry) -> bool:
        return self._flow.can_print(entry)

    def identify(self, *, id_number: str | None = None, tracking_number: str | None = None) -> None:
        """List the documents of the card's holder, or of the application a receipt names."""
        from kiosk.flows.documents import Outcome, Result

        def work() -> None:
            result = (self._flow.by_card(id_number) if id_number is not None
                      else self._flow.by_receipt(tracking_number or ""))
            self.listed.emit(result)
        self._submit(work, self.listed, lambda: (Result(Outcome.OFFLINE),))

    def print(self, serial: str) -> None:
        from kiosk.flows.documents import Outcome, Result

        def work() -> None:
            result = self._flow.print(serial)
            stopped: Status | None = None
            if result.outcome is Outcome.PRINTER_FAULT and self.printer is not None:
                stopped = self.printer.status_source.status()
            self.printed.emit(result, stopped)
        self._submit(work, self.printed, lambda: (Result(Outcome.PRINTER_FAULT, printer_code="job_failed"), None))

    def forget(self) -> None:
        self._pool.submit(self._forget)

    def _forget(self) -> None:  # on the worker, after the calls before it (which may have built the flow)
        if self._built is not None:
            self._built.forget()

    def _submit(self, work: Any, signal: Any, crashed: Any) -> None:
        def run() -> None:
            try:
                work()
            except Exception:  # the resident hears "try later / the counter", never a frozen screen
                log.exception("documents call crashed")
                signal.emit(*crashed())
        self._pool.submit(run)

    def close(self) -> None:
        self._forget()  # never used: nothing of a resident to drop
        self._pool.shutdown(wait=True, cancel_futures=True)
