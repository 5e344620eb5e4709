"""The simulator against a real Mosquitto: what a fleet monitor would receive from 20 simulated kiosks."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator

import pytest

from central.fleet.simulate import Options, Simulator, scheme_layout
from central.fleet.simulate_kiosk import FAULTS
from kiosk import fleet_wire
from tests.fixtures_mqtt import Broker, Subscriber, wait_until

N = 20
ALL = "kiosk/v1/+/#"


def _seed() -> int:
    seed = random.randrange(1 << 30)
    print(f"simulator seed {seed}")
    return seed


@pytest.fixture
def sim_factory(broker: Broker) -> Iterator:
    made: list[Simulator] = []

    def make(**kw: object) -> Simulator:
        opts = Options(host="127.0.0.1", port=broker.port, keepalive_s=5, connect_rate=100.0, **kw)  # type: ignore[arg-type]
        sim = Simulator(opts, scheme_layout(N, per_site=3), _seed())
        made.append(sim)
        sim.start()
        return sim
    yield make
    for s in made:
        s.stop()


def _decoded(sub: Subscriber, kind: str) -> list[fleet_wire._Payload]:
    out = []
    for m in list(sub.messages):
        parsed = fleet_wire.parse_topic(m.topic)
        if parsed and parsed[1] == kind and m.payload:
            out.append(fleet_wire.decode(kind, m.payload, parsed[0]))  # raises if the wire contract is broken
    return out


def test_every_kiosk_is_born_and_leaves_a_retained_state(broker: Broker, sim_factory, subscriber_factory) -> None:
    sub = subscriber_factory([ALL])
    sim = sim_factory(interval_s=1.0, fault_rate=0.0)
    ids = set(sim.kiosk_ids)
    assert len(ids) == N

    def births() -> set[str]:
        return {a.kiosk_id for a in _decoded(sub, "availability") if a.online and a.reason == "birth"}
    wait_until(lambda: births() == ids, what="a birth from every kiosk", seen=lambda: len(births()))
    wait_until(lambda: {s.kiosk_id for s in _decoded(sub, "state")} == ids, what="a state from every kiosk")

    late = subscriber_factory([ALL])  # joins afterwards: what the broker kept is the whole fleet's picture
    def retained() -> set[str]:
        return {fleet_wire.parse_topic(m.topic)[0] for m in list(late.messages)
                if m.retain and m.topic.endswith("/state")}
    wait_until(lambda: retained() == ids, what="a retained state for every kiosk", seen=lambda: len(retained()))
    states = _decoded(late, "state")
    assert all(s.interval_s == 1.0 and s.components["printer"].level == "ok" for s in states)
    assert {s.kiosk_id for s in _decoded(sub, "state")} == ids


def test_fault_events_have_increasing_seqs_and_unique_ids(broker: Broker, sim_factory, subscriber_factory) -> None:
    sub = subscriber_factory(["kiosk/v1/+/events"])
    # a fault a second per kiosk, cleared a second later: many status events in a few seconds
    sim_factory(interval_s=5.0, fault_rate=3600.0, fault_duration_s=1.0,
                faults=("paper_out", "cover_open", "card_reader_not_answering", "camera_disconnected"))
    wait_until(lambda: len(_decoded(sub, "events")) >= 4 * N, what=f"{4 * N} events",
               seen=lambda: len(sub.messages))
    events = _decoded(sub, "events")
    by_kiosk: dict[str, list[int]] = defaultdict(list)
    for e in events:
        by_kiosk[e.kiosk_id].append(e.seq)
    for kid, seqs in by_kiosk.items():
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), f"{kid}: seqs out of order {seqs}"
        assert seqs[0] == 1, f"{kid}: a fresh kiosk starts at seq 1, got {seqs[:3]}"
    assert len({e.id for e in events}) == len(events)
    # what they say is what the drivers say: a known component with a known code, faults and clears
    known = {(f.component, f.code) for f in FAULTS.values() if f.component}
    assert {(e.component, e.code) for e in events if e.level != "ok"} <= known
    assert any(e.level == "ok" and e.details["previous"]["level"] == "fault" for e in events), "no fault cleared"


def test_a_site_losing_its_wan_makes_its_wills_arrive(broker: Broker, sim_factory, subscriber_factory) -> None:
    sub = subscriber_factory(["kiosk/v1/+/availability"])
    sim = sim_factory(interval_s=2.0, fault_rate=0.0)
    ids = set(sim.kiosk_ids)
    wait_until(lambda: {a.kiosk_id for a in _decoded(sub, "availability") if a.online} == ids,
               what="every kiosk online")
    site = "p01-c01-s02"
    hall = {k for k in ids if k.startswith(site + "-")}
    assert len(hall) == 3
    sim.drop_site(site, 2.0)

    def lost() -> set[str]:
        return {a.kiosk_id for a in _decoded(sub, "availability") if a.reason == "connection_lost"}
    wait_until(lambda: lost() == hall, what=f"the wills of {site}", seen=lost)
    assert all(not a.online and a.at is None for a in _decoded(sub, "availability")
               if a.reason == "connection_lost")
    # the WAN comes back: the same kiosks are born again; the other halls never went away
    wait_until(lambda: sum(1 for a in _decoded(sub, "availability") if a.reason == "birth") == N + len(hall),
               what="the hall's kiosks reconnecting")
    assert lost() == hall
