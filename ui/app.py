"""The kiosk's one window: common bars, a stack of screens, the idle overlay, and the glue between them.

The window owns no resident data: that lives in the session's flow (kiosk.flows) and is wiped with
it. The resident's edge calls (submit, lookup, feedback) run on their own worker thread and come back
as signals; housekeeping (health reports, "receipt shown" marks) has its own paths (ui.edge_paths)
so it never delays them; devices run on theirs (ui.devices_bridge): a tap is never answered by a
frozen screen.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLayout,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk import i18n
from kiosk.content import Service, Step, Text
from kiosk.flows import Flow, State, SubmitOutcome
from kiosk.session import Phase, Session
from ui.edge_paths import HealthReporter, ShownReporter
from ui.overlay import IdleOverlay
from ui.screens.feedback import FeedbackScreen
from ui.screens.form import FormScreen
from ui.screens.home import HomeScreen, PrintFormScreen, ServiceDetailScreen, ServiceListScreen
from ui.screens.identify import IdentifyScreen
from ui.screens.lookup import LookupScreen
from ui.screens.photo import PhotoScreen
from ui.screens.submit import ConfirmScreen, ResultScreen, SubmittingScreen
from ui.speaker import Speaker
from ui.theme import Theme
from ui.widgets import BigButton, IconLabel, Label, apply_fonts

log = logging.getLogger(__name__)

# The home screen's "check progress" tile runs this built-in service: card or receipt QR, then lookup.
LOOKUP_SERVICE = Service(
    id="progress-lookup", category="civil_affairs",
    title=Text("ལས་དོན་གྱི་འཕེལ་རིམ།", "查进度", "Check progress"),
    summary=Text("ཞུ་ཡིག་གི་གནས་སྟངས་འཚོལ།", "查询申请办理进度", "Look up an application's progress"),
    steps=(Step("identify", methods=("card", "qr")), Step("lookup", query="progress")),
)

_FLOW_SCREENS = {"identify": "identify", "form": "form", "photo": "photo", "confirm": "confirm",
                 "submit": "submitting", "receipt": "result"}


class _ActivityFilter(QObject):
    """Any touch or key anywhere counts as activity for the idle timer."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.MouseButtonPress, QEvent.TouchBegin, QEvent.KeyPress):
            self.session.touch()
        return False


