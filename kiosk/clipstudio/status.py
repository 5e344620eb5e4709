"""What a pack speaks from a clip, what is synthetic and what is silent, per language; what lacks a clip or is stale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.content_model import ClipState, Pack, Text, title_key
from kiosk.spoken import HEARD, Heard, spoken_by


@dataclass(frozen=True)
class Item:
    """One text the kiosk speaks (a prompt or a service title) in one language, and how it would be heard."""

    key: str
    text: Text        # every script, for the recorder (the English gloss too)
    words: str        # the text in the language at hand: what the clip must say
    spoken: str | None  # its spoken form with word boundaries, if the pack gives one
    state: ClipState
    voice: Heard


@dataclass(frozen=True)
class LangStatus:
    lang: str
    items: tuple[Item, ...]

    def with_state(self, state: ClipState) -> list[Item]:
        return [i for i in self.items if i.state == state]

    def counts(self) -> dict[Heard, int]:
        return {v: sum(i.voice == v for i in self.items) for v in HEARD}

    @property
    def complete(self) -> bool:
        return all(i.state == "clip" for i in self.items)

    def unsegmented(self) -> list[Item]:
        """Tibetan texts the synthetic voice would read syllable by syllable (no spoken form in the pack)."""
        return [i for i in self.items if self.lang == "bo" and i.voice == "synthetic" and not i.spoken]

    def to_dict(self) -> dict[str, Any]:
        return {"lang": self.lang, "counts": self.counts(),
                "missing": [i.key for i in self.with_state("missing")],
                "stale": [i.key for i in self.with_state("stale")],
                "synthetic_unsegmented": [i.key for i in self.unsegmented()],
                "items": [{"key": i.key, "state": i.state, "voice": i.voice, "segmented": bool(i.spoken)}
                          for i in self.items]}


def texts_of(pack: Pack, key: str) -> Text:
    """The text behind a clip key: a prompt's, or a service's title."""
    if key in pack.prompts:
        return pack.prompts[key].text
    for s in pack.services.values():
        if title_key(s.id) == key:
            return s.title
    raise KeyError(key)


def lang_status(pack: Pack, lang: str, *, synthetic_bo: bool = True) -> LangStatus:
    """Every spoken text of the pack in `lang`. A stale clip is still what the kiosk plays (its voice is "clip");
    without a clip, Chinese is spoken by Mandarin TTS and Tibetan by the synthetic voice when kiosks enable it."""
    items = []
    for st in pack.spoken_texts(lang):
        state = pack.clip_state(st.key, lang)
        voice = spoken_by(lang, state != "missing", synthetic_bo=synthetic_bo)
        items.append(Item(st.key, texts_of(pack, st.key), st.text, st.spoken, state, voice))
    return LangStatus(lang, tuple(items))


def render(pack: Pack, statuses: list[LangStatus]) -> str:
    """The human-readable report of `clips status`."""
    lines = []
    for ls in statuses:
        width = max((len(i.key) for i in ls.items), default=0)
        c = ls.counts()
        missing, stale = ls.with_state("missing"), ls.with_state("stale")
        lines.append(f"{pack.pack_id} [{ls.lang}]: {len(ls.items)} texts: {c['clip']} clip, "
                     f"{c['synthetic']} synthetic, {c['silent']} silent; "
                     f"{len(missing)} without a clip, {len(stale)} stale")
        for i in stale:
            lines.append(f"  stale    {i.key:<{width}}  (the text changed since it was recorded)")
        for i in missing:
            how = i.voice
            if ls.lang == "bo" and i.voice == "synthetic":
                how = "synthetic, segmented" if i.spoken else "synthetic, unsegmented (no spoken form)"
            lines.append(f"  missing  {i.key:<{width}}  [{how}]")
    return "\n".join(lines) + "\n"
