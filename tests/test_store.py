"""ContentStore on a real directory: versions as plain trees, atomic switch, keep 3, rollback, locks."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.store import ContentStore, StoreError
from kiosk.manifest import FileEntry, Manifest


def manifest_of(files: dict[str, bytes], version: int) -> Manifest:
    entries = tuple(FileEntry(p, len(d), hashlib.sha256(d).hexdigest()) for p, d in sorted(files.items()))
    return Manifest("test-pack", version, datetime.now(UTC).isoformat(timespec="seconds"), entries)


def add_blobs(store: ContentStore, files: dict[str, bytes]) -> None:
    for data in files.values():
        sha = hashlib.sha256(data).hexdigest()
        if not store.has_blob(sha):
            part = store.partial_path(sha)
            part.write_bytes(data)
            store.commit_blob(sha, part)


def install(store: ContentStore, files: dict[str, bytes], version: int) -> Manifest:
    add_blobs(store, files)
    m = manifest_of(files, version)
    store.activate(m, b'{"envelope": %d}' % version)
    return m


def pack(version: int) -> dict[str, bytes]:
    return {"services/index.json": b'{"v": %d}' % version, "audio/bo/welcome.ogg": os.urandom(2000),
            "shared.txt": b"same in every version"}


@pytest.fixture
def store(tmp_path: Path) -> ContentStore:
    return ContentStore(tmp_path / "content")


def test_empty_store_has_nothing_active(store: ContentStore) -> None:
    assert store.active_version() is None
    assert store.active_manifest() is None
    assert store.active_dir() is None
    assert store.file_path("services/index.json") is None
    assert store.versions() == []


def test_activate_builds_a_plain_directory_of_hard_links(store: ContentStore) -> None:
    files = pack(1)
    install(store, files, 1)
    assert store.active_version() == 1
    d = store.active_dir()
    assert d == store.root / "versions" / "1"
    assert os.readlink(store.root / "current") == "versions/1"
    for rel, data in files.items():
        assert (d / rel).read_bytes() == data
        assert store.file_path(rel) == d / rel
        blob = store.blob_path(hashlib.sha256(data).hexdigest())
        assert os.stat(d / rel).st_ino == os.stat(blob).st_ino  # a link, not a copy
        assert oct(blob.stat().st_mode & 0o777) == oct(0o444)
    assert Manifest.from_json((d / "manifest.json").read_bytes()) == store.active_manifest()
    assert (d / "envelope.json").read_bytes() == b'{"envelope": 1}'
    assert store.file_entry("shared.txt").size == len(files["shared.txt"])


def test_activate_refuses_when_a_blob_is_missing(store: ContentStore) -> None:
    install(store, pack(1), 1)
    files = pack(2)
    add_blobs(store, {k: v for k, v in files.items() if k != "audio/bo/welcome.ogg"})
    with pytest.raises(StoreError) as e:
        store.activate(manifest_of(files, 2), b"{}")
    assert e.value.code == "missing_blobs"
    assert store.active_version() == 1
    assert store.versions() == [1]


def test_commit_blob_refuses_data_that_does_not_match(store: ContentStore) -> None:
    sha = hashlib.sha256(b"the real thing").hexdigest()
    part = store.partial_path(sha)
    part.write_bytes(b"something else")
    with pytest.raises(StoreError) as e:
        store.commit_blob(sha, part)
    assert e.value.code == "hash_mismatch"
    assert not part.exists()
    assert not store.has_blob(sha)


@pytest.mark.parametrize("rel", ["../state.json", "/etc/passwd", "manifest.json", "envelope.json",
                                 "services/../../lock", "services", "", "nope.txt"])
def test_file_path_serves_only_manifest_files(store: ContentStore, rel: str) -> None:
    install(store, pack(1), 1)
    assert store.file_path(rel) is None


def test_reserved_names_in_a_pack_are_refused(store: ContentStore) -> None:
    files = {"manifest.json": b"{}", "a.txt": b"a"}
    add_blobs(store, files)
    with pytest.raises(StoreError) as e:
        store.activate(manifest_of(files, 1), b"{}")
    assert e.value.code == "reserved_path"
    assert store.active_version() is None


def test_keeps_three_versions_and_prunes_unused_blobs(store: ContentStore) -> None:
    manifests = [install(store, pack(v), v) for v in range(1, 6)]
    assert store.versions() == [3, 4, 5]
    used = {f.sha256 for m in manifests[2:] for f in m.files}
    on_disk = {p.name for p in (store.root / "blobs").rglob("*") if p.is_file()}
    assert on_disk == used
    assert store.file_path("shared.txt").read_bytes() == b"same in every version"


def test_rollback_blocks_the_version_left_and_a_newer_one_still_activates(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "c")
    for v in (1, 2, 3):
        install(store, pack(v), v)
    assert store.rollback() == 2
    assert store.active_version() == 2
    assert store.file_path("services/index.json").read_bytes() == b'{"v": 2}'
    assert store.rollback() == 1
    with pytest.raises(StoreError) as e:
        store.rollback()
    assert e.value.code == "no_previous"
    assert ContentStore(tmp_path / "c").blocked_versions() == [2, 3]  # survives a restart
    install(store, pack(4), 4)
    assert store.active_version() == 4
    assert store.versions() == [1, 4]  # blocked versions are not kept as rollback targets


def test_rollback_with_nothing_active_is_a_clear_error(store: ContentStore) -> None:
    with pytest.raises(StoreError, match="nothing to roll back"):
        store.rollback()


def test_leftovers_of_a_killed_writer_are_cleaned_on_start(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "c")
    files = pack(1)
    install(store, files, 1)
    half = store.root / "versions" / ".building-2-dead"
    (half / "audio").mkdir(parents=True)
    (half / "audio" / "x.ogg").write_bytes(b"half")
    trash = store.root / "versions" / ".trash-0-dead"
    trash.mkdir()
    (store.root / "current.abcd.tmp").symlink_to("versions/2")
    sha = hashlib.sha256(files["shared.txt"]).hexdigest()
    store.partial_path(sha).write_bytes(b"already have it")
    stale_unrelated = store.partial_path("ab" * 32)
    stale_unrelated.write_bytes(b"resume me")

    again = ContentStore(tmp_path / "c")
    assert not half.exists() and not trash.exists()
    assert not (store.root / "current.abcd.tmp").exists()
    assert not store.partial_path(sha).exists()
    assert stale_unrelated.read_bytes() == b"resume me"  # kept for Range resume
    assert again.active_version() == 1
    assert again.versions() == [1]


def test_readers_never_see_a_half_switched_version(store: ContentStore) -> None:
    """While versions switch, every read through the store returns one complete version's file."""
    packs = {v: {"big.bin": bytes([v]) * 200_000, "v.txt": b"%d" % v} for v in range(1, 9)}
    install(store, packs[1], 1)
    bad: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            d = store.active_dir()
            v = int((d / "v.txt").read_bytes())
            if (d / "big.bin").read_bytes() != packs[v]["big.bin"]:
                bad.append(f"version {v} big.bin mismatched")

    t = threading.Thread(target=reader)
    t.start()
    for v in range(2, 9):
        install(store, packs[v], v)
    done.set()
    t.join()
    assert bad == []
    assert store.active_version() == 8


