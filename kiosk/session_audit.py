"""Resident sessions in the audit trail: when one started and ended, which service, which language, how
it ended. Nothing about the resident: no card data, no form fields, no tracking number.

Entries are written on a worker thread: a session start is a resident's tap, and the UI thread must not
wait on an fsync or on the edge holding the log's write lock.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kiosk.audit import AuditLog

log = logging.getLogger(__name__)


class SessionAudit:
    def __init__(self, session: Any, audit: AuditLog) -> None:
        self.audit = audit
        self._session = session
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="session-audit")
        self._started = 0.0
        self._lang = session.lang
        self._service: str | None = None
        self._services = 0
        session.on_start.append(self._start)
        session.on_language.append(self._language)
        session.on_flow.append(self._flow)
        session.on_end.append(self._end)

    def _record(self, event: str, **fields: Any) -> None:
        self._pool.submit(self.audit.record, event, **fields)

    def _start(self) -> None:
        self._started, self._lang, self._service, self._services = time.monotonic(), self._session.lang, None, 0
        self._record("session_start", lang=self._lang)

    def _language(self, lang: str) -> None:
        self._lang = lang

    def _flow(self, flow: Any) -> None:
        service = getattr(getattr(flow, "service", None), "id", None)
        self._service = str(service)[:64] if service is not None else None
        self._services += 1

    def _end(self, reason: str) -> None:
        if not self._started:  # an end with no start (the kiosk just came up, a wipe at maintenance entry)
            return
        duration = round(time.monotonic() - self._started)
        self._started = 0.0
        self._record("session_end", reason=str(reason)[:32], lang=self._lang, service=self._service,
                     services=self._services, duration_s=duration)

    def close(self) -> None:
        """Write what is queued, then stop the worker."""
        self._pool.shutdown(wait=True)
