"""The edge when links fail: a kiosk whose answer is lost retries with the same key (one application),
and content keeps being served while the content origin is down."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

from edge.sync import SyncClient
from kiosk.edge_client import EdgeClient
from kiosk.netutil import free_port
from tests.fixtures_edge import make_id, pack_files


class DropAnswerProxy:
    """A TCP proxy for the hall LAN: for the first `drop` connections it passes the request on, waits
    until the edge starts answering, then cuts the kiosk's connection so the answer is lost."""

    def __init__(self, upstream_port: int, drop: int = 1) -> None:
        self.upstream_port = upstream_port
        self.drop = drop
        self.port = free_port()
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(5)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        self.connections += 1
        ureader, uwriter = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        if self.connections <= self.drop:
            up = asyncio.ensure_future(self._pipe(creader, uwriter))
            await ureader.read(1)  # the edge has handled the request and is answering...
            cwriter.transport.abort()  # ...and the kiosk never hears it
            up.cancel()
            uwriter.close()
            return
        await asyncio.gather(self._pipe(creader, uwriter), self._pipe(ureader, cwriter))

    async def _shutdown(self) -> None:
        self._server.close()
        pipes = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in pipes:
            t.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)  # no coroutine left to die unawaited

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


def test_a_lost_answer_is_retried_with_the_same_key_and_makes_one_application(tmp_path, platform_factory,
                                                                              edge_factory):
    platform = platform_factory()
    edge = edge_factory(platform.url)
    proxy = DropAnswerProxy(edge.server.port, drop=1)
    try:
        client = EdgeClient(f"http://127.0.0.1:{proxy.port}", timeout=5)
        ans = client.submit("old-age-allowance", {"phone": "13912345678", "account": "cash", "agree": True},
                            {"id_number": make_id(21), "name": "测试"})
        assert proxy.connections == 2  # the first answer was lost; the retry got the replay
        deadline = time.monotonic() + 15
        while edge.outbox.stats()["depth"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proxy.close()
    assert edge.outbox._db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1
    db = sqlite3.connect(tmp_path / "platform.sqlite3")
    assert db.execute("SELECT tracking_number FROM applications").fetchall() == [(ans["tracking_number"],)]


def test_content_keeps_being_served_while_the_origin_is_down(edge_factory, origin, publisher):
    files = pack_files()
    publisher.publish(files, version=7)
    edge = edge_factory(with_pack=False)
    sync = SyncClient(edge.store, origin.url, pinned_keys=publisher.pinned, timeout=2)
    assert sync.sync_once().outcome == "updated"
    client = EdgeClient(edge.url)
    assert client.status()["content"]["active_version"] == 7

    origin.stop()  # the WAN to the content origin is gone
    assert sync.sync_once().outcome == "failed"
    assert [s["id"] for s in client.services()] == ["old-age-allowance", "medical-guide"]
    assert client.file_bytes("images/old-age.png") == files["images/old-age.png"]
    assert client.service("old-age-allowance").platform_service_code == "SS-0101"
    assert edge.store.active_version() == 7
