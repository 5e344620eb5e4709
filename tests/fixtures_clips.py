"""Fixtures for the clip studio: speech-like WAV files with silence around them, and `kiosk admin clips` in-process.

The takes are synthesised (a voiced tone with syllable-rate loudness changes and a faint noise floor
before and after), so a test knows exactly how long the sound is and how loud each file is.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

NOISE_FLOOR = 10 ** (-75 / 20)  # a quiet room through a decent headset


def speech_like(speech_s: float, *, amplitude: float = 0.3, lead_s: float = 0.5, tail_s: float = 0.7,
                rate: int = 48_000, seed: int = 1) -> np.ndarray:
    """`lead_s` of room noise, `speech_s` of a voiced sound (140 Hz and harmonics, 4 syllables/s), `tail_s` of noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(speech_s * rate)) / rate
    voiced = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 8))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    ramp = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.02)  # 20 ms attack and release
    speech = amplitude * voiced / np.max(np.abs(voiced)) * envelope * ramp
    x = np.concatenate([np.zeros(int(lead_s * rate)), speech, np.zeros(int(tail_s * rate))])
    return x + rng.normal(0.0, NOISE_FLOOR, len(x))


def write_wav(path: Path, samples: np.ndarray, rate: int = 48_000) -> Path:
    """16-bit PCM, as a phone or an audio recorder would deliver it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wavfile.write(path, rate, np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16))
    return path


def set_prompt_line(pack: Path, prompt: str, key: str, line: str | None) -> None:
    """Replace (or with None remove) the `key = ...` line of one prompt table in prompts.toml."""
    path = pack / "prompts.toml"
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"(^\[{re.escape(prompt)}\]\n(?:(?!\[).*\n)*?){key} = .*\n", re.M)
    new, n = pattern.subn(lambda m: m.group(1) + (f"{line}\n" if line else ""), text, count=1)
    assert n == 1, f"no {key} line in [{prompt}]"
    path.write_text(new, encoding="utf-8")


@pytest.fixture
def clips_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run `kiosk admin clips ARGS` through the admin command tree; (exit code, stdout, stderr)."""
    from central.admin.cli import register

    def run(*args: str | Path) -> tuple[int, str, str]:
        parser = argparse.ArgumentParser(prog="kiosk")
        register(parser.add_subparsers(dest="group"))
        capsys.readouterr()
        try:
            ns = parser.parse_args(["admin", "clips", *map(str, args)])
            code = ns.func(ns)
        except SystemExit as e:  # argparse refusing the usage
            code = int(e.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
