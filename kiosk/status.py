"""Device and service health: a level, a stable code and a message in every kiosk language.

Drivers hold a `StatusSource`; whoever cares (the UI, the edge agent, the maintenance screen)
subscribes and gets a call on every *change* of status, not on every poll.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

log = logging.getLogger(__name__)


class Level(enum.StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    FAULT = "fault"


@dataclass(frozen=True)
class Status:
    level: Level
    code: str  # stable, machine-readable: "ok", "paper_out", "not_answering", ...
    zh: str
    bo: str
    en: str
    since: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def message(self, lang: str) -> str:
        return {"zh": self.zh, "bo": self.bo}.get(lang, self.en)

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level.value, "code": self.code, "zh": self.zh, "bo": self.bo,
                "en": self.en, "since": self.since}

    def same_as(self, other: Status | None) -> bool:
        return other is not None and (self.level, self.code) == (other.level, other.code)


OK = Status(Level.OK, "ok", "正常", "རྒྱུན་ལྡན།", "OK")


def status_from(table: Mapping[str, tuple[Level, str, str, str]], code: str) -> Status:
    """A driver's Status for `code` from its table of (level, zh, bo, en), stamped now; "ok" is OK's words
    unless the table has its own."""
    level, zh, bo, en = table[code] if code in table or code != OK.code else (OK.level, OK.zh, OK.bo, OK.en)
    return Status(level, code, zh, bo, en)
# A device the config leaves out (or whose driver could not be built): said the same way everywhere
UNAVAILABLE = Status(Level.FAULT, "not_configured", "设备未启用", "སྒྲིག་ཆས་མེད།", "device not configured")

Listener = Callable[[str, Status], None]


class StatusSource:
    """Keeps one component's status and tells listeners when it changes."""

    def __init__(self, component: str, initial: Status = OK) -> None:
        self.component = component
        self._status = initial
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def status(self) -> Status:
        return self._status

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def set_status(self, new: Status) -> None:
        with self._lock:
            if new.same_as(self._status):
                return
            self._status = new
            listeners = list(self._listeners)
        log.info("status change", extra={"component": self.component, "status_level": new.level.value,
                                         "code": new.code})
        for listener in listeners:
            try:
                listener(self.component, new)
            except Exception:  # a broken listener must not take the driver down
                log.exception("status listener failed", extra={"component": self.component})
