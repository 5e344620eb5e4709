"""`kiosk admin clips import`: clips from elsewhere are trimmed, brought to one loudness, or refused with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyloudnorm

from kiosk.clipstudio.audio import read_wav
from kiosk.content import load_pack
from kiosk.content_model import CLIP_LUFS, text_hash
from tests.fixtures_clips import speech_like, write_wav

TITLE = "service.old-age-allowance.title"


def _lufs(path: Path) -> float:
    audio = read_wav(path)
    return pyloudnorm.Meter(audio.rate).integrated_loudness(audio.samples)  # the standard 400 ms meter


def test_two_clips_of_different_loudness_come_out_at_the_pack_target_and_trimmed(tmp_path, pack_copy, clips_cli):
    src = tmp_path / "phone"
    quiet = write_wav(src / "home.wav", speech_like(1.2, amplitude=0.03, lead_s=0.6, tail_s=0.9))
    loud = write_wav(src / f"{TITLE}.wav", speech_like(2.0, amplitude=0.7, lead_s=0.3, tail_s=1.5, seed=2, rate=44_100),
                     rate=44_100)
    assert _lufs(loud) - _lufs(quiet) > 20  # as recorded: far apart

    code, out, err = clips_cli("import", src, pack_copy, "--lang", "bo")

    assert code == 0, out + err
    assert "2 imported (imported), 0 refused" in out
    home, title = pack_copy / "clips/bo/home.wav", pack_copy / f"clips/bo/{TITLE}.wav"
    for clip in (home, title):
        assert abs(_lufs(clip) - CLIP_LUFS) < 0.5
    # leading/trailing noise is gone; the sound and 0.1 s of air either side stay
    assert abs(read_wav(home).duration_s - (1.2 + 0.2)) < 0.05
    assert abs(read_wav(title).duration_s - (2.0 + 0.2)) < 0.05
    assert read_wav(title).rate == 44_100  # the source's rate is kept

    pack = load_pack(pack_copy)  # the loader finds both with their sidecars
    assert pack.clip_state("home", "bo") == "clip" and pack.clip_state(TITLE, "bo") == "clip"
    side = json.loads((pack_copy / "clips/bo/home.json").read_text())
    assert side["schema"] == "kiosk.clip/1" and side["origin"] == "imported"
    assert side["text_sha256"] == text_hash(pack.prompts["home"].text.bo)
    assert abs(side["lufs"] - CLIP_LUFS) < 0.1 and abs(side["duration_s"] - 1.4) < 0.05


def test_clipped_silent_and_unreadable_files_are_refused_with_reasons_and_nothing_written(
        tmp_path, pack_copy, clips_cli):
    src = tmp_path / "studio"
    write_wav(src / "home.wav", np.clip(speech_like(1.5, amplitude=2.0), -1, 1))  # overdriven input
    write_wav(src / "thanks.wav", speech_like(1.5, amplitude=0.0))                 # only room noise
    write_wav(src / "confirm.wav", speech_like(0.1))                               # a click, not a prompt
    write_wav(src / "feedback.wav", speech_like(1.0), rate=8_000)                  # telephone quality
    write_wav(src / "no_such_prompt.wav", speech_like(1.0))
    (src / "submitting.flac").write_bytes(b"fLaC")
    (src / "choose_service.wav").write_bytes(b"RIFF....not really")
    write_wav(src / "insert_card.wav", speech_like(1.0))                           # the one good file

    code, out, _ = clips_cli("import", src, pack_copy, "--lang", "bo", "--origin", "stand-in")

    assert code == 1
    assert "1 imported (stand-in), 7 refused" in out
    reasons = {line.split(":")[0].split()[-1]: line for line in out.splitlines() if "refused " in line}
    assert "clipped" in reasons["home.wav"] and "microphone gain" in reasons["home.wav"]
    assert "silent" in reasons["thanks.wav"]
    assert "too short" in reasons["confirm.wav"]
    assert "8000 Hz is too low" in reasons["feedback.wav"]
    assert "no prompt or service title 'no_such_prompt'" in reasons["no_such_prompt.wav"]
    assert "only WAV files" in reasons["submitting.flac"]
    assert "not a WAV file" in reasons["choose_service.wav"]
    written = sorted(p.name for p in (pack_copy / "clips/bo").iterdir())
    assert written == ["insert_card.json", "insert_card.wav"]  # no temporary or half-written file left
    assert json.loads((pack_copy / "clips/bo/insert_card.json").read_text())["origin"] == "stand-in"


def test_a_refused_file_leaves_the_clip_before_it_untouched(tmp_path, pack_copy, clips_cli):
    good, bad = tmp_path / "good", tmp_path / "bad"
    write_wav(good / "home.wav", speech_like(1.0))
    assert clips_cli("import", good, pack_copy, "--lang", "zh")[0] == 0
    before = {p.name: p.read_bytes() for p in (pack_copy / "clips/zh").iterdir()}
    write_wav(bad / "home.wav", speech_like(1.0, amplitude=0.0))

    code, out, _ = clips_cli("import", bad, pack_copy, "--lang", "zh")

    assert code == 1 and "silent" in out
    assert {p.name: p.read_bytes() for p in (pack_copy / "clips/zh").iterdir()} == before


def test_bad_folder_or_pack_is_a_usage_error(tmp_path, pack_copy, clips_cli):
    assert clips_cli("import", tmp_path / "nowhere", pack_copy, "--lang", "bo")[0] == 2
    (pack_copy / "pack.toml").write_text("id = [")
    code, _, err = clips_cli("import", tmp_path, pack_copy, "--lang", "bo")
    assert code == 2 and "pack.toml" in err
