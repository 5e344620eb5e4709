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

from kiosk.fleet_wire import VoiceCoverage
from kiosk.identity import CardRecord
from kiosk.status import Status
from ui.maintenance.camera import Detections, detect


@dataclass(frozen=True)
class OutboxInfo:
    depth: int
    oldest_age_s: float | None  # None when empty
    dead_letters: int = 0  # refused by the platform for good: staff must act on them
    dead_oldest_age_s: float | None = None
    unconfirmed: int = 0  # applications whose receipt no resident saw


@dataclass(frozen=True)
class Unconfirmed:
    """An application whose receipt no resident saw (no personal data: staff use the number)."""

    tracking_number: str
    service_id: str
    created: str  # ISO 8601
    status: str
    title: dict[str, str] | None = None  # the service's name by language, when the pack has it


def _nothing() -> None:
    return None


def _no_list() -> list:
    return []


def _cannot_print(item: Unconfirmed, lang: str) -> Status:
    raise RuntimeError("no printer wired to this screen")


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
    unconfirmed: Callable[[], list[Unconfirmed]] = _no_list
    print_unconfirmed: Callable[[Unconfirmed, str], Status] = _cannot_print  # prints it, then marks it shown
    content_refused: Callable[[], dict | None] = _nothing  # {"version", "reason", "code", "at"} or None
    voice_coverage: Callable[[], dict[str, VoiceCoverage]] = dict  # lang -> how its prompts are heard
    camera_detect: Callable[[np.ndarray], Detections] = detect  # QR + faces on one frame
    close: Callable[[], None] = _nothing  # maintenance ended: release the camera, etc.
    speak_languages: Sequence[str] = ("bo", "zh")
