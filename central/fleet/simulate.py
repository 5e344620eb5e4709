"""`kiosk fleet simulate --kiosks N`: play N kiosks over MQTT, with the fleet agent's exact payloads.

Each simulated kiosk has its own MQTT 5 connection with a retained Last Will (offline,
`connection_lost`), publishes its birth and retained state after every connect, its state again every
`--interval` seconds (jittered) and on every change, and status events with its own sequence numbers
and unique ids. Faults come at `--fault-rate` per kiosk-hour (printer paper low / out / cover open,
card reader not answering, camera gone, disk filling, a whole site losing its WAN: all that hall's
connections drop so the broker sends their wills) and clear after about `--fault-duration` seconds.
Commands are answered (`done`; unknown kinds `rejected`).

Kiosk ids: from `--inventory FILE` (every `kiosks` entry in the TOML), else from
`central.fleet.inventory.sample_inventory(n)` when that exists, else the built-in scheme
`<prefix>p<PP>-c<CC>-s<SS>-k<K>` (prefecture, county within it, site within the county, kiosk within
the site; `--kiosks-per-site` per site, 10 sites per county, 8 counties per prefecture, all from 1),
whose site id is the kiosk id without `-k<K>`.

SIGTERM / SIGINT (or the end of `--duration`) stop it: with `--stop-mode shutdown` (the default) each
kiosk publishes offline/`shutdown` (retained) and disconnects cleanly, as the agent does when a kiosk
is switched off properly; `--stop-mode drop` ends the connections so the wills say `connection_lost`.
Either way every kiosk is offline afterwards. `--seed` (printed) repeats the same faults at the same
times; event ids stay unique across runs.

    python -m central.fleet.simulate --broker 127.0.0.1:1884 --kiosks 1000 --interval 30 --seed 7
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kiosk import fleet_wire

from .simulate_kiosk import FAULTS, SimKiosk
from .simulate_net import Options, Shard, fault_named, make_conn

SITES_PER_COUNTY, COUNTIES_PER_PREFECTURE = 10, 8
FDS_SPARE = 64  # the process's own files, the selectors, the log


class SimulateError(Exception):
    """Bad input: the message is one line for the user."""


# --- which kiosks ----------------------------------------------------------------------------------
def scheme_layout(n: int, per_site: int = 3, prefix: str = "") -> list[tuple[str, str]]:
    """(kiosk_id, site_id) for n kiosks in the documented id scheme."""
    out = []
    for i in range(n):
        site, k = divmod(i, per_site)
        county, s = divmod(site, SITES_PER_COUNTY)
        p, c = divmod(county, COUNTIES_PER_PREFECTURE)
        site_id = f"{prefix}p{p + 1:02d}-c{c + 1:02d}-s{s + 1:02d}"
        out.append((f"{site_id}-k{k + 1}", site_id))
    return out


def _walk(node: Any, site: str | None, out: dict[str, str]) -> None:
    """Every `kiosks` list anywhere in an inventory document; a kiosk's site is its own `site`/`site_id`
    field or the id of the table that holds the list."""
    if isinstance(node, list):
        for item in node:
            _walk(item, site, out)
        return
    if not isinstance(node, dict):
        return
    here = str(node.get("id", site)) if "kiosks" in node else site
    for key, value in node.items():
        if key == "kiosks" and isinstance(value, list):
            for item in value:
                kid = item if isinstance(item, str) else item.get("id") if isinstance(item, dict) else None
                ksite = item.get("site") or item.get("site_id") if isinstance(item, dict) else None
                if isinstance(kid, str) and fleet_wire.KIOSK_ID_RE.match(kid) and kid != fleet_wire.FLEET_ID:
                    out.setdefault(kid, str(ksite or here or kid))
        else:
            _walk(value, here, out)


def inventory_layout(doc: Any) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    if isinstance(doc, str):
        doc = tomllib.loads(doc)
    elif not isinstance(doc, dict | list):  # an object with a `kiosks` attribute (M1's inventory)
        items = getattr(doc, "kiosks", None)
        items = items.values() if isinstance(items, dict) else items or []
        doc = {"kiosks": [{"id": getattr(k, "id", None), "site_id": getattr(k, "site_id", None)}
                          if not isinstance(k, dict | str) else k for k in items]}
    _walk(doc, None, out)
    return list(out.items())


def _validated(text: str, source: str) -> list[tuple[str, str]] | None:
    """The inventory as the monitor reads it (M1's parser, when present): the same ids, the same refusals."""
    try:
        from central.fleet.inventory import parse_inventory
    except ImportError:
        return None
    from kiosk.config import ConfigError
    try:
        return list(parse_inventory(text, source).kiosk_sites().items())
    except ConfigError as e:
        lines = str(e).splitlines()
        raise SimulateError(" ".join(line.strip() for line in lines[:2])) from None


def load_layout(n: int, inventory: Path | None, per_site: int, prefix: str) -> tuple[list[tuple[str, str]], str]:
    """The first n (kiosk_id, site_id) and where they came from."""
    if inventory is not None:
        try:
            text = inventory.read_text(encoding="utf-8")
            layout = inventory_layout(tomllib.loads(text))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise SimulateError(f"{inventory}: cannot read the inventory: {str(e).splitlines()[0]}") from None
        layout = _validated(text, str(inventory)) or layout
        if len(layout) < n:
            raise SimulateError(f"{inventory}: holds {len(layout)} kiosk(s), {n} asked for")
        return layout[:n], f"inventory {inventory}"
    try:
        from central.fleet.inventory import sample_inventory  # M1's; optional
    except ImportError:
        sample_inventory = None
    if sample_inventory is not None and not prefix:
        try:
            layout = inventory_layout(sample_inventory(n))
        except Exception as e:  # a shape this reader does not know: the scheme still works
            print(f"simulate: sample_inventory not usable ({str(e)[:80]}); using the id scheme", file=sys.stderr)
            layout = []
        if len(layout) >= n:
            return layout[:n], "central.fleet.inventory.sample_inventory"
    return scheme_layout(n, per_site, prefix), "the id scheme p<PP>-c<CC>-s<SS>-k<K>"


# --- the simulator ---------------------------------------------------------------------------------
def raise_nofile(needed: int) -> int:
    """Raise the open-files limit to its hard limit (one socket per kiosk); error if that is not enough."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SimulateError(f"{needed} open files needed, the hard limit is {hard} (raise it with ulimit -Hn)")
    if soft != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


class Simulator:
    def __init__(self, opts: Options, layout: list[tuple[str, str]], seed: int) -> None:
        if not layout:
            raise SimulateError("no kiosks to simulate")
        raise_nofile(len(layout) + FDS_SPARE)
        self.opts, self.seed = opts, seed
        started = time.time()
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()
        sites = list(dict.fromkeys(site for _, site in layout))
        n_shards = max(1, min(opts.shards, len(sites)))
        shard_of = {site: i % n_shards for i, site in enumerate(sites)}  # a site stays in one shard
        groups: list[list[Any]] = [[] for _ in range(n_shards)]
        connect_at: dict[str, float] = {}
        for i, (kid, site) in enumerate(layout):
            fleet_wire.topic(kid, fleet_wire.KIND_STATE)  # refuses an id that cannot be a topic level
            kiosk = SimKiosk(kid, site, random.Random(f"{seed}:{kid}"), opts.interval_s, started)
            groups[shard_of[site]].append(make_conn(kiosk))
            connect_at[kid] = started + i / opts.connect_rate  # a bounded connection rate, in id order
        self.sites = sites
        self.shards = [Shard(i, opts, g, connect_at, self.stats, self._lock) for i, g in enumerate(groups)]
        self._shard_of_kiosk = {c.kiosk.kiosk_id: s for s in self.shards for c in s.conns}
        self._shard_of_site = {site: self.shards[shard_of[site]] for site in sites}

    @property
    def kiosk_ids(self) -> list[str]:
        return list(self._shard_of_kiosk)

    def start(self) -> None:
        for s in self.shards:
            s.start()

    def stop(self, mode: str = "shutdown", timeout_s: float = 30.0) -> None:
        for s in self.shards:
            s.stop(mode)
        for s in self.shards:
            s.wait_stopped(timeout_s)

    def connected(self) -> int:
        return sum(1 for s in self.shards for c in s.conns if c.connected)

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self.stats)

    def drop_site(self, site_id: str, duration_s: float) -> None:
        """Force `site_id`'s WAN loss now, for `duration_s` seconds."""
        shard = self._shard_of_site.get(site_id)
        if shard is None:
            raise SimulateError(f"no simulated site {site_id!r}")
        shard.control.put(lambda: shard.drop_site(site_id, duration_s))

    def force_fault(self, kiosk_id: str, fault: str, duration_s: float | None = None) -> None:
        """Start `fault` (a name in simulate_kiosk.FAULTS) on one kiosk now; None: it does not clear."""
        shard = self._shard_of_kiosk.get(kiosk_id)
        if shard is None:
            raise SimulateError(f"no simulated kiosk {kiosk_id!r}")
        f = fault_named(fault)
        if f.name == "site_wan_loss":
            self.drop_site(shard.by_id[kiosk_id].kiosk.site_id, duration_s or self.opts.wan_loss_s)
            return
        shard.control.put(lambda: shard.start_fault(shard.by_id[kiosk_id], f, duration_s))


# --- the command -----------------------------------------------------------------------------------
def _broker(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT")
    return host, int(port)


def _positive(kind: type) -> Any:
    def parse(value: str) -> Any:
        try:
            v = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if v <= 0:
            raise argparse.ArgumentTypeError(f"{value!r} must be more than 0")
        return v
    return parse


def _faults(value: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in FAULTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown fault(s) {','.join(unknown) or repr(value)}; known: {','.join(FAULTS)}")
    return names


def _non_negative(value: str) -> float:
    try:
        v = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{value!r} must not be negative")
    return v


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kiosks", type=_positive(int), required=True, help="how many kiosks to play")
    p.add_argument("--broker", type=_broker, default=("127.0.0.1", 1883), help="HOST:PORT (default 127.0.0.1:1883)")
    p.add_argument("--interval", type=_positive(float), default=30.0, help="seconds between states (jittered)")
    p.add_argument("--fault-rate", type=_non_negative, default=0.05, help="faults per kiosk-hour (0: none)")
    p.add_argument("--faults", type=_faults, default=(),
                   help=f"comma-separated subset of the random faults (default all): {','.join(FAULTS)}")
    p.add_argument("--fault-duration", type=_positive(float), default=600.0, help="mean seconds until a fault clears")
    p.add_argument("--wan-loss-duration", type=_positive(float), default=120.0,
                   help="mean seconds a site's WAN stays out")
    p.add_argument("--seed", type=int, help="random seed (printed; default: a fresh one)")
    p.add_argument("--kiosk-prefix", default="", help="prefix for the scheme's ids, e.g. 'sim-'")
    p.add_argument("--kiosks-per-site", type=_positive(int), default=3)
    p.add_argument("--inventory", type=Path, help="take the kiosk ids from this inventory TOML")
    p.add_argument("--duration", type=_non_negative, default=0.0, help="seconds to run (0: until SIGTERM/SIGINT)")
    p.add_argument("--connect-rate", type=_positive(float), default=200.0, help="new connections per second")
    p.add_argument("--shards", type=_positive(int), default=max(1, min(4, os.cpu_count() or 1)),
                   help="network threads")
    p.add_argument("--keepalive", type=_positive(int), default=60, help="MQTT keepalive seconds")
    p.add_argument("--stop-mode", choices=("shutdown", "drop"), default="shutdown",
                   help="how the kiosks end: clean offline/shutdown, or dropped connections (wills)")
    p.add_argument("--report-every", type=_non_negative, default=10.0, help="seconds between progress lines (0: none)")


def _line(sim: Simulator) -> str:
    c = sim.counters()
    pub = " ".join(f"{k.removeprefix('published_').replace('/', '_')}={v}"
                   for k, v in sorted(c.items()) if k.startswith("published_"))
    faults = sum(v for k, v in c.items() if k.startswith("fault_"))
    return f"simulate: {sim.connected()}/{len(sim.kiosk_ids)} connected; published {pub or 'nothing'}; faults {faults}"


def run(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    print(f"simulate: seed {seed}", flush=True)
    try:
        layout, source = load_layout(args.kiosks, args.inventory, args.kiosks_per_site, args.kiosk_prefix)
        host, port = args.broker
        opts = Options(host=host, port=port, interval_s=args.interval, fault_rate=args.fault_rate,
                       fault_duration_s=args.fault_duration, wan_loss_s=args.wan_loss_duration,
                       keepalive_s=args.keepalive, connect_rate=args.connect_rate, shards=args.shards,
                       faults=args.faults)
        sim = Simulator(opts, layout, seed)
    except (SimulateError, ValueError) as e:
        print(f"simulate: {e}", file=sys.stderr)
        return 2
    print(f"simulate: {len(layout)} kiosks at {len(sim.sites)} sites (ids from {source}), broker {host}:{port}, "
          f"{len(sim.shards)} network threads", flush=True)
    from kiosk.lifecycle import stop_on_signals

    stopped_by = "duration"
    with stop_on_signals():
        sim.start()
        try:
            end = time.monotonic() + args.duration if args.duration else None
            next_report = time.monotonic() + args.report_every if args.report_every else None
            while end is None or time.monotonic() < end:
                time.sleep(0.2)
                if next_report is not None and time.monotonic() >= next_report:
                    next_report += args.report_every
                    print(_line(sim), flush=True)
        except KeyboardInterrupt as e:
            stopped_by = str(e) or "SIGINT"
        finally:
            sim.stop(args.stop_mode)
    c = sim.counters()
    print(_line(sim).replace("simulate:", f"simulate: stopped by {stopped_by} ({args.stop_mode}):", 1)
          + f"; shutdown notices {c.get('shutdown_notices', 0)}", flush=True)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="play N kiosks over MQTT (load tests, demos, the fleet bench)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m central.fleet.simulate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["FAULTS", "Options", "SimulateError", "Simulator", "load_layout", "main", "register", "scheme_layout"]
