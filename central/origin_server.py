"""A static content origin for halls, training and the demo: serves a published origin directory.

Any static HTTP server or object store that honours Range requests works as an origin; this one
exists so `make demo` and a test hall need nothing else installed.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from aiohttp import web

log = logging.getLogger(__name__)


def make_app(root: Path) -> web.Application:
    app = web.Application()
    # aiohttp's static route answers Range requests with 206 and refuses paths outside root.
    app.router.add_static("/", root, show_index=False, follow_symlinks=False)
    return app


def serve(root: Path, host: str, port: int) -> None:
    log.info("content origin serving", extra={"root": str(root), "host": host, "port": port})
    web.run_app(make_app(root), host=host, port=port, print=None, access_log=None)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("origin", help="serve a published content origin directory over HTTP")
    p.add_argument("root", type=Path)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8490)
    p.set_defaults(func=lambda a: serve(a.root, a.host, a.port))
