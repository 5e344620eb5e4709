"""Dashboard auth over real HTTP: login, sessions, CSRF, roles and counties, rate limit."""

from __future__ import annotations

import re

import aiohttp
import pytest
from sqlalchemy import select

from central.fleet import db
from tests.fixtures_fleet_web import ALERT_A, ALERT_B, PASSWORDS, WebServer, start_web

pytestmark = pytest.mark.asyncio


def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden {name} field in the page"
    return m.group(1)


def client() -> aiohttp.ClientSession:
    # unsafe=True: accept cookies from an IP-address host (127.0.0.1)
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def login(s: aiohttp.ClientSession, web: WebServer, name: str, password: str | None = None
                ) -> aiohttp.ClientResponse:
    async with s.get(f"{web.url}/login") as r:
        token = hidden(await r.text(), "csrf")
    async with s.post(f"{web.url}/login", allow_redirects=False,
                      data={"csrf": token, "name": name, "password": password or PASSWORDS[name],
                            "next": "/"}) as r:
        await r.read()
        return r


async def page_csrf(s: aiohttp.ClientSession, web: WebServer, path: str = "/") -> str:
    async with s.get(f"{web.url}{path}") as r:
        assert r.status == 200
        return hidden(await r.text(), "csrf")


async def alert_row(web: WebServer, aid: int):  # noqa: ANN201
    with web.engine.connect() as c:
        return c.execute(select(db.alerts).where(db.alerts.c.id == aid)).one()


async def test_nothing_without_a_login_except_login_healthz_metrics(fleet_web: WebServer) -> None:
    async with client() as s:
        for path in ("/", "/kiosks/k-cg-jiri-1", "/alerts", f"/alerts/{ALERT_A}", "/charts",
                     "/kiosks/k-cg-caigong-1/screenshot"):
            async with s.get(f"{fleet_web.url}{path}", allow_redirects=False) as r:
                assert r.status == 303, path
                assert r.headers["Location"].startswith("/login?next="), path
        for path in ("/api/v1/fleet", "/api/v1/alerts", "/api/v1/openapi.json", "/api/v1/kiosks/k-cg-jiri-1"):
            async with s.get(f"{fleet_web.url}{path}") as r:
                assert r.status == 401, path
                assert (await r.json())["error"]["code"] == "unauthorized"
        async with s.post(f"{fleet_web.url}/alerts/{ALERT_A}/ack", data={"csrf": "x"},
                          allow_redirects=False) as r:
            assert r.status == 303
        assert not (await alert_row(fleet_web, ALERT_A)).acked
        for path in ("/login", "/healthz", "/metrics", "/static/style.css"):
            async with s.get(f"{fleet_web.url}{path}") as r:
                assert r.status == 200, path


async def test_bad_password_is_refused_and_sets_no_session(fleet_web: WebServer) -> None:
    async with client() as s:
        r = await login(s, fleet_web, "admin", "wrong-password")
        assert r.status == 401
        assert "fleet_session" not in {c.key for c in s.cookie_jar}
        r = await login(s, fleet_web, "nobody", "whatever-1")
        assert r.status == 401
        async with s.get(f"{fleet_web.url}/", allow_redirects=False) as r2:
            assert r2.status == 303


async def test_login_sets_a_strict_httponly_cookie_whose_hash_is_stored(fleet_web: WebServer) -> None:
    async with client() as s:
        r = await login(s, fleet_web, "viewer")
        assert r.status == 303 and r.headers["Location"] == "/"
        raw = r.headers.getall("Set-Cookie")
        cookie = next(c for c in raw if c.startswith("fleet_session="))
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
        value = cookie.split(";")[0].split("=", 1)[1]
        with fleet_web.engine.connect() as c:
            stored = [row.token_hash for row in c.execute(select(db.web_sessions))]
        assert value not in stored and len(stored) == 1 and len(stored[0]) == 64
        async with s.get(f"{fleet_web.url}/") as page:
            assert page.status == 200
            assert "k-cg-jiri-1" in await page.text()


