"""A hall's A4 printer on one machine, for tests and the demo: a CUPS scheduler of its own (`cupsd -f`,
own config and spool directories, a free loopback port, never the system's) with one queue whose
device is an IPP Everywhere printer simulated by `ippeveprinter` (Debian cups-ipp-utils).

Faults are the printer's own: `media_empty()` empties its tray through its web form (it then holds
the job with media-empty/media-needed until paper is loaded); `faults("cover-open")` or
`faults("media-jam")` stop its engine (devices/a4/sim_command.py) before the next page; `away()`
kills it, as a printer switched off mid-job, and `back()` starts it again on the same address.
Every finished job lands as a PDF in `printed_dir`.

Debian's ippeveprinter refuses to start without a D-Bus system bus for Avahi, so a private
dbus-daemon runs beside it (it advertises nothing: `-r off`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from devices.a4.sim_command import FAULT_FILE, PRINTED_DIR
from kiosk.lifecycle import child_dies_with_parent
from kiosk.netutil import free_port

QUEUE = "hall-a4"
_START_S = 10.0  # how long a process may take to answer on its port
_BINARIES = ("cupsd", "lpadmin", "ippeveprinter", "ipptool", "dbus-daemon")
_TRAY_FULL = 250

_CUPSD_CONF = """Listen 127.0.0.1:{port}
LogLevel warn
MaxLogSize 1m
Browsing No
BrowseLocalProtocols none
WebInterface No
DefaultAuthType None
JobRetryInterval 1
PreserveJobFiles No
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""
_CUPS_FILES_CONF = """ServerRoot {root}
RequestRoot {root}/spool
CacheDir {root}/cache
StateDir {root}/state
TempDir {root}/tmp
Printcap {root}/printcap
AccessLog {root}/log/access_log
ErrorLog {root}/log/error_log
PageLog {root}/log/page_log
"""
_BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <policy context="default"><allow send_destination="*"/><allow receive_sender="*"/><allow own="*"/></policy>
</busconfig>
"""


class A4SimError(RuntimeError):
    pass


def missing_binaries() -> list[str]:
    """What must be installed (Debian cups-daemon, cups-client, cups-ipp-utils, dbus) and is not."""
    return [b for b in _BINARIES if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]


def _which(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"



def _dies_with_us():
    """PR_SET_PDEATHSIG for a child, so a SIGKILLed demo leaves no cupsd behind. The signal follows the
    *thread* that forked: a printer switched back on from a short-lived thread (a test's timer) would die
    with that thread, so only children started on the main thread get it."""
    return child_dies_with_parent if threading.current_thread() is threading.main_thread() else None

def _wait_port(port: int, proc: subprocess.Popen, what: str, log: Path) -> None:
    import socket

    deadline = time.monotonic() + _START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise A4SimError(f"{what} exited with {proc.returncode}: {log.read_text(errors='replace')[-800:]}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise A4SimError(f"{what} did not listen on port {port} within {_START_S:.0f} s")


def _stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """Stop a process this module started, with its children (it leads its own process group)."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


class A4Sim:
    """cupsd + ippeveprinter + their D-Bus, all under `root_dir`; `start()` returns self."""

    def __init__(self, root_dir: Path | str | None = None, *, queue: str = QUEUE,
                 printed_dir: Path | str | None = None, page_s: float = 0.1):
        self._own_root = root_dir is None
        self.root = Path(root_dir) if root_dir else Path(tempfile.mkdtemp(prefix="a4sim-"))
        self.queue = queue
        self.printer_dir = self.root / "printer"
        self.printed_dir = Path(printed_dir) if printed_dir else self.printer_dir / PRINTED_DIR
        self.page_s = page_s  # how long the printer takes per page
        self.cups_port = 0
        self.printer_port = 0
        self._bus: subprocess.Popen | None = None
        self._printer: subprocess.Popen | None = None
        self._cupsd: subprocess.Popen | None = None
        self._run_dir: Path | None = None

    # -- addresses ------------------------------------------------------------------------------
    @property
    def cups_server(self) -> str:
        """What CUPS clients take as CUPS_SERVER / `lp -h`."""
        return f"127.0.0.1:{self.cups_port}"

    @property
    def device_uri(self) -> str:
        return f"ipp://127.0.0.1:{self.printer_port}/ipp/print"

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> A4Sim:
        if missing := missing_binaries():
            raise A4SimError("missing programs: " + ", ".join(missing)
                             + " (Debian cups-daemon cups-client cups-ipp-utils dbus)")
        for d in (self.printer_dir / "spool", self.printed_dir):
            d.mkdir(parents=True, exist_ok=True)
        # Short and traversable: a socket path has a 108-byte limit, and cupsd (run as root) runs its
        # backends as user lp, who cannot enter a private directory such as pytest's tmp_path.
        self._run_dir = Path(tempfile.mkdtemp(prefix="a4sim-"))
        self._run_dir.chmod(0o755)
        try:
            self._start_bus()
            self.printer_port = free_port()
            self.back()
            self._start_cupsd()
            self._add_queue()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for proc in (self._cupsd, self._printer, self._bus):
            _stop(proc)
        self._cupsd = self._printer = self._bus = None
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> A4Sim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_bus(self) -> None:
        bus_dir = self._run_dir / "dbus"
        bus_dir.mkdir(parents=True, exist_ok=True)
        self._bus_socket = bus_dir / "system_bus_socket"
        conf = bus_dir / "bus.conf"
        conf.write_text(_BUS_CONF.format(socket=self._bus_socket))
        log = bus_dir / "dbus.log"
        self._bus = subprocess.Popen([_which("dbus-daemon"), f"--config-file={conf}", "--nofork"],
                                     stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_dies_with_us())
        deadline = time.monotonic() + _START_S
        while not self._bus_socket.exists():
            if self._bus.poll() is not None or time.monotonic() > deadline:
                raise A4SimError(f"dbus-daemon did not start: {log.read_text(errors='replace')[-400:]}")
            time.sleep(0.02)

    def _command(self) -> Path:
        """ippeveprinter runs one executable with the job file: a wrapper around our engine."""
        path = self.printer_dir / "engine.sh"
        path.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m devices.a4.sim_command \"$@\"\n")
        path.chmod(0o755)
        return path

    def back(self) -> None:
        """Switch the printer on (again), on the same port; its tray is full of A4 paper."""
        if self._printer is not None and self._printer.poll() is None:
            return
        log = self.printer_dir / "ippeveprinter.log"
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={self._bus_socket}",
               "A4SIM_DIR": str(self.printer_dir), "A4SIM_PRINTED": str(self.printed_dir),
               "A4SIM_URI": self.device_uri,
               "A4SIM_PAGE_S": str(self.page_s),
               "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._printer = subprocess.Popen(
            [_which("ippeveprinter"), "-n", "localhost", "-p", str(self.printer_port), "-r", "off",
             "-d", str(self.printer_dir / "spool"), "-f", "application/pdf", "-m", "Hall A4 (simulated)",
             "-c", str(self._command()), "HallA4"],
            stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, start_new_session=True,
            preexec_fn=_dies_with_us())
        _wait_port(self.printer_port, self._printer, "ippeveprinter", log)
        self.tray(_TRAY_FULL)

    def away(self) -> None:
        """The printer is switched off or unplugged: it and its engine stop at once."""
        _stop(self._printer, signal.SIGKILL)
        self._printer = None

    def _start_cupsd(self) -> None:
        cups = self._run_dir / "cups"
        for d in ("spool", "cache", "state", "tmp", "log"):
            (cups / d).mkdir(parents=True, exist_ok=True)
        self.cups_port = free_port()
        (cups / "cupsd.conf").write_text(_CUPSD_CONF.format(port=self.cups_port))
        (cups / "cups-files.conf").write_text(_CUPS_FILES_CONF.format(root=cups))
        log = cups / "log" / "cupsd.out"
        self._cupsd = subprocess.Popen(
            [_which("cupsd"), "-f", "-c", str(cups / "cupsd.conf"), "-s", str(cups / "cups-files.conf")],
            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_dies_with_us(),
            env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={self._bus_socket}"})
        _wait_port(self.cups_port, self._cupsd, "cupsd", cups / "log" / "error_log")

    def _add_queue(self) -> None:
        # A raw queue: the PDF goes to the printer as it is (IPP Everywhere printers take PDF); a
        # hall's real queue is made with `lpadmin -m everywhere` and works the same for the driver.
        subprocess.run([_which("lpadmin"), "-h", self.cups_server, "-p", self.queue, "-v", self.device_uri,
                        "-E", "-o", "printer-error-policy=retry-current-job"],
                       check=True, capture_output=True, timeout=_START_S)

    # -- faults ---------------------------------------------------------------------------------
    def tray(self, sheets: int) -> None:
        """Set the sheets in the main tray through the printer's web form (0 = media-empty)."""
        query = f"size1=iso_a4_210x297mm&type1=stationery&level1={sheets}&size3=&type3=&level3=-2"
        with urllib.request.urlopen(f"http://127.0.0.1:{self.printer_port}/media?{query}", timeout=5) as r:
            if b"Media updated" not in r.read():
                raise A4SimError("the printer did not take the media change")

    def media_empty(self) -> None:
        self.tray(0)

    def faults(self, *reasons: str) -> None:
        """Engine faults as IPP printer-state-reasons (cover-open, door-open, media-jam...); none clears."""
        path = self.printer_dir / FAULT_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(f"{r}\n" for r in reasons))
        tmp.replace(path)

    def received(self) -> list[Path]:
        """The jobs the printer has taken in (its spool), printed or not."""
        return sorted((self.printer_dir / "spool").glob("*.pdf"))

    def printed(self) -> list[Path]:
        """The PDFs the printer finished, oldest first."""
        return sorted(self.printed_dir.glob("*.pdf"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a CUPS scheduler with a simulated A4 printer.")
    parser.add_argument("--dir", type=Path, help="working directory (default: a temporary one)")
    parser.add_argument("--printed", type=Path, help="where finished jobs land as PDFs")
    args = parser.parse_args(argv)
    sim = A4Sim(args.dir, printed_dir=args.printed).start()
    print(f"CUPS_SERVER={sim.cups_server} queue={sim.queue} printer={sim.device_uri} "
          f"printed={sim.printed_dir}", flush=True)
    stop = False

    def _on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        while not stop:
            time.sleep(0.2)
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
