"""Writing a clip into a pack's sources: clips/<lang>/<key>.wav and its sidecar clips/<lang>/<key>.json."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kiosk.clipstudio.audio import Prepared, wav_bytes
from kiosk.content_model import ClipMeta, ClipOrigin, text_hash
from kiosk.durable import atomic_write


def clip_paths(pack_root: Path, lang: str, key: str) -> tuple[Path, Path]:
    """(wav, sidecar) of a clip in the pack's sources."""
    folder = pack_root / "clips" / lang
    return folder / f"{key}.wav", folder / f"{key}.json"


def store_clip(pack_root: Path, lang: str, key: str, take: Prepared, text: str, origin: ClipOrigin) -> ClipMeta:
    """Write the take and its sidecar (the hash of `text`, the words it speaks), each file atomically."""
    wav, side = clip_paths(pack_root, lang, key)
    meta = ClipMeta(text_sha256=text_hash(text), origin=origin, lufs=round(take.lufs, 2),
                    duration_s=round(take.audio.duration_s, 3),
                    made_at=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"))
    # Order matters if we die between the two renames. Replacing a clip: audio first, so the old sidecar
    # can only make the new take look stale, never an old take look fresh. A new clip: sidecar first, since
    # a WAV without its sidecar is a pack error and a lone sidecar is ignored by the loader.
    writes = [(wav, wav_bytes(take.audio)), (side, meta.sidecar_bytes())]
    for path, data in writes if wav.exists() else reversed(writes):
        atomic_write(path, data)
    return meta
