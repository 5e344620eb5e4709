"""The relay from the fleet agent to the kiosk UI over the edge's real API: a request waits for the UI's
long poll, its answer reaches the agent, a LAN kiosk only sees its own, and with no UI polling the
fleet hears "kiosk UI did not answer" — also as a failed inspection in the retained state."""

from __future__ import annotations

import hashlib
import threading

import pytest

from kiosk import fleet_wire, wire
from kiosk.config import Config
from kiosk.edge_client import EdgeClient, EdgeRejected
from tests.fixtures_fleet_commands import KIOSK, TOPICS, answer_to, command, send
from tests.fixtures_mqtt import wait_until

TOKEN_MINE, TOKEN_OTHER = "token-of-the-kiosk-0123456789abcdef", "token-of-another-kiosk-fedcba987654"


def _lan_config() -> Config:
    return Config.model_validate({"edge": {"kiosks": [
        {"id": KIOSK, "token_sha256": hashlib.sha256(TOKEN_MINE.encode()).hexdigest()},
        {"id": "other-kiosk", "token_sha256": hashlib.sha256(TOKEN_OTHER.encode()).hexdigest()}]}})


class Asker(threading.Thread):
    """The agent's side: one blocking relay.request on its own thread, as the agent's worker makes it."""

    def __init__(self, relay, kind: str = "self_test", **kw) -> None:
        super().__init__(daemon=True)
        self.relay, self.kind, self.kw, self.outcome = relay, kind, kw, None
        self.start()

    def run(self) -> None:
        self.outcome = self.relay.request(self.kind, {"print": False}, **self.kw)


def test_a_request_reaches_the_polling_ui_and_its_answer_reaches_the_agent(relay_edge_factory):
    edge = relay_edge_factory()
    ui = EdgeClient(edge.url)
    assert ui.kiosk_command(0.2) is None  # nothing queued: 204 after the wait
    asker = Asker(edge.relay, kiosk_id=KIOSK)
    req = ui.kiosk_command(5)
    assert req is not None and req["kind"] == "self_test" and req["args"] == {"print": False}
    assert 0 < req["timeout_s"] <= 30
    ui.kiosk_command_result(req["id"], "done", "all fine", {"checks": {"printer": {"level": "ok", "code": "ok"}}})
    asker.join(10)
    assert asker.outcome == ("done", "all fine", {"checks": {"printer": {"level": "ok", "code": "ok"}}})
    with pytest.raises(EdgeRejected) as e:  # answered already: a second answer is refused
        ui.kiosk_command_result(req["id"], "failed")
    assert e.value.status == 404


def test_a_long_poll_already_waiting_is_answered_as_soon_as_a_request_comes(relay_edge_factory):
    edge = relay_edge_factory()
    got: list[dict | None] = []
    poller = threading.Thread(target=lambda: got.append(EdgeClient(edge.url).kiosk_command(20)), daemon=True)
    poller.start()
    wait_until(lambda: edge.relay.last_poll is not None, what="the UI's poll to arrive")
    asker = Asker(edge.relay, "screenshot", timeout_s=15)
    poller.join(10)  # well before its 20 s wait: it was woken
    assert not poller.is_alive() and got and got[0]["kind"] == "screenshot"
    EdgeClient(edge.url).kiosk_command_result(got[0]["id"], "rejected", "a resident is using the kiosk")
    asker.join(10)
    assert asker.outcome[:2] == ("rejected", "a resident is using the kiosk")


def test_a_lan_kiosk_gets_only_its_own_requests(relay_edge_factory):
    edge = relay_edge_factory(config=_lan_config())
    other, mine = EdgeClient(edge.url, token=TOKEN_OTHER), EdgeClient(edge.url, token=TOKEN_MINE)
    asker = Asker(edge.relay, kiosk_id=KIOSK, timeout_s=15)
    wait_until(lambda: edge.relay.pending() == 1, what="the request queued")
    assert other.kiosk_command(0.3) is None
    req = mine.kiosk_command(5)
    assert req is not None
    with pytest.raises(EdgeRejected) as e:
        other.kiosk_command_result(req["id"], "done")
    assert (e.value.status, e.value.code) == (403, wire.ERR_FORBIDDEN)
    mine.kiosk_command_result(req["id"], "done", "ok")
    asker.join(10)
    assert asker.outcome[0] == "done"


