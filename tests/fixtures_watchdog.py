"""A systemd-style notify socket that records when each datagram arrived, on its own thread, so a test
can ask "did any WATCHDOG=1 come in while the loop was frozen?" even when the frozen loop is its own."""

from __future__ import annotations

import secrets
import socket
import threading
import time


class PingRecorder:
    """Binds an abstract-namespace datagram socket (the name goes in NOTIFY_SOCKET) and keeps
    (monotonic arrival time, message) for everything sent to it until close()."""

    def __init__(self) -> None:
        self.name = f"@kiosk-wd-{secrets.token_hex(6)}"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind("\0" + self.name[1:])
        self._sock.settimeout(0.05)
        self._lock = threading.Lock()
        self._got: list[tuple[float, str]] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ping-recorder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                data = self._sock.recv(4096)
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self._got.append((time.monotonic(), data.decode()))

    def messages(self) -> list[tuple[float, str]]:
        with self._lock:
            return list(self._got)

    def pings(self, after: float = 0.0, before: float = float("inf")) -> list[float]:
        """Arrival times of WATCHDOG=1 strictly between `after` and `before`."""
        return [t for t, m in self.messages() if "WATCHDOG=1" in m.split("\n") and after < t < before]

    def wait_for(self, text: str, timeout: float = 30.0, after: float = 0.0, count: int = 1) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(text in m.split("\n") for t, m in self.messages() if t > after) >= count:
                return True
            time.sleep(0.02)
        return False

    def sigstop_silences(self, proc, freeze_s: float) -> None:  # noqa: ANN001 - a subprocess.Popen
        """The whole process frozen (SIGSTOP) sends no ping for `freeze_s`; after SIGCONT pings come back."""
        import signal

        proc.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        time.sleep(freeze_s)
        resumed = time.monotonic()
        proc.send_signal(signal.SIGCONT)
        assert self.pings(after=stopped + 0.05, before=resumed) == []
        assert self.wait_for("WATCHDOG=1", after=resumed, count=2, timeout=10)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(2)
        self._sock.close()
