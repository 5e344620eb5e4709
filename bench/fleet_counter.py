"""The bare subscriber of the fleet bench: takes every kiosk message (QoS 1, like the monitor) and only
counts it. One line of JSON on stdout every 0.25 s: {"t": monotonic, "n": messages so far, "rss_kb"}.

    python -m bench.fleet_counter PORT
"""

from __future__ import annotations

import json
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def main(argv: list[str]) -> int:
    port = int(argv[0])
    count = [0]
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-counter-{port}", protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(1000)
    c.on_connect = lambda client, ud, flags, rc, props: client.subscribe("kiosk/v1/+/#", qos=1)

    def on_message(client: mqtt.Client, ud: object, msg: mqtt.MQTTMessage) -> None:
        count[0] += 1
    c.on_message = on_message
    c.connect("127.0.0.1", port, keepalive=30)
    threading.Thread(target=c.loop_forever, daemon=True).start()
    while True:
        print(json.dumps({"t": time.monotonic(), "n": count[0], "rss_kb": rss_kb()}), flush=True)
        time.sleep(0.25)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
