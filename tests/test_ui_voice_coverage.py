"""Tibetan heard on every screen (synthetic voice where no clip), and how prompts are heard reaching the
maintenance screen and the edge's health record (the fleet agent's source). Real window, edge and voice."""

from __future__ import annotations

from kiosk import fleet_wire
from kiosk.edge_client import EdgeClient
from tests.fixtures_ui import click, wait_until
from tests.test_ui_maintenance import Bench, screen_for
from ui.maintenance.services import MaintenanceServices


def _heard(w) -> list:
    """Every utterance the real Voice decided on, in order."""
    voice, said = w.speaker.voice, []
    speak = voice.speak

    def recording(*args, **kw):
        said.append(speak(*args, **kw))
        return said[-1]

    voice.speak = recording
    return said


def test_every_screen_speaks_its_prompt_in_tibetan_when_synthetic_bo_is_on(qtbot, kiosk, ui_stack):
    w = kiosk("bo")
    w.speaker.voice.synthetic_bo = True  # the config switch, as voice.synthetic_bo = true sets it
    w.report_voice_coverage()  # at start this follows the content's arrival
    said = _heard(w)
    seen: dict[str, list] = {}

    def arrive(screen: str) -> None:
        wait_until(qtbot, lambda: w.current_screen().name == screen, 15_000)
        seen[screen] = list(said)
        said.clear()

    w.go("home")
    arrive("home")
    click(qtbot, w, "tile_civil_affairs")
    arrive("services")
    click(qtbot, w, "service_old-age-allowance")
    arrive("detail")
    click(qtbot, w, "start")
    arrive("identify")
    ui_stack.card_sim.insert(0)
    arrive("form")
    click(qtbot, w, "next")
    for d in "13800138000":
        click(qtbot, w, f"key_{d}")
    click(qtbot, w, "next")
    click(qtbot, w, "choice_bank_card")
    said.clear()
    click(qtbot, w, "choice_no")
    arrive("photo")
    click(qtbot, w, "skip_photo")
    arrive("confirm")
    click(qtbot, w, "confirm")
    arrive("result")
    for screen, utterances in seen.items():
        assert utterances, f"{screen}: nothing spoken"
        for u in utterances:
            assert u.lang == "bo" and u.spoken and u.source in ("clip", "synthetic"), (screen, u)
    home = seen["home"][-1]
    assert home.prompt_id == "home" and home.spoken_form == w.content.prompt("home").spoken["bo"]
    assert home.segmented  # read by the pack's word boundaries, not syllable by syllable
    title = seen["detail"][-1]
    assert title.prompt_id == "service.old-age-allowance.title"

    # the same counts reach the edge's health record (what the fleet agent publishes)
    def voice_reported():
        return (EdgeClient(ui_stack.edge_url).status().get("kiosks") or {}).get("test-kiosk", {}).get("voice")

    wait_until(qtbot, lambda: (voice_reported() or {}).get("bo", {}).get("synthetic"))
    bo = fleet_wire.VoiceCoverage.model_validate(voice_reported()["bo"])
    assert bo.silent == 0 and bo.clip == 0  # the test pack has no Tibetan clip: all synthetic


def test_without_synthetic_bo_tibetan_stays_silent_never_mandarin(qtbot, kiosk):
    w = kiosk("bo")
    said = _heard(w)
    w.go("services")
    assert said and all(u.source == "none" for u in said)


def test_maintenance_screen_shows_how_each_language_is_heard(qtbot):
    bench = Bench()
    coverage = {"bo": fleet_wire.VoiceCoverage(clip=1, stand_in=3, synthetic=40, silent=0),
                "zh": fleet_wire.VoiceCoverage(clip=0, stand_in=0, synthetic=44, silent=0)}
    base = bench.services()
    bench.services = lambda: MaintenanceServices(**{**base.__dict__, "voice_coverage": lambda: coverage})
    screen = screen_for(qtbot, bench, lang="en")
    qtbot.waitUntil(lambda: screen.voice_rows["bo"][1].text() != "")
    label, value = screen.voice_rows["bo"]
    assert label.text() == "Tibetan voice"
    assert value.text() == "clips 1 · stand-in 3 (not a native recording) · synthetic 40 · silent 0"
    assert screen.voice_rows["zh"][1].text().startswith("clips 0 · stand-in 0")


def test_the_agent_state_carries_the_kiosks_voice_coverage():
    from edge.agent.state import build_state

    status = {"kiosks": {"k1": {"components": {}, "voice": {"bo": {"clip": 2, "stand_in": 3, "synthetic": 40,
                                                                    "silent": 0}, "zh": "junk"}}}}
    state = build_state(status, "k1", {}, at="2025-01-01T00:00:00Z", interval_s=60, software_version="t")
    assert state.voice_coverage == {"bo": fleet_wire.VoiceCoverage(clip=2, stand_in=3, synthetic=40)}
    assert state.missing_clips == {"bo": 43}  # stand-ins are not native recordings
