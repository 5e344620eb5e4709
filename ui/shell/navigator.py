"""Where the resident is: the flow's step -> its screen, Home, Back, the counter, the end of a visit.

The flow (kiosk.flows) knows the steps and the resident's data; this knows only which screen shows
which step, and the few rules for leaving one (never while a submit's answer is on its way).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QStackedWidget

from kiosk.content import Service, Step, Text
from kiosk.edge_client import EdgeClient
from kiosk.session import Session
from ui.adapters.content_cache import ContentCache
from ui.adapters.devices_bridge import DeviceBridge
from ui.screens.base import Screen
from ui.shell.edge_calls import EdgeCalls

log = logging.getLogger(__name__)

# The home screen's "check progress" tile runs this built-in service: card or receipt QR, then lookup.
LOOKUP_SERVICE = Service(
    id="progress-lookup", category="civil_affairs",
    title=Text("ལས་དོན་གྱི་འཕེལ་རིམ།", "查进度", "Check progress"),
    summary=Text("ཞུ་ཡིག་གི་གནས་སྟངས་འཚོལ།", "查询申请办理进度", "Look up an application's progress"),
    steps=(Step("identify", methods=("card", "qr")), Step("lookup", query="progress")),
)

# "Print my certificate": card or receipt QR, then the documents screen (ui.screens.documents).
DOCUMENTS_SERVICE = Service(
    id="print-documents", category="civil_affairs",
    title=Text("ར་སྤྲོད་ཡི་གེ་པར་འདེབས།", "证照打印", "Print my certificate"),
    summary=Text("ཁྱེད་ལ་སྤྲད་ཟིན་པའི་ཡིག་ཆ་ A4 ཤོག་བུར་པར་འདེབས།", "打印已签发的证明", "Print a document issued to you"),
    steps=(Step("identify", methods=("card", "qr"), prompt="documents_identify"), Step("lookup", query="documents")),
)

_FLOW_SCREENS = {"identify": "identify", "form": "form", "photo": "photo", "confirm": "confirm",
                 "submit": "submitting", "receipt": "result"}


class Navigator:
    def __init__(self, stack: QStackedWidget, screens: dict[str, Screen], *, session: Session,
                 bridge: DeviceBridge, content: ContentCache, edge: EdgeClient, calls: EdgeCalls,
                 on_shown: Callable[[str], None]) -> None:
        self.stack, self.screens = stack, screens
        self.session, self.bridge, self.content, self.edge, self.calls = session, bridge, content, edge, calls
        self._on_shown = on_shown  # the bars follow the screen
        self._counter_lang: str | None = None

    def current(self) -> Screen:
        return self.stack.currentWidget()

    def go(self, name: str, speak: bool = True, **kwargs: Any) -> None:
        current = self.current()
        screen = self.screens[name]
        if current is not None and current is not screen:
            current.leave()
        self.stack.setCurrentWidget(screen)
        self._on_shown(name)
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
        if self.calls.submit_in_flight:
            self.screens["submitting"].please_wait()
            return
        if flow is not None and flow.outcome_unknown:
            self.send_to_counter()
            return
        self._drop_flow()
        self.go("home")

    def send_to_counter(self) -> None:
        """End the session; the home screen tells the resident that staff at the counter will help."""
        if self.calls.submit_in_flight:
            self.screens["submitting"].please_wait()
            return
        self._counter_lang = self.session.lang
        self.session.end("counter")

    def take_counter_lang(self) -> str | None:
        """The language of the resident just sent to the counter (once), to tell them in theirs."""
        lang, self._counter_lang = self._counter_lang, None
        return lang

    def _drop_flow(self) -> str | None:
        """Wipe the flow (the session goes on) and forget the card on the reader; the flow's service id."""
        flow = self.session.flow
        service_id = flow.service.id if flow is not None else None
        self.session.drop_flow()
        self.bridge.forget_card()
        return service_id

    def start_service(self, service: Service) -> None:
        from kiosk.flows import Flow  # the flow engine loads with the first flow, not before home is shown

        self.session.begin_flow(Flow(service, edge=self.edge))
        self.bridge.forget_card()  # a card already on the reader fires again for this flow
        self.show_flow_step()

    def start_lookup(self) -> None:
        """The pack's progress-lookup service when it has one (its words), else the built-in one."""
        self.start_service(self.content.service(LOOKUP_SERVICE.id) or LOOKUP_SERVICE)

    def start_documents(self) -> None:
        self.start_service(DOCUMENTS_SERVICE)

    def show_flow_step(self) -> None:
        flow = self.session.flow
        if flow is None:
            self.go_home()
            return
        from kiosk.flows import State

        if flow.state is State.DONE:
            if flow.submitted:  # a service with no receipt step still shows its tracking number
                if self.current() is not self.screens["result"]:
                    self.go("result")
            elif flow.kind != "lookup":
                self.finish_flow()
            return
        kind = flow.kind.value
        if kind == "guide":  # read on the detail screen before starting: move on
            flow.next()
            self.show_flow_step()
        elif kind == "lookup":
            done = "documents" if flow.service.id == DOCUMENTS_SERVICE.id else "lookup"
            self.go(done if flow.identified else "identify")
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
