"""`kiosk edge serve`: the edge node's long-running process.

Opens the content store and the outbox, starts the content sync (if an origin is set), the
forwarder and the local API; tells systemd when it is ready and pings the watchdog while the
forwarder thread and the outbox database are alive. SIGTERM (or SIGINT) stops it cleanly; a
kill -9 at any moment loses nothing that was acknowledged (see edge/outbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from edge.api import KIOSK_COMMANDS, STATUS_DOCUMENT, make_app
from edge.forwarder import Forwarder
from edge.outbox import Outbox
from edge.platform_adapter import HttpPlatformAdapter
from kiosk import sdnotify
from kiosk.config import Config

if TYPE_CHECKING:
    from edge.agent import Agent
    from edge.fleet_security import FleetSecurity
    from edge.kiosk_commands import KioskCommandRelay
    from edge.sync import SyncClient

log = logging.getLogger(__name__)

PLATFORM_TIMEOUT_S = 10.0   # one delivery attempt
LOOKUP_TIMEOUT_S = 3.0      # a resident waits for a progress lookup at most this long
# The request line only: bodies (ID numbers) never reach the access log.
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tf'


def _loopback_only(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(cfg: Config, config_path: Path | None = None) -> int:
    from edge.fleet_security import FleetSecurity
    sec = FleetSecurity(cfg, config_path)
    if sec.applier.boot():  # a new config that never came up: back to the previous one, start again
        sec.restart.exec()
    code = asyncio.run(_serve(cfg, sec))
    if sec.restart.requested:  # a config push (or its rollback): start again on the file now in place
        sec.restart.exec()
    return code


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


def _fleet_agent(cfg: Config, status_document: Callable[[], dict], sync: SyncClient | None,
                 relay: KioskCommandRelay | None = None, sec: FleetSecurity | None = None,
                 active_version: Callable[[], int | None] = lambda: None) -> Agent | None:
    """The MQTT health agent ([mqtt] enabled), reporting what /api/v1/status says; self_test and
    screenshot go to the kiosk UI through `relay`, and the daily inspection runs at mqtt.inspection_hour."""
    m = cfg.mqtt
    if not m.enabled:
        return None
    from edge.agent import Agent, BrokerConfig
    from edge.inspection import Inspector
    from edge.kiosk_commands import KioskCommandRelay

    inspector = Inspector(relay or KioskCommandRelay(), cfg.edge.data_dir / "fleet-inspection.json",
                          data_dir=cfg.edge.data_dir, hour=m.inspection_hour, kiosk_id=cfg.kiosk.id)

    broker = BrokerConfig(m.host, port=m.port, keepalive_s=m.keepalive_s, ca=m.ca_file, cert=m.cert_file,
                          key=m.key_file)
    return Agent(cfg.kiosk.id, broker, cfg.edge.data_dir / "fleet-spool.sqlite3", status_document,
                 data_dir=cfg.edge.data_dir, interval_s=m.interval_s, spool_max=m.spool_max,
                 trigger_sync=sync.trigger if sync is not None else None,
                 handlers={**inspector.handlers(), **(sec.handlers() if sec else {})}, inspector=inspector,
                 verify=sec.verify if sec else None,
                 announcement=sec.announcement(active_version, sync.trigger if sync else None) if sec else None)


async def _serve(cfg: Config, sec: FleetSecurity | None = None) -> int:
    from edge.fleet_security import FleetSecurity
    from edge.store import ContentStore

    sec = sec or FleetSecurity(cfg, None)
    from kiosk import audit
    audit.configure(audit.path_for(cfg), clock=audit.clock_of(sec.clock))  # config/content/commands

    edge = cfg.edge
    edge.data_dir.mkdir(parents=True, exist_ok=True)
    store = ContentStore.for_config(edge)
    outbox = Outbox.open(edge.data_dir)
    forwarder = Forwarder(outbox, HttpPlatformAdapter(edge.platform_url, timeout=PLATFORM_TIMEOUT_S),
                          extra_payload={"edge_id": cfg.kiosk.id},
                          dead_letter_retention_s=edge.dead_letter_retention_days * 86400.0)
    sync = None
    if edge.origin_url:
        from edge.sync import SyncClient
        sync = SyncClient.from_config(edge, store, clock=sec.clock)
    app = make_app(store, outbox, forwarder, cfg, sync=sync,
                   lookup_adapter=HttpPlatformAdapter(edge.platform_url, timeout=LOOKUP_TIMEOUT_S),
                   lookup_timeout_s=LOOKUP_TIMEOUT_S, clock=sec.clock)
    runner = web.AppRunner(app, access_log=logging.getLogger("edge.access"), access_log_format=ACCESS_LOG_FORMAT,
                           shutdown_timeout=2.0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sec.restart.stop = lambda: loop.call_soon_threadsafe(stop.set)
    tasks: list[asyncio.Task] = []
    agent = _fleet_agent(cfg, sec.status(app[STATUS_DOCUMENT]), sync, app[KIOSK_COMMANDS], sec,
                         store.active_version)
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
            if sec.applier.fail_pending(f"the edge cannot listen on {edge.listen_host}:{edge.listen_port}"):
                sec.restart.requested = True  # a pushed config broke it: the previous one is back
            return 1
        stats = outbox.stats()
        log.info("edge ready", extra={"listen": f"{edge.listen_host}:{edge.listen_port}",
                                      "content_version": store.active_version(), "outbox_depth": stats["depth"],
                                      "platform": edge.platform_url, "origin": edge.origin_url or None,
                                      "lan_kiosks": len(edge.kiosks)})
        if not edge.kiosks and not _loopback_only(edge.listen_host):  # a likely setup mistake: say so once
            log.warning("listening beyond loopback but no [[edge.kiosks]] are configured: every LAN request "
                        "will be refused (401)", extra={"listen": edge.listen_host})
        if agent is not None:
            agent.start()  # after the API serves: the first state it publishes is a real one
        api = f"http://{'127.0.0.1' if edge.listen_host in ('0.0.0.0', '') else edge.listen_host}:{edge.listen_port}"
        threading.Thread(target=sec.applier.after_start, name="config-check", daemon=True,
                         args=(api, (lambda: agent.connected) if agent else None,
                               agent.post_result if agent else None)).start()
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
        if agent is not None:  # first: its retained "offline, shutdown" goes out while all else still runs
            await asyncio.to_thread(agent.stop)
        await runner.cleanup()
        forwarder.close()
        if sync is not None:
            sync.close()
        outbox.close()
    return 0
