"""SyncClient against a real aiohttp origin on loopback: updates, refusals, faults, resume, rollback."""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from edge.store import ContentStore
from edge.sync import SyncClient
from kiosk import manifest as manifest_mod
from kiosk import signing
from kiosk.netutil import free_port
from kiosk.status import Level
from tests.fixtures_origin import OriginServer, Publisher, random_files
from tests.fixtures_outbox import SEED


class Events(list):
    def __call__(self, name: str, data: dict) -> None:
        self.append((name, data))


def make_client(store: ContentStore, origin: OriginServer, publisher: Publisher, **kw) -> SyncClient:
    kw.setdefault("timeout", 3.0)
    kw.setdefault("poll_interval_s", 0.2)
    return SyncClient(store, origin.url, pinned_keys=publisher.pinned, **kw)


def wait_for(cond, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.fixture
def store(tmp_path: Path) -> ContentStore:
    return ContentStore(tmp_path / "edge" / "content")


def read_all(store: ContentStore) -> dict[str, bytes]:
    return {f.path: store.file_path(f.path).read_bytes() for f in store.active_manifest().files}


def test_first_sync_then_only_changed_blobs_then_up_to_date(store, origin, publisher) -> None:
    files = random_files(10, 20_000)
    files["services/index.json"] = b'{"services": []}'
    publisher.publish(files, 1)
    events = Events()
    client = make_client(store, origin, publisher, on_event=events)
    assert client.status.status().code == "no_content"

    r = client.sync_once()
    assert (r.outcome, r.version, r.blobs_downloaded, r.blobs_reused) == ("updated", 1, 11, 0)
    assert read_all(store) == files
    assert origin.blob_bytes_served() == r.bytes_downloaded == sum(len(d) for d in files.values())
    assert client.status.status().code == "ok"

    changed = dict(files)
    changed["f/003.bin"] = b"new audio"
    changed["f/007.bin"] = b"new form"
    changed["guides/new.md"] = "# 新指南 / ལམ་སྟོན།".encode()
    before = origin.blob_bytes_served()
    r = client.sync_once()
    assert r.outcome == "up_to_date"
    publisher.publish(changed, 2)
    r = client.sync_once()
    assert (r.outcome, r.version, r.blobs_downloaded, r.blobs_reused) == ("updated", 2, 3, 9)
    new_bytes = len(b"new audio") + len(b"new form") + len(changed["guides/new.md"])
    assert origin.blob_bytes_served() - before == r.bytes_downloaded == new_bytes
    assert read_all(store) == changed
    assert store.versions() == [1, 2]

    before_total = origin.total_served
    r = client.sync_once()
    assert (r.outcome, r.version, r.bytes_downloaded) == ("up_to_date", 2, 0)
    assert origin.total_served - before_total == len(origin.root.joinpath("latest.json").read_bytes())
    assert [e[0] for e in events] == ["content_updated", "content_updated"]
    assert client.state()["active_version"] == 2 and client.state()["last_error"] is None


def test_failed_rounds_back_off_from_seconds_up_to_the_poll_interval(store) -> None:
    print(f"jitter seed {SEED}")
    client = SyncClient(store, f"http://127.0.0.1:{free_port()}", pinned_keys={}, poll_interval_s=60,
                        rng=random.Random(SEED))
    assert client.next_delay() == 60
    waits = []
    for _ in range(7):
        assert client.sync_once().code == "network"  # nobody listens
        waits.append(client.next_delay())
    assert 1.25 <= waits[0] <= 2.5  # a flapping link is tried again soon...
    assert 30 <= waits[-1] <= 60  # ...a dead one at most once per poll interval


def test_origin_down_keeps_serving_and_run_recovers_by_itself(store, origin, publisher) -> None:
    v1 = random_files(3, 5000)
    publisher.publish(v1, 1)
    client = make_client(store, origin, publisher, failing_after_s=0)
    assert client.sync_once().outcome == "updated"

    origin.stop()
    v2 = random_files(3, 5000, prefix="g")
    publisher.publish(v2, 2)
    r = client.sync_once()
    assert (r.outcome, r.code) == ("failed", "network")
    assert store.active_version() == 1 and read_all(store) == v1
    assert client.status.status().code == "sync_failing"
    assert client.status.status().level is Level.DEGRADED
    assert "network" in client.state()["last_error"]

    stop = threading.Event()
    t = threading.Thread(target=client.run, args=(stop,), daemon=True)
    t.start()
    try:
        time.sleep(0.5)  # a few failed rounds with backoff
        assert store.active_version() == 1
        origin.start()
        assert wait_for(lambda: store.active_version() == 2)
        assert read_all(store) == v2
        assert wait_for(lambda: client.status.status().code == "ok")
    finally:
        stop.set()
        t.join(5)
    assert not t.is_alive()


def _tamper_blob(origin: OriginServer, publisher: Publisher) -> None:
    m = publisher.published[-1]
    (origin.root / manifest_mod.blob_path(m.files[0].sha256)).write_bytes(b"evil bytes")


def _bad_signature(origin: OriginServer, publisher: Publisher) -> None:
    p = origin.root / manifest_mod.manifest_path(2)
    d = json.loads(p.read_bytes())
    payload = json.loads(signing.Envelope.from_json(p.read_bytes()).payload)
    payload["files"][0]["size"] += 1  # the payload changed after signing
    import base64
    d["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    p.write_text(json.dumps(d))


def _replay_old(origin: OriginServer, publisher: Publisher) -> None:
    # latest.json offers 3 but manifests/3.json is the old signed version-1 envelope.
    (origin.root / manifest_mod.manifest_path(3)).write_bytes(
        (origin.root / manifest_mod.manifest_path(1)).read_bytes())
    (origin.root / "latest.json").write_bytes(manifest_mod.latest_json(3))


def _malformed_latest(origin: OriginServer, publisher: Publisher) -> None:
    (origin.root / "latest.json").write_bytes(b'{"schema": "kiosk.latest/1", "version": "lots"}')


def _latest_escapes(origin: OriginServer, publisher: Publisher) -> None:
    (origin.root / "latest.json").write_bytes(
        b'{"schema": "kiosk.latest/1", "version": 2, "manifest": "../../etc/passwd"}')


def _envelope_not_an_object(origin: OriginServer, publisher: Publisher) -> None:
    (origin.root / manifest_mod.manifest_path(2)).write_bytes(b"[1, 2, 3]")


@pytest.mark.parametrize("case,publish_kw,damage,code", [
    ("envelope is a JSON list", {}, _envelope_not_an_object, "bad_envelope"),
    ("tampered blob", {}, _tamper_blob, "hash_mismatch"),
    ("bad signature", {}, _bad_signature, "bad_signature"),
    ("unknown key", {"key": signing.generate_key()[0], "key_id": "stranger"}, None, "unknown_key"),
    ("expired", {"valid_for": timedelta(seconds=-5)}, None, "expired"),
    ("replayed older version", {}, _replay_old, "rollback"),
    ("malformed latest.json", {}, _malformed_latest, "bad_latest"),
    ("latest.json points outside manifests/", {}, _latest_escapes, "bad_latest"),
    ("unsigned", {"unsigned": True}, None, "unsigned"),
])
def test_bad_pack_is_refused_and_the_active_version_keeps_serving(
        store, origin, publisher, caplog, case, publish_kw, damage, code) -> None:
    v1 = random_files(4, 3000)
    publisher.publish(v1, 1)
    events = Events()
    client = make_client(store, origin, publisher, on_event=events)
    assert client.sync_once().outcome == "updated"
    events.clear()

    publisher.publish(random_files(4, 3000, prefix="bad"), 2, **publish_kw)
    if damage:
        damage(origin, publisher)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="edge.sync"):
        r = client.sync_once()
    assert (r.outcome, r.code) == ("refused", code), case
    assert store.active_version() == 1 and read_all(store) == v1
    refusals = [rec for rec in caplog.records if rec.name == "edge.sync" and rec.levelno >= logging.WARNING]
    assert len(refusals) == 1
    assert refusals[0].code == code and refusals[0].reason == r.reason
    assert events == [("content_refused", {"code": code, "version": r.version, "reason": r.reason})]
    st = client.status.status()  # still serving good content, and saying a pack was refused
    assert (st.level, st.code) == (Level.DEGRADED, "content_refused")
    refused = client.state()["refused"]
    assert (refused["code"], refused["version"], refused["reason"]) == (code, r.version, r.reason)
    if code == "hash_mismatch":
        assert "does not match its hash" in r.reason
        assert r.reason.startswith("blob f/") or r.reason.startswith("blob bad/")
        tampered = publisher.published[-1].files[0]
        assert not store.partial_path(tampered.sha256).exists()
        assert not store.has_blob(tampered.sha256)


def test_unsigned_pack_accepted_only_when_allowed_and_status_says_so(store, origin, publisher) -> None:
    files = random_files(2, 1000)
    publisher.publish(files, 1, unsigned=True)
    client = make_client(store, origin, publisher, allow_unsigned=True)
    assert client.status.status().code == "no_content"
    assert client.sync_once().outcome == "updated"
    assert read_all(store) == files
    st = client.status.status()
    assert (st.level, st.code) == (Level.DEGRADED, "unsigned_allowed")
    assert st.zh and st.bo and st.en and any("\u0f00" <= c <= "\u0fff" for c in st.bo)


def test_connection_cut_mid_blob_resumes_with_range_in_the_same_round(store, origin, publisher) -> None:
    big = {"video/guide.bin": bytes(range(256)) * 4000}  # 1 MB
    m = publisher.publish(big, 1)
    rel = manifest_mod.blob_path(m.files[0].sha256)
    origin.cut_after[rel] = 400_000
    r = make_client(store, origin, publisher).sync_once()
    assert r.outcome == "updated"
    assert read_all(store) == big
    assert [h for p, h in origin.requests if p == rel] == [None, "bytes=400000-"]
    assert origin.served[rel] == len(big["video/guide.bin"])  # nothing fetched twice
    assert not store.partial_path(m.files[0].sha256).exists()


def test_partial_left_by_an_earlier_run_is_resumed(store, origin, publisher) -> None:
    data = bytes(range(256)) * 4000
    m = publisher.publish({"video/guide.bin": data}, 1)
    rel = manifest_mod.blob_path(m.files[0].sha256)
    store.partial_path(m.files[0].sha256).write_bytes(data[:300_000])  # what a killed run kept
    r = make_client(store, origin, publisher).sync_once()
    assert r.outcome == "updated" and store.file_path("video/guide.bin").read_bytes() == data
    assert origin.requests[-1] == (rel, "bytes=300000-")
    assert origin.served[rel] == r.bytes_downloaded == len(data) - 300_000


def test_origin_gone_mid_blob_fails_then_the_next_round_resumes(store, origin, publisher) -> None:
    data = {"big.bin": b"z" * 1_000_000}
    m = publisher.publish(data, 1)
    rel = manifest_mod.blob_path(m.files[0].sha256)
    origin.rate_bps = 2_000_000
    client = make_client(store, origin, publisher)
    # The origin vanishes mid-download.
    stopper = threading.Thread(target=lambda: wait_for(lambda: origin.served[rel] > 100_000) and origin.stop())
    stopper.start()
    r = client.sync_once()
    stopper.join()
    assert (r.outcome, r.code) == ("failed", "network")
    have = store.partial_path(m.files[0].sha256).stat().st_size
    assert 0 < have < 1_000_000 and r.bytes_downloaded == have
    origin.rate_bps = None
    origin.start()
    r = client.sync_once()
    assert r.outcome == "updated" and read_all(store) == data
    assert origin.requests[-1] == (rel, f"bytes={have}-")
    assert origin.served[rel] - 1_000_000 <= 4 * 32 * 1024  # at most the chunks lost in flight


def test_server_ignoring_range_restarts_the_blob(store, origin, publisher) -> None:
    data = {"a.bin": bytes(200) + b"x" * 300_000}
    m = publisher.publish(data, 1)
    store.partial_path(m.files[0].sha256).write_bytes(data["a.bin"][:100_000])
    origin.ignore_range = True
    r = make_client(store, origin, publisher).sync_once()
    assert r.outcome == "updated" and read_all(store) == data
    assert r.bytes_downloaded == len(data["a.bin"])


def test_damaged_partial_is_fetched_again_not_called_tampered(store, origin, publisher) -> None:
    data = {"a.bin": b"good" * 50_000}
    m = publisher.publish(data, 1)
    store.partial_path(m.files[0].sha256).write_bytes(b"\0" * 70_000)  # e.g. zeros after power loss
    events = Events()
    r = make_client(store, origin, publisher, on_event=events).sync_once()
    assert r.outcome == "updated" and read_all(store) == data
    assert [e[0] for e in events] == ["content_updated"]


def test_rollback_blocks_the_bad_version_but_a_newer_one_applies(store, origin, publisher) -> None:
    client = make_client(store, origin, publisher)
    publisher.publish({"a.txt": b"one"}, 1)
    client.sync_once()
    publisher.publish({"a.txt": b"two (bad)"}, 2)
    assert client.sync_once().version == 2
    assert store.rollback() == 1
    r = client.sync_once()
    assert (r.outcome, store.active_version()) == ("up_to_date", 1)
    assert "rolled back" in r.reason
    assert store.file_path("a.txt").read_bytes() == b"one"
    publisher.publish({"a.txt": b"three"}, 3)
    assert client.sync_once().outcome == "updated"
    assert store.file_path("a.txt").read_bytes() == b"three"


def test_trigger_syncs_now_and_close_stops_the_thread(store, origin, publisher) -> None:
    publisher.publish({"a.txt": b"one"}, 1)
    client = make_client(store, origin, publisher, poll_interval_s=3600)
    client.start()
    try:
        assert wait_for(lambda: store.active_version() == 1)
        publisher.publish({"a.txt": b"two"}, 2)
        time.sleep(0.3)
        assert store.active_version() == 1  # the next poll is an hour away
        client.trigger()
        assert wait_for(lambda: store.active_version() == 2)
    finally:
        client.close()
    assert client._thread is None


def test_close_interrupts_a_slow_download(store, origin, publisher) -> None:
    publisher.publish({"big.bin": b"z" * 2_000_000}, 1)
    origin.rate_bps = 200_000  # 10 s for the whole blob
    client = make_client(store, origin, publisher)
    client.start()
    assert wait_for(lambda: any(p.stat().st_size > 0 for p in store.partial_dir.iterdir()))
    thread = client._thread
    client.close(timeout=3)
    assert not thread.is_alive()
    assert store.active_version() is None
    assert any(p.stat().st_size > 0 for p in store.partial_dir.iterdir())  # kept for the next start


def test_a_silent_origin_times_out_instead_of_hanging(store, publisher) -> None:
    with socket.socket() as listener:  # accepts connections, never answers: a dead satellite link
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        client = SyncClient(store, url, pinned_keys=publisher.pinned, timeout=0.5)
        r = client.sync_once()
    assert (r.outcome, r.code) == ("failed", "network")
    assert "timed out" in r.reason


def test_http_error_from_origin_is_a_failure_not_a_refusal(store, origin, publisher) -> None:
    client = make_client(store, origin, publisher)
    r = client.sync_once()  # nothing published yet: 404
    assert (r.outcome, r.code) == ("failed", "http_404")
    assert client.status.status().code == "no_content"
