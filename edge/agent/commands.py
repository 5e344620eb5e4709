"""Commands from `.../cmd`: parse, verify, answer from the result cache or run a registered handler.

QoS 1 delivers at least once, so a command id seen before is answered again from a persisted cache, never
run twice; one whose run was cut short by a restart is answered `failed` rather than run again (a
restart_component must not happen twice). The `verify` hook runs before anything else is decided for a
new command: the signature check of the security issue plugs in there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk import audit, fleet_wire
from kiosk.durable import write_transaction
from kiosk.wire import now_iso

from .spool import connect

log = logging.getLogger("edge.agent")

# kind -> handler(args) -> (result: "done" | "failed" | "rejected", message, data)
Handler = Callable[[dict[str, Any]], tuple[str, str, dict[str, Any]]]
# (command, raw payload) -> None to accept, or the reason for refusing it
Verify = Callable[[fleet_wire.Command, bytes], str | None]

CACHE_KEEP = 256  # answers kept; QoS 1 redeliveries come within seconds, not hundreds of commands later
RESULTS = ("done", "failed", "rejected")


def accept_all(command: fleet_wire.Command, raw: bytes) -> str | None:
    return None


class ResultCache:
    """Answers by command id (a row with no body: started, not finished). Its own table in the spool file."""

    def __init__(self, path: Path, keep: int = CACHE_KEEP) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._db = connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS cmd_results (n INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "id TEXT NOT NULL UNIQUE, fp TEXT NOT NULL, body BLOB)")

    def get(self, command_id: str) -> tuple[str, bytes | None] | None:
        with self._lock:
            row = self._db.execute("SELECT fp, body FROM cmd_results WHERE id = ?", (command_id,)).fetchone()
        return (row[0], bytes(row[1]) if row[1] is not None else None) if row else None

    def begin(self, command_id: str, fp: str) -> None:
        with self._lock, write_transaction(self._db):
            self._db.execute("INSERT OR IGNORE INTO cmd_results (id, fp, body) VALUES (?, ?, NULL)",
                             (command_id, fp))
            self._db.execute("DELETE FROM cmd_results WHERE n <= (SELECT MAX(n) FROM cmd_results) - ?",
                             (self.keep,))

    def finish(self, command_id: str, fp: str, body: bytes) -> None:
        with self._lock, write_transaction(self._db):
            self._db.execute("INSERT INTO cmd_results (id, fp, body) VALUES (?, ?, ?) ON CONFLICT(id) DO "
                             "UPDATE SET body = excluded.body", (command_id, fp, body))

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass
class Decision:
    """What to do with one received payload: publish `answer` now, or run `command` off the agent thread
    (then `Commands.finish`), or nothing (dropped, or a redelivery of one still running)."""
    answer: bytes | None = None
    command: fleet_wire.Command | None = None
    fp: str = ""
    refused: str | None = None  # the verify hook's reason (the agent reports it as an event)
    refused_id: tuple[str, str] = ("", "")  # (command id, kind) of the refused command


class Commands:
    def __init__(self, kiosk_id: str, cache: ResultCache, verify: Verify | None = None) -> None:
        self.kiosk_id = kiosk_id
        self.cache = cache
        self.verify = verify or accept_all
        self.handlers: dict[str, Handler] = {}
        self.dropped = 0  # payloads with no usable id: nothing to answer, so counted (in the state)
        self._running: set[str] = set()

    def register(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    def _result(self, command_id: str, result: str, message: str, data: dict[str, Any] | None = None) -> bytes:
        return fleet_wire.encode(fleet_wire.CommandResult(id=command_id, kiosk_id=self.kiosk_id, at=now_iso(),
                                                          result=result, message=message, data=data or {}))

    def _cached(self, command_id: str, fp: str, result: str, message: str,
                data: dict[str, Any] | None = None) -> bytes:
        body = self._result(command_id, result, message, data)
        self.cache.finish(command_id, fp, body)
        return body

    def receive(self, raw: bytes) -> Decision:
        try:
            cmd = fleet_wire.decode(fleet_wire.KIND_CMD, raw)
        except fleet_wire.WireError as e:
            salvaged = _salvage_id(raw)
            if salvaged is None:
                self.dropped += 1
                log.warning("command dropped: no id to answer", extra={"reason": e.reason})
                return Decision()
            log.warning("command rejected: malformed", extra={"command_id": salvaged, "reason": e.reason})
            return Decision(answer=self._result(salvaged, "rejected", f"malformed command: {e}"))
        assert isinstance(cmd, fleet_wire.Command)
        fp = hashlib.sha256(raw).hexdigest()
        cached = self.cache.get(cmd.id)
        if cached is not None and cached[0] == fp:
            if cached[1] is not None:
                return Decision(answer=cached[1])  # a redelivery: the same answer, not a second run
            if cmd.id in self._running:
                return Decision()  # its answer goes out when it finishes
            log.warning("command interrupted by a restart", extra={"command_id": cmd.id, "kind": cmd.kind[:40]})
            return Decision(answer=self._cached(cmd.id, fp, "failed",
                                                "interrupted: the agent restarted while running it; not run again"))
        try:
            refusal = self.verify(cmd, raw)
        except Exception:  # a broken verifier must fail closed
            log.exception("command verification crashed", extra={"command_id": cmd.id})
            refusal = "verification failed"
        if refusal is not None:
            # Not cached: a refused payload must not be able to decide the answer to a genuine one.
            log.warning("command refused", extra={"command_id": cmd.id, "kind": cmd.kind[:40]})
            audit.event("command_refused", command_id=cmd.id, command=cmd.kind[:40], reason=refusal[:200])
            return Decision(answer=self._result(cmd.id, "rejected", refusal), refused=refusal,
                            refused_id=(cmd.id, cmd.kind[:40]))
        if cached is not None:
            return Decision(answer=self._result(cmd.id, "rejected", "this command id was already used for a "
                                                "different command"))
        if cmd.kind not in self.handlers:
            why = (f"this kiosk does not offer {cmd.kind!r}" if cmd.kind in fleet_wire.COMMANDS
                   else f"unknown command kind {cmd.kind[:40]!r}; known: {', '.join(sorted(self.handlers))}")
            return Decision(answer=self._cached(cmd.id, fp, "rejected", why))
        audit.event("command_received", command_id=cmd.id, command=cmd.kind)
        self.cache.begin(cmd.id, fp)
        self._running.add(cmd.id)
        return Decision(command=cmd, fp=fp)

    def execute(self, cmd: fleet_wire.Command) -> tuple[str, str, dict[str, Any]]:
        """Run the handler (on a worker thread); never raises."""
        try:
            handler, args = self.handlers[cmd.kind], dict(cmd.args)
            if getattr(handler, "wants_command_id", False):  # answers later, by id (a config apply)
                args["command_id"] = cmd.id
            result, message, data = handler(args)
            if result not in RESULTS:
                raise ValueError(f"handler answered {result!r}")
            json.dumps(data)
            return result, str(message), dict(data)
        except Exception as e:
            log.exception("command failed", extra={"command_id": cmd.id, "kind": cmd.kind})
            return "failed", f"{type(e).__name__}: {str(e)[:200]}", {}

    def late(self, command_id: str, result: str, message: str, data: dict[str, Any]) -> bytes:
        """The answer to a command begun before a restart (a config apply checked after it), cached."""
        cached = self.cache.get(command_id)
        return self._cached(command_id, cached[0] if cached else "", result, message, data)

    def finish(self, cmd: fleet_wire.Command, fp: str, outcome: tuple[str, str, dict[str, Any]]) -> bytes:
        result, message, data = outcome
        body = self._result(cmd.id, result, message, data)
        if len(body) > fleet_wire.MAX_PAYLOAD_BYTES:
            body = self._result(cmd.id, "failed", f"result of {len(body)} bytes is over the payload limit")
        self.cache.finish(cmd.id, fp, body)
        self._running.discard(cmd.id)
        log.info("command answered", extra={"command_id": cmd.id, "kind": cmd.kind, "result": result})
        audit.event("command_finished", command_id=cmd.id, command=cmd.kind, result=result)
        return body


def _salvage_id(raw: bytes) -> str | None:
    """The id of a payload that is JSON but not a valid command, if it has a plausible one."""
    try:
        doc = json.loads(raw) if len(raw) <= fleet_wire.MAX_PAYLOAD_BYTES else None
    except (ValueError, UnicodeDecodeError):
        return None
    cid = doc.get("id") if isinstance(doc, dict) else None
    return cid if isinstance(cid, str) and 8 <= len(cid) <= 64 and cid.isprintable() else None
