"""The 256-byte text block of all four card kinds, encoded by the simulator's independent
encoder (written from the DEVICES.md table and the public I/Y layouts) and parsed by the driver."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from devices.idcard import textblock
from devices.idcard.textblock import TextBlockError
from devices.sim.card_reader import SAMPLE_CARDS, SimCard
from kiosk.identity import CardKind


def _check_round_trip(card: SimCard) -> None:
    block = card.encode_text()
    assert len(block) == 256
    rec = textblock.parse(block, card.photo, card.fingerprint)
    assert rec.kind is card.kind
    assert rec.name == card.name
    assert rec.gender_code == card.gender_code
    assert rec.birth_date == card.birth_date
    assert rec.address == card.address
    assert rec.id_number == card.id_number
    assert rec.valid_from == card.valid_from
    assert rec.valid_to == card.valid_to
    assert rec.photo == card.photo
    assert rec.id_valid
    if card.kind in (CardKind.RESIDENT, CardKind.HMT_PERMIT):
        assert rec.nation_code == card.nation_code
        assert rec.issuer == card.issuer
    else:
        assert rec.nation_code == ""
        assert rec.extra["nationality"] == card.extra["nationality"]
        assert rec.extra["name_zh"] == card.extra["name_zh"]


@pytest.mark.parametrize("card", SAMPLE_CARDS, ids=lambda c: f"{c.kind.value}-{c.id_number[-4:]}")
def test_sample_cards_round_trip(card):
    _check_round_trip(card)


def test_every_kind_has_a_sample():
    assert {c.kind for c in SAMPLE_CARDS} == set(CardKind)


def test_resident_layout_literal_offsets():
    block = SAMPLE_CARDS[0].encode_text()
    assert block[0:8].decode("utf-16-le") == "扎西次仁"
    assert block[8:30] == " ".encode("utf-16-le") * 11  # space padded, not NUL
    assert block[30:32].decode("utf-16-le") == "1"
    assert block[32:36].decode("utf-16-le") == "04"
    assert block[122:158].decode("utf-16-le") == SAMPLE_CARDS[0].id_number
    assert block[204:208].decode("utf-16-le") == "长期"
    rec = textblock.parse(block)
    assert rec.valid_to is None and rec.nation("zh") == "藏"


def test_hmt_permit_extra_fields():
    card = next(c for c in SAMPLE_CARDS if c.kind is CardKind.HMT_PERMIT)
    block = card.encode_text()
    assert block[248:250] == b"J\x00"
    rec = textblock.parse(block)
    assert rec.extra == {"pass_number": "H60123456", "issue_count": 1}
    assert rec.nation("zh") == ""


def test_foreigner_old_layout():
    card = next(c for c in SAMPLE_CARDS if c.kind is CardKind.FOREIGNER_OLD)
    block = card.encode_text()
    assert block[248:250] == b"I\x00"
    assert block[152:158].decode("utf-16-le") == "USA"
    rec = textblock.parse(block)
    assert rec.extra["card_version"] == "01" and rec.issuer == "5401"
    assert rec.masked_id == "USA540*****1201"


def test_foreigner_2023_long_english_name_spans_both_fields():
    card = next(c for c in SAMPLE_CARDS if c.kind is CardKind.FOREIGNER_2023)
    assert 35 < len(card.name) <= 46
    block = card.encode_text()
    assert block[248:250] == b"Y\x00"
    assert block[52:122].decode("utf-16-le") == card.name[:35]
    rec = textblock.parse(block)
    assert rec.name == card.name
    assert rec.extra["issue_count"] == 0 and rec.extra["previous_number_link"] == "001"
    # a name split exactly at a word boundary keeps its space
    split = replace(card, name="A" * 34 + " " + "BCDEFG")
    assert textblock.parse(split.encode_text()).name == "A" * 34 + " BCDEFG"
    short = replace(card, name="LI NA")
    assert textblock.parse(short.encode_text()).name == "LI NA"


def test_malformed_blocks_raise_without_leaking_content():
    good = SAMPLE_CARDS[0].encode_text()
    with pytest.raises(TextBlockError, match="256"):
        textblock.parse(good[:200])
    bad_date = bytearray(good)
    bad_date[36:52] = "19681315".encode("utf-16-le")  # month 15
    with pytest.raises(TextBlockError, match="birth_date") as e:
        textblock.parse(bytes(bad_date))
    assert "扎西" not in str(e.value) and "1968" not in str(e.value)
    bad_to = bytearray(good)
    bad_to[204:220] = "永久      ".encode("utf-16-le")
    with pytest.raises(TextBlockError, match="valid_to"):
        textblock.parse(bytes(bad_to))
    surrogate = bytearray(good)
    surrogate[0:2] = b"\x00\xd8"  # lone high surrogate: not UCS-2 text
    with pytest.raises(TextBlockError, match="name"):
        textblock.parse(bytes(surrogate))


def test_new_address_decoding():
    raw = "西藏自治区拉萨市城关区纳金路8号".encode("utf-16-le") + " ".encode("utf-16-le") * 19
    assert textblock.decode_address(raw) == "西藏自治区拉萨市城关区纳金路8号"
    with pytest.raises(TextBlockError):
        textblock.decode_address(raw[:-1])


def test_sim_encoder_refuses_fields_that_do_not_fit():
    card = replace(SAMPLE_CARDS[0], name="扎西次仁" * 4)  # 16 characters > 15
    with pytest.raises(ValueError):
        card.encode_text()


def test_long_term_card_of_a_young_holder_has_a_date():
    card = replace(SAMPLE_CARDS[1], valid_to=date(2038, 4, 20))
    assert textblock.parse(card.encode_text()).valid_to == date(2038, 4, 20)
