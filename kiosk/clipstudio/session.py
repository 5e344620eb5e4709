"""The recording window's logic, without widgets: go through texts, record a take, keep it or not, move on.

A take is checked, trimmed and normalised as soon as it ends; it is written into the pack only when the
recorder saves it (Save and next), so a take that was not listened to never replaces a good clip.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from kiosk.clipstudio.audio import ClipRefused, Prepared, prepare, wav_bytes
from kiosk.clipstudio.capture import Capture
from kiosk.clipstudio.status import Item
from kiosk.clipstudio.store import store_clip
from kiosk.content_model import ClipOrigin


class RecordSession:
    def __init__(self, pack_root: Path, lang: str, items: list[Item], capture: Capture,
                 origin: ClipOrigin = "recorded") -> None:
        self.pack_root, self.lang, self.items, self.capture, self.origin = pack_root, lang, items, capture, origin
        self.index = 0
        self.take: Prepared | None = None
        self.refusal: str | None = None  # why the last take cannot be used
        self.recording = False
        self.saved: list[str] = []
        self.skipped: list[str] = []
        self._scratch = Path(tempfile.mkdtemp(prefix="clip-studio-"))

    @property
    def current(self) -> Item | None:
        """The text to record now; None when every text has been saved or skipped."""
        return self.items[self.index] if self.index < len(self.items) else None

    @property
    def take_wav(self) -> Path:
        """The processed take as a WAV, for play-back before it is saved."""
        return self._scratch / "take.wav"

    def record(self) -> None:
        """Start a take (a re-take drops the one before it)."""
        item = self._require_item()
        self.take, self.refusal = None, None
        self.capture.start(item.key)
        self.recording = True

    def stop(self) -> Prepared | None:
        """End the take; the processed take, or None with `refusal` saying why it cannot be used."""
        self.recording = False
        try:
            self.take = prepare(self.capture.stop())
        except ClipRefused as e:
            self.refusal = str(e)
            return None
        self.take_wav.write_bytes(wav_bytes(self.take.audio))
        return self.take

    def save_and_next(self) -> None:
        item = self._require_item()
        if self.take is None:
            raise ValueError("no usable take to save")
        store_clip(self.pack_root, self.lang, item.key, self.take, item.words, self.origin)
        self.saved.append(item.key)
        self._advance()

    def skip(self) -> None:
        self.skipped.append(self._require_item().key)
        self._advance()

    def abort(self) -> None:
        """Drop a take still being recorded (the window is closing)."""
        if self.recording:
            self.recording = False
            self.capture.stop()

    def close(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)

    def _advance(self) -> None:
        self.index += 1
        self.take, self.refusal = None, None

    def _require_item(self) -> Item:
        if self.current is None:
            raise ValueError("every text is done")
        return self.current
