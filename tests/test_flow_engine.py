"""The flow engine on the demo pack's real service definitions: steps, validation, summary, wipe.

No Qt. Most paths never reach the edge (edge=None); the payments lookup runs against a real edge (API +
outbox + forwarder + payment cache) and the reference platform (tests/fixtures_ui.py demo_edge); submit
and progress lookup are in test_flow_submit.py. Card data comes from the real driver reading the simulator.
"""

from __future__ import annotations

import pytest

from kiosk import wire
from kiosk.content import Service, load_pack
from kiosk.edge_client import EdgeClient
from kiosk.flows import Flow, Kind, State
from kiosk.flows import payments as pay
from kiosk.flows.engine import MAX_CARD_TRIES, FlowError
from kiosk.flows.validation import validate
from kiosk.netutil import free_port
from tests.fixtures_edge import make_id
from tests.fixtures_ui import DEMO


@pytest.fixture(scope="module")
def pack():
    return load_pack(DEMO)


def fields_of(card_record):
    from kiosk.i18n import LANGS

    return card_record.to_form_fields("zh"), {lang: card_record.to_form_fields(lang) for lang in LANGS}


def identified(pack, card_record, service_id="old-age-allowance") -> Flow:
    flow = Flow(pack.services[service_id], edge=None, lang="zh")
    assert flow.kind is Kind.IDENTIFY
    primary, localized = fields_of(card_record)
    flow.card_read(primary, localized=localized)
    return flow


def test_card_fills_source_fields_read_only(pack, card_record):
    flow = identified(pack, card_record)
    assert flow.kind is Kind.FORM
    assert flow.value("name") == card_record.name
    assert flow.value("id_number") == card_record.masked_id  # the pack asks for the masked form
    err = flow.set_field("name", "someone else")
    assert err is not None and err.code == "read_only"
    assert flow.value("name") == card_record.name


def test_form_validation_keeps_the_resident_on_the_form(pack, card_record):
    flow = identified(pack, card_record)
    errors = flow.next()
    assert {e.field_id: e.code for e in errors} == {"phone": "required", "payout_account": "required",
                                                    "received_elsewhere": "required"}
    assert flow.set_field("phone", "12345").code == "phone"
    assert flow.value("phone") == "12345"  # what was typed is kept, not thrown away
    assert flow.set_field("phone", "138 0013-8000") is None
    assert flow.value("phone") == "13800138000"
    assert flow.set_field("payout_account", "cash").code == "choice"
    assert flow.set_field("payout_account", "bank_card") is None
    assert flow.set_field("received_elsewhere", "maybe").code == "yesno"
    assert flow.set_field("received_elsewhere", False) is None
    assert flow.next() == []
    assert flow.kind is Kind.PHOTO


def test_number_date_text_rules_from_the_pack(pack, card_record):
    flow = identified(pack, card_record, "residence-certificate")
    assert flow.set_field("current_address", "abc").code == "too_short"
    assert flow.set_field("living_since", "2020-02-30").code == "date"
    assert flow.set_field("living_since", "2020-02-28") is None
    grass = identified(pack, card_record, "grassland-subsidy")
    grass.set_field("phone", "13800138000")
    assert grass.next() == []  # first form step done: the second asks for the contract
    assert grass.set_field("contract_number", "NO SPACES").code == "pattern"
    assert grass.set_field("area_mu", "abc").code == "number"
    assert grass.set_field("area_mu", "0.01").code == "too_small"
    assert grass.set_field("area_mu", "12.5") is None


def test_summary_shows_masked_id_and_words_never_the_full_id(pack, card_record):
    flow = identified(pack, card_record)
    flow.set_field("phone", "13800138000")
    flow.set_field("payout_account", "bank_card")
    flow.set_field("received_elsewhere", "no")
    flow.next()
    flow.skip_photo()
    assert flow.kind is Kind.CONFIRM
    for lang in ("bo", "zh"):
        lines = flow.summary(lang)
        text = " ".join(f"{x.label} {x.value}" for x in lines)
        assert card_record.id_number not in text
        assert card_record.masked_id in text
    zh = {x.field_id: x.value for x in flow.summary("zh")}
    assert zh["payout_account"] == "本人银行卡" and zh["received_elsewhere"] == "否"
    bo = {x.field_id: x.value for x in flow.summary("bo")}
    assert bo["payout_account"] == "རང་ཉིད་ཀྱི་དངུལ་ཁང་ཁ་ཤོག"
    assert flow.confirm() == []
    assert flow.kind is Kind.SUBMIT


