"""Session: idle -> warning -> countdown -> wipe, extend, language and elder mode back to defaults."""

from __future__ import annotations

import pytest

from kiosk.config import parse
from kiosk.content import load_pack
from kiosk.flows import Flow, State
from kiosk.session import Phase, Session
from tests.fixtures_ui import DEMO


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


_SERVICE = load_pack(DEMO).services["old-age-allowance"]


def demo_flow(card=None) -> Flow:
    """A real flow of a demo service, with the card (when given) already read."""
    flow = Flow(_SERVICE, edge=None)
    if card is not None:
        flow.card_read(card.to_form_fields("zh"))
    return flow


def wiped(flow: Flow) -> bool:
    return flow.state is State.CANCELLED and not flow.has_personal_data


def make(clock: Clock, **kw) -> Session:
    return Session(default_lang="bo", idle_timeout_s=90, idle_warning_s=30, clock=clock, **kw)


def test_idle_warning_then_end_wipes_flow_and_resets(card_record):
    clock = Clock()
    s = make(clock)
    ended, warned, started = [], [], []
    s.on_end.append(ended.append)
    s.on_warning.append(warned.append)
    s.on_start.append(lambda: started.append(True))
    s.touch()
    assert s.phase is Phase.ACTIVE and started == [True]
    flow = s.begin_flow(demo_flow(card_record))
    assert flow.has_personal_data
    s.set_language("zh")
    s.toggle_elder_mode()
    assert flow.lang == "zh"

    clock.t += 89
    assert s.tick() is Phase.ACTIVE
    clock.t += 1
    assert s.tick() is Phase.WARNING
    assert warned == [30.0]
    clock.t += 10
    assert s.seconds_left() == pytest.approx(20)
    s.touch()  # a stray touch outside the big button does not cancel the countdown
    clock.t += 20
    assert s.tick() is Phase.IDLE
    assert ended == ["idle"]
    assert wiped(flow) and s.flow is None
    assert s.lang == "bo" and s.elder_mode is False


def test_extend_gives_a_full_idle_period_again():
    clock = Clock()
    s = make(clock)
    s.touch()
    clock.t += 95
    s.tick()
    assert s.phase is Phase.WARNING
    s.extend()
    assert s.phase is Phase.ACTIVE
    clock.t += 89
    assert s.tick() is Phase.ACTIVE
    clock.t += 1
    assert s.tick() is Phase.WARNING


def test_activity_postpones_the_warning():
    clock = Clock()
    s = make(clock)
    s.touch()
    for _ in range(5):
        clock.t += 60
        s.touch()
        assert s.tick() is Phase.ACTIVE


def test_no_timer_runs_between_residents():
    clock = Clock()
    s = make(clock)
    clock.t += 10_000
    assert s.tick() is Phase.IDLE


def test_warning_is_never_shorter_than_20_seconds():
    s = Session(idle_timeout_s=30, idle_warning_s=5, clock=Clock())
    assert s.idle_warning_s == 20


def test_a_broken_listener_does_not_stop_the_wipe():
    clock = Clock()
    s = make(clock)
    forgotten = []

    def broken(reason: str) -> None:
        raise RuntimeError("boom")

    s.on_end.extend([broken, forgotten.append])
    s.touch()
    flow = s.begin_flow(demo_flow())
    s.end("done")
    assert wiped(flow) and forgotten == ["done"]


def test_new_flow_wipes_the_previous_one():
    s = make(Clock())
    first = s.begin_flow(demo_flow())
    s.begin_flow(demo_flow())
    assert wiped(first)


def test_language_must_be_a_kiosk_language():
    s = make(Clock())
    with pytest.raises(ValueError):
        s.set_language("fr")
    changed = []
    s.on_language.append(changed.append)
    s.set_language("zh")
    s.set_language("zh")
    assert changed == ["zh"]


def test_from_config_uses_kiosk_section():
    cfg = parse('[kiosk]\ndefault_language = "zh"\nidle_timeout_s = 45\nidle_warning_s = 25\nelder_mode = true\n')
    s = Session.from_config(cfg, clock=Clock())
    assert (s.lang, s.idle_timeout_s, s.idle_warning_s, s.elder_mode) == ("zh", 45, 25, True)
