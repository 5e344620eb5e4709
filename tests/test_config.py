"""The config file: a valid one loads; an invalid one names the key, the value and what was expected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import config

ROOT = Path(__file__).resolve().parents[1]


def test_example_config_is_valid():
    cfg = config.load(ROOT / "kiosk.example.toml")
    assert cfg.kiosk.id == "tk-0001"
    assert cfg.devices.printer.width_dots == 576
    assert cfg.devices.voice.tts_voice == "cmn-latn-pinyin"


def test_empty_file_gives_safe_defaults(tmp_path):
    p = tmp_path / "k.toml"
    p.write_text("")
    cfg = config.load(p)
    assert cfg.edge.allow_unsigned is False
    assert cfg.kiosk.idle_warning_s >= 20


@pytest.mark.parametrize(
    ("toml", "expect"),
    [
        ("[devices.printer]\nwidth_dots = 5000\n", ["devices.printer.width_dots", "5000", "less than or equal to 832"]),
        ("[kiosk]\ndefault_language = 'en'\n", ["kiosk.default_language", "'en'", "'bo' or 'zh'"]),
        ("[kiosk]\nidle_warning_s = 5\n", ["kiosk.idle_warning_s", "greater than or equal to 20"]),
        ("[devices.card_reader]\nbaud = 115200\n", ["devices.card_reader.baud", "unknown key"]),
        ("[edge]\norigin_url = 'ftp://x'\n", ["edge.origin_url", "http://"]),
    ],
)
def test_invalid_values_are_named(tmp_path, toml, expect):
    p = tmp_path / "k.toml"
    p.write_text(toml)
    with pytest.raises(config.ConfigError) as e:
        config.load(p)
    for fragment in expect:
        assert fragment in str(e.value)


def test_every_problem_is_reported_at_once(tmp_path):
    p = tmp_path / "k.toml"
    p.write_text("[kiosk]\nid = 'Bad Id!'\nidle_timeout_s = 1\n")
    with pytest.raises(config.ConfigError) as e:
        config.load(p)
    assert "2 problem(s)" in str(e.value)
    assert "kiosk.id" in str(e.value) and "kiosk.idle_timeout_s" in str(e.value)


def test_broken_toml_is_reported(tmp_path):
    p = tmp_path / "k.toml"
    p.write_text("[kiosk\n")
    with pytest.raises(config.ConfigError, match="not valid TOML"):
        config.load(p)


def test_cli_refuses_to_start_on_invalid_config(tmp_path):
    p = tmp_path / "k.toml"
    p.write_text("[devices.printer]\nwidth_dots = 'wide'\n")
    r = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(p), "config-check"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 78
    assert "devices.printer.width_dots = 'wide'" in r.stderr
    assert "valid integer" in r.stderr


def test_cli_names_a_missing_config_file(tmp_path):
    r = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(tmp_path / "nope.toml"), "config-check"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 78
    assert "config file not found" in r.stderr
