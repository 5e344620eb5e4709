"""Issue-11 content: spoken forms, processing times, the hotline, and recorded clips with their sidecars."""

from __future__ import annotations

import json
import math
import re
import struct
import wave
from pathlib import Path

import pytest

from central.admin.pack import build
from kiosk.content import (
    CLIP_SCHEMA,
    ClipMeta,
    Pack,
    PackError,
    load_pack,
    pack_files,
    text_hash,
    title_key,
)

_SYLLABLE_SPLIT = re.compile(r"[\u0f0b\u0f0d ]+")  # tsheg, shad, and the spaces between spoken words
_DIGITS_OR_LATIN = re.compile(r"[0-9A-Za-z\u0f20-\u0f33]")


def _syllables(text: str) -> list[str]:
    return [s for s in _SYLLABLE_SPLIT.split(text) if s]


def _write_clip(root: Path, lang: str, key: str, text: str, origin: str = "stand-in") -> Path:
    """A real WAV (a short tone) and its sidecar, as the clip studio leaves them."""
    wav = root / "clips" / lang / f"{key}.wav"
    wav.parent.mkdir(parents=True, exist_ok=True)
    rate = 16000
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(rate // 4))
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    meta = ClipMeta(text_sha256=text_hash(text), origin=origin, lufs=-23.0, duration_s=0.25,
                    made_at="2025-01-01T00:00:00Z")
    wav.with_suffix(".json").write_bytes(meta.sidecar_bytes())
    return wav


def _problems(root: Path) -> list[str]:
    with pytest.raises(PackError) as e:
        load_pack(root)
    return [str(p) for p in e.value.problems]


# --- the demo pack's issue-11 content --------------------------------------------------------------

def test_every_demo_service_says_how_long_it_takes_and_what_happens_next(demo_pack: Pack) -> None:
    for s in demo_pack.services.values():
        assert s.processing_time and s.processing_time.bo and s.processing_time.zh, s.id
        assert s.next_steps and s.next_steps.bo and s.next_steps.zh, s.id
    assert demo_pack.services["old-age-allowance"].processing_time.zh == "20个工作日"
    assert demo_pack.contact is not None and demo_pack.contact.phone == "12345"
    assert demo_pack.contact.name.bo and demo_pack.contact.name.zh


def test_demo_spoken_forms_are_the_same_words_divided(demo_pack: Pack) -> None:
    """A spoken form must say what the screen says: the same syllables, only grouped into words."""
    spoken = demo_pack.spoken_texts("bo")
    assert {t.key for t in spoken} == set(demo_pack.prompts) | {title_key(s) for s in demo_pack.services}
    for t in spoken:
        assert t.spoken, f"{t.key} has no spoken form"
        assert " " in t.spoken, f"{t.key}: no word boundaries"
        assert not _DIGITS_OR_LATIN.search(t.spoken), f"{t.key}: numbers and loanwords must be spelled out"
        if not _DIGITS_OR_LATIN.search(t.text):
            assert _syllables(t.spoken) == _syllables(t.text), t.key
    enter_phone = next(t for t in spoken if t.key == "enter_phone")
    assert "11" in enter_phone.text and "བཅུ་གཅིག" in enter_phone.spoken


def test_text_hash_ignores_normalisation_and_surrounding_space() -> None:
    assert text_hash("  e\u0301 \n") == text_hash("\u00e9")
    assert text_hash("ཁྱེད") != text_hash("ཁྱེད་")
    assert re.fullmatch(r"[0-9a-f]{64}", text_hash("x"))


# --- clips by convention ---------------------------------------------------------------------------

def test_conventional_clips_are_attached_with_their_sidecars(pack_copy: Path) -> None:
    pack = load_pack(pack_copy)
    assert pack.clip_state("home", "bo") == "missing"
    _write_clip(pack_copy, "bo", "home", pack.prompts["home"].text.bo, origin="imported")
    title = pack.services["old-age-allowance"].title
    _write_clip(pack_copy, "bo", title_key("old-age-allowance"), title.bo)

    pack = load_pack(pack_copy)
    assert pack.prompts["home"].clips == {"bo": "clips/bo/home.wav"}
    assert pack.prompts["home"].clip_meta["bo"].origin == "imported"
    assert pack.clip_path("home", "bo") == pack_copy / "clips" / "bo" / "home.wav"
    assert pack.clip_state("home", "bo") == "clip" and pack.clip_state("home", "zh") == "missing"
    assert "home" not in pack.missing_clips("bo")
    service = pack.services["old-age-allowance"]
    assert service.title_clips == {"bo": "clips/bo/service.old-age-allowance.title.wav"}
    assert service.title_clip_meta["bo"].origin == "stand-in"
    assert pack.clip_state(title_key("old-age-allowance"), "bo") == "clip"
    assert pack.clip_path(title_key("old-age-allowance"), "bo").is_file()
    assert {Path("clips/bo/home.wav"), Path("clips/bo/home.json")} <= set(pack_files(pack_copy))


def test_a_clip_goes_stale_when_its_text_changes(pack_copy: Path) -> None:
    old = load_pack(pack_copy).prompts["thanks"].text.bo
    _write_clip(pack_copy, "bo", "thanks", old)
    prompts = pack_copy / "prompts.toml"
    prompts.write_text(prompts.read_text(encoding="utf-8").replace(f'bo = "{old}"', 'bo = "ཐུགས་རྗེ་ཆེ།"'),
                       encoding="utf-8")
    pack = load_pack(pack_copy)
    assert pack.clip_state("thanks", "bo") == "stale"
    assert pack.clip_path("thanks", "bo") is not None  # still playable; the studio lists it for a re-take


def test_bad_clips_are_problems_with_their_paths(pack_copy: Path) -> None:
    home = load_pack(pack_copy).prompts["home"].text.bo
    _write_clip(pack_copy, "bo", "home", home)
    (pack_copy / "clips" / "bo" / "home.json").write_text('{"schema": "kiosk.clip/1", "origin": "recorded"}')
    _write_clip(pack_copy, "bo", "no_such_prompt", "x")
    _write_clip(pack_copy, "bo", "thanks", "x").with_suffix(".json").unlink()
    _write_clip(pack_copy, "zh", "confirm", "x").with_suffix(".json").write_text("{not json")
    (pack_copy / "clips" / "bo" / "choose_service.wav").write_bytes(b"ID3 an mp3, not a wav")
    (pack_copy / "clips" / "bo" / "choose_service.json").write_bytes(
        ClipMeta(text_sha256="0" * 64, origin="recorded", lufs=-23, duration_s=1).sidecar_bytes())
    problems = "\n".join(_problems(pack_copy))
    assert "clips/bo/home.json: text_sha256: required key is missing" in problems
    assert "clips/bo/no_such_prompt.wav: no prompt or service title is called 'no_such_prompt'" in problems
    assert "clips/bo/thanks.json: file is missing (every clip needs its sidecar)" in problems
    assert "clips/zh/confirm.json: not valid JSON" in problems
    assert "clips/bo/choose_service.wav: not a WAV file" in problems


def test_sidecar_schema_and_origin_are_checked(pack_copy: Path) -> None:
    wav = _write_clip(pack_copy, "bo", "home", "x")
    side = json.loads(wav.with_suffix(".json").read_text())
    assert side["schema"] == CLIP_SCHEMA
    wav.with_suffix(".json").write_text(json.dumps({**side, "schema": "kiosk.clip/9", "origin": "tts"}))
    problems = "\n".join(_problems(pack_copy))
    assert "clips/bo/home.json: schema:" in problems and "kiosk.clip/1" in problems
    assert "clips/bo/home.json: origin:" in problems and "stand-in" in problems


def test_pack_build_ships_clips_and_sidecars(pack_copy: Path, tmp_path: Path) -> None:
    _write_clip(pack_copy, "bo", "home", load_pack(pack_copy).prompts["home"].text.bo)
    built, manifest = build(pack_copy, tmp_path / "out", version=1)
    paths = {f.path for f in manifest.files}
    assert {"clips/bo/home.wav", "clips/bo/home.json"} <= paths
    again = load_pack(tmp_path / "out")
    assert again.clip_state("home", "bo") == "clip"
    assert again.prompts["home"].clip_meta == built.prompts["home"].clip_meta


def test_clips_and_contact_survive_json(pack_copy: Path) -> None:
    _write_clip(pack_copy, "bo", "home", load_pack(pack_copy).prompts["home"].text.bo)
    pack = load_pack(pack_copy)
    again = Pack.from_dict(json.loads(json.dumps(pack.to_dict(), ensure_ascii=False)))
    assert again == pack
    assert again.clip_state("home", "bo") == "clip" and again.contact == pack.contact
