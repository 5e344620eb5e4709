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

paho's callbacks only enqueue (a bounded queue, MAX_QUEUE: past it a message is dropped and counted as
`overload`, paho's thread never blocks); one worker thread decodes (fleet_wire's models) and writes. It
takes what is queued in batches — up to BATCH messages, waiting LINGER_S after the first for more — and
writes each batch in ONE transaction with a handful of statements whatever its size (see _apply): a
kiosk's several states in a batch are written once, as the newest that stands, while every availability
change among them is still logged; events are inserted many at a time, a redelivered id being a counted
duplicate. The evaluator is handed the kiosks the batch changed. A payload that is oversized, not JSON,
of a wrong schema, invalid, naming another kiosk, or on a topic of an unknown shape is counted by reason
and dropped with one log line.

What is guaranteed, and what is not. paho acknowledges a QoS 1 message (PUBACK) when on_message returns,
i.e. once it is in the in-memory queue, before it is written: a message is in the database once its
batch commits (SQLite synchronous=FULL in WAL mode, or PostgreSQL's commit), up to BATCH messages /
LINGER_S plus the write after it was received. If the monitor process dies in between, what it had
queued is lost to it: retained availability and state come back by themselves (the broker replays them
on the next subscribe, and the agents republish their state every interval), but an event acknowledged
and not yet written is gone — the agent's spool dropped it at the PUBACK — and shows at most as a gap in
that kiosk's seq. MQTT 5 manual acks (paho 2.2 `manual_ack=True`, then `client.ack(mid, qos)` after the
commit) would close that window, but they hold every message of a batch unacknowledged at the broker:
the broker's in-flight window (EMQX `max_inflight` 32 by default, Mosquitto's `max_inflight_messages` for
v3 clients) would then cap ingest at one window per commit, and unacked messages past it wait in the
broker's per-session queue (Mosquitto `max_queued_messages` 1000 by default), dropped there without a
count. So: events at most once between PUBACK and commit, exactly once in the database (dedupe by id)
for everything that reaches it; a redelivery (the agent's QoS 1 spool resends until PUBACK) never counts
twice.

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
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from central.fleet import audit_heads, db
from central.fleet.config import FleetConfig
from kiosk import fleet_wire

log = logging.getLogger("central.fleet.ingest")

SUBSCRIBED_KINDS = (fleet_wire.KIND_AVAILABILITY, fleet_wire.KIND_STATE, fleet_wire.KIND_EVENTS,
                    fleet_wire.KIND_CMD_RESULT)
SERVICE_COMPONENTS = ("card_reader", "printer", "content")  # a fault here means the kiosk cannot serve
SESSION_EXPIRY_S = 3600
MAX_QUEUE = 100_000  # past this, on_message drops and counts "overload" (paho's thread never blocks)
BATCH = 500          # messages per transaction at most
LINGER_S = 0.05      # how long a batch waits for more messages after its first
SWITCH_INTERVAL_S = 0.001  # the GIL switch interval while ingest runs (see start())
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


_FAST_MODELS: dict[str, type[Any]] = {fleet_wire.KIND_AVAILABILITY: fleet_wire.Availability,
                                     fleet_wire.KIND_STATE: fleet_wire.State, fleet_wire.KIND_EVENTS: fleet_wire.Event,
                                     fleet_wire.KIND_CMD_RESULT: fleet_wire.CommandResult}


def _decode_fast(kind: str, payload: bytes, kiosk_id: str) -> Any:
    """fleet_wire.decode(kind, payload, kiosk_id), about twice as fast for a good payload: pydantic parses
    the JSON itself (no json.loads, then validation of the dict). Whatever that path does not accept
    outright — too large, not JSON (or JSON only Python's parser takes), no `schema`, invalid, another
    kiosk's — goes to fleet_wire.decode, which decides and gives the reason: the same payloads are
    accepted and refused as with decode alone."""
    model = _FAST_MODELS.get(kind)
    if model is not None and len(payload) <= fleet_wire.MAX_PAYLOAD_BYTES:
        try:
            obj = model.model_validate_json(payload)
        except ValueError:  # pydantic's ValidationError
            pass
        else:  # a missing `schema` takes the model's default: decode refuses that
            if "schema_" in obj.model_fields_set and getattr(obj, "kiosk_id", kiosk_id) == kiosk_id:
                return obj
    return fleet_wire.decode(kind, payload, kiosk_id)


Decoded = tuple[str, str, Any, bool, float]  # kiosk id, kind, fleet_wire payload, retained, received


@dataclass
class Outcome:
    """What one committed batch did (counted only once it is committed)."""
    changed: set[str] = field(default_factory=set)   # kiosks whose state, availability or row is new
    appeared: set[str] = field(default_factory=set)  # kiosk rows this batch created
    seen: set[str] = field(default_factory=set)      # kiosk rows known to exist now
    duplicates: int = 0
    gaps: int = 0

    def merge(self, o: Outcome) -> None:
        self.changed |= o.changed
        self.appeared |= o.appeared
        self.seen |= o.seen
        self.duplicates += o.duplicates
        self.gaps += o.gaps


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
        # paho's network thread needs the GIL back after each of its several socket calls per message
        # (select, recv header, recv body, send PUBACK); while the worker is decoding, every one of them
        # waits up to the switch interval (5 ms by default), and paho then reads the broker's stream at a
        # fraction of the rate a bare subscriber does: the queue stays short while messages pile up at the
        # broker. 1 ms keeps paho's thread fed at the cost of a little more switching (process-wide).
        if sys.getswitchinterval() > SWITCH_INTERVAL_S:
            sys.setswitchinterval(SWITCH_INTERVAL_S)
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
    def _decode(self, item: tuple[str, bytes, bool, float]) -> Decoded | None:
        topic, payload, retain, now = item
        parsed = fleet_wire.parse_topic(topic)
        if parsed is None or parsed[1] not in SUBSCRIBED_KINDS:
            self._drop("unknown_topic", topic, "topic of an unknown shape")
            return None
        kiosk_id, kind = parsed
        try:
            obj = _decode_fast(kind, payload, kiosk_id)
        except fleet_wire.WireError as e:
            self._drop(e.reason, topic, str(e))
            return None
        with self._lock:
            self._messages[kind] += 1
        return kiosk_id, kind, obj, retain, now

    def _take(self) -> list[tuple[str, bytes, bool, float]] | None:
        """The next batch: what is queued, up to BATCH messages; when less than that is queued, after
        waiting LINGER_S for more (a commit per message is what made ingest fall behind; sleeping once
        rather than waking for every message spares the CPU). None if nothing came."""
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return None
        self._idle.clear()
        if self._queue.qsize() < BATCH - 1:
            self._stop.wait(LINGER_S)
        items = [first]
        get = self._queue.get_nowait
        try:
            while len(items) < BATCH:
                items.append(get())
        except queue.Empty:
            pass
        return items

    def _work(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            items = self._take()
            if items is None:
                self._idle.set()
                continue
            decoded = [d for d in map(self._decode, items) if d is not None]
            if decoded:
                self._write(decoded)
        self._idle.set()

    def _write(self, batch: list[Decoded]) -> None:
        """The whole batch in one transaction; on failure (a lock timeout, a deadlock PostgreSQL broke, a
        bad row) once more, then message by message so one bad row loses only itself."""
        done = self._try(batch, tries=2)
        if done is None:
            done = Outcome()
            for m in batch:
                one = self._try([m], tries=WRITE_TRIES)
                if one is None:
                    self._known.discard(m[0])
                    self._drop("db_error", fleet_wire.topic(m[0], m[1]), "database write failed")
                else:
                    done.merge(one)
        with self._lock:
            self._duplicates += done.duplicates
            self._gaps += done.gaps
        for kiosk_id in sorted(done.appeared):
            log.info("a kiosk not in the inventory appeared", extra={"kiosk_id": kiosk_id})
        if done.changed and self.on_change is not None:
            try:
                self.on_change(done.changed)
            except Exception:
                log.exception("ingest change listener failed")

    def _try(self, batch: list[Decoded], tries: int) -> Outcome | None:
        for attempt in range(tries):
            try:
                with self.engine.begin() as conn:
                    out = self._apply(conn, batch)
            except Exception as e:
                if attempt == tries - 1:
                    log.warning("database write failed: %s", type(e).__name__, extra={"messages": len(batch)})
                    return None
                time.sleep(0.2 * (attempt + 1))
            else:
                self._known.update(out.seen)
                return out
        return None

    def _apply(self, conn: Connection, batch: list[Decoded]) -> Outcome:
        """Apply a batch, in message order per kiosk, with a handful of statements whatever its size:
        1. insert the kiosks this process has not met yet (INSERT ... ON CONFLICT DO NOTHING, many rows);
        2. set last_seen_ts on every kiosk of the batch, in id order: on PostgreSQL this row-locks them
           (always in the same order in every process, so two monitors cannot deadlock on them), on SQLite
           it takes the database's write lock before anything is read. Every read-then-write below is
           thus made under that lock: two monitor processes sharing one database never both log the same
           availability change, and last_seq / gaps add up whichever process gets a kiosk's events;
        3. read those kiosks (with each one's last availability_log entry);
        4. insert the batch's events (a redelivered id collides: a counted duplicate, as before);
        5. run every message against the rows in memory, exactly as one message at a time would have:
           each availability change is logged, but of a kiosk's many states in a batch only the newest
           that stands is written;
        6. write back: availability_log rows, and one UPDATE per changed kiosk (executemany)."""
        out = Outcome()
        k = db.kiosks.c
        last_seen: dict[str, float] = {}
        for kiosk_id, _, _, _, now in batch:
            last_seen[kiosk_id] = now
        ids = sorted(last_seen)
        out.seen = set(ids)
        new = [i for i in ids if i not in self._known]
        if new:
            first = {m[0]: m[4] for m in reversed(batch)}
            out.appeared = db.insert_ignore_many(conn, db.kiosks, [
                {"id": i, "registered": False, "first_seen_ts": first[i], "last_seq": 0, "gaps": 0} for i in new],
                "id")
            out.changed |= out.appeared
        conn.execute(update(db.kiosks).where(k.id == bindparam("kid")).values(last_seen_ts=bindparam("ts")),
                     [{"kid": i, "ts": last_seen[i]} for i in ids])

        a = db.availability_log.c
        last_up = (select(a.up).where(a.kiosk_id == k.id).order_by(a.at_ts.desc(), a.id.desc()).limit(1)
                   .correlate(db.kiosks).scalar_subquery())
        # Of the stored state only what the decisions need, extracted by the database (SQLite json_extract,
        # PostgreSQL #>>): its time and the service components' levels, not the whole document.
        levels = [k.state[("components", c, "level")].as_string().label(f"level_{c}") for c in SERVICE_COMPONENTS]
        q = select(k.id, k.online, k.online_reason, k.state.isnot(None).label("has_state"),
                   k.state[("at",)].as_string().label("at"), *levels, k.last_seq, k.gaps, last_up.label("last_up"),
                   k.audit_heads)
        rows: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 500):
            for r in conn.execute(q.where(k.id.in_(ids[i:i + 500]))):
                state = None
                if r.has_state:  # a stub of the stored state: is_up() and the `at` checks read only these
                    state = {"at": r.at, "components": {c: {"level": lv} for c in SERVICE_COMPONENTS
                                                        if (lv := r._mapping[f"level_{c}"]) is not None}}
                rows[r.id] = {"online": r.online, "online_reason": r.online_reason, "state": state,
                              "last_seq": r.last_seq or 0, "gaps": r.gaps or 0, "last_up": r.last_up,
                              "audit_heads": r.audit_heads}

        events: dict[str, dict[str, Any]] = {}
        for kiosk_id, kind, obj, _, now in batch:
            if kind == fleet_wire.KIND_EVENTS and obj.id not in events:
                events[obj.id] = {
                    "id": obj.id, "kiosk_id": kiosk_id, "seq": obj.seq, "at_ts": _iso_ts(obj.at), "received_ts": now,
                    "kind": obj.kind, "component": (obj.component or None) and obj.component[:64],
                    "level": obj.level, "code": obj.code[:64], "payload": obj.model_dump(mode="json", by_alias=True)}
        fresh = db.insert_ignore_many(conn, db.events, list(events.values()), "id")

        writes: dict[str, dict[str, Any]] = {}  # kiosk id -> columns to set
        up_log: list[dict[str, Any]] = []
        for m in batch:
            kiosk_id, kind, obj, retain, now = m
            row = rows.get(kiosk_id)
            if row is None:  # cannot be: inserted or known, and locked above
                raise RuntimeError(f"kiosk row {kiosk_id!r} missing")
            w = writes.setdefault(kiosk_id, {})
            if kind == fleet_wire.KIND_AVAILABILITY:
                self._availability(row, w, up_log, kiosk_id, obj, retain, now, out)
            elif kind == fleet_wire.KIND_STATE:
                self._state(row, w, up_log, kiosk_id, obj, retain, now, out)
            elif kind == fleet_wire.KIND_EVENTS:
                if obj.id in fresh:
                    fresh.discard(obj.id)  # the same id again later in this batch is a duplicate too
                    self._event(row, w, obj, out)
                else:
                    out.duplicates += 1
            elif kind == fleet_wire.KIND_CMD_RESULT:
                self._result(conn, kiosk_id, obj, now)

        if up_log:
            conn.execute(insert(db.availability_log), up_log)
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for kiosk_id in ids:
            w = writes.get(kiosk_id)
            if w:
                if "state" in w:  # the same JSON model_dump(mode="json", by_alias=True) gives, in one call
                    w["state"] = w["state"].model_dump_json(by_alias=True)
                groups.setdefault(tuple(sorted(w)), []).append({"kid": kiosk_id, **{f"v_{c}": v for c, v in w.items()}})
        for cols, params in groups.items():
            conn.execute(update(db.kiosks).where(k.id == bindparam("kid")).values(
                {c: db.json_text(conn, f"v_{c}") if c == "state" else bindparam(f"v_{c}") for c in cols}), params)
        return out

    @staticmethod
    def _log_up(row: dict[str, Any], up_log: list[dict[str, Any]], kiosk_id: str, up: bool, now: float) -> None:
        last = row["last_up"]
        if last is None or bool(last) != up:
            up_log.append({"kiosk_id": kiosk_id, "at_ts": now, "up": up})
            row["last_up"] = up

    def _availability(self, row: dict[str, Any], w: dict[str, Any], up_log: list[dict[str, Any]], kiosk_id: str,
                      obj: fleet_wire.Availability, retain: bool, now: float, out: Outcome) -> None:
        if retain and row["online"] == obj.online and row["online_reason"] == obj.reason:
            return  # the retained message we already had, replayed on (re)subscribe: keep its time
        row.update(online=obj.online, online_reason=obj.reason)
        w.update(online=obj.online, online_reason=obj.reason, online_ts=now)
        self._log_up(row, up_log, kiosk_id, is_up(obj.online, row["state"]), now)
        out.changed.add(kiosk_id)

    def _state(self, row: dict[str, Any], w: dict[str, Any], up_log: list[dict[str, Any]], kiosk_id: str,
               obj: fleet_wire.State, retain: bool, now: float, out: Outcome) -> None:
        stored = row["state"]
        before = _iso_ts(stored.get("at")) if stored is not None else None
        mine = _iso_ts(obj.at)
        if before is not None and mine is not None and mine < before:
            # Older than what we have (both by the kiosk's own clock): with a shared subscription, two
            # monitor processes may write one kiosk's states out of order. The newer one stands.
            log.debug("older state ignored", extra={"kiosk_id": kiosk_id})
            return
        ts = now
        if retain:
            if stored is not None and stored.get("at") == obj.at:
                return  # replayed on (re)subscribe: it is not news, and not a sign of life
            # Missed while the monitor was away: it is no newer than the kiosk says (never in the future).
            ts = min(now, mine or now)
        # What the next decisions read, not the whole document; the state itself is serialized once, at the
        # write, and only the newest of a kiosk's states in the batch (it overwrites an earlier one here).
        row["state"] = stub = {"at": obj.at, "components": {n: {"level": c.level} for n, c in obj.components.items()}}
        w.update(state=obj, state_ts=ts)
        if (heads := audit_heads.track(row["audit_heads"], obj.audit_head, now)) != row["audit_heads"]:
            row["audit_heads"] = w["audit_heads"] = heads  # a head that went back opens audit_rollback
        self._log_up(row, up_log, kiosk_id, is_up(row["online"], stub), now)
        out.changed.add(kiosk_id)

    @staticmethod
    def _event(row: dict[str, Any], w: dict[str, Any], obj: fleet_wire.Event, out: Outcome) -> None:
        # A late event fills a gap counted before (shared subscriptions can reorder across processes);
        # seq 1 after higher ones: the kiosk's spool was rebuilt, a new sequence starts.
        seq, last, gaps = obj.seq, row["last_seq"], row["gaps"]
        if last > 0 and seq > last + 1:
            out.gaps += seq - last - 1
            gaps += seq - last - 1
        elif seq < last and seq != 1 and gaps > 0:
            gaps -= 1
        if seq > last or seq == 1:
            last = seq
        if (last, gaps) != (row["last_seq"], row["gaps"]):
            row.update(last_seq=last, gaps=gaps)
            w.update(last_seq=last, gaps=gaps)

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
