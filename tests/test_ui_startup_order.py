"""Start-up order: home first, everything the resident does not see once home is painted with its tiles.

A real window over the real edge (tests.fixtures_ui), Qt offscreen: the home screen is built with the
window and the other screens, the maintenance launcher, the fleet commands, the watchdog and the voice
driver come after; no false "service unavailable" warning while the first content fetch is on its way,
and a real one when the edge does not answer.
"""

from __future__ import annotations

import logging

from kiosk import i18n
from kiosk.netutil import free_port
from kiosk.pin import hash_pin
from kiosk.status import UNAVAILABLE
from tests.fixtures_ui import ui_stack, wait_until  # noqa: F401 (pytest fixture)
from ui.adapters.lazy_voice import LazyVoice
from ui.shell.composition import create_window
from ui.shell.screen_set import SCREENS
from ui.widgets.banner import Banner


def _window(ui_stack, tmp_path, edge_url: str | None = None):  # noqa: F811
    cfg = ui_stack.cfg("zh", pin_hash=hash_pin("2468", iterations=1_000))  # a PIN: the maintenance screen is on
    return create_window(cfg, edge_url=edge_url, clip_dir=tmp_path / "clips")


def test_home_is_built_first_and_the_rest_once_home_is_painted(qtbot, ui_stack, tmp_path):  # noqa: F811
    w = _window(ui_stack, tmp_path)
    try:
        assert [s.name for s in w.screens.built()] == ["home"]
        assert w.maintenance is None and not hasattr(w, "fleet_commands") and not hasattr(w, "watchdog")
        w.resize(1920, 1080)
        w.show()
        wait_until(qtbot, lambda: w.started and len(w.screens.built()) == len(SCREENS))
        assert w.maintenance is not None and w.fleet_commands is not None and w.watchdog is not None
        assert w.content.loaded
        assert sorted(s.name for s in w.screens.built()) == sorted(SCREENS)  # each registered under its name
        w.go("services", category=w.content.categories()[0])  # a screen built in the background works
        assert w.current_screen().name == "services"
    finally:
        w.shutdown()
        w.close()


def test_no_false_alarm_while_the_first_fetch_runs_and_a_real_one_when_the_edge_is_down(
        qtbot, ui_stack, tmp_path, monkeypatch):  # noqa: F811
    shown: list[tuple[str, str]] = []
    real = Banner.show_message

    def spy(self, state: str, text: str, icon: str | None = None) -> None:
        shown.append((state, text))
        real(self, state, text, icon)

    monkeypatch.setattr(Banner, "show_message", spy)
    unavailable = i18n.tr("edge_unavailable", "zh")

    up = _window(ui_stack, tmp_path)  # the stack's edge answers
    try:
        up.show()
        wait_until(qtbot, lambda: up.started)
        assert unavailable not in [text for _, text in shown]
    finally:
        up.shutdown()
        up.close()

    down = _window(ui_stack, tmp_path, edge_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    try:
        down.show()
        home = down.screens["home"]
        wait_until(qtbot, lambda: home.banner.isVisible() and home.banner.text.text() == unavailable)
        wait_until(qtbot, lambda: down.started)  # the rest starts anyway (maintenance must reach the kiosk)
        assert down.maintenance is not None
    finally:
        down.shutdown()
        down.close()


def test_a_voice_that_cannot_be_built_is_silent_and_says_so(caplog):
    def broken(_status):
        raise PermissionError("/var/cache/kiosk/voice: read-only")

    voice = LazyVoice(broken, volume_default=0.8, synthetic_bo=True)
    assert voice.volume == 0.8 and voice.synthetic_bo  # answered without building the driver
    with caplog.at_level(logging.ERROR):
        assert voice.speak("您好", "zh", "home") is None  # nothing said, nothing raised at the screen
    assert voice.status.status() is UNAVAILABLE
    assert voice.missing_clips == frozenset()  # the maintenance screen still reads it
    (record,) = [r for r in caplog.records if r.getMessage() == "device unavailable"]
    assert record.component == "voice" and "read-only" in record.error
    voice.close()
