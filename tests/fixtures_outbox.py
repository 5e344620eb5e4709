"""An outbox on disk and forwarders over it, for the outbox and forwarder tests.

`outbox`: a real SQLite outbox whose data directory is the test's tmp_path. `make_forwarder(adapter_or_url,
**options)`: a started Forwarder with fast test backoffs and a seeded jitter (KIOSK_TEST_SEED, printed).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator

import pytest

from edge.forwarder import Forwarder
from edge.outbox import Outbox
from edge.platform_adapter import HttpPlatformAdapter, PlatformAdapter

SEED = int(os.environ.get("KIOSK_TEST_SEED", "7"))


@pytest.fixture
def outbox(tmp_path) -> Iterator[Outbox]:
    ob = Outbox.open(tmp_path)
    yield ob
    ob.close()


@pytest.fixture
def make_forwarder(outbox: Outbox) -> Iterator[Callable[..., Forwarder]]:
    made: list[Forwarder] = []
    print(f"forwarder jitter seed {SEED} (KIOSK_TEST_SEED)")

    def make(adapter: PlatformAdapter | str, **kw) -> Forwarder:
        if isinstance(adapter, str):
            adapter = HttpPlatformAdapter(adapter, timeout=2)
        opts = {"backoff_base_s": 0.05, "backoff_cap_s": 0.2, "idle_poll_s": 0.05, "refresh_interval_s": 0.1,
                "rng": random.Random(SEED)}
        fw = Forwarder(outbox, adapter, **{**opts, **kw})
        made.append(fw)
        fw.start()
        return fw

    yield make
    for fw in made:
        fw.close()
