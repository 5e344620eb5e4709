"""Screen prompts: the words shown and the words spoken are the same, from the content pack.

A prompt id (e.g. "insert_card") resolves to the pack's text in the current language (falling back
to the UI catalog's entry of the same key), and is spoken through the voice driver: the recorded
clip first; without one Mandarin TTS for Chinese and, where the kiosk's `voice.synthetic_bo` is on,
the synthetic Tibetan voice for Tibetan, which reads the prompt's word-segmented spoken form
(`Prompt.spoken`) when the pack gives one. Tibetan is never read by the Chinese voice.
With no voice driver (disabled in the config) everything here is a silent no-op: the text is shown.
"""

from __future__ import annotations

import logging
from typing import Any

from kiosk import i18n
from kiosk.content_model import title_key

log = logging.getLogger(__name__)

VOLUME_STEP = 0.15


class Speaker:
    def __init__(self, voice: Any | None, content: Any) -> None:
        self.voice = voice
        self.content = content
        self.last_prompt: tuple[str, str] | None = None

    def _prompt(self, prompt_id: str) -> Any | None:
        return self.content.prompt(prompt_id) if self.content is not None else None

    def text(self, prompt_id: str, lang: str) -> str:
        """The words for a prompt: the pack's, else the catalog's entry with the same id."""
        prompt = self._prompt(prompt_id)
        if prompt is not None:
            return prompt.text.get(lang)
        return i18n.tr(prompt_id, lang) if i18n.has(prompt_id) else ""

    def spoken(self, prompt_id: str, lang: str) -> str | None:
        """The prompt's spoken form in `lang` (words separated by spaces), if the pack gives one."""
        prompt = self._prompt(prompt_id)
        return prompt.spoken.get(lang) if prompt is not None else None

    @property
    def synthetic_bo(self) -> bool:
        return bool(getattr(self.voice, "synthetic_bo", False))

    def prompt(self, prompt_id: str, lang: str, extra: str = "") -> str:
        """Speak a prompt on arrival (clip first). `extra` (the resident's own data: a summary, tracking
        numbers) is read after it by a synthetic voice only (a clip cannot say it): Mandarin TTS, or the
        synthetic Tibetan voice, which reads tracking numbers digit by digit in Tibetan words."""
        text = self.text(prompt_id, lang)
        self.last_prompt = (prompt_id, lang)
        if self.voice is None or not text:
            return text
        spoken = self.spoken(prompt_id, lang)
        if extra and lang == "zh":
            self.voice.speak(f"{text}。{extra}", lang, None, private=True)
        elif extra and lang == "bo" and self.synthetic_bo:
            self.voice.speak(f"{text} {extra}", lang, None, private=True, spoken=f"{spoken or text} {extra}")
        else:
            self.voice.speak(text, lang, prompt_id, spoken=spoken)
        return text

    def title(self, service: Any, lang: str) -> None:
        """A service's title, by its own clip (title_key) or its spoken form (Service.spoken_title)."""
        text = service.title.get(lang)
        if self.voice is not None and text:
            self.voice.speak(text, lang, title_key(service.id), spoken=service.spoken_title.get(lang))

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
