"""`clips import`: clips recorded elsewhere (a phone, a studio), matched by key, made fit the same way as takes.

Files are named <key>.wav: a prompt id, or service.<id>.title. Only WAV is read (the soundfile package that
would read FLAC and Ogg is not a dependency); other audio files are refused saying so. Each file is decided
on its own: a refused file writes nothing, an accepted one replaces its clip atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk.clipstudio.audio import ClipRefused, prepare, read_wav
from kiosk.clipstudio.store import store_clip
from kiosk.content_model import ClipOrigin, Pack

OTHER_AUDIO = (".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".amr", ".wma")


@dataclass(frozen=True)
class Outcome:
    file: str
    key: str
    imported: bool
    reason: str = ""      # why it was refused
    duration_s: float = 0.0
    source_s: float = 0.0
    lufs: float = 0.0

    def line(self) -> str:
        if self.imported:
            return (f"  imported  {self.file} -> {self.key}: {self.duration_s:.2f} s "
                    f"(trimmed from {self.source_s:.2f} s), {self.lufs:.1f} LUFS")
        return f"  refused   {self.file}: {self.reason}"


def import_clips(src: Path, pack: Pack, lang: str, origin: ClipOrigin) -> list[Outcome]:
    """Import every audio file of `src` into the pack's sources (pack.root); one outcome per file."""
    texts = {st.key: st.text for st in pack.spoken_texts(lang)}
    outcomes = []
    for path in sorted(p for p in src.iterdir() if p.is_file() and not p.name.startswith(".")):
        outcomes.append(_import_one(path, pack, texts, lang, origin))
    return outcomes


def _import_one(path: Path, pack: Pack, texts: dict[str, str], lang: str, origin: ClipOrigin) -> Outcome:
    key, suffix = path.stem, path.suffix.lower()
    if suffix in OTHER_AUDIO:
        return Outcome(path.name, key, False, f"only WAV files are read; convert it first "
                                              f"(ffmpeg -i {path.name} {key}.wav)")
    if suffix != ".wav":
        return Outcome(path.name, key, False, "not an audio file (expected <key>.wav)")
    if key not in texts:
        return Outcome(path.name, key, False, f"no prompt or service title {key!r} with {lang} text in pack "
                                              f"{pack.pack_id!r}")
    try:
        take = prepare(read_wav(path))
    except ClipRefused as e:
        return Outcome(path.name, key, False, str(e))
    meta = store_clip(pack.root, lang, key, take, texts[key], origin)
    return Outcome(path.name, key, True, duration_s=meta.duration_s, source_s=take.source_s, lufs=meta.lufs)
