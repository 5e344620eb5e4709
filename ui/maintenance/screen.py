"""The maintenance screen (ui.maintenance.launcher guards it: corner gesture -> PIN -> screen).

MaintenanceScreen is a self-contained QWidget: it shows every device's status, runs the
self-tests, and shows the edge's content version, outbox and WAN state and the missing Tibetan
clips, dead letters, a refused content pack, and the applications whose receipt no resident saw
(with a "print receipt" action for staff to hand it over). It talks to the kiosk only through MaintenanceServices, calls them off the GUI thread,
and writes every action to the audit log. It closes itself after a few idle minutes, so a
screen left open does not stay open for the next person at the kiosk.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk import i18n
from kiosk.audit import AuditLog
from kiosk.identity import CardRecord
from kiosk.log import scrub
from kiosk.status import Level, Status
from ui.adapters.camera_frames import to_qimage
from ui.maintenance.camera import Detections, draw_overlay
from ui.maintenance.services import MaintenanceServices, OutboxInfo, Unconfirmed
from ui.maintenance.style import default_theme, stylesheet
from ui.maintenance.text import LANGUAGE_NAMES, LANGUAGES, format_age, level_text, tr, tr_or
from ui.maintenance.widgets import LabelButton, Section
from ui.maintenance.worker import BackgroundCalls, CallResult
from ui.screens.lookup import local_time
from ui.theme import Theme
from ui.widgets.labels import Label

log = logging.getLogger(__name__)

_UNAVAILABLE = object()  # a snapshot field whose service call failed


@dataclass(frozen=True)
class _CardSeen:
    """All the screen keeps of a card self-test: the record itself is dropped on arrival."""

    kind: str
    masked_id: str
_MAX_CLIPS_SHOWN = 200


_CAMERA_MS = 200
_INPUT_EVENTS = {QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.TouchBegin}


def _gather(services: MaintenanceServices) -> dict[str, object]:
    """One refresh: every field on its own, so one failing service does not blank the others."""
    calls = {"statuses": services.device_statuses, "version": services.content_version,
             "outbox": services.outbox, "wan": services.wan_state, "clips": services.missing_clips,
             "unconfirmed": services.unconfirmed, "refused": services.content_refused,
             "voice": services.voice_coverage}
    snapshot: dict[str, object] = {}
    for name, fn in calls.items():
        try:
            snapshot[name] = fn()
        except Exception as e:
            log.warning("maintenance info unavailable", extra={"field": name, "error": type(e).__name__})
            snapshot[name] = _UNAVAILABLE
    return snapshot


class MaintenanceScreen(QWidget):
    closed = Signal(str)  # why: "button", "idle" or "window"

    def __init__(self, services: MaintenanceServices, *, lang: str, parent: QWidget | None = None,
                 audit: AuditLog | None = None, theme: Theme | None = None, refresh_ms: int = 2000,
                 idle_close_s: float = 300) -> None:
        super().__init__(parent)
        self._services = services
        self._theme = theme or default_theme()
        self._lang = lang
        self._audit = audit
        self._opened_at = time.monotonic()
        self._closing = False
        self._snapshot: dict[str, object] = {}
        self._results: dict[str, CallResult] = {}
        self._device_rows: dict[str, tuple[Label, Label, Label]] = {}
        self._unconfirmed_rows: dict[str, tuple[Unconfirmed, Label, Label, LabelButton]] = {}
        self._reprint: tuple[str, CallResult | None] | None = None  # the last "print receipt": number, result
        self._camera_stats = {"frames": 0, "qr_frames": 0, "face_frames": 0}
        self._camera_last: CallResult | None = None
        self.preview_image: QImage | None = None  # the last frame shown, overlay included

        self._calls = BackgroundCalls(self)
        self._calls.finished.connect(self._on_result)
        self._build()
        self._refresh_timer = QTimer(self, interval=refresh_ms)
        self._refresh_timer.timeout.connect(self.refresh)
        self._refresh_timer.start()
        self._camera_timer = QTimer(self, interval=_CAMERA_MS)
        self._camera_timer.timeout.connect(self._grab_frame)
        self._idle_timer = QTimer(self, singleShot=True, interval=int(idle_close_s * 1000))
        self._idle_timer.timeout.connect(lambda: self.close_screen("idle"))
        self._idle_timer.start()
        QApplication.instance().installEventFilter(self)
        self._record("maintenance_open")
        self._retranslate()
        self.refresh()

    # -- public -------------------------------------------------------------------------------
    @property
    def lang(self) -> str:
        return self._lang

    def set_language(self, lang: str) -> None:
        self._lang = lang
        self._retranslate()

    def refresh(self) -> None:
        """Re-read statuses and edge info in the background (a no-op while one is running)."""
        self._calls.submit("refresh", _gather, self._services)

    def close_screen(self, reason: str = "button") -> None:
        if self._closing:
            return
        self._closing = True
        for timer in (self._refresh_timer, self._idle_timer):
            timer.stop()
        self._stop_camera()
        self._calls.close()
        QApplication.instance().removeEventFilter(self)
        try:
            self._services.close()
        except Exception as e:
            log.warning("maintenance services close failed", extra={"error": type(e).__name__})
        self._record("maintenance_close", reason=reason, open_s=round(time.monotonic() - self._opened_at))
        self.closed.emit(reason)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.close_screen("window")
        super().closeEvent(event)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() in _INPUT_EVENTS and not self._closing:
            self._idle_timer.start()  # any touch or key restarts the idle countdown
        return False

    # -- layout -------------------------------------------------------------------------------
    def _button(self, text: str = "", *, lang: str | None = None, checkable: bool = False) -> LabelButton:
        button = LabelButton(text, lang=lang, checkable=checkable)
        button.set_padding(self._theme.dp(16), self._theme.dp(4))
        return button

    def _build(self) -> None:
        self.title = Label("", "title")
        self.title.setObjectName("title")
        # each language's name in its own script and font, whatever the screen's language
        self.language_buttons = {code: self._button(LANGUAGE_NAMES[code], lang=code) for code in LANGUAGES}
        for code, button in self.language_buttons.items():
            button.clicked.connect(lambda _=False, c=code: self.set_language(c))
        self.close_button = self._button()
        self.close_button.clicked.connect(lambda: self.close_screen("button"))
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        for button in self.language_buttons.values():
            header.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
        header.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignVCenter)

        tight = self._theme.dp(4)  # rows of Tibetan need no air between them: the screen fits without scrolling
        self.devices_box = Section()
        self._device_grid = QGridLayout(self.devices_box.box)
        self._device_grid.setColumnStretch(1, 1)
        self._device_grid.setVerticalSpacing(tight)

        self.system_box = Section()
        system = QGridLayout(self.system_box.box)
        system.setVerticalSpacing(tight)
        self.version_label, self.version_value = Label(), Label()
        self.outbox_label, self.outbox_value = Label(), Label()
        self.wan_label, self.wan_value = Label(), Label()
        self.dead_label, self.dead_value = Label(), Label()
        self.refused_label, self.refused_value = Label(), Label()
        pairs = [(self.version_label, self.version_value), (self.refused_label, self.refused_value),
                 (self.outbox_label, self.outbox_value), (self.dead_label, self.dead_value),
                 (self.wan_label, self.wan_value)]
        self.voice_rows = {lang: (Label(), Label()) for lang in ("bo", "zh")}  # how prompts are heard
        pairs += list(self.voice_rows.values())
        for row, (k, v) in enumerate(pairs):
            system.addWidget(k, row, 0)
            system.addWidget(v, row, 1)
        system.setColumnStretch(1, 1)
        self.clips_label = Label()
        self.clips_list = QListWidget()
        self.clips_list.setMinimumHeight(self._theme.dp(110))
        system.addWidget(self.clips_label, len(pairs), 0, 1, 2)
        system.addWidget(self.clips_list, len(pairs) + 1, 0, 1, 2)
        system.setRowStretch(len(pairs) + 1, 1)  # the list takes the column's spare height

        self.unconfirmed_box = Section()
        self._unconfirmed_grid = QGridLayout(self.unconfirmed_box.box)
        self._unconfirmed_grid.setColumnStretch(1, 1)
        self._unconfirmed_grid.setVerticalSpacing(tight)
        self.unconfirmed_none = Label()
        self._unconfirmed_grid.addWidget(self.unconfirmed_none, 0, 0, 1, 3)
        # below the list, not in a row: a printed application leaves the list, its result stays
        self.reprint_result = Label()
        self.reprint_result.setObjectName("reprint_result")
        self.reprint_result.hide()
        self._unconfirmed_grid.addWidget(self.reprint_result, 1000, 0, 1, 3)

        self.tests_box = Section()
        tests = QGridLayout(self.tests_box.box)
        self.test_buttons: dict[str, LabelButton] = {"card": self._button(), "print": self._button()}
        for lang in self._services.speak_languages:
            self.test_buttons[f"speak:{lang}"] = self._button()
        self.test_buttons["camera"] = self._button(checkable=True)
        self.results: dict[str, Label] = {}
        for row, (key, button) in enumerate(self.test_buttons.items()):
            self.results[key] = Label()
            tests.addWidget(button, row, 0)
            tests.addWidget(self.results[key], row, 1)
            if key == "camera":
                button.toggled.connect(self._camera_toggled)
            else:
                button.clicked.connect(lambda _=False, k=key: self.run_test(k))
        tests.setColumnStretch(1, 1)  # results take the spare width; buttons keep their text whole
        self.preview = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(self._theme.dp(600), self._theme.dp(450))
        tests.addWidget(self.preview, len(self.test_buttons), 0, 1, 2)
        tests.setRowStretch(len(self.test_buttons) + 1, 1)

        left = QVBoxLayout()
        left.addWidget(self.devices_box)
        left.addWidget(self.system_box, 1)
        left.addWidget(self.unconfirmed_box)
        body = QWidget()
        columns = QHBoxLayout(body)
        columns.setContentsMargins(0, 0, 0, 0)
        columns.addLayout(left, 1)
        columns.addWidget(self.tests_box, 1, Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        m = self._theme.dp(12)
        outer.setContentsMargins(m, m, m, m)
        outer.addLayout(header)
        outer.addWidget(scroll, 1)

    def _retranslate(self) -> None:
        lang = self._lang
        self.setStyleSheet(stylesheet(self._theme, lang))  # fonts differ per language
        self.title.setText(tr("title", lang))
        self.close_button.setText(tr("close", lang))
        self.devices_box.setTitle(tr("devices", lang))
        self.system_box.setTitle(tr("system", lang))
        self.tests_box.setTitle(tr("tests", lang))
        self.version_label.setText(tr("content_version", lang))
        self.outbox_label.setText(tr("outbox", lang))
        self.wan_label.setText(tr("wan", lang))
        self.dead_label.setText(tr("dead_letters", lang))
        self.refused_label.setText(tr("content_refused", lang))
        self.unconfirmed_none.setText(tr("none", lang))
        self.test_buttons["card"].setText(tr("test_card", lang))
        self.test_buttons["print"].setText(tr("test_print", lang))
        for code in self._services.speak_languages:
            self.test_buttons[f"speak:{code}"].setText(
                tr("speak", lang, language=LANGUAGE_NAMES.get(code, code)))
        camera_on = self.test_buttons["camera"].isChecked()
        self.test_buttons["camera"].setText(tr("camera_stop" if camera_on else "camera_start", lang))
        self._render_snapshot()
        for key in self.results:
            self._render_result(key)
        if self._camera_last is not None:
            self._render_frame(self._camera_last)

    # -- refresh ------------------------------------------------------------------------------
    def _render_snapshot(self) -> None:
        lang, snap = self._lang, self._snapshot
        if not snap:
            return
        self._render_devices(snap["statuses"])
        version = snap["version"]
        self.version_value.setText(self._text_or_unavailable(version, lambda v: v or tr("none", lang)))
        self.outbox_value.setText(self._text_or_unavailable(snap["outbox"], self._outbox_text))
        wan = snap["wan"]
        self.wan_value.setText(self._text_or_unavailable(wan, self._status_text))
        self._set_level(self.wan_value, wan.level if isinstance(wan, Status) else Level.FAULT)
        outbox = snap["outbox"]
        self.dead_value.setText(self._text_or_unavailable(outbox, self._dead_text))
        self._set_level(self.dead_value, Level.FAULT if not isinstance(outbox, OutboxInfo) or outbox.dead_letters
                        else Level.OK)
        refused = snap["refused"]
        self.refused_value.setText(self._text_or_unavailable(refused, self._refused_text))
        self._set_level(self.refused_value, Level.OK if refused is None else Level.DEGRADED)
        self._render_unconfirmed(snap["unconfirmed"])
        self._render_voice(snap["voice"])
        clips = snap["clips"]
        self.clips_list.clear()
        if clips is _UNAVAILABLE:
            self.clips_label.setText(tr("missing_clips", lang, n="?"))
            self.clips_list.addItem(tr("unavailable", lang))
            return
        self.clips_label.setText(tr("missing_clips", lang, n=len(clips)))
        self.clips_list.addItems(list(clips[:_MAX_CLIPS_SHOWN]) or [tr("none", lang)])
        if len(clips) > _MAX_CLIPS_SHOWN:
            self.clips_list.addItem(tr("more", lang, n=len(clips) - _MAX_CLIPS_SHOWN))

    def _render_voice(self, coverage: object) -> None:
        """Per language: clips (native, and stand-ins apart), synthetic, silent."""
        lang = self._lang
        for code, (label, value) in self.voice_rows.items():
            label.setText(tr(f"voice.{code}", lang))
            counts = coverage.get(code) if isinstance(coverage, dict) else None
            if counts is None:
                value.setText(tr("unavailable", lang))
                self._set_level(value, Level.DEGRADED)
                continue
            value.setText(tr("voice_counts", lang, **counts.model_dump()))
            self._set_level(value, Level.DEGRADED if counts.silent else Level.OK)

    def _render_devices(self, statuses: object) -> None:
        lang = self._lang
        if statuses is _UNAVAILABLE:
            self._clear_device_rows()
            self._add_device_row("-", tr("unavailable", lang), Level.FAULT, "")
            return
        if list(statuses) != list(self._device_rows):
            self._clear_device_rows()
            for component in statuses:
                self._add_device_row(component, "", Level.OK, "")
        for component, status in statuses.items():
            name, level, message = self._device_rows[component]
            name.setText(tr_or(f"component.{component}", component, lang))
            level.setText(level_text(status.level, lang))
            self._set_level(level, status.level)
            message.setText(self._detail(status))
            message.setVisible(bool(message.text()))

    def _add_device_row(self, component: str, name: str, lvl: Level, message: str) -> None:
        """Name and level on one line; what is wrong on the next, the box's full width (a Tibetan
        sentence in a third column would wrap into a narrow strip)."""
        row = 2 * len(self._device_rows)
        labels = (Label(name), Label(level_text(lvl, self._lang)), Label(message))
        self._device_grid.addWidget(labels[0], row, 0)
        self._device_grid.addWidget(labels[1], row, 1)
        self._device_grid.addWidget(labels[2], row + 1, 0, 1, 2)
        labels[2].setVisible(bool(message))
        self._set_level(labels[1], lvl)
        self._device_rows[component] = labels

    def _clear_device_rows(self) -> None:
        for labels in self._device_rows.values():
            for label in labels:
                self._device_grid.removeWidget(label)
                label.hide()
                label.deleteLater()
        self._device_rows.clear()

    def _outbox_text(self, info: OutboxInfo) -> str:
        if not info.depth or info.oldest_age_s is None:
            return str(info.depth)
        return tr("outbox_value", self._lang, n=info.depth, age=format_age(info.oldest_age_s, self._lang))

    def _dead_text(self, info: OutboxInfo) -> str:
        if not info.dead_letters:
            return "0"
        age = format_age(info.dead_oldest_age_s, self._lang) if info.dead_oldest_age_s is not None else "?"
        return tr("dead_value", self._lang, n=info.dead_letters, age=age)

    def _refused_text(self, refused: dict | None) -> str:
        if not refused:
            return tr("none", self._lang)
        code = str(refused.get("code") or "")
        why = tr_or(f"refusal.{code}", scrub(str(refused.get("reason") or code))[:200], self._lang)
        return tr("refused_value", self._lang, version=refused.get("version", "?"), why=why)

    # -- applications whose receipt nobody saw ----------------------------------------------------
    def _render_unconfirmed(self, items: object) -> None:
        lang = self._lang
        if items is _UNAVAILABLE:
            self.unconfirmed_box.setTitle(tr("unconfirmed", lang, n="?"))
            self._clear_unconfirmed_rows()
            self.unconfirmed_none.setText(tr("unavailable", lang))
            self.unconfirmed_none.show()
            return
        self.unconfirmed_box.setTitle(tr("unconfirmed", lang, n=len(items)))
        if [i.tracking_number for i in items] != list(self._unconfirmed_rows):
            self._clear_unconfirmed_rows()
            for item in items:
                self._add_unconfirmed_row(item)
        self.unconfirmed_none.setVisible(not items)
        for item, _number, detail, button in self._unconfirmed_rows.values():
            title = (item.title or {}).get(lang) or (item.title or {}).get("zh") or item.service_id
            status = i18n.tr(f"status_{item.status}", lang) if i18n.has(f"status_{item.status}") else item.status
            detail.setText(f"{title} · {local_time(item.created)} · {status}")
            button.setText(tr("print_receipt", lang))
        self._render_reprint()

    def _add_unconfirmed_row(self, item: Unconfirmed) -> None:
        row = len(self._unconfirmed_rows) + 1
        number, detail = Label(item.tracking_number), Label()
        number.setObjectName("unconfirmed_number")
        button = self._button()
        button.setObjectName(f"print_{item.tracking_number}")
        button.clicked.connect(lambda _=False, tn=item.tracking_number: self.print_unconfirmed(tn))
        self._unconfirmed_grid.addWidget(number, row, 0)
        self._unconfirmed_grid.addWidget(detail, row, 1)
        self._unconfirmed_grid.addWidget(button, row, 2)
        self._unconfirmed_rows[item.tracking_number] = (item, number, detail, button)

    def _clear_unconfirmed_rows(self) -> None:
        for _item, *widgets in self._unconfirmed_rows.values():
            for widget in widgets:
                self._unconfirmed_grid.removeWidget(widget)
                widget.hide()
                widget.deleteLater()
        self._unconfirmed_rows.clear()

    def print_unconfirmed(self, tracking_number: str) -> None:
        """Print a receipt for staff to hand over; the edge then stops listing the application."""
        row = self._unconfirmed_rows.get(tracking_number)
        key = f"reprint:{tracking_number}"
        if row is None or not self._calls.submit(key, self._services.print_unconfirmed, row[0], self._lang):
            return
        row[3].setEnabled(False)
        self._reprint = (tracking_number, None)
        self._render_reprint()
        self._record("reprint_receipt", tracking_number=tracking_number)

    def _render_reprint(self) -> None:
        if self._reprint is None:
            return
        lang, label = self._lang, self.reprint_result
        tracking_number, call = self._reprint
        if call is None:
            text, level = tr("running", lang), Level.OK
        elif call.ok and isinstance(call.value, Status) and call.value.level is Level.OK:
            text, level = f"{level_text(Level.OK, lang)} — {tr('receipt_printed', lang)}", Level.OK
        elif call.ok and isinstance(call.value, Status):
            text, level = self._status_text(call.value), call.value.level
        else:
            text, level = f"{level_text(Level.FAULT, lang)} — {tr('test_failed', lang)}", Level.FAULT
        label.setText(f"{tracking_number}: {text}")
        label.show()
        self._set_level(label, level)

    def _text_or_unavailable(self, value: object, render: Callable) -> str:
        return tr("unavailable", self._lang) if value is _UNAVAILABLE else render(value)

    def _detail(self, status: Status) -> str:
        """The status's message, or "" when it would only repeat the level's word ("OK OK")."""
        message = status.message(self._lang)
        return "" if message.strip("。.! ") == level_text(status.level, self._lang).split(" ", 1)[1] else message

    def _status_text(self, status: Status) -> str:
        detail = self._detail(status)
        return f"{level_text(status.level, self._lang)} — {detail}" if detail else level_text(status.level, self._lang)

    @staticmethod
    def _set_level(label: QLabel, level: Level) -> None:
        label.setProperty("level", level.value)
        label.style().unpolish(label)
        label.style().polish(label)

    # -- self-tests ---------------------------------------------------------------------------
    def run_test(self, key: str) -> None:
        """key: "card", "print" or "speak:<lang>"; the result shows beside its button."""
        if key == "card":
            fn, args = self._services.self_test_card, ()
        elif key == "print":
            fn, args = self._services.self_test_print, ()
        else:
            fn, args = self._services.speak_test, (key.partition(":")[2],)
        if self._calls.submit(key, fn, *args):
            self._results.pop(key, None)
            self.test_buttons[key].setEnabled(False)
            self.results[key].setText(tr("running", self._lang))
            self._record("self_test", test=key)

    def _on_result(self, key: str, call: CallResult) -> None:
        if key == "refresh":
            self._snapshot = call.value if call.ok else {}
            self._render_snapshot()
        elif key == "camera":
            self._on_frame(call)
        elif key.startswith("reprint:"):
            tracking_number = key.partition(":")[2]
            self._reprint = (tracking_number, call)
            row = self._unconfirmed_rows.get(tracking_number)
            if row is not None:
                row[3].setEnabled(True)
            self._render_reprint()
            self._record("reprint_receipt_result", tracking_number=tracking_number, **self._audit_fields(call))
            self.refresh()  # printed and marked: it leaves the list
        else:
            if isinstance(call.value, CardRecord):
                call = CallResult(value=_CardSeen(call.value.kind.value, call.value.masked_id))
            self._results[key] = call
            self.test_buttons[key].setEnabled(True)
            self._render_result(key)
            self._record("self_test_result", test=key, **self._audit_fields(call))

    def _render_result(self, key: str) -> None:
        call = self._results.get(key)
        if call is None or key == "camera":
            return
        lang, label = self._lang, self.results[key]
        value = call.value
        if not call.ok:
            detail = scrub(str(call.error))[:120] or type(call.error).__name__
            label.setText(f"{level_text(Level.FAULT, lang)} — {tr('test_failed', lang)}: {detail}")
            level = Level.FAULT
        elif isinstance(value, _CardSeen):  # kind and masked number only: this screen is in public view
            kind = tr_or(f"card.{value.kind}", value.kind, lang)
            label.setText(f"{level_text(Level.OK, lang)} — {kind} {value.masked_id}")
            level = Level.OK
        elif isinstance(value, Status):
            label.setText(self._status_text(value))
            level = value.level
        else:
            label.setText(f"{level_text(Level.FAULT, lang)} — {tr('test_failed', lang)}")
            level = Level.FAULT
        self._set_level(label, level)

    @staticmethod
    def _audit_fields(call: CallResult) -> dict[str, str]:
        if not call.ok:
            return {"result": "error", "error": type(call.error).__name__}
        value = call.value
        if isinstance(value, _CardSeen):
            return {"result": "ok", "kind": value.kind}
        if isinstance(value, Status):
            return {"result": value.level.value, "code": value.code}
        return {"result": "error", "error": type(value).__name__}

    # -- camera -------------------------------------------------------------------------------
    def _camera_toggled(self, on: bool) -> None:
        self.test_buttons["camera"].setText(tr("camera_stop" if on else "camera_start", self._lang))
        if on:
            self._camera_stats = dict.fromkeys(self._camera_stats, 0)
            self._camera_last = None
            self.results["camera"].setText(tr("running", self._lang))
            self._record("self_test", test="camera")
            self._camera_timer.start()
            self._grab_frame()
        else:
            self._stop_camera()

    def _stop_camera(self) -> None:
        if not self._camera_timer.isActive():
            return
        self._camera_timer.stop()
        stats = self._camera_stats
        self._record("self_test_result", test="camera", result="ok" if stats["frames"] else "fault", **stats)
        button = self.test_buttons["camera"]
        if button.isChecked():
            button.setChecked(False)

    def _grab_frame(self) -> None:
        self._calls.submit("camera", self._frame_and_detections)

    def _frame_and_detections(self) -> tuple[object, Detections | None]:
        frame = self._services.camera_frame()
        return frame, (self._services.camera_detect(frame) if frame is not None else None)

    def _on_frame(self, call: CallResult) -> None:
        if not self._camera_timer.isActive():
            return  # stopped while this frame was on its way
        self._camera_last = call
        if not call.ok:  # a broken camera: show why and stop, rather than fail five times a second
            self._render_frame(call)
            self._stop_camera()
            return
        if call.value[0] is not None:
            found = call.value[1]
            self._camera_stats["frames"] += 1
            self._camera_stats["qr_frames"] += bool(found.qr)
            self._camera_stats["face_frames"] += bool(found.faces)
        self._render_frame(call)

    def _render_frame(self, call: CallResult) -> None:
        lang, label = self._lang, self.results["camera"]
        if not call.ok:
            label.setText(f"{level_text(Level.FAULT, lang)} — {tr('test_failed', lang)}: {type(call.error).__name__}")
            self._set_level(label, Level.FAULT)
            return
        frame, found = call.value
        if frame is None:
            label.setText(f"{level_text(Level.FAULT, lang)} — {tr('no_frame', lang)}")
            self._set_level(label, Level.FAULT)
            self.preview.clear()
            return
        self.preview_image = draw_overlay(to_qimage(frame), found, lang)
        self.preview.setPixmap(QPixmap.fromImage(self.preview_image).scaled(
            self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        text = tr("camera_found", lang, qr=len(found.qr), faces=len(found.faces))
        if found.qr:
            text += f" — {found.qr[0].text[:40]}"
        label.setText(f"{level_text(Level.OK, lang)} — {text}")
        self._set_level(label, Level.OK)

    def _record(self, event: str, **fields: str | int) -> None:
        if self._audit is not None:
            self._audit.record(event, **fields)
