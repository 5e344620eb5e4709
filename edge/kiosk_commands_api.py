"""The edge API routes of the kiosk-command relay (edge/kiosk_commands.py): the UI long-polls for the
fleet agent's requests and posts its answers. Same authentication as every route (edge/api.py): a
loopback caller without a token may take any request; a LAN kiosk only its own.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from edge.api_request import KIOSK_ID, ApiError, json_body
from edge.kiosk_commands import RESULTS, KioskCommandRelay, NotYours, UnknownRequest
from kiosk import wire

MAX_WAIT_S = 55.0  # below common proxy and client idle timeouts
MAX_MESSAGE = 500


def _wait(request: web.Request) -> float:
    raw = request.query.get("wait", "0")
    try:
        wait = float(raw)
    except ValueError:
        raise ApiError(400, "bad_wait", "wait must be a number of seconds (0-55)") from None
    if not 0 <= wait <= MAX_WAIT_S:  # also refuses nan and inf
        raise ApiError(400, "bad_wait", "wait must be a number of seconds (0-55)")
    return wait


def _outcome(body: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    result, message, data = body.get("result"), body.get("message", ""), body.get("data", {})
    if result not in RESULTS:
        raise ApiError(422, "invalid_result", f"result must be one of {', '.join(RESULTS)}")
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        raise ApiError(422, "invalid_result", f"message must be a string of at most {MAX_MESSAGE} characters")
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_result", "data must be a JSON object")
    return result, message, data


def add_routes(app: web.Application, relay: KioskCommandRelay) -> None:
    async def get_commands(request: web.Request) -> web.Response:
        wait = _wait(request)
        transport = request.transport

        def still_there() -> bool:
            return transport is not None and not transport.is_closing()

        doc = await relay.next_request(request[KIOSK_ID], wait, still_there)
        if doc is None:
            return web.Response(status=204)
        return web.json_response(doc, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def post_result(request: web.Request) -> web.Response:
        body = await json_body(request)
        outcome = _outcome(body)
        request_id = request.match_info["request_id"]
        try:
            relay.answer(request_id, request[KIOSK_ID], outcome)
        except UnknownRequest:
            raise ApiError(404, wire.ERR_NOT_FOUND, "no pending request with this id (answered already, or "
                           "it timed out)") from None
        except NotYours:
            raise ApiError(403, wire.ERR_FORBIDDEN, "this request is for another kiosk") from None
        return web.json_response({"ok": True})

    async def close_relay(_app: web.Application) -> None:
        relay.close()

    app.on_shutdown.append(close_relay)  # before the long polls are cut off: waiting agents hear at once
    app.router.add_get(wire.API_KIOSK_COMMANDS, get_commands)
    app.router.add_post(wire.API_KIOSK_COMMAND_RESULT, post_result)
