"""What the agent measures itself: disk and memory use, uptime, software version (no provider needed)."""

from __future__ import annotations

import shutil
import time
from importlib import metadata
from pathlib import Path

_STARTED = time.monotonic()


def software_version() -> str:
    try:
        return metadata.version("township-kiosk")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "unknown"


def disk_used_pct(path: Path) -> float | None:
    """Use of the filesystem holding `path` (the data dir: a full disk stops the outbox and the spool)."""
    try:
        du = shutil.disk_usage(path)
    except OSError:
        return None
    return round(100.0 * du.used / du.total, 1) if du.total else None


def memory_used_pct(meminfo: Path = Path("/proc/meminfo")) -> float | None:
    """Host memory in use, MemAvailable-based (page cache counts as free, as `free` shows it)."""
    try:
        fields = {line.split(":")[0]: int(line.split()[1]) for line in meminfo.read_text().splitlines()
                  if len(line.split()) >= 2}
        total, avail = fields["MemTotal"], fields["MemAvailable"]
    except (OSError, KeyError, ValueError):
        return None
    return round(100.0 * (total - avail) / total, 1) if total else None


def uptime_s(proc_uptime: Path = Path("/proc/uptime")) -> float:
    """Host uptime (a reboot shows as a drop); the agent's own when /proc is not there."""
    try:
        return round(float(proc_uptime.read_text().split()[0]), 1)
    except (OSError, ValueError, IndexError):
        return round(time.monotonic() - _STARTED, 1)
