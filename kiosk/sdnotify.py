"""systemd's notify protocol (sd_notify) in a few lines: a datagram to $NOTIFY_SOCKET.

Used by the edge daemon (pings from its asyncio loop) and the kiosk UI (pings from the Qt event loop).
Without systemd (no NOTIFY_SOCKET) every call is a no-op, so both run the same by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

log = logging.getLogger(__name__)


def notify(message: str) -> bool:
    """Send e.g. "READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=..."; True if it was sent."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return False
    if addr.startswith("@"):  # abstract namespace
        addr = "\0" + addr[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(addr)
            s.sendall(message.encode())
    except OSError as e:
        log.warning("sd_notify failed", extra={"error": str(e)})
        return False
    return True


def watchdog_interval(*, child_of_main: bool = False) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WatchdogSec), or None when no watchdog is set for us.

    systemd names the process that must ping in WATCHDOG_PID (its main process). `child_of_main`: we are
    that process's child and ping on its behalf — the kiosk UI under cage, where cage is the main process
    and the unit has NotifyAccess=all.
    """
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid() and not (child_of_main and int(pid) == os.getppid()):
        return None
    try:
        return max(0.1, int(usec) / 1e6 / 2)
    except ValueError:
        return None


async def keepalive(stop: asyncio.Event, ready: str = "READY=1") -> None:
    """For an asyncio daemon with nothing more to check than its loop (the fleet monitor): `ready` once,
    then WATCHDOG=1 from this loop until `stop` is set — a blocked loop stops the pings."""
    notify(ready)
    interval = watchdog_interval()
    while interval and not stop.is_set():
        notify("WATCHDOG=1")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
