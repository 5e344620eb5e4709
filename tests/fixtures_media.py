"""Fixtures for camera and voice tests: generated media, a recording audio player, Voice objects.

Nothing here is a mock: images and videos are real files OpenCV decodes, and the "player" is a
real subprocess given a real WAV path, exactly as aplay would be. It keeps a copy of what it was
asked to play (this machine has no sound card to listen with) and then holds for a while, as a
player does while the sound lasts, so stop() has a live process to end.
"""

from __future__ import annotations

import os
import sys
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

_PLAYER = '''\
import os, shutil, sys, time
record_dir, hold, wav = sys.argv[1], float(sys.argv[2]), sys.argv[3]
if os.path.exists(os.path.join(record_dir, "UNPLUGGED")):
    sys.exit("aplay: main:831: audio open error: No such device")
name = f"{time.time_ns()}-{os.getpid()}.wav"
shutil.copyfile(wav, os.path.join(record_dir, name + ".part"))
os.replace(os.path.join(record_dir, name + ".part"), os.path.join(record_dir, name))
time.sleep(hold)
'''


class RecordingPlayer:
    """A player command that records each WAV it is given, then holds for `hold` seconds."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "played"
        self.dir.mkdir()
        self.script = root / "player.py"
        self.script.write_text(_PLAYER)

    def command(self, hold: float = 0.0) -> list[str]:
        return [sys.executable, str(self.script), str(self.dir), str(hold)]

    def unplug(self, unplugged: bool = True) -> None:
        """From now on the player fails as aplay does with no sound device."""
        flag = self.dir / "UNPLUGGED"
        if unplugged:
            flag.touch()
        else:
            flag.unlink(missing_ok=True)

    def recordings(self) -> list[Path]:
        return sorted(self.dir.glob("*.wav"))

    def pids(self) -> list[int]:
        return [int(p.stem.split("-")[1]) for p in self.recordings()]


def write_tone(path: Path, seconds: float = 0.3, freq: float = 440.0, amplitude: int = 20000,
               rate: int = 16000) -> Path:
    """A 16-bit mono sine WAV: the stand-in for a recorded prompt clip."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def wav_samples(path: Path) -> tuple[np.ndarray, int]:
    """(int16 samples, frame rate) of a 16-bit WAV."""
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16), w.getframerate()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def recording_player(tmp_path: Path) -> RecordingPlayer:
    return RecordingPlayer(tmp_path)


@pytest.fixture(scope="session")
def shared_tts_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One TTS cache for the session, so each sentence is rendered once across voice tests."""
    return tmp_path_factory.mktemp("tts-cache")


@pytest.fixture
def clips() -> dict[tuple[str, str], Path]:
    """(key, lang) -> clip path; tests add entries, the resolver below reads them live."""
    return {}


@pytest.fixture
def make_voice(shared_tts_cache: Path, clips: dict[tuple[str, str], Path]) -> Iterator[Callable[..., object]]:
    from devices.voice.voice import Voice

    made: list[Voice] = []

    def make(player: str | list[str], **kwargs: object) -> Voice:
        kwargs.setdefault("cache_dir", shared_tts_cache)
        kwargs.setdefault("clip_resolver", lambda key, lang: clips.get((key, lang)))
        voice = Voice(player=player, **kwargs)  # type: ignore[arg-type]
        made.append(voice)
        return voice

    yield make
    for voice in made:
        voice.close()


def eventually(condition: Callable[[], object], timeout: float = 10.0) -> bool:
    """Poll until condition() is true; False if it never is within timeout (a bound, not a speed test)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())
