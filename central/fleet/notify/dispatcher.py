"""The dispatcher: sends the notification rows M1 writes, once each, within every robot's rate limit.

A round (`run_once`): claim due pending rows with one conditional UPDATE (`claimed_by`/`claimed_ts`; a
claim older than 60 s is stale and may be taken over, so a crashed process delays its rows by a minute
but never loses them, and two processes never both send one row); pull forward the not-yet-due fresh rows
of the same group (Alertmanager's group_wait: the group goes out when its first row is due); then per team
channel: merge rows of one `group_key` into one message, take sends from the channel's shared per-minute
budget (channel_health.recent_sends), and when the budget cannot cover every group, send what it can and
merge the rest into the last message it may send — or, with no budget left, leave the rows pending for the
next round, which batches them with whatever came meanwhile. Never a burst past a robot's limit
(DingTalk throttles a robot for 10 minutes after one).
A failed send is retried with exponential backoff and jitter (`rng` injectable, so tests are repeatable);
after `max_attempts` the rows are `failed`. channel_health counts consecutive failures; >= 3 is "failing".
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update

from central.fleet import db
from central.fleet.notify import health
from central.fleet.notify.channels import Channel, ChannelError, clean_reason, make_channel
from central.fleet.notify.texts import render
from kiosk.backoff import Backoff

log = logging.getLogger("central.fleet.notify")
_n = db.notifications

STALE_CLAIM_S = 60.0
GROUP_PULL_S = 600.0  # how far ahead a fresh group member's own due time may be and still join its group


class Dispatcher:
    def __init__(self, engine: Engine, process_id: str, *, clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None, max_attempts: int = 8, backoff_base_s: float = 10.0,
                 backoff_cap_s: float = 900.0, claim_limit: int = 500, interval_s: float = 0.5,
                 wall_clock: Callable[[], float] = time.time) -> None:
        if not process_id or len(process_id) > 64:
            raise ValueError("process_id must be 1..64 characters")
        self.engine = engine
        self.process_id = process_id
        self.clock = clock
        self.wall_clock = wall_clock  # signatures (DingTalk checks our timestamp against its real clock)
        self.max_attempts = max_attempts
        # equal jitter, so processes and rows that failed together do not retry together
        self._backoff = Backoff(backoff_base_s, backoff_cap_s, rng)
        self.claim_limit = claim_limit
        self.interval_s = interval_s
        self._health_rows: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the thread -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"fleet-notify-{self.process_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as e:  # the database may be away for a while: the next round tries again
                log.error("notification round failed: %s", clean_reason(f"{type(e).__name__}: {e}"))
            self._stop.wait(self.interval_s)

    # --- one round --------------------------------------------------------------------------------
    def run_once(self, now: float | None = None) -> int:
        """Send what is due; how many messages went out."""
        now = self.clock() if now is None else now
        started = time.monotonic()
        rows = self._claim(now)
        if not rows:
            return 0
        with self.engine.connect() as conn:
            teams = {t.id: t for t in conn.execute(select(db.teams))}
        by_channel: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for r in rows:
            by_channel[(r.team_id, r.channel)].append(r)
        sent = 0
        for (team_id, channel), chan_rows in by_channel.items():
            if time.monotonic() - started > STALE_CLAIM_S / 2:  # our claims could soon be taken over
                self._release([r.id for r in chan_rows])
                continue
            try:
                sent += self._dispatch(team_id, channel, chan_rows, teams.get(team_id), now, started)
            except Exception as e:  # a bug or a database hiccup for one channel must not stop the others
                log.error("notification channel round failed", extra={
                    "team": team_id, "channel": channel, "error": clean_reason(f"{type(e).__name__}: {e}")})
                self._release([r.id for r in chan_rows])
        return sent

    def _claim(self, now: float) -> list[Any]:
        me = self.process_id
        claimable = and_(_n.c.status == "pending", or_(_n.c.claimed_by.is_(None), _n.c.claimed_by == me,
                                                      _n.c.claimed_ts < now - STALE_CLAIM_S))
        due = (select(_n.c.id).where(claimable, _n.c.next_attempt_ts <= now)
               .order_by(_n.c.next_attempt_ts, _n.c.id).limit(self.claim_limit))
        with self.engine.begin() as conn:
            got = conn.execute(update(_n).where(_n.c.id.in_(due), claimable)
                               .values(claimed_by=me, claimed_ts=now)).rowcount
        if not got:
            return []
        self._pull_group_members(now, claimable)
        with self.engine.connect() as conn:
            return list(conn.execute(select(_n).where(_n.c.claimed_by == me, _n.c.status == "pending")
                                     .order_by(_n.c.created_ts, _n.c.id)))

    def _pull_group_members(self, now: float, claimable: Any) -> None:
        """Fresh rows (never tried) of a group that is going out now join it instead of waiting."""
        me = self.process_id
        with self.engine.connect() as conn:
            mine = conn.execute(select(_n.c.team_id, _n.c.channel, _n.c.payload)
                                .where(_n.c.claimed_by == me, _n.c.status == "pending")).all()
            keys = {(r.team_id, r.channel, _group_key(r.payload)) for r in mine if _group_key(r.payload)}
            if not keys:
                return
            waiting = conn.execute(select(_n.c.id, _n.c.team_id, _n.c.channel, _n.c.payload).where(
                claimable, _n.c.attempts == 0, _n.c.next_attempt_ts > now,
                _n.c.next_attempt_ts <= now + GROUP_PULL_S)).all()
        ids = [w.id for w in waiting if (w.team_id, w.channel, _group_key(w.payload)) in keys]
        if ids:
            with self.engine.begin() as conn:
                conn.execute(update(_n).where(_n.c.id.in_(ids), claimable).values(claimed_by=me, claimed_ts=now))

    def _dispatch(self, team_id: str, channel_name: str, rows: list[Any], team: Any, now: float,
                  started: float) -> int:
        spec = next((c for c in (team.channels or []) if isinstance(c, dict) and c.get("name") == channel_name),
                    None) if team is not None else None
        if spec is None:  # the inventory changed since the row was written: retry, it may come back
            self._failed_attempt(rows, f"team {team_id!r} has no channel {channel_name!r}", now)
            return 0
        self._ensure_health(team_id, channel_name)
        try:
            chan: Channel = make_channel(spec, team_id=team_id, clock=self.wall_clock)
        except ValueError as e:
            self._failed_attempt(rows, str(e), now)
            health.record_failure(self.engine, team_id, channel_name, clean_reason(str(e)), now)
            return 0
        good = [r for r in rows if isinstance(r.payload, dict)]
        bad = [r for r in rows if not isinstance(r.payload, dict)]
        if bad:
            self._finish(bad, "failed", now, error="payload is not a JSON object")
        groups = _groups(good)
        if not groups:
            return 0
        granted = health.reserve(self.engine, team_id, channel_name, chan.rate_per_min, len(groups), now)
        if granted == 0:  # budget spent: wait, and batch these with what comes meanwhile
            self._release([r.id for r in good])
            return 0
        if granted < len(groups):  # the last message we may send carries every group left
            batches = groups[:granted - 1] + [[r for g in groups[granted - 1:] for r in g]]
        else:
            batches = groups
        lang = team.lang if team.lang in ("zh", "bo") else "zh"
        sent = 0
        for i, batch in enumerate(batches):
            if time.monotonic() - started > STALE_CLAIM_S / 2:
                self._release([r.id for b in batches[i:] for r in b])
                break
            try:
                message = render([[r.payload for r in g] for g in _groups(batch)], lang)
            except Exception as e:  # a payload we cannot make words of: retrying will not help
                self._finish(batch, "failed", now, error=clean_reason(f"cannot render: {type(e).__name__}: {e}"))
                continue
            if not self._renew(batch):  # a process took these over (we were too slow): it sends them
                continue
            try:
                chan.send(message)
            except Exception as e:  # ChannelError, or a bug in a channel: the row waits, the round goes on
                err = e if isinstance(e, ChannelError) else ChannelError(f"{type(e).__name__}: {e}")
                delay = self._failed_attempt(batch, err.reason, now, err.retry_after)
                health.record_failure(self.engine, team_id, channel_name, err.reason, now)
                log.warning("notification not delivered", extra={
                    "team": team_id, "channel": channel_name, "rows": len(batch), "error": err.reason})
                rest = [r.id for b in batches[i + 1:] for r in b]
                if rest:  # the receiver is failing now: do not hammer it with the rest of this round
                    self._postpone(rest, now + delay)
                break
            self._finish(batch, "sent", now)
            health.record_ok(self.engine, team_id, channel_name, now)
            log.info("notification sent", extra={"team": team_id, "channel": channel_name, "rows": len(batch)})
            sent += 1
        return sent

    # --- row outcomes (every UPDATE is conditional on our claim) ------------------------------------
    def _mine(self, ids: list[int]) -> Any:
        return and_(_n.c.id.in_(ids), _n.c.claimed_by == self.process_id, _n.c.status == "pending")

    def _renew(self, batch: list[Any]) -> bool:
        """Refresh our claim just before sending; False (and the batch let go) if any row is no longer ours."""
        ids = [r.id for r in batch]
        with self.engine.begin() as conn:
            held = conn.execute(update(_n).where(self._mine(ids)).values(claimed_ts=self.clock())).rowcount
        if held != len(ids):
            self._release(ids)
            return False
        return True

    def _release(self, ids: list[int]) -> None:
        if ids:
            with self.engine.begin() as conn:
                conn.execute(update(_n).where(self._mine(ids)).values(claimed_by=None, claimed_ts=None))

    def _postpone(self, ids: list[int], until: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(_n).where(self._mine(ids)).values(
                claimed_by=None, claimed_ts=None, next_attempt_ts=until))

    def _finish(self, rows: list[Any], status: str, now: float, error: str | None = None) -> None:
        values: dict[str, Any] = {"status": status, "attempts": _n.c.attempts + 1, "claimed_by": None,
                                  "claimed_ts": None}
        if status == "sent":
            values["sent_ts"] = now
        if error is not None:
            values["last_error"] = error
        with self.engine.begin() as conn:
            conn.execute(update(_n).where(self._mine([r.id for r in rows])).values(**values))

    def _failed_attempt(self, rows: list[Any], reason: str, now: float, retry_after: float | None = None) -> float:
        """Count a failed try for each row: retry later, or `failed` after max_attempts. The longest delay."""
        reason = clean_reason(reason)
        longest = 0.0
        with self.engine.begin() as conn:
            for r in rows:
                attempts = r.attempts + 1
                where = and_(_n.c.id == r.id, _n.c.claimed_by == self.process_id, _n.c.status == "pending")
                if attempts >= self.max_attempts:
                    conn.execute(update(_n).where(where).values(status="failed", attempts=attempts,
                                                                 last_error=reason, claimed_by=None, claimed_ts=None))
                    continue
                delay = max(self._backoff.delay(attempts), retry_after or 0.0)
                longest = max(longest, delay)
                conn.execute(update(_n).where(where).values(attempts=attempts, last_error=reason,
                                                             next_attempt_ts=now + delay, claimed_by=None,
                                                             claimed_ts=None))
        return longest

    def _ensure_health(self, team_id: str, channel: str) -> None:
        if (team_id, channel) not in self._health_rows:
            health.ensure_row(self.engine, team_id, channel)
            self._health_rows.add((team_id, channel))


def _group_key(payload: Any) -> str:
    key = payload.get("group_key") if isinstance(payload, dict) else None
    return key if isinstance(key, str) else ""


def _groups(rows: list[Any]) -> list[list[Any]]:
    """Rows by group_key, in the order their first row came; a row without a key is its own group."""
    groups: dict[str, list[Any]] = {}
    for r in rows:
        groups.setdefault(_group_key(r.payload) or f"row:{r.id}", []).append(r)
    return [sorted(g, key=lambda r: (str(r.payload.get("kiosk_id", "")), r.id)) for g in groups.values()]
