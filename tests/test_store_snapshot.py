"""One version per response: a content switch between the edge's lookups for a file request must
not pair one version's hash and size with another version's bytes, nor poison the file cache."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.api import make_app
from edge.outbox import Outbox
from edge.store import ContentStore
from kiosk import wire
from kiosk.config import Config
from tests.fixtures_edge import ServerThread
from tests.test_store import install

SMALL = "forms/a.json"  # cached in memory by hash
LARGE = "video/guide.bin"  # over the cache limit: streamed from disk


def files_of(version: int) -> dict[str, bytes]:
    return {SMALL: b'{"form": %d}' % version, LARGE: bytes([version]) * (400_000 + version)}


class SwitchingStore(ContentStore):
    """A real store that runs `on_lookup` right after the next lookup a request makes: another
    thread activating or rolling back at the worst moment, made deterministic."""

    on_lookup: Callable[[], None] | None = None

    def _after_lookup(self) -> None:
        hook, self.on_lookup = self.on_lookup, None
        if hook is not None:
            hook()

    def snapshot(self):  # type: ignore[override]
        snap = super().snapshot()
        self._after_lookup()
        return snap

    def file_entry(self, rel_path: str):  # type: ignore[override]
        entry = super().file_entry(rel_path)
        self._after_lookup()
        return entry


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[tuple[SwitchingStore, str]]:
    store = SwitchingStore(tmp_path / "edge" / "content")
    outbox = Outbox.open(tmp_path / "edge")
    server = ServerThread(lambda: make_app(store, outbox, None, Config())).start()
    yield store, server.url
    server.stop()
    outbox.close()


def get(url: str, rel: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url + wire.API_FILE.format(path=rel), timeout=10) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def assert_consistent(status: int, body: bytes, headers: dict[str, str]) -> None:
    assert status == 200, body
    assert hashlib.sha256(body).hexdigest() == headers["ETag"].strip('"'), "bytes do not match their ETag"
    assert len(body) == int(headers["Content-Length"])


@pytest.mark.parametrize("rel", [SMALL, LARGE])
def test_a_rollback_mid_request_serves_one_version_and_leaves_the_cache_clean(edge, rel: str) -> None:
    store, url = edge
    install(store, files_of(1), 1)
    install(store, files_of(2), 2)

    store.on_lookup = store.rollback  # 2 -> 1 right after the request resolved what to serve
    status, body, headers = get(url, rel)
    assert_consistent(status, body, headers)
    assert body == files_of(2)[rel]  # the version the request resolved, whole
    assert store.active_version() == 1

    assert get(url, rel)[1] == files_of(1)[rel]
    # A new version with version 2's bytes: served from the cache by hash, which must hold them.
    install(store, files_of(2), 3)
    status, body, headers = get(url, rel)
    assert_consistent(status, body, headers)
    assert body == files_of(2)[rel]


@pytest.mark.parametrize("rel", [SMALL, LARGE])
def test_a_version_pruned_mid_request_is_a_clear_retryable_error(edge, rel: str) -> None:
    store, url = edge
    install(store, files_of(1), 1)

    def three_updates() -> None:  # version 1 falls out of the three kept
        for v in (2, 3, 4):
            install(store, files_of(v), v)

    store.on_lookup = three_updates
    status, body, _ = get(url, rel)
    assert status == 503
    assert json.loads(body)["error"]["code"] == "content_switching"
    assert 1 not in store.versions()
    status, body, headers = get(url, rel)  # the retry gets the new version, whole
    assert_consistent(status, body, headers)
    assert body == files_of(4)[rel]
