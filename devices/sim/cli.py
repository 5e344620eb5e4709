"""`kiosk sim ...`: start a device simulator standalone and print the port path."""

from __future__ import annotations

import argparse
import importlib

_MODULES = ("devices.sim.card_reader", "devices.sim.printer")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="device simulators speaking the real wire protocols")
    ssub = p.add_subparsers(dest="sim_command", metavar="SIMULATOR", required=True)
    for name in _MODULES:
        try:
            importlib.import_module(name).register_cli(ssub)
        except ModuleNotFoundError as e:
            if not (e.name and name.startswith(e.name)):
                raise
