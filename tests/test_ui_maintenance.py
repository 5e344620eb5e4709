"""Maintenance UI on the Qt offscreen platform: the corner gesture, the PIN dialog with its
lockout, the screen's statuses and self-tests, and the audit trail they leave.

Services are real where the machine has them: StatusSources, OpenCV QR/face detection on a real
generated QR image, a PinGate with a real state file, the audit log on disk. The card reader,
printer and speaker are stand-in callables: their drivers are tested on their simulators
elsewhere; here only what the screen does with their answers matters.
"""

from __future__ import annotations

import dataclasses
import io
import json
import threading
from datetime import date

import cv2
import numpy as np
import pytest
import segno
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton, QStackedWidget, QWidget

from kiosk import idnumber
from kiosk.audit import AuditLog, read_entries
from kiosk.identity import CardKind, CardRecord
from kiosk.lockout import PinGate
from kiosk.pin import hash_pin
from kiosk.status import Level, Status, StatusSource
from ui.adapters.camera_frames import to_qimage
from ui.maintenance.camera import Detections, draw_overlay
from ui.maintenance.gesture import CornerGesture
from ui.maintenance.launcher import MaintenanceLauncher
from ui.maintenance.pin import PinDialog
from ui.maintenance.screen import MaintenanceScreen
from ui.maintenance.services import MaintenanceServices, OutboxInfo
from ui.maintenance.style import CONTROL_DP, QR_COLOUR, default_theme

