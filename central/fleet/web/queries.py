"""What the dashboard reads from the monitor's database, as plain JSON-ready dicts (pages and the API
render the same dicts, so they cannot disagree)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Select, desc, func, select

from central.fleet import db

STATES = ("online", "offline", "degraded", "fault", "unregistered")
OPEN_STATUSES = (db.ALERT_ACTIVE, db.ALERT_CLEARED)  # shown as open: still holding, or cleared and unacked
FAILING_CHANNEL_AFTER = 3  # consecutive failures before a channel is shown as failing
SEVERITY_RANK = {s: i for i, s in enumerate(db.SEVERITIES)}

k, s, c, p = db.kiosks, db.sites, db.counties, db.prefectures


def kiosk_state(registered: bool, online: bool | None, state: dict | None, state_ts: float | None,
                now: float, offline_after_intervals: float) -> str:
    """One word for a kiosk: unregistered (not in the inventory), offline (said so, never heard, or its
    state is older than N reporting intervals), fault / degraded (its worst component), else online."""
    if not registered:
        return "unregistered"
    if not online or state_ts is None or not isinstance(state, dict):
        return "offline"
    try:
        interval = float(state.get("interval_s") or 60.0)
    except (TypeError, ValueError):
        interval = 60.0
    if now - state_ts > offline_after_intervals * interval:
        return "offline"
    levels = {str(v.get("level")) for v in (state.get("components") or {}).values() if isinstance(v, dict)}
    if "fault" in levels:
        return "fault"
    if "degraded" in levels:
        return "degraded"
    return "online"


def _where(zh: Any, bo: Any) -> dict[str, str]:
    return {"zh": zh or "", "bo": bo or ""}


def _kiosk_select() -> Select:
    return (select(k.c.id, k.c.site_id, k.c.registered, k.c.online, k.c.online_reason, k.c.last_seen_ts,
                   k.c.state, k.c.state_ts, k.c.screenshot_ts,
                   s.c.name_zh.label("site_zh"), s.c.name_bo.label("site_bo"), s.c.address,
                   s.c.county_id, c.c.name_zh.label("county_zh"), c.c.name_bo.label("county_bo"),
                   c.c.prefecture_id, p.c.name_zh.label("pref_zh"), p.c.name_bo.label("pref_bo"))
            .select_from(k.outerjoin(s, s.c.id == k.c.site_id).outerjoin(c, c.c.id == s.c.county_id)
                         .outerjoin(p, p.c.id == c.c.prefecture_id)))


def _kiosk_dict(r: Any, now: float, offline_after: float, open_alerts: int = 0) -> dict[str, Any]:
    st = r.state if isinstance(r.state, dict) else {}
    return {
        "id": r.id, "state": kiosk_state(r.registered, r.online, r.state, r.state_ts, now, offline_after),
        "online": r.online, "online_reason": r.online_reason,
        "site_id": r.site_id, "county_id": r.county_id, "prefecture_id": r.prefecture_id,
        "site": _where(r.site_zh, r.site_bo), "county": _where(r.county_zh, r.county_bo),
        "prefecture": _where(r.pref_zh, r.pref_bo), "address": r.address or "",
        "last_seen_ts": r.last_seen_ts, "state_ts": r.state_ts,
        "versions": {"software": st.get("software_version"), "content": st.get("content_version"),
                     "config": st.get("config_version")},
        "open_alerts": open_alerts,
    }


def _open_alert_counts(conn: Any) -> dict[str, int]:
    a = db.alerts
    rows = conn.execute(select(a.c.kiosk_id, func.count()).where(a.c.status.in_(OPEN_STATUSES))
                        .group_by(a.c.kiosk_id)).all()
    return {kid: n for kid, n in rows}


def places(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """The inventory's prefectures, counties and sites, for the filter menus."""
    with engine.connect() as conn:
        return {
            "prefectures": [{"id": r.id, "zh": r.name_zh, "bo": r.name_bo}
                            for r in conn.execute(select(p).order_by(p.c.id))],
            "counties": [{"id": r.id, "prefecture_id": r.prefecture_id, "zh": r.name_zh, "bo": r.name_bo}
                         for r in conn.execute(select(c).order_by(c.c.id))],
            "sites": [{"id": r.id, "county_id": r.county_id, "zh": r.name_zh, "bo": r.name_bo}
                      for r in conn.execute(select(s).order_by(s.c.id))],
        }


