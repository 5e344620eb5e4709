"""The forwarder when things go wrong in ways that are not a refusal: a platform (or a proxy in front of
it) answering 401/403/404/413 or HTML, clocks stepped backwards, kicks while idle, our own bugs after
network outages, an ack that cannot be written. Real reference platform, real HTTP, real SQLite."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Callable

import pytest
from aiohttp import web

from central.platform import PLATFORM_STATS, PlatformDB, make_app
from edge.forwarder import _MAX_INTERNAL_ERRORS
from edge.outbox import KIND_APPLICATION, Outbox
from edge.platform_adapter import HttpPlatformAdapter, PlatformUnavailable
from kiosk import wire
from kiosk.netutil import free_port
from tests.fixtures_edge import ServerThread, make_id


def wait_for(cond: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def queue(outbox: Outbox, n: int, start: int = 0) -> list[str]:
    tracking = []
    for i in range(start, start + n):
        payload = {"schema": wire.SUBMISSION_SCHEMA, "service_id": "old-age-allowance",
                   "platform_service_code": "SS-0101", "fields": {"n": i},
                   "applicant": {"id_number": make_id(i), "name": "测试"}}
        sub, _ = outbox.submit(f"key-{i:08d}", KIND_APPLICATION, payload, service_id="old-age-allowance",
                               id_number=make_id(i))
        tracking.append(sub.tracking_number)
    return tracking


def platform_keys(tmp_path) -> list[str]:
    db = sqlite3.connect(tmp_path / "platform.sqlite3")
    try:
        return [k for (k,) in db.execute("SELECT idempotency_key FROM applications ORDER BY rowid")]
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def intake_stats(url: str) -> dict:
    with urllib.request.urlopen(url + PLATFORM_STATS, timeout=5) as resp:
        return json.loads(resp.read())["application"]


def attempts(outbox: Outbox) -> int:
    items = outbox.next_batch(1, now=float("inf"))
    return items[0].attempts if items else 0




@pytest.fixture
def make_forwarder(make_forwarder):
    """The shared forwarder without status refreshes: these tests count every request the platform sees."""
    return lambda adapter, **kw: make_forwarder(adapter, **{"refresh_interval_s": 3600, **kw})


# --- 1: only a real refusal is permanent -----------------------------------------------------------------
FAILURES = [  # (what the gate answers, expected WAN status code)
    (lambda: web.json_response(wire.error_body("unauthorized", "token expired"), status=401), "platform_auth"),
    (lambda: web.Response(status=403, text="<html>Forbidden by proxy</html>", content_type="text/html"),
     "platform_auth"),
    (lambda: web.Response(status=404, text="<html>Not Found</html>", content_type="text/html"),
     "platform_unexpected"),
    (lambda: web.Response(status=405, text="405: Method Not Allowed"), "platform_unexpected"),
    (lambda: web.Response(status=413, text="Request Entity Too Large"), "platform_unexpected"),
    (lambda: web.Response(status=400, text="<html>Bad Request (proxy)</html>", content_type="text/html"),
     "platform_unexpected"),
    (lambda: web.json_response({"message": "gateway says no"}, status=422), "platform_unexpected"),
    (lambda: web.Response(status=200, text="<html>captive portal</html>", content_type="text/html"),
     "platform_unexpected"),
]


def test_answers_that_are_not_the_platforms_refusal_keep_everything_queued(tmp_path, outbox, make_forwarder):
    """A gate (proxy, expired credential, wrong URL) in front of the real platform: nothing is
    dead-lettered, the status says why, and once the platform answers everything arrives in order."""
    gate: dict = {"answer": None}

    @web.middleware
    async def middleware(request, handler):
        answer = gate["answer"]
        return answer() if answer is not None else await handler(request)

    dbs: list[PlatformDB] = []

    def app() -> web.Application:
        dbs.append(PlatformDB(tmp_path / "platform.sqlite3"))
        application = make_app(dbs[-1])
        application.middlewares.append(middleware)
        return application

    gate["answer"] = FAILURES[0][0]
    srv = ServerThread(app).start()
    try:
        tracking = queue(outbox, 3)
        fw = make_forwarder(HttpPlatformAdapter(srv.url, timeout=2))
        for answer, code in FAILURES:
            gate["answer"] = answer
            seen = attempts(outbox)
            wait_for(lambda code=code, seen=seen: fw.status().code == code and attempts(outbox) >= seen + 2)
            assert outbox.stats()["dead_letters"] == 0 and outbox.stats()["depth"] == 3
            assert fw.state()["wan"] == "down"
            assert fw.status().zh and fw.status().bo and fw.status().en
        assert platform_keys(tmp_path) == []
        gate["answer"] = None  # the platform itself answers again
        wait_for(lambda: outbox.stats()["depth"] == 0)
        assert platform_keys(tmp_path) == [f"key-{i:08d}" for i in range(3)]
        assert all(outbox.get(t).status == wire.STATUS_RECEIVED for t in tracking)
        assert outbox.stats()["dead_letters"] == 0 and fw.status().code == "ok"
    finally:
        srv.stop()
        for db in dbs:
            db.close()


# --- 3: scheduling survives clock steps, kicks always wake --------------------------------------------------
def test_an_item_left_due_far_in_the_future_by_a_clock_step_is_still_sent(tmp_path, outbox, platform_factory,
                                                                          make_forwarder):
    port = free_port()
    fw = make_forwarder(HttpPlatformAdapter(f"http://127.0.0.1:{port}", timeout=2), backoff_base_s=1.0,
                        backoff_cap_s=1.0)
    queue(outbox, 2)
    fw.wake()
    wait_for(lambda: attempts(outbox) >= 1)  # deferred: the forwarder now waits 0.5-1 s
    with outbox._lock:  # the wall clock stepped back ~12 days: the stored deadline is now far ahead
        outbox._db.execute("UPDATE outbox SET next_attempt_at = ?", (time.time() + 1e6,))
    platform_factory(port=port)
    wait_for(lambda: outbox.stats()["depth"] == 0)
    assert platform_keys(tmp_path) == ["key-00000000", "key-00000001"]


def test_a_kick_during_the_idle_wait_sends_at_once(tmp_path, outbox, platform_factory, make_forwarder):
    platform = platform_factory()
    fw = make_forwarder(HttpPlatformAdapter(platform.url, timeout=2), idle_poll_s=600)
    queue(outbox, 1)
    fw.wake()
    wait_for(lambda: outbox.stats()["depth"] == 0)  # it runs, and is now idle for up to 600 s
    with outbox._lock:  # atomically queued with a far-off deadline (a clock step), and no wake()
        queue(outbox, 1, start=1)
        outbox.defer("key-00000001", "platform unreachable: timeout", 1e6)
    fw.platform_reachable()  # e.g. a progress lookup just reached the platform
    wait_for(lambda: outbox.stats()["depth"] == 0, timeout=30)
    assert platform_keys(tmp_path) == ["key-00000000", "key-00000001"]


# --- 4: deferrals are not failures; an accepted item is never dead-lettered --------------------------------
class CrashOnce:
    """The real adapter, except that one call raises a bug of ours (armed by the test)."""

    def __init__(self, real: HttpPlatformAdapter, always: bool = False) -> None:
        self.real = real
        self.always = always
        self.armed = threading.Event()

    def submit_application(self, key: str, payload: dict):
        if (self.always and payload["fields"]["n"] == 0) or self.armed.is_set():
            self.armed.clear()
            raise KeyError("a bug in the adapter")
        return self.real.submit_application(key, payload)

    def __getattr__(self, name: str):
        return getattr(self.real, name)


def test_one_bug_after_many_network_deferrals_does_not_dead_letter(tmp_path, outbox, platform_factory,
                                                                   make_forwarder):
    port = free_port()
    adapter = CrashOnce(HttpPlatformAdapter(f"http://127.0.0.1:{port}", timeout=2))
    fw = make_forwarder(adapter)
    queue(outbox, 2)
    fw.wake()
    wait_for(lambda: attempts(outbox) >= _MAX_INTERNAL_ERRORS + 1)  # a long outage
    adapter.armed.set()
    wait_for(lambda: not adapter.armed.is_set())  # the bug happened
    platform_factory(port=port)
    wait_for(lambda: outbox.stats()["depth"] == 0)
    assert outbox.stats()["dead_letters"] == 0
    assert platform_keys(tmp_path) == ["key-00000000", "key-00000001"]


def test_an_item_that_keeps_crashing_is_parked_and_the_queue_moves_on(tmp_path, outbox, platform_factory,
                                                                      make_forwarder):
    platform = platform_factory()
    tracking = queue(outbox, 2)
    make_forwarder(CrashOnce(HttpPlatformAdapter(platform.url, timeout=2), always=True))
    wait_for(lambda: outbox.stats()["depth"] == 0)
    assert outbox.stats()["dead_letters"] == 1
    assert "internal error" in outbox.get(tracking[0]).dead_reason
    assert platform_keys(tmp_path) == ["key-00000001"]


def test_an_ack_that_fails_after_the_platform_accepted_is_retried_not_rejected(tmp_path, outbox, platform_factory,
                                                                               make_forwarder, monkeypatch):
    port = free_port()
    fw = make_forwarder(HttpPlatformAdapter(f"http://127.0.0.1:{port}", timeout=2))
    tracking = queue(outbox, 2)
    fw.wake()
    wait_for(lambda: attempts(outbox) >= _MAX_INTERNAL_ERRORS + 1)  # after a long outage...
    real_ack, failures = outbox.ack, []

    def ack(key: str, *args, **kw) -> None:
        if len(failures) < 3:  # ...the disk is briefly unwritable just as the platform takes the item
            failures.append(key)
            raise sqlite3.OperationalError("disk I/O error")
        real_ack(key, *args, **kw)

    monkeypatch.setattr(outbox, "ack", ack)
    platform = platform_factory(port=port)
    wait_for(lambda: outbox.stats()["depth"] == 0)
    assert failures == ["key-00000000"] * 3
    assert outbox.stats()["dead_letters"] == 0
    assert [outbox.get(t).status for t in tracking] == [wire.STATUS_RECEIVED] * 2
    assert platform_keys(tmp_path) == ["key-00000000", "key-00000001"]
    assert intake_stats(platform.url)["replays"] == 0  # only the ack was retried, not the delivery


# --- 7: dead-letter retention runs from the forwarder ------------------------------------------------------
def test_the_forwarder_wipes_expired_dead_letters_when_it_starts(tmp_path, outbox, platform_factory,
                                                                  make_forwarder):
    platform = platform_factory()
    tracking = queue(outbox, 1)[0]
    outbox.reject("key-00000000", "invalid_application: unknown service code")
    outbox._db.execute("UPDATE outbox SET dead_at = ?", (time.time() - 31 * 86400,))
    make_forwarder(HttpPlatformAdapter(platform.url, timeout=2), dead_letter_retention_s=30 * 86400.0)
    wait_for(lambda: outbox.dead_letters()[0]["wiped"])
    data = b"".join(p.read_bytes() for p in (tmp_path).glob("outbox.sqlite3*"))
    assert make_id(0).encode() not in data
    assert outbox.get(tracking).status == wire.STATUS_UNDELIVERABLE


# --- 6: acknowledged data leaves the disk after each forwarded batch ---------------------------------------
class PlatformGoesAwayAfter:
    """The real adapter for the first `n` applications, then the platform is unreachable."""

    def __init__(self, real: HttpPlatformAdapter, n: int) -> None:
        self.real, self.n = real, n

    def submit_application(self, key: str, payload: dict):
        if payload["fields"]["n"] >= self.n:
            raise PlatformUnavailable("platform unreachable: timeout")
        return self.real.submit_application(key, payload)

    def __getattr__(self, name: str):
        return getattr(self.real, name)


def test_forwarded_applicants_data_leaves_the_files_while_others_wait(tmp_path, outbox, platform_factory,
                                                                      make_forwarder):
    platform = platform_factory()
    queue(outbox, 4)
    raw = tmp_path

    def on_disk(n: int) -> bool:
        data = b"".join(p.read_bytes() for p in raw.glob("outbox.sqlite3*"))
        return make_id(n).encode() in data

    assert all(on_disk(n) for n in range(4))
    fw = make_forwarder(PlatformGoesAwayAfter(HttpPlatformAdapter(platform.url, timeout=2), 2))
    wait_for(lambda: fw.state()["wan"] == "down" and outbox.stats()["depth"] == 2)
    assert platform_keys(tmp_path) == ["key-00000000", "key-00000001"]
    # The WAL is truncated right after the batch's ack, which the forwarder's state can show first.
    wait_for(lambda: not on_disk(0) and not on_disk(1))
    assert on_disk(2) and on_disk(3)
