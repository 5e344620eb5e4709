"""Progress and payment lookups: rate-limited per kiosk, and on their own few threads so a platform
that never answers cannot hold up submissions (or queue lookups behind it)."""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from kiosk import wire
from kiosk.config import Config
from kiosk.edge_client import EdgeClient, EdgeRejected, EdgeUnavailable
from tests.fixtures_edge import make_id

ID = make_id(41)
TOKEN = "token-of-kiosk-a-0123456789abcdef"
FIELDS = {"phone": "13912345678", "account": "bank", "agree": True}


def config(**edge: object) -> Config:
    kiosks = [{"id": "hall-1-kiosk-a", "token_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}]
    return Config.model_validate({"edge": {"kiosks": kiosks, **edge}})


class BlackHole:
    """A platform that accepts connections and never answers (a firewall dropping replies, a hung proxy)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        self.accepted = threading.Condition()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.accepted:
                self.conns.append(conn)
                self.accepted.notify_all()

    def wait_for_connections(self, n: int, timeout: float = 20.0) -> None:
        with self.accepted:
            assert self.accepted.wait_for(lambda: len(self.conns) >= n, timeout), "lookups never reached it"

    def close(self) -> None:
        if self.sock.fileno() != -1:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (close alone does not)
            self.sock.close()
        self._thread.join(5)
        with self.accepted:
            for c in self.conns:
                c.close()  # the edge's threads waiting on these see the connection end


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.close()


# --- rate limit ---------------------------------------------------------------------------------------
def test_lookups_over_the_rate_are_429_per_kiosk(edge_factory):
    edge = edge_factory(config=config(lookup_rate_per_min=3))  # no platform: answers from the edge cache
    loopback = EdgeClient(edge.url)
    for _ in range(2):
        assert loopback.progress(id_number=ID)["source"] == "edge_cache"
    with pytest.raises(EdgeUnavailable) as unavailable:  # payments count against the same allowance
        loopback.payments(ID)
    assert unavailable.value.code == "payments_unreachable"
    with pytest.raises(EdgeRejected) as e:
        loopback.progress(id_number=ID)
    assert (e.value.status, e.value.code) == (429, wire.ERR_RATE_LIMITED)
    assert e.value.retry_after is not None and e.value.retry_after >= 1
    conn = http.client.HTTPConnection("127.0.0.1", edge.server.port, timeout=10)
    conn.request("POST", wire.API_PAYMENTS, body=json.dumps({"id_number": ID}),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 429 and int(resp.getheader("Retry-After")) >= 1
    assert json.loads(resp.read())["error"]["code"] == wire.ERR_RATE_LIMITED
    conn.close()

    # Another kiosk has its own allowance; what is not a lookup is not limited.
    assert EdgeClient(edge.url, token=TOKEN).progress(id_number=ID)["source"] == "edge_cache"
    assert loopback.submit("old-age-allowance", FIELDS, {"id_number": ID, "name": "测试"})["status"] == "queued"


# --- a platform that never answers ---------------------------------------------------------------------
def test_a_black_holed_platform_holds_only_the_lookup_workers(edge_factory, black_hole):
    workers = 2
    edge = edge_factory(black_hole.url, config=config(lookup_workers=workers, lookup_rate_per_min=600),
                        lookup_timeout_s=120, platform_timeout_s=120)  # these lookups stay pending
    slow = EdgeClient(edge.url, timeout=180)
    pool = ThreadPoolExecutor(workers)
    try:
        pending = [pool.submit(slow.progress, id_number=make_id(50 + i)) for i in range(workers)]
        black_hole.wait_for_connections(workers)  # every lookup worker is waiting on the platform

        # A submission is answered while they wait...
        conn = http.client.HTTPConnection("127.0.0.1", edge.server.port, timeout=20)
        conn.request("POST", wire.API_SUBMISSIONS, body=json.dumps(
            {"schema": wire.SUBMISSION_SCHEMA, "service_id": "old-age-allowance", "fields": FIELDS,
             "applicant": {"id_number": ID, "name": "测试"}}),
            headers={"Content-Type": "application/json", wire.IDEMPOTENCY_HEADER: "black-hole-0001"})
        resp = conn.getresponse()
        tracking = json.loads(resp.read())["tracking_number"]
        conn.close()
        assert resp.status == 201
        assert not any(f.done() for f in pending)

        # ...and a further lookup does not queue behind them: the edge's own record, at once.
        quick = EdgeClient(edge.url, timeout=20)
        answer = quick.progress(id_number=ID)
        assert answer["source"] == "edge_cache"
        assert [(a["tracking_number"], a["status"]) for a in answer["applications"]] == [(tracking, "queued")]
        assert not any(f.done() for f in pending)
    finally:
        black_hole.close()  # the waiting lookups see the platform go and answer from the edge
        results = [f.result(timeout=60) for f in pending]
        pool.shutdown()
    assert [r["source"] for r in results] == ["edge_cache"] * workers
