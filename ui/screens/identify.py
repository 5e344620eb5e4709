"""Identify: put the ID card on the reader (animated), or show a receipt's QR code to the camera."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from kiosk.i18n import LANGS
from ui.adapters.camera_frames import show_frame
from ui.screens.base import Screen
from ui.theme import Theme
from ui.widgets.buttons import BigButton

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost


class CardAnimation(QWidget):
    """A card moving down onto a reader, over and over: shows what to do without words."""

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self.theme = theme
        self._phase = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._step)
        self.setMinimumHeight(theme.dp(260))
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _step(self) -> None:
        self._phase = (self._phase + 0.025) % 1.0
        self.update()

    def paintEvent(self, event: Any) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        w, h = self.width(), self.height()
        theme = self.theme
        reader = QRectF(w * .3, h * .62, w * .4, h * .3)
        p.setPen(QPen(QColor(theme.colour("border")), 6))
        p.setBrush(QColor(theme.colour("bar")))
        p.drawRoundedRect(reader, 16, 16)
        t = min(1.0, self._phase * 1.6)
        card = QRectF(w * .36, h * (.05 + .5 * t), w * .28, h * .32)
        p.setBrush(QColor("#DCE9F7"))
        p.setPen(QPen(QColor(theme.colour("primary")), 6))
        p.drawRoundedRect(card, 14, 14)
        p.drawEllipse(QRectF(card.x() + card.width() * .08, card.y() + card.height() * .2,
                             card.width() * .22, card.height() * .5))


class IdentifyScreen(Screen):
    name = "identify"
    prompt_id = "insert_card"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self.mode = "card"
        self.animation = CardAnimation(host.theme)
        self.preview = QLabel()
        self.preview.setObjectName("qr_preview")
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
        self.preview.hide()
        self.root.addWidget(self.animation, 1)
        self.root.addWidget(self.preview, 1)
        row = QHBoxLayout()
        self.qr_btn = BigButton("qr", "")
        self.qr_btn.setObjectName("use_qr")
        self.qr_btn.clicked.connect(lambda: self.set_mode("qr"))
        self.card_btn = BigButton("card", "")
        self.card_btn.setObjectName("use_card")
        self.card_btn.clicked.connect(lambda: self.set_mode("card"))
        row.addWidget(self.card_btn)
        row.addWidget(self.qr_btn)
        self.root.addLayout(row)
        self.bind(self.qr_btn, "use_qr_instead")
        self.bind(self.card_btn, "use_card_instead")
        host.bridge.card_read.connect(self._card_read)
        host.bridge.card_error.connect(self._card_error)
        host.bridge.qr_found.connect(self._qr_found)
        host.bridge.frame.connect(self._frame)

    @property
    def active(self) -> bool:
        flow = self.host.session.flow
        return self.host.is_current(self) and flow is not None and flow.kind in ("identify", "lookup")

    def current_prompt_id(self) -> str:
        flow = self.host.session.flow
        if self.mode == "qr":
            return "lookup_show_qr"
        if flow is not None and flow.offer_counter:
            return "card_error_counter"
        step_prompt = getattr(flow.step, "prompt", None) if flow is not None else None
        if step_prompt:  # e.g. "print my certificate" says what identifying is for
            return step_prompt
        return "lookup_choose" if flow is not None and flow.service.id == "progress-lookup" else "insert_card"

    def enter(self, **kwargs: Any) -> None:
        flow = self.host.session.flow
        methods = flow.methods if flow is not None else ["card"]
        self.mode = "card" if "card" in methods else "qr"
        self.qr_btn.setVisible("qr" in methods and self.host.bridge.camera is not None)
        self.card_btn.setVisible(False)
        super().enter(**kwargs)
        self.set_mode(self.mode, speak=False)
        if self.host.bridge.reader is None and self.mode == "card":
            self.banner.show_message("error", self.tr("card_reader_unavailable"))

    def leave(self) -> None:
        self.animation.stop()
        self.host.bridge.stop_camera()
        self.preview.clear()

    def set_mode(self, mode: str, speak: bool = True) -> None:
        self.mode = mode
        self.host.session.touch()
        qr = mode == "qr"
        self.preview.setVisible(qr)
        self.animation.setVisible(not qr)
        flow = self.host.session.flow
        methods = flow.methods if flow is not None else ["card"]
        self.card_btn.setVisible(qr and "card" in methods)
        self.qr_btn.setVisible(not qr and "qr" in methods and self.host.bridge.camera is not None)
        if qr:
            self.animation.stop()
            if not self.host.bridge.start_camera("qr"):
                self.banner.show_message("error", self.tr("camera_unavailable"))
        else:
            self.host.bridge.stop_camera()
            self.animation.start()
        self.retranslate()
        if speak:
            self.speak()

    # --- device events ---------------------------------------------------------------------------
    def _card_read(self, record: Any) -> None:
        if not self.active:
            return
        self.host.session.touch()
        flow = self.host.session.flow
        flow.card_read(record.to_form_fields("zh"), localized={lang: record.to_form_fields(lang) for lang in LANGS})
        self.host.show_flow_step()

    def _card_error(self, code: str) -> None:
        if not self.active:
            return
        self.host.session.touch()
        flow = self.host.session.flow
        if code == "read_failed":
            counter = flow.card_failed()
            key = "card_error_counter" if counter else "card_error_retry"
        else:
            key = "card_reader_unavailable"
        self.banner.show_message("error", self.host.speaker.text(key, self.lang))
        self.host.speaker.prompt(key, self.lang)

    def _qr_found(self, text: str) -> None:
        if not self.active or self.mode != "qr":
            return
        self.host.session.touch()
        if self.host.session.flow.qr_read(text):
            self.host.bridge.stop_camera()
            self.host.show_flow_step()
        else:
            self.banner.show_message("warn", self.tr("qr_not_receipt"))

    def _frame(self, image: QImage) -> None:
        if self.host.is_current(self) and self.mode == "qr":
            show_frame(self.preview, image)
