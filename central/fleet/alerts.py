"""The alert lifecycle, aligned with ThingsBoard's alarm states:

    pending ──(held for_s)──► active (unacked) ──ack──► active (acked)
       │                          │ condition clears         │ condition clears
       ▼                          ▼                          ▼
    closed (never shown)      cleared (unacked) ──ack──► closed ◄──────┘
                                  │ condition returns: the same alert reopens

One alert per kiosk + condition while not closed (`open_key` UNIQUE). Every change is one conditional
UPDATE (`WHERE id AND changed_ts = <what I read>`) in its own transaction together with its
alert_transitions row and its notification rows: of two monitor processes deciding the same thing, one
wins and the other's UPDATE changes nothing. Every timer is a column (pending_ts, active_ts,
escalated_ts, reminded_ts, the flap times), so a restarted monitor carries on where the last one stopped.

Flapping: more than `changes` opens/clears within `window_s` holds the alert active and flapping; one
"flapping" notification goes out and the opens/clears are not notified until it has been quiet for the
window (then a "clear" if the condition is gone by then). Escalation: an unacknowledged alert past its
escalate time (critical alerts by default) gets one "escalate" notification to the second contact.
Reminders repeat every remind_every_s while an active alert is unacknowledged.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from central.fleet import db
from central.fleet.routing import Directory, add_notifications
from central.fleet.rules import Finding, RuleSet

log = logging.getLogger("central.fleet.alerts")

SYSTEM = "system"
A = db.alerts


def _row(conn: Connection, alert_id: int) -> dict[str, Any] | None:
    r = conn.execute(select(A).where(A.c.id == alert_id)).first()
    return dict(r._mapping) if r else None


def _record(conn: Connection, alert: dict[str, Any], to_status: str, by: str, note: str, now: float,
            from_status: str | None) -> int:
    res = conn.execute(insert(db.alert_transitions).values(
        alert_id=alert["id"], at_ts=now, from_status=from_status, to_status=to_status,
        acked=bool(alert["acked"]), by=by[:64], note=note))
    return int(res.inserted_primary_key[0])


def _change(conn: Connection, seen: dict[str, Any], values: dict[str, Any], by: str, note: str,
            now: float) -> tuple[dict[str, Any], int] | None:
    """Apply `values` if nobody changed the alert since `seen` was read; (the new row, transition id)."""
    values = {**values, "changed_ts": max(now, seen["changed_ts"] + 1e-6)}
    res = conn.execute(update(A).where(A.c.id == seen["id"], A.c.changed_ts == seen["changed_ts"],
                                       A.c.status == seen["status"]).values(**values))
    if res.rowcount != 1:
        return None
    new = {**seen, **values}
    return new, _record(conn, new, new["status"], by, note, now, seen["status"])


def _close_values(now: float) -> dict[str, Any]:
    return {"status": db.ALERT_CLOSED, "open_key": None, "closed_ts": now}


def acknowledge(engine: Engine, alert_id: int, by: str, now: float | None = None) -> bool:
    """Acknowledge an active or cleared alert (a cleared one is then closed); False if nothing changed."""
    now = time.time() if now is None else now
    with engine.begin() as conn:
        a = _row(conn, alert_id)
        if a is None or a["acked"] or a["status"] not in (db.ALERT_ACTIVE, db.ALERT_CLEARED):
            return False
        values: dict[str, Any] = {"acked": True, "acked_by": by[:64], "acked_ts": now}
        if a["status"] == db.ALERT_CLEARED:
            values.update(_close_values(now))
        return _change(conn, a, values, by, "acknowledged", now) is not None


def resolve(engine: Engine, alert_id: int, by: str, now: float | None = None) -> bool:
    """Close an alert by hand, whatever its state (if its condition still holds, the evaluator opens a new
    one); False if it was closed already. No notification: the person resolving it is the one who knows."""
    now = time.time() if now is None else now
    with engine.begin() as conn:
        a = _row(conn, alert_id)
        if a is None or a["status"] == db.ALERT_CLOSED:
            return False
        return _change(conn, a, _close_values(now), by, "resolved by hand", now) is not None


class Lifecycle:
    """Applies one finding to one alert (or to no alert yet); notification rows go with each change."""

    def __init__(self, engine: Engine, ruleset: RuleSet, public_url: str) -> None:
        self.engine = engine
        self.ruleset = ruleset
        self.public_url = public_url.rstrip("/")

    def _notify(self, conn: Connection, d: Directory, alert: dict[str, Any], kind: str, tid: int,
                now: float, rule: Any) -> None:
        add_notifications(conn, d, alert, kind, tid, now=now, group_wait_s=float(rule.group_wait_s),
                          public_url=self.public_url)

    def _commit(self, d: Directory, seen: dict[str, Any], values: dict[str, Any], note: str, now: float,
                rule: Any, notify: str | None) -> bool:
        with self.engine.begin() as conn:
            done = _change(conn, seen, values, SYSTEM, note, now)
            if done is None:
                return False  # another monitor process decided first
            if notify:
                self._notify(conn, d, done[0], notify, done[1], now, rule)
        return True

    def open(self, d: Directory, kiosk_id: str, site_id: str | None, rule: Any, f: Finding, now: float) -> bool:
        active = rule.for_s <= 0
        row = {"open_key": f"{kiosk_id}|{f.condition}", "kiosk_id": kiosk_id, "site_id": site_id,
               "condition": f.condition, "rule_id": rule.id, "severity": rule.severity,
               "status": db.ALERT_ACTIVE if active else db.ALERT_PENDING, "acked": False,
               "pending_ts": now, "active_ts": now if active else None, "changed_ts": now,
               "flaps": [now] if active else [], "flapping": False, "details": {**f.details, "cond": True}}
        try:
            with self.engine.begin() as conn:
                aid = int(conn.execute(insert(A).values(**row)).inserted_primary_key[0])
                alert = {**row, "id": aid}
                tid = _record(conn, alert, row["status"], SYSTEM, "condition holds", now, None)
                if active:
                    self._notify(conn, d, alert, "open", tid, now, rule)
        except IntegrityError:
            return False  # already open: another monitor process inserted it first
        log.info("alert %s", row["status"], extra={"alert_id": aid, "kiosk_id": kiosk_id,
                                                   "condition": f.condition})
        return True

    def step(self, d: Directory, a: dict[str, Any], rule: Any, f: Finding, now: float) -> bool:
        """Move an existing (not closed) alert on; True if this process changed it."""
        holds = f.holds
        win = self.ruleset.flapping.window_s
        flaps = [t for t in (a["flaps"] or []) if t > now - win]
        details = dict(a["details"] or {})
        prev = bool(details.get("cond", a["status"] in (db.ALERT_PENDING, db.ALERT_ACTIVE)))
        det = {**details, **(f.details if holds else {}), "cond": holds}
        status, acked = a["status"], bool(a["acked"])
        too_many = len(flaps) + 1 > self.ruleset.flapping.changes

        if status == db.ALERT_PENDING:
            if not holds:
                return self._commit(d, a, _close_values(now), "condition went away while pending", now, rule, None)
            if now >= a["pending_ts"] + rule.for_s:
                return self._commit(d, a, {"status": db.ALERT_ACTIVE, "active_ts": now, "flaps": flaps + [now],
                                           "details": det}, f"held for {rule.for_s:g} s", now, rule, "open")
            return False

        if a["flapping"]:
            if holds != prev:  # counted, not notified
                return self._commit(d, a, {"flaps": flaps + [now], "details": det}, "flap", now, rule, None)
            if flaps and flaps[-1] > now - win:
                return self._timers(d, a, rule, now)
            quiet = {"flapping": False, "flaps": [], "details": det}
            if holds:
                return self._commit(d, a, quiet, "flapping ended, condition holds", now, rule, None)
            quiet.update(_close_values(now) if acked else {"status": db.ALERT_CLEARED, "cleared_ts": now})
            return self._commit(d, a, quiet, "flapping ended, condition cleared", now, rule, "clear")

        if status == db.ALERT_ACTIVE:
            if holds:
                return self._timers(d, a, rule, now)
            if too_many:
                return self._commit(d, a, {"flapping": True, "flaps": flaps + [now], "details": det},
                                    "flapping", now, rule, "flapping")
            values: dict[str, Any] = {"flaps": flaps + [now], "details": det, "cleared_ts": now}
            values.update(_close_values(now) if acked else {"status": db.ALERT_CLEARED})
            return self._commit(d, a, values, "condition cleared", now, rule, "clear")

        if status == db.ALERT_CLEARED and holds:  # the condition is back before anyone acknowledged
            values = {"status": db.ALERT_ACTIVE, "active_ts": now, "cleared_ts": None, "flaps": flaps + [now],
                      "details": det}
            if too_many:
                values["flapping"] = True
                return self._commit(d, a, values, "reopened, flapping", now, rule, "flapping")
            return self._commit(d, a, values, "condition returned: reopened", now, rule, "open")
        return False

    def _timers(self, d: Directory, a: dict[str, Any], rule: Any, now: float) -> bool:
        """Escalation (once) and reminders for an active alert nobody has acknowledged."""
        if a["status"] != db.ALERT_ACTIVE or a["acked"]:
            return False
        after = self.ruleset.escalate_after(rule)
        start = a["active_ts"] or a["pending_ts"]
        if after is not None and a["escalated_ts"] is None and now >= start + after:
            return self._commit(d, a, {"escalated_ts": now}, f"not acknowledged within {after:g} s: escalated",
                                now, rule, "escalate")
        every = self.ruleset.remind_every(rule)
        if every > 0 and not a["flapping"] and now >= (a["reminded_ts"] or start) + every:
            return self._commit(d, a, {"reminded_ts": now}, "reminder", now, rule, "reminder")
        return False

    def retire(self, a: dict[str, Any], note: str, now: float) -> bool:
        """Close an alert whose rule no longer exists (removed from the rules file)."""
        with self.engine.begin() as conn:
            return _change(conn, a, _close_values(now), SYSTEM, note, now) is not None
