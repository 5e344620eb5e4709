"""Writing a pack to an origin: blobs by hash, the signed manifest, then the `latest` pointer.

The pointer is written last and atomically, so an edge polling mid-publish sees either the old
version or the complete new one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from kiosk.durable import atomic_write
from kiosk.manifest import FileEntry, Manifest, blob_path, latest_json, manifest_path, sha256_file
from kiosk.signing import Envelope


def manifest_for_dir(pack_dir: Path, pack_id: str, version: int,
                     progress: Callable[[int, int], None] | None = None) -> Manifest:
    """Hash every file under pack_dir (the pack's own manifest files excluded)."""
    paths = sorted(p for p in pack_dir.rglob("*") if p.is_file() and p.name != "manifest.json")
    entries = []
    for i, p in enumerate(paths, 1):
        entries.append(FileEntry(p.relative_to(pack_dir).as_posix(), p.stat().st_size, sha256_file(p)))
        if progress:
            progress(i, len(paths))
    return Manifest(pack_id, version, datetime.now(UTC).isoformat(timespec="seconds"), tuple(entries))


def publish(pack_dir: Path, manifest: Manifest, envelope: Envelope, origin: Path,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Copy missing blobs, write the manifest envelope, move `latest`. Returns bytes copied."""
    copied = 0
    for i, f in enumerate(manifest.files, 1):
        dest = origin / blob_path(f.sha256)
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".tmp")
            shutil.copyfile(pack_dir / f.path, tmp)
            with open(tmp, "rb") as b:  # on disk before `latest` can point at it: never re-copied later
                os.fsync(b.fileno())
            os.replace(tmp, dest)
            copied += f.size
        if progress:
            progress(i, len(manifest.files))
    atomic_write(origin / manifest_path(manifest.version), envelope.to_json())
    atomic_write(origin / "latest.json", latest_json(manifest.version))
    return copied
