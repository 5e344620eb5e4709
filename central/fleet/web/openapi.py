"""The dashboard's JSON API as an OpenAPI 3.1 document, served at /api/v1/openapi.json.

Kept by hand beside api.py; tests/test_fleet_web_api.py fails when a route is added to the app without
being documented here.
"""

from __future__ import annotations

from typing import Any

from central.fleet import db
from central.fleet.web import charts, queries
from central.fleet.web.context import CSRF_HEADER, SESSION_COOKIE
from kiosk.openapi import JSON, error_response, json_response, ref

_OBJ = {"type": "object"}






def _path(name: str, description: str, pattern: str | None = None) -> dict:
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def _query(name: str, description: str, enum: tuple[str, ...] | None = None) -> dict:
    schema: dict[str, Any] = {"type": "string"}
    if enum:
        schema["enum"] = list(enum)
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_CSRF = {"name": CSRF_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
         "description": "the session's CSRF token (from POST /api/v1/login or GET /api/v1/session)"}
_AUTH_ERRS = {"401": error_response("no session (log in first)"), "403": error_response("CSRF token missing or wrong, or your "
                                                                     "role / counties do not allow it")}
_ALERT_ID = _path("alert_id", "the alert's number", r"^\d{1,12}$")
_KIOSK_ID = _path("kiosk_id", "the kiosk's id")
_PUBLIC: list[dict] = []  # security: none


def _get(summary: str, ok: dict, params: list[dict] | None = None, **extra: Any) -> dict:
    return {"get": {"summary": summary, "parameters": params or [],
                    "responses": {"200": ok, "401": error_response("no session (log in first)"), **extra}}}


