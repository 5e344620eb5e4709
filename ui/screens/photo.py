"""Photo: a live preview with plain words from the face-guidance hint codes; take it or skip it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy

from ui.adapters.camera_frames import show_frame
from ui.screens.base import Screen
from ui.widgets.buttons import BigButton
from ui.widgets.labels import IconLabel, Label

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost

# hint code (devices.camera.face) -> (catalog words, prompt spoken, icon)
HINTS = {
    "ok": ("face_ok", None, "check"),
    "no_face": ("face_no_face", None, "warning"),
    "move_closer": ("face_move_closer", "photo_move_closer", "plus"),
    "move_left": ("face_move_left", None, "back"),
    "move_right": ("face_move_right", None, "next"),
    "look_at_camera": ("face_look_at_camera", "photo_look_at_camera", "camera"),
}


class PhotoScreen(Screen):
    name = "photo"
    prompt_id = "take_photo"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self.preview = QLabel()
        self.preview.setObjectName("photo_preview")
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
        self.root.addWidget(self.preview, 1)
        hint_row = QHBoxLayout()
        self.hint_icon = IconLabel("camera", 56)
        self.hint_text = Label("", "title")
        self.hint_text.setObjectName("face_hint")
        hint_row.addWidget(self.hint_icon)
        hint_row.addWidget(self.hint_text, 1)
        self.root.addLayout(hint_row)
        row = QHBoxLayout()
        self.skip_btn = BigButton("cross", "")
        self.skip_btn.setObjectName("skip_photo")
        self.skip_btn.clicked.connect(self._skip)
        self.capture_btn = BigButton("camera", "", kind="primary")
        self.capture_btn.setObjectName("capture")
        self.capture_btn.clicked.connect(self._capture)
        row.addWidget(self.skip_btn)
        row.addWidget(self.capture_btn)
        self.root.addLayout(row)
        self.bind(self.skip_btn, "skip_photo")
        self.bind(self.capture_btn, "capture")
        self.hint = "no_face"
        self._spoken_hint: str | None = None
        self._capturing = False
        host.bridge.frame.connect(self._frame)
        host.bridge.face_hint.connect(self._face)
        host.bridge.photo.connect(self._photo)
        host.bridge.photo_failed.connect(self._photo_failed)

    def enter(self, **kwargs: Any) -> None:
        self.hint, self._spoken_hint, self._capturing = "no_face", None, False
        flow = self.host.session.flow
        self.skip_btn.setVisible(not flow.photo_required)
        super().enter(**kwargs)
        has_camera = self.host.bridge.start_camera("photo")
        self.capture_btn.setVisible(has_camera)
        self.hint_icon.setVisible(has_camera)
        self.hint_text.setVisible(has_camera)
        if not has_camera:  # say why, and let the resident go on without a photo (if allowed)
            self.banner.show_message("error", self.tr("camera_unavailable"))

    def leave(self) -> None:
        self.host.bridge.stop_camera()
        self.preview.clear()  # the resident's face leaves the screen with them

    def retranslate(self) -> None:
        super().retranslate()
        words, _, icon = HINTS.get(self.hint, HINTS["no_face"])
        self.hint_text.setText(self.tr(words))
        self.hint_icon.set_icon(icon)

    def _here(self) -> bool:
        return self.host.is_current(self)

    def _frame(self, image: QImage) -> None:
        if self._here():
            show_frame(self.preview, image)

    def _face(self, check: Any) -> None:
        if not self._here() or check.hint == self.hint:
            return
        self.hint = check.hint
        self.retranslate()
        prompt = HINTS.get(check.hint, HINTS["no_face"])[1]
        if prompt and prompt != self._spoken_hint:  # say each correction once, not every frame
            self._spoken_hint = prompt
            self.host.speaker.prompt(prompt, self.lang)

    def _capture(self) -> None:
        self.host.session.touch()
        if self._capturing:
            return
        self._capturing = True
        self.host.bridge.capture_photo()

    def _photo(self, jpeg: bytes) -> None:
        if not self._here() or not self._capturing:
            return
        self._capturing = False
        self.host.bridge.stop_camera()
        self.host.session.flow.photo_taken(jpeg)
        self.host.show_flow_step()

    def _photo_failed(self) -> None:
        if self._here():
            self._capturing = False
            self.banner.show_message("error", self.tr("camera_unavailable"))

    def _skip(self) -> None:
        self.host.session.touch()
        err = self.host.session.flow.skip_photo()
        if err is not None:
            self.banner.show_message("error", self.tr(err.message_key))
            return
        self.host.bridge.stop_camera()
        self.host.show_flow_step()

    def go_back(self) -> None:
        self.host.flow_back()
