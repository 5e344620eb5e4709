"""The synthetic Tibetan voice: espeak-ng with the voice file shipped in this package.

espeak-ng finds voices only inside its data folder, so a private folder is built once in the
cache dir: a symlink to each entry of the system's folder (the path `espeak-ng --version`
prints), and a `voices/` of its own holding the system's voices plus ours. No network, nothing
written outside the cache dir. The folder's name carries a hash of the voice file and the
system folder, so a new voice file or espeak-ng install gets a fresh folder.

Input is phoneme mnemonics (`tibetan.to_phonemes`) on stdin, never on a command line (a
spoken text may be personal).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from devices.voice.tts import wav_frames

VOICE_NAME = "bo-x-cmnphon"
VOICE_FILE = Path(__file__).with_name("espeak") / VOICE_NAME
# A little slower than espeak's 175 wpm, with a 40 ms gap between words: for elderly listeners.
RATE_WPM = 135
WORD_GAP = 4
RENDER_TIMEOUT_S = 30.0


class SyntheticError(Exception):
    """The synthetic Tibetan voice could not render (espeak-ng missing or failing)."""


def _espeak() -> str:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SyntheticError("the espeak-ng command is not installed (Debian package espeak-ng)")
    return espeak


def system_data_dir() -> Path:
    """espeak-ng's own data folder, as `espeak-ng --version` reports it ("... Data at: PATH")."""
    try:
        out = subprocess.run([_espeak(), "--version"], capture_output=True, text=True, timeout=10,
                             check=False).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SyntheticError(f"espeak-ng --version failed: {e}") from None
    m = re.search(r"Data at:\s*(\S.*?)\s*$", out, re.MULTILINE)
    if m is None or not Path(m[1], "phontab").is_file():
        raise SyntheticError(f"espeak-ng did not say where its data is: {out.strip()[:200]!r}")
    return Path(m[1])


def _build(system: Path, target: Path) -> None:
    """Fill target (new, empty) with links to the system's data and a voices/ folder holding ours."""
    for entry in system.iterdir():
        if entry.name != "voices":
            (target / entry.name).symlink_to(entry)
    voices = target / "voices"
    voices.mkdir()
    if (system / "voices").is_dir():
        for entry in (system / "voices").iterdir():
            (voices / entry.name).symlink_to(entry)
    shutil.copyfile(VOICE_FILE, voices / VOICE_NAME)


def ensure_data_dir(cache_dir: Path) -> Path:
    """The private espeak-ng data folder under cache_dir, built on first use (safe if two race)."""
    system = system_data_dir()
    digest = hashlib.sha256(VOICE_FILE.read_bytes() + b"\0" + str(system).encode()).hexdigest()[:12]
    target = Path(cache_dir) / f"espeak-ng-data-{digest}"
    if (target / "voices" / VOICE_NAME).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".espeak-ng-data-", dir=target.parent))
    try:
        _build(system, staging)
        try:
            staging.rename(target)  # atomic: a reader sees no folder or a whole one
        except OSError:
            if not (target / "voices" / VOICE_NAME).is_file():
                raise  # not a lost race with another process: a real error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def render_phonemes(phonemes: str, out: Path, data_dir: Path, *, timeout_s: float = RENDER_TIMEOUT_S) -> Path:
    """Render espeak-ng phoneme input ("[[...]]") with the Tibetan voice to the WAV out (atomically)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    cmd = [_espeak(), f"--path={data_dir}", "-v", VOICE_NAME, "-s", str(RATE_WPM), "-g", str(WORD_GAP),
           "-w", str(tmp), "--stdin"]
    try:
        try:
            proc = subprocess.run(cmd, input=phonemes.encode("utf-8"), capture_output=True, timeout=timeout_s,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise SyntheticError(f"espeak-ng timed out after {timeout_s:g} s") from None
        if proc.returncode != 0 or wav_frames(tmp) == 0:
            lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SyntheticError(f"espeak-ng exit {proc.returncode}: {lines[-1][:200] if lines else 'no audio'}")
        os.replace(tmp, out)
        return out
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class SyntheticTibetan:
    """Renders phoneme input to WAVs, cached in cache_dir/bo by a hash of (voice file, rate, phonemes)."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir)
        self.renders = 0  # how many times espeak-ng actually ran
        self._lock = threading.Lock()  # one render at a time, and the data folder built once
        self._data_dir: Path | None = None

    def data_dir(self) -> Path:
        if self._data_dir is None:
            self._data_dir = ensure_data_dir(self.cache_dir)
        return self._data_dir

    def path_for(self, phonemes: str) -> Path:
        key = hashlib.sha256(VOICE_FILE.read_bytes() + f"\0{RATE_WPM}\0{WORD_GAP}\0{phonemes}".encode())
        return self.cache_dir / "bo" / f"{key.hexdigest()}.wav"

    def get(self, phonemes: str) -> Path:
        """The cached WAV for these phonemes, rendered now only if missing or damaged."""
        path = self.path_for(phonemes)
        with self._lock:
            if wav_frames(path) > 0:
                return path
            render_phonemes(phonemes, path, self.data_dir())
            self.renders += 1
            return path

    def render(self, phonemes: str, out: Path) -> Path:
        """Render to out, outside the cache (a private text's sound lives only as long as its playback)."""
        with self._lock:
            render_phonemes(phonemes, out, self.data_dir())
            self.renders += 1
            return out
