"""A4 printing fixtures: a CUPS scheduler of the test's own with an ippeveprinter behind it
(devices/a4/sim.py, which the demo uses too) and the real driver on its queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.a4.printer import A4Printer
from devices.a4.sim import A4Sim, missing_binaries


@pytest.fixture
def a4_sim(tmp_path: Path) -> Iterator[A4Sim]:
    if missing := missing_binaries():
        pytest.skip(f"CUPS test programs missing ({', '.join(missing)}): `make test` installs the Debian packages "
                    "cups-daemon cups-client cups-ipp-utils")
    sim = A4Sim(tmp_path / "a4sim").start()
    yield sim
    sim.stop()


@pytest.fixture
def a4_printer(a4_sim: A4Sim) -> A4Printer:
    """The driver on the simulated queue, quick to poll and to give up on a fault."""
    return A4Printer(a4_sim.queue, a4_sim.cups_server, poll_s=0.1, fault_grace_s=3.0, job_timeout_s=30.0)
