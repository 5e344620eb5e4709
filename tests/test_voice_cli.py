"""`kiosk device say`, run as a technician would: a real process writing a real WAV."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from devices.voice.clips import text_key
from tests.fixtures_media import wav_samples, write_tone

ROOT = Path(__file__).parents[1]


def say(*args: str | Path, tmp_path: Path, config_text: str = "") -> subprocess.CompletedProcess[str]:
    config = tmp_path / "kiosk.toml"
    config.write_text(config_text)  # built-in defaults, not whatever /etc/kiosk holds
    return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), "device", "say", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


def test_say_mandarin_writes_speech(tmp_path: Path) -> None:
    out = tmp_path / "out" / "zh.wav"
    proc = say("请把身份证放在读卡器上。", "--lang", "zh", "--out", out, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    samples, rate = wav_samples(out)
    assert len(samples) / rate > 0.5 and np.abs(samples).max() > 3000


def test_say_tibetan_without_clip_exits_3_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "bo.wav"
    proc = say("བཀྲ་ཤིས་བདེ་ལེགས།", "--lang", "bo", "--out", out, "--clip-dir", tmp_path / "clips",
               tmp_path=tmp_path)
    assert proc.returncode == 3
    assert "synthetic Tibetan voice is off" in proc.stderr and text_key("བཀྲ་ཤིས་བདེ་ལེགས།") in proc.stderr
    assert not out.exists()


def test_say_tibetan_with_the_synthetic_voice_says_it_is_synthetic(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    config = f'[devices.voice]\nsynthetic_bo = true\ncache_dir = "{cache}"\n'
    out = tmp_path / "bo.wav"
    proc = say("བཀྲ་ཤིས་བདེ་ལེགས།", "--lang", "bo", "--spoken", "བཀྲ་ཤིས བདེ་ལེགས།", "--out", out,
               tmp_path=tmp_path, config_text=config)
    assert proc.returncode == 0, proc.stderr
    assert "SYNTHETIC" in proc.stdout and "by words" in proc.stdout
    samples, rate = wav_samples(out)
    assert len(samples) / rate > 0.5 and np.abs(samples).max() > 3000
    # Without a spoken form it still speaks, and says it read syllable by syllable; Chinese it refuses.
    proc = say("བཀྲ་ཤིས་བདེ་ལེགས།", "--lang", "bo", "--out", out, tmp_path=tmp_path, config_text=config)
    assert proc.returncode == 0 and "unsegmented" in proc.stdout
    proc = say("欢迎", "--lang", "bo", "--synthetic", "--out", tmp_path / "zh.wav", tmp_path=tmp_path,
               config_text=config)
    assert proc.returncode == 3 and "cannot read" in proc.stderr and not (tmp_path / "zh.wav").exists()


def test_say_tibetan_from_clip(tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "clips" / "bo" / "welcome.wav")
    out = tmp_path / "bo.wav"
    proc = say("བཀྲ་ཤིས་བདེ་ལེགས།", "--lang", "bo", "--prompt-id", "welcome", "--clip-dir", tmp_path / "clips",
               "--out", out, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == clip.read_bytes()


def test_say_unknown_voice_fails_clearly(tmp_path: Path) -> None:
    proc = say("你好", "--lang", "zh", "--voice", "no-such-voice", "--out", tmp_path / "x.wav", tmp_path=tmp_path)
    assert proc.returncode == 1
    assert "no voice 'no-such-voice'" in proc.stderr
    assert not (tmp_path / "x.wav").exists()
