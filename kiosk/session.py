"""One resident's session: language, elder mode, idle timeout, and the wipe at its end.

Pure logic with an injectable clock (seconds, monotonic): the UI calls `touch()` on every input and
`tick()` from a timer; tests drive the clock by hand. Idle -> a warning (shown and spoken) with a
countdown of at least 20 s (ADA 707 / EN 301 549 5.2) -> `end()`, which wipes the flow and tells
every registered party (the card watcher forgets the last card, the voice resets its volume, the
screens return home). Between residents the session is IDLE and no timer runs.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from typing import Any

from kiosk.i18n import LANGS

log = logging.getLogger(__name__)

MIN_WARNING_S = 20


class Phase(enum.StrEnum):
    IDLE = "idle"        # nobody is using the kiosk
    ACTIVE = "active"
    WARNING = "warning"  # idle too long: countdown on screen, one touch to extend


class Session:
    def __init__(self, *, default_lang: str = "bo", elder_mode: bool = False, idle_timeout_s: float = 90,
                 idle_warning_s: float = 30, clock: Callable[[], float] = time.monotonic) -> None:
        if default_lang not in LANGS:
            raise ValueError(f"default language must be one of {LANGS}")
        self.default_lang = default_lang
        self.default_elder_mode = elder_mode
        self.idle_timeout_s = idle_timeout_s
        self.idle_warning_s = max(idle_warning_s, MIN_WARNING_S)
        self._clock = clock
        self.phase = Phase.IDLE
        self.lang = default_lang
        self.elder_mode = elder_mode
        self.flow: Any = None
        self._last_activity = clock()
        self._warning_since = 0.0
        self.on_start: list[Callable[[], None]] = []            # a new resident: volume to default
        self.on_end: list[Callable[[str], None]] = []           # wiped: forget the card, go home
        self.on_warning: list[Callable[[float], None]] = []     # countdown began (seconds left)
        self.on_language: list[Callable[[str], None]] = []      # re-render, voice follows
        self.on_flow: list[Callable[[Any], None]] = []          # a service flow began (the audit trail)

    @classmethod
    def from_config(cls, cfg: Any, clock: Callable[[], float] = time.monotonic) -> Session:
        k = cfg.kiosk
        return cls(default_lang=k.default_language, elder_mode=k.elder_mode, idle_timeout_s=k.idle_timeout_s,
                   idle_warning_s=k.idle_warning_s, clock=clock)

    # --- activity -------------------------------------------------------------------------------
    def touch(self) -> None:
        """Any input from the resident (a tap, a card inserted). Starts a session when idle.

        During the warning only `extend()` counts: the overlay covers the screen and a stray touch
        must not silently cancel the countdown the resident has been told about.
        """
        if self.phase is Phase.WARNING:
            return
        self._last_activity = self._clock()
        if self.phase is Phase.IDLE:
            self.phase = Phase.ACTIVE
            log.info("session started")
            self._notify(self.on_start)

    def extend(self) -> None:
        """The one big "I need more time" button."""
        if self.phase is Phase.WARNING:
            self.phase = Phase.ACTIVE
            log.info("session extended")
        self._last_activity = self._clock()

    def seconds_left(self) -> float:
        """During the warning: seconds before the wipe; otherwise the idle time left before it."""
        now = self._clock()
        if self.phase is Phase.WARNING:
            return max(0.0, self.idle_warning_s - (now - self._warning_since))
        if self.phase is Phase.ACTIVE:
            return max(0.0, self.idle_timeout_s - (now - self._last_activity))
        return 0.0

    def tick(self) -> Phase:
        """Advance the idle state machine to the clock's present; call about once a second."""
        now = self._clock()
        if self.phase is Phase.ACTIVE and now - self._last_activity >= self.idle_timeout_s:
            self.phase = Phase.WARNING
            self._warning_since = now
            log.info("session idle warning", extra={"seconds": self.idle_warning_s})
            self._notify(self.on_warning, float(self.idle_warning_s))
        if self.phase is Phase.WARNING and now - self._warning_since >= self.idle_warning_s:
            self.end("idle")
        return self.phase

    # --- preferences ------------------------------------------------------------------------------
    def set_language(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(f"language must be one of {LANGS}")
        self.touch()
        if lang == self.lang:
            return
        self.lang = lang
        if self.flow is not None:
            self.flow.lang = lang
        self._notify(self.on_language, lang)

    def toggle_elder_mode(self) -> bool:
        self.touch()
        self.elder_mode = not self.elder_mode
        return self.elder_mode

    # --- the resident's flow --------------------------------------------------------------------
    def begin_flow(self, flow: Any) -> Any:
        """Start a service flow, wiping any earlier one first (one resident, one flow at a time)."""
        self.touch()
        if self.flow is not None:
            self.flow.wipe()
        flow.lang = self.lang
        self.flow = flow
        self._notify(self.on_flow, flow)
        return flow

    def drop_flow(self) -> None:
        if self.flow is not None:
            self.flow.wipe()
        self.flow = None

    def end(self, reason: str = "done") -> None:
        """Wipe everything about this resident and return to defaults, whatever the phase."""
        self.drop_flow()
        self.phase = Phase.IDLE
        self.lang = self.default_lang
        self.elder_mode = self.default_elder_mode
        self._last_activity = self._clock()
        log.info("session ended", extra={"reason": reason})
        self._notify(self.on_end, reason)

    @staticmethod
    def _notify(listeners: list[Callable[..., None]], *args: object) -> None:
        for fn in list(listeners):
            try:
                fn(*args)
            except Exception:  # one broken listener must not keep the wipe from the others
                log.exception("session listener failed")
