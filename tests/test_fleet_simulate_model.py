"""The simulated kiosks say what real kiosks say, with ids an inventory can match."""

from __future__ import annotations

import json
import random

from central.fleet.simulate import inventory_layout, scheme_layout
from central.fleet.simulate_kiosk import FAULTS, SimKiosk
from devices.camera.camera import DISCONNECTED
from devices.idcard.reader import _status as card_status
from devices.printer.messages import status_for
from kiosk import fleet_wire
from kiosk.status import OK


def test_simulated_faults_are_the_drivers_own_statuses() -> None:
    real = {"printer": status_for, "card_reader": card_status,
            "camera": lambda code: {"disconnected": DISCONNECTED}[code]}
    for f in FAULTS.values():
        if not f.component:
            continue
        s = real[f.component](f.code)
        assert (f.level, f.zh, f.bo, f.en) == (s.level.value, s.zh, s.bo, s.en), f.name
    kiosk = SimKiosk("p01-c01-s01-k1", "p01-c01-s01", random.Random(1), 30.0, 0.0)
    assert all((c.zh, c.bo, c.en) == (OK.zh, OK.bo, OK.en) for c in kiosk.components.values())


def test_a_fault_and_its_clear_are_two_events_and_the_disk_shows_in_the_state() -> None:
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    k = SimKiosk("p01-c01-s01-k1", "p01-c01-s01", random.Random(seed), 30.0, 0.0)
    opened = k.apply(FAULTS["paper_near_end"]) + k.apply(FAULTS["paper_out"]) + k.apply(FAULTS["cover_open"])
    assert [(e.seq, e.code) for e in opened] == [(1, "paper_near_end"), (2, "paper_out")]  # cover: no change
    assert k.clear(FAULTS["paper_near_end"]) == []  # it already ran out
    cleared = k.clear(FAULTS["paper_out"])
    assert [(e.seq, e.level, e.details["previous"]["code"]) for e in cleared] == [(3, "ok", "paper_out")]
    k.apply(FAULTS["disk_filling"])
    state = fleet_wire.decode("state", fleet_wire.encode(k.state(100.0)), k.kiosk_id)
    assert state.disk_used_pct > 90 and state.components["printer"].code == "ok"
    k.clear(FAULTS["disk_filling"])
    assert k.state(100.0).disk_used_pct < 90


def test_id_scheme_and_inventory_files() -> None:
    layout = scheme_layout(250, per_site=3)
    assert layout[0] == ("p01-c01-s01-k1", "p01-c01-s01")
    assert layout[3] == ("p01-c01-s02-k1", "p01-c01-s02")
    assert layout[30] == ("p01-c02-s01-k1", "p01-c02-s01")
    assert layout[240] == ("p02-c01-s01-k1", "p02-c01-s01")
    assert len({k for k, _ in layout}) == 250
    assert all(fleet_wire.KIOSK_ID_RE.match(k) for k, _ in layout)
    assert scheme_layout(1, prefix="sim-")[0] == ("sim-p01-c01-s01-k1", "sim-p01-c01-s01")

    nested = """
[[prefectures]]
id = "lhasa"
[[prefectures.counties]]
id = "chengguan"
[[prefectures.counties.sites]]
id = "hall-1"
kiosks = ["hall-1-k1", {id = "hall-1-k2"}]
[[kiosks]]
id = "hall-9-k1"
site = "hall-9"
"""
    assert sorted(inventory_layout(nested)) == [("hall-1-k1", "hall-1"), ("hall-1-k2", "hall-1"),
                                                ("hall-9-k1", "hall-9")]


def test_the_fast_state_encoding_is_the_wire_encoding() -> None:
    k = SimKiosk("p01-c01-s01-k1", "p01-c01-s01", random.Random(3), 30.0, 0.0)
    for fault in (None, "paper_out", "disk_filling", "camera_disconnected"):
        if fault:
            k.apply(FAULTS[fault])
        fast, model = json.loads(k.state_bytes(1234.5)), json.loads(fleet_wire.encode(k.state(1234.5)))
        fast["at"] = model["at"]  # the second may tick between the two calls
        assert json.dumps(fast) == json.dumps(model)  # same fields, same order, same values
        fleet_wire.decode("state", k.state_bytes(1.0), k.kiosk_id)
