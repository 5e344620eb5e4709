"""Dashboard pages over real HTTP against the seeded fleet: what an operator sees and can do."""

from __future__ import annotations

import re

import aiohttp
import pytest
from sqlalchemy import select, update

from central.fleet import db
from tests.fixtures_fleet_web import ALERT_A, ALERT_B, ALERT_CLEARED, WebServer, start_web, tiny_jpeg
from tests.test_fleet_web_auth import client, hidden, login

pytestmark = pytest.mark.asyncio


def rows(html: str, attr: str) -> dict[str, str]:
    """data-<attr>="id" ... data-state/status="x" pairs of the list rows."""
    return dict(re.findall(rf'data-{attr}="([^"]+)" data-(?:state|status)="([^"]+)"', html))


async def get(s: aiohttp.ClientSession, web: WebServer, path: str, status: int = 200) -> str:
    async with s.get(f"{web.url}{path}") as r:
        assert r.status == status, (path, r.status)
        return await r.text()


async def test_fleet_page_counts_states_and_filters(fleet_web: WebServer) -> None:
    async with client() as s:
        await login(s, fleet_web, "viewer")
        html = await get(s, fleet_web, "/")
        states = rows(html, "kiosk")
        assert states == {"k-cg-jiri-1": "online", "k-cg-jiri-2": "degraded", "k-cg-caigong-1": "fault",
                          "k-dz-bangdui-1": "offline", "k-dz-bangdui-2": "offline", "k-stray-9": "unregistered"}
        counts = dict(re.findall(r'id="count-(\w+)"[^>]*>\s*<span class="n">(\d+)</span>', html))
        assert counts == {"online": "1", "offline": "2", "degraded": "1", "fault": "1", "unregistered": "1"}
        assert "吉日乡" in html and "1.4.2" in html  # the hall and the software version
        # the banner names the failing channel (4 failures) and not the one that failed once
        assert "wecom-main" in html and "errcode 93000" in html and "cg-team / mail" not in html
        html = await get(s, fleet_web, "/?county=dagze")
        assert set(rows(html, "kiosk")) == {"k-dz-bangdui-1", "k-dz-bangdui-2"}
        html = await get(s, fleet_web, "/?county=chengguan&state=fault")
        assert set(rows(html, "kiosk")) == {"k-cg-caigong-1"}
        assert re.search(r'id="count-online"[^>]*>\s*<span class="n">1<', html)  # counts keep the place filter
        html = await get(s, fleet_web, "/?site=cg-jiri")
        assert set(rows(html, "kiosk")) == {"k-cg-jiri-1", "k-cg-jiri-2"}
        html = await get(s, fleet_web, "/?prefecture=lhasa")
        assert len(rows(html, "kiosk")) == 5  # the unregistered kiosk has no prefecture
        html = await get(s, fleet_web, "/?state=sleeping", 400)
        assert "state must be one of online, offline, degraded, fault, unregistered" in html


async def test_kiosk_page_shows_devices_versions_outbox_events_alerts_screenshot(fleet_web: WebServer) -> None:
    async with client() as s:
        await login(s, fleet_web, "viewer")
        html = await get(s, fleet_web, "/kiosks/k-cg-caigong-1")
        for seen in ("no_reader", "读卡器未连接", "读卡器故障", "蔡公堂乡", "202501", "Dead letters",
                     "Last inspection", f'href="/alerts/{ALERT_A}"', "/kiosks/k-cg-caigong-1/screenshot"):
            assert seen in html, seen
        assert "data-command" not in html  # a viewer gets no command buttons
        async with s.get(f"{fleet_web.url}/kiosks/k-cg-caigong-1/screenshot") as r:
            assert r.status == 200 and r.content_type == "image/jpeg"
            assert await r.read() == tiny_jpeg()
        await get(s, fleet_web, "/kiosks/k-cg-jiri-1/screenshot", 404)
        html = await get(s, fleet_web, "/kiosks/no-such-kiosk", 404)
        assert "no kiosk no-such-kiosk" in html


async def test_run_self_test_and_sync_now_send_commands_and_show_the_result(fleet_web: WebServer) -> None:
    async with client() as s:
        await login(s, fleet_web, "maint-a")
        html = await get(s, fleet_web, "/kiosks/k-cg-jiri-1")
        assert 'data-command="self_test"' in html and 'data-command="sync_content"' in html
        csrf = hidden(html, "csrf")
        for kind in ("self_test", "sync_content"):
            async with s.post(f"{fleet_web.url}/kiosks/k-cg-jiri-1/commands",
                              data={"csrf": csrf, "kind": kind}) as r:
                assert r.status == 200 and "waiting" in await r.text()
        assert [(k, kind, by) for k, kind, _a, by in fleet_web.sent] == [
            ("k-cg-jiri-1", "self_test", "maint-a"), ("k-cg-jiri-1", "sync_content", "maint-a")]
        async with s.post(f"{fleet_web.url}/kiosks/k-cg-jiri-1/commands",
                          data={"csrf": csrf, "kind": "format_disk"}) as r:
            assert r.status == 400
        # the kiosk answers (the ingest writes the result): the page shows it
        with fleet_web.engine.begin() as c:
            c.execute(update(db.command_results).where(db.command_results.c.kind == "self_test")
                      .values(result="done", message="all checks passed", answered_ts=fleet_web.now))
        html = await get(s, fleet_web, "/kiosks/k-cg-jiri-1")
        assert "all checks passed" in html
        # maint-a's county does not include dagze: no buttons there
        assert "data-command" not in await get(s, fleet_web, "/kiosks/k-dz-bangdui-1")
    assert len(fleet_web.sent) == 2


