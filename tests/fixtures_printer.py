"""Receipt printer fixtures: the ESC/POS simulator on a pty and the real driver opened on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.printer.printer import ReceiptPrinter
from devices.sim.printer import PrinterSim


@pytest.fixture
def printer_sim(tmp_path: Path) -> Iterator[PrinterSim]:
    sim = PrinterSim(link_dir=tmp_path).start()
    yield sim
    sim.stop()


@pytest.fixture
def receipt_printer(printer_sim: PrinterSim, qapp) -> Iterator[ReceiptPrinter]:
    """The driver on the simulator; `qapp` (pytest-qt) so rendering finds a QApplication."""
    printer = ReceiptPrinter(printer_sim.path, status_timeout=0.3, reconnect_min=0.05, reconnect_max=0.2)
    yield printer
    printer.close()
