"""The edge's content store: blobs by hash, complete versions as plain directories, an atomic switch.

Layout under `root`:
    blobs/<aa>/<sha256>          verified blobs, read-only (hard-linked into every version using them)
    partial/<sha256>.part        downloads in progress, kept across restarts for HTTP Range resume
    versions/<N>/                the pack as a plain directory tree + manifest.json + envelope.json
    versions/.building-<N>-*     a version being built; renamed to versions/<N> only when complete
    current -> versions/<N>      the active version, switched with os.replace of a symlink
    state.json                   {"blocked_versions": [...]} versions an admin rolled back from
    lock                         fcntl lock: one writing process at a time, held only for short steps
    sync.lock                    fcntl lock: one sync round (downloads included) at a time

Every step that changes what a reader can see is one rename followed by an fsync of its
directory, so kill -9 or power loss leaves the old active version or the new complete one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.config import EdgeSection
from kiosk.durable import atomic_write, fsync_dir, write_synced
from kiosk.manifest import FileEntry, Manifest, ManifestError, sha256_file

log = logging.getLogger(__name__)

KEEP_VERSIONS = 3
MANIFEST_NAME = "manifest.json"
ENVELOPE_NAME = "envelope.json"
RESERVED_NAMES = frozenset({MANIFEST_NAME, ENVELOPE_NAME})
_BUILDING = ".building-"
_TRASH = ".trash-"


class StoreError(Exception):
    """A store operation that cannot be done; `code` is stable, the message is plain words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Snapshot:
    """One content version as one reader sees it, resolved once: its entry, path and ETag agree
    whatever switch happens meanwhile (a version directory never changes under its number)."""

    version: int
    directory: Path
    manifest: Manifest
    files: Mapping[str, FileEntry] = field(repr=False, compare=False)

    def entry(self, rel_path: str) -> FileEntry | None:
        return self.files.get(rel_path)

    def path(self, rel_path: str) -> Path | None:
        """Anything not in the manifest is None, which also keeps `..`, absolute paths and the
        store's own files out of reach."""
        return self.directory / rel_path if rel_path in self.files else None


