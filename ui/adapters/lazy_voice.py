"""The voice driver, loaded once the home screen is painted (or when something is said before then).

devices.voice brings numpy (sample scaling) and the Tibetan phoneme tables, ~50 ms of imports the
first paint never needs: home is shown without a word. This stand-in owns the voice's StatusSource
from the start (the bridge subscribes before anything is shown), answers the volume and the
synthetic-Tibetan switch from the config, and builds the real Voice with that same StatusSource.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kiosk.status import UNAVAILABLE, StatusSource

log = logging.getLogger(__name__)


class LazyVoice:
    status_source = None  # as Voice: its StatusSource is `status` (and asking must not load the driver)

    def __init__(self, build: Callable[[StatusSource], Any], *, volume_default: float, synthetic_bo: bool) -> None:
        self.status = StatusSource("voice")
        self._build = build
        self._volume_default = volume_default
        self._synthetic_bo = synthetic_bo
        self._voice: Any = None
        self._lock = threading.Lock()  # the GUI thread and the maintenance worker may race to build it

    def load(self) -> Any:
        with self._lock:
            if self._voice is None:
                try:
                    self._voice = self._build(self.status)
                except Exception as e:  # as a driver that cannot be built at start-up: silent, and said so
                    log.error("device unavailable", extra={"component": "voice", "error": f"{type(e).__name__}: {e}"})
                    self._voice = _Silent()
                    self.status.set_status(UNAVAILABLE)
                self._voice.synthetic_bo = self._synthetic_bo
            return self._voice

    @property
    def volume(self) -> float:
        voice = self._voice
        return voice.volume if voice is not None else self._volume_default

    @property
    def synthetic_bo(self) -> bool:
        return self._synthetic_bo

    @synthetic_bo.setter
    def synthetic_bo(self, on: bool) -> None:
        self._synthetic_bo = on
        if self._voice is not None:
            self._voice.synthetic_bo = on

    def reset_volume(self) -> None:
        if self._voice is not None:  # never built: it is at its default already
            self._voice.reset_volume()

    def __getattr__(self, name: str) -> Any:  # only for what this class does not define itself
        return getattr(self.load(), name)

    def close(self) -> None:
        with self._lock:
            voice = self._voice
        if voice is not None:  # never built: no worker thread to stop, and no need to load it now
            voice.close()


class _Silent:
    """A voice that could not be built: nothing is said, nothing is missing (the status says why)."""

    synthetic_bo = False
    volume = 0.0
    playing = False
    last_utterance = None
    missing_clips: frozenset[str] = frozenset()
    synthetic_clips: frozenset[str] = frozenset()

    def speak(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    def wait(self, timeout: float | None = None) -> bool:
        return True

    def set_volume(self, volume: float) -> None:
        return None

    def _nothing(self) -> None:
        return None

    stop = repeat = reset_volume = clear_missing_clips = close = _nothing
