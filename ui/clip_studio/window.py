"""The recording window: one text at a time in big letters, record, play back, re-take, skip, save and next.

For a county staff member with a headset: the text to read in the language being recorded, the other
script beneath it and the English gloss for context; every take is checked at once and a refused take
says why in words the recorder can act on. Keys: R record/stop, P play back, S skip, N save and next.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QProcess, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.clipstudio.capture import CaptureError
from kiosk.clipstudio.session import RecordSession
from ui.theme import Theme

OTHER_LANG = {"bo": "zh", "zh": "bo"}


class ClipStudioWindow(QWidget):
    def __init__(self, session: RecordSession, player: list[str], theme: Theme | None = None) -> None:
        super().__init__()
        self.session, self.player = session, player
        self.theme = theme or Theme()
        self._proc: QProcess | None = None
        self.setObjectName("Root")
        self.setWindowTitle(f"Clip studio — {session.lang} — {session.capture.description}")
        self.setStyleSheet(f"QWidget#Root {{ background: {self.theme.colour('bg')}; }}")

        self.progress = self._label("body", "zh", muted=True)
        self.main_text = self._label("title", session.lang)
        self.other_text = self._label("body", OTHER_LANG[session.lang])
        self.gloss = self._label("body", "zh", muted=True)
        self.take_line = self._label("body", "zh")
        self.play_line = self._label("body", "zh", muted=True)

        self.record_btn = self._button("录音 Record", "R", self._on_record)
        self.retake_btn = self._button("重录 Re-take", None, self._on_retake)
        self.play_btn = self._button("回放 Play back", "P", self._on_play)
        self.skip_btn = self._button("跳过 Skip", "S", self._on_skip)
        self.next_btn = self._button("保存，下一条 Save and next", "N", self._on_next)

        buttons = QHBoxLayout()
        for b in (self.record_btn, self.retake_btn, self.play_btn, self.skip_btn, self.next_btn):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        margin = self.theme.dp(24)
        layout.setContentsMargins(margin, margin, margin, margin)
        layout.setSpacing(self.theme.dp(16))
        for w in (self.progress, self.main_text, self.other_text, self.gloss):
            layout.addWidget(w)
        layout.addStretch(1)
        layout.addWidget(self.take_line)
        layout.addWidget(self.play_line)
        layout.addLayout(buttons)
        self._show_item()

    # --- building ---------------------------------------------------------------------------------
    def _label(self, role: str, lang: str, *, muted: bool = False) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        font = self.theme.font(lang, role)
        if muted:
            font.setPixelSize(round(font.pixelSize() * 0.7))
        label.setFont(font)
        colour = self.theme.colour("muted_text" if muted else "text")
        label.setStyleSheet(f"color: {colour};")
        return label

    def _button(self, text: str, key: str | None, slot: Callable[[], None]) -> QPushButton:
        b = QPushButton(text)
        b.setMinimumHeight(self.theme.control_px())
        b.setFont(self.theme.font("zh", "button"))
        if key:
            b.setShortcut(QKeySequence(key))
            b.setToolTip(f"key {key}")
        b.clicked.connect(slot)
        return b

    # --- what is shown ------------------------------------------------------------------------------
    def _show_item(self) -> None:
        s = self.session
        item = s.current
        if item is None:
            self.progress.setText(f"{len(s.items)} / {len(s.items)}")
            self.main_text.setText(f"完成 Done: {len(s.saved)} saved, {len(s.skipped)} skipped. "
                                   f"Build the pack with `kiosk admin pack build`.")
            for w in (self.other_text, self.gloss, self.take_line, self.play_line):
                w.clear()
        else:
            state = {"missing": "no clip yet", "stale": "the text changed since its clip",
                     "clip": "has a clip (a new one replaces it)"}[item.state]
            self.progress.setText(f"{s.index + 1} / {len(s.items)}   {item.key}   ({state})")
            self.main_text.setText(item.words)
            self.other_text.setText(getattr(item.text, OTHER_LANG[s.lang]))
            self.gloss.setText(f"English: {item.text.en}" if item.text.en else "")
            self.gloss.setVisible(bool(item.text.en))
            self.take_line.setText("按“录音”，读上面的文字。 Press Record and read the text above.")
            self.play_line.clear()
        self._enable()

    def _enable(self) -> None:
        s = self.session
        live = s.current is not None
        has_take = s.take is not None or s.refusal is not None
        self.record_btn.setText("停止 Stop" if s.recording else "录音 Record")
        self.record_btn.setEnabled(live and (s.recording or not has_take))
        self.retake_btn.setEnabled(live and not s.recording and has_take)
        self.play_btn.setEnabled(live and not s.recording and s.take is not None)
        self.skip_btn.setEnabled(live and not s.recording)
        self.next_btn.setEnabled(live and not s.recording and s.take is not None)

    def _say(self, text: str, colour: str = "text") -> None:
        self.take_line.setText(text)
        self.take_line.setStyleSheet(f"color: {self.theme.colour(colour)};")

    # --- actions ------------------------------------------------------------------------------------
    def _on_record(self) -> None:
        if self.session.recording:
            self._stop()
        else:
            self._start()

    def _on_retake(self) -> None:
        self._start()

    def _start(self) -> None:
        self._stop_playback()
        try:
            self.session.record()
        except CaptureError as e:
            self._say(f"不能录音 Cannot record: {e}", "error")
        else:
            self._say("正在录音…读完后按“停止”。 Recording… press Stop when you have finished.")
            self.play_line.clear()
        self._enable()

    def _stop(self) -> None:
        try:
            take = self.session.stop()
        except CaptureError as e:
            self._say(f"不能录音 Cannot record: {e}", "error")
            take = None
        if take is not None:
            self._say(f"可以 Take OK: {take.audio.duration_s:.1f} s (trimmed from {take.source_s:.1f} s), "
                      f"{take.lufs:.1f} LUFS. Play it back, re-take, or save.", "ok")
        elif self.session.refusal:
            self._say(f"不能用 Cannot use this take: {self.session.refusal}. Re-take.", "error")
        self._enable()

    def _on_play(self) -> None:
        self._stop_playback()
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.finished.connect(lambda code, _status, p=proc: self._played(p, code))
        proc.errorOccurred.connect(lambda err, p=proc: self._play_error(p, err))
        self._proc = proc
        self.play_line.setText("正在回放… Playing back…")
        proc.start(self.player[0], [*self.player[1:], str(self.session.take_wav)])

    def _played(self, proc: QProcess, code: int) -> None:
        if proc is not self._proc:
            return  # an earlier play-back, stopped on purpose
        output = bytes(proc.readAll().data()).decode(errors="replace").strip().splitlines()
        self.play_line.setText("回放完 Played back." if code == 0 else
                               f"回放失败 Play-back failed: {output[-1] if output else f'exit {code}'}")
        self._proc = None

    def _play_error(self, proc: QProcess, error: QProcess.ProcessError) -> None:
        if proc is self._proc and error == QProcess.ProcessError.FailedToStart:
            self.play_line.setText(f"回放失败 Play-back failed: cannot start {self.player[0]!r}")
            self._proc = None

    def _stop_playback(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.state() != QProcess.ProcessState.NotRunning:
            proc.kill()
            proc.waitForFinished(1000)

    def _on_skip(self) -> None:
        self._stop_playback()
        self.session.skip()
        self._show_item()

    def _on_next(self) -> None:
        self._stop_playback()
        try:
            self.session.save_and_next()
        except OSError as e:
            self._say(f"保存失败 Could not save: {e}", "error")
            return
        self._show_item()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self._stop_playback()
        self.session.abort()
        super().closeEvent(event)
