"""The JSON API under /api/v1 (documented in openapi.py): the same dicts the pages render.

Scripts log in with POST /api/v1/login (JSON body; the answer sets the session cookie and carries the
CSRF token) and send that token as X-CSRF-Token on every POST.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from central.fleet.web import auth, charts, ops, params, queries
from central.fleet.web.context import SESSION_COOKIE, TOKEN_KEY, ctx_of, session_of
from central.fleet.web.pages import client_of, set_cookie

PREFIX = "/api/v1"


def _ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise ops.Refused(415, "not_json", "send Content-Type: application/json")
    try:
        doc = await request.json()
    except ValueError:
        raise ops.Refused(400, "not_json", "the body is not JSON") from None
    if not isinstance(doc, dict):
        raise ops.Refused(400, "not_json", "the body is not a JSON object")
    return doc


def _session_doc(session: auth.Session) -> dict[str, Any]:
    return {"user": session.user.name, "role": session.user.role, "counties": list(session.user.counties),
            "csrf": session.csrf, "expires_ts": session.expires_ts}


async def login(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    doc = await _body(request)  # JSON only: a cross-site HTML form cannot send it (no login CSRF)
    name, password = doc.get("name"), doc.get("password")
    if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
        raise ops.Refused(400, "bad_request", "name and password (strings) are required")
    client = client_of(request)
    wait = ctx.limiter.retry_after(client)
    if wait:
        resp = _ok({"error": {"code": "rate_limited", "message": "too many failed logins"}}, 429)
        resp.headers["Retry-After"] = str(int(wait) + 1)
        return resp
    user = await ctx.db(auth.authenticate, ctx.engine, name, password)
    if user is None:
        ctx.limiter.failed(client)
        raise ops.Refused(401, "bad_login", "wrong user name or password")
    ctx.limiter.succeeded(client)
    token, session = await ctx.db(auth.open_session, ctx.engine, user, ctx.cfg.web.session_hours, ctx.clock())
    resp = _ok(_session_doc(session))
    set_cookie(request, resp, SESSION_COOKIE, token, int(ctx.cfg.web.session_hours * 3600))
    return resp


async def logout(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    await ctx.db(auth.close_session, ctx.engine, request[TOKEN_KEY])
    resp = _ok({"ok": True})
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


async def session(request: web.Request) -> web.Response:
    return _ok(_session_doc(session_of(request)))


async def fleet(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    data = await ctx.db(queries.fleet, ctx.engine, ctx.clock(), ctx.offline_after,
                        **params.fleet_filters(request.query))
    data["failing_channels"] = await ctx.db(queries.failing_channels, ctx.engine)
    return _ok(data)


async def places(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    return _ok(await ctx.db(queries.places, ctx.engine))


async def kiosk(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    kid = request.match_info["kiosk_id"]
    k = await ctx.db(queries.kiosk_detail, ctx.engine, kid, ctx.clock(), ctx.offline_after)
    if k is None:
        raise ops.Refused(404, "not_found", f"no kiosk {kid}")
    return _ok(k)


async def screenshot(request: web.Request) -> web.Response:
    from central.fleet.web.pages import screenshot_get
    return await screenshot_get(request)


async def command(request: web.Request) -> web.Response:
    doc = await _body(request)
    kid = request.match_info["kiosk_id"]
    cmd_id = await ops.kiosk_command(ctx_of(request), session_of(request).user, kid, str(doc.get("kind") or ""))
    return _ok({"id": cmd_id, "kiosk_id": kid, "kind": doc.get("kind")}, 202)


async def command_result(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    cid = request.match_info["command_id"]
    r = await ctx.db(queries.command, ctx.engine, cid)
    if r is None:
        raise ops.Refused(404, "not_found", "no such command")
    return _ok(r)


async def alerts(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    return _ok({"alerts": await ctx.db(queries.alerts, ctx.engine, **params.alert_filters(request.query))})


async def alert(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    aid = int(request.match_info["alert_id"])
    a = await ctx.db(queries.alert_detail, ctx.engine, aid)
    if a is None:
        raise ops.Refused(404, "not_found", f"no alert {aid}")
    return _ok(a)


def _alert_action(which: str):  # noqa: ANN202 - an aiohttp handler
    async def handler(request: web.Request) -> web.Response:
        ctx = ctx_of(request)
        aid = int(request.match_info["alert_id"])
        changed = await ops.alert_action(ctx, session_of(request).user, aid, which)
        return _ok({"changed": changed, "alert": await ctx.db(queries.alert_detail, ctx.engine, aid)})
    return handler


async def charts_doc(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    window = params.window(request.query)
    now = ctx.clock()
    return _ok({"window": window, "availability": await ctx.db(charts.availability, ctx.engine, window, now),
                "open_alerts": await ctx.db(charts.open_alerts_series, ctx.engine, window, now)})


async def failing_channels(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    return _ok({"channels": await ctx.db(queries.failing_channels, ctx.engine)})


async def openapi(request: web.Request) -> web.Response:
    from central.fleet.web.openapi import document
    return _ok(document(ctx_of(request).cfg.web.public_url))


def add_routes(r: web.UrlDispatcher) -> None:
    r.add_post(f"{PREFIX}/login", login)
    r.add_post(f"{PREFIX}/logout", logout)
    r.add_get(f"{PREFIX}/session", session)
    r.add_get(f"{PREFIX}/fleet", fleet)
    r.add_get(f"{PREFIX}/places", places)
    r.add_get(f"{PREFIX}/kiosks/{{kiosk_id}}", kiosk)
    r.add_get(f"{PREFIX}/kiosks/{{kiosk_id}}/screenshot", screenshot)
    r.add_post(f"{PREFIX}/kiosks/{{kiosk_id}}/commands", command)
    r.add_get(f"{PREFIX}/commands/{{command_id}}", command_result)
    r.add_get(f"{PREFIX}/alerts", alerts)
    r.add_get(fr"{PREFIX}/alerts/{{alert_id:\d{{1,12}}}}", alert)
    r.add_post(fr"{PREFIX}/alerts/{{alert_id:\d{{1,12}}}}/ack", _alert_action("ack"))
    r.add_post(fr"{PREFIX}/alerts/{{alert_id:\d{{1,12}}}}/resolve", _alert_action("resolve"))
    r.add_get(f"{PREFIX}/charts", charts_doc)
    r.add_get(f"{PREFIX}/channels/failing", failing_channels)
    r.add_get(f"{PREFIX}/openapi.json", openapi)
