"""How each prompt will be heard, and the counts per language the maintenance screen and the
fleet state report: from a clip, synthetic, or silent.

`spoken_by` is the decision the Voice driver makes: a clip first; without one, Mandarin is
read by its TTS (synthetic) and Tibetan by the synthetic Tibetan voice when the kiosk's
`voice.synthetic_bo` switch is on, else it stays silent. Synthetic Tibetan without a spoken
form is read syllable by syllable: counted as `unsegmented` too, for `clips status`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

Heard = Literal["clip", "synthetic", "silent"]


def spoken_by(lang: str, has_clip: bool, *, synthetic_bo: bool) -> Heard:
    if has_clip:
        return "clip"
    if lang == "zh" or (lang == "bo" and synthetic_bo):
        return "synthetic"
    return "silent"


@dataclass(frozen=True)
class LangCoverage:
    clip: int = 0
    synthetic: int = 0
    silent: int = 0
    unsegmented: int = 0  # of the synthetic Tibetan ones: no spoken form, read syllable by syllable

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def coverage(items: Iterable[tuple[str, str, bool, bool]], *, synthetic_bo: bool) -> dict[str, LangCoverage]:
    """Counts per language from (key, lang, has_clip, has_spoken_form) rows; a repeated (key, lang) counts once."""
    seen: set[tuple[str, str]] = set()
    counts: dict[str, dict[str, int]] = {}
    for key, lang, has_clip, has_spoken in items:
        if (key, lang) in seen:
            continue
        seen.add((key, lang))
        row = counts.setdefault(lang, {"clip": 0, "synthetic": 0, "silent": 0, "unsegmented": 0})
        heard = spoken_by(lang, has_clip, synthetic_bo=synthetic_bo)
        row[heard] += 1
        if heard == "synthetic" and lang == "bo" and not has_spoken:
            row["unsegmented"] += 1
    return {lang: LangCoverage(**row) for lang, row in sorted(counts.items())}
