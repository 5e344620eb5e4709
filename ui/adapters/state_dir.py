"""Where the UI keeps its own files: beside the edge's data, cfg.edge.data_dir/../ui/ (systemd's
StateDirectory=kiosk/ui for kiosk-ui.service): the maintenance PIN lock, the copied voice clips."""

from __future__ import annotations

import shutil
from pathlib import Path

from kiosk.config import Config


def state_dir(cfg: Config) -> Path:
    return Path(cfg.edge.data_dir).parent / "ui"


def fresh_clip_dir(cfg: Config) -> Path:
    """The voice clips copied from the edge, emptied at each start: clips are named by their path in
    the pack, so a clip kept from another pack version could be stale."""
    clips = state_dir(cfg) / "clips"
    shutil.rmtree(clips, ignore_errors=True)
    return clips
