"""The fleet dashboard: server-rendered pages, the JSON API (/api/v1), /metrics.

`make_app(engine, cfg, *, send_command=None, counters=None)` builds the aiohttp application;
`central.fleet.web.cli.register(sub)` adds `user add|list|passwd` to `kiosk fleet`. make_app is
imported on first use, so the user commands start without loading aiohttp and Jinja2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from central.fleet.web.app import make_app

__all__ = ["make_app"]


def __getattr__(name: str) -> Any:
    if name == "make_app":
        from central.fleet.web.app import make_app
        return make_app
    raise AttributeError(name)