async def test_secure_cookies_setting_marks_the_cookie_secure(tmp_path) -> None:  # noqa: ANN001
    web = start_web(f"sqlite:///{tmp_path / 'f.sqlite3'}", secure_cookies=True)
    try:
        async with aiohttp.ClientSession() as s:  # a Secure cookie is not sent back over http: send it by hand
            async with s.get(f"{web.url}/login") as r:
                token = hidden(await r.text(), "csrf")
                assert "Secure" in r.headers["Set-Cookie"]
            async with s.post(f"{web.url}/login", allow_redirects=False, headers={"Cookie": f"fleet_login={token}"},
                              data={"csrf": token, "name": "viewer", "password": PASSWORDS["viewer"]}) as r:
                assert r.status == 303
                cookie = next(c for c in r.headers.getall("Set-Cookie") if c.startswith("fleet_session="))
            assert "Secure" in cookie and "HttpOnly" in cookie
    finally:
        web.stop()


async def test_logout_ends_the_session_on_the_server(fleet_web: WebServer) -> None:
    async with client() as s:
        await login(s, fleet_web, "viewer")
        token = next(c.value for c in s.cookie_jar if c.key == "fleet_session")
        csrf = await page_csrf(s, fleet_web)
        async with s.post(f"{fleet_web.url}/logout", data={"csrf": csrf}, allow_redirects=False) as r:
            assert r.status == 303
    async with client() as s2:  # the old cookie value, replayed, no longer opens anything
        s2.cookie_jar.update_cookies({"fleet_session": token}, response_url=aiohttp.client.URL(fleet_web.url))
        async with s2.get(f"{fleet_web.url}/api/v1/fleet") as r:
            assert r.status == 401


async def test_post_without_or_with_a_wrong_csrf_token_is_403(fleet_web: WebServer) -> None:
    async with client() as s:
        await login(s, fleet_web, "admin")
        async with s.post(f"{fleet_web.url}/alerts/{ALERT_A}/ack", data={}) as r:
            assert r.status == 403
            assert "CSRF" in await r.text()
        async with s.post(f"{fleet_web.url}/alerts/{ALERT_A}/ack", data={"csrf": "forged"}) as r:
            assert r.status == 403
        async with s.post(f"{fleet_web.url}/api/v1/alerts/{ALERT_A}/ack") as r:
            assert r.status == 403
            assert (await r.json())["error"]["code"] == "csrf"
        async with s.post(f"{fleet_web.url}/kiosks/k-cg-jiri-1/commands", data={"kind": "self_test"}) as r:
            assert r.status == 403
        assert not (await alert_row(fleet_web, ALERT_A)).acked
        assert fleet_web.sent == []
        # the login form has its own token: a login POST without it is refused too
        async with s.post(f"{fleet_web.url}/login", data={"name": "admin", "password": PASSWORDS["admin"]}) as r:
            assert r.status == 403


async def test_viewer_cannot_acknowledge_or_command(fleet_web: WebServer) -> None:
    async with client() as s:
        await login(s, fleet_web, "viewer")
        csrf = await page_csrf(s, fleet_web, f"/alerts/{ALERT_A}")
        async with s.get(f"{fleet_web.url}/alerts/{ALERT_A}") as r:
            assert "data-ack" not in await r.text()  # no button shown
        async with s.post(f"{fleet_web.url}/alerts/{ALERT_A}/ack", data={"csrf": csrf}) as r:
            assert r.status == 403  # and a forged POST is refused on the server
        async with s.post(f"{fleet_web.url}/api/v1/alerts/{ALERT_A}/resolve",
                          headers={"X-CSRF-Token": csrf}) as r:
            assert r.status == 403
        async with s.post(f"{fleet_web.url}/kiosks/k-cg-jiri-1/commands",
                          data={"csrf": csrf, "kind": "self_test"}) as r:
            assert r.status == 403
    row = await alert_row(fleet_web, ALERT_A)
    assert not row.acked and row.status == "active"
    assert fleet_web.sent == []


