"""Recorded prompt clips: how a clip is named and found.

A clip is looked up by (key, lang). The key is the prompt id when the caller has one, else a
hash of the text (`text_key`), so a content pack can also carry a recording of a fixed
sentence that has no prompt id. On disk (`clip_dir_resolver`): <root>/<lang>/<key>.wav.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

ClipResolver = Callable[[str, str], Path | None]


def text_key(text: str) -> str:
    """A stable clip key for a text without a prompt id (no text in it: it may be personal)."""
    return "t-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def clip_key(text: str, prompt_id: str | None) -> str:
    return prompt_id or text_key(text)


def clip_dir_resolver(root: Path) -> ClipResolver:
    """A resolver over a folder of clips laid out as <root>/<lang>/<key>.wav."""
    root = Path(root)

    def resolve(key: str, lang: str) -> Path | None:
        # A key is a file name, never a path: "../x" must not reach outside the clip folder.
        if "/" in key or "\\" in key or key.startswith("."):
            return None
        path = root / lang / f"{key}.wav"
        return path if path.is_file() else None

    return resolve
