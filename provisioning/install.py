"""Put an enrolment bundle in place on a kiosk: checked first, then swapped in whole, permissions tight.

Every check runs before anything is written: the manifest and the SHA-256 of each member, the key
matching the certificate, the certificate's CN being the kiosk id of kiosk.toml, and kiosk.toml passing
the config schema. A refused bundle changes nothing. The TLS files go into a fresh `tls.<serial>.<n>`
folder (0750; key 0600) and the `tls` symlink is swapped to it in one rename; kiosk.toml is replaced
atomically, the previous one kept beside it as `kiosk.toml.<time>.bak` (a hall's device ports live there).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk import config as config_mod
from kiosk.durable import atomic_write, fsync_dir, write_synced

from . import layout
from .ca import ProvisionError, common_name, key_matches

MAX_MEMBER = 1 << 20  # a bundle member is a few kB; anything this big is not ours
KEEP_TLS = 2          # the current TLS folder and the one before (to go back by hand)


@dataclass(frozen=True)
class Bundle:
    manifest: dict[str, object]
    files: dict[str, bytes]

    @property
    def kiosk_id(self) -> str:
        return str(self.manifest["kiosk_id"])


def read_bundle(path: Path) -> Bundle:
    """Open and check a bundle completely; ProvisionError (one line) if anything is off."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProvisionError(f"{path} not found") from None
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            for m in tar.getmembers():
                wanted = m.name in (layout.B_MANIFEST, *layout.BUNDLE_FILES)
                if not (wanted and m.isfile() and m.size <= MAX_MEMBER) or m.name in files:
                    raise ProvisionError(f"{path}: unexpected member {m.name[:60]!r}; not a bundle of ours")
                f = tar.extractfile(m)
                files[m.name] = f.read() if f else b""
    except (OSError, tarfile.TarError, EOFError):
        raise ProvisionError(f"{path} is not an enrolment bundle (damaged, or not a tar.gz)") from None
    try:
        manifest = json.loads(files.pop(layout.B_MANIFEST))
    except (KeyError, ValueError):
        raise ProvisionError(f"{path}: no readable {layout.B_MANIFEST}") from None
    if not isinstance(manifest, dict) or manifest.get("schema") != layout.BUNDLE_SCHEMA:
        raise ProvisionError(f"{path}: not a {layout.BUNDLE_SCHEMA} bundle")
    sums = manifest.get("files") or {}
    for name in layout.BUNDLE_FILES:
        if name not in files:
            raise ProvisionError(f"{path}: {name} is missing")
        if sums.get(name) != hashlib.sha256(files[name]).hexdigest():
            raise ProvisionError(f"{path}: {name} does not match its checksum (damaged or altered)")
    bundle = Bundle(manifest, files)
    _check_identity(path, bundle)
    return bundle


