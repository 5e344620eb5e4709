"""`kiosk edge sync | rollback | versions`: content commands for maintenance teams and scripts."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

# Exit codes: 0 done; 1 the operation failed or was refused; 2 nothing to do (rollback only).


def register_content(esub: argparse._SubParsersAction) -> None:
    p = esub.add_parser("sync", help="fetch and activate the newest signed content pack")
    p.add_argument("--once", action="store_true", help="sync one time and exit (default: keep polling)")
    p.set_defaults(func=_cmd_sync)
    p = esub.add_parser("rollback", help="go back to the previous content version and block the current one")
    p.set_defaults(func=_cmd_rollback)
    p = esub.add_parser("versions", help="list the content versions kept on this edge")
    p.set_defaults(func=_cmd_versions)


def _store(args: argparse.Namespace):
    from edge.store import ContentStore
    try:
        return ContentStore.for_config(args.cfg.edge)
    except OSError as e:
        print(f"kiosk edge: cannot open the content store in {args.cfg.edge.data_dir}: {e.strerror or e}",
              file=sys.stderr)
        return None


def _cmd_sync(args: argparse.Namespace) -> int:
    from edge.sync import SyncClient
    edge = args.cfg.edge
    if not edge.origin_url:
        print("kiosk edge sync: edge.origin_url is not set in the config", file=sys.stderr)
        return 1
    store = _store(args)
    if store is None:
        return 1
    from kiosk import audit
    audit.configure(audit.path_for(args.cfg))  # versions applied and packs refused go to the audit trail
    client = SyncClient.from_config(edge, store)
    if args.once:
        result = client.sync_once()
        print(result.summary())
        return 0 if result.outcome in ("updated", "up_to_date") else 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    client.status.subscribe(lambda _c, st: print(f"content status: {st.code} ({st.en})", flush=True))
    try:
        client.run(stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


def _cmd_rollback(args: argparse.Namespace) -> int:
    from edge.store import StoreError
    store = _store(args)
    if store is None:
        return 1
    before = store.active_version()
    try:
        after = store.rollback()
    except StoreError as e:
        print(f"kiosk edge rollback: {e}", file=sys.stderr)
        return 2 if e.code in ("no_previous", "nothing_active") else 1
    from kiosk import audit
    audit.AuditLog(audit.path_for(args.cfg)).record("content_rolled_back", version=after, previous=before)
    print(f"rolled back from {before} to {after}; version {before} will not be synced again")
    return 0


def _cmd_versions(args: argparse.Namespace) -> int:
    store = _store(args)
    if store is None:
        return 1
    active = store.active_version()
    blocked = set(store.blocked_versions())
    versions = store.versions()
    if not versions:
        print("no content versions installed")
        return 0
    for v in reversed(versions):
        m = store.version_manifest(v)
        notes = [n for n, on in (("active", v == active), ("blocked", v in blocked)) if on]
        size = f"{len(m.files)} files, {m.total_size} bytes, pack {m.pack_id}, created {m.created}" if m else "?"
        print(f"{v:>6}  {size}" + (f"  [{', '.join(notes)}]" if notes else ""))
    return 0
