"""Volume without a mixer: a copy of the WAV with its samples scaled.

The kiosk cannot count on an ALSA mixer control (USB speakers differ, and this build machine
has no sound card at all), so the volume is applied to the samples and any player that plays a
WAV file plays it at that volume.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

# WAV sample width in bytes -> numpy type, and the value of silence (8-bit WAV is unsigned).
_FORMATS: dict[int, tuple[type[np.integer], int]] = {1: (np.uint8, 128), 2: (np.int16, 0), 4: (np.int32, 0)}


class UnsupportedWav(Exception):
    """Not a PCM WAV this module can scale (compressed, 24-bit, not a WAV at all)."""


def write_scaled(src: Path, dst: Path, volume: float) -> Path:
    """Write src to dst with every sample multiplied by volume (0..1)."""
    try:
        with wave.open(str(src), "rb") as r:
            params = r.getparams()
            raw = r.readframes(params.nframes)
    except (wave.Error, EOFError) as e:
        raise UnsupportedWav(f"{src.name}: {e}") from None
    if params.comptype != "NONE" or params.sampwidth not in _FORMATS:
        raise UnsupportedWav(f"{src.name}: {params.sampwidth * 8}-bit {params.comptype}")
    dtype, zero = _FORMATS[params.sampwidth]
    info = np.iinfo(dtype)
    samples = np.frombuffer(raw, dtype=dtype).astype(np.float64)
    scaled = np.clip((samples - zero) * volume + zero, info.min, info.max).round().astype(dtype)
    with wave.open(str(dst), "wb") as w:
        w.setparams(params)
        w.writeframes(scaled.tobytes())
    return dst
