"""A township hall's WAN in a box: an asyncio TCP proxy with a bandwidth cap, added latency and cuts.

    python -m bench.slowlink --listen 9000 --upstream 127.0.0.1:8000 --kbit 2000 --delay-ms 300 --cut-every 30

Each direction is one shared link (all connections together get `kbit`), every chunk arrives
`delay` seconds after it left, and every `cut_every` seconds all open connections are reset, as
when a satellite link drops. Data in flight on the link when it is cut is lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading
import time

_CHUNK = 16 * 1024


class _Link:
    """One direction of the WAN: serialises bytes at `rate` bytes/s across every connection."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._free_at = 0.0

    def reserve(self, n: int) -> float:
        """When the last of n bytes queued now will have left the sender."""
        now = time.monotonic()
        self._free_at = max(self._free_at, now) + n / self.rate
        return self._free_at


class SlowLink:
    def __init__(self, upstream_host: str, upstream_port: int, *, listen_host: str = "127.0.0.1",
                 listen_port: int = 0, kbit: float = 2000, delay_s: float = 0.3,
                 cut_every_s: float | None = 30.0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listen = (listen_host, listen_port)
        self.delay_s = delay_s
        self.cut_every_s = cut_every_s
        rate = kbit * 1000 / 8
        self._down, self._up = _Link(rate), _Link(rate)
        self._conns: set[asyncio.StreamWriter] = set()
        self.cuts = 0
        self.bytes_down = 0
        self._server: asyncio.base_events.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._cutter_task: asyncio.Task | None = None

    @property
    def port(self) -> int:
        return self.listen[1]

    async def serve(self) -> None:
        self._server = await asyncio.start_server(self._accept, *self.listen)
        self.listen = self._server.sockets[0].getsockname()[:2]
        if self.cut_every_s:
            self._cutter_task = asyncio.ensure_future(self._cutter())

    async def _cutter(self) -> None:
        while True:
            await asyncio.sleep(self.cut_every_s)
            self.cuts += 1
            for w in list(self._conns):
                w.transport.abort()

    async def _accept(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        try:
            u_reader, u_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            c_writer.transport.abort()
            return
        self._conns.update((c_writer, u_writer))
        try:
            await asyncio.gather(self._pipe(c_reader, u_writer, self._up, False),
                                 self._pipe(u_reader, c_writer, self._down, True))
        finally:
            for w in (c_writer, u_writer):
                self._conns.discard(w)
                w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link,
                    down: bool) -> None:
        """Read, queue with the time each chunk arrives at the far end, deliver on time.

        The queue is bounded near the bandwidth-delay product, so a fast sender is held back the
        way TCP's window holds it back on a real link.
        """
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(
            maxsize=max(4, int(link.rate * (self.delay_s + 0.5)) // _CHUNK))

        async def deliver() -> None:
            while (item := await queue.get()) is not None:
                due, data = item
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                writer.write(data)
                await writer.drain()
                if down:
                    self.bytes_down += len(data)
            with contextlib.suppress(OSError, RuntimeError):
                writer.write_eof()

        async def pump() -> None:
            while data := await reader.read(_CHUNK):
                await queue.put((link.reserve(len(data)) + self.delay_s, data))
            await queue.put(None)

        tasks = {asyncio.ensure_future(pump()), asyncio.ensure_future(deliver())}
        try:
            # Either side failing (a cut, a reset) ends both; a clean EOF lets delivery finish.
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            clean = all(t.done() and not t.cancelled() and t.exception() is None for t in tasks)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if not clean:
                writer.transport.abort()

    # --- running in a background thread (benchmarks, tests) -------------------------------------

    def start(self) -> SlowLink:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self.serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="slowlink")
        self._thread.start()
        ready.wait(5)
        return self

    def close(self) -> None:
        if self._loop is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            if self._cutter_task is not None:
                self._cutter_task.cancel()
            for w in list(self._conns):
                w.transport.abort()  # every pipe then ends by itself
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if others:
                await asyncio.wait(others, timeout=2)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=int, default=9000, help="local port")
    ap.add_argument("--upstream", required=True, help="host:port to forward to")
    ap.add_argument("--kbit", type=float, default=2000, help="bandwidth per direction, kbit/s")
    ap.add_argument("--delay-ms", type=float, default=300, help="added one-way delay")
    ap.add_argument("--cut-every", type=float, default=30, help="reset every connection each N s (0: never)")
    a = ap.parse_args()
    host, port = a.upstream.rsplit(":", 1)
    link = SlowLink(host, int(port), listen_port=a.listen, kbit=a.kbit, delay_s=a.delay_ms / 1000,
                    cut_every_s=a.cut_every or None)

    async def forever() -> None:
        await link.serve()
        print(f"slowlink on 127.0.0.1:{link.port} -> {a.upstream}", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(forever())


if __name__ == "__main__":
    main()
