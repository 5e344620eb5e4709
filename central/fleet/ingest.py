"""MQTT ingest: what the kiosks' agents publish, into the database.

paho-mqtt 2.x, MQTT 5, TLS when cfg.broker.ca_file is set. The monitor subscribes with shared
subscriptions (`$share/<group>/kiosk/v1/+/<kind>`): several monitor processes in one group split the
fleet's messages between them, each message going to one of them. Its session is persistent
(clean_start False from the very first connect, SessionExpiryInterval 1 h): Mosquitto 2.0.11 does not
carry a session over its own restart when it began with clean_start True, and QoS 1 messages published
while the monitor restarts wait for it. So the client id must be stable: `fleet-monitor-<hostname>` unless
cfg.broker.client_id says otherwise (two monitors on one host need two ids; a takeover is logged).

For a larger fleet, EMQX takes the same `$share/<group>/...` filters. Settings worth changing there:
`mqtt.max_mqueue_len` (per-session queue, default 1000) and `mqtt.max_inflight`, `session_expiry_interval`
for the monitor's sessions, `broker.shared_subscription_strategy` (`round_robin` or `hash_clientid` — the
latter keeps one kiosk's messages on one monitor process, so its events arrive in order), and
`force_shutdown` / listener `max_connections` sized for the fleet.

paho's callbacks only enqueue; one worker thread decodes (fleet_wire.decode) and writes, a batch of
messages per transaction. A payload that is oversized, not JSON, of a wrong schema, invalid, naming
another kiosk, or on a topic of an unknown shape is counted by reason and dropped with one log line.

"Up" (availability_log) = online and able to serve residents: online, and no fault on a component a
resident cannot do without — the card reader (identity), the printer (the receipt) and the content
(nothing to show). A camera or voice fault degrades service without stopping it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import queue
import re
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import Connection, Engine, and_, case, literal, select, update

from central.fleet import db
from central.fleet.config import FleetConfig
from kiosk import fleet_wire

log = logging.getLogger("central.fleet.ingest")

SUBSCRIBED_KINDS = (fleet_wire.KIND_AVAILABILITY, fleet_wire.KIND_STATE, fleet_wire.KIND_EVENTS,
                    fleet_wire.KIND_CMD_RESULT)
SERVICE_COMPONENTS = ("card_reader", "printer", "content")  # a fault here means the kiosk cannot serve
SESSION_EXPIRY_S = 3600
MAX_QUEUE = 100_000
BATCH = 200
WRITE_TRIES = 3
SCREENSHOT_KEY = "jpeg_b64"  # a screenshot command's result data: the JPEG, base64
JPEG_MAGIC = b"\xff\xd8\xff"


def default_client_id() -> str:
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:40] or "host"
    return f"fleet-monitor-{host}"


def is_up(online: bool | None, state: dict[str, Any] | None) -> bool:
    if online is False or state is None:
        return False
    comps = state.get("components") or {}
    return not any(isinstance(comps.get(c), dict) and comps[c].get("level") == "fault" for c in SERVICE_COMPONENTS)


def _iso_ts(s: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(s)).timestamp()
    except (ValueError, TypeError):
        return None


class Ingest:
    def __init__(self, engine: Engine, cfg: FleetConfig, *, client_id: str | None = None,
                 on_change: Callable[[set[str]], None] | None = None, clock: Callable[[], float] = time.time,
                 max_queue: int = MAX_QUEUE) -> None:
        self.engine = engine
        self.cfg = cfg
        self.client_id = client_id or cfg.broker.client_id or default_client_id()
        self.on_change = on_change
        self.clock = clock
        self._queue: queue.Queue[tuple[str, bytes, bool, float]] = queue.Queue(max_queue)
        self._lock = threading.Lock()
        self._messages: Counter[str] = Counter()
        self._dropped: Counter[str] = Counter()
        self._duplicates = 0
        self._gaps = 0
        self._known: set[str] = set()  # kiosk rows known to exist
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._idle = threading.Event()
        self.client = self._make_client()

    # --- the MQTT client -------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        b = self.cfg.broker
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5)
        if b.ca_file is not None:
            c.tls_set(ca_certs=str(b.ca_file), certfile=str(b.cert_file) if b.cert_file else None,
                      keyfile=str(b.key_file) if b.key_file else None, cert_reqs=ssl.CERT_REQUIRED,
                      tls_version=ssl.PROTOCOL_TLS_CLIENT)
        c.reconnect_delay_set(min_delay=1, max_delay=30)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_subscribe = self._on_subscribe
        c.on_message = self._on_message
        return c

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if rc.is_failure:
            log.error("broker refused the monitor's connection", extra={"reason": str(rc)})
            return
        self.connected.set()
        group = self.cfg.broker.shared_group
        client.subscribe([(fleet_wire.subscription(k, group), SubscribeOptions(qos=fleet_wire.QOS))
                          for k in SUBSCRIBED_KINDS])

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        bad = [str(c) for c in codes if c.is_failure]
        if bad:
            log.error("broker refused a subscription", extra={"reason": ", ".join(bad)})
        else:
            self.subscribed.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if getattr(rc, "value", None) == 142:  # Session taken over
            log.error("another client took over this monitor's session: give each monitor process its own "
                      "broker.client_id", extra={"client_id": self.client_id})
        elif not self._stop.is_set():
            log.warning("monitor disconnected from the broker", extra={"reason": str(rc)})

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self._queue.put_nowait((msg.topic, bytes(msg.payload), bool(msg.retain), self.clock()))
        except queue.Full:  # never block paho's thread: the broker's keepalive depends on it
            self._drop("overload", msg.topic, "ingest queue full")

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> bool:
        """Hand a QoS 1 message to paho (queued by paho while disconnected); False if it refused."""
        info = self.client.publish(topic, payload, qos=fleet_wire.QOS, retain=retain)
        return info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN)

    def start(self) -> None:
        self._stop.clear()
        self._worker = threading.Thread(target=self._work, name="fleet-ingest", daemon=True)
        self._worker.start()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        b = self.cfg.broker
        self.client.connect_async(b.host, b.port, keepalive=b.keepalive_s, clean_start=False, properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        self._stop.set()
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()
        if self._worker is not None:
            self._worker.join(30)
            self._worker = None

    # --- counters --------------------------------------------------------------------------------
    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {"messages": dict(self._messages), "dropped": dict(self._dropped),
                    "duplicates": self._duplicates, "gaps": self._gaps, "queued": self._queue.qsize()}

    def _drop(self, reason: str, topic: str, detail: str) -> None:
        with self._lock:
            self._dropped[reason] += 1
        log.warning("message dropped: %s", detail, extra={"reason": reason, "topic": topic[:120]})

    def drained(self) -> bool:
        """Nothing queued and the worker idle (for tests and an orderly stop)."""
        return self._queue.empty() and self._idle.is_set()

    # --- the worker ------------------------------------------------------------------------------
    def _decode(self, item: tuple[str, bytes, bool, float]) -> tuple[str, str, Any, bool, float] | None:
        topic, payload, retain, now = item
        parsed = fleet_wire.parse_topic(topic)
        if parsed is None or parsed[1] not in SUBSCRIBED_KINDS:
            self._drop("unknown_topic", topic, "topic of an unknown shape")
            return None
        kiosk_id, kind = parsed
        try:
            obj = fleet_wire.decode(kind, payload, kiosk_id)
        except fleet_wire.WireError as e:
            self._drop(e.reason, topic, str(e))
            return None
        with self._lock:
            self._messages[kind] += 1
        return kiosk_id, kind, obj, retain, now

    def _work(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                self._idle.set()
                continue
            self._idle.clear()
            items = [first]
            while len(items) < BATCH:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            decoded = [d for d in map(self._decode, items) if d is not None]
            if decoded:
                self._write(decoded)
        self._idle.set()

    def _write(self, batch: list[tuple[str, str, Any, bool, float]]) -> None:
        changed: set[str] = set()
        try:
            with self.engine.begin() as conn:
                for m in batch:
                    self._apply(conn, m, changed)
        except Exception:
            # One bad row must not lose the batch: write them one by one, dropping only the one that fails.
            changed = set()
            for m in batch:
                for attempt in range(WRITE_TRIES):
                    one: set[str] = set()
                    try:
                        with self.engine.begin() as conn:
                            self._apply(conn, m, one)
                        changed |= one
                        break
                    except Exception as e:
                        if attempt == WRITE_TRIES - 1:
                            self._known.discard(m[0])
                            self._drop("db_error", fleet_wire.topic(m[0], m[1]),
                                       f"database write failed: {type(e).__name__}")
                        else:
                            time.sleep(0.2 * (attempt + 1))
        if changed and self.on_change is not None:
            try:
                self.on_change(changed)
            except Exception:
                log.exception("ingest change listener failed")

    def _apply(self, conn: Connection, m: tuple[str, str, Any, bool, float], changed: set[str]) -> None:
        kiosk_id, kind, obj, retain, now = m
        k = db.kiosks.c
        if kiosk_id not in self._known:
            if db.insert_ignore(conn, db.kiosks, {"id": kiosk_id, "registered": False, "first_seen_ts": now,
                                                  "last_seq": 0, "gaps": 0}, ["id"]):
                log.info("a kiosk not in the inventory appeared", extra={"kiosk_id": kiosk_id})
                changed.add(kiosk_id)
            self._known.add(kiosk_id)
        conn.execute(update(db.kiosks).where(k.id == kiosk_id).values(last_seen_ts=now))
        if kind == fleet_wire.KIND_AVAILABILITY:
            self._availability(conn, kiosk_id, obj, retain, now, changed)
        elif kind == fleet_wire.KIND_STATE:
            self._state(conn, kiosk_id, obj, retain, now, changed)
        elif kind == fleet_wire.KIND_EVENTS:
            self._event(conn, kiosk_id, obj, now)
        elif kind == fleet_wire.KIND_CMD_RESULT:
            self._result(conn, kiosk_id, obj, now)

    def _log_up(self, conn: Connection, kiosk_id: str, up: bool, now: float) -> None:
        a = db.availability_log.c
        last = conn.execute(select(a.up).where(a.kiosk_id == kiosk_id).order_by(a.at_ts.desc(), a.id.desc())
                            .limit(1)).scalar()
        if last is None or bool(last) != up:
            conn.execute(db.availability_log.insert().values(kiosk_id=kiosk_id, at_ts=now, up=up))

    def _availability(self, conn: Connection, kiosk_id: str, obj: fleet_wire.Availability, retain: bool,
                      now: float, changed: set[str]) -> None:
        k = db.kiosks.c
        row = conn.execute(select(k.online, k.online_reason, k.state).where(k.id == kiosk_id)).first()
        if retain and row is not None and row.online == obj.online and row.online_reason == obj.reason:
            return  # the retained message we already had, replayed on (re)subscribe: keep its time
        conn.execute(update(db.kiosks).where(k.id == kiosk_id).values(
            online=obj.online, online_reason=obj.reason, online_ts=now))
        self._log_up(conn, kiosk_id, is_up(obj.online, row.state if row else None), now)
        changed.add(kiosk_id)

    def _state(self, conn: Connection, kiosk_id: str, obj: fleet_wire.State, retain: bool, now: float,
               changed: set[str]) -> None:
        k = db.kiosks.c
        doc = obj.model_dump(mode="json", by_alias=True)
        ts = now
        stored = conn.execute(select(k.state).where(k.id == kiosk_id)).scalar()
        before = _iso_ts(stored.get("at")) if isinstance(stored, dict) else None
        mine = _iso_ts(obj.at)
        if before is not None and mine is not None and mine < before:
            # Older than what we have (both by the kiosk's own clock): with a shared subscription, two
            # monitor processes may write one kiosk's states out of order. The newer one stands.
            log.debug("older state ignored", extra={"kiosk_id": kiosk_id})
            return
        if retain:
            if isinstance(stored, dict) and stored.get("at") == doc["at"]:
                return  # replayed on (re)subscribe: it is not news, and not a sign of life
            # Missed while the monitor was away: it is no newer than the kiosk says (never in the future).
            ts = min(now, _iso_ts(obj.at) or now)
        conn.execute(update(db.kiosks).where(k.id == kiosk_id).values(state=doc, state_ts=ts))
        online = conn.execute(select(k.online).where(k.id == kiosk_id)).scalar()
        self._log_up(conn, kiosk_id, is_up(online, doc), now)
        changed.add(kiosk_id)

    def _event(self, conn: Connection, kiosk_id: str, obj: fleet_wire.Event, now: float) -> None:
        doc = obj.model_dump(mode="json", by_alias=True)
        fresh = db.insert_ignore(conn, db.events, {
            "id": obj.id, "kiosk_id": kiosk_id, "seq": obj.seq, "at_ts": _iso_ts(obj.at), "received_ts": now,
            "kind": obj.kind, "component": (obj.component or None) and obj.component[:64], "level": obj.level,
            "code": obj.code[:64], "payload": doc}, ["id"])
        if not fresh:
            with self._lock:
                self._duplicates += 1
            return
        k = db.kiosks.c
        last = conn.execute(select(k.last_seq).where(k.id == kiosk_id)).scalar() or 0
        seq = literal(obj.seq)
        if last and obj.seq > last + 1:
            with self._lock:
                self._gaps += obj.seq - last - 1
        # Expressions on the row itself, so two monitor processes writing one kiosk's events stay right;
        # a late event fills a gap counted before (shared subscriptions can reorder across processes).
        # seq 1 after higher ones: the kiosk's spool was rebuilt, a new sequence starts.
        conn.execute(update(db.kiosks).where(k.id == kiosk_id).values(
            gaps=case((and_(k.last_seq > 0, seq > k.last_seq + 1), k.gaps + seq - k.last_seq - 1),
                      (and_(seq < k.last_seq, seq != 1, k.gaps > 0), k.gaps - 1), else_=k.gaps),
            last_seq=case((seq > k.last_seq, seq), (seq == 1, seq), else_=k.last_seq)))

    def _result(self, conn: Connection, kiosk_id: str, obj: fleet_wire.CommandResult, now: float) -> None:
        c = db.command_results.c
        res = conn.execute(update(db.command_results).where(c.id == obj.id, c.kiosk_id == kiosk_id).values(
            result=obj.result, message=obj.message[:2000], answered_ts=now))
        if res.rowcount == 0:  # sent by something else than this monitor: keep the answer anyway
            db.insert_ignore(conn, db.command_results, {
                "id": obj.id[:64], "kiosk_id": kiosk_id, "kind": "unknown", "issued_ts": now,
                "result": obj.result, "message": obj.message[:2000], "answered_ts": now}, ["id"])
        shot = obj.data.get(SCREENSHOT_KEY)
        if isinstance(shot, str) and obj.result == "done":
            try:
                jpeg = base64.b64decode(shot, validate=True)
            except (binascii.Error, ValueError):
                jpeg = b""
            if jpeg.startswith(JPEG_MAGIC):
                conn.execute(update(db.kiosks).where(db.kiosks.c.id == kiosk_id).values(
                    screenshot=jpeg, screenshot_ts=now))
            else:
                log.warning("screenshot result is not a base64 JPEG", extra={"kiosk_id": kiosk_id})
