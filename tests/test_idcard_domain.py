"""ID numbers, nation/gender names and the CardRecord's privacy-safe behaviour."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from kiosk import idnumber, nations
from kiosk.identity import CardKind, CardRecord

# The worked example of GB 11643-1999 (check character X) and two of our sample residents.
GB_EXAMPLE = "11010519491231002X"


def test_check_char_matches_the_standard_example():
    assert idnumber.check_char(GB_EXAMPLE[:17]) == "X"
    assert idnumber.make_valid("54010219680315011") == "540102196803150119"


@pytest.mark.parametrize("bad", ["1234", "1101051949123100A", "110105194912310020X", ""])
def test_check_char_rejects_a_malformed_body(bad):
    with pytest.raises(ValueError):
        idnumber.check_char(bad)


@pytest.mark.parametrize("number", [GB_EXAMPLE, GB_EXAMPLE.lower(), "540102196803150119",
                                    idnumber.make_valid("81000019850520001"),  # HK permit
                                    idnumber.make_valid("95472419900930002")])  # 2023 foreigner
def test_valid_numbers(number):
    assert idnumber.is_valid(number)


@pytest.mark.parametrize("number", [
    "110105194912310021",  # wrong check character
    "11010519491231002",  # too short
    "1101051949123100211",  # too long
    "11010519491231002Y",  # not a check character
    idnumber.make_valid("00010519491231002"),  # no such province
    idnumber.make_valid("11010519491332002"),  # month 13
    idnumber.make_valid("11010518000101002"),  # born before 1900
    idnumber.make_valid("11010521990101002"),  # born in the future
    "1101051949123100２X",  # full-width digit
])
def test_invalid_numbers(number):
    assert not idnumber.is_valid(number)


def test_mask_hides_birth_date_and_sequence():
    assert idnumber.mask("540102196803150119") == "540102********0119"
    assert idnumber.mask(GB_EXAMPLE) == "110105********002X"
    assert idnumber.mask("USA540180051201") == "USA540*****1201"  # 15-character foreigner number
    assert idnumber.mask("123456") == "******"
    assert idnumber.mask("") == ""


def test_id_hash_is_a_keyed_stable_pseudonym():
    a = idnumber.id_hash(GB_EXAMPLE, b"site-secret")
    assert a == idnumber.id_hash(GB_EXAMPLE.lower(), b"site-secret")  # case does not matter
    assert a != idnumber.id_hash(GB_EXAMPLE, b"other-site")
    assert len(a) == 16 and GB_EXAMPLE not in a
    with pytest.raises(ValueError):
        idnumber.id_hash(GB_EXAMPLE, b"")


def test_nations_follow_gb3304():
    assert len([c for c in nations.NATIONS if int(c) <= 56]) == 56
    assert set(nations.NATIONS) == {f"{i:02d}" for i in range(1, 57)} | {"97", "98"}
    assert nations.nation_name("01", "zh") == "汉"
    assert nations.nation_name("01", "bo") == "རྒྱ།"
    assert nations.nation_name("04", "zh") == "藏"
    assert nations.nation_name("04", "bo") == "བོད།"
    assert nations.nation_name(4, "en") == "Tibetan"
    assert nations.nation_name("11", "zh") == "满"
    assert nations.nation_name("56", "zh") == "基诺"
    assert nations.nation_name("97", "en") == "Other"
    assert nations.nation_name("77", "zh") == "77"  # unknown: shown as the card holds it
    assert nations.nation_name("", "zh") == ""


def test_every_tibetan_name_is_tibetan_script():
    for code, (_zh, bo, _en) in nations.NATIONS.items():
        assert all("\u0f00" <= ch <= "\u0fff" for ch in bo), code
    for code, (_zh, bo, _en) in nations.GENDERS.items():
        assert all("\u0f00" <= ch <= "\u0fff" for ch in bo), code


def test_gender_names():
    assert [nations.gender_name(c, "zh") for c in "0129"] == ["未知", "男", "女", "未说明"]
    assert nations.gender_name("2", "bo") == "མོ།"
    assert nations.gender_name(1, "en") == "male"


def _record(**kw) -> CardRecord:
    base = dict(kind=CardKind.RESIDENT, name="扎西次仁", gender_code="1", nation_code="04",
                birth_date=date(1968, 3, 15), address="西藏自治区拉萨市城关区八廓街道3组12号",
                id_number="540102196803150119", issuer="拉萨市公安局城关分局",
                valid_from=date(2015, 6, 1), valid_to=None, photo=b"WLf" + bytes(1021))
    base.update(kw)
    return CardRecord(**base)


def test_record_repr_and_str_show_kind_and_masked_id_only():
    rec = _record()
    for text in (repr(rec), str(rec), f"{rec}", repr([rec]), repr({"card": rec})):
        assert "540102********0119" in text
        for secret in ("540102196803150119", "扎西次仁", "八廓", "WLf"):
            assert secret not in text


def test_record_is_frozen_and_extra_read_only():
    rec = _record(extra={"pass_number": "H60123456"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        rec.extra["pass_number"] = "x"  # type: ignore[index]


def test_record_fields_for_the_form():
    rec = _record()
    assert rec.to_form_fields() == {
        "name": "扎西次仁", "gender": "男", "nation": "藏", "birth_date": "1968-03-15",
        "address": "西藏自治区拉萨市城关区八廓街道3组12号", "id_number": "540102196803150119",
        "id_masked": "540102********0119"}
    assert rec.to_form_fields("bo")["nation"] == "བོད།"
    assert rec.gender("bo") == "ཕོ།"


def test_record_id_valid_per_card_kind():
    assert _record().id_valid
    assert not _record(id_number="540102196803150118").id_valid
    old = _record(kind=CardKind.FOREIGNER_OLD, id_number="USA540180051201", nation_code="",
                  extra={"nationality": "USA"})
    assert old.id_valid and old.nation() == "USA"
    assert not _record(kind=CardKind.FOREIGNER_OLD, id_number="US5401800512011").id_valid


def test_card_kind_from_flag():
    assert CardKind.from_flag("J") is CardKind.HMT_PERMIT
    assert CardKind.from_flag("I") is CardKind.FOREIGNER_OLD
    assert CardKind.from_flag("Y") is CardKind.FOREIGNER_2023
    assert CardKind.from_flag(" ") is CardKind.RESIDENT
