"""The HTML pages (Jinja2, rendered on the server) and their form actions."""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

from aiohttp import web

from central.fleet import db
from central.fleet.web import auth, charts, ops, params, queries
from central.fleet.web.context import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_KEY,
    TOKEN_KEY,
    ctx_of,
    session_of,
)


async def render(request: web.Request, template: str, status: int = 200, **kw: Any) -> web.Response:
    ctx = ctx_of(request)
    session = request.get(SESSION_KEY)
    banner = await ctx.db(queries.failing_channels, ctx.engine) if session else []
    html = ctx.jinja.get_template(template).render(session=session, user=session.user if session else None,
                                               csrf=session.csrf if session else "", banner=banner,
                                               path=request.path, **kw)
    return web.Response(text=html, status=status, content_type="text/html")


def set_cookie(request: web.Request, resp: web.StreamResponse, name: str, value: str, max_age: int | None,
               path: str = "/") -> None:
    resp.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="Strict",
                    secure=ctx_of(request).cfg.web.secure_cookies)


def redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def client_of(request: web.Request) -> str:
    return request.remote or "?"  # the socket's peer; a proxy in front would make every client one


# --- login ---------------------------------------------------------------------------------------
async def _login_form(request: web.Request, status: int = 200, message: str = "", name: str = "",
                      headers: dict[str, str] | None = None) -> web.Response:
    # Reuse the token a browser already holds: two tabs (or a stray request that landed on the login
    # page) must not invalidate the form that is open.
    held = request.cookies.get(LOGIN_COOKIE, "")
    token = held if re.fullmatch(r"[A-Za-z0-9_-]{32}", held) else secrets.token_urlsafe(24)
    nxt = params.local_path(request.query.get("next"), "/")
    resp = await render(request, "login.html", status=status, login_token=token, message=message,
                        next=nxt, name=name)
    resp.headers.update(headers or {})
    set_cookie(request, resp, LOGIN_COOKIE, token, 600, path="/login")
    return resp


async def login_get(request: web.Request) -> web.StreamResponse:
    if request.get(SESSION_KEY):
        raise web.HTTPSeeOther(params.local_path(request.query.get("next"), "/"))
    return await _login_form(request)


