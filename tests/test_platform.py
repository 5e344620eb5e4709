"""The reference platform over real HTTP, driven through the edge's HttpPlatformAdapter and its CLI."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import threading
import urllib.request

import pytest
from aiohttp import web

from edge.platform_adapter import HttpPlatformAdapter, PlatformRejected, PlatformUnavailable
from kiosk import wire
from kiosk.netutil import free_port
from tests.fixtures_edge import ServerThread, make_id

ID = make_id(3)
NAME = "扎西卓玛"


def application(n: int = 0, id_number: str = ID, tracking: str | None = None) -> dict:
    return {"schema": wire.SUBMISSION_SCHEMA, "service_id": "old-age-allowance",
            "platform_service_code": "SS-0101", "tracking_number": tracking or f"TK261125-00000{n}",
            "fields": {"phone": "13800000000", "n": n},
            "applicant": {"id_number": id_number, "name": NAME}, "lang": "bo"}


def rows(tmp_path) -> tuple[int, int]:
    db = sqlite3.connect(tmp_path / "platform.sqlite3")
    try:
        return db.execute("SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM applications").fetchone()
    finally:
        db.close()


def test_intake_uses_the_edge_tracking_number_and_replay_is_the_same_answer(tmp_path, adapter):
    ack = adapter.submit_application("key-00000001", application(1))
    assert ack.tracking_number == "TK261125-000001" and ack.status == wire.STATUS_RECEIVED
    assert adapter.submit_application("key-00000001", application(1)) == ack
    assert rows(tmp_path) == (1, 1)


def test_same_key_other_body_is_refused_for_good(tmp_path, adapter):
    adapter.submit_application("key-00000001", application(1))
    with pytest.raises(PlatformRejected) as e:
        adapter.submit_application("key-00000001", application(2))
    assert e.value.code == "idempotency_conflict" and e.value.http_status == 409
    assert rows(tmp_path) == (1, 1)


def test_concurrent_duplicates_make_one_application(tmp_path, platform):
    acks, errors = [], []

    def send():
        a = HttpPlatformAdapter(platform.url, timeout=10)
        try:
            acks.append(a.submit_application("key-duplicate", application(5)))
        except Exception as e:
            errors.append(e)
        finally:
            a.close()

    threads = [threading.Thread(target=send) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(acks)) == 1
    assert rows(tmp_path) == (1, 1)


def test_a_clashing_tracking_number_from_another_edge_gets_a_new_number(adapter):
    first = adapter.submit_application("key-00000001", application(1, tracking="TK261125-SAME01"))
    other = adapter.submit_application("key-00000002", application(2, tracking="TK261125-SAME01"))
    assert first.tracking_number == "TK261125-SAME01" and other.tracking_number != first.tracking_number


def test_incomplete_application_is_rejected_with_the_platforms_reason(tmp_path, adapter):
    bad = application(1)
    bad["applicant"]["id_number"] = "123"
    del bad["platform_service_code"]
    with pytest.raises(PlatformRejected) as e:
        adapter.submit_application("key-00000001", bad)
    assert e.value.code == "invalid_application" and e.value.http_status == 422
    assert rows(tmp_path) == (0, 0)


def test_missing_key_and_bad_json_are_400(platform):
    import urllib.error
    import urllib.request
    for headers, body in (({}, json.dumps(application()).encode()), ({wire.IDEMPOTENCY_HEADER: "key-00000001"}, b"{")):
        req = urllib.request.Request(platform.url + wire.PLATFORM_APPLICATIONS, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=5)
        assert e.value.code == 400
        assert json.loads(e.value.read())["error"]["code"] in ("idempotency_key_required", "bad_json")


def test_status_search_and_operator_moves(platform, adapter):
    ack = adapter.submit_application("key-00000001", application(1))
    adapter.submit_application("key-00000002", application(2, id_number=make_id(4)))
    st = adapter.get_status(ack.tracking_number)
    assert st.status == wire.STATUS_RECEIVED and st.service_id == "old-age-allowance"
    assert adapter.get_status("TK000000-NOSUCH") is None
    found = adapter.search_by_id(ID)
    assert [a.tracking_number for a in found] == [ack.tracking_number]
    assert adapter.search_by_id(ID.lower()) == found

    cli = [sys.executable, "-m", "kiosk", "platform"]
    out = subprocess.run([*cli, "set-status", ack.tracking_number, "in_review", "--url", platform.url],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "in_review" in out.stdout
    # A final decision cannot be skipped backwards.
    subprocess.run([*cli, "set-status", ack.tracking_number, "approved", "--url", platform.url],
                   check=True, capture_output=True, timeout=60)
    back = subprocess.run([*cli, "set-status", ack.tracking_number, "in_review", "--url", platform.url],
                          capture_output=True, text=True, timeout=60)
    assert back.returncode == 1 and "cannot go from approved" in back.stderr
    st = adapter.get_status(ack.tracking_number)
    assert [h["status"] for h in st.history] == ["received", "in_review", "approved"]

    listing = subprocess.run([*cli, "list", "--url", platform.url], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0
    assert "540102********" in listing.stdout and ack.tracking_number in listing.stdout
    assert ID not in listing.stdout and NAME not in listing.stdout
    assert "2 shown of 2" in listing.stdout


def test_feedback_intake_is_idempotent(tmp_path, adapter):
    a = adapter.submit_feedback("key-feedback", {"rating": 4, "reasons": ["fast"]})
    assert adapter.submit_feedback("key-feedback", {"rating": 4, "reasons": ["fast"]}) == a
    db = sqlite3.connect(tmp_path / "platform.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 1


def test_pii_never_reaches_the_log(caplog, adapter):
    caplog.set_level(logging.DEBUG)
    ack = adapter.submit_application("key-00000001", application(1))
    adapter.search_by_id(ID)
    logged = " ".join(str(vars(r)) for r in caplog.records)  # message and every extra field, unscrubbed
    assert ack.tracking_number in logged  # it does log the intake...
    assert ID not in logged and NAME not in logged  # ...but never who


def test_adapter_reports_an_unreachable_platform_as_temporary():
    a = HttpPlatformAdapter(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(PlatformUnavailable):
        a.submit_application("key-00000001", application())
    with pytest.raises(PlatformUnavailable):
        a.search_by_id(ID)


def test_adapter_treats_5xx_and_non_json_pages_as_temporary():
    async def broken(request):
        return web.Response(status=502, text="bad gateway")

    async def portal(request):
        return web.Response(status=200, text="<html>captive portal</html>", content_type="text/html")

    def make():
        app = web.Application()
        app.router.add_post(wire.PLATFORM_APPLICATIONS, broken)
        app.router.add_post(wire.PLATFORM_FEEDBACK, portal)
        return app

    srv = ServerThread(make).start()
    try:
        a = HttpPlatformAdapter(srv.url, timeout=2)
        with pytest.raises(PlatformUnavailable, match="502"):
            a.submit_application("key-00000001", application())
        with pytest.raises(PlatformUnavailable, match="JSON"):
            a.submit_feedback("key-00000001", {"rating": 1})
    finally:
        srv.stop()


def test_adapter_refuses_a_non_http_url():
    with pytest.raises(ValueError):
        HttpPlatformAdapter("ftp://example")


def test_intakes_and_replays_are_counted_and_survive_a_platform_restart(tmp_path, platform_factory):
    from central.platform import PLATFORM_STATS, PlatformDB

    first = platform_factory()
    a = HttpPlatformAdapter(first.url, timeout=5)
    a.submit_application("key-00000001", application(1))
    a.submit_application("key-00000002", application(2))
    a.submit_application("key-00000001", application(1))  # an edge re-sending after a crash
    with pytest.raises(PlatformRejected):
        a.submit_application("key-00000002", application(3))
    a.submit_feedback("key-feedback", {"rating": 5})
    a.close()
    first.stop()
    # The counts are in the platform's SQLite, so a restarted platform still has them.
    again = platform_factory()
    with urllib.request.urlopen(again.url + PLATFORM_STATS, timeout=5) as resp:
        stats = json.loads(resp.read())
    assert stats["application"] == {"intakes": 2, "replays": 1, "conflicts": 1}
    assert stats["feedback"] == {"intakes": 1, "replays": 0, "conflicts": 0}
    out = subprocess.run([sys.executable, "-m", "kiosk", "platform", "stats", "--url", again.url],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "application  intakes: 2  replays: 1  conflicts: 1" in out.stdout
    db = PlatformDB(tmp_path / "platform.sqlite3")
    try:
        assert db.intake_stats()["application"]["replays"] == 1
    finally:
        db.close()


def _gate(answers: dict[str, web.Response]) -> ServerThread:
    """A server in the platform's place answering each path with a fixed response (proxies, wrong URLs)."""
    async def handler(request: web.Request) -> web.StreamResponse:
        return answers[request.path]

    def make() -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        return app

    return ServerThread(make).start()