def _post(summary: str, ok: dict, params: list[dict] | None = None, body: dict | None = None,
          ok_status: str = "200", **extra: Any) -> dict:
    op: dict[str, Any] = {"summary": summary, "parameters": [_CSRF, *(params or [])],
                          "responses": {ok_status: ok, **_AUTH_ERRS, **extra}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    return {"post": op}


def _schemas() -> dict[str, dict]:
    place = {"type": "object", "properties": {"zh": {"type": "string"}, "bo": {"type": "string"}}}
    kiosk = {"type": "object", "required": ["id", "state"], "properties": {
        "id": {"type": "string"}, "state": {"enum": list(queries.STATES)},
        "site_id": {"type": ["string", "null"]}, "county_id": {"type": ["string", "null"]},
        "prefecture_id": {"type": ["string", "null"]}, "site": place, "county": place, "prefecture": place,
        "address": {"type": "string"}, "last_seen_ts": {"type": ["number", "null"]},
        "versions": {"type": "object", "properties": {"software": {}, "content": {}, "config": {}}},
        "open_alerts": {"type": "integer"}}}
    alert = {"type": "object", "required": ["id", "kiosk_id", "severity", "status"], "properties": {
        "id": {"type": "integer"}, "kiosk_id": {"type": "string"}, "condition": {"type": "string"},
        "rule_id": {"type": "string"}, "severity": {"enum": list(db.SEVERITIES)},
        "status": {"enum": list(db.ALERT_STATUSES)}, "acked": {"type": "boolean"},
        "acked_by": {"type": ["string", "null"]}, "county_id": {"type": ["string", "null"]},
        "what": {"type": "object", "description": "zh, bo, en"}, "flapping": {"type": "boolean"},
        "transitions": {"type": "array", "description": "on GET /api/v1/alerts/{alert_id} only",
                        "items": {"type": "object", "properties": {
                            "at_ts": {"type": "number"}, "from_status": {"type": ["string", "null"]},
                            "to_status": {"type": "string"}, "acked": {"type": "boolean"},
                            "by": {"type": "string"}, "note": {"type": "string"}}}}}}
    share = {"type": "object", "properties": {"id": {"type": "string"}, "zh": {"type": "string"},
                                              "bo": {"type": "string"}, "kiosks": {"type": "integer"},
                                              "pct": {"type": ["number", "null"]}}}
    return {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
        "Session": {"type": "object", "properties": {
            "user": {"type": "string"}, "role": {"enum": list(db.ROLES)},
            "counties": {"type": "array", "items": {"type": "string"}}, "csrf": {"type": "string"},
            "expires_ts": {"type": "number"}}},
        "Kiosk": kiosk,
        "KioskDetail": {"allOf": [kiosk, {"type": "object", "properties": {
            "components": _OBJ, "outbox": _OBJ, "last_inspection": {"type": ["object", "null"]},
            "events": {"type": "array", "items": _OBJ}, "alerts": {"type": "array", "items": ref("Alert")},
            "commands": {"type": "array", "items": ref("Command")}, "has_screenshot": {"type": "boolean"}}}]},
        "Fleet": {"type": "object", "properties": {
            "counts": {"type": "object", "properties": {st: {"type": "integer"} for st in queries.STATES}},
            "total": {"type": "integer"}, "kiosks": {"type": "array", "items": ref("Kiosk")},
            "filters": _OBJ, "failing_channels": {"type": "array", "items": ref("Channel")}}},
        "Alert": alert,
        "Command": {"type": "object", "properties": {
            "id": {"type": "string"}, "kiosk_id": {"type": "string"}, "kind": {"type": "string"},
            "issued_by": {"type": ["string", "null"]}, "issued_ts": {"type": "number"},
            "result": {"enum": [None, "done", "rejected", "failed"]}, "message": {"type": ["string", "null"]},
            "answered_ts": {"type": ["number", "null"]}}},
        "Channel": {"type": "object", "properties": {
            "team_id": {"type": "string"}, "team": {"type": "string"}, "channel": {"type": "string"},
            "failures": {"type": "integer"}, "last_error": {"type": "string"}}},
        "Charts": {"type": "object", "properties": {
            "window": {"enum": list(charts.WINDOWS)},
            "availability": {"type": "object", "properties": {
                "sites": {"type": "array", "items": share}, "counties": {"type": "array", "items": share}}},
            "open_alerts": {"type": "array", "items": {"type": "object", "properties": {
                "start_ts": {"type": "number"}, "end_ts": {"type": "number"}, "total": {"type": "integer"},
                "by_severity": _OBJ}}}}},
    }


def document(server_url: str = "") -> dict:
    alert_filters = [_query("status", "open (default: active, or cleared and not acknowledged), all, or one "
                                      "status", ("open", "all", *db.ALERT_STATUSES)),
                     _query("severity", "one severity", db.SEVERITIES), _query("county", "a county id")]
    fleet_filters = [_query("prefecture", "a prefecture id"), _query("county", "a county id"),
                     _query("site", "a site (hall) id"), _query("state", "one state", queries.STATES)]
    alert_result = json_response({"type": "object", "properties": {"changed": {"type": "boolean"},
                                                           "alert": ref("Alert")}},
                         "done (changed false: it already was)")
    paths = {
        "/api/v1/login": {"post": {
            "summary": "log in; sets the session cookie (HttpOnly, SameSite=Strict) and returns the CSRF token",
            "security": _PUBLIC,
            "requestBody": {"required": True, "content": {JSON: {"schema": {
                "type": "object", "required": ["name", "password"],
                "properties": {"name": {"type": "string"}, "password": {"type": "string"}}}}}},
            "responses": {"200": json_response(ref("Session"), "logged in"), "401": error_response("wrong name or password"),
                          "415": error_response("not JSON"),
                          "429": error_response("too many failed logins from this client (Retry-After)")}}},
        "/api/v1/logout": _post("end this session", json_response(_OBJ, "logged out")),
        "/api/v1/session": _get("this session: user, role, counties, CSRF token", json_response(ref("Session"), "OK")),
        "/api/v1/fleet": _get("counts by state and the kiosks (the fleet page)", json_response(ref("Fleet"), "OK"),
                              fleet_filters, **{"400": error_response("a bad filter value")}),
        "/api/v1/places": _get("prefectures, counties and sites of the inventory", json_response(_OBJ, "OK")),
        "/api/v1/kiosks/{kiosk_id}": _get("one kiosk: devices, versions, outbox, events, alerts, commands",
                                          json_response(ref("KioskDetail"), "OK"), [_KIOSK_ID],
                                          **{"404": error_response("no such kiosk")}),
        "/api/v1/kiosks/{kiosk_id}/screenshot": _get(
            "the last screenshot the kiosk sent", {"description": "JPEG", "content": {"image/jpeg": {}}},
            [_KIOSK_ID], **{"404": error_response("none")}),
        "/api/v1/kiosks/{kiosk_id}/commands": _post(
            "send self_test or sync_content (maintainer of the kiosk's county, or admin)",
            json_response({"type": "object", "properties": {"id": {"type": "string"}}}, "sent; poll /api/v1/commands/{id}"),
            [_KIOSK_ID], {"type": "object", "required": ["kind"],
                          "properties": {"kind": {"enum": ["self_test", "sync_content"]}}}, ok_status="202",
            **{"400": error_response("unknown command"), "404": error_response("no such kiosk"),
               "503": error_response("no broker connection, or the command could not be sent")}),
        "/api/v1/commands/{command_id}": _get("a command and its result (null until the kiosk answers)",
                                              json_response(ref("Command"), "OK"),
                                              [_path("command_id", "the id POST .../commands returned")],
                                              **{"404": error_response("no such command")}),
        "/api/v1/alerts": _get("alerts, newest change first (open: worst first)",
                               json_response({"type": "object", "properties": {
                                   "alerts": {"type": "array", "items": ref("Alert")}}}, "OK"),
                               alert_filters, **{"400": error_response("a bad filter value")}),
        "/api/v1/alerts/{alert_id}": _get("one alert with its transition history", json_response(ref("Alert"), "OK"),
                                          [_ALERT_ID], **{"404": error_response("no such alert")}),
        "/api/v1/alerts/{alert_id}/ack": _post("acknowledge (maintainer of its county, or admin)", alert_result,
                                               [_ALERT_ID], **{"404": error_response("no such alert")}),
        "/api/v1/alerts/{alert_id}/resolve": _post("resolve: close it now (maintainer of its county, or admin)",
                                                   alert_result, [_ALERT_ID], **{"404": error_response("no such alert")}),
        "/api/v1/charts": _get("availability per site and county, open alerts over time",
                               json_response(ref("Charts"), "OK"),
                               [_query("window", "24h (default), 7d or 30d", tuple(charts.WINDOWS))],
                               **{"400": error_response("a bad window")}),
        "/api/v1/channels/failing": _get(f"team notification channels with >= {queries.FAILING_CHANNEL_AFTER} "
                                         "consecutive failures",
                                         json_response({"type": "object", "properties": {
                                             "channels": {"type": "array", "items": ref("Channel")}}}, "OK")),
        "/api/v1/openapi.json": _get("this document", json_response(_OBJ, "OpenAPI 3.1")),
        "/metrics": {"get": {"summary": "Prometheus text exposition (no login: counts only, no ids or names)",
                             "security": _PUBLIC, "responses": {"200": {
                                 "description": "text/plain; version=0.0.4", "content": {"text/plain": {}}}}}},
        "/healthz": {"get": {"summary": "liveness (no login)", "security": _PUBLIC,
                             "responses": {"200": json_response(_OBJ, "the process answers")}}},
    }
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Township Kiosk fleet monitor", "version": "1",
                 "description": "The dashboard's JSON API: every page of the dashboard as JSON. Log in with "
                                "POST /api/v1/login; send the CSRF token as " + CSRF_HEADER + " on POSTs. "
                                "Times are UTC epoch seconds."},
        "components": {"schemas": _schemas(), "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE}}},
        "security": [{"session": []}],
        "paths": paths,
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
