"""Mandarin text to speech as WAV files: pyttsx3 driving espeak-ng, cached by content hash.

Engine: pyttsx3 (espeak driver, `save_to_file`: no sound card needed) in a worker process of
its own with a timeout, because its espeak driver keeps global state and can hang when reused
across threads. The worker reads the voice back after selecting it (an unknown voice silently
stays English); if pyttsx3 cannot select the voice, fails or hangs, the same text is rendered by
the `espeak-ng` command with the same voice and rate, once `espeak-ng --voices` has shown the
voice exists (reading stdin, espeak-ng too falls back to English silently). Either way the text
travels on stdin, never on a command line.

Voice `cmn-latn-pinyin` reads Chinese correctly on espeak-ng 1.51; `cmn` misreads many
characters. espeak-ng has no Tibetan voice: Tibetan is spoken from recorded clips, or (where a
region allows it) by the labelled synthetic voice of synthetic.py, never by this Mandarin one.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import threading
import wave
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_VOICE = "cmn-latn-pinyin"
# Words per minute: a little slower than espeak's 175, for elderly listeners.
RATE_WPM = 150
RENDER_TIMEOUT_S = 30.0
_WORKER = Path(__file__).with_name("pyttsx3_worker.py")


class TtsError(Exception):
    """The text could not be rendered (no engine, unknown voice, timeout, bad output)."""


def wav_frames(path: Path) -> int:
    """Frames in a WAV file; 0 for a missing, empty or damaged one."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes()
    except (OSError, EOFError, wave.Error):
        return 0


def _run(cmd: list[str], text: str, timeout_s: float) -> tuple[int, str]:
    """Run cmd with text on stdin; (exit code, last stderr line). Killed at the timeout."""
    try:
        proc = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True, timeout=timeout_s,
                              check=False)
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {timeout_s:g} s"
    except OSError as e:
        return -1, e.strerror or str(e)
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return proc.returncode, lines[-1][:200] if lines else ""  # a reason, not a transcript


def _espeak_has_voice(espeak: str, voice: str) -> bool:
    """espeak-ng reading stdin falls back to English for an unknown voice and exits 0: ask first."""
    try:
        listing = subprocess.run([espeak, "--voices"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    wanted = voice.lower()
    for line in listing.stdout.splitlines()[1:]:  # Pty Language Age/Gender VoiceName File Other...
        cols = line.split()
        if len(cols) >= 5 and wanted in (cols[1].lower(), cols[4].lower(), cols[4].rsplit("/", 1)[-1].lower()):
            return True
    return False


def render_tts(text: str, voice: str = DEFAULT_VOICE, *, out: Path, timeout_s: float = RENDER_TIMEOUT_S) -> Path:
    """Render text to the WAV file `out` (replaced atomically) and return it."""
    if not text.strip():
        raise TtsError("nothing to say: the text is empty")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        rc, why = _run([sys.executable, str(_WORKER), voice, str(RATE_WPM), str(tmp)], text, timeout_s)
        engine = "pyttsx3"
        if rc != 0 or wav_frames(tmp) == 0:
            log.warning("pyttsx3 render failed; using the espeak-ng command",
                        extra={"voice": voice, "rc": rc, "reason": why})
            espeak = shutil.which("espeak-ng")
            if espeak is None:
                raise TtsError(f"pyttsx3 failed ({why}) and the espeak-ng command is not installed")
            if not _espeak_has_voice(espeak, voice):
                raise TtsError(f"espeak-ng has no voice {voice!r} (pyttsx3: {why})")
            rc, why = _run([espeak, "-v", voice, "-s", str(RATE_WPM), "-w", str(tmp), "--stdin"], text,
                           timeout_s)
            engine = "espeak-ng"
            if rc != 0 or wav_frames(tmp) == 0:
                raise TtsError(f"espeak-ng could not render with voice {voice!r}: {why or f'exit {rc}'}")
        os.replace(tmp, out)
        log.debug("tts rendered", extra={"engine": engine, "voice": voice})
        return out
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def tts_key(text: str, voice: str = DEFAULT_VOICE) -> str:
    """Cache key: the same text in the same voice (and rate) is the same sound."""
    return hashlib.sha256(f"{voice}\0{RATE_WPM}\0{text}".encode()).hexdigest()


class TtsCache:
    """Rendered WAVs kept in a directory, one file per sha256(voice, rate, text)."""

    def __init__(self, cache_dir: Path, *, timeout_s: float = RENDER_TIMEOUT_S) -> None:
        self.cache_dir = Path(cache_dir)
        self.timeout_s = timeout_s
        self.renders = 0  # how many times the engine actually ran (cache misses)
        self._lock = threading.Lock()  # one render at a time: 2 cores, and no double work

    def path_for(self, text: str, voice: str = DEFAULT_VOICE) -> Path:
        return self.cache_dir / f"{tts_key(text, voice)}.wav"

    def get(self, text: str, voice: str = DEFAULT_VOICE) -> Path:
        """The WAV for text, rendered now only if not cached (or the cached file is damaged)."""
        path = self.path_for(text, voice)
        with self._lock:
            if wav_frames(path) > 0:
                return path
            render_tts(text, voice, out=path, timeout_s=self.timeout_s)
            self.renders += 1
            return path
