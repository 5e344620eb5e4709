"""A refused content pack is visible in the real edge's /api/v1/status (content.sync), with the
reason in plain words, while the previous good version keeps serving; a good version clears it."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from edge.api import make_app
from edge.outbox import Outbox
from edge.store import ContentStore
from edge.sync import SyncClient
from kiosk import manifest as manifest_mod
from kiosk import signing, wire
from kiosk.config import Config
from tests.fixtures_edge import ServerThread
from tests.fixtures_origin import OriginServer, Publisher


class EdgeWithSync:
    """The edge API over a real store and outbox, with a SyncClient against the test origin."""

    def __init__(self, data_dir: Path, origin: OriginServer, publisher: Publisher) -> None:
        self.store = ContentStore(data_dir / "content")
        self.outbox = Outbox.open(data_dir)
        self.sync = SyncClient(self.store, origin.url, pinned_keys=publisher.pinned, timeout=3.0)
        self.server = ServerThread(lambda: make_app(self.store, self.outbox, None, Config(), sync=self.sync)).start()

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.server.url + path, timeout=10) as r:
            return r.read()

    def content_status(self) -> dict:
        return json.loads(self.get(wire.API_STATUS))["content"]

    def close(self) -> None:
        self.server.stop()
        self.outbox.close()


@pytest.fixture
def edge(tmp_path: Path, origin: OriginServer, publisher: Publisher) -> Iterator[EdgeWithSync]:
    e = EdgeWithSync(tmp_path / "edge", origin, publisher)
    yield e
    e.close()


def _tamper_blob(origin: OriginServer, publisher: Publisher) -> None:
    (origin.root / manifest_mod.blob_path(publisher.published[-1].files[0].sha256)).write_bytes(b"evil bytes")


def _tamper_manifest(origin: OriginServer, publisher: Publisher) -> None:
    p = origin.root / manifest_mod.manifest_path(2)
    env = signing.Envelope.from_json(p.read_bytes())
    payload = json.loads(env.payload)
    payload["files"][0]["size"] += 1  # changed after signing
    d = json.loads(p.read_bytes())
    d["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    p.write_text(json.dumps(d))


def _origin_restored_from_old_backup(origin: OriginServer, publisher: Publisher) -> None:
    (origin.root / "latest.json").write_bytes(manifest_mod.latest_json(1))


Damage = Callable[[OriginServer, Publisher], None] | None


@pytest.mark.parametrize("case,publish_kw,damage,code,words", [
    ("admin key rotated, new key not pinned", {"key": signing.generate_key()[0], "key_id": "admin-2026"}, None,
     "unknown_key", "key this edge does not trust"),
    ("edge clock running ahead of the envelope", {"valid_for": timedelta(seconds=-5)}, None,
     "expired", "check this edge's clock"),
    ("origin tampered: signature", {}, _tamper_manifest, "bad_signature", "signature does not match"),
    ("origin tampered: blob", {}, _tamper_blob, "hash_mismatch", "does not match the signed list"),
    ("origin offers an older version", {}, _origin_restored_from_old_backup, "rollback",
     "older than the version in use"),
])
def test_refused_pack_shows_in_edge_status_until_a_good_version_applies(
        edge, origin, publisher, case: str, publish_kw: dict, damage: Damage, code: str, words: str) -> None:
    publisher.publish({"a.txt": b"one", "b.txt": b"bee"}, 1)
    assert edge.sync.sync_once().outcome == "updated"
    st = edge.content_status()
    assert (st["sync"]["status"], st["sync"]["refused"]) == ("ok", None)

    if code == "rollback":  # needs a newer active version for the origin to go back from
        publisher.publish({"a.txt": b"two", "b.txt": b"bee"}, 2)
        assert edge.sync.sync_once().outcome == "updated"
        good_version = 2
    else:
        publisher.publish({"a.txt": b"two (bad)", "b.txt": b"bee"}, 2, **publish_kw)
        good_version = 1
    if damage:
        damage(origin, publisher)
    served_before = edge.get(wire.API_FILE.format(path="a.txt"))

    r = edge.sync.sync_once()
    assert (r.outcome, r.code) == ("refused", code), case
    st = edge.content_status()
    sync = st["sync"]
    assert st["active_version"] == good_version
    assert edge.get(wire.API_FILE.format(path="a.txt")) == served_before  # keeps serving the good one
    assert sync["status"] == "content_refused"
    detail = sync["status_detail"]
    assert (detail["level"], detail["code"]) == ("degraded", "content_refused")
    assert words in detail["en"] and detail["en"].startswith("New content pack refused")
    assert detail["zh"].startswith("已拒绝") and any("\u0f00" <= c <= "\u0fff" for c in detail["bo"])
    refused = sync["refused"]
    assert set(refused) == {"version", "reason", "code", "at"}
    assert (refused["version"], refused["code"]) == (1 if code == "rollback" else 2, code)
    assert refused["reason"] == r.reason and refused["reason"]
    assert datetime.fromisoformat(refused["at"]).tzinfo is not None

    # The next round refuses again: still visible, not reset to "up to date".
    assert edge.sync.sync_once().outcome == "refused"
    assert edge.content_status()["sync"]["status"] == "content_refused"

    if code == "rollback":  # the origin offers the active version again: nothing is refused now
        (origin.root / "latest.json").write_bytes(manifest_mod.latest_json(2))
        assert edge.sync.sync_once().outcome == "up_to_date"
        expected = 2
    else:  # a good, newer pack is applied
        publisher.publish({"a.txt": b"three", "b.txt": b"bee"}, 3)
        assert edge.sync.sync_once().outcome == "updated"
        expected = 3
    st = edge.content_status()
    assert (st["active_version"], st["sync"]["status"], st["sync"]["refused"]) == (expected, "ok", None)


def test_a_new_reason_replaces_the_old_one_in_the_message(edge, origin, publisher) -> None:
    publisher.publish({"a.txt": b"one"}, 1)
    edge.sync.sync_once()
    publisher.publish({"a.txt": b"two"}, 2, key=signing.generate_key()[0], key_id="stranger")
    assert edge.sync.sync_once().code == "unknown_key"
    publisher.publish({"a.txt": b"two"}, 2, valid_for=timedelta(seconds=-5))
    assert edge.sync.sync_once().code == "expired"
    sync = edge.content_status()["sync"]
    assert sync["refused"]["code"] == "expired"
    assert "clock" in sync["status_detail"]["en"] and "trust" not in sync["status_detail"]["en"]
