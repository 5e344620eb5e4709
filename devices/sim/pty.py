"""A serial device on a pseudo-terminal: the simulators' side of the wire.

The driver under test opens `path` with pyserial exactly as it opens /dev/ttyUSB0. `path` is a
stable symlink to the pty slave, so an unplug (the pty goes away) and a replug (a new pty,
the symlink moved) look to the driver like a USB-serial adapter pulled and put back.
"""

from __future__ import annotations

import contextlib
import os
import select
import tempfile
import termios
import threading
import tty
from collections.abc import Callable
from pathlib import Path


class PtyDevice:
    """Runs `on_bytes(data) -> reply bytes | None` for everything the driver writes."""

    def __init__(self, name: str, on_bytes: Callable[[bytes], bytes | None], link_dir: Path | None = None):
        self.name = name
        self._on_bytes = on_bytes
        self._dir = Path(link_dir or tempfile.mkdtemp(prefix="kiosk-sim-"))
        self.path = str(self._dir / name)
        self._master: int | None = None
        self._slave: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._write_lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> PtyDevice:
        self.plug()
        return self

    def plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self._master, self._slave = master, slave
        tmp = self.path + ".new"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.path)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"sim-{self.name}", daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        """The device disappears: the port path is gone and open handles fail."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    def stop(self) -> None:
        self.unplug()

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def __enter__(self) -> PtyDevice:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- io -------------------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        """Write bytes to the driver unprompted (e.g. garbage on the line)."""
        if self._master is None:
            return
        with self._write_lock:
            os.write(self._master, data)

    def _loop(self) -> None:
        master = self._master
        while not self._stop.is_set() and master is not None:
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                continue
            reply = self._on_bytes(data)
            if reply:
                try:
                    self.send(reply)
                except OSError:
                    return
