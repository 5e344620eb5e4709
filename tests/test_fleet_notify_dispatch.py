"""The dispatcher's promises, against real receivers and a real database (SQLite file and PostgreSQL):
one message per group, never past a robot's rate limit and nothing lost, retries with backoff, failed after
N attempts with the channel shown as failing, stale claims taken over, and two processes sending each row
exactly once. Monitor time is a FakeClock: no test waits for real minutes."""

# ruff: noqa: F811 - pytest fixtures imported from the receivers module are parameters here
from __future__ import annotations

import random
import re
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from central.fleet import db
from central.fleet.notify import Dispatcher
from central.fleet.notify.health import failing_channels
from tests.fixtures_mqtt import wait_until
from tests.test_fleet_notify_receivers import (  # noqa: F401 - fixtures
    FakeClock,
    Receiver,
    add_rows,
    add_team,
    channel_spec,
    dingtalk,
    engine,
    payload,
    rows,
    webhook,
    wecom,
)

SEED = 7331


def _d(engine: Engine, clock: FakeClock, pid: str = "monitor-a", **kw: Any) -> Dispatcher:
    print(f"{pid}: rng seed {SEED}")
    return Dispatcher(engine, pid, clock=clock, rng=random.Random(SEED), **kw)


def _robot_text(kind: str, body: dict[str, Any]) -> str:
    if kind == "wecom":
        return body["markdown"]["content"] if body["msgtype"] == "markdown" else body["text"]["content"]
    return body["markdown"]["text"]


def _alert_ids(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"/alerts/(\d+)\)", text)]


def test_a_hall_that_lost_its_wan_is_one_message_listing_every_kiosk(wecom: Receiver, engine: Engine) -> None:
    add_team(engine, "t1", [channel_spec("wecom", wecom)])
    clock = FakeClock()
    group = [payload(i, kiosk=f"k-{i:03d}", rule="kiosk_offline", what={"zh": "自助机离线", "bo": "", "en": ""})
             for i in range(1, 6)]
    add_rows(engine, group[:4], due=clock.t)
    add_rows(engine, group[4:], due=clock.t + 20)  # its own group_wait runs later: it joins the group
    assert _d(engine, clock).run_once() == 1
    [msg] = wecom.accepted
    text = msg["markdown"]["content"]
    assert "自助机离线（5 台）" in text and "八廓街道便民服务大厅" in text
    assert sorted(_alert_ids(text)) == [1, 2, 3, 4, 5]
    assert all(f"k-00{i}" in text for i in range(1, 6))
    assert [r.status for r in rows(engine)] == ["sent"] * 5


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_thirty_due_rows_for_one_robot_stay_within_20_a_minute_and_none_is_lost(
        kind: str, engine: Engine, request: pytest.FixtureRequest) -> None:
    robot: Receiver = request.getfixturevalue(kind)
    add_team(engine, "t1", [channel_spec(kind, robot)])
    clock = FakeClock()
    t0 = clock.t
    add_rows(engine, [payload(i, kiosk=f"k-{i:03d}", site=f"s-{i}") for i in range(1, 31)])
    d = _d(engine, clock)
    sends: list[float] = []  # monitor time of each message the robot took
    for step in [*range(0, 12), *range(50, 70), 130]:  # rounds a second apart, 10 more alerts at t0+5
        clock.t = t0 + step
        if step == 5:
            add_rows(engine, [payload(i, kiosk=f"k-{i:03d}", site=f"s-{i}") for i in range(31, 41)], due=clock.t)
        before = len(robot.accepted)
        d.run_once()
        sends += [clock.t] * (len(robot.accepted) - before)
    worst = max(sum(1 for s in sends if a <= s < a + 60) for a in sends)
    print(f"{kind}: {len(sends)} messages, at most {worst} in any minute")
    assert worst <= 20
    assert len(robot.seen) == len(robot.accepted)  # the robot never had to refuse one
    assert [r.status for r in rows(engine)] == ["sent"] * 40
    delivered = sorted(i for b in robot.accepted for i in _alert_ids(_robot_text(kind, b)))
    assert delivered == list(range(1, 41))  # every alert in exactly one message
    assert sends.count(t0) == 20 and t0 + 5 not in sends  # the budget was spent: the 10 waited


def test_a_failing_receiver_is_retried_with_backoff_and_later_delivered(wecom: Receiver, engine: Engine) -> None:
    add_team(engine, "t1", [channel_spec("wecom", wecom)])
    clock = FakeClock()
    add_rows(engine, [payload(1)])
    wecom.script = [500, {"errcode": -1, "errmsg": "system busy"}]  # HTTP 500, then "200 but errcode != 0"
    d = _d(engine, clock, backoff_base_s=10)
    delays = []
    for expected_error in ("HTTP 500", "errcode -1"):
        start = clock.t
        assert d.run_once() == 0
        [row] = rows(engine)
        assert row.status == "pending" and expected_error in row.last_error
        delays.append(row.next_attempt_ts - start)
        assert d.run_once() == 0 and d.run_once(now=row.next_attempt_ts - 0.1) == 0  # not before its time
        clock.t = row.next_attempt_ts
    print(f"backoff delays {delays}")
    assert 5 <= delays[0] <= 10 <= delays[1] <= 20  # doubling, with jitter
    assert d.run_once() == 1
    [row] = rows(engine)
    assert row.status == "sent" and row.attempts == 3
    assert len(wecom.seen) == 3 and len(wecom.accepted) == 1
    with engine.connect() as conn:
        h = conn.execute(select(db.channel_health)).one()
    assert h.failures == 0 and h.last_ok_ts == clock.t and "errcode -1" in h.last_error