def test_three_unreadable_cards_offer_the_counter(pack):
    flow = Flow(pack.services["old-age-allowance"], edge=None)
    results = [flow.card_failed() for _ in range(MAX_CARD_TRIES)]
    assert results == [False, False, True] and flow.offer_counter
    assert flow.kind is Kind.IDENTIFY


def test_required_photo_cannot_be_skipped(pack, card_record):
    flow = identified(pack, card_record, "pension-certification")
    flow.set_field("phone", "13900001111")
    flow.next()
    assert flow.kind is Kind.PHOTO and flow.photo_required
    assert flow.skip_photo().code == "photo_required"
    with pytest.raises(FlowError):
        flow.photo_taken(b"")
    flow.photo_taken(b"\xff\xd8\xff\xe0fake-but-nonempty")
    assert flow.kind is Kind.CONFIRM


def test_back_moves_one_step_and_stops_at_the_start(pack, card_record):
    flow = identified(pack, card_record)
    assert flow.back() and flow.kind is Kind.IDENTIFY
    assert not flow.back()


def test_events_that_do_not_fit_the_step_are_refused(pack, card_record):
    flow = identified(pack, card_record)
    with pytest.raises(FlowError):
        flow.confirm()
    with pytest.raises(FlowError):
        flow.submit()
    with pytest.raises(FlowError):
        flow.set_field("no_such_field", "x")


def test_wipe_forgets_card_form_and_photo(pack, card_record):
    flow = identified(pack, card_record, "pension-certification")
    flow.set_field("phone", "13900001111")
    flow.next()
    flow.photo_taken(b"\xff\xd8\xffjpeg")
    assert flow.has_personal_data
    flow.wipe()
    assert not flow.has_personal_data
    assert flow.photo is None and flow.masked_id is None
    assert flow.state is State.CANCELLED
    assert card_record.name not in repr(flow) and card_record.id_number not in repr(flow)
    assert all(card_record.name not in x.value for x in flow.summary("zh"))


def test_gender_follows_the_language(pack, card_record):
    svc = Service.from_dict({**pack.services["old-age-allowance"].to_dict(), "id": "x-gender",
                             "steps": [{"kind": "identify", "methods": ["card"]},
                                       {"kind": "form", "fields": [{"id": "g", "source": "gender",
                                                                    "label": {"bo": "ཕོ་མོ།", "zh": "性别"}}]}]})
    flow = Flow(svc, edge=None, lang="zh")
    primary, localized = fields_of(card_record)
    flow.card_read(primary, localized=localized)
    zh = flow.value("g")
    flow.lang = "bo"
    assert flow.value("g") == card_record.gender("bo") != zh


def test_a_new_service_from_content_runs_without_code(card_record):
    svc = Service.from_dict({
        "id": "yak-census", "category": "agriculture", "title": {"bo": "གཡག་གྲངས།", "zh": "牦牛登记"},
        "summary": {"bo": "གཡག", "zh": "牦牛"},
        "steps": [{"kind": "identify", "methods": ["card"]},
                  {"kind": "form", "fields": [{"id": "yaks", "type": "number", "required": True, "min": 1,
                                               "label": {"bo": "གཡག", "zh": "牦牛头数"}}]},
                  {"kind": "confirm"}]})
    flow = Flow(svc, edge=None)
    flow.card_read(card_record.to_form_fields("zh"))
    assert flow.set_field("yaks", "0").code == "too_small"
    flow.set_field("yaks", "42")
    assert flow.next() == [] and flow.confirm() == []
    assert flow.state is State.DONE


