"""The fleet sees a kiosk come online (retained birth), drop off when its process dies (the broker sends
the Last Will within the keep-alive window), and go offline on purpose when it is stopped."""

from __future__ import annotations

from kiosk import fleet_wire
from tests.fixtures_mqtt import KIOSK_ID, write_status

AVAIL = fleet_wire.topic(KIOSK_ID, fleet_wire.KIND_AVAILABILITY)
STATE = fleet_wire.topic(KIOSK_ID, fleet_wire.KIND_STATE)


def _retained_availability(subscriber_factory) -> dict:
    """What a monitor that connects now is told (the retained message), via a fresh client."""
    late = subscriber_factory([AVAIL])
    retained = [m for m in late.messages if m.topic == AVAIL]
    if not retained:
        late.wait_for(AVAIL, lambda p: True, "the retained availability")
        retained = [m for m in late.messages if m.topic == AVAIL]
    assert retained[0].retain, "availability must be retained so a monitor that starts later knows it"
    return fleet_wire.decode(fleet_wire.KIND_AVAILABILITY, retained[0].payload, KIOSK_ID).model_dump()


def test_birth_then_sigkill_sends_the_last_will(agent_process, subscriber_factory):
    agent = agent_process(keepalive=2)
    write_status(agent.status_file, {"printer": ("ok", "ok")})
    sub = subscriber_factory([AVAIL, STATE])
    agent.start()
    birth = sub.wait_for(AVAIL, lambda p: p["online"], "the birth message")
    assert birth["reason"] == "birth" and birth["kiosk_id"] == KIOSK_ID
    assert _retained_availability(subscriber_factory)["online"] is True
    state = sub.wait_for(STATE, lambda p: True, "the first state")
    assert state["components"]["printer"]["level"] == "ok"

    seen = len(sub.on(AVAIL))
    agent.kill()  # no chance to say goodbye: only the broker can tell
    will = sub.wait_for(AVAIL, lambda p: not p["online"], "the Last Will", timeout=15, start=seen)
    assert will["reason"] == "connection_lost" and will["at"] is None
    assert _retained_availability(subscriber_factory)["reason"] == "connection_lost"


def test_clean_stop_publishes_retained_shutdown(agent_process, subscriber_factory):
    agent = agent_process()
    write_status(agent.status_file, {})
    sub = subscriber_factory([AVAIL])
    agent.start()
    sub.wait_for(AVAIL, lambda p: p["online"], "the birth message")
    assert agent.terminate() == 0, agent.log_tail()
    off = sub.wait_for(AVAIL, lambda p: not p["online"], "the shutdown notice")
    assert off["reason"] == "shutdown"
    assert _retained_availability(subscriber_factory)["reason"] == "shutdown"
    # A clean disconnect sends no will: nothing after the shutdown notice says "connection_lost".
    assert [p["reason"] for p in sub.on(AVAIL)][-1] == "shutdown"


def test_in_process_stop_is_offline_and_restart_is_online_again(agent_factory, subscriber_factory, tmp_path):
    sub = subscriber_factory([AVAIL])
    agent = agent_factory(lambda: {})
    sub.wait_for(AVAIL, lambda p: p["online"], "the birth message")
    agent.stop()
    sub.wait_for(AVAIL, lambda p: p["reason"] == "shutdown", "the shutdown notice")
    n = len(sub.on(AVAIL))
    agent_factory(lambda: {})
    sub.wait_for(AVAIL, lambda p: p["online"], "the second birth", start=n)
    assert _retained_availability(subscriber_factory)["online"] is True