async def test_alerts_list_filters_and_acknowledge_resolve_flow(fleet_web: WebServer) -> None:
    async with client() as s:
        await login(s, fleet_web, "admin")
        html = await get(s, fleet_web, "/alerts")
        listed = rows(html, "alert")
        assert listed == {str(ALERT_A): "active", str(ALERT_B): "active", str(ALERT_CLEARED): "cleared"}
        assert html.index(f'data-alert="{ALERT_A}"') < html.index(f'data-alert="{ALERT_B}"')  # critical first
        assert set(rows(await get(s, fleet_web, "/alerts?severity=critical"), "alert")) == {str(ALERT_A)}
        assert set(rows(await get(s, fleet_web, "/alerts?county=dagze"), "alert")) == {str(ALERT_B)}
        assert set(rows(await get(s, fleet_web, "/alerts?status=closed"), "alert")) == {"4"}
        assert len(rows(await get(s, fleet_web, "/alerts?status=all"), "alert")) == 4
        await get(s, fleet_web, "/alerts?severity=huge", 400)
        csrf = hidden(html, "csrf")
        # acknowledging a cleared alert closes it: it leaves the open list
        async with s.post(f"{fleet_web.url}/alerts/{ALERT_CLEARED}/ack", data={"csrf": csrf}) as r:
            assert r.status == 200
            page = await r.text()
            assert "admin" in page and "Acknowledged" in page
        assert str(ALERT_CLEARED) not in rows(await get(s, fleet_web, "/alerts"), "alert")
        async with s.post(f"{fleet_web.url}/alerts/{ALERT_A}/resolve", data={"csrf": csrf}) as r:
            assert r.status == 200
        with fleet_web.engine.connect() as c:
            a = c.execute(select(db.alerts).where(db.alerts.c.id == ALERT_A)).one()
        assert a.status == "closed"
        html = await get(s, fleet_web, f"/alerts/{ALERT_A}")
        history = html[html.index('id="transitions"'):]
        assert "pending → active" in history and "→ closed" in history and "admin" in history
        assert "data-resolve" not in html  # nothing left to do
        await get(s, fleet_web, "/alerts/999", 404)


async def test_charts_show_availability_per_site_and_county(fleet_web: WebServer) -> None:
    async with client() as s:
        await login(s, fleet_web, "viewer")
        html = await get(s, fleet_web, "/charts?window=24h")
        assert html.count("<svg") == 3
        # per county (24 h): chengguan 63 h up of 68 h observed, dagze 12 of 24
        assert "城关区: 92.65 %" in html and "达孜区: 50.00 %" in html
        assert "吉日乡: 93.75 %" in html and "蔡公堂乡: 90.00 %" in html
        assert "peak 2" in html  # never more than two at once: 4 and 3 five hours ago, 1 and 2 now
        html = await get(s, fleet_web, "/charts?window=7d")
        assert "吉日乡: 96.15 %" in html  # (27 h + 48 h) / (30 h + 48 h): observed time only
        await get(s, fleet_web, "/charts?window=1y", 400)


async def test_run_self_test_publishes_a_real_command_on_the_broker(  # noqa: ANN001 - pytest fixtures
        tmp_path, broker, subscriber_factory) -> None:
    """With M1's CommandSender and a real Mosquitto: the button puts a fleet_wire.Command on the kiosk's topic."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from central.fleet.commands import CommandSender
    from kiosk import fleet_wire
    topic = fleet_wire.topic("k-cg-jiri-1", fleet_wire.KIND_CMD)
    sub = subscriber_factory([topic])
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fleet-web-test")
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()

    def publish(t: str, body: bytes) -> bool:
        return pub.publish(t, body, qos=fleet_wire.QOS).wait_for_publish(10) is None

    web = start_web(f"sqlite:///{tmp_path / 'f.sqlite3'}", lambda engine: CommandSender(engine, publish).send)
    try:
        async with client() as s:
            await login(s, web, "maint-a")
            csrf = hidden(await get(s, web, "/kiosks/k-cg-jiri-1"), "csrf")
            async with s.post(f"{web.url}/kiosks/k-cg-jiri-1/commands",
                              data={"csrf": csrf, "kind": "self_test"}) as r:
                assert r.status == 200
                page = await r.text()
        cmd = sub.wait_for(topic, lambda d: d.get("kind") == "self_test", "the self_test command on the broker")
        assert cmd["issued_by"] == "maint-a" and cmd["schema"] == fleet_wire.SCHEMA_COMMAND
        assert cmd["id"] in page and "waiting" in page  # the page names the command and waits for its result
    finally:
        web.stop()
        pub.loop_stop()
        pub.disconnect()
