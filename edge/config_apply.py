"""Apply a signed configuration push: validate, write atomically (keeping the previous file), restart the
edge, check health, and roll back to the previous file if health fails — Mender's rule: only a successful
check after the restart commits, and a crash loop on the new config rolls back too.

States in `config-pending.json` (data_dir), which carries the command id across the restart:
  applying    the new file is written; the edge restarts into it and checks health (boots counted)
  applied     health passed: the answer "done" goes out on cmd/result, then the record is removed
  rolled_back the previous file is back; the edge restarted into it, the answer "failed" says why
The pushed TOML is laid over the kiosk's current file (edge/config_toml.py); it may not change the kiosk's
identity ([kiosk] id, site, region: set at provisioning). Health: the edge API answers on its own address,
the broker connection comes back (when [mqtt] is on), and every device whose settings the push changed has
its port present. The UI reads its config at start: it sees the new config version in the edge's status.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import tomllib
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.config_toml import dumps, overlay
from kiosk import audit
from kiosk.config import Config, ConfigError, validate_model
from kiosk.durable import atomic_write

log = logging.getLogger("edge.config")

PENDING, APPLIED = "config-pending.json", "config-applied.json"
MAX_BOOTS = 3            # starts on a new config without passing health before it is rolled back
API_WAIT_S = 10.0
BROKER_WAIT_S = 20.0
IDENTITY = ("id", "site", "region")
Result = tuple[str, str, dict[str, Any]]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ConfigApplier:
    def __init__(self, config_path: Path | None, data_dir: Path, cfg: Config,
                 restart: Callable[[], None]) -> None:
        self.config_path, self.cfg, self.restart = config_path, cfg, restart
        self.pending_path, self.applied_path = data_dir / PENDING, data_dir / APPLIED
        self._restarted = threading.Event()

    # --- records -----------------------------------------------------------------------------------
    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return doc if isinstance(doc, dict) else None
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            log.error("config record unreadable", extra={"path": str(path)})
            return None

    def _write(self, path: Path, doc: dict[str, Any]) -> None:
        atomic_write(path, json.dumps(doc).encode(), mode=0o600)

    def version(self) -> int | None:
        v = (self._read(self.applied_path) or {}).get("version")
        return v if isinstance(v, int) else None

    # --- the command handler (agent worker thread) -------------------------------------------------
    def handle(self, args: dict[str, Any]) -> Result:
        cid, text, version = args.get("command_id"), args.get("toml"), args.get("config_version")
        if not isinstance(text, str) or not isinstance(version, int) or isinstance(version, bool):
            return "rejected", "a config command needs args toml (text) and config_version (integer)", {}
        if self.config_path is None or not self.config_path.exists():
            return "rejected", "this edge runs without a config file; nothing to apply to", {}
        if (current_v := self.version()) is not None and version <= current_v:
            return "rejected", f"config version {version} is not newer than the applied {current_v}", {}
        if self._read(self.pending_path) is not None:
            return "rejected", "another configuration change is still being checked", {}
        try:
            pushed = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            return "rejected", f"not valid TOML: {e}", {}
        for key in IDENTITY:
            if key in pushed.get("kiosk", {}) and pushed["kiosk"][key] != getattr(self.cfg.kiosk, key):
                return "rejected", f"a push may not change kiosk.{key} (set at provisioning)", {}
        old_bytes = self.config_path.read_bytes()
        merged = overlay(tomllib.loads(old_bytes.decode("utf-8")), pushed)
        try:
            validate_model(Config, merged, "pushed config")
            new_text = dumps(merged)
        except (ConfigError, ValueError) as e:
            lines = str(e).splitlines()
            return "rejected", "; ".join(x.strip() for x in lines[:4])[:400], {}
        new_bytes = new_text.encode()
        mode = self.config_path.stat().st_mode & 0o777
        prev = self.config_path.with_name(self.config_path.name + ".prev")
        atomic_write(prev, old_bytes, mode=mode)
        changed = sorted(k for k in ("card_reader", "printer", "camera", "voice")
                         if merged.get("devices", {}).get(k) != tomllib.loads(old_bytes.decode()).get(
                             "devices", {}).get(k))
        self._write(self.pending_path, {"command_id": cid, "version": version, "state": "applying", "boots": 0,
                                        "new_sha256": _sha(new_bytes), "changed_devices": changed})
        atomic_write(self.config_path, new_bytes, mode=mode)
        log.info("config written; restarting the edge", extra={"version": version, "command_id": cid})
        self.restart()
        if self._restarted.wait(60):  # the process is replaced long before this
            return "failed", "the edge did not restart", {}
        return "failed", "the edge did not restart", {}

    handle.wants_command_id = True  # type: ignore[attr-defined]  # commands.py passes the command id

    # --- after a restart (daemon) ------------------------------------------------------------------
    def boot(self) -> bool:
        """At start, before anything serves; True if the config was rolled back and the edge must restart."""
        p = self._read(self.pending_path)
        if p is None or p.get("state") != "applying":
            return False
        p["boots"] = int(p.get("boots", 0)) + 1
        assert self.config_path is not None
        if _sha(self.config_path.read_bytes()) != p.get("new_sha256"):
            p.update(state="rolled_back", reason="interrupted before the new config was written; nothing changed")
            self._write(self.pending_path, p)
            return False
        if p["boots"] > MAX_BOOTS:
            self._roll_back(p, f"the edge did not come up on the new config in {MAX_BOOTS} starts")
            return True
        self._write(self.pending_path, p)
        return False

    def _roll_back(self, p: dict[str, Any], reason: str) -> None:
        assert self.config_path is not None
        prev = self.config_path.with_name(self.config_path.name + ".prev")
        mode = self.config_path.stat().st_mode & 0o777
        atomic_write(self.config_path, prev.read_bytes(), mode=mode)
        p.update(state="rolled_back", reason=reason)
        self._write(self.pending_path, p)
        log.error("config rolled back", extra={"version": p.get("version"), "reason": reason})
        audit.event("config_rolled_back", version=p.get("version"), reason=reason)

    def fail_pending(self, reason: str) -> bool:
        """The edge could not start on a new config: roll it back now; True if it did."""
        p = self._read(self.pending_path)
        if p is None or p.get("state") != "applying":
            return False
        self._roll_back(p, reason)
        return True

    def health(self, api_url: str, connected: Callable[[], bool] | None) -> str | None:
        """None when healthy, else what failed (one line)."""
        deadline = time.monotonic() + API_WAIT_S
        while True:
            try:
                with urllib.request.urlopen(f"{api_url}/api/v1/status", timeout=3) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                return f"the edge API does not answer at {api_url}"
            time.sleep(0.2)
        if connected is not None:
            deadline = time.monotonic() + BROKER_WAIT_S
            while not connected():
                if time.monotonic() > deadline:
                    return f"no broker connection within {BROKER_WAIT_S:.0f} s"
                time.sleep(0.2)
        p = self._read(self.pending_path) or {}
        for name in p.get("changed_devices", []):
            section = getattr(self.cfg.devices, name)
            port = getattr(section, "port", None)
            if section.enabled and isinstance(port, str) and port.startswith("/") and not os.path.exists(port):
                return f"devices.{name}: port {port} does not exist"
        return None

    def after_start(self, api_url: str, connected: Callable[[], bool] | None,
                    post: Callable[[str, str, str, dict[str, Any]], None] | None) -> None:
        """Check a new config's health (then commit or roll back) and answer the pending command."""
        p = self._read(self.pending_path)
        if p is None:
            return
        if p.get("state") == "applying":
            problem = self.health(api_url, connected)
            if problem is not None:
                self._roll_back(p, f"health check failed: {problem}")
                self.restart()
                return
            p["state"] = "applied"
            self._write(self.applied_path, {"version": p.get("version")})
            self._write(self.pending_path, p)
            log.info("config applied", extra={"version": p.get("version")})
            audit.event("config_applied", version=p.get("version"))
        if post is None or not p.get("command_id"):
            self.pending_path.unlink(missing_ok=True)
            return
        if connected is not None:  # answer only once the broker can take it; else the next start does
            deadline = time.monotonic() + BROKER_WAIT_S
            while not connected():
                if time.monotonic() > deadline:
                    return
                time.sleep(0.2)
        data = {"outcome": p["state"], "config_version": p.get("version")}
        if p["state"] == "applied":
            post(p["command_id"], "done", f"applied config version {p.get('version')}", data)
        else:
            post(p["command_id"], "failed", f"rolled back to the previous config: {p.get('reason', '')}", data)
        self.pending_path.unlink(missing_ok=True)
