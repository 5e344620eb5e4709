"""The charts: availability per site and per county, open alerts over time; computed from the
database and drawn as inline SVG on the server (no script, no chart library, works offline).

Availability = time up / time observed (FLEET.md: uptime / (uptime + downtime)); "up" is what
db.availability_log records (online and able to serve). Time before a kiosk's first log entry is not
observed and counts neither way, so a kiosk added yesterday is not 0 % over 30 days.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import Engine, and_, func, or_, select

from central.fleet import db

WINDOWS = {"24h": 24 * 3600.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}
BUCKETS = 48


def _uptime(entries: list[tuple[float, bool]], t0: float, t1: float) -> tuple[float, float]:
    """(seconds up, seconds observed) in [t0, t1] from time-sorted (at_ts, up) changes; the first
    entry may be before t0 (the state the window starts in)."""
    up = observed = 0.0
    for i, (at, is_up) in enumerate(entries):
        start = max(at, t0)
        end = min(entries[i + 1][0] if i + 1 < len(entries) else t1, t1)
        if end <= start:
            continue
        observed += end - start
        if is_up:
            up += end - start
    return up, observed


def kiosk_uptimes(engine: Engine, t0: float, t1: float) -> dict[str, tuple[float, float]]:
    log = db.availability_log
    with engine.connect() as conn:
        before = (select(log.c.kiosk_id, func.max(log.c.at_ts).label("at"))
                  .where(log.c.at_ts <= t0).group_by(log.c.kiosk_id).subquery())
        rows = conn.execute(
            select(log.c.kiosk_id, log.c.at_ts, log.c.up)
            .select_from(log.outerjoin(before, and_(before.c.kiosk_id == log.c.kiosk_id,
                                                    before.c.at == log.c.at_ts)))
            .where(log.c.at_ts < t1, or_(log.c.at_ts > t0, before.c.at.is_not(None)))
            .order_by(log.c.kiosk_id, log.c.at_ts, log.c.id)).all()
    per: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for kid, at, up in rows:
        per[kid].append((at, bool(up)))
    return {kid: _uptime(entries, t0, t1) for kid, entries in per.items()}


def availability(engine: Engine, window: str, now: float) -> dict[str, Any]:
    """{"window", "sites": [...], "counties": [...]}, each item {"id", "zh", "bo", "kiosks", "pct"}
    (pct None when nothing was observed)."""
    t0 = now - WINDOWS[window]
    times = kiosk_uptimes(engine, t0, now)
    k, s, c = db.kiosks, db.sites, db.counties
    with engine.connect() as conn:
        rows = conn.execute(select(k.c.id, s.c.id.label("site_id"), s.c.name_zh.label("site_zh"),
                                   s.c.name_bo.label("site_bo"), c.c.id.label("county_id"),
                                   c.c.name_zh.label("county_zh"), c.c.name_bo.label("county_bo"))
                            .select_from(k.join(s, s.c.id == k.c.site_id).join(c, c.c.id == s.c.county_id))
                            .where(k.c.registered.is_(True))).all()
    groups: dict[str, dict[str, dict[str, Any]]] = {"sites": {}, "counties": {}}
    for r in rows:
        up, obs = times.get(r.id, (0.0, 0.0))
        for key, gid, zh, bo in (("sites", r.site_id, r.site_zh, r.site_bo),
                                 ("counties", r.county_id, r.county_zh, r.county_bo)):
            g = groups[key].setdefault(gid, {"id": gid, "zh": zh, "bo": bo or "", "kiosks": 0, "up": 0.0,
                                             "observed": 0.0})
            g["kiosks"] += 1
            g["up"] += up
            g["observed"] += obs
    out: dict[str, Any] = {"window": window}
    for key, g in groups.items():
        items = sorted(g.values(), key=lambda d: d["id"])
        for d in items:
            d["pct"] = round(100.0 * d["up"] / d["observed"], 2) if d["observed"] else None
            del d["up"], d["observed"]
        out[key] = items
    return out


def open_alerts_series(engine: Engine, window: str, now: float, buckets: int = BUCKETS) -> list[dict[str, Any]]:
    """Per time bucket, how many alerts were open (active) at some moment in it, by severity."""
    t0 = now - WINDOWS[window]
    a = db.alerts
    end = func.coalesce(a.c.cleared_ts, a.c.closed_ts)
    with engine.connect() as conn:
        rows = conn.execute(select(a.c.severity, a.c.active_ts, end.label("end"))
                            .where(a.c.active_ts.is_not(None), a.c.active_ts < now,
                                   or_(end.is_(None), end > t0))).all()
    width = (now - t0) / buckets
    series = []
    for i in range(buckets):
        b0, b1 = t0 + i * width, t0 + (i + 1) * width
        by_sev = {sev: 0 for sev in db.SEVERITIES}
        for sev, start, stop in rows:
            if start < b1 and (stop is None or stop > b0):
                by_sev[sev if sev in by_sev else "warning"] += 1
        series.append({"start_ts": b0, "end_ts": b1, "total": sum(by_sev.values()), "by_severity": by_sev})
    return series


# --- SVG -----------------------------------------------------------------------------------------
def _pct_colour(pct: float | None) -> str:
    if pct is None:
        return "#9aa5b1"
    return "#2f855a" if pct >= 99 else "#d69e2e" if pct >= 95 else "#c53030"


def bars_svg(items: list[dict[str, Any]], title: str) -> Markup:
    """Horizontal bars, one per site or county, 0-100 %."""
    row_h, label_w, bar_w, pad = 30, 120, 230, 6
    h = max(1, len(items)) * row_h + 2 * pad
    w = label_w + bar_w + 60
    parts = [f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    if not items:
        parts.append(f'<text x="{pad}" y="{pad + 18}" class="muted">—</text>')
    for i, d in enumerate(items):
        y = pad + i * row_h
        pct = d.get("pct")
        name = d.get("zh") or d.get("id")
        length = 0 if pct is None else bar_w * pct / 100.0
        parts.append(f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end">{escape(name)}</text>'
                     f'<rect x="{label_w}" y="{y + 5}" width="{bar_w}" height="18" fill="#edf2f7"/>'
                     f'<rect x="{label_w}" y="{y + 5}" width="{length:.1f}" height="18" '
                     f'fill="{_pct_colour(pct)}"><title>{escape(name)}: '
                     f'{"no data" if pct is None else f"{pct:.2f} %"}</title></rect>'
                     f'<text x="{label_w + bar_w + 6}" y="{y + 19}">'
                     f'{"—" if pct is None else f"{pct:.1f}%"}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def series_svg(series: list[dict[str, Any]], title: str, start_label: str = "") -> Markup:
    """A step area of open alerts per bucket (critical+major drawn darker on top of the total)."""
    w, h, left, bottom, top = 410, 180, 30, 22, 10
    peak = max([b["total"] for b in series] + [1])
    n = max(1, len(series))
    bw = (w - left - 8) / n
    y_of = lambda v: top + (h - top - bottom) * (1 - v / peak)  # noqa: E731 - tiny local scale
    parts = [f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{h - bottom}" x2="{w - 8}" y2="{h - bottom}" stroke="#718096"/>',
             f'<text x="{left - 4}" y="{y_of(peak) + 4:.1f}" text-anchor="end">{peak}</text>',
             f'<text x="{left - 4}" y="{h - bottom + 4}" text-anchor="end">0</text>']
    for i, b in enumerate(series):
        x = left + i * bw
        if b["total"]:
            sev = b["by_severity"]
            serious = sev.get("critical", 0) + sev.get("major", 0)
            parts.append(f'<rect x="{x:.1f}" y="{y_of(b["total"]):.1f}" width="{bw:.1f}" '
                         f'height="{h - bottom - y_of(b["total"]):.1f}" fill="#f6ad55">'
                         f'<title>{b["total"]} open</title></rect>')
            if serious:
                parts.append(f'<rect x="{x:.1f}" y="{y_of(serious):.1f}" width="{bw:.1f}" '
                             f'height="{h - bottom - y_of(serious):.1f}" fill="#c53030"/>')
    parts.append(f'<text x="{left}" y="{h - 4}">{escape(start_label)}</text><text x="{w - 8}" y="{h - 4}" '
                 'text-anchor="end">now</text></svg>')
    return Markup("".join(parts))
