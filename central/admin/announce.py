"""`kiosk admin content announce --version V`: tell every edge that a new content version is at the origin.

The announcement is the retained `kiosk/v1/fleet/content` message, signed like the pack itself (an Ed25519
envelope, kiosk/fleet_signing.py): an edge syncs on it only after checking the signature against its pinned
admin keys, the version, and the expiry by trusted time. Edges that are offline find it retained when they
come back. Publish the pack first (`kiosk admin pack publish`): the announcement only says where to look.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from central.admin.config_push import add_broker_arguments, connect
from central.admin.keys import AdminError, load_private
from kiosk import fleet_wire
from kiosk.fleet_signing import sign_announcement


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("content", help="signed content announcements to the fleet")
    csub = c.add_subparsers(dest="content_command", metavar="CONTENT_COMMAND", required=True)
    p = csub.add_parser("announce", help="sign and publish (retained) that content VERSION is at the origin")
    p.add_argument("--version", type=int, required=True, help="the published pack's version")
    p.add_argument("--key", required=True, type=Path, help="admin private key file (`kiosk admin keygen`)")
    p.add_argument("--key-id", required=True)
    p.add_argument("--valid-days", type=int, default=30, help="expiry of the announcement (trusted time)")
    add_broker_arguments(p)
    p.set_defaults(func=_announce)


def _announce(args: argparse.Namespace) -> int:
    try:
        if args.version < 1:
            raise AdminError("--version must be a published pack's version (1 or more)")
        body = sign_announcement(args.version, load_private(args.key), args.key_id,
                                 valid_for=timedelta(days=args.valid_days))
        client = connect(args, None)
        try:
            info = client.publish(fleet_wire.CONTENT_TOPIC, body, qos=fleet_wire.QOS, retain=True)
            info.wait_for_publish(15)
            if not info.is_published():
                raise AdminError(f"the broker at {args.broker} did not take the announcement")
        finally:
            client.disconnect()
            client.loop_stop()
    except (AdminError, OSError) as e:
        print(f"kiosk admin: {e}", file=sys.stderr)
        return 1
    print(f"announced content version {args.version} (signed by {args.key_id}, retained on {fleet_wire.CONTENT_TOPIC})")
    return 0
