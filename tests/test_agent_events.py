"""Status changes reach the fleet as events, in order, with no gaps or reused numbers, through broker
restarts, agent restarts (SIGKILL included) and a full spool."""

from __future__ import annotations

import sqlite3
import threading

from kiosk import fleet_wire
from tests.fixtures_mqtt import KIOSK_ID, spool_next_seq, status_doc, wait_until, write_status

EVENTS = fleet_wire.topic(KIOSK_ID, fleet_wire.KIND_EVENTS)
STATE = fleet_wire.topic(KIOSK_ID, fleet_wire.KIND_STATE)
PAPER = [("ok", "ok"), ("degraded", "paper_low"), ("fault", "paper_out")]


def _unique(sub) -> list[dict]:
    """Events by first arrival, redelivered duplicates (same id) dropped: what the monitor keeps."""
    seen, out = set(), []
    for p in sub.on(EVENTS):
        ev = fleet_wire.decode(fleet_wire.KIND_EVENTS, fleet_wire.encode(fleet_wire.Event.model_validate(p)))
        if ev.id not in seen:
            seen.add(ev.id)
            out.append(p)
    return out


def _status(sub) -> list[dict]:
    return [e for e in _unique(sub) if e["kind"] == "status"]


def _depth(path) -> int:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    finally:
        db.close()


def _change_offline(agent, printer: tuple[str, str]) -> None:
    """Rewrite the status and wait until the agent has spooled the event (the broker can't tell us)."""
    before = spool_next_seq(agent.spool)
    write_status(agent.status_file, {"printer": printer})
    wait_until(lambda: spool_next_seq(agent.spool) > before, what=f"the agent to spool {printer}")


def test_a_component_change_is_one_event_and_shows_in_the_state(agent_process, subscriber_factory):
    agent = agent_process()
    write_status(agent.status_file, {"printer": ("ok", "ok"), "camera": ("ok", "ok")})
    sub = subscriber_factory([EVENTS, STATE])
    agent.start()
    sub.wait_for(STATE, lambda p: p["components"].get("printer", {}).get("code") == "ok", "the first state")
    n = spool_next_seq(agent.spool) - 1  # events so far (none expected: everything is ok)

    write_status(agent.status_file, {"printer": ("fault", "paper_out"), "camera": ("ok", "ok")})
    ev = sub.wait_for(EVENTS, lambda p: p["kind"] == "status", "the paper_out event")
    assert (ev["seq"], ev["component"], ev["level"], ev["code"]) == (n + 1, "printer", "fault", "paper_out")
    assert ev["details"]["previous"] == {"level": "ok", "code": "ok"}
    st = sub.wait_for(STATE, lambda p: p["components"]["printer"]["code"] == "paper_out", "the state to show it")
    assert st["content_version"] == 3 and st["outbox"]["depth"] == 2 and st["spool_evicted"] == 0
    assert st["software_version"] and st["disk_used_pct"] is not None
    assert len(_status(sub)) == 1, "the unchanged camera must not produce an event"

    write_status(agent.status_file, {"printer": ("ok", "ok"), "camera": ("ok", "ok")})
    back = sub.wait_for(EVENTS, lambda p: p["kind"] == "status" and p["code"] == "ok", "the recovery event")
    assert back["seq"] == n + 2
    assert len(_status(sub)) == 2


def test_events_made_while_the_broker_is_down_all_arrive_in_order(broker, agent_process, subscriber_factory):
    agent = agent_process()
    write_status(agent.status_file, {"printer": ("ok", "ok")})
    sub = subscriber_factory([EVENTS, STATE])
    agent.start()
    sub.wait_for(STATE, lambda p: "printer" in p["components"], "the first state")
    write_status(agent.status_file, {"printer": ("degraded", "paper_low")})
    first = sub.wait_for(EVENTS, lambda p: p["kind"] == "status", "the online event")["seq"]

    broker.stop()
    changes = [PAPER[2], PAPER[0], PAPER[1], PAPER[2], PAPER[0]]
    for c in changes:
        _change_offline(agent, c)
    states_before = len(sub.on(STATE))
    broker.start()
    sub.wait_reconnected()

    want = list(range(first, first + 1 + len(changes)))
    wait_until(lambda: [e["seq"] for e in _status(sub)] == want, what=f"seqs {want}",
               seen=lambda: [(e["seq"], e["kind"]) for e in _unique(sub)])
    assert [e["code"] for e in _status(sub)][1:] == [c[1] for c in changes]
    # Before the broker stopped the state said paper_low: only a state published since can say ok.
    st = sub.wait_for(STATE, lambda p: p["components"]["printer"]["code"] == "ok",
                      "the state republished after the reconnect", start=states_before)
    assert st["spool_evicted"] == 0
    wait_until(lambda: _depth(agent.spool) == 0, what="the spool to drain once the broker acknowledged")


