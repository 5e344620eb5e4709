"""The dashboard's aiohttp application: middlewares (errors, login, CSRF, headers) and routes."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import Engine

from central.fleet.config import FleetConfig
from central.fleet.web import api, auth, pages
from central.fleet.web.context import (
    CSRF_FIELD,
    CSRF_HEADER,
    CTX,
    HERE,
    SESSION_COOKIE,
    SESSION_KEY,
    TOKEN_KEY,
    Ctx,
)
from central.fleet.web.ops import Refused

log = logging.getLogger("kiosk.fleet.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Reachable without a login: the login itself, liveness, the scrape endpoint, the stylesheet.
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/api/v1/login"), ("GET", "/healthz"),
          ("GET", "/metrics"), ("GET", "/static/style.css"), ("GET", "/favicon.ico")}
_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")


def _is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def error_response(request: web.Request, status: int, code: str, message: str) -> web.Response:
    if _is_api(request):
        return web.json_response({"error": {"code": code, "message": message}}, status=status)
    ctx = request.app[CTX]
    html = ctx.jinja.get_template("error.html").render(status=status, message=message,
                                                       session=request.get(SESSION_KEY))
    return web.Response(text=html, status=status, content_type="text/html")


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status >= 400:
            return error_response(request, e.status, e.reason.lower().replace(" ", "_"), e.reason)
        raise
    except Refused as e:
        return error_response(request, e.status, e.code, str(e))
    except Exception as e:  # a bad request or a database hiccup never takes the dashboard down
        # the fleet database holds no resident data, so the traceback is safe to log
        log.error("request failed", extra={"path": request.path, "error": type(e).__name__}, exc_info=True)
        return error_response(request, 500, "internal", "internal error; the monitor's log has the details")


@web.middleware
async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Login required except for PUBLIC; a CSRF token on every state-changing request."""
    ctx = request.app[CTX]
    request[SESSION_KEY] = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        request[SESSION_KEY] = await ctx.db(auth.find_session, ctx.engine, token, ctx.clock())
        request[TOKEN_KEY] = token
    public = (request.method, request.path) in PUBLIC
    session = request[SESSION_KEY]
    if session is None and not public:
        if _is_api(request):
            return error_response(request, 401, "unauthorized", "log in first (POST /api/v1/login)")
        target = request.path_qs if request.method == "GET" else "/"
        raise web.HTTPSeeOther(f"/login?next={quote(target, safe='')}")
    if request.method == "POST" and session is not None and not public:  # login checks its own
        if _is_api(request):
            sent = request.headers.get(CSRF_HEADER)
        else:
            sent = (await request.post()).get(CSRF_FIELD)
        if not auth.csrf_ok(session, sent if isinstance(sent, str) else None):
            return error_response(request, 403, "csrf", "missing or wrong CSRF token; reload the page")
    resp = await handler(request)
    resp.headers.setdefault("Content-Security-Policy", _CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    if request.path != "/static/style.css":
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


async def _style(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(HERE / "static" / "style.css", headers={"Cache-Control": "max-age=300"})


async def _no_icon(_request: web.Request) -> web.Response:
    return web.Response(status=204)  # browsers ask for it; without this they land on the login page


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "at": time.time()})


async def _metrics(request: web.Request) -> web.Response:
    from central.fleet.web.metrics import CONTENT_TYPE, render
    ctx = request.app[CTX]
    text = await ctx.db(render, ctx.engine, ctx.offline_after, ctx.counters, ctx.clock())
    return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})


def make_app(engine: Engine, cfg: FleetConfig, *, send_command: Callable[[str, str, dict, str], str] | None = None,
             counters: Callable[[], dict] | None = None, clock: Callable[[], float] = time.time
             ) -> web.Application:
    """The dashboard. `send_command` is CommandSender.send (None: the command buttons answer 503);
    `counters` is Ingest.counters (None: /metrics leaves the ingest families out)."""
    app = web.Application(middlewares=[errors, security], client_max_size=64 * 1024)
    app[CTX] = Ctx(engine, cfg, send_command, counters, clock)
    app.router.add_get("/static/style.css", _style)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/favicon.ico", _no_icon)
    app.router.add_get("/metrics", _metrics)
    pages.add_routes(app.router)
    api.add_routes(app.router)
    return app
