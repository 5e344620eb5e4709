"""kill -9 of a separate edge sync process at random moments: the store is always consistent,
and no complete blob is ever fetched twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.store import ContentStore
from kiosk.manifest import Manifest, sha256_file
from tests.test_sync_cli import write_config

ROOT = Path(__file__).parents[1]
KILLS = 24
# Bytes the origin may have sent that a killed process never stored: a chunk or two on each of
# the sync's parallel connections.
CHUNK_SLACK = 4 * 2 * 32 * 1024


def check_consistent(root: Path) -> int | None:
    """`current` is absent or names a complete version whose every file matches its manifest.

    Reads the files directly (no ContentStore): opening a store would clean the leftovers we count.
    """
    current = root / "current"
    if not os.path.lexists(current):
        return None
    target = root / os.readlink(current)
    assert target.parent == root / "versions" and target.name.isdigit(), target
    m = Manifest.from_json((target / "manifest.json").read_bytes())
    assert m.version == int(target.name)
    assert (target / "envelope.json").stat().st_size > 0
    for f in m.files:
        assert sha256_file(target / f.path) == f.sha256, f.path
    for blob in (root / "blobs").rglob("*"):
        if blob.is_file():
            assert sha256_file(blob) == blob.name, "an unverified blob reached blobs/"
    return m.version


def partial_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / "partial").glob("*.part") if p.exists())


def reached(root: Path, mode: str, before: str | None, partial_before: int = 0) -> bool:
    if mode == "building":
        return any((root / "versions").glob(".building-*"))
    if mode == "downloading":
        try:
            return partial_bytes(root) > partial_before
        except FileNotFoundError:  # a partial committed while we looked
            return False
    return os.path.lexists(root / "current") and os.readlink(root / "current") != before


def wait_until(proc: subprocess.Popen, cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline and not cond():
        time.sleep(0.001)


def make_pack(rng: random.Random, prev: dict[str, bytes] | None) -> dict[str, bytes]:
    """~3.5 MB: 160 small files and 10 large ones; a new version changes about a third of them."""
    if prev is None:
        files = {f"forms/{i:03d}.json": rng.randbytes(4000) for i in range(160)}
        files.update({f"audio/{i:02d}.ogg": rng.randbytes(300_000) for i in range(10)})
        return files
    files = dict(prev)
    for rel in rng.sample(sorted(files), k=len(files) // 3):
        files[rel] = rng.randbytes(len(files[rel]))
    return files


@pytest.mark.slow
def test_kill_9_at_random_moments_never_breaks_the_store(tmp_path, origin, publisher) -> None:
    seed = int(os.environ.get("KILL_SEED", "0")) or random.randrange(1 << 32)
    print(f"\nKILL_SEED={seed}")
    rng = random.Random(seed)
    cfg = write_config(tmp_path, origin.url, publisher.pinned)
    root = tmp_path / "edge" / "content"
    # Per connection; 4 at once: ~3.5 s per full pack, ~1 s per update, so kills land mid-download.
    origin.rate_bps = 250_000

    files = make_pack(rng, None)
    version = 1
    publisher.publish(files, version)
    needed = {f.sha256: f.size for f in publisher.published[-1].files}
    seen = {"partial": 0, "building": 0, "advanced": 0}
    active = None

    def spawn() -> subprocess.Popen:  # exactly what an operator or a timer unit runs
        return subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(cfg), "--log-level", "WARNING",
                                 "edge", "sync", "--once"], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    for i in range(KILLS):
        if active == version:  # the last one landed: publish the next
            files = make_pack(rng, files)
            version += 1
            publisher.publish(files, version)
            needed.update({f.sha256: f.size for f in publisher.published[-1].files})
        # Random moments; every third kill waits for a version dir being built, or for the switch,
        # so the short activation window (tens of ms) is hit too, not only by luck. "downloading"
        # waits for bytes to arrive first: a loaded machine may take seconds just to start Python.
        mode = ("random", "building", "downloading", "switched", "downloading", "random")[i % 6]
        before = os.readlink(root / "current") if os.path.lexists(root / "current") else None
        partial_before = partial_bytes(root) if (root / "partial").exists() else 0
        proc = spawn()
        if mode == "random":
            time.sleep(rng.uniform(0.3, 1.6))
        else:
            wait_until(proc, lambda m=mode, b=before, pb=partial_before: reached(root, m, b, pb))
            if mode == "downloading":
                time.sleep(rng.uniform(0.0, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if any((root / "partial").glob("*.part")):
            seen["partial"] += 1
        if any((root / "versions").glob(".building-*")):
            seen["building"] += 1
        now = check_consistent(root)
        assert now is None or active is None or now >= active, "the active version went backwards"
        seen["advanced"] += now != active
        active = now

    proc = spawn()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert check_consistent(root) == version
    store = ContentStore(root)
    assert {f.path: store.file_path(f.path).read_bytes() for f in store.active_manifest().files} == files

    served = origin.blob_bytes_served()
    total = sum(needed.values())
    print(f"\nkill -9 x{KILLS}: phases seen {seen}; blob bytes served {served} for {total} needed")
    assert seen["partial"] >= 3, f"too few kills landed mid-download: {seen}"
    assert seen["building"] >= 1, f"no kill landed while a version was being built: {seen}"
    assert seen["advanced"] >= 2, f"too few versions completed between kills: {seen}"
    # Every blob once, plus at most the in-flight tail of each kill that interrupted downloads
    # (+1 for a kill landing between a response's headers and its .part file being opened).
    assert total <= served <= total + (seen["partial"] + 1) * CHUNK_SLACK
