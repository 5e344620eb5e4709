"""`kiosk device ...`: maintenance commands that talk to the real devices (or a simulator)."""

from __future__ import annotations

import argparse

from kiosk.cli import add_group

# Each module adds its own subcommands with register(subparsers).
_MODULES = ("devices.idcard.cli", "devices.printer.cli", "devices.camera.cli", "devices.voice.cli")


def register(sub: argparse._SubParsersAction) -> None:
    add_group(sub, "device", "device self-tests for maintenance teams", "DEVICE_COMMAND", _MODULES)
