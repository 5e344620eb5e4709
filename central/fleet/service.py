"""`kiosk fleet serve`: the database, the inventory, ingest, the evaluator, the notification dispatcher
and the dashboard in one process; SIGTERM / SIGINT stop it cleanly. Several such processes may share one
database and one shared-subscription group (give each its own broker.client_id).

Also `python -m central.fleet.service serve|check --config fleet.toml`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import Engine

from central.fleet import db
from central.fleet.commands import CommandSender
from central.fleet.config import FleetConfig, load
from central.fleet.evaluator import Evaluator
from central.fleet.ingest import Ingest
from central.fleet.inventory import apply, load_inventory
from central.fleet.rules import RuleSet, load_rules
from kiosk.config import ConfigError

log = logging.getLogger("central.fleet.service")

DEFAULT_CONFIG = Path("/etc/kiosk-fleet/fleet.toml")


class Monitor:
    """Ingest + evaluator + command sender (+ the dispatcher when `notify`) on one engine: one monitor
    process's worth of work, without the web server (tests run two of these on one database)."""

    def __init__(self, engine: Engine, cfg: FleetConfig, ruleset: RuleSet, *, client_id: str | None = None,
                 notify: bool = True, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.evaluator = Evaluator(engine, ruleset, cfg, clock=clock)
        self.ingest = Ingest(engine, cfg, client_id=client_id, on_change=self.evaluator.poke, clock=clock)
        signer = None
        if cfg.admin.signing_key_file is not None:  # changing commands are signed (kiosk/fleet_signing.py)
            from central.fleet.commands import key_signer
            signer = key_signer(cfg.admin.signing_key_file, cfg.admin.key_id)
        self.commands = CommandSender(engine, self.ingest.publish, clock=clock, signer=signer)
        self.dispatcher = None
        if notify:
            try:
                from central.fleet.notify import Dispatcher
            except ImportError as e:  # built by another engineer; the monitor still alerts without it
                log.error("notifications disabled: central.fleet.notify is not importable (%s)", e)
            else:
                self.dispatcher = Dispatcher(engine, self.ingest.client_id[:64])

    def start(self) -> None:
        self.evaluator.start()
        self.ingest.start()
        if self.dispatcher is not None:
            self.dispatcher.start()

    def stop(self) -> None:
        self.ingest.stop()
        self.evaluator.stop()
        if self.dispatcher is not None:
            self.dispatcher.stop()


async def _serve(monitor: Monitor, cfg: FleetConfig, stop: asyncio.Event) -> None:
    runner = None
    try:
        from central.fleet.web import make_app
    except ImportError as e:
        log.error("dashboard disabled: central.fleet.web is not importable (%s)", e)
    else:
        from aiohttp import web
        app = make_app(monitor.engine, cfg, send_command=monitor.commands.send, counters=monitor.ingest.counters)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, cfg.web.listen_host, cfg.web.listen_port).start()
        log.info("dashboard listening", extra={"host": cfg.web.listen_host, "port": cfg.web.listen_port})
    from kiosk import sdnotify

    ping = asyncio.create_task(sdnotify.keepalive(stop))  # systemd: READY=1, then WATCHDOG=1 from this loop
    try:
        await stop.wait()
    finally:
        await ping
        if runner is not None:
            await runner.cleanup()


def prepare(cfg: FleetConfig) -> tuple[Engine, RuleSet]:
    """Connect the database, apply the inventory, load the rules; ConfigError / OSError on trouble."""
    inv = load_inventory(cfg.monitor.inventory)
    ruleset = load_rules(cfg.monitor.rules)
    engine = db.connect(cfg.monitor.db)
    counts = apply(engine, inv)
    log.info("inventory applied", extra=counts)
    return engine, ruleset


def run(cfg: FleetConfig) -> int:
    try:
        engine, ruleset = prepare(cfg)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    except Exception as e:  # the database cannot be reached, say: one line, not a traceback
        print(f"fleet monitor: cannot start: {type(e).__name__}: {str(e).splitlines()[0][:200]}", file=sys.stderr)
        return 1
    monitor = Monitor(engine, cfg, ruleset)
    monitor.start()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await _serve(monitor, cfg, stop)

    try:
        asyncio.run(main())
    finally:
        monitor.stop()
        engine.dispose()
    log.info("fleet monitor stopped")
    return 0


def check(cfg: FleetConfig) -> int:
    """Validate the inventory and rules files named by the config, without touching the database."""
    try:
        inv = load_inventory(cfg.monitor.inventory)
        rs = load_rules(cfg.monitor.rules)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    print(f"inventory: {len(inv.kiosk_sites())} kiosks, {len(inv.teams)} teams; rules: {len(rs.rules)}")
    return 0


def _with_config(fn: Callable[[FleetConfig], int]) -> Callable[[argparse.Namespace], int]:
    def go(a: argparse.Namespace) -> int:
        try:
            cfg = load(a.fleet_config)
        except ConfigError as e:
            print(e, file=sys.stderr)
            return 2
        return fn(cfg)
    return go


def _sample_inventory(a: argparse.Namespace) -> int:
    from central.fleet.inventory import sample_inventory

    sys.stdout.write(sample_inventory(a.kiosks, webhook_base=a.webhook_base, first_hall=tuple(a.first_hall)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """`serve`, `check` and `sample-inventory` for the `kiosk fleet` group. The monitor's file is `--fleet-config`: `kiosk
    --config` names the kiosk's own config, which a central server does not have."""
    for name, fn, text in (("serve", run, "run the fleet monitor"),
                           ("check", check, "validate the inventory and rules files")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--fleet-config", dest="fleet_config", type=Path, default=DEFAULT_CONFIG,
                       help=f"fleet.toml (default {DEFAULT_CONFIG})")
        p.set_defaults(func=_with_config(fn))
    si = sub.add_parser("sample-inventory", help="print an inventory TOML for N kiosks (a start for a real one)")
    si.add_argument("--kiosks", type=int, required=True)
    si.add_argument("--webhook-base", default="http://127.0.0.1:9/hook", help="each team's webhook is BASE/<team>")
    si.add_argument("--first-hall", action="append", default=[], metavar="KIOSK_ID",
                    help="a kiosk id that stands in the first hall too (repeat)")
    si.set_defaults(func=_sample_inventory)


def main(argv: Sequence[str] | None = None) -> int:
    from kiosk import log as kiosk_log

    p = argparse.ArgumentParser(prog="python -m central.fleet.service", description=__doc__)
    p.add_argument("--log-format", choices=("json", "text"), default="json")
    register(p.add_subparsers(dest="command", required=True))
    a = p.parse_args(argv)
    kiosk_log.setup("INFO", a.log_format)
    return int(a.func(a))


if __name__ == "__main__":
    raise SystemExit(main())
