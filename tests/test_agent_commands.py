"""Commands from the fleet reach the kiosk once, each is answered with its id, and nothing a sender puts
on the command topic can crash the agent or run a command twice."""

from __future__ import annotations

import json
import threading
import uuid

from kiosk import fleet_wire
from tests.fixtures_mqtt import KIOSK_ID, status_doc, wait_until

CMD = fleet_wire.topic(KIOSK_ID, fleet_wire.KIND_CMD)
RESULT = fleet_wire.topic(KIOSK_ID, fleet_wire.KIND_CMD_RESULT)
STATE = fleet_wire.topic(KIOSK_ID, fleet_wire.KIND_STATE)
AVAIL = fleet_wire.topic(KIOSK_ID, fleet_wire.KIND_AVAILABILITY)
EVENTS = fleet_wire.topic(KIOSK_ID, fleet_wire.KIND_EVENTS)


class Trigger:
    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self.calls += 1


def _command(kind: str, cid: str | None = None, **args: object) -> tuple[str, bytes]:
    cid = cid or uuid.uuid4().hex
    return cid, fleet_wire.encode(fleet_wire.Command(id=cid, kind=kind, args=args, issued_by="test"))


def _send(sub, payload: bytes) -> None:
    sub.client.publish(CMD, payload, qos=1).wait_for_publish(10)


def _answers(sub, cid: str) -> list[dict]:
    return [p for p in sub.on(RESULT) if p.get("id") == cid]


def _answer(sub, cid: str, n: int = 1) -> dict:
    wait_until(lambda: len(_answers(sub, cid)) >= n, what=f"{n} answer(s) to {cid}")
    return _answers(sub, cid)[n - 1]


def _online(sub, agent_factory, **kw):
    agent = agent_factory(lambda: status_doc({"printer": ("ok", "ok")}), **kw)
    sub.wait_for(AVAIL, lambda p: p["online"], "the agent online")
    sub.wait_for(STATE, lambda p: True, "the first state")  # it has subscribed to cmd before this
    return agent


def test_sync_content_runs_the_trigger_and_answers_done(agent_factory, subscriber_factory):
    sub = subscriber_factory([RESULT, STATE, AVAIL, EVENTS])
    trigger = Trigger()
    _online(sub, agent_factory, trigger_sync=trigger)
    cid, payload = _command(fleet_wire.CMD_SYNC_CONTENT)
    _send(sub, payload)
    ans = _answer(sub, cid)
    assert (ans["result"], ans["kiosk_id"]) == ("done", KIOSK_ID)
    assert trigger.calls == 1
    audit = sub.wait_for(EVENTS, lambda p: p["kind"] == "command", "the command's audit event")
    assert audit["details"] == {"command_id": cid, "command": "sync_content", "result": "done"}


def test_unknown_and_not_offered_kinds_are_rejected(agent_factory, subscriber_factory):
    sub = subscriber_factory([RESULT, STATE, AVAIL])
    _online(sub, agent_factory, trigger_sync=Trigger())
    cid, payload = _command("format_disk")
    _send(sub, payload)
    ans = _answer(sub, cid)
    assert ans["result"] == "rejected" and "unknown command kind" in ans["message"] and "sync_content" in ans["message"]
    cid2, payload2 = _command(fleet_wire.CMD_SELF_TEST)  # a real kind, but the daemon gave no handler
    _send(sub, payload2)
    ans2 = _answer(sub, cid2)
    assert ans2["result"] == "rejected" and "does not offer" in ans2["message"]


def test_garbage_is_dropped_and_counted_and_the_agent_keeps_answering(agent_factory, subscriber_factory):
    sub = subscriber_factory([RESULT, STATE, AVAIL])
    trigger = Trigger()
    _online(sub, agent_factory, trigger_sync=trigger)
    for junk in (b"\xff\xfe not json", b"[1, 2]", b"", b'{"schema": "kiosk.fleet.command/1", "id": 7}'):
        _send(sub, junk)
    # JSON with a usable id but not a valid command: answered, so the sender learns why.
    bad_id = uuid.uuid4().hex
    _send(sub, json.dumps({"schema": "kiosk.fleet.command/1", "id": bad_id}).encode())
    bad = _answer(sub, bad_id)
    assert bad["result"] == "rejected" and "malformed command" in bad["message"] and "kind" in bad["message"]
    wrong_schema = uuid.uuid4().hex
    _send(sub, json.dumps({"schema": "kiosk.fleet.state/1", "id": wrong_schema, "kind": "sync_content"}).encode())
    assert _answer(sub, wrong_schema)["result"] == "rejected"
    assert trigger.calls == 0

    cid, payload = _command(fleet_wire.CMD_SYNC_CONTENT)
    _send(sub, payload)
    assert _answer(sub, cid)["result"] == "done"
    st = sub.wait_for(STATE, lambda p: p["commands_dropped"] == 4, "the state to count 4 dropped payloads")
    assert st["commands_dropped"] == 4
    assert len(sub.on(RESULT)) == 3, "payloads without an id must not be answered"


