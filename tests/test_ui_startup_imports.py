"""Start-up: the home screen is painted before the camera, speech, receipt-rendering, flow-engine,
maintenance and other screens' code is loaded.

A fresh kiosk process (as systemd starts it) builds the window from a real config, shows it, and
runs the event loop until the home screen's tiles have been painted; it then reports which of the
heavy modules it has loaded. Loading them is the screen's job that needs them (photo, speaking,
printing), so a resident at the home screen never waits for them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures_ui import ui_stack  # noqa: F401 (pytest fixture)

REPO = Path(__file__).resolve().parent.parent
NOT_BEFORE_HOME = ("cv2", "pyttsx3", "numpy", "devices.camera.camera", "devices.printer.receipt",
                   "devices.printer.render", "devices.voice.voice", "kiosk.flows", "ui.maintenance.screen",
                   "ui.screens.form")

_CHILD = """
import json, sys, tempfile
from pathlib import Path
from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtWidgets import QApplication

from kiosk import config
from ui.shell.composition import create_window

app = QApplication(["kiosk-test"])
painted = set()

class Watch(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Paint and obj.objectName().startswith("tile_"):
            painted.add(obj.objectName())
        return False

watch = Watch()
app.installEventFilter(watch)
w = create_window(config.load(sys.argv[1]), clip_dir=Path(tempfile.mkdtemp()))
w.resize(1920, 1080)
w.show()
for _ in range(2000):
    if painted:
        break
    QCoreApplication.processEvents()
loaded = [m for m in sys.argv[2:] if m in sys.modules]
print("RESULT " + json.dumps({"tiles": sorted(painted), "screen": w.current_screen().name, "loaded": loaded}))
w.shutdown()
"""


def test_home_is_painted_before_camera_speech_and_receipt_code_load(ui_stack):  # noqa: F811
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run([sys.executable, "-c", _CHILD, str(ui_stack.config), *NOT_BEFORE_HOME], cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=60)
    line = next((x for x in r.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line is not None, f"no result (exit {r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-3000:]}"
    result = json.loads(line[7:])
    assert result["screen"] == "home"
    assert "tile_lookup" in result["tiles"], result  # the home screen really was painted
    assert result["loaded"] == [], f"loaded before the home screen was shown: {result['loaded']}"
