"""How the kiosk's prompts and service titles are heard, per language: the maintenance screen's and the
fleet state's counts (kiosk.fleet_wire.VoiceCoverage).

Counted from the content the UI holds (a clip only counts when its file is here) and the voice's
`synthetic_bo` switch, with the rule the voice driver applies (kiosk.spoken.spoken_by).
A stand-in clip (sidecar origin "stand-in") is counted apart: it is a placeholder, never a native voice.
"""

from __future__ import annotations

from typing import Any

from kiosk.content_model import title_key
from kiosk.fleet_wire import VoiceCoverage
from kiosk.spoken import spoken_by

LANGS = ("bo", "zh")


def voice_coverage(content: Any, *, synthetic_bo: bool) -> dict[str, VoiceCoverage]:
    """Counts per language over every prompt and service title that has text in that language."""
    items = [(p.id, p.text, p.clip_meta) for p in content.prompts()]
    items += [(title_key(s.id), s.title, s.title_clip_meta) for s in content.services()]
    out = {}
    for lang in LANGS:
        row = {"clip": 0, "stand_in": 0, "synthetic": 0, "silent": 0}
        for key, text, meta in items:
            if not getattr(text, lang, ""):  # no fallback: a text missing in lang is not spoken in it
                continue
            heard = spoken_by(lang, content.clip_path(key, lang) is not None, synthetic_bo=synthetic_bo)
            if heard == "clip" and meta.get(lang) is not None and meta[lang].origin == "stand-in":
                row["stand_in"] += 1
            else:
                row[heard] += 1
        out[lang] = VoiceCoverage(**row)
    return out
