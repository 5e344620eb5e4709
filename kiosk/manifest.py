"""The content manifest and the origin layout, shared by the pack builder and the edge sync.

Origin (any static HTTP server or object store):
    latest.json                      {"schema": "kiosk.latest/1", "version": N, "manifest": "manifests/N.json"}
    manifests/<version>.json         a signed envelope (kind "content-manifest") holding the manifest
    blobs/<sha256[:2]>/<sha256>      every file of every pack, stored once by content hash

`latest.json` is a hint, not trusted: the manifest it points to is verified on its own.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = "kiosk.manifest/1"
LATEST_SCHEMA = "kiosk.latest/1"
ENVELOPE_KIND = "content-manifest"
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_PATH_RE = re.compile(r"^(?!/)(?!.*(?:^|/)\.\.(?:/|$))[A-Za-z0-9._/\-]+$")


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    pack_id: str
    version: int
    created: str
    files: tuple[FileEntry, ...]

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> bytes:
        return json.dumps({
            "schema": SCHEMA, "pack_id": self.pack_id, "version": self.version, "created": self.created,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }, ensure_ascii=False, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            d = json.loads(data)
        except ValueError as e:
            raise ManifestError(f"manifest is not JSON: {e}") from None
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise ManifestError(f"unknown manifest schema {d.get('schema') if isinstance(d, dict) else d!r}")
        try:
            files = []
            seen = set()
            for f in d["files"]:
                entry = FileEntry(str(f["path"]), int(f["size"]), str(f["sha256"]))
                if not _PATH_RE.match(entry.path):
                    raise ManifestError(f"unsafe path in manifest: {entry.path!r}")
                if not _SHA_RE.match(entry.sha256) or entry.size < 0:
                    raise ManifestError(f"bad hash or size for {entry.path!r}")
                if entry.path in seen:
                    raise ManifestError(f"duplicate path in manifest: {entry.path!r}")
                seen.add(entry.path)
                files.append(entry)
            return cls(str(d["pack_id"]), int(d["version"]), str(d["created"]), tuple(files))
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, ManifestError):
                raise
            raise ManifestError(f"malformed manifest: {e}") from None


def sha256_file(path: Path) -> str:
    """The hash a blob is named by (read in 1 MiB chunks: packs hold audio and images)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def blob_path(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}"


def manifest_path(version: int) -> str:
    return f"manifests/{version}.json"


def latest_json(version: int) -> bytes:
    return json.dumps({"schema": LATEST_SCHEMA, "version": version, "manifest": manifest_path(version),
                       "published": datetime.now(UTC).isoformat(timespec="seconds")}).encode()
