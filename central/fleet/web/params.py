"""Query-string and form parameters, checked: a bad value is a 400 with one line saying which."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from central.fleet import db
from central.fleet.web import charts, queries
from central.fleet.web.ops import Refused

MAX_ID = 64


def one_of(q: Mapping[str, str], name: str, allowed: Iterable[str], default: str | None = None) -> str | None:
    value = q.get(name) or default
    allowed = tuple(allowed)
    if value is not None and value not in allowed:
        raise Refused(400, "bad_parameter", f"{name} must be one of {', '.join(allowed)}")
    return value


def an_id(q: Mapping[str, str], name: str) -> str | None:
    value = q.get(name) or None
    if value is not None and (len(value) > MAX_ID or not value.isprintable()):
        raise Refused(400, "bad_parameter", f"{name} is not an id")
    return value


def fleet_filters(q: Mapping[str, str]) -> dict[str, str | None]:
    return {"prefecture": an_id(q, "prefecture"), "county": an_id(q, "county"), "site": an_id(q, "site"),
            "state": one_of(q, "state", queries.STATES)}


def alert_filters(q: Mapping[str, str]) -> dict[str, str | None]:
    status = one_of(q, "status", ("open", "all", *db.ALERT_STATUSES), "open")
    return {"status": None if status == "all" else status,
            "severity": one_of(q, "severity", db.SEVERITIES), "county": an_id(q, "county")}


def window(q: Mapping[str, str]) -> str:
    return one_of(q, "window", charts.WINDOWS, "24h") or "24h"


def local_path(value: str | None, default: str) -> str:
    """A redirect target only within this site (no //host, no scheme): an open redirect otherwise."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return default
    return value
