"""Signed fleet commands and content announcements: kiosk.signing envelopes around fleet_wire payloads.

A signed command is an ordinary `fleet_wire.Command` whose `envelope` holds a `SignedCommand` (id, kind,
args, target, issued_at) signed with an admin key; the kiosk checks the outer fields against the signed
ones, so nothing outside the signature decides what runs. Versions are the signer's clock in microseconds
(strictly increasing within one signer process): every signer (fleet monitor, `kiosk admin config push`)
keeps NTP time, so a kiosk can refuse any version not newer than the last it accepted without having to
ask anyone what its next number is.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from kiosk import fleet_wire, signing
from kiosk.signing import Envelope, EnvelopeError

COMMAND_VALID_FOR = timedelta(hours=1)     # a command that waited longer than this in a queue is stale
ANNOUNCEMENT_VALID_FOR = timedelta(days=30)  # retained: kiosks that come back within a month still sync

_lock = threading.Lock()
_last_version = 0


def next_version() -> int:
    global _last_version
    with _lock:
        _last_version = max(_last_version + 1, time.time_ns() // 1000)
        return _last_version


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def target_of(kiosk: str | None = None, site: str | None = None, region: str | None = None) -> fleet_wire.Target:
    if sum(x is not None for x in (kiosk, site, region)) != 1:
        raise ValueError("a target is exactly one of a kiosk id, a site or a region")
    return fleet_wire.Target(kiosk=kiosk, site=site, region=region)


def sign_command(kind: str, args: dict[str, Any], target: fleet_wire.Target, key: Ed25519PrivateKey, key_id: str,
                 *, issued_by: str = "", command_id: str | None = None, version: int | None = None,
                 valid_for: timedelta = COMMAND_VALID_FOR) -> fleet_wire.Command:
    body = fleet_wire.SignedCommand(id=command_id or uuid.uuid4().hex, kind=kind, args=args, target=target,
                                    issued_at=now_iso(), issued_by=issued_by[:64])
    env = signing.sign(fleet_wire.COMMAND_ENVELOPE_KIND, fleet_wire.encode(body), key, key_id,
                       version if version is not None else next_version(), valid_for)
    return fleet_wire.Command(id=body.id, kind=kind, args=args, issued_at=body.issued_at,
                              issued_by=body.issued_by, envelope=env.to_json().decode())


def open_command(cmd: fleet_wire.Command, pinned: dict[str, str]) -> tuple[Envelope, fleet_wire.SignedCommand]:
    """Signature, key and the outer fields checked (not version, target or expiry: the kiosk's business);
    EnvelopeError with a stable code otherwise."""
    if not cmd.envelope:
        raise EnvelopeError("unsigned", f"command {cmd.kind[:40]!r} is not signed")
    env = Envelope.from_json(cmd.envelope.encode())
    payload = signing.verify(env, fleet_wire.COMMAND_ENVELOPE_KIND, pinned, enforce_expiry=False)
    try:
        body = fleet_wire.SignedCommand.model_validate_json(payload)
    except ValidationError as e:
        raise EnvelopeError("bad_envelope", f"signed command is malformed ({e.error_count()} problem(s))") from None
    if (body.id, body.kind, body.args) != (cmd.id, cmd.kind, dict(cmd.args)):
        raise EnvelopeError("mismatch", "the command's id, kind or args differ from what was signed")
    return env, body


def sign_announcement(version: int, key: Ed25519PrivateKey, key_id: str,
                      valid_for: timedelta = ANNOUNCEMENT_VALID_FOR) -> bytes:
    body = fleet_wire.ContentAnnouncement(version=version, issued_at=now_iso())
    return signing.sign(fleet_wire.ANNOUNCEMENT_ENVELOPE_KIND, fleet_wire.encode(body), key, key_id, version,
                        valid_for).to_json()


def open_announcement(raw: bytes, pinned: dict[str, str], *,
                      allow_unsigned: bool = False) -> tuple[Envelope, fleet_wire.ContentAnnouncement]:
    env = Envelope.from_json(raw)
    payload = signing.verify(env, fleet_wire.ANNOUNCEMENT_ENVELOPE_KIND, pinned, allow_unsigned=allow_unsigned,
                             enforce_expiry=False)
    try:
        body = fleet_wire.ContentAnnouncement.model_validate_json(payload)
    except ValidationError:
        raise EnvelopeError("bad_envelope", "content announcement is malformed") from None
    if body.version != env.version:
        raise EnvelopeError("version_mismatch", f"announcement says version {body.version}, its envelope "
                                                f"{env.version}")
    return env, body
