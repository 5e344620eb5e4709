"""The MQTT connection: paho 2.x, MQTT 5, optional TLS, a Last Will, reconnects with backoff.

Callbacks run on paho's network thread and only put a tuple on the agent's queue: work done inside them
(or locks taken there) can deadlock against a publish() made on another thread.
"""

from __future__ import annotations

import logging
import queue
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk import fleet_wire

log = logging.getLogger("edge.agent")

CONNECTED, DISCONNECTED, PUBACK, MESSAGE = "connected", "disconnected", "puback", "message"


@dataclass(frozen=True)
class BrokerConfig:
    host: str
    port: int = 8883
    keepalive_s: int = 30
    ca: Path | None = None  # with ca: TLS (cert + key: the kiosk's client certificate)
    cert: Path | None = None
    key: Path | None = None
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0
    # Kept by the broker across a short drop so commands sent meanwhile still arrive (QoS 1).
    session_expiry_s: int = 3600


def offline_will(kiosk_id: str) -> bytes:
    return fleet_wire.encode(fleet_wire.Availability(kiosk_id=kiosk_id, online=False, reason="connection_lost"))


class Connection:
    def __init__(self, kiosk_id: str, broker: BrokerConfig, inbox: queue.Queue[tuple[Any, ...]]) -> None:
        self.kiosk_id = kiosk_id
        self.broker = broker
        self._inbox = inbox
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=kiosk_id, protocol=mqtt.MQTTv5)
        if broker.ca is not None:
            c.tls_set(ca_certs=str(broker.ca), certfile=str(broker.cert) if broker.cert else None,
                      keyfile=str(broker.key) if broker.key else None, cert_reqs=ssl.CERT_REQUIRED,
                      tls_version=ssl.PROTOCOL_TLS_CLIENT)
        c.will_set(fleet_wire.topic(kiosk_id, fleet_wire.KIND_AVAILABILITY), offline_will(kiosk_id),
                   qos=fleet_wire.QOS, retain=True)
        # paho doubles the delay per failed attempt up to the max; fractions work (tests use them).
        c.reconnect_delay_set(min_delay=broker.reconnect_min_s, max_delay=broker.reconnect_max_s)  # type: ignore[arg-type]
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish
        c.on_message = self._on_message
        self.client = c

    # --- paho callbacks: enqueue and return -----------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, props: Any) -> None:
        self._inbox.put((CONNECTED, not reason_code.is_failure, str(reason_code)))

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, props: Any) -> None:
        self._inbox.put((DISCONNECTED, str(reason_code)))

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason_code: Any, props: Any) -> None:
        self._inbox.put((PUBACK, mid, not reason_code.is_failure, str(reason_code)))

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._inbox.put((MESSAGE, msg.topic, bytes(msg.payload)))

    # --- used from the agent thread --------------------------------------------------------------
    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.broker.session_expiry_s
        # Resume the broker's session even on the first connect after a restart of this process: commands
        # sent meanwhile are still delivered (the result cache makes a redelivery harmless). Also,
        # Mosquitto 2.0.11 drops a session that began with clean_start=True when it restarts itself.
        # connect_async + loop_start: paho's thread keeps retrying, also when the broker is down at boot.
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s,
                                  clean_start=False, properties=props)
        self.client.loop_start()

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=fleet_wire.QOS)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> int | None:
        """The mid, or None if paho did not take the message. Without a connection paho still takes a
        QoS 1 message and sends it after the reconnect, so that counts as taken."""
        info = self.client.publish(topic, payload, qos=fleet_wire.QOS, retain=retain)
        if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            return info.mid
        log.warning("paho did not take a message", extra={"rc": int(info.rc)})
        return None

    def close(self, last: tuple[str, bytes] | None, timeout_s: float) -> None:
        """Publish `last` (retained) and wait for its PUBACK, then disconnect: a clean disconnect does not
        send the will, so the offline notice has to be ours and has to be out first."""
        if last is not None and self.client.is_connected():
            info = self.client.publish(last[0], last[1], qos=fleet_wire.QOS, retain=True)
            try:
                info.wait_for_publish(timeout_s)
            except (RuntimeError, ValueError) as e:
                log.warning("offline notice not sent", extra={"error": str(e)})
            if not info.is_published():
                log.warning("offline notice not acknowledged before stop")
        self.client.disconnect()
        self.client.loop_stop()
