"""The maintenance screen mounted on the kiosk window: opening it wipes the resident's session, and
its self-tests reach the real devices (simulators) and the real edge."""

from __future__ import annotations

from PySide6.QtCore import Qt

from kiosk.audit import path_for, read_entries
from kiosk.identity import CardRecord
from kiosk.pin import hash_pin
from kiosk.status import Level
from tests.fixtures_ui import wait_until


def test_maintenance_opens_over_a_wiped_session(qtbot, ui_stack, tmp_path):
    from ui.shell.composition import create_window

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
        assert any(e["event"] == "maintenance_open" for e in read_entries(path_for(cfg)))

        services = launcher._services
        card = services.self_test_card()
        assert isinstance(card, CardRecord) and card.masked_id.startswith("540102")
        assert services.content_version() == "1"
        assert services.wan_state().code in ("ok", "wan_unknown")  # the platform is up
        assert services.device_statuses()["card_reader"].level is Level.OK
        screen = launcher.screen  # what the technician reads: nothing waiting, nothing dead, nothing refused
        wait_until(qtbot, lambda: screen.outbox_value.text() == "0" and screen.dead_value.text() == "0")
        assert screen.version_value.text() == "1" and screen.refused_value.text() == "无"
        assert screen.unconfirmed_box.title() == "回执无人看到的申请（0）"

        launcher.screen.close_screen()
        wait_until(qtbot, lambda: launcher.screen is None)
        assert w._tick.isActive()
    finally:
        w.shutdown()
        w.close()
        ui_stack.card_sim.remove()


def test_no_pin_no_maintenance(qtbot, ui_stack, tmp_path):
    from ui.shell.composition import create_window

    w = create_window(ui_stack.cfg("bo"), clip_dir=tmp_path / "clips")
    try:
        assert w.maintenance is None
    finally:
        w.shutdown()


def open_maintenance(qtbot, w, pin: str):
    launcher = w.maintenance
    launcher.request()
    for digit in pin:
        qtbot.mouseClick(launcher.dialog.keys[digit], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(launcher.dialog.keys["✔"], Qt.MouseButton.LeftButton)
    wait_until(qtbot, lambda: launcher.screen is not None)
    return launcher.screen


def test_staff_print_the_receipt_nobody_saw_and_see_the_dead_letter(qtbot, kiosk, ui_stack, tmp_path,
                                                                    monkeypatch):
    import functools

    import edge.outbox
    from devices.camera.qr import decode_qr
    from devices.sim.card_reader import SAMPLE_CARDS
    from kiosk.edge_client import EdgeClient
    from kiosk.netutil import free_port
    from tests.fixtures_ui import TroubleEdge

    # no platform: both applications stay on the edge; no grace period before staff see them
    trouble = TroubleEdge(tmp_path / "edge", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setattr(edge.outbox, "UNCONFIRMED_GRACE_S", 0)
    monkeypatch.setattr(trouble.edge.outbox, "unconfirmed",
                        functools.partial(type(trouble.edge.outbox).unconfirmed, trouble.edge.outbox, min_age_s=0))
    try:
        card = SAMPLE_CARDS[1]
        client = EdgeClient(trouble.url)
        fields = {"phone": "13900004444", "payout_account": "bank_card", "received_elsewhere": "no"}
        applicant = {"name": card.name, "id_number": card.id_number}
        tracking = client.submit("old-age-allowance", fields, applicant, lang="zh")["tracking_number"]
        client.submit("old-age-allowance", fields, applicant, lang="zh", idempotency_key="dead-0001")
        trouble.edge.outbox.reject("dead-0001", "invalid_application: unknown service code")

        w = kiosk("zh", edge_url=trouble.url, pin_hash=hash_pin("2468", iterations=1000))
        screen = open_maintenance(qtbot, w, "2468")
        wait_until(qtbot, lambda: tracking in screen._unconfirmed_rows)
        assert screen.unconfirmed_box.title() == "回执无人看到的申请（2）"
        _, number, detail, button = screen._unconfirmed_rows[tracking]
        title = w.content.service("old-age-allowance").title.get("zh")
        assert number.text() == tracking and detail.text().startswith(f"{title} · ") and "等待上报" in detail.text()
        assert screen.dead_value.text().startswith("1 件，最早的在 ")
        assert card.name not in detail.text() and card.id_number not in detail.text()

        before = len(ui_stack.printer_sim.pages)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        wait_until(qtbot, lambda: len(ui_stack.printer_sim.pages) > before, 15_000)
        assert decode_qr(ui_stack.printer_sim.pages[before]) == tracking
        wait_until(qtbot, lambda: screen.reprint_result.text() == f"{tracking}: ✔ 正常 — 已打印，请交给申请人")
        assert tracking not in trouble.unconfirmed()  # marked shown: it leaves the list
        wait_until(qtbot, lambda: tracking not in screen._unconfirmed_rows)
        screen.close_screen()
    finally:
        trouble.close()


def test_holding_the_real_windows_corner_opens_the_pin_dialog(qtbot, kiosk):
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    w = kiosk("zh", pin_hash=hash_pin("2468", iterations=1000))
    launcher = w.maintenance
    hold_ms = launcher.gesture._timer.interval()
    corner = QPoint(launcher.gesture._corner // 2, launcher.gesture._corner // 2)
    target = w.childAt(corner)  # whatever the resident UI has there (the Home button)
    assert target is not None
    at = target.mapFrom(w, corner)

    QTest.mousePress(target, Qt.MouseButton.LeftButton, pos=at)  # a tap: nothing
    qtbot.wait(hold_ms // 10)
    QTest.mouseRelease(target, Qt.MouseButton.LeftButton, pos=at)
    qtbot.wait(hold_ms + 300)
    assert launcher.dialog is None

    QTest.mousePress(target, Qt.MouseButton.LeftButton, pos=at)  # held for the configured time
    wait_until(qtbot, lambda: launcher.dialog is not None and launcher.dialog.isVisible(), hold_ms + 3000)
    QTest.mouseRelease(target, Qt.MouseButton.LeftButton, pos=at)
    launcher.dialog.reject()
    wait_until(qtbot, lambda: launcher.dialog is None)
