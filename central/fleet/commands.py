"""Commands to kiosks: a fleet_wire.Command on the kiosk's cmd topic (QoS 1), recorded in command_results.

The row is written before the publish, so an answer that comes back at once always finds it (ingest
stores the answer, and a screenshot in kiosks.screenshot). The agent answers a QoS 1 redelivery from its
result cache, so a command is never run twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, insert, update

from central.fleet import db
from kiosk import fleet_wire
from kiosk.wire import now_iso

log = logging.getLogger("central.fleet.commands")

Publisher = Callable[[str, bytes], bool]  # (topic, payload) -> taken; e.g. Ingest.publish


class CommandError(ValueError):
    """A command that cannot be sent; the message says why in one line."""


class SigningNotConfigured(CommandError):
    """A command that must be signed, and the monitor has no admin key ([admin] in fleet.toml)."""


Signer = Callable[[str, dict, str, str], fleet_wire.Command]  # (kiosk_id, kind, args, by) -> signed command


def key_signer(key_file: Any, key_id: str) -> Signer:
    """Sign with the admin key in `key_file` for one kiosk at a time (kiosk/fleet_signing.py)."""
    from central.admin.keys import load_private
    from kiosk.fleet_signing import sign_command, target_of
    key = load_private(key_file)

    def sign(kiosk_id: str, kind: str, args: dict, by: str) -> fleet_wire.Command:
        return sign_command(kind, args, target_of(kiosk=kiosk_id), key, key_id, issued_by=by)
    return sign


class CommandSender:
    def __init__(self, engine: Engine, publish: Publisher, *, clock: Callable[[], float] = time.time,
                 signer: Signer | None = None) -> None:
        self.engine = engine
        self.publish = publish
        self.clock = clock
        self.signer = signer

    def send(self, kiosk_id: str, kind: str, args: dict, by: str) -> str:
        """Publish one command; its id. CommandError for an unknown kiosk id shape or command kind."""
        try:
            topic = fleet_wire.topic(kiosk_id, fleet_wire.KIND_CMD)
        except ValueError:
            raise CommandError(f"not a kiosk id: {str(kiosk_id)[:70]!r}") from None
        if kind not in fleet_wire.COMMANDS:
            raise CommandError(f"unknown command {str(kind)[:40]!r}; known: {', '.join(fleet_wire.COMMANDS)}")
        if not isinstance(args, dict):
            raise CommandError("command args must be an object")
        if kind in fleet_wire.SIGNED_COMMANDS:
            if self.signer is None:
                raise SigningNotConfigured(f"{kind} must be signed and signing is not configured: set [admin] "
                                           "signing_key_file and key_id in the fleet config")
            cmd = self.signer(kiosk_id, kind, args, str(by)[:64])
        else:
            cmd = fleet_wire.Command(id=uuid.uuid4().hex, kind=kind, args=args, issued_at=now_iso(),
                                     issued_by=str(by)[:64])
        body = fleet_wire.encode(cmd)
        if len(body) > fleet_wire.MAX_PAYLOAD_BYTES:
            raise CommandError("command args are too large")
        with self.engine.begin() as conn:
            conn.execute(insert(db.command_results).values(
                id=cmd.id, kiosk_id=kiosk_id, kind=kind, issued_by=str(by)[:64], issued_ts=self.clock()))
        if not self.publish(topic, body):
            with self.engine.begin() as conn:
                conn.execute(update(db.command_results).where(db.command_results.c.id == cmd.id).values(
                    result="failed", message="the monitor could not hand the command to the broker",
                    answered_ts=self.clock()))
            log.error("command not published", extra={"command_id": cmd.id, "kiosk_id": kiosk_id})
        else:
            log.info("command sent", extra={"command_id": cmd.id, "kiosk_id": kiosk_id, "kind": kind})
        return cmd.id


def result(engine: Engine, command_id: str) -> dict[str, Any] | None:
    """The command_results row (None while unknown)."""
    with engine.connect() as c:
        r = c.execute(db.command_results.select().where(db.command_results.c.id == command_id)).first()
    return dict(r._mapping) if r else None
