"""Social-insurance payment lookup end to end: the reference platform (operator CLI, search), the
HTTP adapter, the edge API with its offline copy, and the kiosk's EdgeClient. All real: platform and
edge servers on free loopback ports, SQLite files on disk, the CLI as a subprocess."""

from __future__ import annotations

import http.client
import json
import logging
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiohttp import web

from edge.payment_cache import MAX_AGE_S, PaymentCache
from edge.platform_adapter import HttpPlatformAdapter, PaymentRecord, PlatformUnavailable
from kiosk import idnumber, wire
from kiosk.edge_client import EdgeClient, EdgeRejected, EdgeUnavailable
from tests.fixtures_edge import Edge, ServerThread, make_id

ID = make_id(21)
OTHER = make_id(22)
CLI = [sys.executable, "-m", "kiosk", "platform"]
FIELDS = {"year", "month", "kind", "amount", "paid_at", "payer_status"}


def add_payments(url: str, id_number: str, records: list[dict]) -> tuple[int, dict]:
    """The operator endpoint over plain HTTP (the CLI is tested on its own below)."""
    port = int(url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", wire.PLATFORM_PAYMENTS, json.dumps({"id_number": id_number, "payments": records}),
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def months(first: tuple[int, int], count: int, kind: str = "pension", amount: str = "150.00") -> list[dict]:
    y, m = first
    out = []
    for _ in range(count):
        out.append({"year": y, "month": m, "kind": kind, "amount": amount, "paid_at": f"{y}-{m:02d}-10",
                    "payer_status": wire.PAYER_PAID})
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def payments_platform(answer: dict) -> ServerThread:
    """Another region's platform, started: every payment search gets `answer` (the caller stops it)."""
    async def search(request):
        return web.json_response(answer)

    def make():
        app = web.Application()
        app.router.add_post(wire.PLATFORM_PAYMENTS_SEARCH, search)
        return app

    return ServerThread(make).start()


def post(edge: Edge, path: str, body: bytes) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", edge.server.port, timeout=5)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


# --- the reference platform ------------------------------------------------------------------------
def test_cli_adds_a_range_of_months_and_the_search_answers_them_latest_first(platform, adapter):
    out = subprocess.run([*CLI, "add-payments", "--id-number", ID, "--months", "2026-01:2026-06", "--kind",
                          "pension", "--amount", "150", "--url", platform.url],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "stored 6 pension record(s)" in out.stdout and idnumber.mask(ID) in out.stdout
    assert ID not in out.stdout + out.stderr  # the operator sees the masked number only
    assert add_payments(platform.url, ID, months((2026, 1), 6, "medical", "380"))[0] == 200

    found = adapter.search_payments(ID)
    assert all(isinstance(p, PaymentRecord) for p in found)
    assert [(p.year, p.month, p.kind) for p in found[:4]] == [
        (2026, 6, "pension"), (2026, 6, "medical"), (2026, 5, "pension"), (2026, 5, "medical")]
    assert len(found) == 12
    assert found[0].amount == "150.00" and found[1].amount == "380.00"
    assert found[0].paid_at == "2026-06-10" and found[0].payer_status == wire.PAYER_PAID
    assert adapter.search_payments(OTHER) == []  # nobody else's records
    assert adapter.search_payments(ID.lower()) == found


def test_search_answers_at_most_the_latest_24_months_on_record(platform, adapter):
    # 30 months, the newest a while ago: the cut is the 24 latest months on record, not "since today".
    assert add_payments(platform.url, ID, months((2019, 1), 30))[1]["stored"] == 30
    found = adapter.search_payments(ID)
    assert len(found) == 24
    assert (found[0].year, found[0].month) == (2021, 6) and (found[-1].year, found[-1].month) == (2019, 7)


def test_a_month_added_again_replaces_the_old_record(platform, adapter):
    add_payments(platform.url, ID, [{"year": 2026, "month": 3, "kind": "medical", "amount": 0,
                                     "paid_at": None, "payer_status": wire.PAYER_ARREARS}])
    add_payments(platform.url, ID, [{"year": 2026, "month": 3, "kind": "medical", "amount": "30.5",
                                     "paid_at": "2026-04-02", "payer_status": wire.PAYER_GOVERNMENT}])
    assert adapter.search_payments(ID) == [PaymentRecord(2026, 3, "medical", "30.50", "2026-04-02",
                                                         wire.PAYER_GOVERNMENT)]


def test_bad_records_are_refused_with_every_problem_and_nothing_is_stored(platform, adapter):
    bad = [{"year": 1800, "month": 13, "kind": "dental", "amount": "1.234", "payer_status": "maybe"},
           {"year": 2026, "month": 1, "kind": "pension", "amount": -5, "paid_at": "2026-02-30"},
           {"year": 2026, "month": 2, "kind": "pension", "amount": 10, "paid_at": "2026-02-01",
            "payer_status": wire.PAYER_ARREARS},
           "not a record",
           *months((2026, 3), 1)]
    status, doc = add_payments(platform.url, ID, bad)
    assert status == 422 and doc["error"]["code"] == "invalid_payments"
    problems = doc["error"]["details"]["problems"]
    for where in ("[0].year", "[0].month", "[0].kind", "[0].amount", "[0].payer_status", "[1].amount",
                  "[1].paid_at", "[2].paid_at", "[3]"):
        assert any(p.startswith(f"payments{where}") for p in problems), where
    assert not any(p.startswith("payments[4]") for p in problems)
    assert ID not in json.dumps(doc)
    assert adapter.search_payments(ID) == []  # all or nothing: the good record was not kept either
    status, doc = add_payments(platform.url, "540102195001010000", months((2026, 1), 1))
    assert status == 422 and doc["error"]["code"] == "invalid_id_number"
    assert add_payments(platform.url, ID, [])[0] == 422


def test_cli_refuses_bad_arguments_without_echoing_the_id_number(platform):
    cases = [(["--months", "2026-06:2026-01"], "run forwards"), (["--months", "2026-13"], "YYYY-MM"),
             (["--amount", "lots"], "amount must be yuan")]
    for extra, message in cases:
        args = {"--id-number": ID, "--months": "2026-01", "--kind": "pension", "--amount": "150",
                **dict(zip(extra[::2], extra[1::2], strict=True))}
        out = subprocess.run([*CLI, "add-payments", *[x for kv in args.items() for x in kv], "--url", platform.url],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 2 and message in out.stderr, out.stderr
    bad_id = "540102195001010000"
    out = subprocess.run([*CLI, "add-payments", "--id-number", bad_id, "--months", "2026-01", "--kind", "pension",
                          "--amount", "150", "--url", platform.url], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "not a valid" in out.stderr and bad_id not in out.stderr


def test_adapter_treats_a_malformed_payments_answer_as_temporary():
    srv = payments_platform({"payments": [{"year": 2026, "month": 1, "kind": "pension", "amount": 150}]})
    try:
        with pytest.raises(PlatformUnavailable, match="malformed"):
            HttpPlatformAdapter(srv.url, timeout=2).search_payments(ID)
    finally:
        srv.stop()


# --- the edge: platform first, its own copy when the platform is out of reach -----------------------
def test_edge_answers_from_the_platform_then_from_its_copy_when_the_platform_is_down(
        platform, edge_factory, caplog):
    caplog.set_level(logging.DEBUG)
    add_payments(platform.url, ID, months((2026, 1), 6) + months((2026, 1), 6, "medical", "380"))
    edge = edge_factory(platform.url)
    client = EdgeClient(edge.url, timeout=5)

    online = client.payments(ID)
    assert online["source"] == "platform" and online["as_of"] <= wire.now_iso()
    assert len(online["payments"]) == 12 and all(set(p) == FIELDS for p in online["payments"])
    assert (online["payments"][0]["year"], online["payments"][0]["month"]) == (2026, 6)

    platform.stop()  # the WAN goes down
    offline = client.payments(ID)
    assert offline == {**online, "source": "edge_cache"}  # the same records, dated when the platform said so

    with pytest.raises(EdgeUnavailable) as e:  # never looked up while online: nothing to show
        client.payments(OTHER)
    assert e.value.code == "payments_unreachable"
    status, doc = post(edge, wire.API_PAYMENTS, json.dumps({"id_number": OTHER}).encode())
    assert status == 503 and doc["error"] == {
        "code": "payments_unreachable", "message": "the payment records cannot be reached now; the counter can help"}

    logged = " ".join(str(vars(r)) for r in caplog.records)  # message and every extra field, unscrubbed
    assert "edge cache" in logged  # the offline answer is logged...
    for secret in (ID, OTHER, ID[6:17]):  # ...but never the number, nor its birth date and sequence
        assert secret not in logged


def test_the_edge_keeps_its_answer_to_24_months_latest_first_whatever_the_platform_sends(tmp_path):
    # Another region's platform that answers 30 months, oldest first, medical before pension.
    sent = sorted(months((2022, 1), 30, "pension") + months((2022, 1), 30, "medical"),
                  key=lambda p: (p["year"], p["month"], p["kind"]))

    srv = payments_platform({"payments": sent})
    try:
        with Edge(tmp_path / "edge-other", srv.url, with_pack=False) as edge:
            got = EdgeClient(edge.url).payments(ID)["payments"]
    finally:
        srv.stop()
    assert len(got) == 48
    assert [(p["year"], p["month"], p["kind"]) for p in got[:3]] == [
        (2024, 6, "pension"), (2024, 6, "medical"), (2024, 5, "pension")]
    assert (got[-1]["year"], got[-1]["month"]) == (2022, 7)


def test_a_fresh_answer_replaces_the_copy_and_an_empty_answer_is_an_answer(platform, edge_factory):
    edge = edge_factory(platform.url)
    client = EdgeClient(edge.url, timeout=5)
    none = client.payments(ID)
    assert none["source"] == "platform" and none["payments"] == []
    add_payments(platform.url, ID, months((2026, 1), 2))
    assert len(client.payments(ID)["payments"]) == 2
    platform.stop()
    cached = client.payments(ID)
    assert cached["source"] == "edge_cache" and len(cached["payments"]) == 2


def test_a_platform_slower_than_the_lookup_timeout_gets_the_copy(tmp_path, platform_factory, platform):
    add_payments(platform.url, ID, months((2025, 11), 3))
    data_dir = tmp_path / "edge-slow"
    with Edge(data_dir, platform.url, with_pack=False) as edge:
        first = EdgeClient(edge.url).payments(ID)
    assert first["source"] == "platform"
    platform.stop()
    platform_factory(port=platform.port, latency_s=2.0)  # back, but far slower than a resident can wait
    with Edge(data_dir, platform.url, with_pack=False, lookup_timeout_s=0.5) as edge:
        slow = EdgeClient(edge.url).payments(ID)
    assert slow == {**first, "source": "edge_cache"}


def test_the_copy_survives_an_edge_restart_and_holds_no_id_number(tmp_path, platform):
    add_payments(platform.url, ID, months((2026, 1), 6))
    data_dir = tmp_path / "edge-restart"
    with Edge(data_dir, platform.url, with_pack=False) as edge:
        online = EdgeClient(edge.url).payments(ID)
    platform.stop()
    with Edge(data_dir, platform.url, with_pack=False) as edge:  # a power cut later, with the WAN still down
        offline = EdgeClient(edge.url).payments(ID)
        assert offline["source"] == "edge_cache" and offline["payments"] == online["payments"]
        id_hash = edge.outbox.id_hash(ID)

    files = sorted(data_dir.glob("payments_cache.sqlite3*"))
    assert files and (files[0].stat().st_mode & 0o077) == 0  # owner-only
    raw = b"".join(f.read_bytes() for f in files)
    assert id_hash.encode() in raw  # the right file: keyed by the hash...
    for secret in (ID, ID[:17], ID[6:17], idnumber.mask(ID)):  # ...and no form of the number
        assert secret.encode() not in raw


def test_bad_requests_are_clear_and_nothing_is_kept(platform, edge_factory, tmp_path):
    edge = edge_factory(platform.url)
    client = EdgeClient(edge.url, timeout=5)
    with pytest.raises(EdgeRejected) as e:
        client.payments("540102195001010000")  # wrong check character
    assert e.value.status == 422 and e.value.code == "invalid_id_number"
    for body in (b"{not json", b"[]"):
        status, doc = post(edge, wire.API_PAYMENTS, body)
        assert status == 400 and doc["error"]["code"] == "bad_json"
    status, doc = post(edge, wire.API_PAYMENTS, b"{}")
    assert status == 422 and doc["error"]["code"] == "invalid_id_number"
    assert _rows(tmp_path / "edge0") == 0


def _rows(data_dir: Path) -> int:
    db = sqlite3.connect(data_dir / "payments_cache.sqlite3")
    try:
        return db.execute("SELECT COUNT(*) FROM payments_cache").fetchone()[0]
    finally:
        db.close()


# --- the cache on its own --------------------------------------------------------------------------
def test_the_cache_forgets_answers_older_than_its_limit(tmp_path):
    cache = PaymentCache(tmp_path / "payments_cache.sqlite3")
    try:
        cache.put("a" * 64, months((2026, 1), 1), "2026-01-20T00:00:00+00:00")
        assert cache.get("a" * 64) == ("2026-01-20T00:00:00+00:00", months((2026, 1), 1))
        # Make it a month and a day old, as if stored then.
        cache._db.execute("UPDATE payments_cache SET as_of_ts = ?", (time.time() - MAX_AGE_S - 86400,))
        assert cache.get("a" * 64) is None  # not served...
        cache.put("b" * 64, [], "2026-03-01T00:00:00+00:00")
        assert _rows(tmp_path) == 1  # ...and gone at the next write
    finally:
        cache.close()
