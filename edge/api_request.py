"""What every edge route shares: its error type, the caller's kiosk id and the JSON body.

Its own module so route groups kept in other modules (edge/kiosk_commands_api.py) use them without
importing edge/api.py, which imports them to mount their routes.
"""

from __future__ import annotations

from aiohttp import web

from kiosk import wire

KIOSK_ID = web.RequestKey("kiosk_id", str | None)  # the token's kiosk; None = loopback without a token


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                 **details: object) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers or {}


async def json_body(request: web.Request) -> dict:
    """The request's JSON object; wire.BadRequest (a 400 that says what is wrong) otherwise."""
    return wire.json_object(await request.read())
