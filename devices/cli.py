"""`kiosk device ...`: maintenance commands that talk to the real devices (or a simulator)."""

from __future__ import annotations

import argparse
import importlib

# Each module adds its own subcommands with register(subparsers).
_MODULES = ("devices.idcard.cli", "devices.printer.cli", "devices.camera.cli", "devices.voice.cli")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("device", help="device self-tests for maintenance teams")
    dsub = p.add_subparsers(dest="device_command", metavar="DEVICE_COMMAND", required=True)
    for name in _MODULES:
        try:
            importlib.import_module(name).register(dsub)
        except ModuleNotFoundError as e:
            if not (e.name and name.startswith(e.name)):
                raise
