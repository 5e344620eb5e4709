"""/metrics in the Prometheus text exposition format (0.0.4).

Served without a login so a Prometheus in the operators' network can scrape it: it carries counts
only (no kiosk ids, no names, no addresses). Bind the dashboard to a network where that is acceptable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Engine, func, select

from central.fleet import db
from central.fleet.web import queries

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(v: Any) -> str:
    return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _family(name: str, kind: str, help_: str, samples: Iterable[tuple[dict[str, Any], float]]) -> list[str]:
    lines = [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        lab = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{lab}}} {float(value):g}" if lab else f"{name} {float(value):g}")
    return lines


def render(engine: Engine, offline_after: float, counters: Callable[[], dict] | None = None,
           now: float | None = None) -> str:
    now = time.time() if now is None else now
    fleet = queries.fleet(engine, now, offline_after)
    a, n, ch = db.alerts, db.notifications, db.channel_health
    with engine.connect() as conn:
        open_rows = conn.execute(select(a.c.severity, a.c.status, func.count())
                                 .where(a.c.status.in_(queries.OPEN_STATUSES))
                                 .group_by(a.c.severity, a.c.status)).all()
        failed = conn.execute(select(n.c.channel, func.count()).where(n.c.status == "failed")
                              .group_by(n.c.channel)).all()
        failing = conn.execute(select(func.count()).select_from(ch)
                               .where(ch.c.failures >= queries.FAILING_CHANNEL_AFTER)).scalar_one()
    open_counts = {(sev, st): 0 for sev in db.SEVERITIES for st in queries.OPEN_STATUSES}
    for sev, st, cnt in open_rows:
        open_counts[(sev, st)] = cnt
    out: list[str] = []
    out += _family("fleet_kiosks", "gauge", "Kiosks by state.",
                   (({"state": st}, cnt) for st, cnt in fleet["counts"].items()))
    out += _family("fleet_alerts_open", "gauge", "Open alerts (active, or cleared and not acknowledged).",
                   (({"severity": sev, "status": st}, cnt) for (sev, st), cnt in open_counts.items()))
    out += _family("fleet_notifications_failed_total", "counter",
                   "Notifications given up on after their retries, by channel name.",
                   (({"channel": chn}, cnt) for chn, cnt in failed))
    out += _family("fleet_notification_channels_failing", "gauge",
                   f"Team channels with >= {queries.FAILING_CHANNEL_AFTER} consecutive failures.",
                   [({}, failing)])
    if counters is not None:
        c = counters() or {}
        out += _family("fleet_ingest_messages_total", "counter", "MQTT messages taken in, by kind.",
                       (({"kind": kd}, v) for kd, v in sorted((c.get("messages") or {}).items())))
        out += _family("fleet_ingest_dropped_total", "counter", "MQTT messages dropped, by reason.",
                       (({"reason": r}, v) for r, v in sorted((c.get("dropped") or {}).items())))
        out += _family("fleet_ingest_duplicates_total", "counter", "Redelivered events dropped.",
                       [({}, c.get("duplicates", 0))])
        out += _family("fleet_ingest_gaps_total", "counter", "Event sequence numbers found missing.",
                       [({}, c.get("gaps", 0))])
    return "\n".join(out) + "\n"
