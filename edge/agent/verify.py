"""The agent's `verify` hook: every command that changes anything must be signed by a pinned admin key,
for this kiosk (its id, site or region), newer than the last one accepted here, and not expired.

Read-only commands (self_test, screenshot) may come unsigned: they change nothing, and a screenshot is
taken only on the idle home screen, so it shows no resident. If one does come signed, it is checked like
the rest. `edge.allow_unsigned = true` (development only; the status says so) also lets unsigned
changing commands through. The last accepted version is persisted, so a replay after a restart is refused too.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from kiosk import fleet_wire
from kiosk.durable import atomic_write
from kiosk.fleet_signing import open_command
from kiosk.signing import EnvelopeError
from kiosk.trusted_time import TrustedClock

log = logging.getLogger("edge.agent")


class CommandVerifier:
    def __init__(self, kiosk_id: str, pinned: dict[str, str], clock: TrustedClock, state_path: Path, *,
                 site: str = "", region: str = "", allow_unsigned: bool = False) -> None:
        self.kiosk_id, self.site, self.region = kiosk_id, site, region
        self.pinned = dict(pinned)
        self.clock = clock
        self.state_path = state_path
        self.allow_unsigned = allow_unsigned
        self._lock = threading.Lock()
        self.last_version = self._load()

    def _load(self) -> int:
        try:
            return int(json.loads(self.state_path.read_text(encoding="utf-8"))["last_version"])
        except FileNotFoundError:
            return 0
        except (OSError, ValueError, KeyError, TypeError):
            # Fail closed: an unreadable mark must not reopen the door to replays of old commands.
            log.error("command version file unreadable; refusing signed commands until it is fixed",
                      extra={"path": str(self.state_path)})
            return 2 ** 62

    def _targets_me(self, t: fleet_wire.Target) -> bool:
        given = [(v, mine) for v, mine in ((t.kiosk, self.kiosk_id), (t.site, self.site), (t.region, self.region))
                 if v is not None]
        return len(given) == 1 and bool(given[0][1]) and given[0][0] == given[0][1]

    def __call__(self, cmd: fleet_wire.Command, raw: bytes) -> str | None:
        if not cmd.envelope and (cmd.kind in fleet_wire.READ_ONLY_COMMANDS or self.allow_unsigned):
            return None
        try:
            env, body = open_command(cmd, self.pinned)
        except EnvelopeError as e:
            return f"{e.code}: {e}"
        t = body.target
        if not self._targets_me(t):
            who = f"kiosk {t.kiosk}" if t.kiosk else f"site {t.site}" if t.site else f"region {t.region}"
            return f"wrong_target: signed for {who}, this is kiosk {self.kiosk_id}"
        if self.clock.expired(env.expires):
            return f"expired: the command expired at {env.expires}"
        with self._lock:
            if env.version <= self.last_version:
                return (f"replayed: version {env.version} is not newer than the last accepted "
                        f"{self.last_version}")
            self.last_version = env.version
            atomic_write(self.state_path, json.dumps({"last_version": env.version}).encode(), mode=0o600)
        self.clock.observe_signed_time(body.issued_at)
        log.info("signed command accepted", extra={"command_id": cmd.id, "kind": cmd.kind,
                                                    "key_id": env.key_id, "version": env.version})
        return None
