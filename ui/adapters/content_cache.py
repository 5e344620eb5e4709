"""What the kiosk shows (services, prompts, guides, forms, clips), fetched from the edge off the GUI thread.

The edge serves the active content pack over loopback; the UI keeps a copy in memory so no screen
ever waits on the network, and a WAN outage (which the edge hides anyway) or a restarting edge
never freezes a tap. `refresh()` runs in a worker thread; `changed` is emitted when it lands.
Recorded clips are copied into a local directory so the voice resolver only ever reads a file.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from kiosk.content import CATEGORIES, BlankForm, Contact, Guide, Prompt, Service, title_key
from kiosk.edge_client import EdgeRejected

log = logging.getLogger(__name__)


class ContentCache(QObject):
    changed = Signal()
    failed = Signal()  # a refresh did not work (`error` says why); what we had is kept

    def __init__(self, edge: Any, clip_dir: Path) -> None:
        super().__init__()
        self.edge = edge
        self.clip_dir = Path(clip_dir)
        self._lock = threading.Lock()
        self._services: dict[str, Service] = {}
        self._prompts: dict[str, Prompt] = {}
        self._guides: dict[str, Guide] = {}
        self._forms: dict[str, BlankForm] = {}
        self._clips: dict[tuple[str, str], Path] = {}
        self.contact: Contact | None = None  # the pack's hotline, printed on receipts
        self.loaded = False
        self.error: str | None = None
        self._refreshing = threading.Lock()

    # --- fetching (worker thread) ---------------------------------------------------------------
    def refresh(self) -> bool:
        """Fetch everything from the edge; on failure keep what we had. True when it worked."""
        if not self._refreshing.acquire(blocking=False):
            return False
        try:
            return self._refresh()
        finally:
            self._refreshing.release()

    def _refresh(self) -> bool:
        try:
            summaries = self.edge.services()
            services = {}
            for s in summaries:
                sid = s["id"] if isinstance(s, dict) else s.id
                services[sid] = self.edge.service(sid)
            prompts = self.edge.prompts()
            guides, forms = {}, {}
            for svc in services.values():
                if svc.guide and svc.guide not in guides:
                    guides[svc.guide] = self.edge.guide(svc.guide)
                if svc.form and svc.form not in forms:
                    forms[svc.form] = self.edge.form(svc.form)
            clips = self._fetch_clips(prompts, services)
            contact = self.edge.contact()
        except Exception as e:  # EdgeUnavailable, or a malformed answer: keep the old copy
            self.error = type(e).__name__
            log.warning("content refresh failed", extra={"error": self.error})
            self.failed.emit()
            return False
        with self._lock:
            self._services, self._prompts, self._guides, self._forms = services, prompts, guides, forms
            self._clips = clips
            self.contact = contact
        self.loaded, self.error = True, None
        log.info("content loaded", extra={"services": len(services), "prompts": len(prompts),
                                          "clips": len(clips)})
        self.changed.emit()
        return True

    def _fetch_clips(self, prompts: dict[str, Prompt], services: dict[str, Service]) -> dict[tuple[str, str], Path]:
        """Prompts' clips under their id, service titles' under title_key(service id)."""
        self.clip_dir.mkdir(parents=True, exist_ok=True)
        out: dict[tuple[str, str], Path] = {}
        wanted = [(pid, p.clips) for pid, p in prompts.items()]
        wanted += [(title_key(sid), s.title_clips) for sid, s in services.items()]
        for pid, clips in wanted:
            for lang, rel in (clips or {}).items():
                local = self.clip_dir / (hashlib.sha256(rel.encode()).hexdigest()[:24] + Path(rel).suffix)
                if not local.exists():
                    try:
                        data = self.edge.file_bytes(rel)
                    except EdgeRejected:  # one missing clip must not keep the rest of the content away
                        log.warning("clip not on the edge", extra={"prompt": pid, "lang": lang})
                        continue
                    tmp = local.with_suffix(".part")
                    tmp.write_bytes(data)
                    tmp.replace(local)
                out[(pid, lang)] = local
        return out

    def refresh_async(self) -> None:
        threading.Thread(target=self.refresh, name="content-refresh", daemon=True).start()

    # --- reading (any thread) -------------------------------------------------------------------
    def services(self, category: str | None = None) -> list[Service]:
        with self._lock:
            items = list(self._services.values())
        return [s for s in items if category is None or s.category == category]

    def service(self, service_id: str) -> Service | None:
        with self._lock:
            return self._services.get(service_id)

    def categories(self) -> list[str]:
        """Categories that have services, in the pack's home-screen order."""
        present = {s.category for s in self.services()}
        return [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES))

    def prompt(self, prompt_id: str) -> Prompt | None:
        with self._lock:
            return self._prompts.get(prompt_id)

    def guide(self, guide_id: str) -> Guide | None:
        with self._lock:
            return self._guides.get(guide_id)

    def forms(self) -> list[BlankForm]:
        with self._lock:
            return list(self._forms.values())

    def prompts(self) -> list[Prompt]:
        with self._lock:
            return list(self._prompts.values())

    def clip_path(self, prompt_id: str, lang: str) -> Path | None:
        """The voice driver's clip resolver (a prompt id or a title_key): a local file only, never a network wait."""
        with self._lock:
            path = self._clips.get((prompt_id, lang))
        return path if path is not None and path.exists() else None
