"""The plain-Python modules the window needs before home is painted, imported before Qt is.

Once PySide6 is imported, shiboken's import hook inspects every module imported after it (for its
`__feature__` switches), which makes pydantic, urllib3 and our own models ~25 ms slower to load at
start-up. None of these modules uses Qt, so the `kiosk ui` entry imports them first. Only modules
home needs: the heavy ones (numpy, OpenCV, the flow engine) still load after home is painted.
"""

from __future__ import annotations

import importlib

BEFORE_QT = (
    "kiosk.config",
    "kiosk.edge_client",  # urllib3, the content models
    "kiosk.session",
    "kiosk.session_audit",
    "kiosk.audit",
    "devices.idcard.watcher",
    "devices.idcard.reader",  # pyserial
    "devices.a4.printer",
    "devices.printer.escpos",
    "encodings.idna",  # the first HTTP connection's host name
    "ui.adapters.state_dir",
    "ui.adapters.receipt",
    "ui.adapters.speaker",
    "ui.adapters.edge_paths",
    "ui.adapters.lazy_camera",
    "ui.adapters.lazy_voice",
)


def import_before_qt() -> None:
    """Load BEFORE_QT; call it before the first PySide6 import (a later call only costs a lookup)."""
    for name in BEFORE_QT:
        importlib.import_module(name)
