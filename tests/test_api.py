"""The edge API over real HTTP: content with ETags, submissions (validation, idempotency), status,
progress lookups online and offline, feedback, kiosk health. Real store, outbox, platform."""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import time

import pytest

from edge.openapi import document
from kiosk import wire
from kiosk.content import Service
from kiosk.edge_client import EdgeClient, EdgeRejected, EdgeUnavailable
from tests.fixtures_edge import make_id, pack_files

ID = make_id(11)
NAME = "次仁拉姆"
GOOD_FIELDS = {"phone": "13912345678", "account": "bank", "household_size": 3, "village": "Lhunzhub",
               "start_date": "2026-01-15", "agree": True}
JPEG = b"\xff\xd8\xff\xe0" + bytes(100)


def applicant(id_number: str = ID) -> dict:
    return {"id_number": id_number, "name": NAME, "gender": "2", "address": "某乡某村"}


def raw(edge, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", edge.server.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, dict(resp.getheaders()), (json.loads(data) if data and
                                                       resp.getheader("Content-Type", "").startswith(
                                                           "application/json") else data)
    finally:
        conn.close()


def wait_for(cond, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def edge(edge_factory, platform):
    return edge_factory(platform.url)


@pytest.fixture
def offline_edge(edge_factory):
    """An edge whose platform is not there at all."""
    return edge_factory()


@pytest.fixture
def client(edge):
    return EdgeClient(edge.url, timeout=5)


# --- content ---------------------------------------------------------------------------------------
def test_services_summaries_and_full_definitions(client):
    summaries = client.services()
    assert [s["id"] for s in summaries] == ["old-age-allowance", "medical-guide"]
    assert set(summaries[0]) == {"id", "category", "title", "summary", "icon"}
    assert summaries[0]["title"]["en"] == "Old-age allowance" and summaries[0]["title"]["bo"]
    svc = client.service("old-age-allowance")
    assert isinstance(svc, Service) and svc.platform_service_code == "SS-0101"
    assert [f.id for f in svc.fields][:3] == ["name", "id_masked", "phone"]
    with pytest.raises(EdgeRejected) as e:
        client.service("no-such-service")
    assert e.value.status == 404 and e.value.code == "unknown_service"


def test_prompts_guides_and_forms(client):
    prompts = client.prompts()
    assert prompts["home"].clips == {"bo": "audio/bo/home.wav"} and prompts["thanks"].text.zh
    assert "高龄津贴" in client.guide("old-age-allowance").text("zh")
    assert client.form("old-age-allowance").fields[0].lines == 1
    with pytest.raises(EdgeRejected):
        client.guide("nope")


def test_manifest_and_files_carry_sha256_etags_and_answer_304(edge, client):
    files = pack_files()
    status, headers, body = raw(edge, "GET", wire.API_FILE.format(path="images/old-age.png"))
    sha = hashlib.sha256(files["images/old-age.png"]).hexdigest()
    assert status == 200 and body == files["images/old-age.png"]
    assert headers["ETag"] == f'"{sha}"' and "Cache-Control" in headers
    assert headers["Content-Type"] == "image/png"
    status, _, body = raw(edge, "GET", wire.API_FILE.format(path="images/old-age.png"),
                          headers={"If-None-Match": f'"{sha}"'})
    assert status == 304 and body == b""
    status, headers, body = raw(edge, "GET", wire.API_MANIFEST)
    assert status == 200 and body["version"] == 1
    assert raw(edge, "GET", wire.API_MANIFEST, headers={"If-None-Match": headers["ETag"]})[0] == 304
    # A big file is streamed from disk with the same ETag rules.
    wav = files["audio/bo/home.wav"]
    assert client.file_bytes("audio/bo/home.wav") == wav
    status, headers, _ = raw(edge, "GET", wire.API_FILE.format(path="audio/bo/home.wav"),
                             headers={"If-None-Match": f'"{hashlib.sha256(wav).hexdigest()}"'})
    assert status == 304


def test_client_file_cache_revalidates_instead_of_downloading(edge):
    class Recording(EdgeClient):
        """The real client, noting what came over the wire."""
        seen: list[tuple[int, int]] = []

        def _once(self, method, path, body, headers, **kw):
            resp = super()._once(method, path, body, headers, **kw)
            self.seen.append((resp.status, len(resp.data)))
            return resp

    c = Recording(edge.url)
    png = c.file_bytes("images/old-age.png")
    assert c.file_bytes("images/old-age.png") == png
    assert c.seen == [(200, len(png)), (304, 0)]  # the second time only a revalidation crossed the LAN
    assert c.service("old-age-allowance") == c.service("old-age-allowance")
    assert c.seen[-2:] == [(200, c.seen[-2][1]), (304, 0)]


def test_unknown_and_escaping_paths_are_404_json(edge):
    for path in ("nope.png", "../outbox.sqlite3", "manifest.json", "%2e%2e/%2e%2e/etc/passwd"):
        status, _, body = raw(edge, "GET", f"{wire.API}/content/files/{path}")
        assert status == 404 and body["error"]["code"] == "not_found", path


def test_no_content_yet_is_a_clear_503(edge_factory, platform):
    bare = edge_factory(platform.url, with_pack=False)
    c = EdgeClient(bare.url)
    with pytest.raises(EdgeUnavailable, match="no_content"):
        c.services()
    assert c.status()["content"]["active_version"] is None


# --- submissions -----------------------------------------------------------------------------------
def test_submission_is_accepted_at_once_and_reaches_the_platform(edge, client):
    ans = client.submit("old-age-allowance", GOOD_FIELDS, applicant(), photo=JPEG, lang="bo")
    assert ans["status"] == "queued" and ans["forwarded"] is False and ans["tracking_number"].startswith("TK")
    wait_for(lambda: client.submission(ans["tracking_number"])["status"] == wire.STATUS_RECEIVED)
    rec = client.submission(ans["tracking_number"])
    assert rec["forwarded"] is True and [h["status"] for h in rec["history"]] == ["queued", "received"]


def test_card_fields_come_from_the_card_not_the_client(offline_edge):
    # Read-only fields are filled from the card at the edge; a value typed by the client is ignored,
    # the masked ID is computed here, and only known card fields travel on.
    c = EdgeClient(offline_edge.url)
    ans = c.submit("old-age-allowance", {**GOOD_FIELDS, "name": "someone else"},
                   {**applicant(), "fingerprint_blob": "xyz"})
    item = offline_edge.outbox.next_batch(10, now=float("inf"))[0]
    assert item.tracking_number == ans["tracking_number"]
    assert item.payload["fields"]["name"] == NAME
    assert item.payload["fields"]["id_masked"] == ID[:6] + "*" * 8 + ID[-4:]
    assert item.payload["applicant"] == {"id_number": ID, "name": NAME, "gender": "2", "address": "某乡某村"}
    assert item.payload["platform_service_code"] == "SS-0101"


def test_replay_returns_the_same_body_and_makes_one_row(edge):
    body = json.dumps({"schema": wire.SUBMISSION_SCHEMA, "service_id": "old-age-allowance",
                       "fields": GOOD_FIELDS, "applicant": applicant()}).encode()
    s1, _, first = raw(edge, "POST", wire.API_SUBMISSIONS, body, {wire.IDEMPOTENCY_HEADER: "replay-key-1"})
    s2, h2, second = raw(edge, "POST", wire.API_SUBMISSIONS, body, {wire.IDEMPOTENCY_HEADER: "replay-key-1"})
    assert (s1, s2) == (201, 200) and first == second and h2.get("Idempotent-Replayed") == "true"
    count = edge.outbox._db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    assert count == 1


def test_same_key_with_another_body_is_409(edge):
    def body(phone):
        return json.dumps({"schema": wire.SUBMISSION_SCHEMA, "service_id": "old-age-allowance",
                           "fields": {**GOOD_FIELDS, "phone": phone}, "applicant": applicant()}).encode()
    assert raw(edge, "POST", wire.API_SUBMISSIONS, body("13912345678"), {wire.IDEMPOTENCY_HEADER: "key-conflict"})[0] == 201
    status, _, err = raw(edge, "POST", wire.API_SUBMISSIONS, body("13912345679"), {wire.IDEMPOTENCY_HEADER: "key-conflict"})
    assert status == 409 and err["error"]["code"] == "idempotency_conflict"


def _depth_unchanged_after(edge, fn):
    before = edge.outbox._db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    result = fn()
    assert edge.outbox._db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == before
    return result


def test_missing_key_and_malformed_json_are_400_and_nothing_is_queued(edge):
    good = json.dumps({"schema": wire.SUBMISSION_SCHEMA, "service_id": "old-age-allowance",
                       "fields": GOOD_FIELDS, "applicant": applicant()}).encode()
    status, _, err = _depth_unchanged_after(edge, lambda: raw(edge, "POST", wire.API_SUBMISSIONS, good))
    assert status == 400 and err["error"]["code"] == "idempotency_key_required"
    for bad in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        status, _, err = _depth_unchanged_after(
            edge, lambda b=bad: raw(edge, "POST", wire.API_SUBMISSIONS, b, {wire.IDEMPOTENCY_HEADER: "key-badjson"}))
        assert status == 400 and err["error"]["code"] == "bad_json"
    wrong_schema = json.dumps({"schema": "kiosk.submission/0", "service_id": "old-age-allowance"}).encode()
    status, _, err = raw(edge, "POST", wire.API_SUBMISSIONS, wrong_schema, {wire.IDEMPOTENCY_HEADER: "key-schema"})
    assert status == 400 and err["error"]["code"] == "bad_schema"


def test_every_bad_field_is_listed_and_nothing_is_queued(edge, client):
    bad_fields = {"phone": "12345", "account": "gold", "household_size": 99, "village": "村123",
                  "start_date": "2026-02-30", "agree": "maybe", "unknown_field": 1}
    with pytest.raises(EdgeRejected) as e:
        _depth_unchanged_after(edge, lambda: client.submit("old-age-allowance", bad_fields,
                                                           {"id_number": "540102195001010000", "name": ""},
                                                           photo=b"not a jpeg"))
    assert e.value.status == 422 and e.value.code == "invalid_submission"
    problems = {p["field"]: p for p in e.value.details["fields"]}
    assert set(problems) == {"applicant.id_number", "applicant.name", "unknown_field", "phone", "account",
                             "household_size", "village", "start_date", "agree", "photo_jpeg_b64"}
    assert "11-digit" in problems["phone"]["message"]
    assert "bank, cash" in problems["account"]["message"]
    assert "at most 20" in problems["household_size"]["message"]
    assert all(p["message"] for p in problems.values())
    assert ID not in json.dumps(e.value.details)  # errors never echo personal data


def test_missing_required_fields_are_named(edge, client):
    with pytest.raises(EdgeRejected) as e:
        _depth_unchanged_after(edge, lambda: client.submit("old-age-allowance", {"phone": "13912345678"},
                                                           applicant()))
    assert {p["field"]: p["code"] for p in e.value.details["fields"]} == {"account": "required",
                                                                         "agree": "required"}


def test_unknown_service_and_guide_only_service(edge, client):
    with pytest.raises(EdgeRejected) as e:
        _depth_unchanged_after(edge, lambda: client.submit("no-such", GOOD_FIELDS, applicant()))
    assert e.value.status == 404 and e.value.code == "unknown_service"
    with pytest.raises(EdgeRejected) as e:
        client.submit("medical-guide", {}, applicant())
    assert e.value.status == 422 and e.value.code == "not_submittable"


def test_submissions_are_accepted_while_the_platform_is_down(offline_edge):
    c = EdgeClient(offline_edge.url)
    ans = c.submit("old-age-allowance", GOOD_FIELDS, applicant())
    assert ans["status"] == "queued"
    wait_for(lambda: c.status()["wan"]["wan"] == "down")
    st = c.status()
    assert st["outbox"]["depth"] == 1 and st["outbox"]["oldest_age_s"] >= 0
    assert st["outbox"]["dead_letters"] == 0
    assert c.submission(ans["tracking_number"])["status"] == "queued"


def test_status_shows_content_flags_and_kiosk_health(edge, client):
    client.health("hall-kiosk-1", {"printer": {"level": "fault", "code": "paper_out", "zh": "缺纸",
                                               "bo": "ཤོག་བུ་མེད།", "en": "Out of paper"}})
    st = client.status()
    assert st["content"] == {"active_version": 1, "allow_unsigned": False, "sync": None}
    assert st["kiosks"]["hall-kiosk-1"]["components"]["printer"]["code"] == "paper_out"
    assert st["wan"]["wan"] in ("unknown", "up")
    with pytest.raises(EdgeRejected) as e:
        client.health("Bad Id!", {"printer": {"level": "on fire"}})
    assert e.value.status == 422 and len(e.value.details["fields"]) == 2


# --- progress --------------------------------------------------------------------------------------
def test_progress_from_the_platform_then_from_the_edge_cache(edge, platform, client):
    ans = client.submit("old-age-allowance", GOOD_FIELDS, applicant())
    tn = ans["tracking_number"]
    wait_for(lambda: client.submission(tn)["status"] == wire.STATUS_RECEIVED)
    import urllib.request
    urllib.request.urlopen(urllib.request.Request(
        platform.url + wire.PLATFORM_SET_STATUS.format(tracking_number=tn), data=b'{"status": "in_review"}',
        method="POST", headers={"Content-Type": "application/json"}), timeout=5).read()

    online = client.progress(id_number=ID)
    assert online["source"] == "platform"
    assert [(a["tracking_number"], a["status"]) for a in online["applications"]] == [(tn, "in_review")]
    by_tracking = client.progress(tracking_number=tn)
    assert by_tracking["source"] == "platform" and by_tracking["applications"][0]["status"] == "in_review"
    confirmed = online["as_of"]

    platform.stop()  # the WAN goes down
    offline = client.progress(id_number=ID)
    assert offline["source"] == "edge_cache"
    app = offline["applications"][0]
    assert app["status"] == "in_review"  # the last status the platform confirmed...
    assert offline["as_of"] >= confirmed and app["as_of"] <= wire.now_iso()  # ...and when it was confirmed
    assert [h["status"] for h in app["history"]][-1] == "in_review"
    assert client.progress(tracking_number=tn)["source"] == "edge_cache"


def test_progress_offline_shows_queued_items_and_unknown_ones_are_404(offline_edge):
    c = EdgeClient(offline_edge.url)
    tn = c.submit("old-age-allowance", GOOD_FIELDS, applicant())["tracking_number"]
    res = c.progress(id_number=ID)
    assert res["source"] == "edge_cache" and res["applications"][0]["status"] == "queued"
    assert c.progress(id_number=make_id(12))["applications"] == []
    assert c.progress(tracking_number=tn)["applications"][0]["tracking_number"] == tn
    with pytest.raises(EdgeRejected) as e:
        c.progress(tracking_number="TK000000-000000")
    assert e.value.status == 404
    with pytest.raises(EdgeRejected) as e:  # U is not in the alphabet: no receipt ever shows this
        c.progress(tracking_number="TK000000-NOSUCH")
    assert (e.value.status, e.value.code) == (422, "invalid_tracking_number")
    with pytest.raises(EdgeRejected) as e:
        c.progress(id_number="123456")
    assert e.value.code == "invalid_id_number"
    status, _, err = raw(offline_edge, "POST", wire.API_PROGRESS, json.dumps({}).encode())
    assert status == 400 and err["error"]["code"] == "bad_query"


def test_no_id_number_or_name_in_any_log_line(caplog, edge, client):
    caplog.set_level(logging.DEBUG)
    tn = client.submit("old-age-allowance", GOOD_FIELDS, applicant())["tracking_number"]
    wait_for(lambda: client.submission(tn)["status"] == wire.STATUS_RECEIVED)
    client.progress(id_number=ID)
    with pytest.raises(EdgeRejected):
        client.submit("old-age-allowance", {"phone": "1"}, applicant())
    logged = " ".join(str(vars(r)) for r in caplog.records)
    assert tn in logged  # the work is logged...
    assert ID not in logged and NAME not in logged  # ...the person is not


# --- feedback --------------------------------------------------------------------------------------
def test_feedback_is_validated_queued_and_forwarded(tmp_path, edge, client):
    ans = client.feedback(5, ["fast", "clear_voice"], service_id="old-age-allowance", lang="bo")
    assert ans["status"] == "queued"
    wait_for(lambda: edge.outbox.stats()["depth"] == 0)
    import sqlite3
    db = sqlite3.connect(tmp_path / "platform.sqlite3")
    assert json.loads(db.execute("SELECT payload FROM feedback").fetchone()[0])["rating"] == 5
    with pytest.raises(EdgeRejected) as e:
        client.feedback(9, ["Not A Code"], service_id="nope")
    assert {p["field"] for p in e.value.details["fields"]} == {"rating", "reasons", "service_id"}
    status, _, err = raw(edge, "POST", wire.API_FEEDBACK, b'{"rating": 3}')
    assert status == 400 and err["error"]["code"] == "idempotency_key_required"


def test_unknown_route_and_method_are_json_errors(edge):
    status, _, err = raw(edge, "GET", f"{wire.API}/nothing-here")
    assert status == 404 and err["error"]["code"] == "not_found"
    status, _, err = raw(edge, "DELETE", wire.API_SERVICES)
    assert status == 405 and err["error"]["code"] == "method_not_allowed"


# --- the OpenAPI document ---------------------------------------------------------------------------
def test_every_route_of_the_app_is_documented(edge):
    from edge.api import make_app
    from kiosk.config import Config

    app = make_app(None, edge.outbox, None, Config())
    doc = document()
    assert doc["openapi"].startswith("3.1")
    routes = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue  # aiohttp adds HEAD beside every GET
        path = route.resource.canonical.replace("{path:.+}", "{path}")
        routes.add((path, route.method.lower()))
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert routes == documented
    status, _, served = raw(edge, "GET", wire.API_OPENAPI)
    assert status == 200 and served == json.loads(json.dumps(doc))
