"""Fleet commands end to end: a command published on a real broker reaches the real agent, goes through
the real edge's relay to the kiosk window (Qt offscreen, device simulators on ptys, real TTS), and the
answer comes back on cmd/result; the daily inspection runs once a day and lands in the retained state."""

from __future__ import annotations

import base64
import os
import random
from datetime import datetime, timedelta

import cv2
import numpy as np

from kiosk import fleet_wire
from tests.fixtures_fleet_commands import TOPICS, answer_to, command, send
from tests.fixtures_ui import wait_until as qwait

SEED = int(os.environ.get("KIOSK_TEST_SEED", "11"))
print(f"random seed {SEED} (KIOSK_TEST_SEED)")  # the command ids' randomness is uuid4's; this one picks the service
rng = random.Random(SEED)
WAIT_MS = 45_000  # speech rendering on a slow CI box


def _setup(qtbot, kiosk, relay_edge_factory, fleet_agent_factory, subscriber_factory, **inspector_kw):
    edge = relay_edge_factory()
    sub = subscriber_factory([TOPICS["cmd/result"], TOPICS["state"], TOPICS["events"]])
    w = kiosk(lang="zh", edge_url=edge.url)
    agent = fleet_agent_factory(edge.relay, **inspector_kw)
    qwait(qtbot, lambda: sub.on(TOPICS["state"]), WAIT_MS)  # online and subscribed to cmd
    return edge, sub, w, agent


def _ask(qtbot, sub, kind: str, **args) -> dict:
    cid, payload = command(kind, **args)
    send(sub, payload)
    qwait(qtbot, lambda: answer_to(sub, cid), WAIT_MS)  # the Qt loop runs meanwhile: the UI can answer
    return answer_to(sub, cid)


def test_self_test_reports_every_check_and_the_printer_out_of_paper(
        qtbot, ui_stack, kiosk, relay_edge_factory, fleet_agent_factory, subscriber_factory):
    _, sub, _, agent = _setup(qtbot, kiosk, relay_edge_factory, fleet_agent_factory, subscriber_factory)
    ui_stack.printer_sim.paper = "out"
    ans = _ask(qtbot, sub, fleet_wire.CMD_SELF_TEST)
    assert ans["result"] == "done", ans["message"]
    checks = ans["data"]["checks"]
    assert set(checks) == {"card_reader", "printer", "camera", "voice", "speech", "disk", "clock"}
    for c in checks.values():
        assert c["level"] in ("ok", "degraded", "fault") and c["code"] and c["zh"] and c["en"]
    assert (checks["printer"]["level"], checks["printer"]["code"]) == ("fault", "paper_out")
    assert "paper" in checks["printer"]["en"].lower()
    assert checks["card_reader"]["level"] == "ok"  # the simulator's SAM module answers
    assert (checks["speech"]["level"], checks["speech"]["code"]) == ("ok", "ok")  # rendered, not silent
    assert "printer" in ans["message"] and ans["data"]["ok"] is False
    state = sub.wait_for(TOPICS["state"], lambda p: (p.get("last_inspection") or {}).get("checks", {})
                         .get("printer", {}).get("code") == "paper_out", "the self-test in the state")
    assert state["last_inspection"]["ok"] is False
    event = sub.wait_for(TOPICS["events"], lambda p: p["kind"] == "inspection", "the inspection event")
    assert event["level"] == "fault" and "printer" in event["details"]["failed"]


def test_screenshot_of_the_home_screen_is_a_small_jpeg(
        qtbot, kiosk, relay_edge_factory, fleet_agent_factory, subscriber_factory):
    _, sub, w, _ = _setup(qtbot, kiosk, relay_edge_factory, fleet_agent_factory, subscriber_factory)
    assert w.current_screen() is w.screens["home"]
    ans = _ask(qtbot, sub, fleet_wire.CMD_SCREENSHOT)
    assert ans["result"] == "done", ans["message"]
    jpeg = base64.b64decode(ans["data"]["jpeg_b64"])
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and img.shape[1] <= 640 and img.shape[1] == ans["data"]["width"]
    assert abs(img.shape[1] / img.shape[0] - 1920 / 1080) < 0.02  # the whole window, not a crop
    assert img.std() > 5  # a picture of something, not a blank frame
    assert len(sub.raw(TOPICS["cmd/result"])[-1]) < fleet_wire.MAX_PAYLOAD_BYTES


def test_screenshot_during_a_session_is_refused(
        qtbot, kiosk, relay_edge_factory, fleet_agent_factory, subscriber_factory):
    _, sub, w, _ = _setup(qtbot, kiosk, relay_edge_factory, fleet_agent_factory, subscriber_factory)
    service = rng.choice([s["id"] for s in w.edge.services()])
    w.start_service(w.content.service(service))  # a resident chose a service
    ans = _ask(qtbot, sub, fleet_wire.CMD_SCREENSHOT)
    assert ans["result"] == "rejected" and ans["message"] == "a resident is using the kiosk"
    assert "jpeg_b64" not in ans["data"]
    w.session.end("idle")  # the resident left: home again, nobody there
    assert _ask(qtbot, sub, fleet_wire.CMD_SCREENSHOT)["result"] == "done"


class WallClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at.timestamp()


def _inspections(sub) -> list[dict]:
    return [p for p in sub.on(TOPICS["events"]) if p["kind"] == "inspection"]


def test_daily_inspection_runs_once_a_day_and_survives_a_restart(
        qtbot, kiosk, relay_edge_factory, fleet_agent_factory, subscriber_factory):
    today = datetime.now().astimezone().replace(hour=3, minute=30, second=0, microsecond=0)
    clock = WallClock(today)
    _, sub, _, fa = _setup(qtbot, kiosk, relay_edge_factory, fleet_agent_factory, subscriber_factory,
                           hour=3, clock=clock)
    qwait(qtbot, lambda: _inspections(sub), WAIT_MS)
    first = _inspections(sub)[0]
    assert first["details"]["source"] == "daily" and {"printer", "speech", "disk"} <= set(first["details"]["checks"])
    state = sub.wait_for(TOPICS["state"], lambda p: p.get("last_inspection") is not None, "inspection in state")
    at = state["last_inspection"]["at"]
    assert datetime.fromisoformat(at) == today

    clock.at = today + timedelta(hours=2)  # later the same day, and the agent restarts
    fa.restart()
    later = subscriber_factory([TOPICS["state"]])  # a monitor connecting now: the retained state
    qwait(qtbot, lambda: any((p.get("last_inspection") or {}).get("at") == at for p in later.on(TOPICS["state"])),
          WAIT_MS)
    assert not fa.inspector.due() and not fa.agent._inspecting
    assert len(_inspections(sub)) == 1  # not run twice in one day

    clock.at = today + timedelta(days=1, minutes=-20)  # 03:10 the next day
    qwait(qtbot, lambda: len(_inspections(sub)) == 2, WAIT_MS)
    assert _inspections(sub)[1]["details"]["at"] != at
