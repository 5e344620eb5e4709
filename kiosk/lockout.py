"""Maintenance PIN gate: a few tries, then a lockout that a reboot does not reset.

The lock is kept in a small JSON state file. Within one boot (same kernel boot id) the stored
deadline on the injected monotonic clock is exact. After a reboot the monotonic clock starts
again, so the gate restarts the lock with the remaining time last written: a reboot can make a
lock a little longer, never shorter. Failed tries are persisted too, so rebooting between tries
does not buy an attacker more of them. An unreadable state file fails closed (locked).
"""

from __future__ import annotations

import enum
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.durable import atomic_write
from kiosk.pin import verify_pin

log = logging.getLogger(__name__)

_BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")
_SCHEMA = 1


class Outcome(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    DISABLED = "disabled"  # no PIN hash configured: maintenance cannot be opened on this kiosk


@dataclass(frozen=True)
class PinResult:
    outcome: Outcome
    attempts_left: int = 0
    seconds_left: int = 0  # > 0 while locked, including right after the try that started the lock

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


def hash_is_usable(pin_hash: str) -> bool:
    """True for a well-formed "pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>" string."""
    parts = pin_hash.split("$")
    if len(parts) != 4 or parts[0] != "pbkdf2_sha256":
        return False
    try:
        return int(parts[1]) > 0 and bool(bytes.fromhex(parts[2])) and bool(bytes.fromhex(parts[3]))
    except ValueError:
        return False


def _read_boot_id() -> str:
    try:
        return _BOOT_ID_FILE.read_text().strip()
    except OSError:
        return ""  # unknown boot: stored deadlines are never trusted, remaining time is used


class PinGate:
    """verify(pin) -> ok | wrong (attempts left) | locked (seconds left) | disabled. Thread-safe."""

    def __init__(self, pin_hash: str, attempts: int = 5, lockout_s: float = 300,
                 clock: Callable[[], float] = time.monotonic, state_file: Path | str | None = None,
                 *, boot_id: str | None = None) -> None:
        if attempts < 1 or lockout_s <= 0:
            raise ValueError("attempts must be >= 1 and lockout_s > 0")
        self._hash = pin_hash
        self._enabled = hash_is_usable(pin_hash)
        if pin_hash and not self._enabled:
            log.error("maintenance PIN hash is malformed; maintenance is disabled")
        elif not pin_hash:
            log.warning("no maintenance PIN configured; maintenance is disabled")
        self._attempts = attempts
        self._lockout_s = float(lockout_s)
        self._clock = clock
        self._state_file = Path(state_file) if state_file is not None else None
        self._boot_id = _read_boot_id() if boot_id is None else boot_id
        self._lock = threading.Lock()
        self._failures = 0
        self._locked_until: float | None = None
        self._load()

    @property
    def enabled(self) -> bool:
        return self._enabled

    def seconds_locked(self) -> int:
        """Whole seconds until the lock ends (rounded up); 0 when not locked."""
        with self._lock:
            return self._seconds_left(self._clock())

    def attempts_left(self) -> int:
        with self._lock:
            self._seconds_left(self._clock())  # lets an expired lock reset the count
            return self._attempts - self._failures

    def verify(self, pin: str) -> PinResult:
        if not self._enabled:
            return PinResult(Outcome.DISABLED)
        with self._lock:  # also serialises tries, so parallel guessing gains nothing
            now = self._clock()
            left = self._seconds_left(now)
            if left:
                self._save(now)  # refresh the remaining time a reboot would restart from
                return PinResult(Outcome.LOCKED, 0, left)
            if verify_pin(pin, self._hash):
                self._failures = 0
                self._save(now)
                return PinResult(Outcome.OK, self._attempts)
            self._failures += 1
            if self._failures >= self._attempts:
                self._locked_until = now + self._lockout_s
                log.warning("maintenance PIN locked", extra={"lockout_s": self._lockout_s})
            self._save(now)
            return PinResult(Outcome.WRONG, self._attempts - self._failures, self._seconds_left(now))

    # -- state --------------------------------------------------------------------------------
    def _seconds_left(self, now: float) -> int:
        if self._locked_until is None:
            return 0
        if now >= self._locked_until:
            self._locked_until = None
            self._failures = 0
            self._save(now)
            return 0
        return math.ceil(self._locked_until - now)

    def _load(self) -> None:
        if self._state_file is None or not self._state_file.exists():
            return
        now = self._clock()
        try:
            data = json.loads(self._state_file.read_text(encoding="utf-8"))
            failures = int(data["failures"])
            remaining = _opt_float(data.get("locked_remaining_s"))
            deadline = _opt_float(data.get("locked_deadline"))
            same_boot = bool(self._boot_id) and data.get("boot_id") == self._boot_id
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("maintenance lock state unreadable; locking to be safe",
                        extra={"state_file": str(self._state_file)})
            self._failures = self._attempts
            self._locked_until = now + self._lockout_s
            self._save(now)
            return
        self._failures = max(0, min(failures, self._attempts))
        if remaining is None:
            return
        until = deadline if same_boot and deadline is not None else now + remaining
        self._locked_until = min(until, now + self._lockout_s)  # never longer than one lockout
        self._failures = self._attempts

    def _save(self, now: float) -> None:
        if self._state_file is None:
            return
        state: dict[str, object] = {"schema": _SCHEMA, "failures": self._failures, "boot_id": self._boot_id}
        if self._locked_until is not None:
            state["locked_deadline"] = self._locked_until
            state["locked_remaining_s"] = max(0.0, self._locked_until - now)
        try:
            atomic_write(self._state_file, json.dumps(state).encode(), mode=0o600)
        except OSError as e:  # the gate still works in memory; the journal says why it won't persist
            log.error("cannot write maintenance lock state",
                      extra={"state_file": str(self._state_file), "error": e.strerror})


def _opt_float(value: Any) -> float | None:
    """A stored number or None; anything else raises ValueError/TypeError (the file is unreadable)."""
    return None if value is None else float(value)