async def login_post(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    form = await request.post()
    sent, cookie = str(form.get(CSRF_FIELD) or ""), request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise ops.Refused(403, "csrf", "the login form expired; reload the page and try again")
    name, password = str(form.get("name") or "").strip(), str(form.get("password") or "")
    client = client_of(request)
    wait = ctx.limiter.retry_after(client)
    if wait:
        return await _login_form(request, 429, f"too many failed logins; try again in {int(wait) + 1} s",
                                 name, {"Retry-After": str(int(wait) + 1)})
    user = await ctx.db(auth.authenticate, ctx.engine, name, password) if name and password else None
    if user is None:
        ctx.limiter.failed(client)
        return await _login_form(request, 401, "wrong user name or password", name)
    ctx.limiter.succeeded(client)
    token, _session = await ctx.db(auth.open_session, ctx.engine, user, ctx.cfg.web.session_hours, ctx.clock())
    resp = redirect(params.local_path(str(form.get("next") or ""), "/"))
    set_cookie(request, resp, SESSION_COOKIE, token, int(ctx.cfg.web.session_hours * 3600))
    resp.del_cookie(LOGIN_COOKIE, path="/login")
    return resp


async def logout_post(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    await ctx.db(auth.close_session, ctx.engine, request[TOKEN_KEY])
    resp = redirect("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


# --- pages ---------------------------------------------------------------------------------------
async def fleet_get(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    filters = params.fleet_filters(request.query)
    data = await ctx.db(queries.fleet, ctx.engine, ctx.clock(), ctx.offline_after, **filters)
    places = await ctx.db(queries.places, ctx.engine)
    return await render(request, "fleet.html", fleet=data, places=places, states=queries.STATES)


async def kiosk_get(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    kid = request.match_info["kiosk_id"]
    k = await ctx.db(queries.kiosk_detail, ctx.engine, kid, ctx.clock(), ctx.offline_after)
    if k is None:
        raise ops.Refused(404, "not_found", f"no kiosk {kid}")
    user = session_of(request).user
    return await render(request, "kiosk.html", k=k, may_act=user.may_act_on(k["county_id"]),
                        sent=request.query.get("sent", "")[:64], commands=ops.DASHBOARD_COMMANDS,
                        can_command=ctx.send_command is not None)


async def screenshot_get(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    kid = request.match_info["kiosk_id"]
    data = await ctx.db(queries.screenshot, ctx.engine, kid)
    if not data:
        raise ops.Refused(404, "not_found", f"kiosk {kid} has sent no screenshot")
    return web.Response(body=data, content_type="image/jpeg")


async def command_post(request: web.Request) -> web.StreamResponse:
    kid = request.match_info["kiosk_id"]
    form = await request.post()
    cmd_id = await ops.kiosk_command(ctx_of(request), session_of(request).user, kid, str(form.get("kind") or ""))
    raise web.HTTPSeeOther(f"/kiosks/{kid}?sent={cmd_id}#commands")


async def alerts_get(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    filters = params.alert_filters(request.query)
    rows = await ctx.db(queries.alerts, ctx.engine, **filters)
    places = await ctx.db(queries.places, ctx.engine)
    user = session_of(request).user
    for a in rows:
        a["may_act"] = user.may_act_on(a.get("county_id"))
    shown = dict(filters, status=request.query.get("status") or "open")
    return await render(request, "alerts.html", alerts=rows, filters=shown, places=places,
                        statuses=("open", "all", *db.ALERT_STATUSES), severities=db.SEVERITIES)


async def alert_get(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    aid = int(request.match_info["alert_id"])
    a = await ctx.db(queries.alert_detail, ctx.engine, aid)
    if a is None:
        raise ops.Refused(404, "not_found", f"no alert {aid}")
    return await render(request, "alert.html", a=a, may_act=session_of(request).user.may_act_on(a["county_id"]),
                        done=request.query.get("done", "")[:16])


def _alert_post(which: str):  # noqa: ANN202 - an aiohttp handler
    async def handler(request: web.Request) -> web.StreamResponse:
        aid = int(request.match_info["alert_id"])
        form = await request.post()
        changed = await ops.alert_action(ctx_of(request), session_of(request).user, aid, which)
        back = params.local_path(str(form.get("back") or ""), f"/alerts/{aid}")
        sep = "&" if "?" in back else "?"
        raise web.HTTPSeeOther(f"{back}{sep}done={which if changed else 'unchanged'}")
    return handler


async def charts_get(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    window = params.window(request.query)
    now = ctx.clock()
    avail = await ctx.db(charts.availability, ctx.engine, window, now)
    series = await ctx.db(charts.open_alerts_series, ctx.engine, window, now)
    return await render(request, "charts.html", window=window, windows=tuple(charts.WINDOWS),
                        sites_svg=charts.bars_svg(avail["sites"], "availability per site"),
                        counties_svg=charts.bars_svg(avail["counties"], "availability per county"),
                        alerts_svg=charts.series_svg(series, "open alerts over time", f"−{window}"), avail=avail,
                        peak=max([b["total"] for b in series] + [0]))


def add_routes(r: web.UrlDispatcher) -> None:
    r.add_get("/login", login_get)
    r.add_post("/login", login_post)
    r.add_post("/logout", logout_post)
    r.add_get("/", fleet_get)
    r.add_get("/kiosks/{kiosk_id}", kiosk_get)
    r.add_get("/kiosks/{kiosk_id}/screenshot", screenshot_get)
    r.add_post("/kiosks/{kiosk_id}/commands", command_post)
    r.add_get("/alerts", alerts_get)
    r.add_get(r"/alerts/{alert_id:\d{1,12}}", alert_get)
    r.add_post(r"/alerts/{alert_id:\d{1,12}}/ack", _alert_post("ack"))
    r.add_post(r"/alerts/{alert_id:\d{1,12}}/resolve", _alert_post("resolve"))
    r.add_get("/charts", charts_get)
