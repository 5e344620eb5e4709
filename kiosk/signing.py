"""Signed envelopes: payload bytes + Ed25519 signature + key id + version + expiry.

Used for content manifests and configuration documents. The admin signs with a private key;
edges verify against public keys pinned at provisioning (config `edge.admin_keys`). Versions
only go up: the caller passes the version it already has and an older or equal one is refused.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SCHEMA = "kiosk.envelope/1"
_DOMAIN = b"kiosk-envelope-v1\n"


class EnvelopeError(Exception):
    """An envelope that must not be used. `code` is stable, the message says why in plain words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Envelope:
    kind: str
    key_id: str  # "" = unsigned (accepted only where config allows it, for development)
    version: int
    expires: str  # UTC ISO-8601
    payload: bytes
    signature: bytes

    @property
    def signed(self) -> bool:
        return bool(self.key_id and self.signature)

    def to_json(self) -> bytes:
        return json.dumps({
            "schema": SCHEMA, "kind": self.kind, "key_id": self.key_id, "version": self.version,
            "expires": self.expires,
            "payload": base64.b64encode(self.payload).decode(),
            "signature": base64.b64encode(self.signature).decode(),
        }, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Envelope:
        try:
            d = json.loads(data)
            if not isinstance(d, dict):
                raise EnvelopeError("bad_envelope", "malformed envelope: not a JSON object")
            if d.get("schema") != SCHEMA:
                raise EnvelopeError("bad_envelope", f"unknown envelope schema {d.get('schema')!r}")
            return cls(kind=str(d["kind"]), key_id=str(d["key_id"]), version=int(d["version"]),
                       expires=str(d["expires"]),
                       payload=base64.b64decode(d["payload"], validate=True),
                       signature=base64.b64decode(d["signature"], validate=True))
        except EnvelopeError:
            raise
        except (ValueError, KeyError, TypeError) as e:
            raise EnvelopeError("bad_envelope", f"malformed envelope: {e}") from None


def _signing_input(kind: str, key_id: str, version: int, expires: str, payload: bytes) -> bytes:
    head = f"{kind}\n{key_id}\n{version}\n{expires}\n".encode()
    return _DOMAIN + head + payload


def generate_key() -> tuple[Ed25519PrivateKey, str]:
    """A new admin key and its public half as base64 (the form pinned in config)."""
    key = Ed25519PrivateKey.generate()
    return key, public_b64(key.public_key())


def public_b64(pub: Ed25519PublicKey) -> str:
    return base64.b64encode(pub.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def load_public(b64: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(b64))


def private_to_b64(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat
    return base64.b64encode(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()


def private_from_b64(b64: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(b64.strip()))


def sign(kind: str, payload: bytes, key: Ed25519PrivateKey, key_id: str, version: int,
         valid_for: timedelta = timedelta(days=365)) -> Envelope:
    expires = (datetime.now(UTC) + valid_for).isoformat(timespec="seconds")
    sig = key.sign(_signing_input(kind, key_id, version, expires, payload))
    return Envelope(kind, key_id, version, expires, payload, sig)


def unsigned(kind: str, payload: bytes, version: int, valid_for: timedelta = timedelta(days=365)) -> Envelope:
    expires = (datetime.now(UTC) + valid_for).isoformat(timespec="seconds")
    return Envelope(kind, "", version, expires, payload, b"")


def verify(env: Envelope, kind: str, pinned: dict[str, str], *, current_version: int | None = None,
           allow_unsigned: bool = False, now: datetime | None = None, enforce_expiry: bool = True) -> bytes:
    """Check an envelope and return its payload, or raise EnvelopeError saying why not.

    pinned: key id -> base64 public key. enforce_expiry=False: the caller judges the expiry itself
    (kiosk.trusted_time: a kiosk with a wrong clock must not refuse on its clock alone).
    """
    if env.kind != kind:
        raise EnvelopeError("wrong_kind", f"envelope holds a {env.kind!r}, expected a {kind!r}")
    if not env.signed:
        if not allow_unsigned:
            raise EnvelopeError("unsigned", "envelope is not signed and unsigned content is not allowed")
    else:
        if env.key_id not in pinned:
            raise EnvelopeError("unknown_key", f"signed with key {env.key_id!r}, which is not pinned here")
        try:
            load_public(pinned[env.key_id]).verify(
                env.signature, _signing_input(env.kind, env.key_id, env.version, env.expires, env.payload))
        except (InvalidSignature, ValueError):
            raise EnvelopeError("bad_signature", f"signature does not match key {env.key_id!r}") from None
    try:
        expires = datetime.fromisoformat(env.expires)
    except ValueError:
        raise EnvelopeError("bad_envelope", f"expiry {env.expires!r} is not a date") from None
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if enforce_expiry and expires <= (now or datetime.now(UTC)):
        raise EnvelopeError("expired", f"envelope expired at {env.expires}")
    if current_version is not None and env.version <= current_version:
        raise EnvelopeError("not_newer", f"version {env.version} is not newer than the active {current_version}")
    return env.payload
