"""The retained content announcement (`kiosk/v1/fleet/content`): verified like a pack before it may
trigger a sync — a pinned admin key's signature, a version newer than the active content, and not expired
by trusted time. A refusal is logged and reported; the sync itself still verifies the manifest."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kiosk.fleet_signing import open_announcement
from kiosk.signing import EnvelopeError
from kiosk.trusted_time import TrustedClock

log = logging.getLogger("edge.agent")


class AnnouncementHandler:
    def __init__(self, pinned: dict[str, str], clock: TrustedClock, active_version: Callable[[], int | None],
                 trigger_sync: Callable[[], None], *, allow_unsigned: bool = False) -> None:
        self.pinned, self.clock = dict(pinned), clock
        self.active_version, self.trigger_sync = active_version, trigger_sync
        self.allow_unsigned = allow_unsigned
        self.last_refused: dict[str, Any] | None = None

    def __call__(self, raw: bytes) -> dict[str, Any] | None:
        try:
            env, body = open_announcement(raw, self.pinned, allow_unsigned=self.allow_unsigned)
            if self.clock.expired(env.expires):
                raise EnvelopeError("expired", f"the announcement expired at {env.expires}")
        except EnvelopeError as e:
            log.warning("content announcement refused", extra={"code": e.code, "reason": str(e)})
            self.last_refused = {"command": "content_announcement", "result": "rejected",
                                 "reason": f"{e.code}: {e}"[:200]}
            return self.last_refused
        if env.signed:
            self.clock.observe_signed_time(body.issued_at)
        active = self.active_version()
        if active is not None and body.version <= active:
            return None  # the retained announcement of what we already run: nothing to do
        log.info("content announcement accepted; syncing", extra={"version": body.version})
        self.last_refused = None
        self.trigger_sync()
        return None
