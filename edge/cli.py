"""`kiosk edge ...`: run the edge node and look after it (content commands come from edge/cli_content.py)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from edge.cli_content import register_content

if TYPE_CHECKING:
    from edge.outbox import Outbox


def _serve(args: argparse.Namespace) -> int:
    from pathlib import Path

    from edge.daemon import serve
    from kiosk.config import DEFAULT_PATH
    path = Path(args.config) if args.config else DEFAULT_PATH
    return serve(args.cfg, path if path.exists() else None)  # the path: where a config push writes


def _requeue(outbox: Outbox, key: str | None) -> int:
    """Requeue one dead letter by key, or all of them (key None)."""
    from edge.outbox import DeadLetterWiped
    if key is None:
        requeued, wiped = outbox.requeue_all()
        print(f"requeued {requeued} dead letter(s)")
        if wiped:
            print(f"{wiped} dead letter(s) kept: their personal data was wiped after the retention, "
                  "so those residents must apply again", file=sys.stderr)
        return 0
    try:
        found = outbox.requeue(key)
    except DeadLetterWiped as e:
        print(f"cannot requeue {key}: {e}", file=sys.stderr)
        return 1
    if not found:
        print(f"no dead letter with key {key}", file=sys.stderr)
        return 1
    print(f"requeued {key}")
    return 0


def _outbox(args: argparse.Namespace) -> int:
    from edge.outbox import Outbox
    data_dir = args.cfg.edge.data_dir
    if not (data_dir / "outbox.sqlite3").exists():
        print(f"no outbox in {data_dir} (the edge has not run here yet)", file=sys.stderr)
        return 1
    if getattr(args, "outbox_command", None) == "requeue" and not (args.all or args.key):
        print("say which dead letter to requeue (KEY) or --all", file=sys.stderr)
        return 2
    outbox = Outbox.open(data_dir)
    try:
        if getattr(args, "outbox_command", None) == "requeue":
            return _requeue(outbox, None if args.all else args.key)
        if args.requeue:
            return _requeue(outbox, args.requeue)
        s = outbox.stats()
        age = "-" if s["oldest_age_s"] is None else f"{s['oldest_age_s']:.0f} s"
        dead_age = "" if s["dead_oldest_age_s"] is None else f" (oldest {s['dead_oldest_age_s'] / 86400:.1f} days)"
        print(f"queued: {s['depth']}  oldest: {age}  dead letters: {s['dead_letters']}{dead_age}  "
              f"receipts not shown: {s['unconfirmed']}")
        for d in outbox.dead_letters():
            wiped = "  (personal data wiped)" if d["wiped"] else ""
            print(f"  dead  {d['tracking_number']}  {d['kind']:<11} key={d['idempotency_key']}  "
                  f"attempts={d['attempts']}  {d['last_error']}{wiped}")
        return 0
    finally:
        outbox.close()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("edge", help="the edge node: local API, submission outbox, content store")
    esub = p.add_subparsers(dest="edge_command", metavar="EDGE_COMMAND", required=True)
    s = esub.add_parser("serve", help="run the edge daemon (API, forwarder, content sync)")
    s.set_defaults(func=_serve)
    o = esub.add_parser("outbox", help="show queued submissions and dead letters")
    o.add_argument("--requeue", metavar="KEY", help="send a dead letter again (same as `outbox requeue KEY`)")
    o.set_defaults(func=_outbox)
    osub = o.add_subparsers(dest="outbox_command", metavar="OUTBOX_COMMAND")
    rq = osub.add_parser("requeue", help="send dead letters again (after fixing their cause)")
    which = rq.add_mutually_exclusive_group()
    which.add_argument("key", nargs="?", metavar="KEY", help="the dead letter's idempotency key")
    which.add_argument("--all", action="store_true", help="every dead letter whose data is still kept")
    rq.set_defaults(func=_outbox)
    register_content(esub)
