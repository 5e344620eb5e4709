"""Where an enrolled kiosk keeps what provisioning gives it (paths on the kiosk, under `--root`).

The TLS material lives in a versioned folder `tls.<serial>` behind the symlink `tls`, so a re-enrolment
swaps all three files at once: the agent never sees a new certificate beside an old key.
"""

from __future__ import annotations

from pathlib import Path

ETC = Path("/etc/kiosk")
CONFIG = ETC / "kiosk.toml"
TLS = ETC / "tls"
KEY = TLS / "kiosk.key"
CERT = TLS / "kiosk.crt"
BROKER_CA = TLS / "broker-ca.crt"

# Bundle member names (flat: nothing in a bundle can name a path of its own).
B_MANIFEST, B_KEY, B_CERT, B_BROKER_CA, B_CONFIG = "bundle.json", "kiosk.key", "kiosk.crt", "broker-ca.crt", \
    "kiosk.toml"
BUNDLE_FILES = (B_KEY, B_CERT, B_BROKER_CA, B_CONFIG)
BUNDLE_SCHEMA = "kiosk.enrollment-bundle/1"


def under(root: Path, path: Path) -> Path:
    """`path` (absolute, on the kiosk) inside an install root (`/` on the kiosk, a folder in tests)."""
    return root / path.relative_to("/")
