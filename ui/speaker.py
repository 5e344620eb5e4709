"""Screen prompts: the words shown and the words spoken are the same, from the content pack.

A prompt id (e.g. "insert_card") resolves to the pack's text in the current language (falling back
to the UI catalog's entry of the same key), and is spoken through the voice driver, which plays the
recorded clip first and uses Mandarin TTS only for Chinese (never Tibetan read by a Chinese voice).
With no voice driver (disabled in the config) everything here is a silent no-op: the text is shown.
"""

from __future__ import annotations

import logging
from typing import Any

from kiosk import i18n

log = logging.getLogger(__name__)

VOLUME_STEP = 0.15


class Speaker:
    def __init__(self, voice: Any | None, content: Any) -> None:
        self.voice = voice
        self.content = content
        self.last_prompt: tuple[str, str] | None = None

    def text(self, prompt_id: str, lang: str) -> str:
        """The words for a prompt: the pack's, else the catalog's entry with the same id."""
        prompt = self.content.prompt(prompt_id) if self.content is not None else None
        if prompt is not None:
            return prompt.text.get(lang)
        return i18n.tr(prompt_id, lang) if i18n.has(prompt_id) else ""

    def prompt(self, prompt_id: str, lang: str, extra: str = "") -> str:
        """Speak a prompt on arrival (clip first); `extra` (e.g. a summary) is appended for TTS only."""
        text = self.text(prompt_id, lang)
        self.last_prompt = (prompt_id, lang)
        if self.voice is not None and text:
            if extra and lang == "zh":
                # a clip cannot say the resident's own data; read prompt + data with TTS
                self.voice.speak(f"{text}。{extra}", lang, None, private=True)
            else:
                self.voice.speak(text, lang, prompt_id)
        return text

    def say(self, text: str, lang: str, private: bool = True) -> None:
        """Free text (a guide, a status): spoken only where TTS exists for the language."""
        if self.voice is not None and text:
            self.voice.speak(text, lang, None, private=private)

    def repeat(self) -> None:
        if self.voice is not None:
            self.voice.repeat()

    def stop(self) -> None:
        if self.voice is not None:
            self.voice.stop()

    @property
    def volume(self) -> float:
        return self.voice.volume if self.voice is not None else 0.0

    def louder(self) -> float:
        if self.voice is not None:
            self.voice.set_volume(min(1.0, self.voice.volume + VOLUME_STEP))
        return self.volume

    def quieter(self) -> float:
        if self.voice is not None:
            self.voice.set_volume(max(0.0, self.voice.volume - VOLUME_STEP))
        return self.volume

    def reset_volume(self) -> None:
        if self.voice is not None:
            self.voice.reset_volume()
