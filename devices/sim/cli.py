"""`kiosk sim ...`: start a device simulator standalone and print the port path."""

from __future__ import annotations

import argparse

from kiosk.cli import add_group

_MODULES = ("devices.sim.card_reader", "devices.sim.printer")


def register(sub: argparse._SubParsersAction) -> None:
    add_group(sub, "sim", "device simulators speaking the real wire protocols", "SIMULATOR", _MODULES,
              hook="register_cli")
