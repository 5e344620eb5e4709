"""The voice driver, loaded once the home screen is painted (or when something is said before then).

devices.voice brings numpy (sample scaling) and the Tibetan phoneme tables, ~50 ms of imports the
first paint never needs: home is shown without a word. Until it is built, the volume and the synthetic-Tibetan
switch are answered from the config.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kiosk.status import UNAVAILABLE, StatusSource
from ui.adapters.lazy_driver import LazyDriver

log = logging.getLogger(__name__)


class LazyVoice(LazyDriver):
    def __init__(self, build: Callable[[StatusSource], Any], *, volume_default: float, synthetic_bo: bool) -> None:
        super().__init__("voice", build)
        self._volume_default = volume_default
        self._synthetic_bo = synthetic_bo

    def _make(self) -> Any:
        try:
            voice = self._build(self.status)
        except Exception as e:  # as a driver that cannot be built at start-up: silent, and said so
            log.error("device unavailable", extra={"component": "voice", "error": f"{type(e).__name__}: {e}"})
            voice = _Silent()
            self.status.set_status(UNAVAILABLE)
        voice.synthetic_bo = self._synthetic_bo
        return voice

    @property
    def volume(self) -> float:
        voice = self.built
        return voice.volume if voice is not None else self._volume_default

    @property
    def synthetic_bo(self) -> bool:
        return self._synthetic_bo

    @synthetic_bo.setter
    def synthetic_bo(self, on: bool) -> None:
        self._synthetic_bo = on
        if self.built is not None:
            self.built.synthetic_bo = on

    def reset_volume(self) -> None:
        if self.built is not None:  # never built: it is at its default already
            self.built.reset_volume()


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
