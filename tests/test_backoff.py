"""The one retry backoff (kiosk/backoff.py): doubling from the base up to the cap, jittered in the upper
half of the window, repeatable with a seeded rng."""

from __future__ import annotations

import random

import pytest

from kiosk.backoff import Backoff
from tests.fixtures_outbox import SEED


def test_the_window_doubles_from_the_base_and_stops_at_the_cap() -> None:
    b = Backoff(0.5, 6.0)
    assert [b.window(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 6.0, 6.0]
    assert b.window(0) == 0.5  # "no failure yet" waits like the first one
    assert b.window(10_000) == 6.0  # a link down for days does not overflow the exponent


def test_every_wait_is_in_the_upper_half_of_its_window() -> None:
    print(f"jitter seed {SEED}")
    b = Backoff(1.0, 8.0, random.Random(SEED))
    for failures in (1, 2, 3, 4, 10):
        waits = [b.delay(failures) for _ in range(200)]
        window = b.window(failures)
        assert all(window / 2 <= w <= window for w in waits)
        assert len(set(waits)) > 100  # jittered: kiosks that failed together do not retry together


def test_the_same_seed_gives_the_same_waits() -> None:
    a, b = Backoff(0.2, 5.0, random.Random(SEED)), Backoff(0.2, 5.0, random.Random(SEED))
    assert [a.delay(n) for n in range(1, 10)] == [b.delay(n) for n in range(1, 10)]


@pytest.mark.parametrize("base, cap", [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_a_base_that_is_not_positive_or_above_the_cap_is_refused(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="0 < base <= cap"):
        Backoff(base, cap)
