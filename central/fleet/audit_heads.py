"""The kiosks' audit-log heads, as the monitor remembers them: a log that went back is an alert.

Each kiosk's state carries its audit log's head, "seq:hash" (kiosk/audit.py). The monitor keeps, in the
kiosks row (`audit_heads`, JSON text), the highest head it has seen and the last few heads. A head whose seq
is lower than the highest, or a seq seen before with another hash, means entries were removed or rewritten
on the kiosk: `rollback` is set and the built-in critical rule `audit_rollback` holds. It stays set — the
kiosk cannot clear it by writing more entries — until someone who checked the kiosk accepts its current
log (`kiosk fleet audit-accept KIOSK_ID`, after `kiosk audit verify --expect-head <the remembered head>` on
the kiosk showed what happened).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kiosk.audit_chain import Head

KEEP = 8  # recent heads kept per kiosk: enough to see a rewrite below the newest head


def load(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _parse(text: Any) -> Head | None:
    try:
        return Head.parse(text) if isinstance(text, str) else None
    except ValueError:
        return None


def track(raw: str | None, head_text: str | None, now: float) -> str | None:
    """The column's new value after a state with `head_text` (raw unchanged when there is nothing to note)."""
    doc = load(raw)
    head = _parse(head_text)
    if head is None:
        if doc is None or head_text is not None:
            return raw  # no audit log reported (an older agent), or a head we cannot read: nothing to compare
        head_str = "0:none"  # a kiosk that had a log now reports none: the file is gone
    else:
        head_str = str(head)
    if doc is None:
        return json.dumps({"max": head_str, "recent": [[head_str, now]], "rollback": None}) if head else raw
    top = _parse(doc.get("max"))
    recent = [r for r in doc.get("recent") or [] if isinstance(r, list) and len(r) == 2]
    if recent and recent[-1][0] == head_str:
        return raw  # the same head again (the interval republish)
    why = None
    if head is None:
        why = "the audit log is gone"
    elif top is not None and head.seq < top.seq:
        why = f"the audit log went back from entry {top.seq} to {head.seq}"
    else:
        for text, _ts in recent + ([[str(top), 0]] if top else []):
            old = _parse(text)
            if old is not None and old.seq == head.seq and old.hash != head.hash:
                why = f"entry {head.seq} of the audit log was rewritten (another hash)"
                break
    if why is not None and doc.get("rollback") is None:
        doc["rollback"] = {"from": str(top) if top else None, "to": head_str, "at": now, "why": why}
    if why is None and head is not None and (top is None or head.seq > top.seq):
        doc["max"] = head_str
    doc["recent"] = (recent + [[head_str, now]])[-KEEP:]
    return json.dumps(doc)


def accept(engine: Any, kiosk_id: str) -> dict[str, Any] | None:
    """Forget a rollback: the kiosk's current head becomes the reference. The rollback that was cleared, or
    None when there was none."""
    from sqlalchemy import select, update

    from central.fleet import db
    k = db.kiosks.c
    with engine.begin() as conn:
        raw = conn.execute(select(k.audit_heads).where(k.id == kiosk_id)).scalar()
        doc = load(raw)
        if doc is None or doc.get("rollback") is None:
            return None
        cleared = doc["rollback"]
        recent = doc.get("recent") or []
        current = recent[-1] if recent else [doc.get("max"), 0]
        doc.update(rollback=None, max=current[0], recent=[current])  # the old chain's heads no longer count
        conn.execute(update(db.kiosks).where(k.id == kiosk_id).values(audit_heads=json.dumps(doc)))
    return cleared


# --- `kiosk fleet audit-accept` -----------------------------------------------------------------------
def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit-accept", help="accept a kiosk's audit log after an audit_rollback was looked into")
    p.add_argument("kiosk_id")
    p.add_argument("--fleet-config", required=True, help="the monitor's fleet.toml (for its database)")
    p.set_defaults(func=_accept)


def _accept(args: argparse.Namespace) -> int:
    from central.fleet import db
    from central.fleet.config import load
    engine = db.connect(load(args.fleet_config).monitor.db)
    cleared = accept(engine, args.kiosk_id)
    if cleared is None:
        print(f"kiosk fleet audit-accept: {args.kiosk_id} has no audit rollback to accept", file=sys.stderr)
        return 1
    print(f"{args.kiosk_id}: accepted its audit log at {cleared['to']} ({cleared['why']}); "
          "the audit_rollback alert clears at the next evaluation")
    return 0
