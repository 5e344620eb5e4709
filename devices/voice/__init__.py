"""Voice: recorded clips first, Mandarin TTS (espeak-ng) second, never the wrong language."""

from devices.voice.clips import clip_dir_resolver, text_key
from devices.voice.tts import TtsCache, TtsError, render_tts
from devices.voice.voice import Utterance, Voice

__all__ = ["TtsCache", "TtsError", "Utterance", "Voice", "clip_dir_resolver", "render_tts", "text_key"]
