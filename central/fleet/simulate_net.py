"""Thousands of MQTT kiosk connections from a few threads.

Each shard thread owns a set of paho clients (never `loop_start()`: that is one thread per client) and
drives them with `loop_read` / `loop_write` / `loop_misc` over one epoll selector; a timer heap holds each
kiosk's next connect, state, fault and clear. A site's kiosks live in one shard, so a site's WAN loss is
one action there. Everything a client does happens on its shard's thread, so no client needs a lock;
other threads talk to a shard through its control queue.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import queue
import selectors
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk import fleet_wire

from .simulate_kiosk import FAULTS, Fault, SimKiosk

log = logging.getLogger("central.fleet.simulate")

RECONNECT_MIN_S, RECONNECT_MAX_S = 1.0, 30.0
MISC_EVERY_S = 1.0  # keepalive pings and timeouts (paho's loop_misc) for every client this often


@dataclass
class Options:
    host: str
    port: int
    interval_s: float = 30.0
    fault_rate: float = 0.05      # faults per kiosk-hour
    fault_duration_s: float = 600.0
    wan_loss_s: float = 120.0     # mean length of a site's WAN outage
    keepalive_s: int = 60
    connect_rate: float = 200.0   # new connections per second, whole simulator
    shards: int = 2
    faults: tuple[str, ...] = ()  # the random faults to choose from (empty: all of FAULTS)


@dataclass
class Conn:
    """A kiosk's model plus its MQTT client and the shard's bookkeeping for it."""
    kiosk: SimKiosk
    client: mqtt.Client
    topics: dict[str, str]
    connected: bool = False
    started: bool = False         # connect() was called once (later: reconnect())
    down_until: float = 0.0       # the site's WAN is out until then: no reconnect before
    backoff_s: float = RECONNECT_MIN_S
    sock: Any = None
    fd: int = -1
    mask: int = 0
    pending: list[bytes] = field(default_factory=list)  # events made while not connected (the agent's spool)


class Shard(threading.Thread):
    def __init__(self, index: int, opts: Options, conns: list[Conn], connect_at: dict[str, float],
                 stats: Counter[str], stats_lock: threading.Lock) -> None:
        super().__init__(name=f"fleet-sim-{index}", daemon=True)
        self.opts = opts
        self.conns = conns
        self.by_id = {c.kiosk.kiosk_id: c for c in conns}
        self.sites: dict[str, list[Conn]] = {}
        for c in conns:
            self.sites.setdefault(c.kiosk.site_id, []).append(c)
        self.sel = selectors.DefaultSelector()
        self.timers: list[tuple[float, int, Callable[[], None]]] = []
        self._tick = itertools.count()
        self.control: queue.Queue[Callable[[], None]] = queue.Queue()
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._stop_mode = "shutdown"
        self._stats, self._stats_lock = stats, stats_lock
        self._local: Counter[str] = Counter()
        for c in conns:
            self._wire(c)
            self.at(connect_at[c.kiosk.kiosk_id], lambda c=c: self._connect(c))

    # --- helpers -----------------------------------------------------------------------------------
    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.timers, (when, next(self._tick), action))

    def _count(self, key: str, n: int = 1) -> None:
        self._local[key] += n

    def _flush_stats(self) -> None:
        if self._local:
            with self._stats_lock:
                self._stats.update(self._local)
            self._local.clear()

    def _wire(self, c: Conn) -> None:
        c.client.on_connect = lambda client, ud, flags, rc, props: self._on_connect(c, rc)
        c.client.on_disconnect = lambda client, ud, flags, rc, props: self._on_disconnect(c)
        c.client.on_message = lambda client, ud, msg: self._on_message(c, msg)

    def _sync(self, c: Conn) -> None:
        """Keep the selector in step with the client's socket (paho replaces it on every reconnect)."""
        sock = c.client.socket()
        if sock is not c.sock:
            if c.sock is not None:
                with contextlib.suppress(KeyError, ValueError, OSError):
                    self.sel.unregister(c.fd)
            c.sock, c.fd, c.mask = sock, -1, 0
            if sock is None:
                return
            c.fd = sock.fileno()
        want = selectors.EVENT_READ | (selectors.EVENT_WRITE if c.client.want_write() else 0)
        if c.mask == 0:
            try:
                self.sel.register(c.fd, want, c)
            except KeyError:  # a stale entry: that fd's earlier socket closed without a sync (paho did it)
                stale: Conn = self.sel.get_key(c.fd).data
                stale.sock, stale.fd, stale.mask = None, -1, 0
                self.sel.unregister(c.fd)
                self.sel.register(c.fd, want, c)
        elif want != c.mask:
            self.sel.modify(c.fd, want, c)
        c.mask = want

    def _publish(self, c: Conn, kind: str, payload: bytes, retain: bool = False) -> None:
        # Outside a callback paho writes at once, and a failed write closes the socket: sync after each.
        c.client.publish(c.topics[kind], payload, qos=fleet_wire.QOS, retain=retain)
        self._count(f"published_{kind}")
        self._sync(c)

    # --- connection --------------------------------------------------------------------------------
    def _connect(self, c: Conn) -> None:
        now = time.time()
        if c.connected or self._stop.is_set() or now < c.down_until:
            return
        try:
            if not c.started:
                c.started = True
                c.client.connect(self.opts.host, self.opts.port, keepalive=self.opts.keepalive_s,
                                 clean_start=True)
            else:
                c.client.reconnect()
        except (OSError, ValueError) as e:  # broker down or refusing: try again later, with backoff
            self._count("connect_failures")
            log.debug("connect failed", extra={"kiosk_id": c.kiosk.kiosk_id, "error": str(e)[:100]})
            self._retry(c)
        self._sync(c)

    def _retry(self, c: Conn) -> None:
        delay = c.backoff_s * c.kiosk.rng.uniform(0.75, 1.25)
        c.backoff_s = min(RECONNECT_MAX_S, c.backoff_s * 2)
        self.at(max(time.time() + delay, c.down_until), lambda: self._connect(c))

    def _on_connect(self, c: Conn, rc: Any) -> None:
        if rc.is_failure:
            self._count("connect_refused")
            return
        c.connected, c.backoff_s = True, RECONNECT_MIN_S
        self._count("connects")
        k = c.kiosk
        c.client.subscribe(c.topics[fleet_wire.KIND_CMD], qos=fleet_wire.QOS)
        self._publish(c, fleet_wire.KIND_AVAILABILITY, fleet_wire.encode(k.availability(True, "birth")), True)
        self._publish(c, fleet_wire.KIND_STATE, k.state_bytes(time.time()), True)
        for body in c.pending:
            self._publish(c, fleet_wire.KIND_EVENTS, body)
        c.pending.clear()

    def _on_disconnect(self, c: Conn) -> None:
        was = c.connected
        c.connected = False
        if was:
            self._count("disconnects")
        if not self._stop.is_set() and was:
            self.at(max(time.time() + c.kiosk.rng.uniform(0.5, 1.5), c.down_until), lambda: self._connect(c))
        elif not self._stop.is_set():
            self._retry(c)

    def _on_message(self, c: Conn, msg: mqtt.MQTTMessage) -> None:
        if msg.topic != c.topics[fleet_wire.KIND_CMD]:
            return
        result = c.kiosk.answer(bytes(msg.payload))
        self._count("commands")
        if result is not None:
            self._publish(c, fleet_wire.KIND_CMD_RESULT, fleet_wire.encode(result))

    # --- what kiosks do ----------------------------------------------------------------------------
    def _state_tick(self, c: Conn) -> None:
        if c.connected:
            self._publish(c, fleet_wire.KIND_STATE, c.kiosk.state_bytes(time.time()), True)
        # jittered every time: after a site's outage its kiosks must not stay in lockstep
        self.at(time.time() + self.opts.interval_s * c.kiosk.rng.uniform(0.9, 1.1), lambda: self._state_tick(c))

    def _emit(self, c: Conn, events: list[fleet_wire.Event]) -> None:
        for e in events:
            body = fleet_wire.encode(e)
            if c.connected:
                self._publish(c, fleet_wire.KIND_EVENTS, body)
            else:
                c.pending.append(body)
        # a change goes out with the state at once, as the agent republishes on change
        if c.connected:
            self._publish(c, fleet_wire.KIND_STATE, c.kiosk.state_bytes(time.time()), True)

    def _random_fault(self, c: Conn) -> None:
        fault = c.kiosk.pick_fault(self.opts.faults)
        self._count(f"fault_{fault.name}")
        if fault.name == "site_wan_loss":
            self.drop_site(c.kiosk.site_id, c.kiosk.rng.uniform(0.5, 1.5) * self.opts.wan_loss_s)
        else:
            self.start_fault(c, fault, c.kiosk.fault_duration(fault, self.opts.fault_duration_s))
        self._schedule_fault(c)

    def _schedule_fault(self, c: Conn) -> None:
        wait = c.kiosk.next_fault_in(self.opts.fault_rate)
        if wait is not None:
            self.at(time.time() + wait, lambda: self._random_fault(c))

    def start_fault(self, c: Conn, fault: Fault, duration_s: float | None) -> None:
        """Start `fault` now; it clears after `duration_s` (None: it stays until the simulator stops)."""
        self._emit(c, c.kiosk.apply(fault))
        if fault.component == "" and c.connected:
            self._publish(c, fleet_wire.KIND_STATE, c.kiosk.state_bytes(time.time()), True)
        if duration_s is not None:
            self.at(time.time() + duration_s, lambda: self._clear(c, fault))

    def _clear(self, c: Conn, fault: Fault) -> None:
        before = c.kiosk.disk_pct
        self._emit(c, c.kiosk.clear(fault))
        if fault.component == "" and before != c.kiosk.disk_pct and c.connected:
            self._publish(c, fleet_wire.KIND_STATE, c.kiosk.state_bytes(time.time()), True)

    def drop_site(self, site_id: str, duration_s: float) -> None:
        """The hall's WAN goes: every kiosk's TCP connection ends without a DISCONNECT, so the broker
        sends each one's Last Will; they reconnect when the WAN is back."""
        until = time.time() + duration_s
        for c in self.sites.get(site_id, []):
            c.down_until = max(c.down_until, until)
            sock = c.client.socket()
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # paho reads EOF next and reports the loss
            # the reconnect is scheduled by _on_disconnect (or by a pending retry), not after down_until
        self._count("site_wan_losses")

    # --- the loop ----------------------------------------------------------------------------------
    def run(self) -> None:
        for c in self.conns:
            first = time.time() + self.opts.interval_s * c.kiosk.rng.uniform(0.5, 1.5)
            self.at(first, lambda c=c: self._state_tick(c))
            self._schedule_fault(c)
        next_misc = time.monotonic() + MISC_EVERY_S
        while not self._stop.is_set():
            try:
                self._round()
                if time.monotonic() >= next_misc:
                    next_misc = time.monotonic() + MISC_EVERY_S
                    for c in self.conns:
                        if c.sock is not None:
                            c.client.loop_misc()
                            self._sync(c)
                    self._flush_stats()
            except Exception:  # one bad round (a client in a state paho did not expect) must not end the shard
                log.exception("simulator round failed")
                time.sleep(0.1)
        self._finish()
        self._flush_stats()
        self._stopped.set()

    def _round(self) -> None:
        while True:
            try:
                self.control.get_nowait()()
            except queue.Empty:
                break
        now = time.time()
        while self.timers and self.timers[0][0] <= now:
            heapq.heappop(self.timers)[2]()
        timeout = 0.1 if not self.timers else min(0.1, max(0.0, self.timers[0][0] - time.time()))
        self._io(timeout)

    def _io(self, timeout: float) -> None:
        if not self.sel.get_map():
            time.sleep(timeout)
            return
        for key, mask in self.sel.select(timeout):
            c: Conn = key.data
            if mask & selectors.EVENT_READ:
                c.client.loop_read()
            if mask & selectors.EVENT_WRITE and c.client.socket() is not None:
                c.client.loop_write()
            self._sync(c)

    # --- stopping ----------------------------------------------------------------------------------
    def stop(self, mode: str) -> None:
        self._stop_mode = mode
        self._stop.set()

    def wait_stopped(self, timeout: float) -> bool:
        return self._stopped.wait(timeout)

    def _finish(self, timeout_s: float = 10.0) -> None:
        """`shutdown`: each kiosk says offline/shutdown (retained, acknowledged) and disconnects cleanly,
        as the agent does on SIGTERM. `drop`: the connections just end, so the broker sends the wills."""
        live = [c for c in self.conns if c.connected]
        if self._stop_mode == "drop":
            for c in live:
                if (sock := c.client.socket()) is not None:
                    sock.close()
            return
        infos = []
        for c in live:
            body = fleet_wire.encode(c.kiosk.availability(False, "shutdown"))
            infos.append(c.client.publish(c.topics[fleet_wire.KIND_AVAILABILITY], body, qos=fleet_wire.QOS,
                                          retain=True))
            self._sync(c)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not all(_settled(i) for i in infos):
            self._io(0.05)
        for c in live:
            if c.client.socket() is not None:
                c.client.disconnect()
                self._sync(c)
        deadline = time.monotonic() + 2.0  # let the DISCONNECTs leave before the sockets close
        while time.monotonic() < deadline and any(c.client.socket() is not None and c.client.want_write()
                                                  for c in live):
            self._io(0.05)
        self._count("shutdown_notices", sum(1 for i in infos if _settled(i) and i.rc == mqtt.MQTT_ERR_SUCCESS))


def _settled(info: mqtt.MQTTMessageInfo) -> bool:
    """Acknowledged, or lost with its connection (paho raises for that one)."""
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return True


def make_conn(kiosk: SimKiosk) -> Conn:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=kiosk.kiosk_id, protocol=mqtt.MQTTv5)
    topics = {k: fleet_wire.topic(kiosk.kiosk_id, k) for k in fleet_wire.KINDS}
    will = fleet_wire.encode(kiosk.availability(False, "connection_lost"))
    client.will_set(topics[fleet_wire.KIND_AVAILABILITY], will, qos=fleet_wire.QOS, retain=True)
    return Conn(kiosk=kiosk, client=client, topics=topics)


def fault_named(name: str) -> Fault:
    try:
        return FAULTS[name]
    except KeyError:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}") from None
