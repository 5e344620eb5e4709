"""The one retry backoff: exponential, capped, jittered. Used by the edge forwarder, the content sync
and the card reader's reconnect.

The n-th consecutive failure waits a random time in the upper half of min(cap, base * 2**(n-1)).
The jitter spreads the retries of many kiosks that lost the same link at the same moment; keeping
the lower half out means a retry never comes right after a failure, however the dice fall. Pass a
seeded `random.Random` to make the waits repeatable in a test.
"""

from __future__ import annotations

import random

# 2**62 times any sane base is far past any cap: the exponent stops there instead of overflowing.
_MAX_EXPONENT = 62


class Backoff:
    def __init__(self, base_s: float, cap_s: float, rng: random.Random | None = None) -> None:
        if base_s <= 0 or cap_s < base_s:
            raise ValueError(f"backoff needs 0 < base <= cap, got base {base_s} s and cap {cap_s} s")
        self.base_s = base_s
        self.cap_s = cap_s
        self._rng = rng or random.Random()

    def window(self, failures: int) -> float:
        """The longest wait after `failures` consecutive failures (1 = the first one)."""
        return min(self.cap_s, self.base_s * 2 ** min(max(failures, 1) - 1, _MAX_EXPONENT))

    def delay(self, failures: int) -> float:
        """Seconds to wait after `failures` consecutive failures: in [window / 2, window]."""
        window = self.window(failures)
        return self._rng.uniform(window / 2, window)
