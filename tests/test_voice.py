"""Voice: clips first, Mandarin TTS, no wrong-language speech, stop/repeat/volume, faults.

The player is a real subprocess (see RecordingPlayer in fixtures_media): it keeps a copy of
each WAV it was given, which is what a resident would have heard through the speaker.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from devices.voice.clips import clip_dir_resolver, text_key
from devices.voice.tibetan import to_phonemes
from devices.voice.tts import TtsCache
from kiosk.status import Level
from tests.fixtures_media import eventually, pid_alive, wav_samples, write_tone

WELCOME_BO = "བཀྲ་ཤིས་བདེ་ལེགས། ཞབས་ཞུ་གདམ་རོགས།"
WELCOME_BO_SPOKEN = "བཀྲ་ཤིས བདེ་ལེགས། ཞབས་ཞུ གདམ་རོགས།"
WELCOME_ZH = "欢迎使用，请选择服务。"


def test_mandarin_without_clip_is_spoken_by_tts(make_voice, recording_player) -> None:
    voice = make_voice(recording_player.command(), volume_default=1.0)
    said = voice.speak(WELCOME_ZH, "zh", "welcome")
    assert said.spoken and said.source == "tts"
    assert voice.wait(timeout=60)
    [played] = recording_player.recordings()
    samples, rate = wav_samples(played)
    assert len(samples) / rate > 0.5 and np.abs(samples).max() > 3000
    assert voice.status.status().level is Level.OK
    assert voice.last_utterance == said


def test_recorded_clip_comes_before_tts(make_voice, recording_player, clips, tmp_path) -> None:
    clips[("welcome", "zh")] = write_tone(tmp_path / "zh-welcome.wav", freq=330)
    voice = make_voice(recording_player.command(), volume_default=1.0)
    said = voice.speak(WELCOME_ZH, "zh", "welcome")
    assert said.source == "clip" and said.clip == clips[("welcome", "zh")]
    assert voice.wait(timeout=10)
    [played] = recording_player.recordings()
    assert played.read_bytes() == clips[("welcome", "zh")].read_bytes()


def test_tibetan_with_clip_plays_the_clip(make_voice, recording_player, clips, tmp_path) -> None:
    clips[("welcome", "bo")] = write_tone(tmp_path / "bo-welcome.wav")
    voice = make_voice(recording_player.command(), volume_default=1.0)
    said = voice.speak(WELCOME_BO, "bo", "welcome")
    assert said.spoken and said.source == "clip"
    assert voice.wait(timeout=10)
    [played] = recording_player.recordings()
    assert played.read_bytes() == clips[("welcome", "bo")].read_bytes()
    assert voice.missing_clips == frozenset()
    assert voice.status.status().level is Level.OK


def test_tibetan_without_clip_is_not_spoken_and_is_reported(make_voice, recording_player, clips,
                                                            tmp_path) -> None:
    voice = make_voice(recording_player.command())
    changes: list[str] = []
    voice.status.subscribe(lambda _c, s: changes.append(s.code))
    said = voice.speak(WELCOME_BO, "bo", "welcome")
    assert not said.spoken and said.source == "none"
    assert voice.wait(timeout=10)
    assert recording_player.recordings() == []  # no Mandarin (or English) reading of Tibetan
    status = voice.status.status()
    assert (status.level, status.code) == (Level.DEGRADED, "missing_tibetan_clip")
    assert status.bo and status.zh and status.en and changes == ["missing_tibetan_clip"]
    assert voice.missing_clips == {"welcome"}
    # A line without a prompt id is listed by its text hash (the text itself may be personal).
    voice.speak("ཁྱེད་རང་གི་ལག་འཁྱེར་", "bo")
    assert voice.missing_clips == {"welcome", text_key("ཁྱེད་རང་གི་ལག་འཁྱེར་")}
    # The content update brings the clip: the prompt is spoken and drops off the list.
    clips[("welcome", "bo")] = write_tone(tmp_path / "bo.wav")
    assert voice.speak(WELCOME_BO, "bo", "welcome").spoken
    assert voice.missing_clips == {text_key("ཁྱེད་རང་གི་ལག་འཁྱེར་")}
    voice.clear_missing_clips()
    assert voice.status.status().level is Level.OK


def test_tibetan_without_clip_is_synthetic_when_switched_on(make_voice, recording_player, clips,
                                                            tmp_path) -> None:
    voice = make_voice(recording_player.command(), volume_default=1.0, synthetic_bo=True)
    said = voice.speak(WELCOME_BO, "bo", "welcome", spoken=WELCOME_BO_SPOKEN)
    assert said.spoken and said.source == "synthetic" and said.segmented
    assert said.phonemes == to_phonemes(WELCOME_BO, WELCOME_BO_SPOKEN).phonemes
    assert voice.wait(timeout=30)
    [played] = recording_player.recordings()
    samples, rate = wav_samples(played)
    assert len(samples) / rate > 1.0 and np.abs(samples).max() > 3000
    # Labelled as synthetic, and not a fault: the maintenance screen still lists the missing clip.
    status = voice.status.status()
    assert (status.level, status.code) == (Level.OK, "synthetic_tibetan") and "synthetic" in status.en
    assert voice.missing_clips == voice.synthetic_clips == {"welcome"}
    # A clip beats the synthetic voice, and the prompt drops off both lists.
    clips[("welcome", "bo")] = write_tone(tmp_path / "bo-welcome.wav")
    assert voice.speak(WELCOME_BO, "bo", "welcome", spoken=WELCOME_BO_SPOKEN).source == "clip"
    assert voice.wait(timeout=10)
    assert recording_player.recordings()[-1].read_bytes() == clips[("welcome", "bo")].read_bytes()
    assert voice.missing_clips == voice.synthetic_clips == frozenset()
    assert voice.status.status().code == "ok"


def test_synthetic_switch_off_means_silence_and_can_be_flipped(make_voice, recording_player) -> None:
    voice = make_voice(recording_player.command())
    assert voice.speak(WELCOME_BO, "bo", "welcome", spoken=WELCOME_BO_SPOKEN).source == "none"
    voice.synthetic_bo = True  # a config push turns it on
    again = voice.speak(WELCOME_BO, "bo", "welcome")
    assert again.source == "synthetic" and not again.segmented  # no spoken form: syllable by syllable
    assert voice.wait(timeout=30)
    voice.synthetic_bo = False  # native listeners judged it: off again
    assert voice.speak(WELCOME_BO, "bo", "welcome").source == "none"
    assert voice.wait(timeout=30)
    assert len(recording_player.recordings()) == 1
    assert voice.status.status().code == "missing_tibetan_clip"


def test_tibetan_is_never_read_in_chinese(make_voice, recording_player, shared_tts_cache) -> None:
    voice = make_voice(recording_player.command(), synthetic_bo=True)
    mixed = "ཁྱེད་ཀྱི་ལག་ཁྱེར 身份证"  # a Tibetan prompt with Chinese in it: the Tibetan voice cannot read it
    said = voice.speak(mixed, "bo", "mixed")
    assert said.source == "none"
    assert voice.speak(WELCOME_BO, "bo", "welcome").source == "synthetic"
    assert voice.wait(timeout=30)
    assert len(recording_player.recordings()) == 1  # only the Tibetan one
    assert not TtsCache(shared_tts_cache).path_for(mixed, voice.tts_voice).exists()  # Mandarin TTS never ran
    assert not TtsCache(shared_tts_cache).path_for(WELCOME_BO, voice.tts_voice).exists()
    status = voice.status.status()
    assert (status.level, status.code) == (Level.DEGRADED, "missing_tibetan_clip")  # one prompt is silent
    assert voice.missing_clips == {"mixed", "welcome"} and voice.synthetic_clips == {"welcome"}


def test_private_synthetic_tibetan_is_not_cached_and_repeat_keeps_the_spoken_form(
        make_voice, recording_player, tmp_path) -> None:
    cache = tmp_path / "cache"
    voice = make_voice(recording_player.command(), cache_dir=cache, synthetic_bo=True)
    said = voice.speak("ཁྱེད་ཀྱི་ཨང་གྲངས TK250101-7KQ2MX", "bo", private=True,
                       spoken="ཁྱེད་ཀྱི ཨང་གྲངས TK250101-7KQ2MX")
    assert said.source == "synthetic" and said.segmented
    assert voice.wait(timeout=30)
    again = voice.repeat()
    assert again is not None and again.segmented and again.phonemes == said.phonemes
    assert voice.wait(timeout=30)
    first, second = recording_player.recordings()
    assert first.read_bytes() == second.read_bytes()
    assert not (cache / "bo").exists() or not list((cache / "bo").iterdir())
    assert list(voice._tmp.iterdir()) == []
    assert "7KQ2MX" not in repr(said)


def test_stop_ends_playback_at_once(make_voice, recording_player, clips, tmp_path) -> None:
    clips[("long", "zh")] = write_tone(tmp_path / "long.wav")
    voice = make_voice(recording_player.command(hold=60))  # a long announcement
    voice.speak("请稍候", "zh", "long")
    assert eventually(lambda: recording_player.recordings())
    [pid] = recording_player.pids()
    assert pid_alive(pid) and voice.playing
    voice.stop()
    assert voice.wait(timeout=5)
    assert not pid_alive(pid)
    assert voice.status.status().level is Level.OK  # being stopped is not a fault


def test_new_prompt_interrupts_the_current_one(make_voice, recording_player, clips, tmp_path) -> None:
    clips[("a", "zh")] = write_tone(tmp_path / "a.wav", freq=300)
    clips[("b", "zh")] = write_tone(tmp_path / "b.wav", freq=600)
    voice = make_voice(recording_player.command(hold=60), volume_default=1.0)
    voice.speak("第一句", "zh", "a")
    assert eventually(lambda: recording_player.recordings())
    [first_pid] = recording_player.pids()
    voice.speak("第二句", "zh", "b")
    assert eventually(lambda: len(recording_player.recordings()) == 2)
    assert not pid_alive(first_pid)
    assert recording_player.recordings()[1].read_bytes() == clips[("b", "zh")].read_bytes()
    voice.stop()


def test_repeat_replays_the_last_utterance(make_voice, recording_player, clips, tmp_path) -> None:
    clips[("confirm", "bo")] = write_tone(tmp_path / "c.wav")
    voice = make_voice(recording_player.command())
    assert voice.repeat() is None  # nothing said yet
    voice.speak("ངོས་འཛིན་གནང་རོགས།", "bo", "confirm")
    assert voice.wait(timeout=10)
    again = voice.repeat()
    assert again is not None and again.source == "clip" and again.prompt_id == "confirm"
    assert voice.wait(timeout=10)
    first, second = recording_player.recordings()
    assert first.read_bytes() == second.read_bytes()


def test_volume_scales_what_is_played_and_resets(make_voice, recording_player, clips, tmp_path) -> None:
    clip = write_tone(tmp_path / "tone.wav", amplitude=20000)
    clips[("tone", "zh")] = clip
    voice = make_voice(recording_player.command(), volume_default=0.8)
    voice.set_volume(0.25)
    assert voice.volume == 0.25
    voice.speak("音量", "zh", "tone")
    assert voice.wait(timeout=10)
    voice.reset_volume()  # the next resident
    assert voice.volume == 0.8
    voice.speak("音量", "zh", "tone")
    assert voice.wait(timeout=10)
    quiet, normal = (np.abs(wav_samples(p)[0]).max() for p in recording_player.recordings())
    assert quiet == pytest.approx(20000 * 0.25, abs=2)
    assert normal == pytest.approx(20000 * 0.8, abs=2)
    voice.set_volume(1.7)
    assert voice.volume == 1.0
    voice.set_volume(-1)
    assert voice.volume == 0.0


def test_missing_player_is_a_fault_not_a_crash(make_voice, clips, tmp_path) -> None:
    clips[("x", "zh")] = write_tone(tmp_path / "x.wav")
    voice = make_voice("no-such-player-binary --flag")
    assert voice.status.status().code == "no_audio_output"
    assert voice.speak("测试", "zh", "x").spoken
    assert voice.wait(timeout=10)
    assert voice.status.status().code == "no_audio_output"


def test_player_that_fails_is_a_fault_and_recovers(make_voice, recording_player, clips, tmp_path) -> None:
    clips[("x", "zh")] = write_tone(tmp_path / "x.wav")
    voice = make_voice(recording_player.command())
    recording_player.unplug()
    voice.speak("测试", "zh", "x")
    assert voice.wait(timeout=10)
    status = voice.status.status()
    assert (status.level, status.code) == (Level.FAULT, "no_audio_output")
    recording_player.unplug(False)  # the technician plugs the speaker back in
    voice.speak("测试", "zh", "x")
    assert voice.wait(timeout=10)
    assert voice.status.status().level is Level.OK
    assert len(recording_player.recordings()) == 1


@pytest.mark.skipif(shutil.which("aplay") is None, reason="alsa-utils not installed")
def test_real_aplay_null_device_plays_and_default_device_reports_missing_card(make_voice, clips,
                                                                             tmp_path) -> None:
    clips[("x", "zh")] = write_tone(tmp_path / "x.wav")
    voice = make_voice("aplay -q -D null")
    voice.speak("测试", "zh", "x")
    assert voice.wait(timeout=10)
    assert voice.status.status().level is Level.OK
    has_card = subprocess.run(["aplay", "-q", str(clips[("x", "zh")])], capture_output=True,
                              check=False).returncode == 0
    if has_card:
        pytest.skip("this machine has a sound card: the no-card path cannot be shown")
    voice2 = make_voice("aplay -q")
    voice2.speak("测试", "zh", "x")
    assert voice2.wait(timeout=10)
    assert voice2.status.status().code == "no_audio_output"


def test_private_text_is_spoken_but_not_cached(make_voice, recording_player, tmp_path) -> None:
    cache = tmp_path / "cache"
    voice = make_voice(recording_player.command(), cache_dir=cache)
    said = voice.speak("王某某，您的业务已受理。", "zh", private=True)
    assert said.source == "tts" and said.private
    assert voice.wait(timeout=60)
    assert len(recording_player.recordings()) == 1
    assert not cache.exists() or not list(cache.iterdir())
    assert list(voice._tmp.iterdir()) == []  # the private rendering is gone after playback


def test_spoken_text_never_reaches_the_log(make_voice, recording_player, caplog) -> None:
    caplog.set_level("DEBUG")
    voice = make_voice(recording_player.command())
    secret = "张三丰 110101199003071234"
    voice.speak(secret, "bo")  # not spoken, reported as missing
    voice.speak(secret, "zh", private=True)
    assert voice.wait(timeout=60)
    assert "张三丰" not in caplog.text and "199003071234" not in caplog.text
    assert "张三丰" not in repr(voice.last_utterance)


def test_unknown_language_is_refused(make_voice, recording_player) -> None:
    voice = make_voice(recording_player.command())
    with pytest.raises(ValueError, match="bo or zh"):
        voice.speak("hello", "en")  # type: ignore[arg-type]


def test_broken_clip_store_still_speaks_mandarin(make_voice, recording_player) -> None:
    def broken(key: str, lang: str) -> Path | None:
        raise OSError("content store unreadable")

    voice = make_voice(recording_player.command(), clip_resolver=broken)
    assert voice.speak(WELCOME_ZH, "zh").source == "tts"
    assert voice.wait(timeout=60)
    assert len(recording_player.recordings()) == 1


def test_clip_dir_resolver_layout_and_no_escape(tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "clips" / "bo" / "welcome.wav")
    write_tone(tmp_path / "secret.wav")
    resolve = clip_dir_resolver(tmp_path / "clips")
    assert resolve("welcome", "bo") == clip
    assert resolve("welcome", "zh") is None
    assert resolve("../../secret", "bo") is None
