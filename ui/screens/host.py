"""What a screen may ask of the shell around it, and nothing more.

Screens never import the shell (ui.shell): they are handed a ScreenHost. The shell's window is the one
real host; a screen that needs something new adds it here first, so the surface stays small and typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtWidgets import QWidget

    from devices.printer.receipt import Receipt
    from kiosk.content import Service
    from kiosk.flows import Flow
    from kiosk.session import Session
    from ui.adapters.content_cache import ContentCache
    from ui.adapters.devices_bridge import DeviceBridge
    from ui.adapters.documents import DocumentsDesk
    from ui.adapters.speaker import Speaker
    from ui.theme import Theme


class ScreenHost(Protocol):
    session: Session      # the resident's session: language, elder mode, the flow in progress
    theme: Theme
    speaker: Speaker
    content: ContentCache
    bridge: DeviceBridge  # devices: card, camera, printers (their answers are Qt signals)
    documents: DocumentsDesk | None  # "print my certificate"; None when the hall has no A4 printer

    @property
    def submitted(self) -> SignalInstance:
        """A submit's kiosk.flows.SubmitOutcome, on the GUI thread."""

    @property
    def looked_up(self) -> SignalInstance:
        """A lookup's answer is in the flow, on the GUI thread."""

    # --- where the resident goes -----------------------------------------------------------------
    def is_current(self, screen: QWidget) -> bool: ...
    def go(self, name: str, **kwargs: object) -> None: ...
    def go_home(self) -> None: ...
    def show_flow_step(self) -> None: ...
    def flow_back(self) -> None: ...
    def finish_flow(self) -> None: ...
    def start_service(self, service: Service) -> None: ...
    def start_lookup(self) -> None: ...
    def start_documents(self) -> None: ...
    def send_to_counter(self) -> None: ...

    # --- the resident's calls to the edge, off the GUI thread -------------------------------------
    def run_submit(self) -> None: ...
    def run_lookup(self) -> None: ...
    def send_feedback(self, rating: int, reasons: list[str], service_id: str | None) -> None: ...
    def mark_shown(self, tracking_number: str) -> None: ...
    def receipt(self, flow: Flow, lang: str) -> Receipt:
        """The flow's receipt as a printer job: the hall's name, its time zone, the pack's hotline."""
