"""`kiosk platform serve|set-status|list|stats|add-payments`: run the reference platform and act as its operator."""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from kiosk import idnumber, wire

_MONTH_RE = re.compile(r"^([0-9]{4})-([0-9]{2})$")
_MAX_MONTHS = 300  # 25 years in one call


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


def _operator_call(args: argparse.Namespace, path: str, method: str = "GET", body: dict | None = None
                   ) -> dict | None:
    """The platform's answer to an operator command, or None once the failure is printed (the command then
    exits 1): not reachable, or refused with the platform's message and any problems it listed."""
    try:
        code, doc = _call(_base(args) + path, method, body)
    except OSError as e:
        print(f"platform not reachable at {_base(args)}: {e}", file=sys.stderr)
        return None
    except ValueError:  # e.g. --url points at some other web server
        print(f"{_base(args)} did not answer with JSON; is it the platform?", file=sys.stderr)
        return None
    if code != 200:
        err = doc.get("error", {})
        problems = err.get("details", {}).get("problems", [])
        print(f"refused: {err.get('message', f'HTTP {code}')}" + "".join(f"\n  {p}" for p in problems),
              file=sys.stderr)
        return None
    return doc


def _serve(args: argparse.Namespace) -> int:
    from central.platform import serve
    serve(args.db, args.host, args.port, args.latency_ms / 1000)
    return 0


def _set_status(args: argparse.Namespace) -> int:
    path = wire.PLATFORM_SET_STATUS.format(tracking_number=args.tracking)
    if (doc := _operator_call(args, path, "POST", {"status": args.status})) is None:
        return 1
    print(f"{doc['tracking_number']}: {doc['status']}")
    return 0


def _list(args: argparse.Namespace) -> int:
    query = f"?limit={args.limit}" + (f"&status={args.status}" if args.status else "")
    if (doc := _operator_call(args, wire.PLATFORM_APPLICATIONS + query)) is None:
        return 1
    for a in doc["applications"]:  # the platform only ever hands out masked IDs
        print(f"{a['tracking_number']:<18} {a['status']:<10} {a['service_id']:<28} {a['applicant_id_masked']}"
              f"  {a['received_at']}")
    print(f"{len(doc['applications'])} shown of {doc['total']}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from central.platform import PLATFORM_STATS
    if (doc := _operator_call(args, PLATFORM_STATS)) is None:
        return 1
    for scope, counts in doc.items():
        print(f"{scope:<12} intakes: {counts['intakes']}  replays: {counts['replays']}  "
              f"conflicts: {counts['conflicts']}")
    return 0


def _id_number(text: str) -> str:
    if not idnumber.is_valid(text):  # the number itself is not echoed back
        raise argparse.ArgumentTypeError("not a valid 18-character ID number")
    return text.strip().upper()


def _month(text: str) -> int:
    """YYYY-MM as a month count (year * 12 + month - 1), so ranges are plain integer ranges."""
    m = _MONTH_RE.match(text.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise ValueError(text)
    return int(m[1]) * 12 + int(m[2]) - 1


def _months(text: str) -> list[tuple[int, int]]:
    """"2026-01:2026-06" (inclusive) or one "2026-03" -> [(year, month), ...]."""
    first, _, last = text.partition(":")
    try:
        start, end = _month(first), _month(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError("months must be YYYY-MM or YYYY-MM:YYYY-MM") from None
    if not 0 <= end - start < _MAX_MONTHS:
        raise argparse.ArgumentTypeError(f"the range must run forwards and cover at most {_MAX_MONTHS} months")
    return [(n // 12, n % 12 + 1) for n in range(start, end + 1)]


def _amount(text: str) -> str:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise argparse.ArgumentTypeError("amount must be yuan, e.g. 150 or 150.50")
    return f"{amount:.2f}"


def _date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError("must be a date written YYYY-MM-DD") from None


def _add_payments(args: argparse.Namespace) -> int:
    paid = args.status != wire.PAYER_ARREARS
    records = [{"year": y, "month": m, "kind": args.kind, "amount": args.amount, "payer_status": args.status,
                "paid_at": (args.paid_at or f"{y:04d}-{m:02d}-10") if paid else None} for y, m in args.months]
    body = {"id_number": args.id_number, "payments": records}
    if (doc := _operator_call(args, wire.PLATFORM_PAYMENTS, "POST", body)) is None:
        return 1
    (y0, m0), (y1, m1) = args.months[0], args.months[-1]
    print(f"stored {doc['stored']} {args.kind} record(s) for {doc['id_masked']}: "
          f"{y0:04d}-{m0:02d}..{y1:04d}-{m1:02d}, {args.amount} yuan, {args.status}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("platform", help="the reference government-service platform (test halls, training)")
    psub = p.add_subparsers(dest="platform_command", metavar="PLATFORM_COMMAND", required=True)
    s = psub.add_parser("serve", help="run the platform API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8480)
    s.add_argument("--db", type=Path, default=Path("/var/lib/kiosk/platform/platform.sqlite3"))
    s.add_argument("--latency-ms", type=float, default=0.0, help="delay every intake and payment search (simulate a slow WAN)")
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
    sa = psub.add_parser("stats", help="operator: first-time intakes, replays (same key resent) and conflicts")
    sa.add_argument("--url", help="platform base URL (default: edge.platform_url from the config)")
    sa.set_defaults(func=_stats)
    ap = psub.add_parser("add-payments", help="operator: add social-insurance payment records (demos, tests)",
                         description="Adds one record per month in the range; a month already on record for "
                                     "this person and kind is replaced.")
    ap.add_argument("--id-number", required=True, type=_id_number, help="the resident's 18-character ID number")
    ap.add_argument("--months", required=True, type=_months, help="YYYY-MM or YYYY-MM:YYYY-MM (inclusive)")
    ap.add_argument("--kind", required=True, choices=wire.PAYMENT_KINDS)
    ap.add_argument("--amount", required=True, type=_amount, help="yuan per month, e.g. 150")
    ap.add_argument("--status", choices=wire.PAYER_STATUSES, default=wire.PAYER_PAID,
                    help="who paid: the resident (paid), the government on their behalf, or nobody (arrears)")
    ap.add_argument("--paid-at", type=_date, help="YYYY-MM-DD for every month (default: the 10th of each month)")
    ap.add_argument("--url", help="platform base URL (default: edge.platform_url from the config)")
    ap.set_defaults(func=_add_payments)
