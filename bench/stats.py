"""Timing and order statistics shared by the benchmarks, so every p95 in the table means the same."""

from __future__ import annotations

import time
from collections.abc import Callable


def percentile(samples: list[float], q: float) -> float:
    """The nearest-rank q-quantile (0 <= q <= 1) of the samples: a value that was measured, not interpolated."""
    s = sorted(samples)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def timings(fn: Callable[[], object], rounds: int) -> list[float]:
    """Seconds for each of `rounds` calls of fn, after one untimed warm-up call: opening ports, loading fonts
    and filling first-use caches are not what a resident waits for on every use."""
    fn()
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out
