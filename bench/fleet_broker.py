"""A throwaway Mosquitto for the fleet bench (kiosk/local_broker.py), never the machine's broker on 1883:
no persistence (a bench run needs none), a deep per-client queue, and the open-files limit raised first,
since the broker inherits it and holds one socket per simulated kiosk."""

from __future__ import annotations

import resource
from pathlib import Path

from kiosk.local_broker import LocalBroker


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class BenchBroker(LocalBroker):
    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir, persistence=False, max_queued_messages=100_000)

    def __enter__(self) -> BenchBroker:
        raise_nofile()
        self.start()
        return self
