"""Who is told about an alert, and what the notification row says (M2's dispatcher renders and sends it).

One row per channel of each team whose counties include the kiosk's county; an unregistered kiosk has
no site, so no team and no row (its alert still exists and shows on the dashboard). Mentions: the
primary contact for a critical or major open / reminder / flapping notice, the second contact for an
escalation (the primary when a team lists only one), nobody for a clear.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select

from central.fleet import db

MENTION_SEVERITIES = ("critical", "major")
RELOAD_S = 10.0  # the inventory changes rarely; `kiosk fleet serve` applies it at start


@dataclass
class Directory:
    """The inventory as the evaluator needs it, loaded from the database."""
    kiosk_site: dict[str, str] = field(default_factory=dict)
    sites: dict[str, dict[str, Any]] = field(default_factory=dict)
    counties: dict[str, dict[str, Any]] = field(default_factory=dict)
    prefectures: dict[str, dict[str, Any]] = field(default_factory=dict)
    teams_by_county: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    loaded_ts: float = 0.0

    @classmethod
    def load(cls, engine: Engine) -> Directory:
        d = cls(loaded_ts=time.monotonic())
        with engine.connect() as c:
            d.kiosk_site = {r.id: r.site_id for r in c.execute(
                select(db.kiosks.c.id, db.kiosks.c.site_id).where(db.kiosks.c.site_id.is_not(None)))}
            d.sites = {r.id: dict(r._mapping) for r in c.execute(select(db.sites))}
            d.counties = {r.id: dict(r._mapping) for r in c.execute(select(db.counties))}
            d.prefectures = {r.id: dict(r._mapping) for r in c.execute(select(db.prefectures))}
            for r in c.execute(select(db.teams).order_by(db.teams.c.id)):
                for cid in r.counties or []:
                    d.teams_by_county.setdefault(cid, []).append(dict(r._mapping))
        return d

    def stale(self) -> bool:
        return time.monotonic() - self.loaded_ts > RELOAD_S

    def teams_for(self, site_id: str | None) -> list[dict[str, Any]]:
        site = self.sites.get(site_id or "")
        return self.teams_by_county.get(site["county_id"], []) if site else []

    def where(self, kiosk_id: str, site_id: str | None) -> dict[str, Any]:
        site = self.sites.get(site_id or "") or {}
        county = self.counties.get(site.get("county_id", "")) or {}
        pref = self.prefectures.get(county.get("prefecture_id", "")) or {}

        def names(row: dict[str, Any]) -> dict[str, str]:
            return {"zh": row.get("name_zh", ""), "bo": row.get("name_bo", "")}
        return {"prefecture": names(pref), "county": names(county), "site": names(site),
                "address": site.get("address", ""), "kiosk": kiosk_id}


def _mention(kind: str, severity: str, contacts: list[dict[str, Any]]) -> list[str]:
    phones = [c["phone"] for c in contacts if c.get("phone")]
    if not phones:
        return []
    if kind == "escalate":
        return [phones[1] if len(phones) > 1 else phones[0]]
    if kind in ("open", "reminder", "flapping") and severity in MENTION_SEVERITIES:
        return [phones[0]]
    return []


def add_notifications(conn: Connection, directory: Directory, alert: dict[str, Any], kind: str,
                      transition_id: int, *, now: float, group_wait_s: float, public_url: str) -> int:
    """Notification rows for one alert transition, in the caller's transaction; how many."""
    teams = directory.teams_for(alert.get("site_id"))
    details = alert.get("details") or {}
    n = 0
    for team in teams:
        for ch in team.get("channels") or []:
            payload = {
                "kind": kind, "alert_id": alert["id"], "severity": alert["severity"], "rule_id": alert["rule_id"],
                "condition": alert["condition"], "kiosk_id": alert["kiosk_id"], "site_id": alert.get("site_id"),
                "where": directory.where(alert["kiosk_id"], alert.get("site_id")),
                "what": {lang: str(details.get(lang) or alert["condition"]) for lang in ("zh", "bo", "en")},
                "since_ts": alert.get("active_ts") or alert.get("pending_ts"),
                "link": f"{public_url}/alerts/{alert['id']}",
                "mention": _mention(kind, alert["severity"], team.get("contacts") or []),
                "group_key": f"{team['id']}|{alert.get('site_id')}|{kind}|{alert['rule_id']}",
                "team_lang": team.get("lang", "zh"),
            }
            # The team is part of the key: two teams may both name their channel "robot".
            key = f"{alert['id']}:{kind}:{transition_id}:{team['id']}/{ch['name']}"
            if db.insert_ignore(conn, db.notifications, {
                    "dedupe_key": key, "team_id": team["id"], "channel": ch["name"], "alert_id": alert["id"],
                    "kind": kind, "created_ts": now, "payload": payload, "status": "pending", "attempts": 0,
                    "next_attempt_ts": now + group_wait_s}, ["dedupe_key"]):
                n += 1
    return n