def fleet(engine: Engine, now: float, offline_after: float, *, prefecture: str | None = None,
          county: str | None = None, site: str | None = None, state: str | None = None) -> dict[str, Any]:
    """Counts by state within the place filters, and the kiosks that also pass the state filter."""
    q = _kiosk_select().order_by(k.c.id)
    if prefecture:
        q = q.where(c.c.prefecture_id == prefecture)
    if county:
        q = q.where(s.c.county_id == county)
    if site:
        q = q.where(k.c.site_id == site)
    with engine.connect() as conn:
        counts_alerts = _open_alert_counts(conn)
        rows = conn.execute(q).all()
    all_kiosks = [_kiosk_dict(r, now, offline_after, counts_alerts.get(r.id, 0)) for r in rows]
    counts = {name: 0 for name in STATES}
    for kd in all_kiosks:
        counts[kd["state"]] += 1
    shown = [kd for kd in all_kiosks if not state or kd["state"] == state]
    return {"counts": counts, "total": len(all_kiosks), "kiosks": shown,
            "filters": {"prefecture": prefecture, "county": county, "site": site, "state": state}}


def kiosk_county(engine: Engine, kiosk_id: str) -> tuple[bool, str | None]:
    """(the kiosk exists, its county id or None)."""
    with engine.connect() as conn:
        row = conn.execute(select(k.c.id, s.c.county_id).select_from(k.outerjoin(s, s.c.id == k.c.site_id))
                           .where(k.c.id == kiosk_id)).first()
    return (row is not None, row.county_id if row else None)


def kiosk_detail(engine: Engine, kiosk_id: str, now: float, offline_after: float) -> dict[str, Any] | None:
    e, a, cr = db.events, db.alerts, db.command_results
    with engine.connect() as conn:
        r = conn.execute(_kiosk_select().where(k.c.id == kiosk_id)).first()
        if r is None:
            return None
        n_open = conn.execute(select(func.count()).select_from(a)
                              .where(a.c.kiosk_id == kiosk_id, a.c.status.in_(OPEN_STATUSES))).scalar_one()
        events = conn.execute(select(e.c.id, e.c.seq, e.c.at_ts, e.c.received_ts, e.c.kind, e.c.component,
                                     e.c.level, e.c.code, e.c.payload).where(e.c.kiosk_id == kiosk_id)
                              .order_by(desc(e.c.received_ts), desc(e.c.seq)).limit(20)).all()
        alerts = conn.execute(select(a).where(a.c.kiosk_id == kiosk_id)
                              .order_by(desc(a.c.changed_ts)).limit(20)).all()
        commands = conn.execute(select(cr).where(cr.c.kiosk_id == kiosk_id)
                                .order_by(desc(cr.c.issued_ts)).limit(10)).all()
    out = _kiosk_dict(r, now, offline_after, n_open)
    st = r.state if isinstance(r.state, dict) else {}
    out.update({
        "components": st.get("components") or {},
        "outbox": st.get("outbox") or {},
        "last_inspection": st.get("last_inspection"),
        "disk_used_pct": st.get("disk_used_pct"), "memory_used_pct": st.get("memory_used_pct"),
        "uptime_s": st.get("uptime_s"), "clock_offset_s": st.get("clock_offset_s"),
        "clock_trusted": st.get("clock_trusted"), "missing_clips": st.get("missing_clips") or {},
        "spool_depth": st.get("spool_depth"), "spool_evicted": st.get("spool_evicted"),
        "has_screenshot": r.screenshot_ts is not None, "screenshot_ts": r.screenshot_ts,
        "events": [{"id": ev.id, "seq": ev.seq, "at_ts": ev.at_ts, "received_ts": ev.received_ts,
                    "kind": ev.kind, "component": ev.component, "level": ev.level, "code": ev.code,
                    "message": (ev.payload or {}).get("message") or {}} for ev in events],
        "alerts": [_alert_dict(al) for al in alerts],
        "commands": [_command_dict(cm) for cm in commands],
    })
    return out


def screenshot(engine: Engine, kiosk_id: str) -> bytes | None:
    with engine.connect() as conn:
        return conn.execute(select(k.c.screenshot).where(k.c.id == kiosk_id)).scalar()


def _command_dict(r: Any) -> dict[str, Any]:
    return {"id": r.id, "kiosk_id": r.kiosk_id, "kind": r.kind, "issued_by": r.issued_by,
            "issued_ts": r.issued_ts, "result": r.result, "message": r.message, "answered_ts": r.answered_ts}


