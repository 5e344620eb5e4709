"""A CUPS scheduler seen through its own command-line clients.

Why the clients and not pycups or a hand-written IPP encoder: `lp` and `cancel` (Debian cups-client)
authenticate the way every Debian box does (peer credentials on the local socket, local certificates
over loopback), pycups is a C extension that would have to be built against libcups in the venv, and
`ipptool` (cups-ipp-utils) answers any IPP query as an XML plist that `plistlib` reads without
scraping text meant for people. Every call has a timeout; a scheduler that does not answer is a
`CupsUnavailable`, never a hang.
"""

from __future__ import annotations

import os
import plistlib
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# RFC 8011 job-state enum
JOB_STATES = {3: "pending", 4: "pending-held", 5: "processing", 6: "processing-stopped",
              7: "canceled", 8: "aborted", 9: "completed"}
FINISHED = ("canceled", "aborted", "completed")
PRINTER_STATES = {3: "idle", 4: "processing", 5: "stopped"}
A4 = "iso_a4_210x297mm"

_REQUEST_ID_RE = re.compile(r"request id is (?P<queue>\S+)-(?P<id>[0-9]+) ")
_JOB_ATTRS = "job-state,job-state-reasons,job-state-message,job-printer-state-reasons"
_PRINTER_ATTRS = "printer-state,printer-state-reasons,printer-state-message,printer-is-accepting-jobs,device-uri"
_TEST = """{{
  OPERATION {op}
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  {extra}
  ATTR keyword requested-attributes {attrs}
  STATUS successful-ok
}}
"""


class CupsError(Exception):
    """CUPS refused a request (bad queue, a job it will not take); the message says why."""


class CupsUnavailable(CupsError):
    """The scheduler (or a printer asked directly) did not answer."""


class _NotFound(CupsError):
    pass


@dataclass(frozen=True)
class JobState:
    state: str                     # one of JOB_STATES' values
    reasons: tuple[str, ...]
    message: str = ""

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


@dataclass(frozen=True)
class PrinterState:
    state: str                     # idle, processing, stopped
    reasons: tuple[str, ...]       # as sent, with their -error/-warning/-report suffixes
    accepting: bool
    message: str = ""
    device_uri: str = ""           # only the scheduler's queues have one


def _values(attrs: dict, name: str) -> tuple[str, ...]:
    value = attrs.get(name, ())
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


class CupsClient:
    """One queue on one scheduler. `server` is what CUPS_SERVER takes (host:port or a socket path);
    None means the system's default scheduler."""

    def __init__(self, queue: str, server: str | None = None, *, timeout_s: float = 5.0):
        self.queue = queue
        self.server = server
        self.timeout_s = timeout_s

    @property
    def queue_uri(self) -> str:
        host = self.server or "localhost"
        if host.startswith("/"):
            host = "localhost"  # ipptool reaches the socket through CUPS_SERVER, the URI names the queue
        return f"ipp://{host}/printers/{self.queue}"

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}  # lp's "request id is" line is parsed
        if self.server:
            env["CUPS_SERVER"] = self.server
        return env

    def _run(self, args: Sequence[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(list(args), input=stdin, capture_output=True, env=self._env(),
                                  timeout=self.timeout_s, check=False)
        except subprocess.TimeoutExpired as e:
            raise CupsUnavailable(f"{args[0]} did not finish within {self.timeout_s:.0f} s") from e
        except FileNotFoundError as e:
            raise CupsUnavailable(f"{args[0]} is not installed (Debian cups-client / cups-ipp-utils)") from e

    # -- jobs -----------------------------------------------------------------------------------
    def submit(self, pdf: Path, title: str, *, copies: int = 1) -> int:
        """Queue a PDF on A4; returns the CUPS job id."""
        r = self._run(["lp", "-d", self.queue, "-t", title, "-n", str(copies), "-o", f"media={A4}",
                       "-o", "document-format=application/pdf", "--", str(pdf)])
        out = r.stdout.decode(errors="replace")
        match = _REQUEST_ID_RE.search(out)
        if r.returncode != 0 or not match:
            self._raise(r)
        return int(match["id"])

    def cancel(self, job_id: int) -> None:
        r = self._run(["cancel", f"{self.queue}-{job_id}"])
        if r.returncode != 0 and b"already" not in r.stderr and b"does not exist" not in r.stderr:
            self._raise(r)

    def job(self, job_id: int) -> JobState | None:
        """The job as the scheduler sees it; None once it no longer knows it."""
        try:
            attrs = self._query("Get-Job-Attributes", self.queue_uri, _JOB_ATTRS, f"ATTR integer job-id {job_id}")
        except _NotFound:
            return None
        state = JOB_STATES.get(int(attrs.get("job-state", 0)), "unknown")
        reasons = _values(attrs, "job-state-reasons") + _values(attrs, "job-printer-state-reasons")
        return JobState(state, reasons, str(attrs.get("job-state-message", "")))

    # -- printers -------------------------------------------------------------------------------
    def queue_state(self) -> PrinterState:
        return _printer_state(self._query("Get-Printer-Attributes", self.queue_uri, _PRINTER_ATTRS))

    def device_state(self, uri: str) -> PrinterState:
        """Ask an IPP printer itself (the queue's device): CUPS hears from it only while a job runs."""
        return _printer_state(self._query("Get-Printer-Attributes", uri, _PRINTER_ATTRS))

    # -- plumbing -------------------------------------------------------------------------------
    def _query(self, op: str, uri: str, attrs: str, extra: str = "") -> dict:
        test = _TEST.format(op=op, attrs=attrs, extra=extra).encode()
        r = self._run(["ipptool", "-X", "-T", str(max(1, int(self.timeout_s))), uri, "/dev/stdin"], stdin=test)
        try:
            report = plistlib.loads(r.stdout)
        except Exception as e:
            raise CupsUnavailable(f"ipptool gave no report: {r.stderr.decode(errors='replace').strip()}") from e
        tests = report.get("Tests") or []
        if not tests:
            raise CupsUnavailable(str(report.get("ErrorMessage") or "no answer from " + uri))
        result = tests[0]
        status = str(result.get("StatusCode", ""))
        if not status.startswith("successful"):
            messages = [str(a.get("status-message")) for a in result.get("ResponseAttributes", [])
                        if "status-message" in a]
            error = _NotFound if status == "client-error-not-found" else CupsError
            raise error(f"{op} on {uri}: {status}" + (f" ({messages[0]})" if messages else ""))
        merged: dict = {}
        for group in result.get("ResponseAttributes", []):
            merged.update(group)
        return merged

    def _raise(self, r: subprocess.CompletedProcess[bytes]) -> None:
        text = (r.stderr or r.stdout).decode(errors="replace").strip()
        if any(s in text for s in ("Unable to connect", "Connection refused", "scheduler is not running",
                                   "Host is down", "No such file")):
            raise CupsUnavailable(text)
        raise CupsError(text or f"exit status {r.returncode}")


def _printer_state(attrs: dict) -> PrinterState:
    return PrinterState(state=PRINTER_STATES.get(int(attrs.get("printer-state", 0)), "unknown"),
                        reasons=tuple(r for r in _values(attrs, "printer-state-reasons") if r != "none"),
                        accepting=bool(attrs.get("printer-is-accepting-jobs", True)),
                        message=str(attrs.get("printer-state-message", "")),
                        device_uri=str(attrs.get("device-uri", "")))
