"""`kiosk admin config push (--kiosk ID | --site S | --region R) FILE.toml --key KEY --key-id ID --broker H:P`.

The file is checked with the kiosk's own schema first (every problem named by key); then one signed command
(kiosk/fleet_signing.py: target, version, expiry inside the signature) goes to each kiosk's `cmd` topic —
a site or region is expanded to its kiosks through the fleet inventory (`--inventory`; a region is a
county or prefecture id), and every kiosk still checks the target itself. The answers on `cmd/result`
are printed as they come; exit 0 only when every kiosk applied it.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from central.admin.keys import AdminError, load_private
from kiosk import fleet_wire
from kiosk.config import ConfigError, parse, read_config_text
from kiosk.fleet_signing import next_version, sign_command, target_of

WAIT_S = 90.0  # a kiosk restarts its edge and checks health before it answers


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("config", help="signed configuration pushes to kiosks")
    csub = c.add_subparsers(dest="config_command", metavar="CONFIG_COMMAND", required=True)
    p = csub.add_parser("push", help="validate, sign and send a kiosk config (overlay) and wait for the results")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--kiosk", help="one kiosk id")
    who.add_argument("--site", help="every kiosk of a site (hall); needs --inventory")
    who.add_argument("--region", help="every kiosk of a county or prefecture; needs --inventory")
    p.add_argument("file", type=Path, help="TOML laid over each kiosk's config (its [kiosk] id/site/region stay)")
    p.add_argument("--key", required=True, type=Path, help="admin private key file (`kiosk admin keygen`)")
    p.add_argument("--key-id", required=True)
    p.add_argument("--inventory", type=Path, help="fleet inventory.toml (for --site / --region)")
    add_broker_arguments(p)
    p.add_argument("--wait", type=float, default=WAIT_S, help=f"seconds to wait for answers (default {WAIT_S:.0f})")
    p.add_argument("--valid-minutes", type=int, default=60, help="expiry of the signed push")
    p.set_defaults(func=_push)


def _kiosks(args: argparse.Namespace) -> list[str]:
    if args.kiosk:
        return [args.kiosk]
    if args.inventory is None:
        raise AdminError("--site and --region need --inventory FILE to know which kiosks they hold")
    from central.fleet.inventory import load_inventory
    try:
        inv = load_inventory(args.inventory)
    except ConfigError as e:
        raise AdminError(str(e).splitlines()[0]) from None
    out = [k for p in inv.prefectures for c in p.counties for s in c.sites for k in s.kiosks
           if (args.site and s.id == args.site) or (args.region and args.region in (c.id, p.id))]
    if not out:
        raise AdminError(f"no kiosks in {'site ' + args.site if args.site else 'region ' + args.region} "
                         f"in {args.inventory}")
    return out


def add_broker_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--broker", required=True, help="host:port")
    p.add_argument("--ca", type=Path, help="broker CA (TLS)")
    p.add_argument("--cert", type=Path, help="admin client certificate (TLS)")
    p.add_argument("--client-key", type=Path, help="admin client certificate's key (TLS)")


def connect(args: argparse.Namespace, on_result: object):  # noqa: ANN202 - paho client
    """An admin's MQTT 5 connection to the fleet broker (TLS with the admin identity when --ca is given)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    host, _, port = args.broker.rpartition(":")
    if not host or not port.isdigit():
        raise AdminError(f"--broker must be host:port, not {args.broker!r}")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"admin-push-{next_version() % 10**9}",
                         protocol=mqtt.MQTTv5)
    if args.ca:
        client.tls_set(ca_certs=str(args.ca), certfile=str(args.cert) if args.cert else None,
                       keyfile=str(args.client_key) if args.client_key else None)
    ready = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: ready.set() if not rc.is_failure else None
    client.on_message = on_result
    try:
        client.connect(host, int(port), keepalive=30)
    except OSError as e:
        raise AdminError(f"cannot reach the broker at {args.broker}: {e.strerror or e}") from None
    client.loop_start()
    if not ready.wait(15):
        client.loop_stop()
        raise AdminError(f"the broker at {args.broker} did not accept the connection")
    return client


def _push(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (AdminError, OSError) as e:
        print(f"kiosk admin: {e}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from datetime import timedelta
    text = read_config_text(args.file, "config file")
    try:
        parse(text, str(args.file))
    except ConfigError as e:
        print(f"kiosk admin: not pushed\n{e}", file=sys.stderr)
        return 1
    key = load_private(args.key)
    kiosks = _kiosks(args)
    target = target_of(kiosk=args.kiosk, site=args.site, region=args.region)
    version = next_version()
    results: dict[str, dict] = {}
    lock = threading.Lock()
    ids: dict[str, str] = {}

    def on_result(client: object, userdata: object, msg: object) -> None:
        try:
            r = fleet_wire.decode(fleet_wire.KIND_CMD_RESULT, msg.payload)  # type: ignore[attr-defined]
        except fleet_wire.WireError:
            return
        assert isinstance(r, fleet_wire.CommandResult)
        with lock:
            if ids.get(r.kiosk_id) == r.id and r.kiosk_id not in results:
                results[r.kiosk_id] = {"result": r.result, "message": r.message, "outcome": r.data.get("outcome")}
                print(f"{r.kiosk_id}: {_word(r)}: {r.message}", flush=True)

    client = connect(args, on_result)
    try:
        for k in kiosks:
            client.subscribe(fleet_wire.topic(k, fleet_wire.KIND_CMD_RESULT), qos=fleet_wire.QOS)
        time.sleep(0.3)  # the subscriptions are in place before any answer can come
        for k in kiosks:
            # One envelope per kiosk (its own command id); the same target and version for all of them.
            cmd = sign_command(fleet_wire.CMD_CONFIG, {"toml": text, "config_version": version}, target, key,
                               args.key_id, issued_by=f"admin:{args.key_id}", version=version,
                               valid_for=timedelta(minutes=args.valid_minutes))
            with lock:
                ids[k] = cmd.id
            client.publish(fleet_wire.topic(k, fleet_wire.KIND_CMD), fleet_wire.encode(cmd),
                           qos=fleet_wire.QOS).wait_for_publish(15)
        print(f"pushed config version {version} to {len(kiosks)} kiosk(s); waiting for their answers", flush=True)
        deadline = time.monotonic() + args.wait
        while time.monotonic() < deadline:
            with lock:
                if len(results) == len(kiosks):
                    break
            time.sleep(0.1)
    finally:
        client.disconnect()
        client.loop_stop()
    missing = [k for k in kiosks if k not in results]
    for k in missing:
        print(f"{k}: no answer within {args.wait:.0f} s (offline? the command waits in its session)")
    applied = sum(1 for r in results.values() if r["result"] == "done")
    print(f"{applied} of {len(kiosks)} applied")
    return 0 if applied == len(kiosks) else 1


def _word(r: fleet_wire.CommandResult) -> str:
    if r.result == "done":
        return "applied"
    if r.data.get("outcome") == "rolled_back":
        return "rolled back"
    return r.result
