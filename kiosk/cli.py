"""The `kiosk` command (also `python -m kiosk`).

This is the composition root: each command group lives beside the code it drives and is found
by module name, so kiosk/ keeps no import of ui/, devices/, edge/ or central/. A group module
exposes `register(subparsers)`; it must import heavy libraries (Qt, OpenCV) inside its handlers,
so `kiosk --help` and the maintenance commands start fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Iterable, Sequence

from kiosk import __version__
from kiosk import config as config_mod
from kiosk import log as log_mod

# group name -> module with register(); order is the order of `kiosk --help`.
GROUPS: dict[str, str] = {
    "device": "devices.cli",
    "sim": "devices.sim.cli",
    "admin": "central.admin.cli",
    "edge": "edge.cli",
    "platform": "central.platform_cli",
    "origin": "central.origin_server",
    "fleet": "central.fleet.cli",
    "audit": "kiosk.audit_cli",
    "ui": "ui.shell.cli",
    "demo": "ui.demo.cli",
    "provision": "provisioning.cli",
}


def _config_check(args: argparse.Namespace) -> int:
    # main() has already loaded and validated the file into args.cfg (or exited 78)
    print(f"{args.config or config_mod.DEFAULT_PATH}: valid (kiosk id {args.cfg.kiosk.id})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk", description="Township Kiosk appliance")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--config", help=f"config file (default {config_mod.DEFAULT_PATH})")
    p.add_argument("--log-format", choices=["json", "text"], help="override logging.format")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = p.add_subparsers(dest="group", metavar="COMMAND")
    cc = sub.add_parser("config-check", help="validate the config file and exit")
    cc.set_defaults(func=_config_check)
    register_modules(sub, GROUPS.values())
    return p


def register_modules(sub: argparse._SubParsersAction, modules: Iterable[str], hook: str = "register") -> None:
    """Let each module add its commands to `sub` through `<module>.<hook>(sub)`."""
    for module in modules:
        getattr(importlib.import_module(module), hook)(sub)


def add_group(sub: argparse._SubParsersAction, name: str, help_: str, metavar: str, modules: Iterable[str],
              hook: str = "register") -> None:
    """A `kiosk <name> ...` group whose subcommands come from `modules` (see register_modules)."""
    p = sub.add_parser(name, help=help_)
    register_modules(p.add_subparsers(dest=f"{name}_command", metavar=metavar, required=True), modules, hook)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        cfg = config_mod.load(args.config)
    except config_mod.ConfigError as e:
        print(f"kiosk: invalid configuration\n{e}", file=sys.stderr)
        return 78  # EX_CONFIG
    log_mod.setup(args.log_level or cfg.logging.level, args.log_format or cfg.logging.format)
    args.cfg = cfg
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except config_mod.ConfigError as e:
        print(f"kiosk: invalid configuration\n{e}", file=sys.stderr)
        return 78
    except Exception:
        logging.getLogger("kiosk").exception("command failed", extra={"command": args.group})
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
