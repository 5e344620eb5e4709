"""The fleet health agent: one thread that owns the spool, the state and the commands.

Everything paho reports arrives on `self._inbox` (see connection.py); the thread also samples the status
provider every `poll_s`, republishes the retained state on change and every `interval_s`, and keeps up to
`window` spooled events in flight. An event leaves the spool only on its PUBACK. Events in flight when the
link drops stay with paho, which resends them on reconnect (same client object, same mids); the agent
hands paho only what it has not handed it before in this process, so nothing goes out twice from here.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk import fleet_wire
from kiosk.wire import now_iso

from . import measure
from .cert_expiry import COMPONENT as CERT_COMPONENT
from .cert_expiry import CertWatch
from .commands import Commands, Handler, ResultCache, Verify
from .connection import CONNECTED, DISCONNECTED, MESSAGE, PUBACK, BrokerConfig, Connection
from .spool import Spool
from .state import build_state, components_of, fingerprint, snapshot, status_events

if TYPE_CHECKING:
    from edge.inspection import Inspector

log = logging.getLogger("edge.agent")

_STOP, _CMD_DONE, _INSPECTED, _LATE = "stop", "cmd_done", "inspected", "late"
# A content announcement's payload -> event fields to report (a refusal), or None (accepted or ignored).
Announcement = Callable[[bytes], dict[str, Any] | None]


class Agent:
    def __init__(self, kiosk_id: str, broker: BrokerConfig, spool_path: Path,
                 status_provider: Callable[[], dict[str, Any]], *, data_dir: Path | None = None,
                 interval_s: float = 60.0, poll_s: float = 2.0, spool_max: int = 10_000, window: int = 10,
                 trigger_sync: Callable[[], None] | None = None, handlers: dict[str, Handler] | None = None,
                 verify: Verify | None = None, software_version: str | None = None,
                 inspector: Inspector | None = None, announcement: Announcement | None = None) -> None:
        fleet_wire.topic(kiosk_id, fleet_wire.KIND_STATE)  # refuses an id that cannot be a topic level
        self.kiosk_id = kiosk_id
        self.status_provider = status_provider
        self.data_dir = data_dir or spool_path.parent
        self.interval_s, self.poll_s, self.window = interval_s, poll_s, max(1, window)
        self.software_version = software_version or measure.software_version()
        self._topics = {k: fleet_wire.topic(kiosk_id, k) for k in fleet_wire.KINDS}
        self._inbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.spool = Spool(spool_path, kiosk_id, spool_max)
        self.commands = Commands(kiosk_id, ResultCache(spool_path), verify)
        if trigger_sync is not None:
            self.commands.register(fleet_wire.CMD_SYNC_CONTENT, _sync_handler(trigger_sync))
        for kind, handler in (handlers or {}).items():
            self.commands.register(kind, handler)
        self.conn = Connection(kiosk_id, broker, self._inbox)
        self._cert = CertWatch(broker.cert) if broker.cert is not None else None  # its expiry is reported
        self._cert_days: int | None = None
        self._workers = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agent-cmd")
        self._thread: threading.Thread | None = None
        # owned by the agent thread
        self._connected = False
        self._inflight: dict[int, int] = {}  # mid -> seq
        self._cursor = 0  # highest seq handed to paho in this process
        self._status: dict[str, Any] | None = None
        self._components: dict[str, fleet_wire.ComponentStatus] = {}
        self._published: dict[str, Any] | None = None  # fingerprint of the last state sent
        self._next_state = 0.0
        self.inspector = inspector  # the daily inspection (edge/inspection.py); its runs become events
        self._inspecting = False
        self.announcement = announcement  # kiosk/v1/fleet/content, verified before it triggers a sync

    @property
    def connected(self) -> bool:
        return self.conn.client.is_connected()

    def post_result(self, command_id: str, result: str, message: str, data: dict[str, Any]) -> None:
        """Answer a command begun before a restart (edge/config_apply.py), from any thread."""
        self._inbox.put((_LATE, command_id, result, message, data))

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._poll()  # the first sample (and changes since the last run) before the first connect
        self.conn.start()
        self._thread = threading.Thread(target=self._run, name="fleet-agent", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Retained offline/shutdown (awaited), disconnect, close the spool. Safe to call twice."""
        if self._thread is None:
            return
        self._inbox.put((_STOP,))
        self._thread.join(timeout_s + 5)
        self._thread = None
        self._workers.shutdown(wait=False, cancel_futures=True)
        self.conn.close((self._topics[fleet_wire.KIND_AVAILABILITY], self._availability(False, "shutdown")),
                        timeout_s)
        self.spool.close()
        self.commands.cache.close()

    # --- the loop ----------------------------------------------------------------------------------
    def _run(self) -> None:
        next_poll = time.monotonic() + self.poll_s
        while True:
            wait = max(0.0, min(next_poll, self._next_state) - time.monotonic())
            try:
                item = self._inbox.get(timeout=wait)
            except queue.Empty:
                item = None
            try:
                if item is not None and item[0] == _STOP:
                    return
                if item is not None:
                    self._handle(item)
                now = time.monotonic()
                due = item is not None and item[0] in (CONNECTED, MESSAGE, _CMD_DONE, _INSPECTED)
                due = self._inspect() or due
                if now >= next_poll:
                    next_poll = now + self.poll_s
                    self._poll()
                    due = True
                if now >= self._next_state:  # the interval: send even if nothing changed
                    self._published, due = None, True
                    self._next_state = now + self.interval_s  # also offline, or this loop would spin
                if due:  # not on every PUBACK: building the state reads the disk and /proc
                    self._publish_state()
                self._pump()
            except Exception:  # one bad round (a full disk, say) must not end the agent
                log.exception("agent round failed")
                time.sleep(min(1.0, self.poll_s))

    def _handle(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == CONNECTED:
            if not item[1]:
                log.warning("broker refused the connection", extra={"reason": item[2]})
                return
            self._connected = True
            log.info("connected to the broker")
            self.conn.subscribe(self._topics[fleet_wire.KIND_CMD])
            if self.announcement is not None:
                self.conn.subscribe(fleet_wire.CONTENT_TOPIC)
            self.conn.publish(self._topics[fleet_wire.KIND_AVAILABILITY], self._availability(True, "birth"),
                              retain=True)
            self.spool.append_eviction_notice()
            self._published = None  # republish the state after every connect
        elif kind == DISCONNECTED:
            if self._connected:
                log.warning("disconnected from the broker", extra={"reason": item[1]})
            self._connected = False
        elif kind == PUBACK:
            seq = self._inflight.pop(item[1], None)
            if seq is not None:
                if not item[2]:
                    # A refusal (e.g. not authorised) would refuse every retry too: drop it, say so.
                    log.error("broker refused an event", extra={"seq": seq, "reason": item[3]})
                self.spool.acked(seq)
        elif kind == MESSAGE:
            if item[1] == self._topics[fleet_wire.KIND_CMD]:
                self._command(item[2])
            elif (item[1] == fleet_wire.CONTENT_TOPIC and self.announcement is not None and item[2]
                  and (fields := self.announcement(item[2])) is not None):
                self.spool.append("command", level="degraded", code="rejected", details=fields)
        elif kind == _LATE:
            self._answer(self.commands.late(item[1], item[2], item[3], item[4]))
            self.spool.append("command", level="ok", code=item[2],
                              details={"command_id": item[1], "result": item[2], **item[4]})
        elif kind == _INSPECTED:
            self._inspecting = False
        elif kind == _CMD_DONE:
            cmd, fp, outcome = item[1], item[2], item[3]
            self._answer(self.commands.finish(cmd, fp, outcome))
            self.spool.append("command", level="ok", code=outcome[0],
                              details={"command_id": cmd.id, "command": cmd.kind, "result": outcome[0]})

    # --- status and state --------------------------------------------------------------------------
    def _poll(self) -> None:
        try:
            status = self.status_provider()
            if not isinstance(status, dict):
                raise TypeError("the status provider must return a dict")
        except Exception:
            if self._status is not None or not self._components:
                log.exception("status provider failed")
            status = None
        self._status = status
        comps = components_of(status, self.kiosk_id)
        if self._cert is not None:
            self._cert_days, comps[CERT_COMPONENT] = self._cert.check()
        snap = snapshot(comps)
        before = self.spool.components()
        if snap != before:
            for e in self.spool.record_components(snap, status_events(before, comps)):
                log.info("status event", extra={"seq": e.seq, "component": e.component, "code": e.code})
        self._components = comps

    def state(self) -> fleet_wire.State:
        return build_state(self._status, self.kiosk_id, self._components, at=now_iso(),
                           interval_s=self.interval_s, software_version=self.software_version,
                           disk_used_pct=measure.disk_used_pct(self.data_dir),
                           memory_used_pct=measure.memory_used_pct(), uptime_s=measure.uptime_s(),
                           spool_depth=self.spool.depth(), spool_evicted=self.spool.evicted_total(),
                           commands_dropped=self.commands.dropped, broker_cert_days_left=self._cert_days,
                           last_inspection=self.inspector.last() if self.inspector is not None else None)

    def _publish_state(self) -> None:
        if not self._connected:
            return
        st = self.state()
        fp = fingerprint(st)
        if fp == self._published:
            return
        self.conn.publish(self._topics[fleet_wire.KIND_STATE], fleet_wire.encode(st), retain=True)
        self._published = fp
        self._next_state = time.monotonic() + self.interval_s

    def _availability(self, online: bool, reason: str) -> bytes:
        return fleet_wire.encode(fleet_wire.Availability(kiosk_id=self.kiosk_id, online=online,
                                                         reason=reason, at=now_iso()))

    # --- the inspection ----------------------------------------------------------------------------
    def _inspect(self) -> bool:
        """Start the daily run when due (off this thread), spool the events of finished runs; True when
        the state has news."""
        ins = self.inspector
        if ins is None:
            return False
        if not self._inspecting and ins.due():
            self._inspecting = True

            def job() -> None:
                try:
                    ins.run_daily()
                except Exception:
                    log.exception("inspection failed")
                finally:
                    self._inbox.put((_INSPECTED,))
            self._workers.submit(job)
        events = ins.pending_events()
        for fields in events:
            e = self.spool.append("inspection", **fields)
            log.info("inspection event", extra={"seq": e.seq, "level": e.level})
        if events:
            ins.announced(len(events))
        return bool(events)

    # --- events ------------------------------------------------------------------------------------
    def _pump(self) -> None:
        if not self._connected or len(self._inflight) >= self.window:
            return
        for seq, body in self.spool.pending(self._cursor, self.window - len(self._inflight)):
            mid = self.conn.publish(self._topics[fleet_wire.KIND_EVENTS], body)
            if mid is None:
                return  # tried again next round
            self._inflight[mid] = seq
            self._cursor = seq

    # --- commands ----------------------------------------------------------------------------------
    def _command(self, raw: bytes) -> None:
        decision = self.commands.receive(raw)
        if decision.answer is not None:
            self._answer(decision.answer)
        if decision.refused is not None:  # unsigned, forged, replayed, expired, wrongly targeted: reported
            cid, kind = decision.refused_id
            self.spool.append("command", level="degraded", code="rejected",
                              details={"command_id": cid, "command": kind, "result": "rejected",
                                       "reason": decision.refused[:200]})
        if (cmd := decision.command) is not None:
            fp = decision.fp
            # Off this thread: a slow handler (a self-test, a screenshot) must not stall events and PUBACKs.
            self._workers.submit(lambda: self._inbox.put((_CMD_DONE, cmd, fp, self.commands.execute(cmd))))

    def _answer(self, body: bytes) -> None:
        self.conn.publish(self._topics[fleet_wire.KIND_CMD_RESULT], body)


def _sync_handler(trigger: Callable[[], None]) -> Handler:
    def handle(args: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        trigger()
        return "done", "content sync started", {}
    return handle
