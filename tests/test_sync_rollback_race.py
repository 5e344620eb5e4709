"""An emergency rollback is never held up by a content download: a sync stalled mid-blob (an
origin that pauses a blob until the test lets it go) while the real `kiosk edge rollback` runs."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

from aiohttp import web

from edge.store import ContentStore
from edge.sync import SyncClient, SyncResult
from kiosk import manifest as manifest_mod
from tests.fixtures_origin import OriginServer, Publisher
from tests.test_sync import wait_for
from tests.test_sync_cli import write_config

ROOT = Path(__file__).parents[1]


class PausingOrigin(OriginServer):
    """Serves `pause_path` in two parts: the first `pause_after` bytes at once, the rest only once
    `release` is set (a satellite link gone quiet mid-blob). Everything else as OriginServer does."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.pause_path = ""
        self.pause_after = 0
        self.release = threading.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        rel = request.match_info["path"]
        if rel != self.pause_path or request.headers.get("Range"):
            return await super()._handle(request)
        data = (self.root / rel).read_bytes()
        resp = web.StreamResponse()
        resp.content_length = len(data)
        await resp.prepare(request)
        await resp.write(data[: self.pause_after])
        for _ in range(6000):  # at most ~2 minutes, so a broken test cannot hang the run
            if self.release.is_set():
                break
            await asyncio.sleep(0.02)
        await resp.write(data[self.pause_after:])
        await resp.write_eof()
        return resp


def test_rollback_succeeds_while_a_download_is_stalled_and_the_block_survives(tmp_path: Path) -> None:
    root = tmp_path / "origin"
    root.mkdir()
    origin = PausingOrigin(root)
    origin.start()
    try:
        publisher = Publisher(root, tmp_path / "work")
        cfg = write_config(tmp_path, origin.url, publisher.pinned)
        store = ContentStore(tmp_path / "edge" / "content")  # where the config puts it
        client = SyncClient(store, origin.url, pinned_keys=publisher.pinned, timeout=60.0)
        publisher.publish({"a.txt": b"one"}, 1)
        assert client.sync_once().outcome == "updated"
        publisher.publish({"a.txt": b"two (bad)"}, 2)
        assert client.sync_once().outcome == "updated"

        big = bytes(range(256)) * 4096  # 1 MiB
        m3 = publisher.publish({"a.txt": b"three", "video/guide.bin": big}, 3)
        sha = next(f.sha256 for f in m3.files if f.path == "video/guide.bin")
        origin.pause_path, origin.pause_after = manifest_mod.blob_path(sha), 300_000
        results: list[SyncResult] = []
        t = threading.Thread(target=lambda: results.append(client.sync_once()), daemon=True)
        t.start()
        part = store.partial_path(sha)
        assert wait_for(lambda: part.exists() and part.stat().st_size > 0)  # mid-download, paused

        try:
            # Exactly what a maintenance team runs; before the fix this waited 10 s and said "busy".
            proc = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(cfg), "--log-level", "WARNING",
                                   "edge", "rollback"], cwd=ROOT, capture_output=True, text=True, timeout=60)
            still_downloading = t.is_alive()
        finally:
            origin.release.set()
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("rolled back from 2 to 1")
        assert still_downloading  # the rollback did not wait for the download to end

        t.join(60)
        assert not t.is_alive()
        (r,) = results
        # Version 3 is newer than the one rolled back from, so it still applies; 2 stays blocked.
        assert (r.outcome, r.version) == ("updated", 3), r.summary()
        assert store.active_version() == 3
        assert store.blocked_versions() == [2]
        assert store.file_path("video/guide.bin").read_bytes() == big
        assert client.sync_once().outcome == "up_to_date"
        assert 2 not in store.versions()
        assert store.rollback() == 1  # back past 3 skips the blocked 2
    finally:
        origin.close()
