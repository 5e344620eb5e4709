"""Flow submit and lookup through a real edge (API + outbox + forwarder) to the reference platform."""

from __future__ import annotations

import time

import pytest

from kiosk.content import load_pack
from kiosk.edge_client import EdgeClient
from kiosk.flows import Flow, Kind, State
from kiosk.i18n import LANGS
from kiosk.netutil import free_port
from tests.fixtures_ui import DEMO, platform_search


@pytest.fixture(scope="module")
def pack():
    return load_pack(DEMO)


def ready_to_submit(pack, card_record, edge) -> Flow:
    flow = Flow(pack.services["old-age-allowance"], edge=edge, lang="bo")
    flow.card_read(card_record.to_form_fields("zh"), localized={x: card_record.to_form_fields(x) for x in LANGS})
    flow.set_field("phone", "13800138000")
    flow.set_field("payout_account", "bank_card")
    flow.set_field("received_elsewhere", "no")
    assert flow.next() == []
    flow.photo_taken(b"\xff\xd8\xff\xe0" + bytes(64))
    assert flow.confirm() == []
    assert flow.kind is Kind.SUBMIT
    return flow


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_submit_reaches_the_platform_and_the_receipt_says_so(pack, card_record, demo_edge):
    flow = ready_to_submit(pack, card_record, EdgeClient(demo_edge.url))
    out = flow.submit()
    assert out.ok and out.tracking_number and flow.kind is Kind.RECEIPT
    apps = wait_for(lambda: platform_search(demo_edge.platform.url, card_record.id_number))
    assert [a["tracking_number"] for a in apps] == [out.tracking_number]
    assert wait_for(flow.refresh_submission)  # the edge now knows the platform has it
    receipt = flow.receipt_content("zh")
    values = dict(receipt.lines)
    assert receipt.qr == out.tracking_number
    assert values["受理编号"] == out.tracking_number and values["身份证号"] == card_record.masked_id
    assert card_record.id_number not in repr(receipt)
    assert receipt.footer == "已经提交成功"
    assert "日期" not in values  # this edge has no trusted clock: no time on the receipt rather than a wrong one
    assert receipt.alt.lang == "bo" and [v for _, v in receipt.alt.lines] == [v for _, v in receipt.lines]
    flow.receipt_failed("paper_out")
    assert flow.state is State.DONE and flow.receipt_error == "paper_out"


def test_edge_down_then_retry_uses_the_same_key_and_makes_one_application(pack, card_record, platform_factory,
                                                                          tmp_path):
    from tests.fixtures_edge import Edge, ServerThread
    from tests.fixtures_ui import install_demo

    port = free_port()
    flow = ready_to_submit(pack, card_record, EdgeClient(f"http://127.0.0.1:{port}", timeout=1, retries=0))
    key = flow.idempotency_key
    out = flow.submit()
    assert not out.ok and out.error == "edge_unavailable" and flow.kind is Kind.SUBMIT

    platform = platform_factory()
    edge = Edge(tmp_path / "edge", platform.url, with_pack=False)
    install_demo(edge.store)
    edge.server.stop()  # the same edge, now on the port the kiosk is configured for
    from edge.api import make_app
    from kiosk.config import Config

    edge.server = ServerThread(lambda: make_app(edge.store, edge.outbox, edge.forwarder, Config()), port).start()
    try:
        first = flow.submit()
        assert first.ok and flow.idempotency_key == key
        # a kiosk that lost the answer and asks again with the same key gets the same tracking number
        again = EdgeClient(f"http://127.0.0.1:{port}").submit(
            "old-age-allowance", {"phone": "13800138000", "payout_account": "bank_card",
                                  "received_elsewhere": "no"}, flow.applicant(), photo=flow.photo, lang="bo",
            idempotency_key=key)
        assert again["tracking_number"] == first.tracking_number
        apps = wait_for(lambda: platform_search(platform.url, card_record.id_number))
        time.sleep(0.5)
        assert len(platform_search(platform.url, card_record.id_number)) == len(apps) == 1
    finally:
        edge.close()


