"""Run the agent alone, its status read from a JSON file: for tests that kill the process and for trying
the agent against a broker without an edge. `python -m edge.agent.run --kiosk-id k-1 --broker 127.0.0.1:1884
--spool /tmp/spool.db --status-file status.json`. SIGTERM/SIGINT stop it cleanly (offline/shutdown).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from typing import Any

from kiosk import log as kiosk_log

from .agent import Agent
from .connection import BrokerConfig


def file_status(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("the status file must hold a JSON object")
    return doc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m edge.agent.run", description=__doc__)
    p.add_argument("--kiosk-id", required=True)
    p.add_argument("--broker", required=True, help="host:port")
    p.add_argument("--spool", type=Path, required=True)
    p.add_argument("--status-file", type=Path, required=True)
    p.add_argument("--sync-trigger-file", type=Path, help="sync_content appends a line here")
    p.add_argument("--keepalive", type=int, default=30)
    p.add_argument("--interval", type=float, default=60.0)
    p.add_argument("--poll", type=float, default=2.0)
    p.add_argument("--spool-max", type=int, default=10_000)
    p.add_argument("--reconnect-min", type=float, default=1.0)
    p.add_argument("--reconnect-max", type=float, default=60.0)
    p.add_argument("--ca", type=Path)
    p.add_argument("--cert", type=Path)
    p.add_argument("--key", type=Path)
    p.add_argument("--log-format", choices=("json", "text"), default="json")
    a = p.parse_args(argv)
    kiosk_log.setup("INFO", a.log_format)
    host, _, port = a.broker.rpartition(":")
    broker = BrokerConfig(host=host, port=int(port), keepalive_s=a.keepalive, ca=a.ca, cert=a.cert, key=a.key,
                          reconnect_min_s=a.reconnect_min, reconnect_max_s=a.reconnect_max)

    trigger = None
    if a.sync_trigger_file is not None:
        def trigger() -> None:
            with open(a.sync_trigger_file, "a", encoding="utf-8") as f:
                f.write("sync\n")

    agent = Agent(a.kiosk_id, broker, a.spool, lambda: file_status(a.status_file), interval_s=a.interval,
                  poll_s=a.poll, spool_max=a.spool_max, trigger_sync=trigger)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    agent.start()
    while not stop.wait(0.5):  # a timed wait lets the signal handler run promptly
        pass
    agent.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
