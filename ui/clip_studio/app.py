"""`kiosk admin clips record`'s window, run to its close (found by name from kiosk.clipstudio.cli)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from kiosk.clipstudio.session import RecordSession
from ui.clip_studio.window import ClipStudioWindow
from ui.theme import Theme


def run(session: RecordSession, player: list[str]) -> int:
    """Show the window until it is closed; print what was saved and skipped."""
    app = QApplication.instance() or QApplication([])
    window = ClipStudioWindow(session, player, Theme.for_screen(app.primaryScreen()))
    window.resize(1280, 800)
    window.show()
    app.exec()
    print(f"clips/{session.lang}: {len(session.saved)} saved, {len(session.skipped)} skipped, "
          f"{len(session.items) - session.index} not reached")
    for key in session.saved:
        print(f"  saved    {key}")
    return 0
