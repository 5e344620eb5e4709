"""The dashboard's actions, shared by the HTML forms and the JSON API: who may do what is decided
here, on the server, whatever the page showed."""

from __future__ import annotations

import logging

from central.fleet import alerts
from central.fleet.web import queries
from central.fleet.web.auth import User
from central.fleet.web.context import Ctx

log = logging.getLogger("kiosk.fleet.web")
DASHBOARD_COMMANDS = ("self_test", "sync_content")  # fleet_wire.CMD_SELF_TEST, CMD_SYNC_CONTENT


class Refused(Exception):
    """An action that is not done: an HTTP status, a stable code and a one-line reason."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _may(user: User, county: str | None, what: str) -> None:
    if not user.can_act:
        raise Refused(403, "forbidden", f"a {user.role} cannot {what}; ask a maintainer")
    if not user.may_act_on(county):
        raise Refused(403, "forbidden", f"you may {what} only in {', '.join(user.counties)}; "
                                        f"this is in {county or 'no county'}")


async def alert_action(ctx: Ctx, user: User, alert_id: int, which: str) -> bool:
    """Acknowledge or resolve; True if it changed the alert (False: it already was)."""
    exists, county = await ctx.db(queries.alert_county, ctx.engine, alert_id)
    if not exists:
        raise Refused(404, "not_found", f"no alert {alert_id}")
    _may(user, county, "acknowledge or resolve alerts")
    fn = alerts.acknowledge if which == "ack" else alerts.resolve
    changed = await ctx.db(fn, ctx.engine, alert_id, user.name, ctx.clock())
    log.info("alert action", extra={"alert_id": alert_id, "action": which, "by": user.name, "changed": changed})
    return bool(changed)


async def kiosk_command(ctx: Ctx, user: User, kiosk_id: str, kind: str) -> str:
    """Send a dashboard command to a kiosk; the command id (its result arrives in db.command_results)."""
    if kind not in DASHBOARD_COMMANDS:
        raise Refused(400, "bad_command", f"command must be one of {', '.join(DASHBOARD_COMMANDS)}")
    exists, county = await ctx.db(queries.kiosk_county, ctx.engine, kiosk_id)
    if not exists:
        raise Refused(404, "not_found", f"no kiosk {kiosk_id}")
    _may(user, county, "send commands to kiosks")
    if ctx.send_command is None:
        raise Refused(503, "no_broker", "commands are not available in this process (no broker connection)")
    try:
        cmd_id = await ctx.db(ctx.send_command, kiosk_id, kind, {}, user.name)
    except ValueError as e:  # CommandError: the sender refused it, and says why in one line
        if type(e).__name__ == "SigningNotConfigured":
            raise Refused(503, "signing_not_configured", str(e)[:200]) from None
        raise Refused(400, "bad_command", str(e).splitlines()[0][:200] if str(e) else "command refused") from None
    except Exception as e:  # the broker is down or refused: say so, keep serving
        log.warning("command not sent", extra={"kiosk_id": kiosk_id, "kind": kind, "error": type(e).__name__})
        raise Refused(503, "not_sent", f"the command was not sent: {type(e).__name__}") from None
    log.info("command sent", extra={"kiosk_id": kiosk_id, "kind": kind, "by": user.name, "command_id": cmd_id})
    return cmd_id