def test_bad_polls_and_answers_get_a_clear_error(relay_edge_factory):
    edge = relay_edge_factory()
    ui = EdgeClient(edge.url)
    for wait in ("soon", "-1", "nan", "600"):
        with pytest.raises(EdgeRejected) as e:
            ui._json("GET", f"{wire.API_KIOSK_COMMANDS}?wait={wait}")
        assert e.value.code == "bad_wait" and "seconds" in e.value.message
    asker = Asker(edge.relay, timeout_s=15)
    req = ui.kiosk_command(5)
    with pytest.raises(EdgeRejected) as e:
        ui.kiosk_command_result(req["id"], "maybe")
    assert e.value.status == 422 and "done, failed, rejected" in e.value.message
    with pytest.raises(EdgeRejected) as e:
        ui._json("POST", wire.API_KIOSK_COMMAND_RESULT.format(request_id=req["id"]), ["not", "an", "object"])
    assert e.value.code == "bad_json"
    ui.kiosk_command_result(req["id"], "done")  # the request survived the bad answers
    asker.join(10)
    assert asker.outcome[0] == "done"


def test_a_request_nobody_collects_fails_and_is_withdrawn(relay_edge_factory):
    edge = relay_edge_factory()
    outcome = edge.relay.request("self_test", {}, timeout_s=0.5)
    assert outcome[0] == "failed" and "kiosk UI did not answer" in outcome[1]
    assert edge.relay.pending() == 0
    assert EdgeClient(edge.url).kiosk_command(0.2) is None  # a UI that comes back late runs nothing stale


def test_stopping_the_edge_answers_a_waiting_agent_at_once(relay_edge_factory):
    edge = relay_edge_factory()
    asker = Asker(edge.relay, timeout_s=60)
    wait_until(lambda: edge.relay.pending() == 1, what="the request queued")
    edge.relay.close()
    asker.join(5)
    assert asker.outcome[0] == "failed" and "stopped" in asker.outcome[1]


def test_self_test_with_no_ui_polling_is_failed_and_recorded(relay_edge_factory, fleet_agent_factory,
                                                            subscriber_factory):
    edge = relay_edge_factory(relay_timeout_s=1.0)
    sub = subscriber_factory([TOPICS["cmd/result"], TOPICS["state"], TOPICS["events"], TOPICS["availability"]])
    fleet_agent_factory(edge.relay)
    sub.wait_for(TOPICS["state"], lambda p: True, "the first state")
    cid, payload = command(fleet_wire.CMD_SELF_TEST)
    send(sub, payload)
    ans = wait_until(lambda: answer_to(sub, cid), what="the self_test answer")
    assert ans["result"] == "failed" and "kiosk UI did not answer" in ans["message"]
    assert ans["data"]["checks"]["kiosk_ui"]["code"] == "ui_no_answer"
    assert {"disk", "clock"} <= set(ans["data"]["checks"])  # the edge's own checks ran regardless
    state = sub.wait_for(TOPICS["state"], lambda p: p.get("last_inspection") is not None, "the inspection state")
    assert state["last_inspection"]["ok"] is False
    event = sub.wait_for(TOPICS["events"], lambda p: p["kind"] == "inspection", "the inspection event")
    assert (event["level"], event["code"]) == ("fault", "inspection_failed")
    assert "kiosk_ui" in event["details"]["failed"] and event["details"]["source"] == "command"


def test_a_damaged_inspection_record_costs_one_run_not_a_crash(tmp_path, caplog):
    from edge.inspection import Inspector
    from edge.kiosk_commands import KioskCommandRelay
    from kiosk.config import parse

    record = tmp_path / "fleet-inspection.json"
    record.write_text("{half a docu", encoding="utf-8")
    relay = KioskCommandRelay(timeout_s=0.2)
    ins = Inspector(relay, record, data_dir=tmp_path, hour=0, startup_grace_s=0)
    assert ins.last() is None and ins.due()
    assert any("inspection record unreadable" in r.getMessage() for r in caplog.records)
    done = ins.run_daily()
    assert not done.ok and done.checks["kiosk_ui"].code == "ui_no_answer"
    again = Inspector(relay, record, data_dir=tmp_path, hour=0, startup_grace_s=0)
    assert again.last() == done and not again.due()  # kept, and not due again today
    assert parse('[mqtt]\ninspection_hour = "off"').mqtt.inspection_hour is None
    assert not Inspector(relay, tmp_path / "x.json", data_dir=tmp_path, hour=None, startup_grace_s=0).due()
