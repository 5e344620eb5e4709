"""One kiosk's enrolment bundle: a tar.gz (mode 0600: it holds the kiosk's private key) to carry to the hall.

Members (flat names, see layout.py): bundle.json (kiosk id, site, region, certificate serial and expiry,
the SHA-256 of every other member), kiosk.key, kiosk.crt (device CA, CN = kiosk id), broker-ca.crt (the
server CA: whom the kiosk trusts to be the broker) and kiosk.toml (the kiosk id, the pinned admin keys,
[mqtt] over TLS with the paths install puts the files at; everything else default).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import time
import tomllib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from kiosk import config as config_mod
from kiosk.durable import atomic_write

from . import layout
from .ca import CA, CLIENT_DAYS, SERVER_CA, ProvisionError, cert_pem, check_kiosk_id, key_pem

_ADMIN_KEY_RE = re.compile(r"^([^=\s\"'\\]+)=([A-Za-z0-9+/=]{40,64})$")


@dataclass(frozen=True)
class Enrolment:
    kiosk_id: str
    site: str
    region: str
    broker_host: str
    broker_port: int
    admin_keys: list[config_mod.AdminKey]


def parse_admin_key(arg: str) -> config_mod.AdminKey:
    """`KEY_ID=BASE64` as given on the command line."""
    m = _ADMIN_KEY_RE.match(arg.strip())
    if not m:
        raise ProvisionError("--admin-key takes KEY_ID=BASE64_PUBLIC_KEY (the line `kiosk admin keygen` prints)")
    return config_mod.AdminKey(key_id=m.group(1), public_key=m.group(2))


def read_admin_keys(path: Path) -> list[config_mod.AdminKey]:
    """The `[[edge.admin_keys]]` tables in a file (what `kiosk admin keygen` prints, saved)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ProvisionError(f"{path}: not a readable TOML file of admin keys: {e}") from None
    raw = (doc.get("edge") or {}).get("admin_keys") or []
    if not raw:
        raise ProvisionError(f"{path}: holds no [[edge.admin_keys]] table")
    try:
        return [config_mod.AdminKey.model_validate(k) for k in raw]
    except ValueError:
        raise ProvisionError(f"{path}: an [[edge.admin_keys]] entry is not a key id and a base64 key") from None


def _q(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string


def kiosk_toml(e: Enrolment) -> str:
    fields = config_mod.KioskSection.model_fields
    lines = [f"# kiosk.toml for {e.kiosk_id} (site {e.site}, region {e.region}), written by `kiosk provision "
             f"enroll` on {datetime.now(UTC):%Y-%m-%d}.",
             "# Every key not set here has its default (see kiosk.example.toml): set this hall's device ports.",
             "[kiosk]", f"id = {_q(e.kiosk_id)}"]
    # The schema may know where a kiosk stands (config pushes target a site or a region); older ones not.
    lines += [f"{k} = {_q(v)}" for k, v in (("site", e.site), ("region", e.region)) if k in fields]
    lines.append("")
    for k in e.admin_keys:
        lines += ["[[edge.admin_keys]]", f"key_id = {_q(k.key_id)}", f"public_key = {_q(k.public_key)}", ""]
    lines += ["[mqtt]", "enabled = true", f"host = {_q(e.broker_host)}", f"port = {e.broker_port}",
              f"ca_file = {_q(str(layout.BROKER_CA))}", f"cert_file = {_q(str(layout.CERT))}",
              f"key_file = {_q(str(layout.KEY))}"]
    text = "\n".join(lines) + "\n"
    config_mod.parse(text, "<enrolment kiosk.toml>")  # never hand out a config the kiosk would refuse
    return text


def _label(what: str, value: str) -> str:
    value = value.strip()
    if not value or len(value) > 80 or any(c in value for c in "\"\\\n\r"):
        raise ProvisionError(f"{what} {value!r}: 1-80 characters, no quotes or line breaks")
    return value


def build(ca: CA, e: Enrolment, out: Path, *, force: bool = False, days: int = CLIENT_DAYS) -> dict[str, object]:
    """Issue the kiosk's certificate and write its bundle to `out`; returns the bundle's manifest."""
    check_kiosk_id(e.kiosk_id)
    e = replace(e, site=_label("site", e.site), region=_label("region", e.region))
    if not e.admin_keys:
        raise ProvisionError("no admin key: pin at least one (--admin-key or --admin-keys); "
                             "a kiosk without one refuses every signed pack and command")
    if out.exists() and not force:
        raise ProvisionError(f"{out} already exists; a bundle is never overwritten without --force")
    toml_text = kiosk_toml(e)
    server_ca = ca.crt(SERVER_CA).read_bytes()
    key, cert = ca.issue_client(e.kiosk_id, "kiosk", days)
    members = {layout.B_KEY: key_pem(key), layout.B_CERT: cert_pem(cert), layout.B_BROKER_CA: server_ca,
               layout.B_CONFIG: toml_text.encode()}
    manifest: dict[str, object] = {
        "schema": layout.BUNDLE_SCHEMA, "kiosk_id": e.kiosk_id, "site": e.site, "region": e.region,
        "created": datetime.now(UTC).isoformat(timespec="seconds"), "serial": f"{cert.serial_number:x}",
        "not_after": cert.not_valid_after_utc.isoformat(),
        "files": {n: hashlib.sha256(b).hexdigest() for n, b in members.items()}}
    members = {layout.B_MANIFEST: json.dumps(manifest, indent=1).encode(), **members}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    atomic_write(out, buf.getvalue(), mode=0o600)
    return manifest