def test_edge_rejection_is_reported_with_the_fields(pack, card_record, demo_edge):
    svc = pack.services["old-age-allowance"]
    from kiosk.content import Service

    renamed = Service.from_dict({**svc.to_dict(), "id": "not-on-this-edge"})
    flow = Flow(renamed, edge=EdgeClient(demo_edge.url), lang="zh")
    flow.card_read(card_record.to_form_fields("zh"))
    flow.set_field("phone", "13800138000")
    flow.set_field("payout_account", "bank_card")
    flow.set_field("received_elsewhere", "yes")
    flow.next()
    flow.skip_photo()
    flow.confirm()
    out = flow.submit()
    assert not out.ok and out.error == "rejected" and not flow.submitted


def test_lookup_by_card_and_by_receipt_qr(pack, card_record, demo_edge):
    client = EdgeClient(demo_edge.url)
    flow = ready_to_submit(pack, card_record, client)
    tracking = flow.submit().tracking_number
    wait_for(lambda: platform_search(demo_edge.platform.url, card_record.id_number))

    by_card = Flow(pack.services["progress-lookup"], edge=client)
    by_card.card_read(card_record.to_form_fields("zh"))
    assert by_card.kind is Kind.LOOKUP
    result = by_card.lookup()
    assert tracking in [a["tracking_number"] for a in result["applications"]]

    by_qr = Flow(pack.services["progress-lookup"], edge=client)
    assert by_qr.qr_read(f"{tracking}")
    result = by_qr.lookup()
    assert [a["tracking_number"] for a in result["applications"]] == [tracking]


def test_lookup_with_edge_down_says_so(pack, card_record):
    flow = Flow(pack.services["progress-lookup"], edge=EdgeClient(f"http://127.0.0.1:{free_port()}", timeout=1,
                                                                  retries=0))
    flow.card_read(card_record.to_form_fields("zh"))
    assert flow.lookup() is None and flow.lookup_error == "edge_unavailable"


def test_a_lost_answer_freezes_the_flow_and_the_retry_finds_the_stored_application(pack, card_record,
                                                                                    trouble_edge):
    from kiosk.flows.engine import FlowError

    flow = ready_to_submit(pack, card_record, EdgeClient(trouble_edge.url, retries=0))
    trouble_edge.lose_submit = True
    out = flow.submit()
    assert not out.ok and out.error == "edge_unavailable" and flow.outcome_unknown
    (stored,) = trouble_edge.unconfirmed()  # the edge did keep it
    with pytest.raises(FlowError):
        flow.back()
    with pytest.raises(FlowError):
        flow.set_field("phone", "13900001111")
    flow.lang = "zh"  # the resident switches language before trying again: still the same request
    trouble_edge.lose_submit = False
    again = flow.submit()
    assert again.ok and again.tracking_number == stored and flow.kind is Kind.RECEIPT
    assert trouble_edge.unconfirmed() == [stored]  # one application, not two


def test_a_key_already_used_shows_the_existing_application(pack, card_record, demo_edge):
    client = EdgeClient(demo_edge.url)
    flow = ready_to_submit(pack, card_record, client)
    # an earlier attempt of this flow (its answer lost) stored a request that differs from today's
    first = client.submit("old-age-allowance", {"phone": "13900009999", "payout_account": "bank_card",
                                                "received_elsewhere": "no"}, flow.applicant(), lang="zh",
                          idempotency_key=flow.idempotency_key)
    out = flow.submit()
    assert out.ok and out.existing and out.tracking_number == first["tracking_number"]
    assert flow.kind is Kind.RECEIPT
    receipt = flow.receipt_content("zh")
    assert receipt.qr == first["tracking_number"] and dict(receipt.lines)["受理编号"] == first["tracking_number"]
