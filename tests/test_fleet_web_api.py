"""The dashboard's JSON API, its OpenAPI document, and /metrics (parsed as Prometheus would)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from central.fleet import db
from central.fleet.config import FleetConfig
from central.fleet.web import make_app
from central.fleet.web.openapi import document
from tests.fixtures_fleet_web import ALERT_A, PASSWORDS, WebServer
from tests.test_fleet_web_auth import client

pytestmark = pytest.mark.asyncio

# Pages and their JSON twins: every page is also available as JSON.
PAGE_TWINS = {"/": "/api/v1/fleet", "/kiosks/{kiosk_id}": "/api/v1/kiosks/{kiosk_id}",
              "/kiosks/{kiosk_id}/screenshot": "/api/v1/kiosks/{kiosk_id}/screenshot",
              "/kiosks/{kiosk_id}/commands": "/api/v1/kiosks/{kiosk_id}/commands",
              "/alerts": "/api/v1/alerts", "/alerts/{alert_id}": "/api/v1/alerts/{alert_id}",
              "/alerts/{alert_id}/ack": "/api/v1/alerts/{alert_id}/ack",
              "/alerts/{alert_id}/resolve": "/api/v1/alerts/{alert_id}/resolve", "/charts": "/api/v1/charts",
              "/login": "/api/v1/login", "/logout": "/api/v1/logout"}


async def test_every_route_is_documented_and_every_page_has_a_json_twin(tmp_path) -> None:  # noqa: ANN001
    app = make_app(db.connect(f"sqlite:///{tmp_path / 'f.sqlite3'}"), FleetConfig())
    paths = document()["paths"]
    missing, untwinned = [], []
    for route in app.router.routes():
        path, method = route.resource.canonical, route.method.lower()
        if method == "head" or path in ("/static/style.css", "/favicon.ico"):
            continue
        if path.startswith("/api/") or path in ("/metrics", "/healthz"):
            if method not in paths.get(path, {}):
                missing.append(f"{method.upper()} {path}")
        elif PAGE_TWINS.get(path) not in paths:
            untwinned.append(path)
    assert not missing, f"routes missing from openapi.py: {missing}"
    assert not untwinned, f"pages without a documented /api/v1 twin: {untwinned}"
    documented = {(p, m) for p, ops in paths.items() for m in ops}
    served = {(r.resource.canonical, r.method.lower()) for r in app.router.routes()}
    assert documented <= served, f"documented but not served: {documented - served}"


async def test_api_documents_and_serves_the_fleet(fleet_web: WebServer) -> None:
    async with client() as s:
        async with s.post(f"{fleet_web.url}/api/v1/login",
                          json={"name": "viewer", "password": PASSWORDS["viewer"]}) as r:
            assert r.status == 200
        async with s.get(f"{fleet_web.url}/api/v1/openapi.json") as r:
            doc = await r.json()
        assert doc["openapi"].startswith("3.1") and "/api/v1/fleet" in doc["paths"]
        async with s.get(f"{fleet_web.url}/api/v1/fleet?county=chengguan") as r:
            fleet = await r.json()
        assert fleet["counts"] == {"online": 1, "offline": 0, "degraded": 1, "fault": 1, "unregistered": 0}
        assert {k["id"]: k["open_alerts"] for k in fleet["kiosks"]} == {
            "k-cg-caigong-1": 1, "k-cg-jiri-1": 0, "k-cg-jiri-2": 1}
        assert [c["channel"] for c in fleet["failing_channels"]] == ["wecom-main"]
        async with s.get(f"{fleet_web.url}/api/v1/kiosks/k-cg-caigong-1") as r:
            k = await r.json()
        assert k["state"] == "fault" and k["components"]["idcard"]["code"] == "no_reader"
        assert k["versions"] == {"software": "1.4.2", "content": 202501, "config": 3} and k["has_screenshot"]
        async with s.get(f"{fleet_web.url}/api/v1/alerts/{ALERT_A}") as r:
            a = await r.json()
        assert a["severity"] == "critical" and a["transitions"][0]["to_status"] == "active"
        assert a["county_id"] == "chengguan"
        async with s.get(f"{fleet_web.url}/api/v1/charts?window=24h") as r:
            ch = await r.json()
        assert {c["id"]: c["pct"] for c in ch["availability"]["counties"]} == {"chengguan": 92.65, "dagze": 50.0}
        assert len(ch["open_alerts"]) == 48
        async with s.get(f"{fleet_web.url}/api/v1/alerts?status=bogus") as r:
            assert r.status == 400 and "status must be one of" in (await r.json())["error"]["message"]
        async with s.get(f"{fleet_web.url}/api/v1/kiosks/nope") as r:
            assert r.status == 404


async def test_api_command_is_sent_and_its_result_readable(fleet_web: WebServer) -> None:
    async with client() as s:
        async with s.post(f"{fleet_web.url}/api/v1/login",
                          json={"name": "admin", "password": PASSWORDS["admin"]}) as r:
            csrf = (await r.json())["csrf"]
        async with s.post(f"{fleet_web.url}/api/v1/kiosks/k-dz-bangdui-1/commands", json={"kind": "self_test"},
                          headers={"X-CSRF-Token": csrf}) as r:
            assert r.status == 202
            cid = (await r.json())["id"]
        async with s.get(f"{fleet_web.url}/api/v1/commands/{cid}") as r:
            cmd = await r.json()
        assert cmd["kind"] == "self_test" and cmd["issued_by"] == "admin" and cmd["result"] is None
        async with s.post(f"{fleet_web.url}/api/v1/kiosks/k-dz-bangdui-1/commands", data="x",
                          headers={"X-CSRF-Token": csrf}) as r:
            assert r.status == 415


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? '
                     r'(-?[0-9.eE+-]+|NaN|[+-]Inf)$')


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """A strict reader of the text exposition format: every line a HELP, a TYPE or a sample."""
    samples: dict[tuple[str, frozenset], float] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            assert kind in ("counter", "gauge"), line
            typed.add(name)
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.groups()
        assert name in typed, f"{name} has no TYPE line"
        pairs = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or ""))
        samples[(name, pairs)] = float(value)
    return samples


async def test_metrics_expose_states_alerts_ingest_and_notification_failures(fleet_web: WebServer) -> None:
    async with client() as s, s.get(f"{fleet_web.url}/metrics") as r:  # no login: a Prometheus scrape
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        m = parse_metrics(await r.text())
    def v(name: str, **labels: str) -> float:  # noqa: E306
        return m[(name, frozenset(labels.items()))]
    assert v("fleet_kiosks", state="offline") == 2 and v("fleet_kiosks", state="fault") == 1
    assert v("fleet_alerts_open", severity="critical", status="active") == 1
    assert v("fleet_alerts_open", severity="warning", status="cleared") == 1
    assert v("fleet_alerts_open", severity="minor", status="active") == 0
    assert v("fleet_ingest_messages_total", kind="state") == 7
    assert v("fleet_ingest_dropped_total", reason="not_json") == 2
    assert v("fleet_ingest_duplicates_total") == 1
    assert v("fleet_notifications_failed_total", channel="wecom-main") == 1
    assert v("fleet_notification_channels_failing") == 1
    # counts follow the database: the cleared alert closed
    with fleet_web.engine.begin() as c:
        c.execute(db.alerts.update().where(db.alerts.c.id == 3).values(status="closed", open_key=None))
        assert c.execute(select(db.alerts.c.status).where(db.alerts.c.id == 3)).scalar() == "closed"
    async with client() as s, s.get(f"{fleet_web.url}/metrics") as r:
        m = parse_metrics(await r.text())
    assert v("fleet_alerts_open", severity="warning", status="cleared") == 0