def test_a_second_process_cannot_write_while_one_holds_the_lock(tmp_path: Path) -> None:
    root = tmp_path / "c"
    store = ContentStore(root)
    install(store, pack(1), 1)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom edge.store import ContentStore\ns = ContentStore(sys.argv[1])\n"
         "with s.lock():\n    print('locked', flush=True)\n    time.sleep(30)\n", str(root)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError) as e:
            store.rollback(lock_timeout=0.3)  # gives up with a clear error, never hangs
        assert e.value.code == "busy"
        with pytest.raises(StoreError), store.lock(timeout=0.1):
            pass
    finally:
        holder.kill()
        holder.wait()
    with store.lock(timeout=2):
        pass  # a killed holder's lock is released by the kernel


def test_lock_is_exclusive_between_threads_and_reentrant(store: ContentStore) -> None:
    got: list[str] = []
    with store.lock():
        with store.lock():
            got.append("nested")
        t = threading.Thread(target=lambda: got.append(
            "other" if _try_lock(store) else "other-busy"))
        t.start()
        t.join()
    assert got == ["nested", "other-busy"]
    assert _try_lock(store)


def _try_lock(store: ContentStore) -> bool:
    try:
        with store.lock(timeout=0.1):
            return True
    except StoreError:
        return False


def test_active_dir_stays_that_version_after_a_switch(store: ContentStore) -> None:
    install(store, pack(1), 1)
    d1 = store.active_dir()
    install(store, pack(2), 2)
    assert (d1 / "services/index.json").read_bytes() == b'{"v": 1}'
