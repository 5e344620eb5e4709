"""What the maintenance screen needs from the rest of the kiosk, as plain callables.

The composition root builds one MaintenanceServices from the real drivers and the edge client.
Every callable may block (a card read takes up to 2 s) and may raise: the screen calls them off
the GUI thread and shows a failure instead of crashing. A self-test reports failure either by
returning a Status with a non-OK level (preferred: it carries the zh/bo/en words) or by raising.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kiosk.identity import CardRecord
from kiosk.status import Status
from ui.maintenance_camera import Detections, detect


@dataclass(frozen=True)
class OutboxInfo:
    depth: int
    oldest_age_s: float | None  # None when empty


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class MaintenanceServices:
    device_statuses: Callable[[], dict[str, Status]]  # component -> current status
    self_test_card: Callable[[], CardRecord | Status]  # the card read; a Status for no card / fault
    self_test_print: Callable[[], Status]  # prints a test receipt; the printer's status after
    camera_frame: Callable[[], np.ndarray | None]  # BGR (or grey) uint8 frame; None = no image
    speak_test: Callable[[str], Status]  # speaks a prompt in that language ("bo", "zh")
    content_version: Callable[[], str | None]
    outbox: Callable[[], OutboxInfo]
    wan_state: Callable[[], Status]
    missing_clips: Callable[[], list[str]]  # prompt keys with no recorded Tibetan clip
    camera_detect: Callable[[np.ndarray], Detections] = detect  # QR + faces on one frame
    close: Callable[[], None] = _nothing  # maintenance ended: release the camera, etc.
    speak_languages: Sequence[str] = ("bo", "zh")