@pytest.mark.parametrize(("status", "body", "content_type", "code"), [
    (401, '{"error": {"code": "unauthorized", "message": "token expired"}}', "application/json", "platform_auth"),
    (403, "<html>Forbidden</html>", "text/html", "platform_auth"),
    (404, "<html>Not Found</html>", "text/html", "platform_unexpected"),
    (405, "405: Method Not Allowed", "text/plain", "platform_unexpected"),
    (413, "Request Entity Too Large", "text/plain", "platform_unexpected"),
    (400, "<html>Bad Request</html>", "text/html", "platform_unexpected"),
    (409, '{"detail": "conflict"}', "application/json", "platform_unexpected"),  # no platform error code
    (410, '{"error": {"code": "gone", "message": "moved"}}', "application/json", "platform_unexpected"),
])
def test_only_the_platforms_own_refusal_is_permanent(status, body, content_type, code):
    refusal = json.dumps(wire.error_body("unknown_service_code", "SS-9999 is not a service of this region"))
    srv = _gate({wire.PLATFORM_APPLICATIONS: web.Response(status=status, text=body, content_type=content_type),
                 wire.PLATFORM_FEEDBACK: web.Response(status=422, text=refusal, content_type="application/json")})
    try:
        a = HttpPlatformAdapter(srv.url, timeout=2)
        with pytest.raises(PlatformUnavailable) as e:
            a.submit_application("key-00000001", application())
        assert e.value.code == code and str(status) in str(e.value)
        # The same server refusing in the platform's own words (400/409/422 + error code) is permanent.
        with pytest.raises(PlatformRejected) as r:
            a.submit_feedback("key-00000001", {"rating": 1})
        assert (r.value.code, r.value.http_status) == ("unknown_service_code", 422)
    finally:
        srv.stop()


def test_a_proxy_404_is_not_an_unknown_tracking_number():
    path = wire.PLATFORM_APPLICATION.format(tracking_number="TK261125-000001")
    srv = _gate({path: web.Response(status=404, text="<html>Not Found</html>", content_type="text/html")})
    try:
        with pytest.raises(PlatformUnavailable) as e:
            HttpPlatformAdapter(srv.url, timeout=2).get_status("TK261125-000001")
        assert e.value.code == "platform_unexpected"
    finally:
        srv.stop()
