"""Trusted time for kiosks whose wall clock may be anything (no RTC battery, offline boot: 1970, 2019, +3 years).

How time is trusted (docs/security.md, "Signed commands, configuration and time"):
- The system clock is trusted when the kernel/timedatectl says it is NTP-synchronised *and* it is not behind
  the high-water mark (a synchronised clock earlier than a time already proven is still wrong).
- Otherwise a signed time seen in this boot (a command's or content announcement's `issued_at`, a manifest's
  `created`, all taken only after their signature verified) carried forward by the monotonic clock is a
  trusted lower bound; a system clock within TOLERANCE_S of it is corroborated and used as is.
- The newest signed time ever seen is persisted as a high-water mark that never goes back (Uptane's rule:
  never trust a clock earlier than what was already seen). Only signed times feed it — never the system clock,
  so a clock that once ran years ahead cannot lock a kiosk out for years.
- With no trusted time, expiry is checked only against the high-water mark (anything that expired before a
  time we have proven is expired); a wrong clock alone can never make an offline kiosk refuse content or
  commands. Monotonic versions carry the anti-rollback weight.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.durable import atomic_write
from kiosk.status import Level, Status

log = logging.getLogger("kiosk.trusted_time")

TOLERANCE_S = 300.0  # a clock this close to a proven time counts as agreeing with it
NTP_CACHE_S = 60.0   # timedatectl is a subprocess: ask at most this often

# bo: to be reviewed by the translators
ST_TRUSTED = Status(Level.OK, "clock_trusted", "系统时间可信", "དུས་ཚོད་ཡིད་ཆེས་རུང་།", "Clock trusted")
ST_NOT_TRUSTED = Status(Level.DEGRADED, "clock_not_trusted", "系统时间未经校准，不检查有效期",
                        "དུས་ཚོད་ཚད་འཛིན་བྱས་མེད།", "Clock not trusted; expiry is not enforced")
ST_BEHIND = Status(Level.FAULT, "clock_behind", "系统时间早于已验证的时间，时钟有误",
                   "དུས་ཚོད་ར་སྤྲོད་བྱས་པའི་དུས་ཚོད་ལས་སྔ་བ།", "Clock is behind a time already proven; it is wrong")


def parse_time(value: str | datetime) -> datetime:
    """UTC datetime from ISO-8601 (naive = UTC); ValueError when it is not a date."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


@dataclass(frozen=True)
class Reading:
    system: datetime
    at: datetime | None          # the trusted time; None when nothing vouches for it
    source: str                  # ntp | corroborated | signed | none
    floor: datetime | None       # the persisted high-water mark
    reference: datetime | None   # what the system clock was compared with (for the offset)

    @property
    def trusted(self) -> bool:
        return self.at is not None

    @property
    def wall_clock_verified(self) -> bool:
        """The system clock itself is right (NTP, or within the tolerance of a signed time), not merely a
        lower bound carried forward from a signed time that may have arrived late."""
        return self.source in ("ntp", "corroborated")

    @property
    def offset_s(self) -> float | None:
        if self.source == "ntp":
            return 0.0
        return round((self.system - self.reference).total_seconds(), 1) if self.reference else None

    @property
    def behind(self) -> bool:
        return self.reference is not None and self.system < self.reference - timedelta(seconds=TOLERANCE_S)

    def status(self) -> Status:
        if self.behind:
            return ST_BEHIND
        return ST_TRUSTED if self.wall_clock_verified else ST_NOT_TRUSTED

    def as_dict(self) -> dict:
        return {"trusted": self.trusted, "source": self.source, "offset_s": self.offset_s,
                "high_water": self.floor.isoformat(timespec="seconds") if self.floor else None,
                "status": self.status().as_dict()}


class TrustedClock:
    """`now()`, `is_trusted()`, `observe_signed_time(ts)`, `expired(expires)`; thread-safe."""

    def __init__(self, state_path: Path | None, ntp: Callable[[], bool | None] = lambda: None, *,
                 tolerance_s: float = TOLERANCE_S) -> None:
        self.state_path = state_path
        self._ntp_probe = ntp
        self._ntp: tuple[float, bool | None] | None = None
        self.tolerance = timedelta(seconds=tolerance_s)
        self._lock = threading.Lock()
        self._seen: tuple[datetime, float] | None = None  # newest signed time this boot, monotonic then
        self._floor = self._load()

    def _load(self) -> datetime | None:
        if self.state_path is None or not self.state_path.exists():
            return None
        try:
            return parse_time(json.loads(self.state_path.read_text(encoding="utf-8"))["high_water"])
        except (OSError, ValueError, KeyError, TypeError) as e:  # a damaged file: start over, say so
            log.warning("trusted-time state unreadable; starting without a high-water mark",
                        extra={"error": type(e).__name__})
            return None

    def _ntp_synced(self) -> bool | None:
        mono = time.monotonic()
        if self._ntp is None or mono - self._ntp[0] > NTP_CACHE_S:
            try:
                self._ntp = (mono, self._ntp_probe())
            except Exception:
                self._ntp = (mono, None)
        return self._ntp[1]

    def observe_signed_time(self, ts: str | datetime) -> None:
        """A time from a payload whose signature verified: time is at least this now."""
        try:
            t = parse_time(ts)
        except ValueError:
            return
        mono = time.monotonic()
        with self._lock:
            if self._seen is None or t > self._seen[0] + timedelta(seconds=mono - self._seen[1]):
                self._seen = (t, mono)
            if self._floor is not None and t <= self._floor:
                return
            self._floor = t
        if self.state_path is not None:
            try:
                atomic_write(self.state_path, json.dumps({"high_water": t.isoformat()}).encode())
            except OSError as e:  # a full disk: the mark stays in memory for this boot
                log.warning("high-water mark not saved", extra={"error": e.strerror or str(e)})

    def now(self) -> Reading:
        system = datetime.now(UTC)
        with self._lock:
            floor, seen = self._floor, self._seen
        proven = seen[0] + timedelta(seconds=time.monotonic() - seen[1]) if seen else None
        proven_floor = floor if floor is not None and (proven is None or floor > proven) else proven
        behind = proven_floor is not None and system < proven_floor - self.tolerance
        if self._ntp_synced() and not behind:
            return Reading(system, system, "ntp", floor, proven_floor)
        if proven is not None:
            if abs(system - proven) <= self.tolerance:
                return Reading(system, system, "corroborated", floor, proven)
            return Reading(system, proven, "signed", floor, proven)
        return Reading(system, None, "none", floor, floor if behind else None)

    def is_trusted(self) -> bool:
        return self.now().trusted

    def stamp(self) -> str | None:
        """Now as UTC ISO-8601 to the second for a record a resident keeps (a receipt), or None: a time
        printed must be right, so only a verified wall clock counts, never a lower bound."""
        r = self.now()
        return r.system.isoformat(timespec="seconds") if r.wall_clock_verified else None

    def expired(self, expires: str | datetime) -> bool:
        """True when `expires` has provably passed: before the trusted time, or (no trusted time) before the
        high-water mark. A date that cannot be read counts as expired."""
        try:
            exp = parse_time(expires)
        except ValueError:
            return True
        r = self.now()
        ref = r.at or r.floor
        return ref is not None and exp <= ref
