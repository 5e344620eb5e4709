"""Spoken guidance: recorded clips first, then a synthetic voice, never the wrong language.

`speak` decides at once what will be heard (a clip, TTS, or nothing) and returns; rendering and
playback happen on a worker thread, so the UI thread never waits. A new `speak` or `stop`
interrupts what is playing at once. Playback is a subprocess of the configured player (default
`aplay`) given a WAV file with the volume already applied to the samples (see volume.py), so any
command that takes a WAV path as its last argument works: `aplay -D null` on a machine without
a sound card, or a test command that records what it was given.

Tibetan without a recorded clip: where the kiosk's `synthetic_bo` switch is on, the synthetic
Tibetan voice reads it (synthetic.py; by the caller's `spoken=` form when it has one, see
tibetan.py), and the status says so (`synthetic_tibetan`, level OK: a labelled fallback, not a
fault). Otherwise, or when the text holds what that voice cannot read, it is not spoken at all:
a Mandarin reading would be the wrong language for a resident who chose Tibetan, so it is
listed in `missing_clips` and the status turns degraded (`missing_tibetan_clip`).

Accessibility (ADA 707.5, EN 301 549 5.1.3): `repeat`, `stop`, `set_volume`, and `reset_volume`
for every new resident. Spoken text may be personal: it is never logged, and `private=True`
keeps its rendering out of the TTS cache.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from devices.voice.clips import ClipResolver, clip_key
from devices.voice.synthetic import SyntheticError, SyntheticTibetan
from devices.voice.tibetan import PhonemeError, UnspeakableText, to_phonemes
from devices.voice.tts import DEFAULT_VOICE, TtsCache, TtsError, render_tts
from devices.voice.volume import UnsupportedWav, write_scaled
from kiosk.spoken import spoken_by
from kiosk.status import OK, Level, Status, StatusSource

log = logging.getLogger(__name__)

Lang = Literal["bo", "zh"]
Source = Literal["clip", "tts", "synthetic", "none"]

MISSING_TIBETAN_CLIP = Status(Level.DEGRADED, "missing_tibetan_clip", "缺少藏语语音片段，部分提示无法朗读",
                              "བོད་སྐད་ཀྱི་སྒྲ་ཆ་ཁ་ཤས་མི་འདུག་པས་གསལ་བརྡ་ཁ་ཤས་ཀློག་མི་ཐུབ།",
                              "Tibetan voice clips missing: some prompts are not spoken")
NO_AUDIO_OUTPUT = Status(Level.FAULT, "no_audio_output", "无法播放声音", "སྒྲ་གཏོང་མི་ཐུབ།",
                         "No audio output: the player is missing or failed")
SYNTHETIC_TIBETAN = Status(Level.OK, "synthetic_tibetan", "部分藏语提示由合成语音朗读（尚未经母语者评审）",
                           "བོད་སྐད་ཀྱི་གསལ་བརྡ་ཁ་ཤས་བཟོས་སྒྲས་ཀློག་གི་ཡོད། (སྐད་ཡིག་མཁས་པས་ད་དུང་ཞིབ་བཤེར་བྱས་མེད།)",
                           "Some Tibetan prompts are read by the synthetic voice (not yet rated by native speakers)")
SYNTHETIC_FAILED = Status(Level.FAULT, "synthetic_tibetan_failed", "藏语合成语音失败", "བོད་སྐད་ཀྱི་བཟོས་སྒྲ་བཟོ་མ་ཐུབ།",
                          "Synthetic Tibetan voice failed")
TTS_FAILED = Status(Level.FAULT, "tts_failed", "汉语语音合成失败", "རྒྱ་སྐད་ཀྱི་སྒྲ་བཟོ་མ་ཐུབ།",
                    "Mandarin speech synthesis failed")

# After a stop, the player gets this long to exit on SIGTERM before it is killed.
_KILL_GRACE_S = 0.5
_POLL_S = 0.05


@dataclass(frozen=True)
class Utterance:
    """What a `speak` call led to: the source says whether anything was (or will be) heard."""

    text: str = field(repr=False)  # may be personal: kept out of reprs and logs
    lang: Lang
    prompt_id: str | None
    source: Source
    clip: Path | None = None
    private: bool = False
    spoken_form: str | None = field(default=None, repr=False)  # the caller's word-segmented form
    phonemes: str | None = field(default=None, repr=False)  # what the synthetic voice reads
    segmented: bool = True  # False: synthetic Tibetan read syllable by syllable (no spoken form)

    @property
    def spoken(self) -> bool:
        return self.source != "none"


@dataclass(frozen=True)
class _Job:
    gen: int
    utterance: Utterance
    volume: float


class Voice:
    def __init__(self, *, cache_dir: Path, clip_resolver: ClipResolver, player: str | Sequence[str] = "aplay",
                 volume_default: float = 0.8, tts_voice: str = DEFAULT_VOICE,
                 status: StatusSource | None = None, synthetic_bo: bool = False) -> None:
        self.status = status or StatusSource("voice")
        self.tts_voice = tts_voice
        self.synthetic_bo = synthetic_bo  # may be switched at run time (a config push)
        self._synthetic = SyntheticTibetan(cache_dir)
        self.volume_default = _clamp(volume_default)
        self._volume = self.volume_default
        self._resolve_clip = clip_resolver
        self._cache = TtsCache(cache_dir)
        self._player = shlex.split(player) if isinstance(player, str) else list(player)
        self._tmp = Path(tempfile.mkdtemp(prefix="kiosk-voice-"))  # private (0700) scratch WAVs
        self._missing: dict[str, bool] = {}  # Tibetan keys without a clip -> read by the synthetic voice?
        self._audio_fault: Status | None = None
        self._last: Utterance | None = None
        self._cv = threading.Condition()
        self._gen = 0  # bumped by every speak/stop: a job from an older generation is dropped
        self._job: _Job | None = None
        self._busy = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False
        if not self._player or shutil.which(self._player[0]) is None:
            self._set_audio_fault(NO_AUDIO_OUTPUT, "player not found")
        self._thread = threading.Thread(target=self._work, name="voice", daemon=True)
        self._thread.start()

    # -- public API -----------------------------------------------------------------------------
    def speak(self, text: str, lang: Lang, prompt_id: str | None = None, *, private: bool = False,
              spoken: str | None = None) -> Utterance:
        """Start saying text in lang (interrupting anything playing); returns what will be heard.

        `spoken` is the text's spoken form with word boundaries (a prompt's `spoken["bo"]`), which
        the synthetic Tibetan voice reads by; clips and Mandarin ignore it."""
        if lang not in ("bo", "zh"):
            raise ValueError(f"unsupported language {lang!r}: the kiosk speaks bo or zh")
        key = clip_key(text, prompt_id)
        clip = self._find_clip(key, lang)
        heard = spoken_by(lang, clip is not None, synthetic_bo=self.synthetic_bo)
        if heard == "clip":
            utterance = Utterance(text, lang, prompt_id, "clip", clip, private, spoken)
        elif lang == "zh":
            utterance = Utterance(text, lang, prompt_id, "tts", None, private, spoken)
        elif heard == "synthetic":
            utterance = self._synthetic_utterance(text, prompt_id, private, spoken)
        else:
            utterance = Utterance(text, lang, prompt_id, "none", None, private, spoken)
        with self._cv:
            if lang == "bo":
                self._note_clip(key, found=clip is not None, synthetic=utterance.source == "synthetic")
            self._last = utterance
            self._interrupt()
            if utterance.spoken and not self._closed:  # a closed Voice stays silent
                self._job = _Job(self._gen, utterance, self._volume)
            self._cv.notify_all()
        if not utterance.spoken:
            log.info("tibetan prompt not spoken: no clip", extra={"clip_key": key})
        return utterance

    def _synthetic_utterance(self, text: str, prompt_id: str | None, private: bool,
                             spoken: str | None) -> Utterance:
        try:
            made = to_phonemes(text, spoken)
        except UnspeakableText:  # e.g. Chinese in a Tibetan line: silence, never a wrong-language reading
            log.warning("tibetan prompt not spoken: the synthetic voice cannot read it",
                        extra={"clip_key": clip_key(text, prompt_id)})  # the reason may quote the text
            return Utterance(text, "bo", prompt_id, "none", None, private, spoken)
        except PhonemeError:
            log.exception("tibetan prompt not spoken: phoneme conversion failed")
            return Utterance(text, "bo", prompt_id, "none", None, private, spoken)
        return Utterance(text, "bo", prompt_id, "synthetic", None, private, spoken, made.phonemes, made.segmented)

    def stop(self) -> None:
        """Silence now: the player is signalled at once and anything queued is dropped."""
        with self._cv:
            self._interrupt()
            self._cv.notify_all()

    def repeat(self) -> Utterance | None:
        """Say the last utterance again (looking its clip up again: it may have arrived since)."""
        last = self._last
        if last is None:
            return None
        return self.speak(last.text, last.lang, last.prompt_id, private=last.private, spoken=last.spoken_form)

    @property
    def volume(self) -> float:
        return self._volume

    def set_volume(self, volume: float) -> None:
        """Volume 0..1 for what is said from now on."""
        self._volume = _clamp(volume)

    def reset_volume(self) -> None:
        """Back to the default: called for every new resident."""
        self._volume = self.volume_default

    @property
    def last_utterance(self) -> Utterance | None:
        return self._last

    @property
    def missing_clips(self) -> frozenset[str]:
        """Keys (prompt ids, or text hashes) of Tibetan lines that had no clip (synthetic or silent)."""
        with self._cv:
            return frozenset(self._missing)

    @property
    def synthetic_clips(self) -> frozenset[str]:
        """Of the missing_clips, those the synthetic Tibetan voice read (the rest were silent)."""
        with self._cv:
            return frozenset(k for k, synthetic in self._missing.items() if synthetic)

    def clear_missing_clips(self) -> None:
        """Forget the list, e.g. after a content update that may have brought the clips."""
        with self._cv:
            self._missing.clear()
            self._refresh_status()

    @property
    def playing(self) -> bool:
        with self._cv:
            return self._busy or self._job is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or playing; False at the timeout. For tests and tools."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._busy and self._job is None, timeout)

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._interrupt()
            self._cv.notify_all()
        self._thread.join(timeout=5)
        shutil.rmtree(self._tmp, ignore_errors=True)

    # -- clips and status -------------------------------------------------------------------------
    def _find_clip(self, key: str, lang: str) -> Path | None:
        try:
            return self._resolve_clip(key, lang)
        except Exception:  # a broken content store must not silence the kiosk's Mandarin
            log.exception("clip resolver failed", extra={"clip_key": key, "lang": lang})
            return None

    def _note_clip(self, key: str, *, found: bool, synthetic: bool) -> None:
        if found:
            self._missing.pop(key, None)
        else:
            self._missing[key] = synthetic
        self._refresh_status()

    def _set_audio_fault(self, fault: Status | None, reason: str = "") -> None:
        with self._cv:
            self._audio_fault = fault
            self._refresh_status()
        if fault is not None:
            log.warning("voice fault", extra={"code": fault.code, "reason": reason})

    def _refresh_status(self) -> None:
        if self._audio_fault is not None:
            self.status.set_status(self._audio_fault)
        elif not all(self._missing.values()):
            self.status.set_status(MISSING_TIBETAN_CLIP)
        elif self._missing:
            self.status.set_status(SYNTHETIC_TIBETAN)
        else:
            self.status.set_status(OK)

    def _interrupt(self) -> None:
        """Drop the queued job and signal the player (caller holds the lock; never waits)."""
        self._gen += 1
        self._job = None
        if self._proc is not None:
            _signal_group(self._proc, signal.SIGTERM)

    # -- the worker -----------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._closed or self._job is not None)
                if self._closed:
                    return
                job, self._job, self._busy = self._job, None, True
            try:
                self._play(job)
            except Exception:  # the worker must survive anything one utterance does
                log.exception("voice playback failed")
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()

    def _current(self, job: _Job) -> bool:
        return job.gen == self._gen and not self._closed

    def _sound_file(self, job: _Job) -> Path | None:
        utterance = job.utterance
        if utterance.clip is not None:
            return utterance.clip
        if utterance.phonemes is not None:
            return self._synthetic_file(job, utterance.phonemes)
        try:
            if utterance.private:
                return render_tts(utterance.text, self.tts_voice, out=self._tmp / f"private-{job.gen}.wav")
            return self._cache.get(utterance.text, self.tts_voice)
        except TtsError as e:
            self._set_audio_fault(TTS_FAILED, str(e))
            return None

    def _synthetic_file(self, job: _Job, phonemes: str) -> Path | None:
        try:
            if job.utterance.private:
                return self._synthetic.render(phonemes, self._tmp / f"private-{job.gen}.wav")
            return self._synthetic.get(phonemes)
        except SyntheticError as e:
            self._set_audio_fault(SYNTHETIC_FAILED, str(e))
            return None

    def _play(self, job: _Job) -> None:
        sound = self._sound_file(job)
        scratch: list[Path] = []
        if sound is not None and sound.parent == self._tmp:
            scratch.append(sound)  # a private rendering lives only as long as its playback
        try:
            if sound is None or not self._current(job):
                return
            wav = self._at_volume(sound, job, scratch)
            self._run_player(job, wav)
        finally:
            for path in scratch:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def _at_volume(self, sound: Path, job: _Job, scratch: list[Path]) -> Path:
        if job.volume >= 1.0:
            return sound
        scaled = self._tmp / f"play-{job.gen}.wav"
        try:
            write_scaled(sound, scaled, job.volume)
        except UnsupportedWav as e:
            log.warning("clip played at full volume: cannot scale it", extra={"reason": str(e)})
            return sound
        scratch.append(scaled)
        return scaled

    def _run_player(self, job: _Job, wav: Path) -> None:
        with self._cv:
            if not self._current(job):
                return
            try:
                proc = subprocess.Popen([*self._player, str(wav)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)  # its own group: stop() reaches children
            except OSError as e:
                self._set_audio_fault(NO_AUDIO_OUTPUT, e.strerror or str(e))
                return
            self._proc = proc
        err = self._wait_player(job, proc)
        with self._cv:
            self._proc = None
            interrupted = not self._current(job)
        if proc.returncode == 0:
            self._set_audio_fault(None)
        elif not interrupted:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            reason = f"exit {proc.returncode}: {lines[-1][:200] if lines else ''}"
            self._set_audio_fault(NO_AUDIO_OUTPUT, reason)

    def _wait_player(self, job: _Job, proc: subprocess.Popen[bytes]) -> bytes:
        """Wait for the player; once interrupted, give it a grace period, then kill it."""
        kill_at: float | None = None
        while True:
            try:
                return proc.communicate(timeout=_POLL_S)[1] or b""
            except subprocess.TimeoutExpired:
                with self._cv:
                    interrupted = not self._current(job)
                if interrupted and kill_at is None:
                    kill_at = time.monotonic() + _KILL_GRACE_S
                elif kill_at is not None and time.monotonic() >= kill_at:
                    _signal_group(proc, signal.SIGKILL)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _clamp(volume: float) -> float:
    return min(1.0, max(0.0, float(volume)))
