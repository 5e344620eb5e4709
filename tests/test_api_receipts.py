"""Receipts the resident never saw: the kiosk says when one was shown, and applications accepted but
never shown (the kiosk died between the edge's answer and the receipt) are listed for staff."""

from __future__ import annotations

import http.client
import json

import pytest

from kiosk import wire
from kiosk.edge_client import EdgeClient, EdgeRejected
from tests.fixtures_edge import make_id

FIELDS = {"phone": "13912345678", "account": "cash", "agree": True}


def backdate(edge, tracking_number: str) -> None:
    """As if it had been accepted long ago (past the outbox's grace for showing a receipt)."""
    with edge.outbox._lock:
        edge.outbox._db.execute("UPDATE submissions SET created = ? WHERE tracking_number = ?",
                                ("2026-01-01T08:00:00+00:00", tracking_number))


def test_a_receipt_never_shown_is_listed_until_the_kiosk_says_it_was(edge_factory):
    edge = edge_factory()
    client = EdgeClient(edge.url)
    seen = client.submit("old-age-allowance", FIELDS, {"id_number": make_id(61), "name": "测试"})["tracking_number"]
    lost = client.submit("old-age-allowance", FIELDS, {"id_number": make_id(62), "name": "测试"})["tracking_number"]
    backdate(edge, seen)
    backdate(edge, lost)
    assert client.submission_shown(seen) is None
    assert client.submission_shown(seen) is None  # a retry of the same report is harmless

    unconfirmed = client.unconfirmed_submissions()
    assert [(u["tracking_number"], u["service_id"], u["status"]) for u in unconfirmed] == \
        [(lost, "old-age-allowance", wire.STATUS_QUEUED)]
    assert unconfirmed[0]["created"] == "2026-01-01T08:00:00+00:00"
    assert client.submission(lost)["tracking_number"] == lost  # the one-submission route still works


def test_shown_for_an_unknown_or_malformed_number_is_a_clear_error(edge_factory):
    edge = edge_factory()
    client = EdgeClient(edge.url)
    with pytest.raises(EdgeRejected) as e:
        client.submission_shown("TK260101-ABCDEF")
    assert (e.value.status, e.value.code) == (404, wire.ERR_NOT_FOUND)
    for bad in ("nope", "tk260101-abcdef", "TK260101-ABCDEI"):  # I is not in the alphabet
        with pytest.raises(EdgeRejected) as e:
            client.submission_shown(bad)
        assert (e.value.status, e.value.code) == (400, "bad_tracking_number")
    # Not captured by GET /submissions/{tracking_number}: an empty list, not "no such submission".
    conn = http.client.HTTPConnection("127.0.0.1", edge.server.port, timeout=10)
    conn.request("GET", wire.API_UNCONFIRMED)
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read()) == {"applications": []}
    conn.close()
