"""`python -m central.fleet.simulate` as a process: what a stopped simulator leaves on the broker."""

from __future__ import annotations

import random
import signal
import subprocess
import sys

import pytest

from central.fleet.simulate import load_layout
from kiosk import fleet_wire
from tests.fixtures_mqtt import ROOT, Broker, wait_until

N = 20


def _last_availability(sub) -> dict[str, fleet_wire.Availability]:
    out = {}
    for m in list(sub.messages):
        parsed = fleet_wire.parse_topic(m.topic)
        if parsed and parsed[1] == "availability" and m.payload:
            out[parsed[0]] = fleet_wire.decode("availability", m.payload, parsed[0])
    return out


@pytest.mark.parametrize(("mode", "reason"), [("shutdown", "shutdown"), ("drop", "connection_lost")])
def test_sigterm_leaves_every_kiosk_offline(broker: Broker, subscriber_factory, tmp_path, mode, reason) -> None:
    seed = random.randrange(1 << 30)
    print(f"simulator seed {seed}")
    sub = subscriber_factory(["kiosk/v1/+/availability"])
    out = tmp_path / "sim.out"
    with open(out, "wb") as f:
        proc = subprocess.Popen([sys.executable, "-m", "central.fleet.simulate", "--broker", f"127.0.0.1:{broker.port}",
                                 "--kiosks", str(N), "--interval", "1", "--fault-rate", "0", "--seed", str(seed),
                                 "--report-every", "0", "--stop-mode", mode], cwd=ROOT, stdout=f, stderr=f)
    ids = {k for k, _ in load_layout(N, None, 3, '')[0]}  # the ids the command picks
    try:
        wait_until(lambda: {k for k, a in _last_availability(sub).items() if a.online} == ids,
                   what="every simulated kiosk online", seen=lambda: out.read_text())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, out.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.read_text()
    assert f"seed {seed}" in text and "stopped by SIGTERM" in text

    wait_until(lambda: all(not a.online and a.reason == reason for a in _last_availability(sub).values()),
               what=f"every kiosk offline ({reason})", seen=lambda: _last_availability(sub))
    late = subscriber_factory(["kiosk/v1/+/availability"])  # what a monitor starting now would see
    wait_until(lambda: set(_last_availability(late)) == ids, what="a retained availability for every kiosk")
    assert {(a.online, a.reason) for a in _last_availability(late).values()} == {(False, reason)}


def test_bad_input_is_one_clear_line(tmp_path) -> None:
    bad = tmp_path / "inv.toml"
    bad.write_text("[[kiosks]\nid = ", encoding="utf-8")
    for args, expected in ((["--kiosks", "0"], "must be more than 0"),
                           (["--kiosks", "3", "--broker", "nohost"], "is not HOST:PORT"),
                           (["--kiosks", "3", "--faults", "paper_jam"], "unknown fault(s) paper_jam"),
                           (["--kiosks", "3", "--inventory", str(bad)], "cannot read the inventory")):
        r = subprocess.run([sys.executable, "-m", "central.fleet.simulate", *args], cwd=ROOT,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, r
        assert expected in r.stderr and "Traceback" not in r.stderr, r.stderr
