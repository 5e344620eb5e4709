"""Voice: recorded clips first, then Mandarin TTS (espeak-ng) or, where switched on, the labelled
synthetic Tibetan voice; never the wrong language."""

from devices.voice.clips import clip_dir_resolver, text_key
from devices.voice.coverage import LangCoverage, coverage, spoken_by
from devices.voice.tibetan import TibetanPhonemes, UnspeakableText, has_spoken_form, to_phonemes
from devices.voice.tts import TtsCache, TtsError, render_tts
from devices.voice.voice import Utterance, Voice

__all__ = ["LangCoverage", "TibetanPhonemes", "TtsCache", "TtsError", "UnspeakableText", "Utterance", "Voice",
           "clip_dir_resolver", "coverage", "has_spoken_form", "render_tts", "spoken_by", "text_key",
           "to_phonemes"]
