"""The demo's control panel: the hands of a person standing at the simulated kiosk.

It acts only through the simulators and the demo's processes (the same wire protocols and
files the real devices use), never by poking the kiosk window's internals.
"""

from __future__ import annotations

import shutil
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.lifecycle import stop_on_signals
from ui.demo.stack import DemoStack, status_line


class ControlPanel(QWidget):
    def __init__(self, stack: DemoStack) -> None:
        super().__init__()
        from devices.sim.card_reader import SAMPLE_CARDS
        from kiosk.idnumber import mask

        self.stack = stack
        self.cards = SAMPLE_CARDS
        self.setWindowTitle("Township Kiosk demo — control panel")
        lay = QVBoxLayout(self)

        card_box = QGroupBox("ID card reader (simulator)")
        cl = QHBoxLayout(card_box)
        self.card_pick = QComboBox()
        for i, c in enumerate(SAMPLE_CARDS):
            self.card_pick.addItem(f"{i}: {c.kind} {mask(c.id_number)}")
        cl.addWidget(self.card_pick)
        cl.addWidget(self._button("Insert card", self._insert))
        cl.addWidget(self._button("Remove card", stack.reader_sim.remove))
        lay.addWidget(card_box)

        prn_box = QGroupBox("Receipt printer (simulator)")
        pl = QHBoxLayout(prn_box)
        for label, paper in (("Paper OK", "ok"), ("Paper near end", "near_end"), ("Paper out", "out")):
            pl.addWidget(self._button(label, lambda p=paper: setattr(stack.printer_sim, "paper", p)))
        pl.addWidget(self._button("Cover open/closed", self._toggle_cover))
        lay.addWidget(prn_box)

        cam_box = QGroupBox("Camera (reads an image file)")
        ml = QHBoxLayout(cam_box)
        ml.addWidget(self._button("Nothing in view", self._show_blank))
        ml.addWidget(self._button("A face", self._show_face))
        ml.addWidget(self._button("Hold up the last receipt", self._show_last_receipt))
        lay.addWidget(cam_box)

        wan_box = QGroupBox("Service platform (WAN)")
        wl = QHBoxLayout(wan_box)
        wl.addWidget(self._button("Cut the WAN", stack.stop_platform))
        wl.addWidget(self._button("Restore the WAN", self._restore_wan))
        lay.addWidget(wan_box)

        self.status = QLabel()
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._refresh)
        self.timer.start(2000)
        self._refresh()

    def _button(self, text: str, slot: Any) -> QPushButton:
        b = QPushButton(text)
        b.clicked.connect(lambda: slot())
        return b

    def _insert(self) -> None:
        self.stack.reader_sim.insert(self.cards[self.card_pick.currentIndex()])

    def _toggle_cover(self) -> None:
        self.stack.printer_sim.cover_open = not self.stack.printer_sim.cover_open

    def _show_blank(self) -> None:
        from devices.sim.camera_media import blank_image

        blank_image(self.stack.camera_image)

    def _show_face(self) -> None:
        from devices.sim.camera_media import face_image

        face_image(self.stack.camera_image)

    def _show_last_receipt(self) -> None:
        pages = sorted(self.stack.printed_dir.glob("*.png"))
        if pages:
            shutil.copyfile(pages[-1], self.stack.camera_image)

    def _restore_wan(self) -> None:
        if not self.stack.platform_running():
            self.stack.start_platform()

    def _refresh(self) -> None:
        sim = self.stack.printer_sim
        self.status.setText(status_line(self.stack) + f" | paper {sim.paper}, cover "
                            + ("open" if sim.cover_open else "closed"))


def run_window(stack: DemoStack, cfg: Any, *, windowed: bool, duration: float | None) -> int:
    from ui.shell.composition import create_window

    app = QApplication.instance() or QApplication(["kiosk-demo"])
    window = create_window(cfg)
    if windowed:
        window.resize(1280, 800)
        window.show()
    else:
        window.showFullScreen()
    panel = ControlPanel(stack)
    panel.show()
    app.aboutToQuit.connect(window.shutdown)
    if duration is not None:
        QTimer.singleShot(int(duration * 1000), app.quit)
    # Python runs signal handlers only between bytecodes: a timer gives it the chance while Qt's loop
    # runs, and the handler quits the loop (an exception could not leave it), so the stack is stopped.
    wake = QTimer(interval=200)
    wake.timeout.connect(lambda: None)
    wake.start()
    with stop_on_signals(app.quit):
        return app.exec()
