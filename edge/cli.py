"""`kiosk edge ...`: run the edge node and look after it (content commands come from edge/cli_content.py)."""

from __future__ import annotations

import argparse
import sys

from edge.cli_content import register_content


def _serve(args: argparse.Namespace) -> int:
    from edge.daemon import serve
    return serve(args.cfg)


def _outbox(args: argparse.Namespace) -> int:
    from edge.outbox import Outbox
    data_dir = args.cfg.edge.data_dir
    if not (data_dir / "outbox.sqlite3").exists():
        print(f"no outbox in {data_dir} (the edge has not run here yet)", file=sys.stderr)
        return 1
    outbox = Outbox.open(data_dir)
    try:
        if args.requeue:
            if not outbox.requeue(args.requeue):
                print(f"no dead letter with key {args.requeue}", file=sys.stderr)
                return 1
            print(f"requeued {args.requeue}")
            return 0
        s = outbox.stats()
        age = "-" if s["oldest_age_s"] is None else f"{s['oldest_age_s']:.0f} s"
        print(f"queued: {s['depth']}  oldest: {age}  dead letters: {s['dead_letters']}")
        for d in outbox.dead_letters():
            print(f"  dead  {d['tracking_number']}  {d['kind']:<11} key={d['idempotency_key']}  "
                  f"attempts={d['attempts']}  {d['last_error']}")
        return 0
    finally:
        outbox.close()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("edge", help="the edge node: local API, submission outbox, content store")
    esub = p.add_subparsers(dest="edge_command", metavar="EDGE_COMMAND", required=True)
    s = esub.add_parser("serve", help="run the edge daemon (API, forwarder, content sync)")
    s.set_defaults(func=_serve)
    o = esub.add_parser("outbox", help="show queued submissions and dead letters")
    o.add_argument("--requeue", metavar="KEY", help="send a dead letter again (after fixing its cause)")
    o.set_defaults(func=_outbox)
    register_content(esub)
