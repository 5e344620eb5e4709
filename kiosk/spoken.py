"""How a text the kiosk speaks will be heard: the one rule the voice driver applies, and that the clip
studio's status, the maintenance screen and the fleet state count by.

A clip first; without one, Mandarin is read by its TTS and Tibetan by the labelled synthetic voice
when the kiosk's `voice.synthetic_bo` switch is on, else it stays silent (never read in Chinese).
"""

from __future__ import annotations

from typing import Literal

Heard = Literal["clip", "synthetic", "silent"]
HEARD: tuple[Heard, ...] = ("clip", "synthetic", "silent")


def spoken_by(lang: str, has_clip: bool, *, synthetic_bo: bool) -> Heard:
    if has_clip:
        return "clip"
    if lang == "zh" or (lang == "bo" and synthetic_bo):
        return "synthetic"
    return "silent"
