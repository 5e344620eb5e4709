"""Build the kiosk window from the config: devices from their ports, the edge client, the content cache.

A device that is disabled, or whose driver cannot even be constructed, is left out (None): the app
starts anyway, and the home screen and the maintenance team hear about the degraded service. Drivers
open their ports lazily and reconnect by themselves, so a device plugged in later comes to life.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Devices:
    reader: Any = None
    printer: Any = None
    camera: Any = None
    voice: Any = None
    a4_printer: Any = None


def _try(component: str, build: Any) -> Any:
    try:
        return build()
    except Exception as e:  # a broken device must not keep the kiosk from starting
        log.error("device unavailable", extra={"component": component, "error": f"{type(e).__name__}: {e}"})
        return None


def make_devices(cfg: Any, clip_resolver: Any) -> Devices:
    d = cfg.devices
    devices = Devices()
    if d.card_reader.enabled:
        from devices.idcard.reader import CardReader

        devices.reader = _try("card_reader", lambda: CardReader(d.card_reader.port, d.card_reader.baudrate,
                                                                 poll_interval=d.card_reader.poll_interval_s))
    if d.printer.enabled:
        from devices.printer.printer import ReceiptPrinter

        devices.printer = _try("printer", lambda: ReceiptPrinter(d.printer.port, d.printer.baudrate,
                                                                 width_dots=d.printer.width_dots,
                                                                 status_timeout=d.printer.status_timeout_s))
    if d.a4_printer is not None:  # absent: the hall has no A4 printer
        from devices.a4.printer import A4Printer

        devices.a4_printer = _try("a4_printer", lambda: A4Printer(d.a4_printer.queue, d.a4_printer.server))
    if d.camera.enabled:
        from ui.adapters.lazy_camera import LazyCamera  # OpenCV loads with the first frame, not before home

        devices.camera = _try("camera", lambda: LazyCamera(d.camera.source))
    if d.voice.enabled:
        from ui.adapters.lazy_voice import LazyVoice  # the driver (numpy, phoneme tables) loads after home

        def voice(status: Any) -> Any:
            from devices.voice.voice import Voice

            return Voice(cache_dir=d.voice.cache_dir, clip_resolver=clip_resolver, player=d.voice.player,
                         volume_default=d.voice.volume_default, tts_voice=d.voice.tts_voice, status=status,
                         synthetic_bo=d.voice.synthetic_bo)

        devices.voice = LazyVoice(voice, volume_default=d.voice.volume_default, synthetic_bo=d.voice.synthetic_bo)
    return devices


def create_window(cfg: Any, *, edge_url: str | None = None, clip_dir: Path | None = None,
                  session: Any = None, theme: Any = None) -> Any:
    """The window with everything wired; the caller shows it (and calls window.shutdown() at the end)."""
    from devices.idcard.watcher import CardWatcher
    from kiosk.edge_client import EdgeClient
    from ui.adapters.content_cache import ContentCache
    from ui.adapters.devices_bridge import DeviceBridge
    from ui.adapters.state_dir import fresh_clip_dir
    from ui.shell.window import KioskWindow

    edge = EdgeClient(edge_url or cfg.edge.url, token=cfg.edge.token)
    clips = clip_dir or fresh_clip_dir(cfg)
    content = ContentCache(edge, clips)
    content.refresh_async()  # first: the home tiles come from the edge, fetched while the window is built
    devices = make_devices(cfg, content.clip_path)
    bridge = DeviceBridge(reader=devices.reader, watcher_factory=CardWatcher, printer=devices.printer,
                          camera=devices.camera, voice=devices.voice, a4_printer=devices.a4_printer)
    documents = None
    if devices.a4_printer is not None:
        from ui.adapters.documents import DocumentsDesk

        documents = DocumentsDesk(edge, devices.a4_printer)
    window = KioskWindow(cfg, edge=edge, content=content, bridge=bridge, voice=devices.voice,
                         session=session, theme=theme, documents=documents)
    from kiosk.audit import AuditLog, path_for
    from kiosk.session_audit import SessionAudit

    window.session_audit = SessionAudit(window.session, AuditLog(path_for(cfg)))  # starts/ends, nothing personal
    bridge.start()
    window.after_home(lambda: _housekeeping(window, cfg, edge))
    if devices.voice is not None:  # on a thread: the driver's imports (numpy) run beside the GUI, not in a slot
        window.after_home(threading.Thread(target=devices.voice.load, name="voice-load", daemon=True).start)
    return window


def _housekeeping(window: Any, cfg: Any, edge: Any) -> None:
    """What the resident never sees, set up once home is painted with its tiles (~40 ms of imports, wiring)."""
    from ui.fleet.commands import FleetCommands
    from ui.maintenance import wiring
    from ui.shell.watchdog import UiWatchdog

    window.watchdog = UiWatchdog(window)  # READY=1 once shown, WATCHDOG=1 from the Qt event loop (systemd)
    window.maintenance = wiring.install(window, cfg)
    window.fleet_commands = FleetCommands(window, edge)  # the fleet's self_test / screenshot, via the edge
    window.fleet_commands.start()
