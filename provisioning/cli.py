"""`kiosk provision ...`: the device and server CAs, identities, kiosk bundles, install, broker config, revocation.

Run on the administrator's machine (all but `install`, which runs on the kiosk as root). A refused step
prints one line on stderr, exits 1 and changes nothing.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("provision", help="device CA, kiosk enrolment bundles, broker TLS config, revocation")
    ps = p.add_subparsers(dest="provision_command", metavar="PROVISION_COMMAND", required=True)

    ca = ps.add_parser("ca", help="the certificate authorities")
    cas = ca.add_subparsers(dest="ca_command", metavar="CA_COMMAND", required=True)
    init = cas.add_parser("init", help="make the device CA and the server CA in DIR (keys 0600)")
    init.add_argument("--dir", required=True, type=Path)
    init.set_defaults(func=_ca_init)

    bc = ps.add_parser("broker-cert", help="the broker's TLS server certificate (server CA)")
    bc.add_argument("--dir", required=True, type=Path)
    bc.add_argument("--host", required=True, help="the name kiosks connect to (certificate SAN)")
    bc.add_argument("--ip", action="append", default=[], help="an IP address kiosks may use (repeatable)")
    bc.add_argument("--days", type=int, default=None)
    bc.set_defaults(func=_broker_cert)

    idn = ps.add_parser("identity", help="a client certificate for the fleet monitor or an administrator")
    idn.add_argument("name")
    idn.add_argument("--role", required=True, choices=("monitor", "admin"))
    idn.add_argument("--dir", required=True, type=Path)
    idn.add_argument("--out", type=Path, help="folder for the key and certificates (default DIR/identities)")
    idn.add_argument("--days", type=int, default=None)
    idn.set_defaults(func=_identity)

    en = ps.add_parser("enroll", help="one kiosk's bundle: key, certificate, kiosk.toml, admin keys, broker CA")
    en.add_argument("kiosk_id")
    en.add_argument("--site", required=True)
    en.add_argument("--region", required=True)
    en.add_argument("--dir", required=True, type=Path)
    en.add_argument("--out", required=True, type=Path, help="bundle file to write (.tar.gz, mode 0600)")
    en.add_argument("--admin-key", action="append", default=[], metavar="KEY_ID=BASE64",
                    help="an admin public key to pin (repeatable)")
    en.add_argument("--admin-keys", action="append", default=[], type=Path, metavar="FILE",
                    help="a file with [[edge.admin_keys]] tables, e.g. saved `kiosk admin keygen` output")
    en.add_argument("--broker-host", help="default: the host of `broker-cert`")
    en.add_argument("--broker-port", type=int, default=8883)
    en.add_argument("--days", type=int, default=None, help="certificate validity (default two years)")
    en.add_argument("--force", action="store_true", help="overwrite an existing bundle file")
    en.set_defaults(func=_enroll)

    ins = ps.add_parser("install", help="on the kiosk: put a bundle in place under ROOT/etc/kiosk")
    ins.add_argument("bundle", type=Path)
    ins.add_argument("--root", type=Path, default=Path("/"))
    ins.add_argument("--owner", help="USER[:GROUP] that runs the edge daemon (owns the key)")
    ins.add_argument("--force", action="store_true", help="re-enrol a kiosk that has another kiosk id")
    ins.set_defaults(func=_install)

    bcf = ps.add_parser("broker-config", help="mosquitto.conf + ACL + TLS files for the fleet broker")
    bcf.add_argument("--dir", required=True, type=Path)
    bcf.add_argument("--out", required=True, type=Path)
    bcf.add_argument("--port", type=int, default=8883)
    bcf.add_argument("--bind", help="listen address (default: all)")
    bcf.add_argument("--installed-at", type=Path, help="where OUT will live on the broker (default: OUT)")
    bcf.add_argument("--data-dir", type=Path, default=Path("/var/lib/mosquitto"))
    bcf.add_argument("--user", default="mosquitto", help="user Mosquitto runs as")
    bcf.add_argument("--log-file", type=Path, help="default: stderr (the journal)")
    bcf.add_argument("--max-queued", type=int, default=10_000, help="max_queued_messages per client")
    bcf.set_defaults(func=_broker_config)

    rv = ps.add_parser("revoke", help="put every certificate of a kiosk (or identity CN) on the CRL")
    rv.add_argument("name", help="a kiosk id, or monitor.NAME / admin.NAME")
    rv.add_argument("--dir", required=True, type=Path)
    rv.set_defaults(func=_revoke)

    crl = ps.add_parser("crl", help="re-sign the CRL (it is valid a year; an expired one locks everyone out)")
    crl.add_argument("--dir", required=True, type=Path)
    crl.set_defaults(func=_crl)

    ls = ps.add_parser("list", help="every certificate issued: CN, role, serial, expiry, revoked")
    ls.add_argument("--dir", required=True, type=Path)
    ls.set_defaults(func=_list)


def _one_line(cmd: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    @functools.wraps(cmd)
    def run(args: argparse.Namespace) -> int:
        from .ca import ProvisionError
        try:
            return cmd(args)
        except (ProvisionError, OSError) as e:
            print(f"kiosk provision: {e}", file=sys.stderr)
            return 1
    return run


@_one_line
def _ca_init(args: argparse.Namespace) -> int:
    from .ca import CA, DEVICE_CA, SERVER_CA
    ca = CA(args.dir)
    ca.init()
    print(f"device CA {ca.crt(DEVICE_CA)} (signs kiosks, the monitor, admins)")
    print(f"server CA {ca.crt(SERVER_CA)} (signs the broker)")
    print(f"keys mode 0600 in {args.dir}: keep this folder offline, with the administrator")
    return 0


@_one_line
def _broker_cert(args: argparse.Namespace) -> int:
    from .ca import BROKER, CA, SERVER_DAYS
    ca = CA(args.dir)
    cert = ca.issue_broker(args.host, args.ip, args.days or SERVER_DAYS)
    print(f"{ca.crt(BROKER)}: {args.host} {' '.join(args.ip)} until {cert.not_valid_after_utc:%Y-%m-%d}")
    return 0


@_one_line
def _identity(args: argparse.Namespace) -> int:
    from kiosk.durable import atomic_write

    from .ca import CA, CLIENT_DAYS, SERVER_CA, cert_pem, identity_cn, key_pem
    ca = CA(args.dir)
    cn = identity_cn(args.role, args.name)
    out = args.out or args.dir / "identities"
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    key, cert = ca.issue_client(cn, args.role, args.days or CLIENT_DAYS)
    atomic_write(out / f"{cn}.key", key_pem(key), mode=0o600)
    atomic_write(out / f"{cn}.crt", cert_pem(cert))
    atomic_write(out / "broker-ca.crt", ca.crt(SERVER_CA).read_bytes())
    print(f"{out / (cn + '.key')} (0600), {out / (cn + '.crt')}, {out / 'broker-ca.crt'}: "
          f"broker user {cn!r} until {cert.not_valid_after_utc:%Y-%m-%d}")
    print("run `kiosk provision broker-config` again and reload the broker so its ACL knows this identity")
    return 0


@_one_line
def _enroll(args: argparse.Namespace) -> int:
    from .ca import CA, CLIENT_DAYS, ProvisionError
    from .enroll import Enrolment, build, parse_admin_key, read_admin_keys
    ca = CA(args.dir)
    keys = [parse_admin_key(a) for a in args.admin_key]
    for f in args.admin_keys:
        keys += read_admin_keys(f)
    host = args.broker_host or ca.broker_info().get("host")
    if not host:
        raise ProvisionError("no broker host: run `kiosk provision broker-cert` first or give --broker-host")
    m = build(ca, Enrolment(args.kiosk_id, args.site, args.region, host, args.broker_port, keys), args.out,
              force=args.force, days=args.days or CLIENT_DAYS)
    print(f"{args.out} (mode 0600, holds the kiosk's private key): {m['kiosk_id']} site {m['site']} "
          f"region {m['region']}, certificate {m['serial']} until {str(m['not_after'])[:10]}, "
          f"{len(keys)} admin key(s) pinned, broker {host}:{args.broker_port}")
    print(f"on the kiosk, as root: kiosk provision install {args.out.name}")
    return 0


@_one_line
def _install(args: argparse.Namespace) -> int:
    from .install import install
    for line in install(args.bundle, args.root, owner=args.owner, force=args.force):
        print(line)
    print("restart the edge daemon to use them")
    return 0


@_one_line
def _broker_config(args: argparse.Namespace) -> int:
    from .broker_config import BrokerOptions, write
    from .ca import CA
    opt = BrokerOptions(port=args.port, bind=args.bind, installed_at=args.installed_at, data_dir=args.data_dir,
                        user=args.user, log_file=args.log_file, max_queued_messages=args.max_queued)
    for p in write(CA(args.dir), args.out, opt):
        print(p)
    print(f"start: mosquitto -c {(args.installed_at or args.out) / 'mosquitto.conf'}")
    return 0


@_one_line
def _revoke(args: argparse.Namespace) -> int:
    from .ca import CA
    ca = CA(args.dir)
    serials = ca.revoke(args.name)
    what = ", ".join(f"{s:x}" for s in serials) or "none new (already revoked)"
    print(f"{args.name}: revoked {what}; {ca.crl_path} rewritten")
    print("run `kiosk provision broker-config` again and reload the broker (SIGHUP; restart to cut a live link)")
    return 0


@_one_line
def _crl(args: argparse.Namespace) -> int:
    from .ca import CA
    ca = CA(args.dir)
    crl = ca.write_crl()
    print(f"{ca.crl_path}: {len(list(crl))} revoked, valid until {crl.next_update_utc:%Y-%m-%d}")
    return 0


@_one_line
def _list(args: argparse.Namespace) -> int:
    from .ca import CA
    for i in CA(args.dir).issued():
        state = f"revoked {i.revoked_at[:10]}" if i.revoked_at else "valid"
        print(f"{i.cn}\t{i.role}\t{i.serial:x}\tuntil {i.not_after[:10]}\t{state}")
    return 0
