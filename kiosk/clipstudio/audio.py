"""A take made fit for the kiosk: checked, trimmed of leading/trailing silence, normalised to the pack's loudness.

Loudness is EBU R128 / ITU-R BS.1770 integrated loudness measured with pyloudnorm, brought to CLIP_LUFS
(-23 LUFS) for every clip of the pack, so no prompt is louder than another. A take that cannot be made fit
is refused with a reason a recorder can act on (ClipRefused); nothing is written for it.
"""

from __future__ import annotations

import io
import warnings
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyloudnorm
from scipy.io import wavfile

from kiosk.content_model import CLIP_LUFS

MIN_RATE = 16_000          # below this, speech loses the consonants that tell Tibetan words apart
MIN_SPEECH_S = 0.3
MAX_SPEECH_S = 30.0
FULL_SCALE = 0.999         # a sample this close to full scale is taken as clipped
MAX_CLIPPED_FRACTION = 0.0005  # 0.05 % of samples (1 ms per 2 s) flat at full scale: audible distortion
SILENT_DBFS = -50.0        # loudest 10 ms below this: nothing was recorded (microphone muted, wrong input)
TRIM_BELOW_LOUDEST_DB = 35.0  # frames this far below the loudest frame count as silence at the ends
TRIM_PAD_S = 0.1           # kept before the first and after the last loud frame (soft onsets, breath)
FADE_S = 0.005             # at the cut edges, so trimming never leaves a click
MAX_PEAK_DBFS = -1.0       # after normalising; more would clip on the kiosk's DAC
FRAME_S = 0.010


class ClipRefused(Exception):
    """The take or file cannot become a clip; str() is the reason, written for the recorder."""


@dataclass(frozen=True)
class Audio:
    """Mono samples as floats in [-1, 1] at `rate` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate


@dataclass(frozen=True)
class Prepared:
    """A take ready to store: trimmed and normalised audio and its measured loudness."""

    audio: Audio
    lufs: float
    source_s: float  # length before trimming, for the report


def read_wav(path: Path) -> Audio:
    """A WAV file (PCM 8/16/24/32-bit or float, any channel count) as mono floats."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wavfile.WavFileWarning)  # unknown chunks (LIST, bext) are harmless
            rate, data = wavfile.read(path)
    except (ValueError, EOFError) as e:
        raise ClipRefused(f"not a WAV file that can be read ({e})") from None
    return Audio(_to_float_mono(np.asarray(data)), int(rate))


def _to_float_mono(data: np.ndarray) -> np.ndarray:
    if data.dtype == np.uint8:
        x = (data.astype(np.float64) - 128.0) / 128.0
    elif np.issubdtype(data.dtype, np.integer):
        x = data.astype(np.float64) / float(-np.iinfo(data.dtype).min)
    else:
        x = data.astype(np.float64)
    return x.mean(axis=1) if x.ndim == 2 else x


def wav_bytes(audio: Audio) -> bytes:
    """16-bit PCM mono WAV: what the kiosk's voice driver and `aplay` play."""
    pcm = np.clip(np.round(audio.samples * 32767.0), -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(audio.rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def prepare(audio: Audio) -> Prepared:
    """Check, trim and normalise a take; ClipRefused says why it cannot be used."""
    check_source(audio)
    start, end = sound_span(audio)
    sound_s = (end - start) / audio.rate
    if sound_s < MIN_SPEECH_S:
        raise ClipRefused(f"too short: {sound_s:.2f} s of sound (at least {MIN_SPEECH_S} s)")
    if sound_s > MAX_SPEECH_S:
        raise ClipRefused(f"too long: {sound_s:.1f} s of sound (at most {MAX_SPEECH_S:.0f} s)")
    normalised, lufs = normalise(trim(audio))
    return Prepared(normalised, lufs, audio.duration_s)


def check_source(audio: Audio) -> None:
    """Sample rate, clipping and silence, on the take as it came in."""
    if audio.rate < MIN_RATE:
        raise ClipRefused(f"sample rate {audio.rate} Hz is too low (at least {MIN_RATE} Hz)")
    if len(audio.samples) == 0:
        raise ClipRefused("empty: the file holds no samples")
    clipped = float(np.mean(np.abs(audio.samples) >= FULL_SCALE))
    if clipped > MAX_CLIPPED_FRACTION:
        raise ClipRefused(f"clipped: {clipped:.2%} of samples at full scale "
                          f"(turn the microphone gain down and record again)")
    loudest = float(frame_db(audio).max())
    if loudest < SILENT_DBFS:
        raise ClipRefused(f"silent: the loudest moment is {loudest:.0f} dBFS "
                          f"(is the microphone muted or the wrong input?)")


def frame_db(audio: Audio) -> np.ndarray:
    """RMS level of each 10 ms frame, in dBFS."""
    n = max(1, int(audio.rate * FRAME_S))
    x = audio.samples
    frames = np.pad(x, (0, -len(x) % n)).reshape(-1, n)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-10))


def sound_span(audio: Audio) -> tuple[int, int]:
    """(first, end) sample of the sound: the frames no quieter than the loudest frame less TRIM_BELOW_LOUDEST_DB."""
    db = frame_db(audio)
    loud = np.flatnonzero(db >= db.max() - TRIM_BELOW_LOUDEST_DB)
    n = max(1, int(audio.rate * FRAME_S))
    return int(loud[0]) * n, min(len(audio.samples), (int(loud[-1]) + 1) * n)


def trim(audio: Audio) -> Audio:
    """Cut the quiet start and end, keeping a little air around the sound and fading the cuts."""
    first, end = sound_span(audio)
    pad = int(audio.rate * TRIM_PAD_S)
    x = audio.samples[max(0, first - pad):min(len(audio.samples), end + pad)].copy()
    fade = min(len(x) // 2, int(audio.rate * FADE_S))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        x[:fade] *= ramp
        x[-fade:] *= ramp[::-1]
    return Audio(x, audio.rate)


def loudness(audio: Audio) -> float:
    """Integrated loudness in LUFS; clips shorter than BS.1770's 400 ms block are measured as one block."""
    meter = pyloudnorm.Meter(audio.rate, block_size=min(0.400, (len(audio.samples) - 1) / audio.rate))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns on a clip that is already near full scale
        return float(meter.integrated_loudness(audio.samples))


def normalise(audio: Audio, target: float = CLIP_LUFS) -> tuple[Audio, float]:
    """Gain to `target` LUFS; refused if the peaks would then clip (a plosive right into the microphone)."""
    measured = loudness(audio)
    if not np.isfinite(measured):
        raise ClipRefused("silent: no part of it is loud enough to measure")
    gain = 10.0 ** ((target - measured) / 20.0)
    out = Audio(audio.samples * gain, audio.rate)
    peak_db = 20.0 * np.log10(max(float(np.max(np.abs(out.samples))), 1e-10))
    if peak_db > MAX_PEAK_DBFS:
        raise ClipRefused(f"peaks too high: at {target:.0f} LUFS they would reach {peak_db:+.1f} dBFS "
                          f"(speak a little further from the microphone)")
    return out, loudness(out)