def test_a_receiver_that_keeps_failing_fails_the_rows_and_shows_as_failing(
        webhook: Receiver, engine: Engine) -> None:
    add_team(engine, "t1", [channel_spec("webhook", webhook, name="ops-hook")])
    clock = FakeClock()
    add_rows(engine, [payload(1), payload(2, kind="clear")], channel="ops-hook")
    webhook.always = 500
    d = _d(engine, clock, max_attempts=4)
    for _ in range(20):
        d.run_once()
        pending = [r.next_attempt_ts for r in rows(engine) if r.status == "pending"]
        if pending:
            clock.t = max(pending)
    assert [(r.status, r.attempts) for r in rows(engine)] == [("failed", 4), ("failed", 4)]
    assert [r.last_error for r in rows(engine)] == ["HTTP 500"] * 2
    tries = len(webhook.seen)
    clock.advance(3600)
    d.run_once()
    assert len(webhook.seen) == tries  # failed rows are not tried again
    [f] = failing_channels(engine)
    assert (f["team_id"], f["channel"], f["kind"]) == ("t1", "ops-hook", "webhook")
    assert f["failures"] == len(webhook.seen) >= 4  # every try in a row failed
    assert f["last_error"] == "HTTP 500" and f["team_name"] == "Team t1"
    webhook.always = None  # it recovers: one good send and it is no longer listed
    add_rows(engine, [payload(3)], channel="ops-hook", due=clock.t)
    assert d.run_once() == 1 and failing_channels(engine) == []


def test_a_stale_claim_of_a_dead_process_is_taken_over(webhook: Receiver, engine: Engine) -> None:
    add_team(engine, "t1", [channel_spec("webhook", webhook)])
    clock = FakeClock()
    [rid] = add_rows(engine, [payload(1)])
    with engine.begin() as conn:  # another monitor claimed it and died before sending
        conn.execute(update(db.notifications).where(db.notifications.c.id == rid)
                     .values(claimed_by="monitor-dead", claimed_ts=clock.t))
    d = _d(engine, clock, pid="monitor-b")
    assert d.run_once(now=clock.t + 30) == 0 and not webhook.seen
    assert d.run_once(now=clock.t + 61) == 1
    [row] = rows(engine)
    assert row.status == "sent" and row.claimed_by is None


def test_two_monitor_processes_racing_send_each_row_exactly_once(
        webhook: Receiver, wecom: Receiver, fleet_db_url: str) -> None:
    one, two = db.connect(fleet_db_url), db.connect(fleet_db_url)  # two engines: two processes' pools
    try:
        add_team(one, "t1", [channel_spec("webhook", webhook, name="hook"), channel_spec("wecom", wecom, name="wx")])
        clock = FakeClock()
        t0 = clock.t
        add_rows(one, [payload(i, kiosk=f"k-{i:03d}", site=f"s-{i}") for i in range(1, 31)], channel="hook")
        add_rows(one, [payload(i, kiosk=f"k-{i:03d}", site=f"s-{i}") for i in range(101, 131)], channel="wx")
        a, b = _d(one, clock, "monitor-a"), _d(two, clock, "monitor-b")
        a.start()
        b.start()
        try:
            def settled() -> bool:
                st = [r.status for r in rows(one)]
                return st.count("sent") + st.count("pending") == 60 and all(
                    r.status == "sent" for r in rows(one) if r.channel == "hook") and all(
                    r.claimed_by is None for r in rows(one))  # between rounds: nothing in flight
            wait_until(settled, what="the webhook rows sent")
            assert len(wecom.accepted) <= 20  # the frozen minute's shared budget, across both processes
            clock.t = t0 + 61  # the next minute: whatever waited goes out
            wait_until(lambda: all(r.status == "sent" for r in rows(one)), what="every row sent",
                       seen=lambda: [r.status for r in rows(one)])
        finally:
            a.stop()
            b.stop()
        hook_ids = sorted(al["alert_id"] for body in webhook.accepted for al in body["alerts"])
        assert hook_ids == list(range(1, 31))
        wx_ids = sorted(i for body in wecom.accepted for i in _alert_ids(_robot_text("wecom", body)))
        assert wx_ids == list(range(101, 131))
        assert len(wecom.accepted) <= 40 and len(wecom.seen) == len(wecom.accepted)
        senders = {r.claimed_by for r in rows(one)}
        assert senders == {None}
    finally:
        one.dispose()
        two.dispose()


def test_bad_rows_get_a_clear_error_and_do_not_stop_the_dispatcher(webhook: Receiver, engine: Engine) -> None:
    add_team(engine, "t1", [channel_spec("webhook", webhook), {"name": "broken", "kind": "wecom", "url": "nope"}])
    clock = FakeClock()
    add_rows(engine, ["not an object"])  # type: ignore[list-item]
    add_rows(engine, [payload(2)], channel="no-such-channel")
    add_rows(engine, [payload(3)], channel="broken")
    add_rows(engine, [payload(4)])
    d = _d(engine, clock, max_attempts=2)
    d.start()
    try:
        wait_until(lambda: len(webhook.accepted) == 1, what="the good row delivered")
    finally:
        d.stop()
    by_id = {r.payload["alert_id"] if isinstance(r.payload, dict) else 0: r for r in rows(engine)}
    assert by_id[0].status == "failed" and by_id[0].last_error == "payload is not a JSON object"
    assert by_id[2].status == "pending" and "has no channel 'no-such-channel'" in by_id[2].last_error
    assert by_id[3].status == "pending" and "`url` must start with http" in by_id[3].last_error
    assert by_id[4].status == "sent"
    assert webhook.accepted[0]["alerts"][0]["alert_id"] == 4
