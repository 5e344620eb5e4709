"""The forwarder against the real reference platform: delivery, WAN down/up, order, dead letters,
status refresh. Small backoffs so a test never waits long."""

from __future__ import annotations

import json
import random
import sqlite3
import time
import urllib.request
from collections.abc import Callable

from edge.forwarder import Forwarder
from edge.outbox import KIND_APPLICATION, KIND_FEEDBACK, Outbox
from edge.platform_adapter import HttpPlatformAdapter
from kiosk import wire
from kiosk.netutil import free_port
from tests.fixtures_edge import make_id
from tests.fixtures_outbox import SEED


def wait_for(cond: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def platform_rows(tmp_path) -> list[tuple]:
    db = sqlite3.connect(tmp_path / "platform.sqlite3")
    try:
        return db.execute("SELECT idempotency_key, tracking_number FROM applications ORDER BY rowid").fetchall()
    except sqlite3.OperationalError:  # the platform never started: no table yet
        return []
    finally:
        db.close()


def replays(url: str) -> int:
    """How often the platform was sent an application it already had (no kills here: must stay 0)."""
    from central.platform import PLATFORM_STATS
    with urllib.request.urlopen(url + PLATFORM_STATS, timeout=5) as resp:
        return json.loads(resp.read())["application"]["replays"]


def queue(outbox: Outbox, n: int, code: str = "SS-0101", start: int = 0) -> list[str]:
    tracking = []
    for i in range(start, start + n):
        payload = {"schema": wire.SUBMISSION_SCHEMA, "service_id": "old-age-allowance",
                   "platform_service_code": code, "fields": {"n": i},
                   "applicant": {"id_number": make_id(i), "name": "测试"}}
        sub, _ = outbox.submit(f"key-{i:08d}", KIND_APPLICATION, payload, service_id="old-age-allowance",
                               id_number=make_id(i))
        tracking.append(sub.tracking_number)
    return tracking


def test_platform_up_items_arrive_in_order_and_are_marked_received(tmp_path, outbox, platform_factory,
                                                                    make_forwarder):
    platform = platform_factory()
    tracking = queue(outbox, 5)
    fw = make_forwarder(platform.url)
    wait_for(lambda: outbox.stats()["depth"] == 0)
    assert [r[0] for r in platform_rows(tmp_path)] == [f"key-{i:08d}" for i in range(5)]
    assert [r[1] for r in platform_rows(tmp_path)] == tracking  # the receipt's number is the platform's
    assert all(outbox.get(t).status == wire.STATUS_RECEIVED for t in tracking)
    assert fw.state()["wan"] == "up" and fw.status().code == "ok"
    assert replays(platform.url) == 0  # each delivered once, not merely stored once


def test_platform_down_then_back_on_the_same_port_delivers_exactly_once(tmp_path, outbox, platform_factory,
                                                                         make_forwarder):
    port = free_port()
    fw = make_forwarder(f"http://127.0.0.1:{port}")
    tracking = queue(outbox, 3)
    fw.wake()
    wait_for(lambda: fw.state()["wan"] == "down")
    assert fw.status().code == "wan_down" and fw.status().bo and fw.status().zh
    assert outbox.stats()["depth"] == 3 and platform_rows(tmp_path) == []
    assert outbox.get(tracking[0]).status == wire.STATUS_QUEUED
    wait_for(lambda: fw.state()["consecutive_failures"] >= 3)  # it keeps trying, with backoff

    platform = platform_factory(port=port)
    wait_for(lambda: outbox.stats()["depth"] == 0)
    assert fw.state()["wan"] == "up"
    rows = platform_rows(tmp_path)
    assert len(rows) == 3 and len({r[0] for r in rows}) == 3
    assert replays(platform.url) == 0


def test_new_item_is_forwarded_promptly_when_woken(tmp_path, outbox, platform_factory, make_forwarder):
    platform = platform_factory()
    fw = make_forwarder(platform.url, idle_poll_s=30)  # only wake() can make it look again soon
    queue(outbox, 1)  # nothing queued before start: first loop idles
    fw.wake()
    wait_for(lambda: outbox.stats()["depth"] == 0, timeout=5)


def test_permanent_refusal_becomes_a_dead_letter_and_the_queue_moves_on(tmp_path, outbox, platform_factory,
                                                                         make_forwarder):
    platform = platform_factory()
    good_before = queue(outbox, 1)
    bad = queue(outbox, 1, code="", start=1)  # the platform refuses an application without a service code
    good_after = queue(outbox, 1, start=2)
    make_forwarder(platform.url)
    wait_for(lambda: outbox.stats()["depth"] == 0)
    stats = outbox.stats()
    assert stats["dead_letters"] == 1
    assert outbox.get(bad[0]).status == wire.STATUS_UNDELIVERABLE
    assert "invalid_application" in outbox.get(bad[0]).dead_reason
    assert {r[1] for r in platform_rows(tmp_path)} == {good_before[0], good_after[0]}


def test_status_refresh_brings_platform_decisions_into_the_local_record(outbox, platform_factory,
                                                                        make_forwarder):
    platform = platform_factory()
    tracking = queue(outbox, 1)[0]
    make_forwarder(platform.url)
    wait_for(lambda: outbox.get(tracking).status == wire.STATUS_RECEIVED)
    adapter = HttpPlatformAdapter(platform.url)
    import urllib.request
    req = urllib.request.Request(platform.url + wire.PLATFORM_SET_STATUS.format(tracking_number=tracking),
                                 data=b'{"status": "approved"}', method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()
    wait_for(lambda: outbox.get(tracking).status == wire.STATUS_APPROVED)
    rec = outbox.get(tracking)
    assert [h["status"] for h in rec.history] == ["queued", "received", "approved"]
    assert rec.status_checked_at
    assert adapter.get_status(tracking).status == wire.STATUS_APPROVED


def test_feedback_is_forwarded_with_its_key(tmp_path, outbox, platform_factory, make_forwarder):
    platform = platform_factory()
    outbox.submit("key-feedback1", KIND_FEEDBACK, {"schema": wire.FEEDBACK_SCHEMA, "rating": 5, "reasons": []})
    make_forwarder(platform.url)
    wait_for(lambda: outbox.stats()["depth"] == 0)
    db = sqlite3.connect(tmp_path / "platform.sqlite3")
    assert db.execute("SELECT idempotency_key FROM feedback").fetchall() == [("key-feedback1",)]


def test_backoff_grows_and_is_capped():
    print(f"jitter seed {SEED}")
    fw = Forwarder(None, None, backoff_base_s=1, backoff_cap_s=8,  # type: ignore[arg-type]  (no I/O here)
                   rng=random.Random(SEED))
    delays = []
    for failures in (1, 2, 3, 4, 10):
        fw._failures = failures
        delays.append(max(fw.backoff_s() for _ in range(50)))
    assert delays[0] <= 1 < delays[2] <= 4 and all(d <= 8 for d in delays)
    assert delays[-1] > 4  # at the cap, jitter stays in the upper half


def test_evidence_the_platform_is_back_ends_a_long_backoff(tmp_path, outbox, platform_factory, make_forwarder):
    port = free_port()
    fw = make_forwarder(f"http://127.0.0.1:{port}", backoff_base_s=30, backoff_cap_s=60)
    queue(outbox, 2)
    fw.wake()
    wait_for(lambda: fw.state()["wan"] == "down")
    platform = platform_factory(port=port)
    time.sleep(0.3)
    assert outbox.stats()["depth"] == 2  # still backing off (15-30 s)...
    fw.platform_reachable()  # ...until e.g. a progress lookup just reached the platform
    wait_for(lambda: outbox.stats()["depth"] == 0, timeout=5)
    assert [r[0] for r in platform_rows(tmp_path)] == ["key-00000000", "key-00000001"]
    assert replays(platform.url) == 0
