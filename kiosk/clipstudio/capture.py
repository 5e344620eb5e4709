"""Where takes come from: the microphone (sounddevice over PortAudio) or WAV files (no sound card needed)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from kiosk.clipstudio.audio import Audio, read_wav

MIC_RATE = 48_000


class CaptureError(Exception):
    """No take can be captured (no microphone, no such file); str() says what to fix."""


class Capture(Protocol):
    """A take starts with start(key) and ends with stop(), which returns what was heard."""

    description: str

    def start(self, key: str) -> None: ...

    def stop(self) -> Audio: ...


class WavCapture:
    """Takes replayed from WAV files, for tests and machines without a sound card.

    `path` is one file (every take is that file) or a folder (the take for KEY is KEY.wav in it).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"WAV files from {path}" if path.is_dir() else f"WAV file {path}"
        self._file: Path | None = None

    def start(self, key: str) -> None:
        file = self.path / f"{key}.wav" if self.path.is_dir() else self.path
        if not file.is_file():
            raise CaptureError(f"no take to replay: {file} does not exist")
        self._file = file

    def stop(self) -> Audio:
        if self._file is None:
            raise CaptureError("stop() without start()")
        file, self._file = self._file, None
        return read_wav(file)


class MicCapture:
    """The default input device (or `device`), mono, 48 kHz float, for as long as the take lasts."""

    def __init__(self, device: int | str | None = None, rate: int = MIC_RATE) -> None:
        self.device, self.rate = device, rate
        self.description = f"microphone {device if device is not None else '(default input)'}"
        self._blocks: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._stream: Any = None

    def start(self, key: str) -> None:
        try:
            import sounddevice  # imported here: it needs libportaudio2 at import time
        except OSError as e:
            raise CaptureError(f"no audio capture: {e} (apt-get install libportaudio2)") from None
        self._blocks = []
        try:
            self._stream = sounddevice.InputStream(samplerate=self.rate, channels=1, dtype="float32",
                                                   device=self.device, callback=self._on_block)
            self._stream.start()
        except (sounddevice.PortAudioError, ValueError) as e:
            self._stream = None
            raise CaptureError(f"cannot open the microphone: {e}") from None

    def _on_block(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        # PortAudio's thread: copy, since the buffer is reused for the next block
        with self._lock:
            self._blocks.append(indata[:, 0].astype(np.float64))

    def stop(self) -> Audio:
        if self._stream is None:
            raise CaptureError("stop() without start()")
        stream, self._stream = self._stream, None
        stream.stop()
        stream.close()
        with self._lock:
            samples = np.concatenate(self._blocks) if self._blocks else np.zeros(0)
        return Audio(samples, self.rate)
