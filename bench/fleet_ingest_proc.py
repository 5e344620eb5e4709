"""The fleet monitor's ingest alone in a process of its own (its CPU and RSS measured apart from the load
generator): M1's `central.fleet.ingest.Ingest` on a SQLite file holding the sample inventory. One line of
JSON on stdout every 0.25 s: {"t": monotonic, "n": messages decoded and written so far, "rss_kb"}.

    python -m bench.fleet_ingest_proc PORT DB_PATH N_KIOSKS
"""

from __future__ import annotations

import json
import sys
import time

from bench.fleet_counter import rss_kb
from central.fleet import db
from central.fleet.config import FleetConfig
from central.fleet.ingest import Ingest
from central.fleet.inventory import apply, parse_inventory, sample_inventory


def main(argv: list[str]) -> int:
    port, path, n = int(argv[0]), argv[1], int(argv[2])
    engine = db.connect(f"sqlite:///{path}")
    apply(engine, parse_inventory(sample_inventory(n)))
    cfg = FleetConfig.model_validate({"broker": {"port": port}, "monitor": {"db": f"sqlite:///{path}"}})
    ingest = Ingest(engine, cfg, client_id=f"bench-monitor-{port}")
    ingest.start()
    ingest.subscribed.wait(20)
    while True:
        c = ingest.counters()
        print(json.dumps({"t": time.monotonic(), "n": sum(c["messages"].values()),
                          "queued": c["queued"], "rss_kb": rss_kb(), "subscribed": ingest.subscribed.is_set()}),
              flush=True)
        time.sleep(0.25)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
