"""The kiosk's one window: the bars, the stack of screens, the idle overlay, and the session around them.

The window owns no resident data: that lives in the session's flow (kiosk.flows) and is wiped with
it. It is the screens' ScreenHost (ui.screens.host): where to go is the navigator's
(ui.shell.navigator), the resident's edge calls are ui.shell.edge_calls' (on their own worker, answers
as signals), devices run on their own threads (ui.adapters.devices_bridge): a tap is never answered
by a frozen screen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QTimer, SignalInstance
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLayout, QStackedWidget, QVBoxLayout, QWidget

from kiosk import i18n
from kiosk.config import Config
from kiosk.content import Service
from kiosk.edge_client import EdgeClient
from kiosk.session import Phase, Session
from ui.adapters.content_cache import ContentCache
from ui.adapters.devices_bridge import DeviceBridge
from ui.adapters.receipt import receipt_job
from ui.adapters.speaker import Speaker
from ui.screens.base import Screen
from ui.shell.bars import BarActions, Bars
from ui.shell.edge_calls import EdgeCalls
from ui.shell.navigator import Navigator
from ui.shell.screen_set import ScreenSet
from ui.theme import Theme
from ui.widgets.fonts import apply_fonts
from ui.widgets.overlay import IdleOverlay

if TYPE_CHECKING:
    from devices.printer.receipt import Receipt
    from devices.voice.voice import Voice
    from kiosk.flows import Flow
    from kiosk.status import Status
    from ui.adapters.documents import DocumentsDesk

log = logging.getLogger(__name__)

_NO_FLOW_TITLE = {"home": "services", "services": "services", "print_form": "print_form",
                  "feedback": "feedback_question"}  # screens titled by what they are, not by the flow's service


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
    HOME_WAIT_MS = 1500  # after the first paint, at most this long for the content before the rest starts

    def __init__(self, cfg: Config, *, edge: EdgeClient, content: ContentCache, bridge: DeviceBridge,
                 voice: Voice | None = None, session: Session | None = None, theme: Theme | None = None,
                 documents: DocumentsDesk | None = None) -> None:
        super().__init__()
        self.cfg, self.edge, self.content, self.bridge = cfg, edge, content, bridge
        self.documents = documents  # "print my certificate" (ui.adapters.documents), with an A4 printer
        self.session = session or Session.from_config(cfg)
        self.theme = theme or Theme.for_screen(QGuiApplication.primaryScreen(), elder=self.session.elder_mode)
        self.speaker = Speaker(voice, content)
        self.maintenance: Any = None  # the maintenance launcher (ui.maintenance.wiring), None when disabled
        self.setObjectName("Root")
        self.setWindowTitle("Township Kiosk")
        self.calls = EdgeCalls(edge, cfg.kiosk.id)
        self.setStyleSheet(self.theme.stylesheet())

        self.bars = Bars(self.theme, BarActions(
            home=self.go_home, back=lambda: self.current_screen().go_back(), language=self.switch_language,
            text_size=self.toggle_elder_mode, repeat=self.speaker.repeat, stop=self.speaker.stop,
            quieter=self._quieter, louder=self._louder, help=self._help))
        outer = QVBoxLayout(self)
        # The screen's size is the window's size (full screen): the layout must not push the
        # window past it from pessimistic minimum sizes; tests check that nothing is clipped.
        outer.setSizeConstraint(QLayout.SetNoConstraint)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.bars.top)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack, 1)
        outer.addWidget(self.bars.bottom)

        self.screens = ScreenSet(self, self.stack, self.restyle)  # home now, the others once it is painted
        self.nav = Navigator(self.stack, self.screens, session=self.session, bridge=bridge, content=content,
                             edge=edge, calls=self.calls, on_shown=self._screen_shown)
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
        self._after_home: list[Callable[[], None]] | None = [self.screens.build_rest]  # None: run
        self._painted = False
        content.changed.connect(self._content_landed)
        content.failed.connect(self._content_failed)
        self._content_settled = content.loaded or content.error is not None  # the first fetch is done
        if content.loaded:  # it landed before we listened: report it as if we had heard
            QTimer.singleShot(0, self._content_changed)

        self.restyle(self)
        self.go("home", speak=False)
        self._home_ready = self._content_settled  # home shows what the first fetch brought
        self.screens["home"].rebuilt.connect(self._home_rebuilt)

    def after_home(self, job: Callable[[], None]) -> None:
        """Run `job` once home is painted with the edge's content (now, if it is): start-up work the
        resident does not see (the other screens, maintenance, fleet commands, the watchdog) never
        holds up the home screen, nor the content fetch competing with it for the interpreter."""
        if self._after_home is None:
            job()
        else:
            self._after_home.append(job)

    @property
    def started(self) -> bool:
        """The start-up work after home (ui.shell.composition's housekeeping among it) has run."""
        return self._after_home is None

    def paintEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        super().paintEvent(event)  # the window is painted under any part of a screen that is
        if not self._painted:
            self._painted = True
            # an edge that does not answer must not hold up the rest (READY=1 for systemd among it)
            QTimer.singleShot(self.HOME_WAIT_MS, self._run_after_home)
        if self._home_ready and self._after_home is not None:
            QTimer.singleShot(0, self._run_after_home)  # queued: after this pass has painted home

    def _content_landed(self) -> None:
        self._content_settled = True  # home rebuilds with it next (HomeScreen), then is painted

    def _home_rebuilt(self) -> None:
        self._home_ready = self._content_settled

    def _content_failed(self) -> None:
        self._content_settled = self._home_ready = True  # home shows the warning: nothing more to wait for
        if self._painted and self._after_home is not None:
            QTimer.singleShot(0, self._run_after_home)

    def _run_after_home(self) -> None:
        jobs, self._after_home = self._after_home or [], None
        for job in jobs:
            job()

    # --- ScreenHost (ui.screens.host) ------------------------------------------------------------------
    @property
    def submitted(self) -> SignalInstance:
        return self.calls.submitted

    @property
    def looked_up(self) -> SignalInstance:
        return self.calls.looked_up

    def is_current(self, screen: QWidget) -> bool:
        return self.current_screen() is screen

    def go(self, name: str, speak: bool = True, **kwargs: Any) -> None:
        self.nav.go(name, speak, **kwargs)

    def go_home(self) -> None:
        self.nav.go_home()

    def show_flow_step(self) -> None:
        self.nav.show_flow_step()

    def flow_back(self) -> None:
        self.nav.flow_back()

    def finish_flow(self) -> None:
        self.nav.finish_flow()

    def start_service(self, service: Service) -> None:
        self.nav.start_service(service)

    def start_lookup(self) -> None:
        self.nav.start_lookup()

    def start_documents(self) -> None:
        self.nav.start_documents()

    def send_to_counter(self) -> None:
        self.nav.send_to_counter()

    def run_submit(self) -> None:
        self.calls.submit(self.session.flow)

    def run_lookup(self) -> None:
        self.calls.lookup(self.session.flow)

    def send_feedback(self, rating: int, reasons: list[str], service_id: str | None) -> None:
        self.calls.feedback(rating, reasons, service_id, self.session.lang)

    def receipt(self, flow: Flow, lang: str) -> Receipt:
        k = self.cfg.kiosk
        return receipt_job(flow, lang, hall=k.hall_name, contact=self.content.contact, tz=k.zone)

    def mark_shown(self, tracking_number: str) -> None:
        """The tracking number is on screen: the edge stops listing it for staff (off the GUI thread)."""
        self.calls.shown.mark(tracking_number)

    # --- bars ------------------------------------------------------------------------------------------
    def current_screen(self) -> Screen:
        return self.stack.currentWidget()

    def _screen_shown(self, name: str) -> None:
        self.bars.back_btn.setVisible(name != "home")
        self._retranslate_bars()

    def _retranslate_bars(self) -> None:
        self.bars.retranslate(self.session.lang, elder=self.session.elder_mode, title=self._title(),
                              volume=self.speaker.volume)

    def _title(self) -> str:
        screen = self.current_screen()
        if screen is None:
            return ""
        flow = self.session.flow
        if flow is not None and screen.name not in _NO_FLOW_TITLE:
            return flow.service.title.get(self.session.lang)
        return i18n.tr(_NO_FLOW_TITLE.get(screen.name, "services"), self.session.lang)

    # --- session, language, elder mode ------------------------------------------------------------------
    def tick(self) -> None:
        if self.calls.submit_in_flight:
            self.session.touch()  # no idle wipe while the answer with the tracking number is on its way
        if self.session.tick() is Phase.WARNING:
            self._show_countdown(int(round(self.session.seconds_left())))

    def _show_countdown(self, secs: int) -> None:
        lang = self.session.lang
        self.overlay.update_text(i18n.tr("idle_warning", lang, seconds=secs), secs, i18n.tr("need_more_time", lang))

    def _idle_warning(self, seconds: float) -> None:
        self._show_countdown(int(seconds))
        self.restyle(self.overlay)
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
        for screen in self.screens.built():  # one never built has shown nothing
            screen.leave()
            screen.wipe()
        self.go("home", speak=False)
        self.restyle(self)
        if reason == "idle":
            self.speaker.prompt("session_ended", self.session.lang)
        elif reason == "counter":  # in the resident's language, not the kiosk's default
            lang = self.nav.take_counter_lang() or self.session.lang
            self._tell(self.screens["home"], "submit_counter_done", lang)

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
        self.bars.show_volume(self.session.lang, self.speaker.volume)

    def _quieter(self) -> None:
        self.speaker.quieter()
        self.bars.show_volume(self.session.lang, self.speaker.volume)

    def _help(self) -> None:
        self._tell(self.current_screen(), "need_help_counter", self.session.lang)

    def _tell(self, screen: Screen, prompt_id: str, lang: str) -> None:
        """A prompt spoken and shown on the screen's banner (in `lang`)."""
        screen.banner.show_message("warn", self.speaker.prompt(prompt_id, lang))
        self.restyle(screen.banner)

    # --- devices and content -----------------------------------------------------------------------
    def _device_status(self, _component: str, _status: Status) -> None:
        if self.current_screen().name == "home":
            self.screens["home"].show_status()  # the banner only: the tiles do not depend on devices
        self.calls.health.report({c: s.as_dict() for c, s in self.bridge.statuses().items()})

    def _content_changed(self) -> None:
        self.after_home(self.report_voice_coverage)  # for the fleet: it loads the voice tables
        if self.current_screen().name == "services":  # home follows the content by itself (HomeScreen)
            self.current_screen().retranslate()

    def report_voice_coverage(self) -> None:
        """How each language's prompts are heard now, to the edge with the health (and so to the fleet)."""
        from ui.adapters.voice_coverage import voice_coverage  # lazy: after home (devices.voice, numpy)

        counts = voice_coverage(self.content, synthetic_bo=self.speaker.synthetic_bo)
        self.calls.health.report_voice({lang: c.model_dump() for lang, c in counts.items()})

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.overlay.isVisible():
            self.overlay.setGeometry(self.rect())

    def shutdown(self) -> None:
        fleet = getattr(self, "fleet_commands", None)  # set by ui.shell.composition
        if fleet is not None:
            fleet.close()
        self._tick.stop()
        self._content_timer.stop()
        QApplication.instance().removeEventFilter(self._activity)
        self.session.end("shutdown")
        session_audit = getattr(self, "session_audit", None)  # set by ui.shell.composition
        if session_audit is not None:
            session_audit.close()  # the session's end is written before the process goes
        self.calls.close()
        if self.documents is not None:
            self.documents.close()
        self.bridge.close()