def command(engine: Engine, command_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        r = conn.execute(select(db.command_results).where(db.command_results.c.id == command_id)).first()
    return _command_dict(r) if r else None


# --- alerts --------------------------------------------------------------------------------------
def _alert_dict(r: Any, extra: Any = None) -> dict[str, Any]:
    details = r.details if isinstance(r.details, dict) else {}
    out = {"id": r.id, "kiosk_id": r.kiosk_id, "site_id": r.site_id, "condition": r.condition,
           "rule_id": r.rule_id, "severity": r.severity, "status": r.status, "acked": bool(r.acked),
           "acked_by": r.acked_by, "acked_ts": r.acked_ts, "pending_ts": r.pending_ts,
           "active_ts": r.active_ts, "cleared_ts": r.cleared_ts, "closed_ts": r.closed_ts,
           "changed_ts": r.changed_ts, "flapping": bool(r.flapping), "escalated_ts": r.escalated_ts,
           "what": {lang: str(details.get(lang) or "") for lang in ("zh", "bo", "en")}}
    if extra is not None:
        out.update({"county_id": extra.county_id, "site": _where(extra.site_zh, extra.site_bo),
                    "county": _where(extra.county_zh, extra.county_bo)})
    return out


def _alert_select() -> Select:
    a = db.alerts
    return (select(a, s.c.county_id, s.c.name_zh.label("site_zh"), s.c.name_bo.label("site_bo"),
                   c.c.name_zh.label("county_zh"), c.c.name_bo.label("county_bo"))
            .select_from(a.outerjoin(k, k.c.id == a.c.kiosk_id)
                         .outerjoin(s, s.c.id == func.coalesce(a.c.site_id, k.c.site_id))
                         .outerjoin(c, c.c.id == s.c.county_id)))


def alerts(engine: Engine, *, status: str | None = None, severity: str | None = None,
           county: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Alerts, newest change first; status "open" (the default view) = active or cleared-unacked."""
    a = db.alerts
    q = _alert_select()
    if status == "open":
        q = q.where(a.c.status.in_(OPEN_STATUSES))
    elif status:
        q = q.where(a.c.status == status)
    if severity:
        q = q.where(a.c.severity == severity)
    if county:
        q = q.where(s.c.county_id == county)
    q = q.order_by(desc(a.c.changed_ts), desc(a.c.id)).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    out = [_alert_dict(r, r) for r in rows]
    if status == "open":  # the worst first when the list is what needs doing
        out.sort(key=lambda d: (SEVERITY_RANK.get(d["severity"], 9), d["acked"]))
    return out


def alert_detail(engine: Engine, alert_id: int) -> dict[str, Any] | None:
    t = db.alert_transitions
    with engine.connect() as conn:
        r = conn.execute(_alert_select().where(db.alerts.c.id == alert_id)).first()
        if r is None:
            return None
        trans = conn.execute(select(t).where(t.c.alert_id == alert_id).order_by(t.c.at_ts, t.c.id)).all()
    out = _alert_dict(r, r)
    out["details"] = r.details if isinstance(r.details, dict) else {}
    out["transitions"] = [{"at_ts": x.at_ts, "from_status": x.from_status, "to_status": x.to_status,
                           "acked": bool(x.acked), "by": x.by, "note": x.note} for x in trans]
    return out


def alert_county(engine: Engine, alert_id: int) -> tuple[bool, str | None]:
    """(the alert exists, the county of its site or kiosk)."""
    with engine.connect() as conn:
        r = conn.execute(select(db.alerts.c.id, s.c.county_id).select_from(
            db.alerts.outerjoin(k, k.c.id == db.alerts.c.kiosk_id)
            .outerjoin(s, s.c.id == func.coalesce(db.alerts.c.site_id, k.c.site_id)))
            .where(db.alerts.c.id == alert_id)).first()
    return (r is not None, r.county_id if r else None)


# --- notification channels -----------------------------------------------------------------------
def failing_channels(engine: Engine) -> list[dict[str, Any]]:
    ch, t = db.channel_health, db.teams
    with engine.connect() as conn:
        rows = conn.execute(select(ch, t.c.name.label("team_name"))
                            .select_from(ch.outerjoin(t, t.c.id == ch.c.team_id))
                            .where(ch.c.failures >= FAILING_CHANNEL_AFTER)
                            .order_by(ch.c.team_id, ch.c.channel)).all()
    return [{"team_id": r.team_id, "team": r.team_name or r.team_id, "channel": r.channel,
             "failures": r.failures, "last_error": (r.last_error or "")[:200],
             "last_ok_ts": r.last_ok_ts, "last_failure_ts": r.last_failure_ts} for r in rows]
