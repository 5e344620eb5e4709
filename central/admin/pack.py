"""Build, sign and publish a content pack.

build:   check the pack (every problem listed), copy its own files into OUT, write OUT/manifest.json
sign:    re-hash OUT against the manifest, then write OUT/manifest.signed.json (Ed25519 envelope)
publish: re-hash again, check the envelope matches the manifest and is newer than the origin's,
         then hand over to publish.publish (blobs first, `latest` last)

Each stage re-checks what it is given, so a file edited between stages is caught before a kiosk
could download a blob whose content does not match its name.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from central.admin.keys import AdminError, load_private
from central.admin.publish import manifest_for_dir, publish
from kiosk import signing
from kiosk.content import Pack, load_pack, pack_files
from kiosk.manifest import ENVELOPE_KIND, LATEST_SCHEMA, Manifest, ManifestError, sha256_file

MANIFEST = "manifest.json"
SIGNED = "manifest.signed.json"

ProgressFn = Callable[[int, int], None] | None


def default_version() -> int:
    """YYYYMMDDHHMM in UTC: grows with time, readable at a glance."""
    return int(datetime.now(UTC).strftime("%Y%m%d%H%M"))


def build(src: Path, out: Path, version: int | None = None, progress: ProgressFn = None) -> tuple[Pack, Manifest]:
    """Check `src` (PackError lists every problem), copy it to `out`, write the manifest."""
    pack = load_pack(src)
    version = default_version() if version is None else version
    if version <= 0:
        raise AdminError(f"version {version} must be a positive number")
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise AdminError(f"{out} is not empty and not an earlier build; choose an empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for rel in pack_files(src):
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / rel, staging / rel)
        load_pack(staging)  # what ships must load on its own, not just the source folder
        manifest = manifest_for_dir(staging, pack.pack_id, version, progress)
        (staging / MANIFEST).write_bytes(manifest.to_json())
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return pack, manifest


def read_manifest(out: Path) -> tuple[bytes, Manifest]:
    path = out / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AdminError(f"{path} not found; run `kiosk admin pack build` first") from None
    try:
        return raw, Manifest.from_json(raw)
    except ManifestError as e:
        raise AdminError(f"{path}: {e}") from None


def check_files(out: Path, manifest: Manifest, progress: ProgressFn = None) -> None:
    """Every file the manifest lists is in `out` with its size and hash; nothing extra rides along."""
    problems = []
    for i, f in enumerate(manifest.files, 1):
        p = out / f.path
        if not p.is_file():
            problems.append(f"{f.path}: missing")
        elif p.stat().st_size != f.size or sha256_file(p) != f.sha256:
            problems.append(f"{f.path}: changed since the build")
        if progress:
            progress(i, len(manifest.files))
    listed = {f.path for f in manifest.files} | {MANIFEST, SIGNED}
    extra = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    problems += [f"{rel}: not in the manifest" for rel in extra if rel not in listed]
    if problems:
        raise AdminError(f"{out} does not match its manifest; rebuild it:\n" + "\n".join(problems))


def sign(out: Path, key_file: Path, key_id: str, expires_days: int = 365,
         progress: ProgressFn = None) -> signing.Envelope:
    if expires_days < 1:
        raise AdminError("--expires-days must be at least 1")
    raw, manifest = read_manifest(out)
    key = load_private(key_file)
    check_files(out, manifest, progress)
    env = signing.sign(ENVELOPE_KIND, raw, key, key_id, manifest.version, timedelta(days=expires_days))
    (out / SIGNED).write_bytes(env.to_json())
    return env


def origin_version(origin: Path) -> int | None:
    """The version the origin's latest.json announces, or None for an empty origin."""
    path = origin / "latest.json"
    if not path.exists():
        return None
    try:
        d = json.loads(path.read_bytes())
        if d.get("schema") != LATEST_SCHEMA:
            raise ValueError(f"schema {d.get('schema')!r}")
        return int(d["version"])
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise AdminError(f"{path} is unreadable ({e}); fix or remove it before publishing") from None


def publish_build(out: Path, origin: Path, *, allow_unsigned: bool = False,
                  progress_check: ProgressFn = None, progress_copy: ProgressFn = None) -> tuple[Manifest, int]:
    """Publish the build in `out` to `origin`. Returns (manifest, bytes copied)."""
    raw, manifest = read_manifest(out)
    signed = out / SIGNED
    if signed.exists():
        try:
            env = signing.Envelope.from_json(signed.read_bytes())
        except signing.EnvelopeError as e:
            raise AdminError(f"{signed}: {e}") from None
        if env.kind != ENVELOPE_KIND or env.payload != raw or env.version != manifest.version:
            raise AdminError(f"{signed} does not match {MANIFEST}; sign the build again")
        if not env.signed and not allow_unsigned:
            raise AdminError(f"{signed} carries no signature; sign it or pass --allow-unsigned")
        try:
            expires = datetime.fromisoformat(env.expires)
        except ValueError:
            raise AdminError(f"{signed}: expiry {env.expires!r} is not a date") from None
        if expires.replace(tzinfo=expires.tzinfo or UTC) <= datetime.now(UTC):
            raise AdminError(f"{signed} expired at {env.expires}; sign the build again")
    elif allow_unsigned:
        env = signing.unsigned(ENVELOPE_KIND, raw, manifest.version)
    else:
        raise AdminError(f"{out} is not signed; run `kiosk admin pack sign` (or pass --allow-unsigned "
                         "for a development origin)")
    current = origin_version(origin)
    if current is not None and manifest.version <= current:
        raise AdminError(f"version {manifest.version} is not newer than the origin's {current}; "
                         "build again (a newer --version)")
    check_files(out, manifest, progress_check)
    origin.mkdir(parents=True, exist_ok=True)
    copied = publish(out, manifest, env, origin, progress_copy)
    return manifest, copied
