"""`make demo` headless: the whole stack comes up from a clean work dir and does a real round trip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2

from devices.camera.qr import decode_qr

ROOT = Path(__file__).resolve().parents[1]


def test_headless_demo_round_trip(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run([sys.executable, "-m", "kiosk", "--log-format", "text", "demo", "--headless",
                        "--workdir", str(tmp_path / "demo"), "--duration", "1"],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=240)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "content version" in out and "active" in out
    assert "(masked)" in out
    assert "is now 'received'" in out, out  # forwarded through the outbox to the platform
    # the fleet: paper out at the demo kiosk reaches its hall's team through agent, broker, monitor and webhook
    assert "-> 'open' notification" in out and "-> 'clear' notification" in out, out
    # the printed receipt is a real raster page with the tracking number in its QR code
    pages = sorted((tmp_path / "demo" / "printed").glob("*.png"))
    assert pages
    text = decode_qr(cv2.imread(str(pages[0])))  # the decoder the kiosk's camera uses
    assert text and text.startswith("TK") and text in out
    # the demo's own card never leaks its full ID number into what it prints
    from devices.sim.card_reader import SAMPLE_CARDS
    assert SAMPLE_CARDS[0].id_number not in out
    assert SAMPLE_CARDS[0].name not in out
    # ... and not because the log scrubber caught it: it marks what it redacts, and had nothing to do
    assert "[id-redacted]" not in out
    # Every process's log (platform, origin, edge with its agent, fleet monitor, simulator), everything the
    # fleet monitor stored of the MQTT traffic (each state and event it received) and the broker's own
    # persistence: no ID number, name or card photo bytes. (The platform's database and the edge's outbox
    # hold the application by design.)
    card = SAMPLE_CARDS[0]
    demo = tmp_path / "demo"
    places = [*demo.glob("*.log"), demo / "fleet" / "fleet.sqlite3", demo / "fleet" / "mqtt" / "data" / "mosquitto.db"]
    secrets = {"ID number": card.id_number.encode(), "name": card.name.encode(),
               "name (JSON-escaped)": card.name.encode("unicode_escape"), "photo": card.photo[:64]}
    platform_db = b"".join(p.read_bytes() for p in demo.glob("platform.sqlite3*"))
    assert secrets["ID number"] in platform_db  # the control: where it belongs, this scan does find it
    for place in places:
        data = b"".join(p.read_bytes() for p in place.parent.glob(place.name + "*"))  # with -wal/-shm files
        assert data, f"{place} is missing: the check would prove nothing"
        leaked = [what for what, secret in secrets.items() if secret in data]
        assert not leaked, f"{', '.join(leaked)} in {place.relative_to(demo)}"
