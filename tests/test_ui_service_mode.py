"""The maintenance screen mounted on the kiosk window: opening it wipes the resident's session, and
its self-tests reach the real devices (simulators) and the real edge."""

from __future__ import annotations

from PySide6.QtCore import Qt

from kiosk.identity import CardRecord
from kiosk.pin import hash_pin
from kiosk.status import Level
from tests.fixtures_ui import wait_until


def test_maintenance_opens_over_a_wiped_session(qtbot, ui_stack, tmp_path):
    from ui.factory import create_window
    from ui.service_mode import state_dir

    cfg = ui_stack.cfg("zh", pin_hash=hash_pin("2468", iterations=1000))
    w = create_window(cfg, clip_dir=tmp_path / "clips")
    try:
        w.resize(1920, 1080)
        w.show()
        wait_until(qtbot, lambda: w.content.loaded)
        w.start_service(w.content.service("old-age-allowance"))
        ui_stack.card_sim.insert(0)
        wait_until(qtbot, lambda: w.current_screen().name == "form")
        flow = w.session.flow

        launcher = w.maintenance
        launcher.request()
        dialog = launcher.dialog
        for digit in "2468":
            qtbot.mouseClick(dialog.keys[digit], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(dialog.keys["✔"], Qt.MouseButton.LeftButton)
        wait_until(qtbot, lambda: launcher.screen is not None)
        assert w.session.flow is None and not flow.has_personal_data  # nothing of the resident stays
        assert w.current_screen().name == "home" and not w._tick.isActive()
        assert (state_dir(cfg) / "maintenance-audit.jsonl").exists()

        services = launcher._services
        card = services.self_test_card()
        assert isinstance(card, CardRecord) and card.masked_id.startswith("540102")
        assert services.content_version() == "1"
        assert services.wan_state().code in ("ok", "wan_unknown")  # the platform is up
        assert services.outbox().depth >= 0
        assert services.device_statuses()["card_reader"].level is Level.OK

        launcher.screen.close_screen()
        wait_until(qtbot, lambda: launcher.screen is None)
        assert w._tick.isActive()
    finally:
        w.shutdown()
        w.close()
        ui_stack.card_sim.remove()


def test_no_pin_no_maintenance(qtbot, ui_stack, tmp_path):
    from ui.factory import create_window

    w = create_window(ui_stack.cfg("bo"), clip_dir=tmp_path / "clips")
    try:
        assert w.maintenance is None
    finally:
        w.shutdown()
