"""Fixtures for content packs and admin tools: the demo pack, a writable copy, an admin key, the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk import signing
from kiosk.content import DEMO_PACK_DIR, Pack, load_pack

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def demo_pack() -> Pack:
    """The demo pack as the edge would load it (read-only: do not write under its root)."""
    return load_pack(DEMO_PACK_DIR)


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A private copy of the demo pack folder, free to break."""
    return Path(shutil.copytree(DEMO_PACK_DIR, tmp_path / "pack"))


@pytest.fixture
def admin_key(tmp_path: Path) -> tuple[Path, str, str]:
    """(private key file, key id, public key base64) of a fresh admin key."""
    key, public = signing.generate_key()
    path = tmp_path / "admin.key"
    path.write_text(signing.private_to_b64(key) + "\n")
    path.chmod(0o600)
    return path, "test-admin", public


@pytest.fixture
def kiosk_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m kiosk ARGS` as a real process with an empty config file (defaults)."""
    config = tmp_path / "kiosk.toml"
    config.write_text("")

    def run(*args: str | Path, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), *map(str, args)],
                              cwd=REPO, input=input if input is not None else "", capture_output=True,
                              text=True, timeout=timeout)

    return run
