"""What the edge daemon needs for signed commands, signed configuration and trusted time, built once from
the config: the trusted clock, the agent's verify hook, the content-announcement check, the config applier,
and the extra sections of the status document ("clock", "config"). Keeps edge/daemon.py's wiring short."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.agent.announce import AnnouncementHandler
from edge.agent.verify import CommandVerifier
from edge.clock_check import ntp_synchronised
from edge.config_apply import ConfigApplier
from kiosk import fleet_wire
from kiosk.config import Config
from kiosk.trusted_time import TrustedClock


@dataclass
class Restart:
    """Set by a config apply or a rollback: the daemon stops cleanly, then re-executes itself (same pid, so
    systemd's Type=notify unit and a test's Popen keep tracking it)."""
    requested: bool = False
    stop: Callable[[], None] = field(default=lambda: None)

    def __call__(self) -> None:
        self.requested = True
        self.stop()

    def exec(self) -> None:
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


class FleetSecurity:
    def __init__(self, cfg: Config, config_path: Path | None) -> None:
        data = cfg.edge.data_dir
        self.cfg = cfg
        self.pinned = {k.key_id: k.public_key for k in cfg.edge.admin_keys}
        self.clock = TrustedClock(data / "trusted-time.json", ntp_synchronised)
        self.restart = Restart()
        self.applier = ConfigApplier(config_path, data, cfg, self.restart)
        self.verify = CommandVerifier(cfg.kiosk.id, self.pinned, self.clock, data / "fleet-command-version.json",
                                      site=cfg.kiosk.site, region=cfg.kiosk.region,
                                      allow_unsigned=cfg.edge.allow_unsigned)

    def handlers(self) -> dict[str, Any]:
        return {fleet_wire.CMD_CONFIG: self.applier.handle}

    def announcement(self, active_version: Callable[[], int | None],
                     trigger_sync: Callable[[], None] | None) -> AnnouncementHandler | None:
        if trigger_sync is None:
            return None
        return AnnouncementHandler(self.pinned, self.clock, active_version, trigger_sync,
                                   allow_unsigned=self.cfg.edge.allow_unsigned)

    def status(self, base: Callable[[], dict]) -> Callable[[], dict]:
        """The status document plus the clock and the applied config version."""
        def doc() -> dict:
            return {**base(), "clock": self.clock.now().as_dict(), "config": {"version": self.applier.version()}}
        return doc
