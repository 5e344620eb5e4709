"""A throwaway Mosquitto for the fleet bench, on a free loopback port (never the machine's broker on 1883).

The same approach as tests/fixtures_mqtt.Broker (bench/ does not import tests/): its own config and
directory, no persistence (a bench run needs none), and the open-files limit raised first, since the
broker inherits it and holds one socket per simulated kiosk.
"""

from __future__ import annotations

import getpass
import resource
import socket
import subprocess
import time
from pathlib import Path

from kiosk.lifecycle import child_dies_with_parent

MOSQUITTO = "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class BenchBroker:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "mosquitto.log"
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            f"user {getpass.getuser()}\nmax_queued_messages 100000\n"
            f"log_dest file {self.log}\nlog_type error\nlog_type warning\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def __enter__(self) -> BenchBroker:
        raise_nofile()
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=child_dies_with_parent)
        deadline = time.monotonic() + 20
        while not self._accepts():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"mosquitto did not start: {self.log.read_text(errors='replace')[-300:]}"
                                   if self.log.exists() else "mosquitto did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None
