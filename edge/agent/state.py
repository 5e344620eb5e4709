"""From the edge's `/api/v1/status` document to `fleet_wire.State`, and status events from two snapshots.

Components come from three places: what the kiosk's UI posted (`kiosks[<kiosk_id>].components`), the
edge's own WAN link (`wan`) and content sync (`content`, from the sync's status detail), and `edge` itself
(fault when the status provider fails: the monitor should hear that the agent is blind).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from edge.forwarder import WAN_DOWN_STATUS
from kiosk import fleet_wire
from kiosk.status import OK

log = logging.getLogger("edge.agent")

EDGE_OK = fleet_wire.ComponentStatus(level="ok", code="ok", zh=OK.zh, bo=OK.bo, en=OK.en)
EDGE_BLIND = fleet_wire.ComponentStatus(  # bo: to be reviewed by the translators
    level="fault", code="status_unavailable", zh="无法读取边缘节点状态",
    bo="མཐའ་མཚམས་ཀྱི་གནས་ཚུལ་ཀློག་མ་ཐུབ།", en="The edge status cannot be read")
WAN_UP = fleet_wire.ComponentStatus(level="ok", code="ok", zh="平台连接正常",
                                    bo="སྟེགས་བུ་དང་འབྲེལ་མཐུད་རྒྱུན་ལྡན།", en="Service platform reachable")
WAN_DOWN = fleet_wire.ComponentStatus(level="degraded", code=WAN_DOWN_STATUS.code, zh=WAN_DOWN_STATUS.zh,
                                      bo=WAN_DOWN_STATUS.bo, en=WAN_DOWN_STATUS.en)

# Fields that move on every sample; they go out with the interval, not as a "change".
_VOLATILE = {"at", "uptime_s", "disk_used_pct", "memory_used_pct", "clock_offset_s"}
_VOLATILE_OUTBOX = {"oldest_age_s", "dead_oldest_age_s"}


def _component(raw: Any) -> fleet_wire.ComponentStatus | None:
    if not isinstance(raw, dict):
        return None
    try:
        return fleet_wire.ComponentStatus.model_validate(raw)
    except ValidationError:
        return None


def components_of(status: dict[str, Any] | None, kiosk_id: str) -> dict[str, fleet_wire.ComponentStatus]:
    if status is None:
        return {"edge": EDGE_BLIND}
    out: dict[str, fleet_wire.ComponentStatus] = {"edge": EDGE_OK}
    wan = (status.get("wan") or {}).get("wan")
    if wan in ("up", "down"):
        out["wan"] = WAN_UP if wan == "up" else WAN_DOWN
    if (c := _component(status.get("storage"))) is not None:  # disk_low / storage_full of the data dir
        out["storage"] = c
    sync = ((status.get("content") or {}).get("sync") or {})
    if (c := _component(sync.get("status_detail"))) is not None:
        out["content"] = c
    if (c := _component((status.get("clock") or {}).get("status"))) is not None:  # kiosk.trusted_time
        out["clock"] = c
    kiosk = ((status.get("kiosks") or {}).get(kiosk_id) or {})
    for name, raw in (kiosk.get("components") or {}).items():
        if (c := _component(raw)) is not None:
            out[str(name)[:40]] = c
        else:
            log.warning("component status not understood", extra={"component": str(name)[:40]})
    return out


def snapshot(components: dict[str, fleet_wire.ComponentStatus]) -> dict[str, list[str]]:
    """What a change is measured on: level and code (a new message text alone is not a change)."""
    return {name: [c.level, c.code] for name, c in components.items()}


def status_events(before: dict[str, list[str]] | None,
                  components: dict[str, fleet_wire.ComponentStatus]) -> list[dict[str, Any]]:
    """Event fields for each component whose level or code changed. With no earlier snapshot (first run
    ever) and for a component seen for the first time, only a non-ok one is news."""
    out = []
    for name, c in sorted(components.items()):
        prev = (before or {}).get(name)
        if prev == [c.level, c.code] or (prev is None and c.level == "ok"):
            continue
        out.append({"component": name, "level": c.level, "code": c.code,
                    "message": fleet_wire.Message(zh=c.zh, bo=c.bo, en=c.en),
                    "details": {"previous": {"level": prev[0], "code": prev[1]} if prev else None}})
    return out


def voice_coverage(status: dict[str, Any], kiosk_id: str) -> dict[str, fleet_wire.VoiceCoverage]:
    """The kiosk UI's last reported voice coverage per language (`kiosks[<kiosk_id>].voice`); junk is skipped."""
    raw = ((status.get("kiosks") or {}).get(kiosk_id) or {}).get("voice")
    out = {}
    for lang, counts in (raw.items() if isinstance(raw, dict) else ()):
        try:
            out[str(lang)] = fleet_wire.VoiceCoverage.model_validate(counts)
        except ValidationError:
            log.warning("voice coverage not understood", extra={"lang": str(lang)[:8]})
    return out


def build_state(status: dict[str, Any] | None, kiosk_id: str, components: dict[str, fleet_wire.ComponentStatus],
                **measured: Any) -> fleet_wire.State:
    """The whole picture; `measured` carries the agent's own fields (at, interval_s, software_version,
    disk/memory/uptime, spool_depth, spool_evicted, commands_dropped)."""
    status = status or {}
    content = status.get("content") or {}
    version = content.get("active_version")
    refused = (content.get("sync") or {}).get("refused")
    try:
        outbox = fleet_wire.OutboxState.model_validate(status.get("outbox") or {})
    except ValidationError:
        outbox = fleet_wire.OutboxState()
    clock = status.get("clock") or {}
    if isinstance(clock.get("trusted"), bool):
        measured.setdefault("clock_trusted", clock["trusted"])
        measured.setdefault("clock_offset_s", clock.get("offset_s"))
    if isinstance(cv := (status.get("config") or {}).get("version"), int):
        measured.setdefault("config_version", cv)
    if isinstance(head := (status.get("audit") or {}).get("head"), str):  # "seq:hash", kiosk/audit.py
        measured.setdefault("audit_head", head)
    if voice := voice_coverage(status, kiosk_id):
        measured.setdefault("voice_coverage", voice)
        # what has no native clip (stand-ins included): the monitor's missing_clips rule counts these
        measured.setdefault("missing_clips", {lang: c.stand_in + c.synthetic + c.silent for lang, c in voice.items()})
    return fleet_wire.State(kiosk_id=kiosk_id, components=components, outbox=outbox,
                            content_version=version if isinstance(version, int) else None,
                            content_refused=refused if isinstance(refused, dict) else None, **measured)


def fingerprint(state: fleet_wire.State) -> dict[str, Any]:
    """The state without what changes on every sample: two equal fingerprints mean nothing to report."""
    doc = state.model_dump(mode="json", exclude=_VOLATILE)
    doc["outbox"] = {k: v for k, v in doc["outbox"].items() if k not in _VOLATILE_OUTBOX}
    return doc
