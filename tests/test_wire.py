"""The wire rules written once in kiosk/wire.py: tracking numbers, idempotency keys and JSON bodies. The
edge and the reference platform refuse a malformed request with the same readable 400."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from kiosk import wire


def test_a_tracking_number_is_what_new_tracking_number_makes() -> None:
    made = wire.new_tracking_number()
    assert wire.is_tracking_number(made)
    for bad in ("TK260101-ABCDEI", "tk260101-abcdef", "TK260101-ABCDEF\n", " TK260101-ABCDEF", "TK26011-ABCDEF",
                None, 42):
        assert not wire.is_tracking_number(bad), bad


def test_the_tracking_number_is_found_inside_a_receipt_qr() -> None:
    assert wire.tracking_number_in("https://gov.example/track?n=TK260101-7KQ2M9&lang=bo") == "TK260101-7KQ2M9"
    assert wire.tracking_number_in("TK260101-7KQ2MI") is None  # I is not in the alphabet
    assert wire.tracking_number_in("") is None


def test_an_idempotency_key_must_be_there_and_look_like_one() -> None:
    assert wire.idempotency_key({wire.IDEMPOTENCY_HEADER: "0f3c9a4e5b6d7e8f"}) == "0f3c9a4e5b6d7e8f"
    with pytest.raises(wire.BadRequest) as e:
        wire.idempotency_key({})
    assert e.value.code == "idempotency_key_required" and wire.IDEMPOTENCY_HEADER in e.value.message
    for bad in ("short", "x" * 129, "has space ok?", "key-0001\n"):
        with pytest.raises(wire.BadRequest) as e:
            wire.idempotency_key({wire.IDEMPOTENCY_HEADER: bad})
        assert e.value.code == "bad_idempotency_key", bad


@pytest.mark.parametrize("raw, says", [(b"{not json", "not valid JSON"), (b"\xff\xfe", "not valid JSON"),
                                        (b"", "not valid JSON"), (b"[1, 2]", "must be a JSON object")])
def test_a_body_that_is_not_a_json_object_says_what_is_wrong(raw: bytes, says: str) -> None:
    with pytest.raises(wire.BadRequest) as e:
        wire.json_object(raw)
    assert e.value.code == "bad_json" and says in e.value.message
    assert wire.json_object(b'{"rating": 5, "lang": "bo"}') == {"rating": 5, "lang": "bo"}


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json",
                                                                        **headers})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_edge_and_the_platform_refuse_a_malformed_request_in_the_same_words(edge_factory, platform) -> None:
    edge = edge_factory(platform.url)
    cases = [(b'{"rating": 5}', {}), (b'{"rating": 5}', {wire.IDEMPOTENCY_HEADER: "bad key"}),
             (b"{not json", {wire.IDEMPOTENCY_HEADER: "key-00000001"}),
             (b"[1]", {wire.IDEMPOTENCY_HEADER: "key-00000002"})]
    for body, headers in cases:
        at_edge = _post(edge.url + wire.API_FEEDBACK, body, headers)
        at_platform = _post(platform.url + wire.PLATFORM_FEEDBACK, body, headers)
        assert at_edge == at_platform, body
        assert at_edge[0] == 400 and at_edge[1]["error"]["message"]
