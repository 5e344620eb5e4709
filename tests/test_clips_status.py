"""`kiosk admin clips status`: what lacks a clip, what is stale, and how each text would be heard."""

from __future__ import annotations

import json

from kiosk.content import load_pack
from tests.fixtures_clips import set_prompt_line, speech_like, write_wav

TITLE = "service.old-age-allowance.title"


def _import(tmp_path, pack, clips_cli, lang, *keys):
    src = tmp_path / f"takes-{lang}"
    for i, key in enumerate(keys):
        write_wav(src / f"{key}.wav", speech_like(0.8, lead_s=0.1, tail_s=0.1, rate=16_000, seed=i), rate=16_000)
    assert clips_cli("import", src, pack, "--lang", lang)[0] == 0


def test_missing_stale_and_unsegmented_texts_are_reported(tmp_path, pack_copy, clips_cli):
    _import(tmp_path, pack_copy, clips_cli, "bo", "home", "thanks", TITLE)
    set_prompt_line(pack_copy, "home", "bo", 'bo = "ཤང་གི་དམངས་ཕན་ཞབས་ཞུའི་འཕྲུལ་ཆས་ལ་བྱོན་པ་ལེགས་སོ།"')  # reworded
    set_prompt_line(pack_copy, "choose_service", "spoken", None)  # no word boundaries any more
    total = len(load_pack(pack_copy).spoken_texts("bo"))

    code, out, _ = clips_cli("status", pack_copy, "--lang", "bo", "--json")

    assert code == 1
    bo = json.loads(out)["languages"]["bo"]
    assert bo["stale"] == ["home"]
    assert "thanks" not in bo["missing"] and TITLE not in bo["missing"] and "home" not in bo["missing"]
    assert len(bo["missing"]) == total - 3 and "choose_service" in bo["missing"]
    assert bo["synthetic_unsegmented"] == ["choose_service"]
    # a stale clip is still what a kiosk plays; the rest is the synthetic voice
    assert bo["counts"] == {"clip": 3, "synthetic": total - 3, "silent": 0}

    code, text, _ = clips_cli("status", pack_copy, "--lang", "bo")
    assert code == 1
    assert f"{total} texts: 3 clip, {total - 3} synthetic, 0 silent; {total - 3} without a clip, 1 stale" in text
    lines = {line.split()[1]: line for line in text.splitlines()[1:]}
    assert lines["home"].split()[0] == "stale"
    assert "synthetic, unsegmented (no spoken form)" in lines["choose_service"]
    assert "synthetic, segmented" in lines["insert_card"]


def test_without_the_synthetic_voice_tibetan_without_a_clip_is_silent_and_chinese_stays_synthetic(
        tmp_path, pack_copy, clips_cli):
    _import(tmp_path, pack_copy, clips_cli, "zh", "home")
    code, out, _ = clips_cli("status", pack_copy, "--json", "--no-synthetic-bo")
    assert code == 1
    langs = json.loads(out)["languages"]
    assert langs["bo"]["counts"]["clip"] == 0 and langs["bo"]["counts"]["synthetic"] == 0
    assert langs["bo"]["counts"]["silent"] == len(langs["bo"]["items"])
    assert langs["zh"]["counts"] == {"clip": 1, "synthetic": len(langs["zh"]["items"]) - 1, "silent": 0}


def test_every_text_with_a_fresh_clip_exits_0(tmp_path, pack_copy, clips_cli):
    keys = [st.key for st in load_pack(pack_copy).spoken_texts("bo")]
    _import(tmp_path, pack_copy, clips_cli, "bo", *keys)
    code, out, _ = clips_cli("status", pack_copy, "--lang", "bo")
    assert code == 0
    assert f"{len(keys)} texts: {len(keys)} clip, 0 synthetic, 0 silent; 0 without a clip, 0 stale" in out


def test_bad_pack_or_usage_exits_2(tmp_path, pack_copy, clips_cli):
    code, _, err = clips_cli("status", tmp_path / "nowhere")
    assert code == 2 and "not a pack folder" in err
    (pack_copy / "clips/bo").mkdir(parents=True)
    (pack_copy / "clips/bo/home.wav").write_bytes(b"")  # a clip without its sidecar
    code, _, err = clips_cli("status", pack_copy)
    assert code == 2 and "clips/bo/home.json" in err
    assert clips_cli("status", pack_copy, "--lang", "en")[0] == 2