def test_qr_identification_takes_only_a_tracking_number(pack):
    flow = Flow(pack.services["progress-lookup"], edge=None)
    assert not flow.qr_read("https://example.org/not-a-receipt")
    assert flow.kind is Kind.IDENTIFY
    assert flow.qr_read("TK261125-7KQ2M9")
    assert flow.kind is Kind.LOOKUP and flow.tracking_ref == "TK261125-7KQ2M9"
    card_only = Flow(pack.services["old-age-allowance"], edge=None)
    with pytest.raises(FlowError):
        card_only.qr_read("TK261125-7KQ2M9")


@pytest.mark.parametrize(("ftype", "value", "code"), [
    ("phone", "23800138000", "phone"), ("phone", "1380013800", "phone"), ("phone", "13800138000", None),
    ("number", "1e5", "number"), ("number", "-3", None), ("date", "2024-1-5", "date"),
    ("date", "2024-01-05", None), ("yesno", "yes", None), ("text", "", "required"),
])
def test_validation_codes(ftype, value, code):
    from kiosk.content import Field, Text

    f = Field(id="f", label=Text("f", "f"), type=ftype, required=True)
    assert validate(f, value) == code


# --- the social-insurance payments lookup ------------------------------------------------------------
def add_payments(platform_url: str, id_number: str, months: list[tuple[int, int]], kind: str, amount: str,
                 status: str = wire.PAYER_PAID) -> None:
    """What `kiosk platform add-payments` sends (the operator's API of the reference platform)."""
    import json
    import urllib.request

    records = [{"year": y, "month": m, "kind": kind, "amount": amount, "payer_status": status,
                "paid_at": None if status == wire.PAYER_ARREARS else f"{y:04d}-{m:02d}-10"} for y, m in months]
    req = urllib.request.Request(platform_url + wire.PLATFORM_PAYMENTS, method="POST",
                                 data=json.dumps({"id_number": id_number, "payments": records}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200


YEAR = [(2025, m) for m in range(7, 13)] + [(2026, m) for m in range(1, 7)]  # 2025-07 .. 2026-06


def seed_year(platform_url: str, id_number: str) -> None:
    """Twelve months of pension (all paid) and medical (2026-03 in arrears)."""
    add_payments(platform_url, id_number, YEAR, "pension", "150.00")
    add_payments(platform_url, id_number, YEAR, "medical", "32.50")
    add_payments(platform_url, id_number, [(2026, 3)], "medical", "32.50", wire.PAYER_ARREARS)


def payments_flow(pack, card_record, edge) -> Flow:
    flow = Flow(pack.services["insurance-payment-lookup"], edge=edge, lang="zh")
    flow.card_read(card_record.to_form_fields("zh"))
    assert flow.kind is Kind.LOOKUP and flow.lookup_query == pay.QUERY
    return flow


def test_payments_lookup_answers_the_card_holders_months(pack, card_record, demo_edge):
    url = demo_edge.platform.url
    seed_year(url, card_record.id_number)
    add_payments(url, make_id(7), [(2026, 6)], "pension", "999.00")  # someone else's: never shown
    flow = payments_flow(pack, card_record, EdgeClient(demo_edge.url))
    result = flow.lookup()
    assert result is flow.lookup_result and flow.lookup_error is None
    assert result["source"] == "platform" and not flow.lookup_offline and flow.lookup_as_of
    recs = result["payments"]
    assert len(recs) == 24 and {r["amount"] for r in recs} == {"150.00", "32.50"}
    assert [ym for ym, _ in pay.by_month(recs)] == sorted(YEAR, reverse=True)
    assert pay.summary_sentences(recs, "zh") == ["最近十二个月养老保险都已缴费",
                                                 "最近十二个月医疗保险：十一个月已缴费，一个月欠缴（2026年3月）"]
    bo = pay.summary_sentences(recs, "bo")
    assert "༡༢" in bo[0] and "སྤྱི་ལོ་ 2026 ཟླ་ 3 པ།" in bo[1]
    assert flow.has_personal_data
    flow.wipe()
    assert flow.lookup_result is None and not flow.has_personal_data


def test_payments_offline_answer_is_the_edge_copy_with_its_age(pack, card_record, demo_edge):
    seed_year(demo_edge.platform.url, card_record.id_number)
    client = EdgeClient(demo_edge.url)
    first = payments_flow(pack, card_record, client).lookup()
    demo_edge.platform.stop()
    flow = payments_flow(pack, card_record, client)
    result = flow.lookup()
    assert result["source"] == "edge_cache" and flow.lookup_offline
    assert flow.lookup_as_of == first["as_of"]  # how fresh it is: when the platform last answered
    assert result["payments"] == first["payments"]


def test_payments_nobody_can_answer_sends_the_resident_to_the_counter(pack, card_record, demo_edge):
    demo_edge.platform.stop()  # and this edge never saw this resident's records
    flow = payments_flow(pack, card_record, EdgeClient(demo_edge.url))
    assert flow.lookup() is None
    assert flow.lookup_error == "payments_unreachable" and flow.lookup_result is None


def test_payments_with_the_edge_down_says_the_edge_is_down(pack, card_record):
    edge = EdgeClient(f"http://127.0.0.1:{free_port()}", timeout=1, retries=0)
    flow = payments_flow(pack, card_record, edge)
    assert flow.lookup() is None and flow.lookup_error == "edge_unavailable"


def test_payments_need_the_card_not_a_receipt_qr(pack):
    svc = Service.from_dict({**pack.services["insurance-payment-lookup"].to_dict(), "id": "x-payments-qr",
                             "steps": [{"kind": "identify", "methods": ["card", "qr"]},
                                       {"kind": "lookup", "query": "insurance_payments"}]})
    flow = Flow(svc, edge=None)  # never reaches the edge: a receipt names an application, not a person
    assert flow.qr_read("TK261125-7KQ2M9")
    assert flow.lookup() is None and flow.lookup_error == "needs_card"


def test_payment_summary_counts_government_paid_and_names_at_most_six_arrears_months():
    recs = [{"year": 2026, "month": m, "kind": "pension", "amount": "100.00",
             "payer_status": wire.PAYER_GOVERNMENT if m <= 4 else wire.PAYER_ARREARS} for m in range(1, 13)]
    recs.append({"year": 2026, "month": 1, "kind": "unemployment", "amount": "5.00", "payer_status": "waived"})
    summary = pay.summarise(recs)
    assert [(s.kind, s.months, s.covered, len(s.arrears)) for s in summary] == [("pension", 12, 4, 8),
                                                                               ("unemployment", 1, 0, 0)]
    zh = pay.summary_sentences(recs, "zh")
    assert zh[0] == ("最近十二个月养老保险：四个月已缴费，八个月欠缴（2026年12月、2026年11月、2026年10月、"
                     "2026年9月、2026年8月、2026年7月等）")
    assert zh[1] == "最近一个月其他保险：零个月已缴费，其余请到窗口咨询"  # never "all paid" for a status it cannot read
    assert pay.kind_label("unemployment", "zh") == "其他保险" and pay.payer_label("waived", "zh") == "状态不明"
    assert pay.summary_sentences([], "bo") == ["འཐུས་སྤྲོད་ཟིན་ཐོ་གང་ཡང་རྙེད་མ་བྱུང་།"]
    assert [pay.count_words(n, "zh") for n in (1, 10, 11, 20, 24)] == ["一", "十", "十一", "二十", "二十四"]


def test_a_lookup_over_the_kiosks_rate_says_try_again_not_refused(pack, card_record, edge_factory):
    """The edge allows each kiosk a few lookups a minute (a LAN edge answers for any ID number)."""
    from kiosk.config import Config, EdgeSection

    edge = edge_factory(config=Config(edge=EdgeSection(lookup_rate_per_min=1)))
    first = payments_flow(pack, card_record, EdgeClient(edge.url))
    first.lookup()
    assert first.lookup_error != "rate_limited"  # the one lookup this minute was let through
    second = payments_flow(pack, card_record, EdgeClient(edge.url))
    assert second.lookup() is None
    assert second.lookup_error == "rate_limited"
