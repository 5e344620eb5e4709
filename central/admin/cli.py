"""`kiosk admin ...`: keys, the maintenance PIN hash, and content packs (check, build, sign, publish)."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.content import Pack


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("admin", help="administrator tools: keys, PIN hash, content packs")
    asub = p.add_subparsers(dest="admin_command", metavar="ADMIN_COMMAND", required=True)

    kg = asub.add_parser("keygen", help="make an Ed25519 admin signing key (file mode 0600)")
    kg.add_argument("--out", required=True, type=Path, help="private key file to write")
    kg.add_argument("--key-id", help="name pinned on the edges (default admin-YYYYMMDD)")
    kg.add_argument("--force", action="store_true", help="replace an existing key file")
    kg.set_defaults(func=_keygen)

    ph = asub.add_parser("pin-hash", help="hash a maintenance PIN for [maintenance] pin_hash")
    ph.set_defaults(func=_pin_hash)

    pk = asub.add_parser("pack", help="content packs")
    psub = pk.add_subparsers(dest="pack_command", metavar="PACK_COMMAND", required=True)
    ck = psub.add_parser("check", help="check a pack folder and list every problem")
    ck.add_argument("src", type=Path)
    ck.set_defaults(func=_check)
    b = psub.add_parser("build", help="check SRC, copy it to OUT and write OUT/manifest.json")
    b.add_argument("src", type=Path)
    b.add_argument("out", type=Path)
    b.add_argument("--version", type=int, help="pack version (default: YYYYMMDDHHMM, UTC)")
    b.set_defaults(func=_build)
    s = psub.add_parser("sign", help="sign OUT/manifest.json into OUT/manifest.signed.json")
    s.add_argument("out", type=Path)
    s.add_argument("--key", required=True, type=Path, help="private key file from `admin keygen`")
    s.add_argument("--key-id", required=True)
    s.add_argument("--expires-days", type=int, default=365)
    s.set_defaults(func=_sign)
    pb = psub.add_parser("publish", help="upload a built, signed pack to an origin folder")
    pb.add_argument("out", type=Path)
    pb.add_argument("--origin", required=True, type=Path, help="origin folder (served by any static server)")
    pb.add_argument("--allow-unsigned", action="store_true", help="development origins only")
    pb.set_defaults(func=_publish)

    from central.admin.config_push import register as register_config_push
    register_config_push(asub)  # kiosk admin config push
    from central.admin.announce import register as register_announce
    register_announce(asub)  # kiosk admin content announce
    from kiosk.clipstudio.cli import register as register_clips
    register_clips(asub)  # kiosk admin clips status|record|import


def _fail(message: str) -> int:
    print(f"kiosk admin: {message}", file=sys.stderr)
    return 1


def _one_line_failures(cmd: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """An AdminError or OSError ends the command with one line on stderr and exit 1, not a traceback."""
    @functools.wraps(cmd)
    def run(args: argparse.Namespace) -> int:
        from central.admin.keys import AdminError
        try:
            return cmd(args)
        except (AdminError, OSError) as e:
            return _fail(str(e))
    return run


@_one_line_failures
def _keygen(args: argparse.Namespace) -> int:
    from central.admin.keys import config_lines, keygen
    key_id, public = keygen(args.out, args.key_id, force=args.force)
    print(f"# private key written to {args.out} (mode 0600); keep it off the kiosks")
    print(config_lines(key_id, public), end="")
    return 0


def _pin_hash(args: argparse.Namespace) -> int:
    from central.admin.keys import AdminError, read_pin
    from kiosk.pin import hash_pin
    try:
        pin = read_pin()
    except (AdminError, EOFError) as e:
        return _fail(str(e) or "no PIN given")
    print(hash_pin(pin))
    return 0


def _pack_problems(e: Exception, src: Path) -> int:
    problems = getattr(e, "problems", [])
    print(f"{src}: {len(problems)} problem(s):", file=sys.stderr)
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    return 1


def _report(pack: Pack) -> None:
    for w in pack.warnings:
        print(f"  warning: {w}", file=sys.stderr)
    for lang in pack.languages:
        missing = pack.missing_clips(lang)
        if missing:
            fallback = ("the synthetic voice where a kiosk has voice.synthetic_bo on, else silent" if lang == "bo"
                        else "Mandarin TTS")
            print(f"  audio: {len(missing)} of {len(pack.prompts)} prompts have no recorded {lang} clip "
                  f"(spoken by {fallback}; `kiosk admin clips status` lists them)", file=sys.stderr)


def _check(args: argparse.Namespace) -> int:
    from kiosk.content import PackError, load_pack
    try:
        pack = load_pack(args.src)
    except PackError as e:
        return _pack_problems(e, args.src)
    print(f"{args.src}: pack {pack.pack_id!r} is valid: {len(pack.services)} services, {len(pack.guides)} guides, "
          f"{len(pack.forms)} forms, {len(pack.prompts)} prompts")
    _report(pack)
    return 0


@_one_line_failures
def _build(args: argparse.Namespace) -> int:
    from central.admin.pack import build
    from central.admin.progress import Progress
    from kiosk.content import PackError
    try:
        pack, manifest = build(args.src, args.out, args.version, Progress("hashing"))
    except PackError as e:
        return _pack_problems(e, args.src)
    print(f"built pack {manifest.pack_id!r} version {manifest.version}: {len(manifest.files)} files, "
          f"{manifest.total_size} bytes -> {args.out}")
    _report(pack)
    return 0


@_one_line_failures
def _sign(args: argparse.Namespace) -> int:
    from central.admin.pack import SIGNED, sign
    from central.admin.progress import Progress
    env = sign(args.out, args.key, args.key_id, args.expires_days, Progress("checking"))
    print(f"signed version {env.version} with key {env.key_id!r}, expires {env.expires} -> {args.out / SIGNED}")
    return 0


@_one_line_failures
def _publish(args: argparse.Namespace) -> int:
    from central.admin.pack import publish_build
    from central.admin.progress import Progress
    manifest, copied = publish_build(args.out, args.origin, allow_unsigned=args.allow_unsigned,
                                     progress_check=Progress("checking"), progress_copy=Progress("uploading"))
    print(f"published {manifest.pack_id!r} version {manifest.version} to {args.origin}: "
          f"{copied} new bytes of {manifest.total_size}")
    return 0
