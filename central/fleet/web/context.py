"""What every dashboard handler needs, kept on the app under one key."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine

from central.fleet.config import FleetConfig
from central.fleet.web.auth import LoginLimiter, Session

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "fleet_session"
LOGIN_COOKIE = "fleet_login"  # double-submit token for the login form (there is no session yet)
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
T = TypeVar("T")


@dataclass
class Ctx:
    engine: Engine
    cfg: FleetConfig
    send_command: Callable[[str, str, dict, str], str] | None = None
    counters: Callable[[], dict] | None = None
    clock: Callable[[], float] = time.time
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    jinja: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.jinja = Environment(loader=FileSystemLoader(HERE / "templates"),
                                 autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
        self.jinja.filters["ts"] = _ts
        self.jinja.filters["ago"] = functools.partial(_ago, clock=self.clock)

    @property
    def offline_after(self) -> float:
        return self.cfg.monitor.offline_after_intervals

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking database call (or PBKDF2) off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)


CTX: web.AppKey[Ctx] = web.AppKey("fleet_ctx", Ctx)
SESSION_KEY: web.RequestKey[Session | None] = web.RequestKey("fleet_session", object)  # None: no login
TOKEN_KEY: web.RequestKey[str] = web.RequestKey("fleet_token", str)


def ctx_of(request: web.Request) -> Ctx:
    return request.app[CTX]


def session_of(request: web.Request) -> Session:
    return request[SESSION_KEY]


def _ts(value: float | None) -> str:
    """Local time of the monitor's host (set to the region's zone); '—' when unknown."""
    if value is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))


def _ago(value: float | None, clock: Callable[[], float] = time.time) -> str:
    if value is None:
        return "—"
    d = max(0.0, clock() - value)
    if d < 90:
        return f"{int(d)} s"
    if d < 5400:
        return f"{int(d // 60)} min"
    if d < 172800:
        return f"{int(d // 3600)} h"
    return f"{int(d // 86400)} d"
