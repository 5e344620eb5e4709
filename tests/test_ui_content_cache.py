"""The UI's copy of the edge's content: services, prompts, guides, forms and recorded clips fetched off
the GUI thread; an edge that goes away leaves the last good copy in place."""

from __future__ import annotations

from kiosk.edge_client import EdgeClient
from tests.fixtures_edge import pack_files
from ui.adapters.content_cache import ContentCache


def test_fetches_everything_and_copies_clips_locally(qapp, edge_factory, tmp_path):
    edge = edge_factory()
    cache = ContentCache(EdgeClient(edge.url, timeout=2), tmp_path / "clips")
    assert cache.refresh() and cache.loaded
    assert {s.id for s in cache.services()} == {"old-age-allowance", "medical-guide"}
    assert cache.prompt("home").text.zh
    svc = cache.service("old-age-allowance")
    assert cache.guide(svc.guide) is not None and [f.id for f in cache.forms()] == [svc.form]
    clip = cache.clip_path("home", "bo")  # the voice driver's resolver: a local file, no network
    assert clip is not None and clip.read_bytes() == pack_files()["audio/bo/home.wav"]
    assert cache.clip_path("home", "zh") is None and cache.clip_path("insert_card", "bo") is None

    edge.close()  # the edge goes away: the kiosk keeps showing what it had
    assert not cache.refresh()
    assert cache.error and cache.service("old-age-allowance") == svc and cache.clip_path("home", "bo") == clip
