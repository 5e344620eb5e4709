"""Fixtures for the ID-card reader: the simulator on a pty and the real driver opening it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from devices.idcard.reader import CardReader
from devices.sim.card_reader import CardReaderSim


@pytest.fixture
def card_sim(tmp_path) -> Iterator[CardReaderSim]:
    sim = CardReaderSim(link_dir=tmp_path).start()
    yield sim
    sim.stop()


@pytest.fixture
def card_reader(card_sim: CardReaderSim) -> Iterator[CardReader]:
    reader = CardReader(card_sim.path, poll_interval=0.05)
    yield reader
    reader.close()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll until `condition()` holds; fail the test (not hang it) after `timeout` seconds."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)
