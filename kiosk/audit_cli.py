"""`kiosk audit verify | show`: check the audit log's hash chain and read it.

Exit codes of verify: 0 intact; 1 an entry was edited, removed or reordered, or the log ends before the
expected head; 2 no log there, or the file cannot be read as one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kiosk import audit
from kiosk.audit_chain import Head, check


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="the audit trail: verify its hash chain, show entries")
    asub = p.add_subparsers(dest="audit_command", metavar="AUDIT_COMMAND", required=True)
    v = asub.add_parser("verify", help="check that no entry was edited, removed or reordered")
    v.add_argument("--path", type=Path, help="the log file (default: from the config, [audit] path)")
    v.add_argument("--expect-head", metavar="SEQ:HASH", help="a head recorded earlier (say, by the fleet "
                   "monitor): the log must still hold that entry, unchanged")
    v.set_defaults(func=_verify)
    s = asub.add_parser("show", help="print entries, oldest first, one JSON object a line")
    s.add_argument("--path", type=Path, help="the log file (default: from the config, [audit] path)")
    s.add_argument("--last", type=int, metavar="N", help="only the newest N entries")
    s.set_defaults(func=_show)


def _path(args: argparse.Namespace) -> Path:
    return args.path or audit.path_for(args.cfg)


def _verify(args: argparse.Namespace) -> int:
    path = _path(args)
    try:
        expect = Head.parse(args.expect_head) if args.expect_head else None
    except ValueError as e:
        print(f"kiosk audit verify: --expect-head: {e}", file=sys.stderr)
        return 2
    if not path.exists():
        print(f"kiosk audit verify: no audit log at {path}", file=sys.stderr)
        return 1 if expect is not None else 2  # expected entries and no file: the whole log was removed
    try:
        count, head, problem = check(audit.raw_rows(path), expect)
    except audit.AuditError as e:
        print(f"kiosk audit verify: {e}", file=sys.stderr)
        return 2
    if problem is not None:
        print(f"{path}: BROKEN at entry {problem.seq}: {problem.reason} ({count} entries intact before it)",
              file=sys.stderr)
        return 1
    print(f"{path}: intact, {count} entries, head {head if head else '(empty)'}")
    return 0


def _show(args: argparse.Namespace) -> int:
    path = _path(args)
    if args.last is not None and args.last < 1:
        print("kiosk audit show: --last must be at least 1", file=sys.stderr)
        return 2
    try:
        rows = audit.raw_rows(path, last=args.last)
    except audit.AuditError as e:
        print(f"kiosk audit show: {e}", file=sys.stderr)
        return 2
    for seq, time, trusted, event, fields, _prev_hash, h in rows:
        try:
            data = json.loads(fields)
        except ValueError:
            data = {"unreadable_fields": fields[:200]}
        print(json.dumps({"seq": seq, "time": time, "time_trusted": bool(trusted), "event": event,
                          "fields": data, "hash": h}, ensure_ascii=False))
    return 0
