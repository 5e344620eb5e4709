"""The evaluator: reads the fleet state from the database, runs the rules, moves the alerts on.

It runs every cfg.monitor.evaluate_every_s over every kiosk (silence, pending and escalation timers are
time-based) and, in between, on the kiosks ingest just changed (`poke`). It works only from the
database, so any number of monitor processes can run one each: they evaluate the same kiosks and the
conditional updates in alerts.py let exactly one of them make each change. A parsed state is cached per
kiosk and re-read only when its state_ts moved, so a full round reads little more than one row per kiosk.

While a kiosk is offline only the offline rule is evaluated: its last state is stale, so its other
alerts are left as they are (neither cleared nor opened on old news).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Engine, select

from central.fleet import audit_heads, db
from central.fleet.alerts import Lifecycle
from central.fleet.config import FleetConfig
from central.fleet.routing import Directory
from central.fleet.rules import Context, Finding, KioskView, OfflineRule, RuleSet, evaluate, is_offline

log = logging.getLogger("central.fleet.evaluator")

CONTENT_KEY = "content_latest"  # meta: {"version": newest content version seen, "since": when first seen}


class Evaluator:
    def __init__(self, engine: Engine, ruleset: RuleSet, cfg: FleetConfig, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.ruleset = ruleset
        self.cfg = cfg
        self.clock = clock
        self.lifecycle = Lifecycle(engine, ruleset, cfg.web.public_url)
        self._directory: Directory | None = None
        self._states: dict[str, tuple[float | None, dict[str, Any] | None]] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cached_content: tuple[int, float] | None = None
        self.rounds = 0
        self.changes = 0

    # --- thread ----------------------------------------------------------------------------------
    def poke(self, kiosk_ids: Iterable[str]) -> None:
        """Ingest changed these kiosks: evaluate them soon, not at the next full round."""
        with self._lock:
            self._dirty.update(kiosk_ids)
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="fleet-evaluator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def _run(self) -> None:
        every = self.cfg.monitor.evaluate_every_s
        next_full = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_full:
                    next_full = time.monotonic() + every
                    with self._lock:
                        self._dirty.clear()
                    self.run_once()
                else:
                    with self._lock:
                        dirty, self._dirty = self._dirty, set()
                    if dirty:
                        self.run_once(only=dirty)
            except Exception:  # a database hiccup must not end the evaluator: next round tries again
                log.exception("evaluation round failed")
                self._stop.wait(min(every, 2.0))
            self._wake.wait(max(0.0, next_full - time.monotonic()))
            self._wake.clear()

    # --- one round -------------------------------------------------------------------------------
    def _kiosks(self, only: set[str] | None) -> list[dict[str, Any]]:
        k = db.kiosks.c
        q = select(k.id, k.site_id, k.registered, k.online, k.online_reason, k.online_ts, k.state_ts,
                   k.audit_heads)
        if only is not None:
            q = q.where(k.id.in_(sorted(only)))
        with self.engine.connect() as c:
            rows = [dict(r._mapping) for r in c.execute(q)]
            stale = [r["id"] for r in rows if self._states.get(r["id"], (None, None))[0] != r["state_ts"]
                     or r["id"] not in self._states]
            for i in range(0, len(stale), 500):
                chunk = stale[i:i + 500]
                for r in c.execute(select(k.id, k.state, k.state_ts).where(k.id.in_(chunk))):
                    self._states[r.id] = (r.state_ts, r.state if isinstance(r.state, dict) else None)
        return rows

    def _open_alerts(self, only: set[str] | None) -> dict[str, dict[str, dict[str, Any]]]:
        q = select(db.alerts).where(db.alerts.c.status != db.ALERT_CLOSED)
        if only is not None:
            q = q.where(db.alerts.c.kiosk_id.in_(sorted(only)))
        out: dict[str, dict[str, dict[str, Any]]] = {}
        with self.engine.connect() as c:
            for r in c.execute(q):
                out.setdefault(r.kiosk_id, {})[r.condition] = dict(r._mapping)
        return out

    def _latest_content(self, now: float) -> tuple[int, float] | None:
        """The newest content version any kiosk runs, and since when the monitor knows it (kept in meta so
        the content-age timer survives a restart)."""
        newest = max((s.get("content_version") for _, s in self._states.values()
                      if s and isinstance(s.get("content_version"), int)), default=None)
        with self.engine.begin() as c:
            raw = c.execute(select(db.meta.c.value).where(db.meta.c.key == CONTENT_KEY)).scalar()
            known = json.loads(raw) if raw else None
            if newest is not None and (known is None or newest > known["version"]):
                known = {"version": newest, "since": now}
                db.upsert(c, db.meta, {"key": CONTENT_KEY, "value": json.dumps(known)}, ["key"])
        return (int(known["version"]), float(known["since"])) if known else None

    def run_once(self, now: float | None = None, only: set[str] | None = None) -> int:
        """Evaluate every kiosk (or `only` these); how many alert changes this process made."""
        now = self.clock() if now is None else now
        if self._directory is None or self._directory.stale() or only is None:
            self._directory = Directory.load(self.engine)
        d = self._directory
        rows = self._kiosks(only)
        alerts = self._open_alerts(only)
        ctx = Context(now, self.cfg.monitor.offline_after_intervals,
                      self._latest_content(now) if only is None else self._cached_content)
        self._cached_content = ctx.latest_content
        changes = 0
        for r in rows:
            st_ts, state = self._states.get(r["id"], (None, None))
            view = KioskView(r["id"], r["online"], r["online_reason"], r["online_ts"], state, st_ts,
                             audit=audit_heads.load(r["audit_heads"]))
            changes += self._kiosk(d, view, r["site_id"], alerts.get(r["id"], {}), ctx)
        self.rounds += 1
        self.changes += changes
        return changes

    def _kiosk(self, d: Directory, k: KioskView, site_id: str | None, open_: dict[str, dict[str, Any]],
               ctx: Context) -> int:
        offline = is_offline(k, ctx) is not None
        holding = {c for c, a in open_.items()
                   if a["status"] == db.ALERT_PENDING or (a["status"] == db.ALERT_ACTIVE
                                                          and (a["details"] or {}).get("cond", True))}
        changes = 0
        seen: set[str] = set()
        for rule in self.ruleset.rules.values():
            if offline and not isinstance(rule, OfflineRule):
                seen.update(c for c, a in open_.items() if a["rule_id"] == rule.id)  # frozen while offline
                continue
            findings = evaluate(rule, k, ctx, holding)
            by_cond = {f.condition: f for f in findings}
            # A per-component alert whose component vanished from the state: its condition is gone.
            for cond, a in open_.items():
                if a["rule_id"] == rule.id and cond not in by_cond:
                    by_cond[cond] = Finding(cond, False)
            for cond, f in by_cond.items():
                seen.add(cond)
                a = open_.get(cond)
                try:
                    if a is None:
                        changes += f.holds and self.lifecycle.open(d, k.id, site_id, rule, f, ctx.now)
                    else:
                        changes += self.lifecycle.step(d, a, rule, f, ctx.now)
                except Exception:  # one alert's trouble must not stop the others
                    log.exception("alert step failed", extra={"kiosk_id": k.id, "condition": cond})
        for cond, a in open_.items():
            if cond not in seen:
                changes += self.lifecycle.retire(a, f"rule {a['rule_id']!r} no longer exists", ctx.now)
        return changes
