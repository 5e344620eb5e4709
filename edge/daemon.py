"""`kiosk edge serve`: the edge node's long-running process.

Opens the content store and the outbox, starts the content sync (if an origin is set), the
forwarder and the local API; tells systemd when it is ready and pings the watchdog while the
forwarder thread and the outbox database are alive. SIGTERM (or SIGINT) stops it cleanly; a
kill -9 at any moment loses nothing that was acknowledged (see edge/outbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from edge import sdnotify
from edge.api import make_app
from edge.forwarder import Forwarder
from edge.outbox import Outbox
from edge.platform_adapter import HttpPlatformAdapter
from kiosk.config import Config

log = logging.getLogger(__name__)

PLATFORM_TIMEOUT_S = 10.0   # one delivery attempt
LOOKUP_TIMEOUT_S = 3.0      # a resident waits for a progress lookup at most this long
# The request line only: bodies (ID numbers) never reach the access log.
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tf'


def serve(cfg: Config) -> int:
    return asyncio.run(_serve(cfg))


async def _watchdog(forwarder: Forwarder, outbox: Outbox, interval: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.to_thread(outbox.ping)
            healthy = forwarder.alive()
        except Exception:
            log.exception("watchdog check failed")
            healthy = False
        if healthy:
            sdnotify.notify("WATCHDOG=1")
        else:  # no ping: systemd restarts a hung edge
            log.error("edge unhealthy; withholding watchdog ping")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


async def _serve(cfg: Config) -> int:
    from edge.store import ContentStore

    edge = cfg.edge
    edge.data_dir.mkdir(parents=True, exist_ok=True)
    store = ContentStore.for_config(edge)
    outbox = Outbox.open(edge.data_dir)
    forwarder = Forwarder(outbox, HttpPlatformAdapter(edge.platform_url, timeout=PLATFORM_TIMEOUT_S),
                          extra_payload={"edge_id": cfg.kiosk.id})
    sync = None
    if edge.origin_url:
        from edge.sync import SyncClient
        sync = SyncClient.from_config(edge, store)
    app = make_app(store, outbox, forwarder, cfg, sync=sync,
                   lookup_adapter=HttpPlatformAdapter(edge.platform_url, timeout=LOOKUP_TIMEOUT_S),
                   lookup_timeout_s=LOOKUP_TIMEOUT_S)
    runner = web.AppRunner(app, access_log=logging.getLogger("edge.access"), access_log_format=ACCESS_LOG_FORMAT,
                           shutdown_timeout=2.0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks: list[asyncio.Task] = []
    try:
        forwarder.start()
        if sync is not None:
            sync.start()
        await runner.setup()
        try:
            await web.TCPSite(runner, edge.listen_host, edge.listen_port).start()
        except OSError as e:  # a maintenance team's most likely mistake: say it in one line
            log.error("cannot listen", extra={"listen": f"{edge.listen_host}:{edge.listen_port}",
                                              "error": e.strerror or str(e)})
            return 1
        stats = outbox.stats()
        log.info("edge ready", extra={"listen": f"{edge.listen_host}:{edge.listen_port}",
                                      "content_version": store.active_version(), "outbox_depth": stats["depth"],
                                      "platform": edge.platform_url, "origin": edge.origin_url or None})
        sdnotify.notify(f"READY=1\nSTATUS=serving; outbox {stats['depth']} queued")
        interval = sdnotify.watchdog_interval()
        if interval:
            tasks.append(asyncio.create_task(_watchdog(forwarder, outbox, interval, stop)))
        await stop.wait()
        log.info("edge stopping")
        sdnotify.notify("STOPPING=1")
    finally:
        stop.set()
        for t in tasks:
            await t
        await runner.cleanup()
        forwarder.close()
        if sync is not None:
            sync.close()
        outbox.close()
    return 0