class ContentStore:
    """Content-addressed blobs plus the last few complete versions; see the module docstring."""

    def __init__(self, root: Path, *, keep: int = KEEP_VERSIONS) -> None:
        self.root = Path(root)
        self.keep = max(2, keep)
        self.blobs_dir = self.root / "blobs"
        self.partial_dir = self.root / "partial"
        self.versions_dir = self.root / "versions"
        for d in (self.blobs_dir, self.partial_dir, self.versions_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._current = self.root / "current"
        self._state_path = self.root / "state.json"
        self._lock_path = self.root / "lock"
        self._sync_lock_path = self.root / "sync.lock"
        self._thread_lock = threading.RLock()
        self._sync_thread_lock = threading.Lock()
        self._lock_depth = 0
        self._lock_fd: int | None = None
        self._manifest_cache: tuple[int, Manifest] | None = None
        self._snapshot_cache: tuple[tuple[int, int, int], Snapshot] | None = None
        # Leftovers of a killed writer; skipped when another process is writing right now, or
        # when this process may only read the store.
        with contextlib.suppress(StoreError, PermissionError), self.lock(timeout=0):
            pass

    @classmethod
    def for_config(cls, edge: EdgeSection) -> ContentStore:
        return cls(edge.data_dir / "content")

    # --- locking -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, timeout: float = 10.0) -> Iterator[None]:
        """Hold the store for writing: one thread here and one process on the machine.

        Re-entrant within a thread. Raises StoreError("busy") after `timeout` seconds. Each outer
        hold first cleans what a killed writer left behind (cheap: a few directory listings).
        """
        acquired = (self._thread_lock.acquire(timeout=timeout) if timeout > 0
                    else self._thread_lock.acquire(blocking=False))
        if not acquired:
            raise StoreError("busy", "the content store is busy in another thread")
        try:
            if self._lock_depth == 0:
                self._lock_fd = self._flock(timeout)
                try:
                    self._clean_leftovers()
                except BaseException:
                    self._unflock()
                    raise
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0:
                    self._unflock()
        finally:
            self._thread_lock.release()

    @contextlib.contextmanager
    def sync_lock(self) -> Iterator[None]:
        """Hold the right to run a sync round (downloads into partial/ included), without blocking.

        Separate from lock(): a download may take minutes on a slow link, and rollback must not
        wait for it. Raises StoreError("busy") at once if another round runs (here or elsewhere).
        """
        if not self._sync_thread_lock.acquire(blocking=False):
            raise StoreError("busy", "a content sync is already running in this process")
        try:
            fd = self._flock(0, self._sync_lock_path, "another edge process is syncing content")
            try:
                yield
            finally:
                os.close(fd)
        finally:
            self._sync_thread_lock.release()

    def _flock(self, timeout: float, path: Path | None = None,
               busy: str = "another edge process is writing the content store") -> int:
        fd = os.open(path or self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    os.close(fd)
                    raise
            if time.monotonic() >= deadline:
                os.close(fd)
                raise StoreError("busy", busy)
            time.sleep(0.05)

    def _unflock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor drops the flock
            self._lock_fd = None

    def _clean_leftovers(self) -> None:
        for p in self.versions_dir.iterdir():
            if p.name.startswith((_BUILDING, _TRASH)):
                shutil.rmtree(p, ignore_errors=True)
        for p in list(self.root.glob("*.tmp")) + list(self.versions_dir.glob("*.tmp")):
            p.unlink(missing_ok=True)
        for p in self.partial_dir.iterdir():
            sha = p.name.removesuffix(".part")
            if not p.name.endswith(".part") or self.has_blob(sha):
                p.unlink(missing_ok=True)

    # --- reading the active version --------------------------------------------------------------

    def active_version(self) -> int | None:
        try:
            target = os.readlink(self._current)
        except FileNotFoundError:
            return None
        name = Path(target).name
        if not name.isdigit() or not (self.versions_dir / name / MANIFEST_NAME).exists():
            return None
        return int(name)

    def active_dir(self) -> Path | None:
        """The active version's directory (a stable path: it stays this version after a switch)."""
        v = self.active_version()
        return None if v is None else self.versions_dir / str(v)

    def active_manifest(self) -> Manifest | None:
        snap = self.snapshot()
        return None if snap is None else snap.manifest

    def snapshot(self) -> Snapshot | None:
        """The active version, resolved once (one readlink, one manifest read); None if none.

        Cached per (version, manifest inode, mtime), so a same-numbered rebuild is noticed too.
        """
        try:
            name = Path(os.readlink(self._current)).name
        except FileNotFoundError:
            return None
        if not name.isdigit():
            return None
        directory = self.versions_dir / name
        try:
            with open(directory / MANIFEST_NAME, "rb") as f:
                st = os.fstat(f.fileno())
                key = (int(name), st.st_ino, st.st_mtime_ns)
                cached = self._snapshot_cache
                if cached and cached[0] == key:
                    return cached[1]
                manifest = Manifest.from_json(f.read())
        except (OSError, ManifestError):
            return None
        snap = Snapshot(int(name), directory, manifest, {e.path: e for e in manifest.files})
        self._snapshot_cache = (key, snap)
        return snap

    def version_manifest(self, version: int) -> Manifest | None:
        cached = self._manifest_cache
        if cached and cached[0] == version:
            return cached[1]
        try:
            m = Manifest.from_json((self.versions_dir / str(version) / MANIFEST_NAME).read_bytes())
        except (OSError, ManifestError):
            return None
        self._manifest_cache = (version, m)
        return m

    def file_entry(self, rel_path: str) -> FileEntry | None:
        """Convenience for one lookup; a reader that also needs the path uses one snapshot()."""
        snap = self.snapshot()
        return None if snap is None else snap.entry(rel_path)

    def file_path(self, rel_path: str) -> Path | None:
        """The active version's file for a manifest path (see Snapshot.path)."""
        snap = self.snapshot()
        return None if snap is None else snap.path(rel_path)

    def versions(self) -> list[int]:
        """Complete versions kept on disk, oldest first."""
        return sorted(int(p.name) for p in self.versions_dir.iterdir()
                      if p.name.isdigit() and (p / MANIFEST_NAME).exists())

    # --- blobs -----------------------------------------------------------------------------------

    def blob_path(self, sha: str) -> Path:
        return self.blobs_dir / sha[:2] / sha

    def partial_path(self, sha: str) -> Path:
        return self.partial_dir / f"{sha}.part"

    def has_blob(self, sha: str) -> bool:
        return self.blob_path(sha).is_file()

    def commit_blob(self, sha: str, part_path: Path) -> Path:
        """Verify a downloaded file against its hash and move it into blobs/ (read-only).

        A mismatch deletes the file and raises StoreError("hash_mismatch"). Hashing runs before the
        store lock (the partial is the caller's alone): a big blob must not hold up a rollback.
        """
        if sha256_file(part_path) != sha:
            part_path.unlink(missing_ok=True)
            raise StoreError("hash_mismatch", f"downloaded data does not match hash {sha[:12]}")
        with open(part_path, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(part_path, 0o444)
        with self.lock():
            dest = self.blob_path(sha)
            dest.parent.mkdir(exist_ok=True)
            os.replace(part_path, dest)
            fsync_dir(dest.parent)
            return dest

    # --- versions --------------------------------------------------------------------------------

    @staticmethod
    def check_manifest(manifest: Manifest) -> None:
        """Refuse a manifest whose files would collide with the store's own files in a version dir."""
        for f in manifest.files:
            if f.path in RESERVED_NAMES:
                raise StoreError("reserved_path", f"pack file {f.path!r} uses a name the store reserves")
        paths = {f.path for f in manifest.files}
        for f in manifest.files:
            parts = f.path.split("/")
            for i in range(1, len(parts)):
                if "/".join(parts[:i]) in paths:
                    raise StoreError("bad_manifest", f"pack path {f.path!r} is below the file {parts[i - 1]!r}")

    def activate(self, manifest: Manifest, envelope_bytes: bytes) -> None:
        """Build versions/<N> from blobs and make it the active version. All blobs must be present.

        Clears partial/: callers downloading in parallel must hold sync_lock() (sync does).
        """
        self.check_manifest(manifest)
        with self.lock():
            missing = [f.path for f in manifest.files if not self.has_blob(f.sha256)]
            if missing:
                raise StoreError("missing_blobs", f"{len(missing)} blob(s) missing, e.g. {missing[0]!r}")
            final = self.versions_dir / str(manifest.version)
            manifest_bytes = manifest.to_json()
            if not (final / MANIFEST_NAME).exists() or (final / MANIFEST_NAME).read_bytes() != manifest_bytes:
                self._build(manifest, manifest_bytes, envelope_bytes, final)
            self._switch(manifest.version)
            self._clear_partials()
            self._prune()

    def _build(self, manifest: Manifest, manifest_bytes: bytes, envelope_bytes: bytes, final: Path) -> None:
        building = self.versions_dir / f"{_BUILDING}{manifest.version}-{secrets.token_hex(4)}"
        building.mkdir()
        for f in manifest.files:
            dest = building / f.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(self.blob_path(f.sha256), dest)
        write_synced(building / MANIFEST_NAME, manifest_bytes)
        write_synced(building / ENVELOPE_NAME, envelope_bytes)
        for d, _, _ in os.walk(building, topdown=False):
            fsync_dir(Path(d))
        if final.exists():  # a same-numbered version with other content: set it aside first
            self._trash(final)
            self._manifest_cache = None
        os.rename(building, final)
        fsync_dir(self.versions_dir)

    def _switch(self, version: int) -> None:
        tmp = self.root / f"current.{secrets.token_hex(4)}.tmp"
        os.symlink(f"versions/{version}", tmp)
        os.replace(tmp, self._current)
        fsync_dir(self.root)
        log.info("content version active", extra={"version": version})

    def _trash(self, path: Path) -> None:
        """Delete a version dir so that no half-deleted dir ever looks like a complete version."""
        trash = self.versions_dir / f"{_TRASH}{path.name}-{secrets.token_hex(4)}"
        os.rename(path, trash)
        fsync_dir(self.versions_dir)
        shutil.rmtree(trash, ignore_errors=True)

    def _clear_partials(self) -> None:
        # Once a version is complete no download is in progress: any partial left is stale.
        for p in self.partial_dir.iterdir():
            p.unlink(missing_ok=True)

    def _prune(self) -> None:
        """Keep the active version and the newest older unblocked ones (keep in all); drop the
        other version dirs, then every blob no kept version uses."""
        active = self.active_version()
        blocked = set(self.blocked_versions())
        older = [v for v in self.versions() if active is None or v < active]
        kept = ({active} if active is not None else set()) | {
            v for v in sorted((v for v in older if v not in blocked), reverse=True)[: self.keep - 1]}
        for v in self.versions():
            if v not in kept:
                self._trash(self.versions_dir / str(v))
        used: set[str] = set()
        for v in kept:
            m = self.version_manifest(v)
            if m is None:  # unreadable manifest: keep every blob rather than guess
                return
            used.update(f.sha256 for f in m.files)
        for sub in self.blobs_dir.iterdir():
            for blob in sub.iterdir():
                if blob.name not in used:
                    blob.unlink(missing_ok=True)

    # --- rollback --------------------------------------------------------------------------------

    def blocked_versions(self) -> list[int]:
        try:
            data = json.loads(self._state_path.read_bytes())
            return sorted(int(v) for v in data.get("blocked_versions", []))
        except FileNotFoundError:
            return []
        except (ValueError, TypeError, AttributeError):
            log.warning("content store state.json is unreadable; treating it as empty")
            return []

    def rollback(self, *, lock_timeout: float = 10.0) -> int:
        """Switch to the newest kept version older than the active one; block the one left.

        Returns the version now active. A blocked version is never re-applied by sync; a newer
        one still is.
        """
        with self.lock(timeout=lock_timeout):
            active = self.active_version()
            if active is None:
                raise StoreError("nothing_active", "no content version is active, nothing to roll back")
            blocked = set(self.blocked_versions())
            older = [v for v in self.versions() if v < active and v not in blocked]
            if not older:
                raise StoreError("no_previous", f"version {active} is the oldest kept; nothing to roll back to")
            target = older[-1]
            blocked.add(active)
            atomic_write(self._state_path, json.dumps({"blocked_versions": sorted(blocked)}).encode())
            self._switch(target)
            log.warning("content rolled back", extra={"version": target, "from_version": active})
            return target
