"""A real content origin for tests and benchmarks: files published with central.admin.publish,
served by aiohttp on a loopback port, honouring Range, counting the bytes it sent per path.

Faults a WAN has: stop()/start() (origin down and back on the same port), `rate_bps` (throttle),
`cut_after[path] = n` (drop the connection after n body bytes, once), `ignore_range` (answer 200).
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from central.admin.publish import manifest_for_dir, publish
from kiosk import manifest as manifest_mod
from kiosk import signing
from kiosk.manifest import Manifest
from kiosk.netutil import free_port

_RANGE_RE = re.compile(r"^bytes=(\d+)-(\d*)$")
_CHUNK = 32 * 1024


class OriginServer:
    """Serves `root` over HTTP from its own thread and event loop."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.served: collections.Counter[str] = collections.Counter()  # body bytes sent, per path
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.rate_bps: float | None = None
        self.cut_after: dict[str, int] = {}
        self.ignore_range = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="origin")
        self._thread.start()
        self._runner: web.AppRunner | None = None

    @property
    def total_served(self) -> int:
        return sum(self.served.values())

    def blob_bytes_served(self) -> int:
        return sum(n for p, n in self.served.items() if p.startswith("blobs/"))

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def start(self) -> None:
        async def go() -> None:
            app = web.Application()
            app.router.add_get("/{path:.*}", self._handle)
            self._runner = web.AppRunner(app, shutdown_timeout=0.1)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        self._call(go())

    def stop(self) -> None:
        """Close the listener and every open connection: the origin is down."""
        if self._runner is not None:
            self._call(self._runner.cleanup())
            self._runner = None

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        rel = request.match_info["path"]
        self.requests.append((rel, request.headers.get("Range")))
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            raise web.HTTPNotFound()
        data = path.read_bytes()
        start, status = 0, 200
        rng = request.headers.get("Range")
        if rng and not self.ignore_range:
            m = _RANGE_RE.match(rng)
            if not m or int(m.group(1)) >= len(data):
                return web.Response(status=416, headers={"Content-Range": f"bytes */{len(data)}"})
            start, status = int(m.group(1)), 206
            end = int(m.group(2)) + 1 if m.group(2) else len(data)
            data_out = data[start:end]
        else:
            data_out = data
        resp = web.StreamResponse(status=status)
        resp.content_length = len(data_out)
        if status == 206:
            resp.headers["Content-Range"] = f"bytes {start}-{start + len(data_out) - 1}/{len(data)}"
        await resp.prepare(request)
        cut = self.cut_after.pop(rel, None)
        sent = 0
        for i in range(0, len(data_out), _CHUNK):
            chunk = data_out[i:i + _CHUNK]
            if cut is not None and sent + len(chunk) >= cut:
                chunk = chunk[: cut - sent]
                self.served[rel] += len(chunk)
                await resp.write(chunk)
                await asyncio.sleep(0.05)  # let the bytes leave before the cut
                if request.transport is not None:
                    request.transport.abort()
                return resp
            self.served[rel] += len(chunk)  # counted before the write: the client may be faster
            sent += len(chunk)
            await resp.write(chunk)
            if self.rate_bps:
                await asyncio.sleep(len(chunk) / self.rate_bps)
        await resp.write_eof()
        return resp


@dataclass
class Publisher:
    """Builds packs and publishes them to an origin directory the way the admin tool does."""

    origin_dir: Path
    work: Path
    key_id: str = "test-admin"
    key: object = None
    public_b64: str = ""
    published: list[Manifest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key, self.public_b64 = signing.generate_key()

    @property
    def pinned(self) -> dict[str, str]:
        return {self.key_id: self.public_b64}

    def pack_dir(self, files: dict[str, bytes], version: int) -> Path:
        d = self.work / f"pack-{version}-{len(self.published)}"
        if d.exists():
            shutil.rmtree(d)
        for rel, data in files.items():
            p = d / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        d.mkdir(parents=True, exist_ok=True)
        return d

    def envelope(self, manifest: Manifest, *, key=None, key_id: str | None = None, unsigned: bool = False,
                 valid_for: timedelta = timedelta(days=30)) -> signing.Envelope:
        payload = manifest.to_json()
        if unsigned:
            return signing.unsigned(manifest_mod.ENVELOPE_KIND, payload, manifest.version, valid_for)
        return signing.sign(manifest_mod.ENVELOPE_KIND, payload, key or self.key, key_id or self.key_id,
                            manifest.version, valid_for)

    def publish(self, files: dict[str, bytes], version: int, **env_kw) -> Manifest:
        d = self.pack_dir(files, version)
        manifest = manifest_for_dir(d, "test-pack", version)
        publish(d, manifest, self.envelope(manifest, **env_kw), self.origin_dir)
        shutil.rmtree(d)
        self.published.append(manifest)
        return manifest


def random_files(n: int, size: int, prefix: str = "f") -> dict[str, bytes]:
    return {f"{prefix}/{i:03d}.bin": os.urandom(size) for i in range(n)}


@pytest.fixture
def origin(tmp_path: Path):
    root = tmp_path / "origin"
    root.mkdir()
    server = OriginServer(root)
    server.start()
    yield server
    server.close()


@pytest.fixture
def publisher(origin: OriginServer, tmp_path: Path) -> Publisher:
    return Publisher(origin.root, tmp_path / "work")