def _check_identity(path: Path, b: Bundle) -> None:
    try:
        cert = x509.load_pem_x509_certificate(b.files[layout.B_CERT])
        x509.load_pem_x509_certificate(b.files[layout.B_BROKER_CA])
    except ValueError:
        raise ProvisionError(f"{path}: a certificate in it is not PEM") from None
    try:
        key = serialization.load_pem_private_key(b.files[layout.B_KEY], password=None)
    except (ValueError, TypeError):
        raise ProvisionError(f"{path}: kiosk.key is not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not key_matches(key, cert):
        raise ProvisionError(f"{path}: kiosk.key does not belong to kiosk.crt; refusing the bundle")
    try:
        cfg = config_mod.parse(b.files[layout.B_CONFIG].decode("utf-8"), f"{path}:kiosk.toml")
    except (config_mod.ConfigError, UnicodeDecodeError) as e:
        raise ProvisionError(str(e).splitlines()[0]) from None
    cn = common_name(cert)
    if not (cn == cfg.kiosk.id == b.kiosk_id):
        raise ProvisionError(f"{path}: certificate CN {cn!r}, kiosk.toml id {cfg.kiosk.id!r} and bundle "
                             f"kiosk id {b.kiosk_id!r} differ")


def _write_tls(root: Path, b: Bundle, owner: str | None) -> Path:
    """A new, complete, fsync'd TLS folder; returns it (not yet in use)."""
    etc = layout.under(root, layout.ETC)
    final = etc / f"tls.{b.manifest.get('serial', 'x')}.{time.time_ns()}"
    tmp = etc / f".{final.name}.tmp"
    tmp.mkdir(mode=0o750)
    tmp.chmod(0o750)  # whatever the umask says
    for name, mode in ((layout.B_KEY, 0o600), (layout.B_CERT, 0o644), (layout.B_BROKER_CA, 0o644)):
        p = tmp / name
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        os.close(fd)
        os.chmod(p, mode)
        write_synced(p, b.files[name])
        if owner:
            shutil.chown(p, *_owner(owner))
    if owner:
        shutil.chown(tmp, *_owner(owner))
    fsync_dir(tmp)
    os.rename(tmp, final)
    fsync_dir(etc)
    return final


def _owner(spec: str) -> tuple[str, str | None]:
    user, _, group = spec.partition(":")
    return user, group or None


def _swap_link(link: Path, target: Path) -> None:
    if link.exists() and not link.is_symlink():  # a hand-made folder from before: keep it aside
        link.rename(link.with_name(f"{link.name}.pre-{time.time_ns()}"))
    tmp = link.with_name(f".{link.name}.new")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target.name)
    os.replace(tmp, link)  # the one step that switches every TLS file at once
    fsync_dir(link.parent)


def _prune(etc: Path, current: Path) -> None:
    old = sorted((p for p in etc.glob("tls.*.*") if p.is_dir() and not p.name.startswith(".")),
                 key=lambda p: p.name.rsplit(".", 1)[-1])
    others = [p for p in old if p != current]
    for p in others[:max(0, len(others) - (KEEP_TLS - 1))]:
        shutil.rmtree(p, ignore_errors=True)


def install(bundle_path: Path, root: Path = Path("/"), *, owner: str | None = None,
            force: bool = False) -> list[str]:
    """Install a bundle under `root`; returns one line per thing done."""
    b = read_bundle(bundle_path)
    etc = layout.under(root, layout.ETC)
    config_path = layout.under(root, layout.CONFIG)
    if config_path.exists() and not force:
        try:
            current = config_mod.load(config_path).kiosk.id
        except config_mod.ConfigError:
            current = None  # an unreadable config: replaced, but kept as a .bak
        if current is not None and current != b.kiosk_id:
            raise ProvisionError(f"this kiosk is enrolled as {current!r}, the bundle is for {b.kiosk_id!r}; "
                                 "--force to re-enrol it")
    etc.mkdir(parents=True, exist_ok=True)
    etc.chmod(0o755)  # the UI (another user) reads kiosk.toml; the key is guarded by tls/ and its mode
    done = []
    folder = _write_tls(root, b, owner)
    _swap_link(layout.under(root, layout.TLS), folder)
    done.append(f"TLS key and certificates in {layout.TLS} -> {folder.name} (key mode 0600)")
    new_config = b.files[layout.B_CONFIG]
    if config_path.exists() and config_path.read_bytes() != new_config:
        bak = config_path.with_name(f"kiosk.toml.{datetime.now(UTC):%Y%m%dT%H%M%SZ}.bak")
        shutil.copy2(config_path, bak)
        done.append(f"previous kiosk.toml kept as {bak.name}")
    atomic_write(config_path, new_config, mode=0o644)
    done.append(f"{layout.CONFIG} for {b.kiosk_id} (site {b.manifest.get('site')}, region "
                f"{b.manifest.get('region')})")
    _prune(etc, folder)
    return done


def cert_days_left(bundle: Bundle) -> float:
    cert = x509.load_pem_x509_certificate(bundle.files[layout.B_CERT])
    return (cert.not_valid_after_utc - datetime.now(UTC)).total_seconds() / 86400
