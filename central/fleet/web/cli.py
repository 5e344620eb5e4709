"""`kiosk fleet user add|list|passwd`: the dashboard's users (also `python -m central.fleet.web.cli`).

The password comes from stdin when it is not a terminal (one line: scripts, provisioning), else from
a prompt asked twice. It never goes on the command line, where `ps` and shell history would show it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from central.fleet.config import MonitorSection

DEFAULT_DB = MonitorSection().db


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="dashboard users: add, list, passwd")
    usub = p.add_subparsers(dest="user_command", metavar="USER_COMMAND", required=True)
    a = usub.add_parser("add", help="add a user (password from stdin or a prompt)")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=("viewer", "maintainer", "admin"))
    a.add_argument("--county", action="append", default=[], metavar="C",
                   help="a county id this maintainer may act on (repeat; none = every county)")
    a.set_defaults(func=_add)
    ls = usub.add_parser("list", help="list users, roles and counties")
    ls.set_defaults(func=_list)
    pw = usub.add_parser("passwd", help="set a user's password (ends their sessions)")
    pw.add_argument("name")
    pw.set_defaults(func=_passwd)
    for sp in (a, ls, pw):
        sp.add_argument("--db", default=DEFAULT_DB, help=f"the monitor's database URL (default {DEFAULT_DB})")


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _engine(url: str):  # noqa: ANN202 - sqlalchemy Engine, imported lazily for a fast --help
    from central.fleet import db
    return db.connect(url)


def _fail(message: str) -> int:
    print(f"kiosk fleet user: {message}", file=sys.stderr)
    return 1


def _run(fn):  # noqa: ANN001, ANN202 - wraps a handler: bad input and database errors are one line
    def run(args: argparse.Namespace) -> int:
        from sqlalchemy.exc import SQLAlchemyError

        from central.fleet.web.auth import UserError
        try:
            return fn(args)
        except (UserError, ValueError, OSError) as e:
            return _fail(str(e))
        except SQLAlchemyError as e:
            return _fail(f"database {args.db.split('@')[-1]}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
    return run


@_run
def _add(args: argparse.Namespace) -> int:
    from central.fleet.web.auth import UserError, add_user
    if args.county and args.role != "maintainer":
        raise UserError("--county is for maintainers (viewers see everything, admins act everywhere)")
    password = _read_password()
    add_user(_engine(args.db), args.name, password, args.role, args.county)
    print(f"user {args.name} added ({args.role}{': ' + ', '.join(args.county) if args.county else ''})")
    return 0


@_run
def _list(args: argparse.Namespace) -> int:
    from central.fleet.web.auth import list_users
    for u in list_users(_engine(args.db)):
        print(f"{u.name}\t{u.role}\t{','.join(u.counties) or '*'}")
    return 0


@_run
def _passwd(args: argparse.Namespace) -> int:
    from central.fleet.web.auth import set_password
    password = _read_password()
    set_password(_engine(args.db), args.name, password)
    print(f"password of {args.name} changed; their sessions ended")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk fleet")
    register(parser.add_subparsers(dest="fleet_command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
