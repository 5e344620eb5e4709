"""`kiosk platform serve|set-status|list`: run the reference platform and act as its operator."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from kiosk import wire


def _call(url: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"{}")
        except ValueError:
            return e.code, {}


def _base(args: argparse.Namespace) -> str:
    return (args.url or args.cfg.edge.platform_url).rstrip("/")


def _serve(args: argparse.Namespace) -> int:
    from central.platform import serve
    serve(args.db, args.host, args.port, args.latency_ms / 1000)
    return 0


def _set_status(args: argparse.Namespace) -> int:
    path = wire.PLATFORM_SET_STATUS.format(tracking_number=args.tracking)
    try:
        code, doc = _call(_base(args) + path, "POST", {"status": args.status})
    except OSError as e:
        print(f"platform not reachable at {_base(args)}: {e}", file=sys.stderr)
        return 1
    if code != 200:
        print(f"refused: {doc.get('error', {}).get('message', f'HTTP {code}')}", file=sys.stderr)
        return 1
    print(f"{doc['tracking_number']}: {doc['status']}")
    return 0


def _list(args: argparse.Namespace) -> int:
    query = f"?limit={args.limit}" + (f"&status={args.status}" if args.status else "")
    try:
        code, doc = _call(_base(args) + wire.PLATFORM_APPLICATIONS + query)
    except OSError as e:
        print(f"platform not reachable at {_base(args)}: {e}", file=sys.stderr)
        return 1
    if code != 200:
        print(f"refused: {doc.get('error', {}).get('message', f'HTTP {code}')}", file=sys.stderr)
        return 1
    for a in doc["applications"]:  # the platform only ever hands out masked IDs
        print(f"{a['tracking_number']:<18} {a['status']:<10} {a['service_id']:<28} {a['applicant_id_masked']}"
              f"  {a['received_at']}")
    print(f"{len(doc['applications'])} shown of {doc['total']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("platform", help="the reference government-service platform (test halls, training)")
    psub = p.add_subparsers(dest="platform_command", metavar="PLATFORM_COMMAND", required=True)
    s = psub.add_parser("serve", help="run the platform API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8480)
    s.add_argument("--db", type=Path, default=Path("/var/lib/kiosk/platform/platform.sqlite3"))
    s.add_argument("--latency-ms", type=float, default=0.0, help="delay every intake (simulate a slow WAN)")
    s.set_defaults(func=_serve)
    st = psub.add_parser("set-status", help="operator: move an application to its next status")
    st.add_argument("tracking")
    st.add_argument("status", choices=[wire.STATUS_IN_REVIEW, wire.STATUS_APPROVED, wire.STATUS_REJECTED])
    st.add_argument("--url", help="platform base URL (default: edge.platform_url from the config)")
    st.set_defaults(func=_set_status)
    ls = psub.add_parser("list", help="operator: list applications (masked IDs only)")
    ls.add_argument("--url", help="platform base URL (default: edge.platform_url from the config)")
    ls.add_argument("--status", choices=[wire.STATUS_RECEIVED, wire.STATUS_IN_REVIEW, wire.STATUS_APPROVED,
                                         wire.STATUS_REJECTED])
    ls.add_argument("--limit", type=int, default=100)
    ls.set_defaults(func=_list)