def test_agent_killed_while_the_broker_is_down_loses_nothing_and_reuses_no_seq(
        broker, agent_process, subscriber_factory):
    agent = agent_process()
    write_status(agent.status_file, {"printer": ("ok", "ok")})
    sub = subscriber_factory([EVENTS])
    agent.start()
    write_status(agent.status_file, {"printer": ("degraded", "paper_low")})
    first = sub.wait_for(EVENTS, lambda p: p["kind"] == "status", "the online event")["seq"]

    broker.stop()
    _change_offline(agent, PAPER[2])
    _change_offline(agent, PAPER[0])
    agent.kill()  # SIGKILL with two events only on disk
    write_status(agent.status_file, {"printer": ("fault", "paper_out")})  # changed while the agent was down
    agent.start()
    wait_until(lambda: spool_next_seq(agent.spool) == first + 4, what="the restarted agent to spool the change "
               "it missed while down" + agent.log_tail())
    _change_offline(agent, PAPER[0])
    assert _depth(agent.spool) == 4
    broker.start()
    sub.wait_reconnected()

    want = list(range(first, first + 5))
    wait_until(lambda: [e["seq"] for e in _status(sub)] == want, what=f"seqs {want}",
               seen=lambda: [(e["seq"], e["kind"]) for e in _unique(sub)])
    assert [e["code"] for e in _status(sub)] == ["paper_low", "paper_out", "ok", "paper_out", "ok"]
    ids = [e["id"] for e in _status(sub)]
    assert len(set(ids)) == len(ids)


def test_a_full_spool_drops_the_oldest_counts_them_and_sends_the_rest(broker, agent_process, subscriber_factory):
    n_max, extra = 4, 3
    agent = agent_process(spool_max=n_max)
    write_status(agent.status_file, {"printer": ("ok", "ok")})
    sub = subscriber_factory([EVENTS, STATE])
    agent.start()
    sub.wait_for(STATE, lambda p: "printer" in p["components"], "the first state")
    broker.stop()
    start = spool_next_seq(agent.spool)
    for i in range(n_max + extra):
        _change_offline(agent, PAPER[1 + i % 2])
    assert _depth(agent.spool) == n_max
    broker.start()
    sub.wait_reconnected()

    kept = list(range(start + extra, start + n_max + extra))
    wait_until(lambda: [e["seq"] for e in _status(sub)] == kept, what=f"the newest {n_max} events {kept}",
               seen=lambda: [(e["seq"], e["kind"]) for e in _unique(sub)])
    notice = sub.wait_for(EVENTS, lambda p: p["kind"] == "spool_evicted", "the spool_evicted event")
    assert notice["details"]["count"] == extra and notice["details"]["total"] == extra
    assert (notice["details"]["first_seq"], notice["details"]["last_seq"]) == (start, start + extra - 1)
    st = sub.wait_for(STATE, lambda p: p["spool_evicted"] == extra, "the state to count the evictions")
    assert st["spool_evicted"] == extra
    evicted = set(range(start, start + extra))
    assert not evicted & {e["seq"] for e in _unique(sub)}, "evicted events must not arrive after all"


def test_a_failing_status_provider_is_a_fault_the_fleet_hears_about(agent_factory, subscriber_factory):
    sub = subscriber_factory([EVENTS, STATE])
    broken = threading.Event()

    def provider() -> dict:
        if broken.is_set():
            raise OSError("edge status unreadable")
        return status_doc({"printer": ("ok", "ok")})

    agent_factory(provider)
    sub.wait_for(STATE, lambda p: p["components"].get("edge", {}).get("level") == "ok", "the first state")
    broken.set()
    ev = sub.wait_for(EVENTS, lambda p: p["component"] == "edge", "the edge fault event")
    assert (ev["level"], ev["code"]) == ("fault", "status_unavailable")
    st = sub.wait_for(STATE, lambda p: p["components"]["edge"]["level"] == "fault", "the state to show it")
    assert st["disk_used_pct"] is not None, "what the agent measures itself still goes out"
    broken.clear()
    back = sub.wait_for(EVENTS, lambda p: p["component"] == "edge" and p["level"] == "ok", "the recovery event")
    assert back["seq"] == ev["seq"] + 1
