"""`kiosk ui [--windowed] [--edge URL]`: the resident-facing kiosk application."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from ui.shell.preload import import_before_qt

    import_before_qt()  # before PySide6: see ui.shell.preload
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from ui.shell.composition import create_window

    app = QApplication.instance() or QApplication(["kiosk"])
    # systemd stops us with SIGTERM: quit the event loop (queued, so a signal that arrives while the
    # window is still being built quits as soon as the loop runs) and let shutdown() wipe and close.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: QTimer.singleShot(0, app.quit))
    window = create_window(args.cfg, edge_url=args.edge)
    app.aboutToQuit.connect(window.shutdown)
    if args.config:  # a signed config push replaces the file: restart on it when no resident is here
        from ui.shell.config_watch import ConfigWatch

        window.config_watch = ConfigWatch(window, Path(args.config), app.exit)
    if args.windowed:
        window.resize(1920, 1080)
        window.show()
    else:
        window.setWindowFlag(Qt.FramelessWindowHint, True)
        window.showFullScreen()
    wake = QTimer()  # Python runs signal handlers only between bytecodes: wake it up now and then
    wake.timeout.connect(lambda: None)
    wake.start(250)
    return app.exec()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ui", help="run the kiosk application (touch screen)")
    p.add_argument("--windowed", action="store_true", help="a 1920x1080 window instead of full screen")
    p.add_argument("--edge", help="edge node URL (default: edge.url from the config)")
    p.set_defaults(func=_run)
