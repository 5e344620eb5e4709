"""channel_health: per team channel, consecutive failures, the last error and success, and the send times
of the last minute — the rate budget that every monitor process sharing the database spends together.

Every transaction here that writes starts with its write (on SQLite that takes the write lock before
reading, on PostgreSQL it locks the row), so two processes never both spend the same budget.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from central.fleet import db

FAILING_AFTER = 3      # consecutive failures: the channel itself is shown as a fault
RATE_WINDOW_S = 60.0

_ch = db.channel_health


def _key(team_id: str, channel: str) -> Any:
    return and_(_ch.c.team_id == team_id, _ch.c.channel == channel)


def ensure_row(engine: Engine, team_id: str, channel: str) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(insert(_ch).values(team_id=team_id, channel=channel, failures=0, recent_sends=[]))
    except IntegrityError:
        pass  # it exists (perhaps another process just made it)


def reserve(engine: Engine, team_id: str, channel: str, limit: int, wanted: int, now: float) -> int:
    """Take up to `wanted` sends from the channel's budget of `limit` per minute (0 = unlimited); how many
    were granted. A granted send stays counted even if it then fails: the robot may have counted it too."""
    if limit <= 0:
        return wanted
    with engine.begin() as conn:
        conn.execute(update(_ch).where(_key(team_id, channel)).values(failures=_ch.c.failures))  # lock first
        row = conn.execute(select(_ch.c.recent_sends).where(_key(team_id, channel))).first()
        recent = [float(t) for t in (row.recent_sends if row and isinstance(row.recent_sends, list) else [])
                  if isinstance(t, int | float) and t > now - RATE_WINDOW_S]
        granted = max(0, min(wanted, limit - len(recent)))
        if granted or len(recent) != len(row.recent_sends if row else []):
            conn.execute(update(_ch).where(_key(team_id, channel)).values(recent_sends=recent + [now] * granted))
    return granted


def record_ok(engine: Engine, team_id: str, channel: str, now: float) -> None:
    with engine.begin() as conn:
        conn.execute(update(_ch).where(_key(team_id, channel)).values(failures=0, last_ok_ts=now))


def record_failure(engine: Engine, team_id: str, channel: str, reason: str, now: float) -> int:
    """Count one more consecutive failure; the new count."""
    with engine.begin() as conn:
        conn.execute(update(_ch).where(_key(team_id, channel)).values(
            failures=_ch.c.failures + 1, last_error=reason[:300], last_failure_ts=now))
        return int(conn.execute(select(_ch.c.failures).where(_key(team_id, channel))).scalar_one_or_none() or 0)


def failing_channels(engine: Engine, threshold: int = FAILING_AFTER) -> list[dict[str, Any]]:
    """Team channels with >= `threshold` consecutive failures, worst first, for the dashboard:
    [{"team_id", "team_name", "channel", "kind", "failures", "last_error", "last_failure_ts", "last_ok_ts"}]."""
    with engine.connect() as conn:
        rows = conn.execute(select(_ch).where(_ch.c.failures >= threshold)
                            .order_by(_ch.c.failures.desc(), _ch.c.team_id, _ch.c.channel)).all()
        teams = {t.id: t for t in conn.execute(select(db.teams.c.id, db.teams.c.name, db.teams.c.channels))}
    out = []
    for r in rows:
        team = teams.get(r.team_id)
        spec = next((c for c in (team.channels or []) if isinstance(c, dict) and c.get("name") == r.channel),
                    {}) if team else {}
        out.append({"team_id": r.team_id, "team_name": team.name if team else r.team_id, "channel": r.channel,
                    "kind": spec.get("kind", ""), "failures": r.failures, "last_error": r.last_error,
                    "last_failure_ts": r.last_failure_ts, "last_ok_ts": r.last_ok_ts})
    return out
