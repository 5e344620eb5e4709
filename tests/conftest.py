"""Shared test setup. Area fixtures live in tests/fixtures_<area>.py and are loaded here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.netutil import free_port

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = sorted(f"tests.{p.stem}" for p in Path(__file__).parent.glob("fixtures_*.py"))


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(autouse=True)
def _root_logging_restored():
    """Tests that run `kiosk ...` in-process let kiosk.log.setup() point the root logger at that test's
    captured stderr; put the handlers back so later tests never log into a closed stream."""
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
