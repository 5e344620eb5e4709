"""The content model and loader, against the real demo pack and broken copies of it."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path

import pytest

from kiosk.content import (
    CARD_FIELDS,
    CATEGORIES,
    DEMO_PACK_DIR,
    REQUIRED_PROMPTS,
    BlankForm,
    Guide,
    Pack,
    PackError,
    Problem,
    Prompt,
    Service,
    Text,
    load_pack,
    pack_files,
    parse_markdown,
)

TIBETAN = re.compile(r"[\u0f00-\u0fff]")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _texts(pack: Pack) -> list[tuple[str, Text]]:
    """Every resident-facing Text in the pack, with where it lives."""
    out: list[tuple[str, Text]] = [("pack.title", pack.title)]
    for s in pack.services.values():
        out += [(f"{s.id}.title", s.title), (f"{s.id}.summary", s.summary)]
        out += [(f"{s.id}.documents", t) for t in s.documents]
        for f in s.fields:
            out.append((f"{s.id}.{f.id}.label", f.label))
            out += [(f"{s.id}.{f.id}.hint", f.hint)] if f.hint else []
            out += [(f"{s.id}.{f.id}.{c.value}", c.label) for c in f.choices]
    for form in pack.forms.values():
        out.append((f"form {form.id}", form.title))
        out += [(f"form {form.id} field", f.label) for f in form.fields]
    out += [(f"prompt {p.id}", p.text) for p in pack.prompts.values()]
    return out


# --- the demo pack -------------------------------------------------------------------------------

def test_demo_pack_has_the_real_township_services(demo_pack: Pack) -> None:
    assert {"old-age-allowance", "pension-certification", "grassland-subsidy", "residence-certificate",
            "medical-reimbursement", "insurance-payment-lookup"} <= set(demo_pack.services)
    assert demo_pack.services["old-age-allowance"].title.zh == "高龄津贴申请"
    assert demo_pack.services["pension-certification"].title.zh == "养老金领取资格认证"
    # home-screen order is the one pack.toml asks for
    assert list(demo_pack.services)[:2] == ["old-age-allowance", "pension-certification"]
    for s in demo_pack.services.values():
        assert s.category in CATEGORIES
        assert s.documents, f"{s.id} tells residents nothing to bring"
        if s.has_step("submit"):
            assert s.platform_service_code and s.has_step("receipt")
    assert [s.kind for s in demo_pack.services["medical-reimbursement"].steps] == ["guide"]
    assert demo_pack.warnings == ()


def test_every_demo_text_is_in_tibetan_and_chinese(demo_pack: Pack) -> None:
    texts = _texts(demo_pack)
    assert len(texts) > 150
    for where, t in texts:
        assert TIBETAN.search(t.bo), f"{where}: bo is not Tibetan script"
        assert CHINESE.search(t.zh), f"{where}: zh is not Chinese"
        assert t.en, f"{where}: no English"
        assert t.bo != t.zh


def test_demo_prompts_cover_every_ui_screen(demo_pack: Pack) -> None:
    assert set(REQUIRED_PROMPTS) <= set(demo_pack.prompts)
    # prompts a service names for its own steps exist
    for s in demo_pack.services.values():
        for step in s.steps:
            assert step.prompt is None or step.prompt in demo_pack.prompts


def test_demo_audio_is_reported_missing_not_faked(demo_pack: Pack) -> None:
    assert not (DEMO_PACK_DIR / "audio").exists()
    missing = set(demo_pack.missing_clips("bo"))
    for p in demo_pack.prompts.values():
        assert (p.id in missing) == (demo_pack.clip_state(p.id, "bo") == "missing")
        if "bo" in p.clips:  # no native recording exists yet: any demo clip is labelled a stand-in
            assert p.clip_meta["bo"].origin == "stand-in", p.id


def test_demo_guides_are_complete_and_generic(demo_pack: Pack) -> None:
    for s in demo_pack.services.values():
        if s.guide is None:
            continue
        guide = demo_pack.guides[s.guide]
        for lang in ("bo", "zh", "en"):
            blocks = guide.blocks(lang)
            assert blocks[0].kind == "heading" and blocks[0].level == 1
            assert any(b.kind in ("bullet", "numbered") for b in blocks)
        assert TIBETAN.search(guide.text("bo"))
        assert "不收取任何费用" in guide.text("zh"), f"{s.guide}: fees are not stated"
        for lang in ("bo", "zh", "en"):
            # no invented phone numbers or hotlines: offices are named, never dialled
            assert not re.search(r"\d{5,}", guide.text(lang)), f"{s.guide}.{lang} holds a number like a phone"


def test_demo_forms_are_printable(demo_pack: Pack) -> None:
    assert {"old-age-allowance", "grassland-subsidy", "residence-certificate", "medical-reimbursement"} <= \
        set(demo_pack.forms)
    for form in demo_pack.forms.values():
        assert len(form.fields) >= 5
        assert all(1 <= f.lines <= 20 for f in form.fields)


def test_demo_fields_work_with_the_flow_validation(demo_pack: Pack) -> None:
    from kiosk.flows.validation import validate

    old_age = {f.id: f for f in demo_pack.services["old-age-allowance"].fields}
    assert validate(old_age["phone"], "13800138000") is None
    assert validate(old_age["phone"], "12345") == "phone"
    assert validate(old_age["phone"], "") == "required"
    assert validate(old_age["payout_account"], "bank_card") is None
    assert validate(old_age["payout_account"], "cash") == "choice"
    grass = {f.id: f for f in demo_pack.services["grassland-subsidy"].fields}
    assert validate(grass["area_mu"], "350.5") is None
    assert validate(grass["area_mu"], "0") == "too_small"
    assert validate(grass["contract_number"], "NM-2019-0042") is None
    assert validate(grass["contract_number"], "第12号") == "pattern"
    assert validate(grass["livestock_units"], "") is None  # optional


def test_pack_files_ship_only_the_pack(tmp_path: Path) -> None:
    files = {p.as_posix() for p in pack_files(DEMO_PACK_DIR)}
    assert {"pack.toml", "prompts.toml", "services/old-age-allowance.toml", "guides/old-age-allowance.bo.md",
            "forms/old-age-allowance.toml", "images/old-age-allowance.png"} <= files
    assert "README.md" not in files and "make_icons.py" not in files


# --- JSON round trip -------------------------------------------------------------------------------

def test_everything_survives_json(demo_pack: Pack) -> None:
    again = Pack.from_dict(json.loads(json.dumps(demo_pack.to_dict(), ensure_ascii=False)))
    assert again == demo_pack
    for s in demo_pack.services.values():
        assert Service.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    for g in demo_pack.guides.values():
        assert Guide.from_dict(json.loads(json.dumps(g.to_dict()))) == g
    for f in demo_pack.forms.values():
        assert BlankForm.from_dict(json.loads(json.dumps(f.to_dict()))) == f
    for p in demo_pack.prompts.values():
        assert Prompt.from_dict(json.loads(json.dumps(p.to_dict()))) == p


def test_text_falls_back_to_chinese_then_english() -> None:
    assert Text("བོད་ཡིག", "中文", "English").get("bo") == "བོད་ཡིག"
    assert Text("", "中文", "English").get("bo") == "中文"
    assert Text("བོད་ཡིག", "中文").get("en") == "中文"
    assert Text("", "", "English").get("zh") == "English"
    assert Text("བོད་ཡིག", "中文", "English").get("fr") == "中文"


def test_markdown_subset() -> None:
    blocks = parse_markdown("# 标题\n\n第一行\n第二行\n\n- 身份证\n* 户口簿\n1. 刷卡\n2. 提交\n\nwrapped\nEnglish\n")
    assert [(b.kind, b.text, b.level) for b in blocks] == [
        ("heading", "标题", 1), ("paragraph", "第一行第二行", 0), ("bullet", "身份证", 0),
        ("bullet", "户口簿", 0), ("numbered", "刷卡", 1), ("numbered", "提交", 2),
        ("paragraph", "wrapped English", 0)]


# --- broken packs ------------------------------------------------------------------------------------

def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _problems(root: Path) -> list[Problem]:
    with pytest.raises(PackError) as e:
        load_pack(root)
    return e.value.problems


def _has(problems: list[Problem], file: str, key: str, reason: str) -> bool:
    return any(p.file == file and p.key == key and reason in p.reason for p in problems)


def test_a_broken_pack_lists_every_problem(pack_copy: Path) -> None:
    s = pack_copy / "services"
    _edit(s / "old-age-allowance.toml", 'source = "id_masked"', 'source = "idnumber"')
    _edit(s / "residence-certificate.toml", 'platform_service_code = "HH-0401"\n', "")
    _edit(s / "pension-certification.toml", 'bo = "རྒས་གསོའི་མ་དངུལ་ལེན་པའི་ཆ་རྐྱེན་ར་སྤྲོད།"\n', "")
    _edit(s / "grassland-subsidy.toml", 'id = "household_size"', 'id = "area_mu"')
    _edit(s / "medical-reimbursement.toml", 'category = "medical"', 'category = "medical"\ncolour = "red"')
    _edit(s / "progress-lookup.toml", 'query = "progress"', 'query = "progress"\n\n[[steps]]\nkind = "receipt"')
    (pack_copy / "guides" / "residence-certificate.bo.md").unlink()
    (pack_copy / "images" / "insurance-payment-lookup.png").unlink()
    _edit(pack_copy / "forms" / "grassland-subsidy.toml", "lines = 2", "lines = 0")
    _edit(pack_copy / "prompts.toml", "[thanks]", "[thanks_old]")
    _edit(pack_copy / "prompts.toml", 'en = "Tap the service you need."',
          'en = "Tap the service you need."\nclip_bo = "audio/bo/choose.wav"')
    (s / "broken.toml").write_text('id = "broken"\ntitle = \n', encoding="utf-8")

    problems = _problems(pack_copy)
    expected = [
        ("services/old-age-allowance.toml", "steps[1].fields[1].source", "'idnumber' is not a card field"),
        ("services/residence-certificate.toml", "platform_service_code", "required because the service has a submit"),
        ("services/pension-certification.toml", "title.bo", "text is missing"),
        ("services/grassland-subsidy.toml", "steps[2].fields[3].id", "'area_mu' is already used by steps[2].fields[1]"),
        ("services/medical-reimbursement.toml", "colour", "unknown key"),
        ("services/progress-lookup.toml", "steps[2]", "receipt must come after a submit"),
        ("guides/residence-certificate.bo.md", "", "file is missing"),
        ("services/insurance-payment-lookup.toml", "icon", "images/insurance-payment-lookup.png does not exist"),
        ("forms/grassland-subsidy.toml", "fields[2].lines", "must be between 1 and 20"),
        ("prompts.toml", "thanks", "built-in prompt is missing"),
        ("prompts.toml", "choose_service.clip_bo", "audio/bo/choose.wav does not exist"),
        ("services/broken.toml", "", "not valid TOML"),
    ]
    for file, key, reason in expected:
        assert _has(problems, file, key, reason), f"missing problem {file}: {key}: {reason}\n" + \
            "\n".join(map(str, problems))
    lines = str(PackError(problems)).splitlines()
    assert len(lines) == len(problems)
    assert ("services/old-age-allowance.toml: steps[1].fields[1].source: 'idnumber' is not a card field "
            f"(expected one of {', '.join(CARD_FIELDS)})") in lines


@pytest.mark.parametrize(("file", "old", "new", "key", "reason"), [
    ("services/residence-certificate.toml", '[[steps]]\nkind = "identify"\nmethods = ["card"]\n', "",
     "steps[2]", "submit needs an identify step before it"),
    ("services/residence-certificate.toml", '[[steps]]\nkind = "confirm"\n', "",
     "steps[2]", "submit needs a confirm step before it"),
    ("services/residence-certificate.toml", 'methods = ["card"]', 'methods = ["qr"]',
     "steps[1]", "fields with a card source need an identify step with 'card'"),
    ("services/residence-certificate.toml", 'methods = ["card"]', 'methods = ["card", "fingerprint"]',
     "steps[0].methods", "must be a non-empty list of card, qr"),
    ("services/residence-certificate.toml", 'kind = "confirm"', 'kind = "confirm"\nmethods = ["card"]',
     "steps[2].methods", "unknown key for a 'confirm' step"),
    ("services/residence-certificate.toml", 'category = "household"', 'category = "housing"',
     "category", "'housing' is not a category"),
    ("services/residence-certificate.toml", 'id = "residence-certificate"', 'id = "residence"',
     "id", "must match the file name"),
    ("services/residence-certificate.toml", 'zh = "居住证明申请"', 'zh = "Residence certificate"',
     "title.zh", "contains no Chinese characters"),
    ("services/residence-certificate.toml", 'bo = "སྡོད་གནས་ར་སྤྲོད་ཡི་གེ་ཞུ་འབུལ།"', 'bo = "居住证明申请"',
     "title.bo", "contains no Tibetan script"),
    ("services/residence-certificate.toml", "min = 1\n", 'min = 1\npattern = "[0-9]+"\n',
     "steps[1].fields[6].pattern", "does not apply to a 'number' field"),
    ("services/residence-certificate.toml", 'type = "date"', 'type = "datetime"',
     "steps[1].fields[4].type", "'datetime' is not a field type"),
    ("services/residence-certificate.toml", 'kind = "receipt"', 'kind = "print"',
     "steps[4].kind", "'print' is not a step kind"),
    ("services/residence-certificate.toml", 'guide = "residence-certificate"', 'guide = "residence"',
     "guide", "guides/residence.<lang>.md does not exist"),
    ("services/residence-certificate.toml", "max_length = 80", "max_length = 2",
     "steps[1].fields[3].min_length", "4 is greater than the maximum 2"),
    ("services/old-age-allowance.toml", 'value = "social_security_card"', 'value = "bank_card"',
     "steps[1].fields[5].choices[1].value", "'bank_card' is used twice"),
    ("services/pension-certification.toml", 'prompt = "certification_photo"', 'prompt = "smile"',
     "steps[2].prompt", "'smile' is not a prompt"),
    ("services/insurance-payment-lookup.toml", 'methods = ["card"]', 'methods = ["qr"]',
     "steps[1]", "insurance_payments lookup needs 'card'"),
    ("services/grassland-subsidy.toml", 'icon = "images/grassland-subsidy.png"', 'icon = "../secret.png"',
     "icon", "must be a relative path inside the pack"),
    ("guides/medical-reimbursement.zh.md", "## 收费", "| 项目 | 费用 |\n\n## 收费",
     "line 31", "tables are not supported"),
    ("pack.toml", 'languages = ["bo", "zh"]', 'languages = ["zh"]', "languages", "must include 'bo'"),
    ("pack.toml", 'phone = "12345"', 'phone = "call us"', "contact.phone", "must be a phone number"),
    ("services/old-age-allowance.toml", "required = true", 'required = "yes"',
     "steps[1].fields[4].required", "must be true or false, not 'yes'"),
    ("services/residence-certificate.toml", "[title]\n", '[title]\nfr = "x"\n', "title.fr",
     "unknown key (allowed: bo, en, zh)"),
    ("services/residence-certificate.toml", 'bo = "ལས་ཉིན 5 ནང་དུ།"', "bo = 5",
     "processing_time.bo", "must be a string, not 5"),
    ("forms/grassland-subsidy.toml", "lines = 2", "lines = 2.5", "fields[2].lines", "must be a whole number, not 2.5"),
    ("prompts.toml", "[thanks]\n", '[thanks]\nclips = { bo = "x.wav" }\n', "thanks.clips",
     "unknown key (allowed: bo, clip_bo, clip_en, clip_zh, en, spoken, zh)"),
    ("prompts.toml", 'spoken = { bo = "བེད་སྤྱོད', 'spoken = { fr = "x", bo = "བེད་སྤྱོད', "thanks.spoken.fr",
     "'fr' is not a kiosk language"),
])
def test_each_rule_names_file_key_and_reason(pack_copy: Path, file: str, old: str, new: str, key: str,
                                             reason: str) -> None:
    _edit(pack_copy / file, old, new)
    problems = _problems(pack_copy)
    assert _has(problems, file, key, reason), "\n".join(map(str, problems))


def test_choice_field_without_choices(pack_copy: Path) -> None:
    path = pack_copy / "services" / "residence-certificate.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    [[steps.fields.choices]]")
    end = text.index("  [[steps.fields]]\n  id = \"copies\"")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    assert _has(_problems(pack_copy), "services/residence-certificate.toml", "steps[1].fields[5].choices",
                "needs at least one choice")


def test_unreadable_files_are_problems_not_crashes(pack_copy: Path, tmp_path: Path) -> None:
    (pack_copy / "guides" / "old-age-allowance.zh.md").write_bytes("高龄".encode("gbk"))
    (pack_copy / "services" / "notes.txt").write_text("todo")
    problems = _problems(pack_copy)
    assert _has(problems, "guides/old-age-allowance.zh.md", "", "not UTF-8")
    assert _has(problems, "services/notes.txt", "", "unexpected file")
    with pytest.raises(PackError) as e:
        load_pack(tmp_path / "nowhere")
    assert "not a folder" in str(e.value)


def test_recorded_clips_are_found_and_checked(pack_copy: Path) -> None:
    clip = pack_copy / "audio" / "bo" / "home.wav"
    clip.parent.mkdir(parents=True)
    with wave.open(str(clip), "wb") as w:  # a real (silent) recording
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(3200))
    _edit(pack_copy / "prompts.toml", 'en = "Welcome to the township self-service kiosk. Please choose a language '
          'and a service."', 'en = "Welcome to the township self-service kiosk. Please choose a language and a '
          'service."\nclip_bo = "audio/bo/home.wav"')
    pack = load_pack(pack_copy)
    assert pack.clip_path("home", "bo") == clip
    assert pack.clip_path("home", "zh") is None
    assert "home" not in pack.missing_clips("bo")
    assert Path("audio/bo/home.wav") in pack_files(pack_copy)

    clip.write_bytes(b"ID3 not a wav file")
    assert _has(_problems(pack_copy), "prompts.toml", "home.clip_bo", "is not a WAV file")