def test_the_same_id_twice_runs_once_and_answers_twice_identically_even_after_a_restart(
        agent_factory, subscriber_factory):
    sub = subscriber_factory([RESULT, STATE, AVAIL])
    trigger = Trigger()
    agent = _online(sub, agent_factory, trigger_sync=trigger)
    cid, payload = _command(fleet_wire.CMD_SYNC_CONTENT)
    _send(sub, payload)
    first = _answer(sub, cid)
    _send(sub, payload)  # what a QoS 1 redelivery looks like
    assert _answer(sub, cid, 2) == first
    assert trigger.calls == 1
    raw = [p for p in sub.raw(RESULT) if json.loads(p)["id"] == cid]
    assert raw[0] == raw[1], "a redelivery must get the very same answer"

    # The same id with a different body is not a redelivery: refused, not run, the cached answer kept.
    _, other = _command(fleet_wire.CMD_SYNC_CONTENT, cid=cid, reason="again")
    _send(sub, other)
    assert _answer(sub, cid, 3)["result"] == "rejected"
    assert trigger.calls == 1

    # The cache is on disk: a restarted agent answers from it too.
    agent.stop()
    n = len(sub.on(AVAIL))
    agent_factory(lambda: status_doc({}), trigger_sync=trigger)
    sub.wait_for(AVAIL, lambda p: p["online"], "the restarted agent online", start=n)
    sub.wait_for(STATE, lambda p: "printer" not in p["components"], "the restarted agent's state")
    _send(sub, payload)
    assert _answer(sub, cid, 4) == first
    assert trigger.calls == 1


def test_a_refusing_verify_hook_rejects_with_its_reason_and_nothing_runs(agent_factory, subscriber_factory):
    sub = subscriber_factory([RESULT, STATE, AVAIL])
    trigger = Trigger()
    seen: list[str] = []

    def verify(command: fleet_wire.Command, raw: bytes) -> str | None:
        seen.append(command.id)
        return None if command.issued_by == "trusted" else "signature missing"

    _online(sub, agent_factory, trigger_sync=trigger, verify=verify)
    cid, payload = _command(fleet_wire.CMD_SYNC_CONTENT)
    _send(sub, payload)
    ans = _answer(sub, cid)
    assert (ans["result"], ans["message"]) == ("rejected", "signature missing")
    assert trigger.calls == 0 and seen == [cid]

    # A refusal is not cached: the genuine command with that id still runs.
    ok = fleet_wire.encode(fleet_wire.Command(id=cid, kind=fleet_wire.CMD_SYNC_CONTENT, issued_by="trusted"))
    _send(sub, ok)
    assert _answer(sub, cid, 2)["result"] == "done"
    assert trigger.calls == 1



def test_a_crashing_verify_hook_fails_closed(agent_factory, subscriber_factory):
    sub = subscriber_factory([RESULT, STATE, AVAIL])
    trigger = Trigger()

    def broken(command: fleet_wire.Command, raw: bytes) -> str | None:
        raise RuntimeError("key store unreadable")

    _online(sub, agent_factory, trigger_sync=trigger, verify=broken)
    cid, payload = _command(fleet_wire.CMD_SYNC_CONTENT)
    _send(sub, payload)
    ans = _answer(sub, cid)
    assert (ans["result"], ans["message"]) == ("rejected", "verification failed")
    assert trigger.calls == 0
    cid2, payload2 = _command(fleet_wire.CMD_SYNC_CONTENT)
    _send(sub, payload2)
    assert _answer(sub, cid2)["result"] == "rejected", "the agent must still be answering"


def test_a_command_cut_short_by_a_restart_is_answered_failed_not_run_again(agent_factory, subscriber_factory):
    sub = subscriber_factory([RESULT, STATE, AVAIL])
    started, release = threading.Event(), threading.Event()
    runs: list[dict] = []

    def self_test(args: dict) -> tuple[str, str, dict]:
        runs.append(args)
        started.set()
        release.wait(30)
        return "done", "all checks passed", {"checks": 3}

    try:
        agent = _online(sub, agent_factory, handlers={fleet_wire.CMD_SELF_TEST: self_test})
        cid, payload = _command(fleet_wire.CMD_SELF_TEST)
        _send(sub, payload)
        assert started.wait(20), "the handler never ran"
        agent.stop()  # the kiosk goes down mid-command
        n = len(sub.on(AVAIL))
        agent_factory(lambda: status_doc({}), handlers={fleet_wire.CMD_SELF_TEST: self_test})
        sub.wait_for(AVAIL, lambda p: p["online"], "the restarted agent online", start=n)
        _send(sub, payload)  # the monitor (or QoS 1) sends it again
        ans = _answer(sub, cid)
        assert ans["result"] == "failed" and "interrupted" in ans["message"]
        assert len(runs) == 1, "a command that may have had its effect must not run twice"
    finally:
        release.set()
