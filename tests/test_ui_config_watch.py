"""A signed config push replaces kiosk.toml; the UI restarts on it, but never in front of a resident."""

from __future__ import annotations

from kiosk.session import Phase
from tests.fixtures_ui import FakeClock, wait_until
from ui.shell.config_watch import EXIT_RESTART, ConfigWatch


def test_a_new_config_restarts_the_ui_only_once_nobody_is_using_it(qtbot, kiosk, ui_stack, tmp_path):
    clock = FakeClock()
    w = kiosk("zh", clock=clock)
    path = tmp_path / "kiosk.toml"
    path.write_text(ui_stack.config_text("zh"), encoding="utf-8")
    exits: list[int] = []
    watch = ConfigWatch(w, path, exits.append, interval_ms=60_000)  # driven by hand below

    watch.check()
    assert exits == [] and not watch.pending  # the file it started on: nothing to do

    path.write_text("[kiosk\nbroken", encoding="utf-8")  # mid-push, or a bad file the edge will roll back
    watch.check()
    assert exits == [] and not watch.pending

    w.start_service(w.content.service("old-age-allowance"))  # a resident at the kiosk
    path.write_text(ui_stack.config_text("zh").replace("idle_timeout_s = 30", "idle_timeout_s = 120")
                    + "\n", encoding="utf-8")
    watch.check()
    assert watch.pending and exits == []  # waits: never restarts in front of a resident

    w.go_home()
    watch.check()
    assert exits == []  # home, but the resident may start another service: the session is still theirs

    def idle_ended() -> bool:  # the idle warning, its countdown, then the wipe
        clock.t += 5
        w.tick()
        return w.session.phase is Phase.IDLE
    wait_until(qtbot, idle_ended)
    wait_until(qtbot, lambda: w.current_screen() is w.screens["home"] and not w.overlay.isVisible())
    watch.check()
    assert exits == [EXIT_RESTART]
