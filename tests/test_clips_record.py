"""`kiosk admin clips record`: the Qt recording window stores checked, trimmed, normalised takes in the pack.

This machine has no sound card: takes come from WAV files through the studio's WAV source (the same
code path as `--from-wav`), and play-back runs the real `aplay` on ALSA's null device.
"""

from __future__ import annotations

import json
import shutil

import pyloudnorm
import pytest

from kiosk.clipstudio.audio import read_wav
from kiosk.clipstudio.capture import CaptureError, MicCapture, WavCapture
from kiosk.clipstudio.session import RecordSession
from kiosk.clipstudio.status import lang_status
from kiosk.content import load_pack
from kiosk.content_model import CLIP_LUFS, text_hash
from tests.fixtures_clips import speech_like, write_wav

pytestmark = pytest.mark.skipif(shutil.which("aplay") is None, reason="needs aplay (alsa-utils)")


@pytest.fixture
def studio(tmp_path, pack_copy, qtbot):
    from ui.clip_studio.window import ClipStudioWindow

    takes = tmp_path / "takes"
    write_wav(takes / "home.wav", speech_like(1.6, amplitude=0.05, lead_s=0.8, tail_s=0.6))
    write_wav(takes / "thanks.wav", speech_like(1.0, amplitude=0.0))  # the microphone was muted
    by_key = {i.key: i for i in lang_status(load_pack(pack_copy), "bo").items}
    items = [by_key["home"], by_key["thanks"], by_key["choose_service"]]
    session = RecordSession(pack_copy, "bo", items, WavCapture(takes))
    window = ClipStudioWindow(session, ["aplay", "-q", "-D", "null"])
    qtbot.addWidget(window)
    window.show()
    yield window
    session.close()


def _click(qtbot, button):
    assert button.isEnabled(), button.text()
    button.click()


def test_a_take_is_played_back_and_saved_with_its_text_hash(studio, pack_copy, qtbot):
    pack = load_pack(pack_copy)
    home = pack.prompts["home"].text
    assert studio.main_text.text() == home.bo and studio.other_text.text() == home.zh
    assert home.en in studio.gloss.text()
    assert not studio.next_btn.isEnabled()  # nothing to save yet

    _click(qtbot, studio.record_btn)
    assert "Stop" in studio.record_btn.text() and not studio.skip_btn.isEnabled()
    _click(qtbot, studio.record_btn)
    assert "Take OK" in studio.take_line.text()

    _click(qtbot, studio.play_btn)
    qtbot.waitUntil(lambda: "Played back" in studio.play_line.text(), timeout=10_000)
    assert not (pack_copy / "clips/bo/home.wav").exists()  # heard, not yet saved

    _click(qtbot, studio.next_btn)
    clip = read_wav(pack_copy / "clips/bo/home.wav")
    assert abs(clip.duration_s - (1.6 + 0.2)) < 0.05  # 0.8 s before and 0.6 s after trimmed away
    assert abs(pyloudnorm.Meter(clip.rate).integrated_loudness(clip.samples) - CLIP_LUFS) < 0.5
    side = json.loads((pack_copy / "clips/bo/home.json").read_text())
    assert side["origin"] == "recorded" and side["text_sha256"] == text_hash(home.bo)
    assert load_pack(pack_copy).clip_state("home", "bo") == "clip"
    assert studio.main_text.text() == pack.prompts["thanks"].text.bo  # on to the next text


def test_a_refused_take_says_why_and_can_only_be_retaken_or_skipped(studio, pack_copy, qtbot):
    _click(qtbot, studio.skip_btn)  # past home
    _click(qtbot, studio.record_btn)
    _click(qtbot, studio.record_btn)
    assert "silent" in studio.take_line.text() and "microphone" in studio.take_line.text()
    assert not studio.next_btn.isEnabled() and not studio.play_btn.isEnabled()
    assert studio.retake_btn.isEnabled()

    _click(qtbot, studio.skip_btn)
    _click(qtbot, studio.record_btn)  # choose_service: there is no take for it
    assert "Cannot record" in studio.take_line.text() and "choose_service.wav" in studio.take_line.text()
    _click(qtbot, studio.skip_btn)

    assert "Done: 0 saved, 3 skipped" in studio.main_text.text()
    assert not any(b.isEnabled() for b in (studio.record_btn, studio.play_btn, studio.skip_btn, studio.next_btn))
    assert not (pack_copy / "clips").exists()


def test_play_back_through_a_player_that_fails_says_so(studio, qtbot):
    studio.player = ["aplay", "-q", "-D", "no-such-device"]
    _click(qtbot, studio.record_btn)
    _click(qtbot, studio.record_btn)
    _click(qtbot, studio.play_btn)
    qtbot.waitUntil(lambda: "Play-back failed" in studio.play_line.text(), timeout=10_000)


def test_the_microphone_without_a_sound_card_is_a_readable_error():
    sounddevice = pytest.importorskip("sounddevice")
    if any(d["max_input_channels"] > 0 for d in sounddevice.query_devices()):
        pytest.skip("this machine has a microphone")
    with pytest.raises(CaptureError, match="cannot open the microphone"):
        MicCapture().start("home")


def test_record_refuses_unknown_keys_and_has_nothing_to_do_when_every_clip_is_fresh(tmp_path, pack_copy, clips_cli):
    code, _, err = clips_cli("record", pack_copy, "--lang", "bo", "--only", "home", "nope")
    assert code == 2 and "nope" in err
    takes = tmp_path / "takes"
    keys = [st.key for st in load_pack(pack_copy).spoken_texts("bo")]
    for key in keys:
        write_wav(takes / f"{key}.wav", speech_like(0.6, lead_s=0.1, tail_s=0.1, rate=16_000), rate=16_000)
    assert clips_cli("import", takes, pack_copy, "--lang", "bo")[0] == 0
    code, out, _ = clips_cli("record", pack_copy, "--lang", "bo", "--from-wav", takes)
    assert code == 0 and "has a fresh clip" in out


def test_the_record_command_opens_the_window_and_keeps_what_was_saved(tmp_path, pack_copy, clips_cli, qapp):
    from PySide6.QtCore import QTimer

    from ui.clip_studio.window import ClipStudioWindow

    take = write_wav(tmp_path / "take.wav", speech_like(1.0))

    def recorder() -> None:  # what a person at the window does, once it is up
        window = next(w for w in qapp.topLevelWidgets() if isinstance(w, ClipStudioWindow))
        window.record_btn.click()
        window.record_btn.click()
        window.next_btn.click()
        window.close()

    QTimer.singleShot(0, recorder)
    code, out, _ = clips_cli("record", pack_copy, "--lang", "zh", "--from-wav", take, "--only", "thanks", "home")

    assert code == 0
    assert "clips/zh: 1 saved, 0 skipped, 1 not reached" in out
    assert json.loads((pack_copy / "clips/zh/thanks.json").read_text())["origin"] == "recorded"
    assert not (pack_copy / "clips/zh/home.wav").exists()