class KioskWindow(QWidget):
    submitted = Signal(object)  # kiosk.flows.SubmitOutcome
    looked_up = Signal()

    def __init__(self, cfg: Any, *, edge: Any, content: Any, bridge: Any, voice: Any = None,
                 session: Session | None = None, theme: Theme | None = None) -> None:
        super().__init__()
        self.cfg, self.edge, self.content, self.bridge = cfg, edge, content, bridge
        self.session = session or Session.from_config(cfg)
        self.theme = theme or Theme.for_screen(QGuiApplication.primaryScreen(), elder=self.session.elder_mode)
        self.speaker = Speaker(voice, content)
        self.setObjectName("Root")
        self.setWindowTitle("Township Kiosk")
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="edge-resident")
        kiosk_id = cfg.kiosk.id
        self.health = HealthReporter(lambda statuses: edge.health(kiosk_id, statuses))
        self.shown = ShownReporter(edge)
        self.submit_in_flight = False  # a submit's POST may still land: nobody leaves meanwhile
        self._counter_lang: str | None = None
        self.submitted.connect(self._submit_answered)  # before the screens' slots: they may leave
        self.setStyleSheet(self.theme.stylesheet())

        outer = QVBoxLayout(self)
        # The screen's size is the window's size (full screen): the layout must not push the
        # window past it from pessimistic minimum sizes; tests check that nothing is clipped.
        outer.setSizeConstraint(QLayout.SetNoConstraint)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._top_bar())
        self.stack = QStackedWidget()
        outer.addWidget(self.stack, 1)
        outer.addWidget(self._bottom_bar())

        self.screens: dict[str, Any] = {}
        for cls in (HomeScreen, ServiceListScreen, ServiceDetailScreen, PrintFormScreen, IdentifyScreen,
                    FormScreen, PhotoScreen, ConfirmScreen, SubmittingScreen, ResultScreen, LookupScreen,
                    FeedbackScreen):
            screen = cls(self)
            self.screens[cls.name] = screen
            self.stack.addWidget(screen)
        self.overlay = IdleOverlay(self, self._extend)

        s = self.session
        s.on_start.append(self.speaker.reset_volume)
        s.on_end.append(self._session_ended)
        s.on_warning.append(self._idle_warning)
        s.on_language.append(self._language_changed)
        self._activity = _ActivityFilter(s)
        QApplication.instance().installEventFilter(self._activity)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.tick)
        self._tick.start()
        self._content_timer = QTimer(self)
        self._content_timer.setInterval(60_000)
        self._content_timer.timeout.connect(self.content.refresh_async)
        self._content_timer.start()
        content.changed.connect(self._content_changed)
        bridge.status_changed.connect(self._device_status)

        self.restyle(self)
        self.go("home", speak=False)

    # --- bars -------------------------------------------------------------------------------------
    def _bar(self) -> tuple[QFrame, QHBoxLayout]:
        bar = QFrame()
        bar.setObjectName("Bar")
        lay = QHBoxLayout(bar)
        m = self.theme.dp(8)
        lay.setContentsMargins(m, m, m, m)
        lay.setSpacing(m)
        return bar, lay

    def _bar_button(self, lay: QHBoxLayout, name: str, icon: str, on_click: Any) -> BigButton:
        b = BigButton(icon, "", kind="bar")
        b.margin_dp = 8  # the bars take height from every screen: snug around the words
        b.setObjectName(name)
        b.clicked.connect(on_click)
        lay.addWidget(b)
        return b

    def _top_bar(self) -> QFrame:
        bar, lay = self._bar()
        self.home_btn = self._bar_button(lay, "bar_home", "home", self.go_home)
        self.back_btn = self._bar_button(lay, "bar_back", "back", lambda: self.current_screen().go_back())
        self.title = Label("", "body", align=Qt.AlignCenter)
        self.title.setObjectName("bar_title")
        lay.addWidget(self.title, 1)
        self.lang_btn = self._bar_button(lay, "bar_language", "language", self.switch_language)
        self.text_btn = self._bar_button(lay, "bar_text_size", "text_size", self.toggle_elder_mode)
        return bar

    def _bottom_bar(self) -> QFrame:
        bar, lay = self._bar()
        self.repeat_btn = self._bar_button(lay, "bar_repeat", "repeat", self.speaker.repeat)
        self.stop_btn = self._bar_button(lay, "bar_stop", "stop", self.speaker.stop)
        lay.addStretch(1)
        self.quieter_btn = self._bar_button(lay, "bar_quieter", "minus", self._quieter)
        self.volume_icon = IconLabel("speaker", 48, "#FFFFFF")
        lay.addWidget(self.volume_icon)
        self.volume_label = Label("", "body", align=Qt.AlignCenter)
        self.volume_label.setObjectName("bar_volume")
        lay.addWidget(self.volume_label)
        self.louder_btn = self._bar_button(lay, "bar_louder", "plus", self._louder)
        lay.addStretch(1)
        self.help_btn = self._bar_button(lay, "bar_help", "people", self._help)
        return bar

    def _retranslate_bars(self) -> None:
        tr = self.tr_
        self.home_btn.setText(tr("home"))
        self.back_btn.setText(tr("back"))
        self.lang_btn.setText(tr("language_other"))
        # the other language's name, in that language's own font (a Tibetan word in the Chinese
        # font sits high and crowds the button's top)
        self.lang_btn.label.setProperty("lang", i18n.other_language(self.session.lang))
        self.text_btn.setText(tr("normal_text" if self.session.elder_mode else "larger_text"))
        self.repeat_btn.setText(tr("repeat"))
        self.stop_btn.setText(tr("stop"))
        self.quieter_btn.setText(tr("quieter"))
        self.louder_btn.setText(tr("louder"))
        self.help_btn.setText(tr("help"))
        self._show_volume()
        screen = self.current_screen()
        self.title.setText(self._title_for(screen) if screen is not None else "")

    def _title_for(self, screen: Any) -> str:
        flow = self.session.flow
        if flow is not None and screen.name not in ("home", "services", "print_form", "feedback"):
            return flow.service.title.get(self.session.lang)
        return self.tr_({"print_form": "print_form", "feedback": "feedback_question"}.get(screen.name, "services"))

    def _show_volume(self) -> None:
        self.volume_label.setText(f"{self.tr_('volume')} {round(self.speaker.volume * 100)}%")

    def tr_(self, key: str, **params: object) -> str:
        return i18n.tr(key, self.session.lang, **params)

    # --- navigation ---------------------------------------------------------------------------------
    def current_screen(self) -> Any:
        return self.stack.currentWidget()

    def go(self, name: str, speak: bool = True, **kwargs: Any) -> None:
        current = self.current_screen()
        if current is not None and current is not self.screens[name]:
            current.leave()
        screen = self.screens[name]
        self.stack.setCurrentWidget(screen)
        self.back_btn.setVisible(name != "home")
        self._retranslate_bars()
        if speak:
            screen.enter(**kwargs)
        else:
            screen.retranslate()
        log.info("screen", extra={"screen": name})

    def go_home(self) -> None:
        """Always a way home: any flow in progress is dropped (wiped), the session goes on.

        Except while a submit is on its way (its answer holds the tracking number: wait for it), and
        once a submit's outcome is unknown, when home is the counter (staff find the application)."""
        flow = self.session.flow
        if self.submit_in_flight:
            self.screens["submitting"].please_wait()
            return
        if flow is not None and flow.outcome_unknown:
            self.send_to_counter()
            return
        self._drop_flow()
        self.go("home")

    def send_to_counter(self) -> None:
        """End the session; the home screen tells the resident that staff at the counter will help."""
        if self.submit_in_flight:
            self.screens["submitting"].please_wait()
            return
        self._counter_lang = self.session.lang
        self.session.end("counter")

    def _drop_flow(self) -> str | None:
        """Wipe the flow (the session goes on) and forget the card on the reader; the flow's service id."""
        flow = self.session.flow
        service_id = flow.service.id if flow is not None else None
        self.session.drop_flow()
        self.bridge.forget_card()
        return service_id

    def start_service(self, service: Any) -> None:
        self.session.begin_flow(Flow(service, edge=self.edge))
        self.bridge.forget_card()  # a card already on the reader fires again for this flow
        self.show_flow_step()

    def start_lookup(self) -> None:
        """The pack's progress-lookup service when it has one (its words), else the built-in one."""
        self.start_service(self.content.service(LOOKUP_SERVICE.id) or LOOKUP_SERVICE)

    def show_flow_step(self) -> None:
        flow = self.session.flow
        if flow is None:
            self.go_home()
            return
        if flow.state is State.DONE:
            if flow.submitted:  # a service with no receipt step still shows its tracking number
                if self.current_screen() is not self.screens["result"]:
                    self.go("result")
            elif flow.kind != "lookup":
                self.finish_flow()
            return
        kind = flow.kind.value
        if kind == "guide":  # read on the detail screen before starting: move on
            flow.next()
            self.show_flow_step()
        elif kind == "lookup":
            self.go("lookup" if flow.identified else "identify")
        else:
            self.go(_FLOW_SCREENS[kind])

    def flow_back(self) -> None:
        flow = self.session.flow
        if flow is not None and flow.outcome_unknown:
            return  # frozen: the submitting screen offers "try again" or the counter
        if flow is not None and flow.back():
            self.show_flow_step()
            return
        service_id = self._drop_flow()
        if service_id and self.content.service(service_id) is not None:
            self.go("detail", service_id=service_id)
        else:
            self.go("home")

    def finish_flow(self) -> None:
        self.go("feedback", service_id=self._drop_flow())

    # --- work off the GUI thread ---------------------------------------------------------------------
    FORWARD_WAIT_S = 2.0  # how long the receipt waits to learn whether the platform has it already

    def run_submit(self) -> None:
        flow = self.session.flow
        self.submit_in_flight = True

        def work() -> None:
            try:
                outcome = flow.submit()
                deadline = time.monotonic() + self.FORWARD_WAIT_S
                while outcome.ok and not flow.refresh_submission() and time.monotonic() < deadline:
                    time.sleep(0.2)
            except Exception:
                log.exception("submit crashed")
                flow.outcome_unknown = True
                outcome = SubmitOutcome(False, error="edge_unavailable")
            self.submitted.emit(outcome)

        self._pool.submit(work)

    def run_lookup(self) -> None:
        flow = self.session.flow

        def work() -> None:
            try:
                flow.lookup()
            except Exception:
                log.exception("lookup crashed")
            self.looked_up.emit()

        self._pool.submit(work)

    def send_feedback(self, rating: int, reasons: list[str], service_id: str | None) -> None:
        lang = self.session.lang

        def work() -> None:
            try:
                self.edge.feedback(rating, reasons, service_id, lang=lang)
            except Exception as e:  # feedback is nice to have; the resident is not told
                log.warning("feedback not sent", extra={"error": type(e).__name__})

        self._pool.submit(work)

    def _submit_answered(self, _outcome: SubmitOutcome) -> None:
        """The submit's answer reached the GUI thread: leaving is possible again."""
        self.submit_in_flight = False

    def mark_shown(self, tracking_number: str) -> None:
        """The tracking number is on screen: the edge stops listing it for staff (off the GUI thread)."""
        self.shown.mark(tracking_number)

    def print_receipt(self, content: Any) -> None:
        from devices.printer.receipt import Receipt

        flow = self.session.flow
        alt = i18n.other_language(content.lang)
        self.bridge.print_receipt(Receipt(title=content.title, lines=list(content.lines), qr=content.qr,
                                          footer=content.footer, lang=content.lang,
                                          title_alt=flow.service.title.get(alt) if flow else None))

    def print_document(self, title: str, paragraphs: list[str], lang: str) -> None:
        self.bridge.print_document(title, paragraphs, lang)

    # --- session, language, elder mode ------------------------------------------------------------------
    def tick(self) -> None:
        if self.submit_in_flight:
            self.session.touch()  # no idle wipe while the answer with the tracking number is on its way
        if self.session.tick() is Phase.WARNING:
            self._show_countdown(int(round(self.session.seconds_left())))

    def _show_countdown(self, secs: int) -> None:
        self.overlay.update_text(self.tr_("idle_warning", seconds=secs), secs, self.tr_("need_more_time"))

    def _idle_warning(self, seconds: float) -> None:
        self._show_countdown(int(seconds))
        apply_fonts(self.overlay, self.theme, self.session.lang)
        self.overlay.cover()
        self.speaker.prompt("idle_warning", self.session.lang)

    def _extend(self) -> None:
        self.session.extend()
        self.overlay.hide()
        self.speaker.stop()

    def _session_ended(self, reason: str) -> None:
        self.overlay.hide()
        self.bridge.stop_camera()
        self.bridge.forget_card()
        self.speaker.reset_volume()
        if self.theme.elder != self.session.elder_mode:
            self._apply_elder()
        for screen in self.screens.values():
            screen.leave()
            screen.wipe()
        self.go("home", speak=False)
        self.restyle(self)
        if reason == "idle":
            self.speaker.prompt("session_ended", self.session.lang)
        elif reason == "counter":  # in the resident's language, not the kiosk's default
            lang, self._counter_lang = self._counter_lang or self.session.lang, None
            home = self.screens["home"]
            home.banner.show_message("warn", self.speaker.prompt("submit_counter_done", lang))
            self.restyle(home.banner)

    def switch_language(self) -> None:
        self.session.set_language(i18n.other_language(self.session.lang))

    def _language_changed(self, lang: str) -> None:
        self.restyle(self)  # fonts of the new language before the screen measures its words
        self.current_screen().retranslate()
        self._retranslate_bars()
        self.restyle(self)
        self.current_screen().speak()

    def toggle_elder_mode(self) -> None:
        self.session.toggle_elder_mode()
        self._apply_elder()
        self.current_screen().retranslate()
        self._retranslate_bars()

    def _apply_elder(self) -> None:
        self.theme.elder = self.session.elder_mode
        self.setStyleSheet(self.theme.stylesheet())
        self.restyle(self)

    def pause_for_maintenance(self) -> None:
        """The technician's screen opened: wipe any resident session, stop the idle timer."""
        self.session.end("maintenance")
        self._tick.stop()

    def resume_after_maintenance(self) -> None:
        self._tick.start()
        self.go("home", speak=False)

    def restyle(self, widget: QWidget) -> None:
        apply_fonts(widget, self.theme, self.session.lang)

    # --- voice controls ------------------------------------------------------------------------------
    def _louder(self) -> None:
        self.speaker.louder()
        self._show_volume()

    def _quieter(self) -> None:
        self.speaker.quieter()
        self._show_volume()

    def _help(self) -> None:
        screen = self.current_screen()
        screen.banner.show_message("warn", self.speaker.prompt("need_help_counter", self.session.lang))
        self.restyle(screen.banner)

    # --- devices and content -----------------------------------------------------------------------
    def degraded_words(self) -> str:
        from kiosk.status import Level

        bad = [c for c, s in self.bridge.statuses().items()
               if c in ("card_reader", "printer") and s.level is Level.FAULT]
        return self.tr_("degraded_service") if bad else ""

    def _device_status(self, component: str, status: Any) -> None:
        if self.current_screen() is self.screens["home"]:
            self.screens["home"].retranslate()
        self.health.report({c: s.as_dict() for c, s in self.bridge.statuses().items()})

    def _content_changed(self) -> None:
        if self.current_screen() in (self.screens["home"], self.screens["services"]):
            self.current_screen().retranslate()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.overlay.isVisible():
            self.overlay.setGeometry(self.rect())

    def shutdown(self) -> None:
        fleet = getattr(self, "fleet_commands", None)  # set by ui.factory
        if fleet is not None:
            fleet.close()
        self._tick.stop()
        self._content_timer.stop()
        QApplication.instance().removeEventFilter(self._activity)
        self.session.end("shutdown")
        session_audit = getattr(self, "session_audit", None)  # set by ui.factory
        if session_audit is not None:
            session_audit.close()  # the session's end is written before the process goes
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.health.close()  # a report hanging on the edge is not waited for
        self.shown.close()
        self.bridge.close()
