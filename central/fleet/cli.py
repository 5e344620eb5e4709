"""`kiosk fleet ...`: the fleet monitor (serve, check), its dashboard users, and the load generator."""

from __future__ import annotations

import argparse

from kiosk.cli import add_group

MODULES = ("central.fleet.service", "central.fleet.web.cli", "central.fleet.simulate",
           "central.fleet.audit_heads")


def register(sub: argparse._SubParsersAction) -> None:
    add_group(sub, "fleet", "the central fleet monitor: serve, check, user, simulate", "FLEET_COMMAND", MODULES)