PIN = "482916"
WRONG = "735105"
HASH = hash_pin(PIN, iterations=1000)
ID_NUMBER = idnumber.make_valid("54010219800101123")
PAPER_OUT = Status(Level.FAULT, "paper_out", "打印纸用完", "ཤོག་བུ་ཚར་འདུག", "Paper out")
QR_TEXT = "RCPT-2024-000123"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def qr_frame(text: str) -> np.ndarray:
    """A 640x480 BGR camera frame with a real QR code in the middle."""
    buf = io.BytesIO()
    # make_qr: a full QR code; for short text segno.make picks Micro QR, which OpenCV cannot read
    segno.make_qr(text, error="m").save(buf, kind="png", scale=8, border=4)
    code = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_COLOR)
    frame = np.full((480, 640, 3), 200, np.uint8)
    h, w = code.shape[:2]
    frame[(480 - h) // 2:(480 - h) // 2 + h, (640 - w) // 2:(640 - w) // 2 + w] = code
    return frame


class Bench:
    """The kiosk as the maintenance screen sees it."""

    def __init__(self) -> None:
        self.sources = {name: StatusSource(name) for name in ("card_reader", "printer", "camera")}
        self.calls: list[str] = []
        self.print_result: Status | Exception = Status(Level.OK, "printed", "已打印", "པར་བསྐྲུན་ཟིན།", "Printed")
        self.frame: np.ndarray | None = qr_frame(QR_TEXT)
        self.outbox_error: Exception | None = None
        self.closed = threading.Event()
        self.card = CardRecord(
            kind=CardKind.RESIDENT, name="བཀྲ་ཤིས་སྒྲོལ་མ", gender_code="2", nation_code="04",
            birth_date=date(1980, 1, 1), address="拉萨市城关区", id_number=ID_NUMBER, issuer="拉萨市公安局",
            valid_from=date(2020, 1, 1), valid_to=None)

    def _print(self) -> Status:
        self.calls.append("print")
        if isinstance(self.print_result, Exception):
            raise self.print_result
        return self.print_result

    def _outbox(self) -> OutboxInfo:
        if self.outbox_error:
            raise self.outbox_error
        return OutboxInfo(depth=3, oldest_age_s=12 * 60 + 5)

    def _speak(self, lang: str) -> Status:
        self.calls.append(f"speak:{lang}")
        return Status(Level.OK, "spoken", "已播放", "སྒྲ་བཏང་ཟིན།", "Spoken")

    def services(self) -> MaintenanceServices:
        return MaintenanceServices(
            device_statuses=lambda: {k: s.status() for k, s in self.sources.items()},
            self_test_card=lambda: self.card,
            self_test_print=self._print,
            camera_frame=lambda: self.frame,
            speak_test=self._speak,
            content_version=lambda: "2024.06.01-3",
            outbox=self._outbox,
            wan_state=lambda: Status(Level.DEGRADED, "wan_down", "外网中断", "ཕྱི་དྲ་བར་ཆད།", "WAN down"),
            missing_clips=lambda: ["home.welcome", "form.confirm"],
            close=self.closed.set,
        )


@pytest.fixture
def bench() -> Bench:
    return Bench()


@pytest.fixture
def audit(tmp_path) -> AuditLog:
    return AuditLog(tmp_path / "audit.sqlite3")


@pytest.fixture
def window(qtbot) -> QWidget:
    """A main window whose top-left corner is covered by a button, as the resident UI's is."""
    w = QWidget()
    w.resize(800, 600)
    w.corner_button = QPushButton("back", w)
    w.corner_button.setGeometry(0, 0, 120, 120)
    w.clicks = 0
    w.corner_button.clicked.connect(lambda: setattr(w, "clicks", w.clicks + 1))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def events(audit: AuditLog, name: str | None = None) -> list[dict]:
    return [e for e in read_entries(audit.path) if name is None or e["event"] == name]


def enter(qtbot, dialog: PinDialog, pin: str) -> None:
    for digit in pin:
        qtbot.mouseClick(dialog.keys[digit], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.keys["✔"], Qt.MouseButton.LeftButton)


def screen_for(qtbot, bench: Bench, audit: AuditLog | None = None, **kw) -> MaintenanceScreen:
    screen = MaintenanceScreen(bench.services(), lang=kw.pop("lang", "bo"), audit=audit, **kw)
    qtbot.addWidget(screen)
    screen.resize(1400, 1000)
    screen.show()
    qtbot.waitUntil(lambda: bool(screen._device_rows) and screen.version_value.text() != "")
    return screen


# -- corner gesture -----------------------------------------------------------------------------
def test_holding_the_corner_three_seconds_triggers(qtbot, window):
    gesture = CornerGesture(window)  # the real 3 s hold
    QTest.mousePress(window.corner_button, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    with qtbot.assertNotEmitted(gesture.triggered, wait=2500):  # not yet at 2.5 s
        pass
    with qtbot.waitSignal(gesture.triggered, timeout=2000):
        pass
    QTest.mouseRelease(window.corner_button, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    assert window.clicks == 0  # the release of a hold that fired does not click what is under it


def test_a_short_tap_in_the_corner_does_nothing_and_still_clicks(qtbot, window):
    gesture = CornerGesture(window, hold_ms=300)
    with qtbot.assertNotEmitted(gesture.triggered, wait=600):
        QTest.mousePress(window.corner_button, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
        qtbot.wait(100)
        QTest.mouseRelease(window.corner_button, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    assert window.clicks == 1


def test_holding_elsewhere_does_nothing(qtbot, window):
    gesture = CornerGesture(window, hold_ms=200, corner_px=80)
    with qtbot.assertNotEmitted(gesture.triggered, wait=500):
        QTest.mousePress(window.corner_button, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))  # past 80x80
        QTest.mousePress(window, Qt.MouseButton.LeftButton, pos=QPoint(400, 300))


def test_sliding_out_of_the_corner_cancels(qtbot, window):
    gesture = CornerGesture(window, hold_ms=300)
    with qtbot.assertNotEmitted(gesture.triggered, wait=600):
        QTest.mousePress(window.corner_button, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
        QTest.mouseMove(window, QPoint(400, 300))


# -- PIN dialog and lockout ---------------------------------------------------------------------
def test_gesture_opens_the_pin_dialog_and_the_right_pin_opens_the_screen(qtbot, window, bench, audit, tmp_path):
    gate = PinGate(HASH, clock=Clock(), state_file=tmp_path / "lock.json")
    launcher = MaintenanceLauncher(window, gate=gate, audit=audit, services=bench.services(), lang="en",
                                   hold_ms=200)
    QTest.mousePress(window.corner_button, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.waitUntil(lambda: launcher.dialog is not None and launcher.dialog.isVisible())
    QTest.mouseRelease(window.corner_button, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    dialog = launcher.dialog
    assert dialog.prompt.text() == "Enter the maintenance PIN"
    with qtbot.waitSignal(launcher.opened, timeout=5000) as opened:
        enter(qtbot, dialog, PIN)
    screen = opened.args[0]
    assert screen is launcher.screen and screen.isVisible()
    with qtbot.waitSignal(launcher.closed):
        qtbot.mouseClick(screen.close_button, Qt.MouseButton.LeftButton)
    assert launcher.screen is None and bench.closed.is_set()
    assert [e["event"] for e in events(audit)] == [
        "pin_prompt", "pin_attempt", "maintenance_open", "maintenance_close"]
    assert events(audit, "pin_attempt")[0]["outcome"] == "ok"
    assert events(audit, "maintenance_close")[0]["reason"] == "button"


def test_five_wrong_pins_lock_for_five_minutes_and_a_new_gate_stays_locked(qtbot, audit, tmp_path, caplog):
    clock = Clock()
    state = tmp_path / "lock.json"
    dialog = PinDialog(PinGate(HASH, clock=clock, state_file=state), lang="en", audit=audit)
    qtbot.addWidget(dialog)
    dialog.show()
    for n in range(1, 6):
        enter(qtbot, dialog, WRONG)
        qtbot.waitUntil(lambda n=n: len(events(audit, "pin_attempt")) == n)
        if n < 5:
            assert dialog.message.text() == f"Wrong PIN. {5 - n} tries left"
    assert dialog.message.text() == "Locked. Try again in 5:00"
    assert not any(key.isEnabled() for key in dialog.keys.values())
    last = events(audit, "pin_attempt")[-1]
    assert last["outcome"] == "wrong" and last["attempts_left"] == 0 and last["locked_s"] == 300

    # The kiosk restarts: a new gate on the same state file is still locked, the keypad shut.
    again = PinDialog(PinGate(HASH, clock=clock, state_file=state), lang="zh", audit=audit)
    qtbot.addWidget(again)
    again.show()
    assert again.message.text() == "已锁定，请 5:00 后再试"
    assert not again.keys["0"].isEnabled()
    assert events(audit, "pin_prompt")[-1]["state"] == "locked"
    clock.t += 299
    qtbot.waitUntil(lambda: again.message.text() == "已锁定，请 0:01 后再试", timeout=3000)
    clock.t += 1
    qtbot.waitUntil(lambda: again.keys["0"].isEnabled(), timeout=3000)  # the countdown ends by itself
    with qtbot.waitSignal(again.accepted, timeout=5000):
        enter(qtbot, again, PIN)

    text = json.dumps(read_entries(audit.path), ensure_ascii=False)
    assert PIN not in text and WRONG not in text  # outcomes only, never digits
    assert PIN not in caplog.text and WRONG not in caplog.text


def test_pin_entry_from_a_keyboard_and_backspace(qtbot, audit):
    dialog = PinDialog(PinGate(HASH, clock=Clock()), lang="bo", audit=audit)
    qtbot.addWidget(dialog)
    dialog.show()
    QTest.keyClicks(dialog, PIN + "7")
    assert dialog.dots.text() == "●" * 7
    qtbot.mouseClick(dialog.keys["⌫"], Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        QTest.keyClick(dialog, Qt.Key.Key_Return)


def test_empty_pin_hash_says_maintenance_is_disabled(qtbot, audit):
    dialog = PinDialog(PinGate(""), lang="en", audit=audit)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.message.text() == "Maintenance is disabled: no PIN is set on this kiosk"
    assert not any(key.isEnabled() for key in dialog.keys.values()) and dialog.cancel_button.isEnabled()
    QTest.keyClicks(dialog, "1234")
    assert dialog.dots.text() == ""
    assert events(audit, "pin_prompt")[0]["state"] == "disabled"


def test_cancel_leaves_maintenance_closed(qtbot, window, bench, audit):
    launcher = MaintenanceLauncher(window, gate=PinGate(HASH, clock=Clock()), audit=audit,
                                   services=bench.services(), lang="zh")
    launcher.request()
    qtbot.waitUntil(lambda: launcher.dialog is not None and launcher.dialog.isVisible())
    launcher.request()  # a second gesture while the dialog is up opens nothing more
    qtbot.mouseClick(launcher.dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert launcher.dialog is None and launcher.screen is None
    assert events(audit, "maintenance_open") == []


def test_launcher_mounts_the_screen_in_the_main_stack(qtbot, bench, audit):
    stack = QStackedWidget()
    qtbot.addWidget(stack)
    stack.addWidget(QWidget())
    stack.show()
    launcher = MaintenanceLauncher(stack, gate=PinGate(HASH, clock=Clock()), audit=audit,
                                   services=bench.services(), lang="bo",
                                   mount=lambda s: stack.setCurrentIndex(stack.addWidget(s)))
    launcher.request()
    enter(qtbot, launcher.dialog, PIN)
    qtbot.waitUntil(lambda: launcher.screen is not None)
    assert stack.currentWidget() is launcher.screen and stack.count() == 2
    launcher.screen.close_screen()
    qtbot.waitUntil(lambda: stack.count() == 1)  # deleted after closing, which unmounts it


# -- the screen ---------------------------------------------------------------------------------
def test_statuses_show_icon_word_and_message_in_the_chosen_language(qtbot, bench):
    screen = screen_for(qtbot, bench, refresh_ms=100)
    name, level, message = screen._device_rows["printer"]
    assert name.text() == "ཤོག་བྱང་པར་འདེབས་ཆས།" and level.text() == "✔ རྒྱུན་ལྡན།"
    bench.sources["printer"].set_status(PAPER_OUT)
    qtbot.waitUntil(lambda: level.text() == "✖ སྐྱོན་ཤོར།")
    assert message.text() == "ཤོག་བུ་ཚར་འདུག" and level.property("level") == "fault"
    qtbot.mouseClick(screen.language_buttons["zh"], Qt.MouseButton.LeftButton)
    assert screen.title.text() == "维护" and level.text() == "✖ 故障" and message.text() == "打印纸用完"


def test_edge_info_and_missing_clips_are_shown(qtbot, bench):
    screen = screen_for(qtbot, bench, lang="en")
    assert screen.version_value.text() == "2024.06.01-3"
    assert screen.outbox_value.text() == "3 waiting, oldest 12 min"
    assert screen.wan_value.text() == "⚠ Degraded — WAN down"
    assert screen.clips_label.text() == "Missing Tibetan clips (2)"
    assert [screen.clips_list.item(i).text() for i in range(screen.clips_list.count())] == [
        "home.welcome", "form.confirm"]


def test_one_failing_service_leaves_the_rest_on_screen(qtbot, bench):
    bench.outbox_error = ConnectionRefusedError("edge not answering")
    screen = screen_for(qtbot, bench, lang="en")
    assert screen.outbox_value.text() == "unavailable"
    assert screen.version_value.text() == "2024.06.01-3" and len(screen._device_rows) == 3


def test_card_self_test_shows_kind_and_masked_number_only(qtbot, bench, audit, caplog):
    screen = screen_for(qtbot, bench, audit, lang="zh")
    qtbot.mouseClick(screen.test_buttons["card"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "居民身份证" in screen.results["card"].text())
    shown = screen.results["card"].text()
    assert idnumber.mask(ID_NUMBER) in shown and ID_NUMBER not in shown and bench.card.name not in shown
    result = events(audit, "self_test_result")[0]
    assert result["test"] == "card" and result["result"] == "ok" and result["kind"] == "resident"
    for trail in (json.dumps(read_entries(audit.path), ensure_ascii=False), caplog.text):
        assert ID_NUMBER not in trail and ID_NUMBER[6:14] not in trail and bench.card.name not in trail


def test_print_self_test_shows_the_printers_answer(qtbot, bench, audit):
    bench.print_result = PAPER_OUT
    screen = screen_for(qtbot, bench, audit, lang="en")
    qtbot.mouseClick(screen.test_buttons["print"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.results["print"].text() == "✖ Fault — Paper out")
    assert bench.calls == ["print"] and screen.test_buttons["print"].isEnabled()
    assert events(audit, "self_test") == [{**events(audit, "self_test")[0], "test": "print"}]
    assert {k: events(audit, "self_test_result")[0][k] for k in ("result", "code")} == {
        "result": "fault", "code": "paper_out"}


def test_a_self_test_that_raises_shows_a_failure_and_can_be_retried(qtbot, bench, audit):
    bench.print_result = TimeoutError("printer did not answer in 0.5 s")
    screen = screen_for(qtbot, bench, audit, lang="en")
    qtbot.mouseClick(screen.test_buttons["print"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.results["print"].text().startswith("✖ Fault — Test failed"))
    assert "printer did not answer" in screen.results["print"].text()
    assert events(audit, "self_test_result")[0]["error"] == "TimeoutError"
    bench.print_result = Status(Level.OK, "printed", "已打印", "པར་བསྐྲུན་ཟིན།", "Printed")
    qtbot.mouseClick(screen.test_buttons["print"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.results["print"].text() == "✔ OK — Printed")


def test_a_slow_self_test_does_not_freeze_the_screen_or_run_twice(qtbot, bench):
    release = threading.Event()
    bench.print_result = PAPER_OUT

    def slow_print() -> Status:
        release.wait(5)
        return bench._print()

    slow = dataclasses.replace(bench.services(), self_test_print=slow_print)
    screen = MaintenanceScreen(slow, lang="en")
    qtbot.addWidget(screen)
    screen.run_test("print")
    screen.run_test("print")  # a second tap while it runs
    assert screen.results["print"].text() == "Running…" and not screen.test_buttons["print"].isEnabled()
    qtbot.mouseClick(screen.language_buttons["bo"], Qt.MouseButton.LeftButton)  # the GUI still answers
    assert screen.title.text() == "ཉམས་གསོ།"
    release.set()
    qtbot.waitUntil(lambda: screen.test_buttons["print"].isEnabled())
    assert bench.calls == ["print"]


def test_speak_test_in_each_language(qtbot, bench, audit):
    screen = screen_for(qtbot, bench, audit, lang="en")
    assert screen.test_buttons["speak:bo"].text() == "Speak: བོད་སྐད།"
    for lang in ("bo", "zh"):
        qtbot.mouseClick(screen.test_buttons[f"speak:{lang}"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda lang=lang: screen.results[f"speak:{lang}"].text() == "✔ OK — Spoken")
    assert bench.calls == ["speak:bo", "speak:zh"]
    assert [e["test"] for e in events(audit, "self_test_result")] == ["speak:bo", "speak:zh"]


def test_camera_preview_finds_the_qr_code_and_marks_it(qtbot, bench, audit):
    screen = screen_for(qtbot, bench, audit, lang="en")
    qtbot.mouseClick(screen.test_buttons["camera"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "QR codes: 1" in screen.results["camera"].text(), timeout=10000)
    assert QR_TEXT in screen.results["camera"].text()
    assert screen.test_buttons["camera"].text() == "Stop preview"
    image = screen.preview_image
    qr_pixels = sum(image.pixelColor(x, y) == QColor(QR_COLOUR)
                    for x in range(0, image.width(), 2) for y in range(0, image.height(), 2))
    assert qr_pixels > 100  # the outline is drawn over the code
    qtbot.mouseClick(screen.test_buttons["camera"], Qt.MouseButton.LeftButton)
    result = events(audit, "self_test_result")[-1]
    assert result["test"] == "camera" and result["result"] == "ok"
    assert result["frames"] >= 1 and result["qr_frames"] >= 1 and result["face_frames"] == 0


def test_camera_without_an_image_says_so(qtbot, bench, audit):
    bench.frame = None
    screen = screen_for(qtbot, bench, audit, lang="en")
    screen.test_buttons["camera"].setChecked(True)
    qtbot.waitUntil(lambda: screen.results["camera"].text() == "✖ Fault — No camera image")
    screen.close_screen()  # closing stops the preview and records its result
    assert events(audit, "self_test_result")[-1]["result"] == "fault"


def test_overlay_marks_faces_with_a_box_and_a_word(qtbot):
    frame = np.zeros((240, 320, 3), np.uint8)
    plain = draw_overlay(to_qimage(frame), Detections(), "en")
    marked = draw_overlay(to_qimage(frame), Detections(faces=[(100, 60, 80, 100)]), "en")
    assert plain.pixelColor(100, 110) == QColor(0, 0, 0)
    assert marked.pixelColor(100, 110) != QColor(0, 0, 0)  # the box edge
    assert marked.pixelColor(140, 110) == QColor(0, 0, 0)  # the face itself is not covered


def test_bad_frames_are_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="unsupported camera frame"):
        to_qimage(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match="unsupported camera frame"):
        to_qimage(np.zeros((10, 10, 2), np.uint8))


def test_left_idle_the_screen_closes_itself(qtbot, bench, audit):
    # listening from construction on: the first render can take longer than the idle time on a busy machine
    screen = MaintenanceScreen(bench.services(), lang="bo", audit=audit, idle_close_s=0.3)
    qtbot.addWidget(screen)
    with qtbot.waitSignal(screen.closed, timeout=3000) as closed:
        screen.show()
    assert closed.args == ["idle"] and bench.closed.is_set()
    assert events(audit, "maintenance_close")[0]["reason"] == "idle"


def test_controls_are_at_least_60_dp(qtbot, bench):
    screen = screen_for(qtbot, bench)
    minimum = default_theme().dp(CONTROL_DP)
    buttons = screen.findChildren(QPushButton)
    assert len(buttons) >= 9
    assert all(b.height() >= minimum and b.width() >= minimum for b in buttons)


def test_every_action_lands_in_the_audit_log_in_order(qtbot, bench, audit):
    screen = screen_for(qtbot, bench, audit)
    screen.run_test("card")
    qtbot.waitUntil(lambda: len(events(audit, "self_test_result")) == 1)
    screen.close_screen()
    assert [e["event"] for e in events(audit)] == [
        "maintenance_open", "self_test", "self_test_result", "maintenance_close"]


def test_a_healthy_device_says_its_level_once(qtbot, bench):
    """"✔ OK" and nothing more: the status's own "OK" message would only say it again."""
    screen = screen_for(qtbot, bench, lang="zh")
    name, level, message = screen._device_rows["camera"]
    assert level.text() == "✔ 正常" and message.text() == "" and not message.isVisible()
    bench.sources["camera"].set_status(Status(Level.DEGRADED, "dim", "画面太暗", "པར་རིས་ནག་དྲགས།", "Too dark"))
    qtbot.waitUntil(lambda: message.text() == "画面太暗", timeout=3000)
    assert message.isVisible()
    assert screen._status_text(Status(Level.OK, "ok", "正常", "རྒྱུན་ལྡན།", "OK")) == "✔ 正常"


def ink_inside(label) -> bool:
    from PySide6.QtCore import QRectF

    return QRectF(label.rect()).adjusted(-0.5, -0.5, 0.5, 0.5).contains(label.ink_rect())


def test_the_tibetan_pin_prompt_wraps_inside_the_dialog(qtbot, audit):
    dialog = PinDialog(PinGate(HASH, clock=Clock()), lang="bo", audit=audit)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    prompt = dialog.prompt
    assert prompt.fitted() and ink_inside(prompt)
    assert dialog.rect().contains(prompt.geometry())
    keys = [k.geometry() for k in dialog.keys.values()]
    assert prompt.width() <= max(k.right() for k in keys) - min(k.left() for k in keys) + 2 * dialog.layout().spacing()


@pytest.mark.parametrize("lang", ["bo", "zh"])
def test_section_titles_sit_on_their_boxes_and_language_names_are_whole(qtbot, bench, lang):
    screen = screen_for(qtbot, bench, lang=lang)
    for section in (screen.devices_box, screen.system_box, screen.tests_box):
        heading, box = section.heading, section.box
        assert 0 <= box.geometry().top() - heading.geometry().bottom() <= 2
        assert heading.text() and (not heading.fitted() or ink_inside(heading))
    for code, button in screen.language_buttons.items():
        label = button.label
        assert label.property("lang") == code and label.text()
        assert button.rect().contains(label.geometry())
        if label.fitted():  # བོད་སྐད། on the Chinese screen too: its top is not cut off
            assert ink_inside(label)
    tibetan = screen.language_buttons["bo"].label
    assert tibetan.fitted()


@pytest.mark.parametrize(("lang", "dead", "refused"), [
    ("zh", "2 件，最早的在 3 小时 前，需要人工处理", "版本 7 已拒绝：签名不符，内容可能被篡改"),
    ("bo", "ཡིག་ཆ་ 2 ཆེས་རྙིང་བ་ ཆུ་ཚོད་ 3 སྔོན་ལ། ལས་བྱེད་པས་ཐག་གཅོད་དགོས།", "པར་གཞི་ 7 ངོས་ལེན་མ་བྱས། མིང་རྟགས་མི་མཐུན།"),
])
def test_dead_letters_and_a_refused_pack_are_shown_in_words(qtbot, bench, lang, dead, refused):
    services = dataclasses.replace(
        bench.services(), outbox=lambda: OutboxInfo(3, 60.0, dead_letters=2, dead_oldest_age_s=3 * 3600 + 5),
        content_refused=lambda: {"version": 7, "code": "bad_signature", "reason": "signature mismatch",
                                 "at": "2026-01-01T00:00:00+00:00"})
    screen = MaintenanceScreen(services, lang=lang)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitUntil(lambda: screen.dead_value.text() != "")
    assert screen.dead_value.text() == dead and screen.dead_value.property("level") == "fault"
    assert screen.refused_value.text() == refused and screen.refused_value.property("level") == "degraded"


def test_unconfirmed_applications_are_listed_and_a_receipt_can_be_printed(qtbot, bench, audit):
    from ui.maintenance.services import Unconfirmed

    items = [Unconfirmed("TK260101-0000A1", "old-age-allowance", "2026-01-01T08:30:00+00:00", "queued",
                         {"bo": "རྒན་གསོ།", "zh": "高龄津贴", "en": "Old-age allowance"})]
    printed: list[tuple[str, str]] = []

    def print_it(item: Unconfirmed, lang: str) -> Status:
        printed.append((item.tracking_number, lang))
        items.clear()  # marked shown: the edge lists it no more
        return Status(Level.OK, "receipt_printed", "回执已打印", "པར་བསྐྲུན་ཟིན།", "printed")

    services = dataclasses.replace(bench.services(), unconfirmed=lambda: list(items), print_unconfirmed=print_it)
    screen = MaintenanceScreen(services, lang="zh", audit=audit, refresh_ms=100)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitUntil(lambda: "TK260101-0000A1" in screen._unconfirmed_rows)
    _, number, detail, button = screen._unconfirmed_rows["TK260101-0000A1"]
    assert screen.unconfirmed_box.title() == "回执无人看到的申请（1）"
    assert number.text() == "TK260101-0000A1" and "高龄津贴" in detail.text() and "等待上报" in detail.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not screen._unconfirmed_rows)
    assert printed == [("TK260101-0000A1", "zh")]
    assert screen.reprint_result.text() == "TK260101-0000A1: ✔ 正常 — 已打印，请交给申请人"
    assert screen.unconfirmed_box.title() == "回执无人看到的申请（0）"
    assert [e["event"] for e in events(audit) if e["event"].startswith("reprint")] == [
        "reprint_receipt", "reprint_receipt_result"]
