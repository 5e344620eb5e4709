"""The hall's A4 printer through CUPS: submit a PDF, follow the job until the printer has printed it,
and report what stops it the way the receipt printer does (devices/a4/messages.py).

While a job runs its status comes from the scheduler (queue and job printer-state-reasons, relayed by
the CUPS backend) and, for an IPP printer, from the printer itself: CUPS hears nothing from an idle
printer, and it marks a job "completed" when a printer that lost the job comes back (its job history
is gone). So a job counts as printed only if it completed with the printer in sight the whole time.

A job that cannot print is cancelled at the scheduler and kept here (`pending_jobs`, the PDF in
memory) for `retry_pending()`. It is never printed again on its own: a certificate must not come out
of the printer after the resident has gone home. A fault that clears within `fault_grace_s` (paper
loaded, door closed) lets the job go on.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from devices.a4.cups import CupsClient, CupsError, CupsUnavailable, JobState, PrinterState
from devices.a4.messages import code_for_reasons, status_for
from kiosk.status import Level, Status, StatusSource

log = logging.getLogger(__name__)

COMPONENT = "a4_printer"
_UNCONFIRMED_REASONS = ("cups-ipp-missing-job-history", "cups-ipp-conformance-failure")


class A4Error(Exception):
    """The document was not printed (code is a status code); `job_id` names the job kept for retry."""

    def __init__(self, code: str, status: Status, job_id: str | None = None):
        super().__init__(f"{code}: {status.en}" + (f" (job {job_id} kept for retry)" if job_id else ""))
        self.code = code
        self.status = status
        self.job_id = job_id


@dataclass(eq=False)  # jobs are compared by identity
class A4Job:
    """A document to print, kept with its bytes so it can be sent again."""

    id: str
    title: str            # the job name CUPS logs: a document kind and serial, never a resident's name
    created: str          # UTC ISO-8601
    pdf: bytes = field(repr=False)
    copies: int = 1
    attempts: int = 0
    cups_job_id: int | None = None
    last_error: str | None = None


class A4Printer:
    """One CUPS queue. Thread-safe: one job at a time."""

    failure = A4Error  # what print_pdf raises when it did not print (kiosk/flows/documents.py catches it)

    def __init__(self, queue: str, server: str | None = None, *, poll_s: float = 0.25,
                 fault_grace_s: float = 15.0, job_timeout_s: float = 180.0, cups_timeout_s: float = 5.0):
        self.cups = CupsClient(queue, server, timeout_s=cups_timeout_s)
        self.poll_s = poll_s
        self.fault_grace_s = fault_grace_s
        self.job_timeout_s = job_timeout_s
        self.status_source = StatusSource(COMPONENT)
        self.pending_jobs: list[A4Job] = []
        self._lock = threading.Lock()

    # -- status ---------------------------------------------------------------------------------
    def _observe(self, job: JobState | None = None) -> tuple[str, bool]:
        """The status code now, and whether the printer itself could be reached (or needs not be)."""
        try:
            queue = self.cups.queue_state()
        except CupsUnavailable:
            return "not_answering", True
        device = self._device(queue)
        if job is None and device is not None:
            # Between jobs the queue keeps whatever its last backend reported (a jam long cleared):
            # the printer itself knows better.
            reasons = device.reasons
        else:
            reasons = queue.reasons + (job.reasons if job else ()) + (device.reasons if device else ())
        code = code_for_reasons(reasons)
        reachable = device is not None or not _asks_device(queue.device_uri)
        if code == "ok" and (not reachable or queue.state == "stopped" or not queue.accepting):
            code = "offline"
        return code, reachable

    def _device(self, queue: PrinterState) -> PrinterState | None:
        if not _asks_device(queue.device_uri):
            return None
        try:
            return self.cups.device_state(queue.device_uri)
        except CupsError:
            return None

    def _report(self, code: str) -> Status:
        status = status_for(code)
        self.status_source.set_status(status)
        return status

    def query_status(self) -> Status:
        """Ask the scheduler and the printer; updates `status_source`."""
        code, _ = self._observe()
        return self._report(code)

    # -- printing -------------------------------------------------------------------------------
    def print_pdf(self, pdf: bytes, title: str, *, copies: int = 1) -> A4Job:
        """Print a PDF on A4 and wait until it is printed. Raises A4Error, the job then kept."""
        if not pdf.startswith(b"%PDF-"):
            raise ValueError("print_pdf takes a PDF document")
        job = A4Job(id=uuid.uuid4().hex[:12], title=title, copies=copies, pdf=pdf,
                    created=datetime.now(UTC).isoformat(timespec="seconds"))
        self._run(job)
        return job

    def retry_pending(self) -> int:
        """Send the kept jobs again, oldest first, stopping at the first that fails; how many printed."""
        printed = 0
        for job in list(self.pending_jobs):
            try:
                self._run(job)
            except A4Error:
                break
            printed += 1
        return printed

    def _run(self, job: A4Job) -> None:
        with self._lock:
            job.attempts += 1
            code = self._print_locked(job)
            failed = code != "ok"
            if failed:
                self._keep(job, code)
            elif job in self.pending_jobs:
                self.pending_jobs.remove(job)
            now_code, _ = self._observe() if failed else ("ok", True)
        self._report(now_code)
        if failed:
            raise A4Error(code, status_for(code), job.id)
        log.info("A4 document printed", extra={"job": job.id, "cups_job": job.cups_job_id,
                                               "attempts": job.attempts})

    def _print_locked(self, job: A4Job) -> str:
        code, _ = self._observe()
        if status_for(code).level is Level.FAULT:
            return code  # a known fault: do not queue a job that would wait for it unattended
        stale = self._queue_reasons()
        try:
            job.cups_job_id = self._submit(job)
        except CupsUnavailable:
            return "not_answering"
        except CupsError as e:
            log.warning("CUPS refused the job", extra={"job": job.id, "error": str(e)})
            return "job_failed"
        code = self._follow(job.cups_job_id, stale)
        if code != "ok":
            self._cancel(job.cups_job_id)
        return code

    def _submit(self, job: A4Job) -> int:
        fd, name = tempfile.mkstemp(prefix="a4-", suffix=".pdf")  # 0600: the document is personal
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(job.pdf)
            return self.cups.submit(Path(name), job.title, copies=job.copies)
        finally:
            os.unlink(name)  # lp has sent the bytes to the scheduler by the time it returns

    def _queue_reasons(self) -> frozenset[str]:
        try:
            return frozenset(self.cups.queue_state().reasons)
        except CupsError:
            return frozenset()

    def _follow(self, cups_job_id: int, stale: frozenset[str]) -> str:
        """Poll until the job is printed ("ok") or fails; the status is reported on every change.
        `stale` are the queue's reasons left from earlier jobs: they say nothing about this one."""
        deadline = time.monotonic() + self.job_timeout_s
        fault_since: float | None = None
        lost_sight = False
        while True:
            try:
                job = self.cups.job(cups_job_id)
            except CupsUnavailable:
                job, code = None, "not_answering"
            else:
                code, reachable = self._observe(job)
                lost_sight = lost_sight or not reachable
            if job is None and code != "not_answering":
                return "job_unconfirmed"  # the scheduler forgot it: nobody can say it printed
            if job is not None and job.state == "completed":
                unconfirmed = lost_sight or any(r.startswith(_UNCONFIRMED_REASONS) for r in set(job.reasons) - stale)
                return "job_unconfirmed" if unconfirmed else "ok"
            if job is not None and job.state in ("canceled", "aborted"):
                return code if status_for(code).level is Level.FAULT else "job_failed"
            self._report(code)
            if status_for(code).level is Level.FAULT:
                fault_since = fault_since if fault_since is not None else time.monotonic()
                if time.monotonic() - fault_since >= self.fault_grace_s:
                    return code
            else:
                fault_since = None
            if time.monotonic() >= deadline:
                return code if status_for(code).level is Level.FAULT else "job_failed"
            time.sleep(self.poll_s)

    def _cancel(self, cups_job_id: int) -> None:
        try:
            self.cups.cancel(cups_job_id)
        except CupsError as e:  # the scheduler is gone: its job will not print on its own either
            log.warning("could not cancel the CUPS job", extra={"cups_job": cups_job_id, "error": str(e)})

    def _keep(self, job: A4Job, code: str) -> None:
        job.last_error = code
        if job not in self.pending_jobs:
            self.pending_jobs.append(job)
        log.warning("A4 job kept for retry", extra={"job": job.id, "code": code, "pending": len(self.pending_jobs)})


def _asks_device(uri: str) -> bool:
    return uri.startswith(("ipp://", "ipps://"))