async def test_maintainer_acts_only_in_their_county(fleet_web: WebServer) -> None:
    async with client() as s:
        await login(s, fleet_web, "maint-a")
        csrf = await page_csrf(s, fleet_web, "/alerts")
        async with s.get(f"{fleet_web.url}/alerts/{ALERT_B}") as r:
            assert "data-ack" not in await r.text()
        async with s.post(f"{fleet_web.url}/alerts/{ALERT_B}/ack", data={"csrf": csrf}) as r:
            assert r.status == 403
            assert "chengguan" in await r.text()
        async with s.post(f"{fleet_web.url}/kiosks/k-dz-bangdui-1/commands",
                          data={"csrf": csrf, "kind": "self_test"}) as r:
            assert r.status == 403
        assert not (await alert_row(fleet_web, ALERT_B)).acked
        async with s.post(f"{fleet_web.url}/alerts/{ALERT_A}/ack", data={"csrf": csrf, "back": "/alerts"},
                          allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/alerts?done=ack"
    row = await alert_row(fleet_web, ALERT_A)
    assert row.acked and row.acked_by == "maint-a"
    with fleet_web.engine.connect() as c:
        bys = [t.by for t in c.execute(select(db.alert_transitions)
                                       .where(db.alert_transitions.c.alert_id == ALERT_A))]
    assert "maint-a" in bys


async def test_failed_logins_are_rate_limited_per_client(fleet_web: WebServer) -> None:
    async with client() as s:
        statuses = [(await login(s, fleet_web, "admin", f"wrong-{i}")).status for i in range(5)]
        assert statuses == [401] * 5
        r = await login(s, fleet_web, "admin")  # even the right password waits now
        assert r.status == 429 and int(r.headers["Retry-After"]) > 0
        async with s.post(f"{fleet_web.url}/api/v1/login", json={"name": "admin",
                                                                  "password": PASSWORDS["admin"]}) as r2:
            assert r2.status == 429


async def test_login_next_never_redirects_off_site(fleet_web: WebServer) -> None:
    async with client() as s:
        async with s.get(f"{fleet_web.url}/login?next=//evil.example/x") as r:
            html = await r.text()
            token = hidden(html, "csrf")
            assert hidden(html, "next") == "/"
        async with s.post(f"{fleet_web.url}/login", allow_redirects=False,
                          data={"csrf": token, "name": "viewer", "password": PASSWORDS["viewer"],
                                "next": "https://evil.example/"}) as r:
            assert r.headers["Location"] == "/"


async def test_json_login_gives_a_csrf_token_for_api_posts(fleet_web: WebServer) -> None:
    async with client() as s:
        async with s.post(f"{fleet_web.url}/api/v1/login", data="name=admin") as r:
            assert r.status == 415  # a cross-site form cannot log anyone in
        async with s.post(f"{fleet_web.url}/api/v1/login",
                          json={"name": "maint-b", "password": PASSWORDS["maint-b"]}) as r:
            assert r.status == 200
            doc = await r.json()
        assert doc["role"] == "maintainer" and doc["counties"] == ["dagze"]
        async with s.post(f"{fleet_web.url}/api/v1/alerts/{ALERT_B}/ack",
                          headers={"X-CSRF-Token": doc["csrf"]}) as r:
            assert r.status == 200
            body = await r.json()
        assert body["changed"] is True and body["alert"]["acked_by"] == "maint-b"
        async with s.post(f"{fleet_web.url}/api/v1/alerts/{ALERT_B}/ack",
                          headers={"X-CSRF-Token": doc["csrf"]}) as r:
            assert (await r.json())["changed"] is False  # already acknowledged
