"""A throwaway Mosquitto on a loopback port: for the demo, the tests and the benchmarks.

Never the machine's own broker on 1883: each one has its own config, port and (when asked for)
persistence directory, so stopping and starting it again behaves like a hall's broker restarting
(retained and queued QoS 1 messages kept). A production broker is configured by provisioning instead.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from pathlib import Path

from kiosk.lifecycle import child_dies_with_parent
from kiosk.netutil import free_port

MOSQUITTO = "/usr/sbin/mosquitto"


def mosquitto_path() -> str | None:
    """Debian's broker binary (package mosquitto), or None when it is not installed."""
    return MOSQUITTO if Path(MOSQUITTO).exists() else shutil.which("mosquitto")


class LocalBroker:
    def __init__(self, workdir: Path, port: int | None = None, *, persistence: bool = True,
                 max_queued_messages: int | None = None) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.conf = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        (workdir / "data").mkdir(parents=True, exist_ok=True)
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true",
                 f"persistence {'true' if persistence else 'false'}", f"persistence_location {workdir / 'data'}/",
                 # keeps a root-started broker as root so it can write its own directory; ignored otherwise
                 f"user {getpass.getuser()}", f"log_dest file {self.log}",
                 "log_type error", "log_type warning", "log_type notice"]
        if max_queued_messages:
            lines.append(f"max_queued_messages {max_queued_messages}")
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self, timeout_s: float = 20.0) -> LocalBroker:
        if self.proc is not None:
            raise RuntimeError("broker already running")
        binary = mosquitto_path()
        if binary is None:
            raise RuntimeError("mosquitto is not installed (Debian package mosquitto; `make demo`/`make test` "
                               "install it when run as root)")
        self.proc = subprocess.Popen([binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=child_dies_with_parent)
        deadline = time.monotonic() + timeout_s
        while not self.accepts():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = self.log.read_text(errors="replace")[-500:] if self.log.exists() else ""
                self.stop()
                raise RuntimeError(f"mosquitto did not start on port {self.port}: {log}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """SIGTERM: Mosquitto writes its persistence file on the way out (retained + queued messages)."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
        deadline = time.monotonic() + 10
        while self.accepts() and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
