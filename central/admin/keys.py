"""Admin keys and the maintenance PIN hash.

The private key never leaves the admin's machine: it is written once, mode 0600, and only its
public half is printed (as the TOML to pin in each edge's config).
"""

from __future__ import annotations

import getpass
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk import signing

PIN_MIN, PIN_MAX = 6, 12


class AdminError(Exception):
    """A refused admin operation; the message says what to do about it."""


def keygen(out: Path, key_id: str | None = None, *, force: bool = False) -> tuple[str, str]:
    """Write a new Ed25519 admin key to `out` (mode 0600). Returns (key id, public key base64)."""
    key_id = key_id or f"admin-{datetime.now(UTC):%Y%m%d}"
    if not key_id.strip() or any(c.isspace() or c in "\"'\\" for c in key_id):
        raise AdminError(f"key id {key_id!r} must be one word without quotes")
    if out.exists() and not force:
        raise AdminError(f"{out} already exists; a key is never overwritten without --force")
    key, public = signing.generate_key()
    tmp = out.with_name(out.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask says
        os.write(fd, (signing.private_to_b64(key) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, out)
    return key_id, public


def config_lines(key_id: str, public: str) -> str:
    return (f"# pin this key on every edge (kiosk.toml):\n[[edge.admin_keys]]\n"
            f'key_id = "{key_id}"\npublic_key = "{public}"\n')


def load_private(path: Path) -> Ed25519PrivateKey:
    """The admin key in `path`; the error never echoes the file's content."""
    try:
        return signing.private_from_b64(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        raise AdminError(f"key file {path} not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise AdminError(f"{path} is not an admin key file ({type(e).__name__})") from None


def read_pin() -> str:
    """The new PIN, asked twice on a terminal, or the first line of stdin (for scripts)."""
    if sys.stdin.isatty():
        pin = getpass.getpass("new maintenance PIN: ")
        if getpass.getpass("repeat it: ") != pin:
            raise AdminError("the two PINs differ")
    else:
        pin = sys.stdin.readline().rstrip("\r\n")
    if not (pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        raise AdminError(f"a PIN is {PIN_MIN} to {PIN_MAX} digits (the maintenance keypad has digits only)")
    return pin
