"""`kiosk admin clips status|record|import`: recorded speech for a pack's prompts and service titles."""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from kiosk.clipstudio.status import LangStatus, lang_status, render
from kiosk.content_model import Pack

CLIP_LANGS = ("bo", "zh")
STATUS_EXIT = """exit codes:
  0  every text has a clip recorded for its current words
  1  something is missing or stale
  2  bad pack or usage"""
IMPORT_EXIT = """files are named <key>.wav (a prompt id, or service.<service id>.title); WAV only.
exit codes:
  0  every file was imported
  1  some file was refused (the report says why; nothing of it was written)
  2  bad pack, folder or usage"""
RECORD_EXIT = """without --only, goes through the texts that have no clip or a stale one (--all: every text).
exit codes:
  0  the window was closed (what was saved stays saved)
  2  bad pack or usage, or no display"""
# The window lives in ui/ (Qt), which kiosk/ must not import; found by name like kiosk/cli.py's command groups.
WINDOW_MODULE = "ui.clip_studio.app"


class _UsageError(Exception):
    pass


def register(asub: argparse._SubParsersAction) -> None:
    c = asub.add_parser("clips", help="recorded speech for a pack: status, record, import")
    csub = c.add_subparsers(dest="clips_command", metavar="CLIPS_COMMAND", required=True)
    raw = argparse.RawDescriptionHelpFormatter

    st = csub.add_parser("status", help="which texts lack a clip or have a stale one; clip/synthetic/silent counts",
                         epilog=STATUS_EXIT, formatter_class=raw)
    st.add_argument("pack", type=Path, help="the pack's source folder")
    st.add_argument("--lang", choices=CLIP_LANGS, help="one language (default: every language of the pack)")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.add_argument("--no-synthetic-bo", action="store_true",
                    help="count Tibetan texts without a clip as silent (kiosks with voice.synthetic_bo = false)")
    st.set_defaults(func=_status)

    rec = csub.add_parser("record", help="the recording window: read each text, record, play back, save",
                          epilog=RECORD_EXIT, formatter_class=raw)
    rec.add_argument("pack", type=Path, help="the pack's source folder")
    rec.add_argument("--lang", choices=CLIP_LANGS, required=True)
    rec.add_argument("--from-wav", type=Path, metavar="FILE",
                     help="take every take from this WAV file (or from KEY.wav in this folder) instead of the "
                          "microphone: for machines without a sound card")
    rec.add_argument("--only", nargs="+", metavar="KEY", help="just these texts, in this order")
    rec.add_argument("--all", action="store_true", help="every text, also those with a fresh clip")
    rec.add_argument("--device", help="PortAudio input device (number or name; default: the default input)")
    rec.add_argument("--player", default="aplay -q", help="command that plays a WAV file given as its last "
                                                          "argument (default: %(default)s)")
    rec.set_defaults(func=_record)

    im = csub.add_parser("import", help="bring in clips recorded elsewhere, checked and normalised",
                         epilog=IMPORT_EXIT, formatter_class=raw)
    im.add_argument("dir", type=Path, help="folder of <key>.wav files")
    im.add_argument("pack", type=Path, help="the pack's source folder")
    im.add_argument("--lang", choices=CLIP_LANGS, required=True)
    im.add_argument("--origin", choices=("imported", "stand-in"), default="imported",
                    help="stand-in: a placeholder voice, never to be passed off as a native recording")
    im.set_defaults(func=_import)


def _usage_errors(cmd: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A bad pack or argument ends the command with its reasons on stderr and exit 2."""
    @functools.wraps(cmd)
    def run(args: argparse.Namespace) -> int:
        try:
            return cmd(args)
        except _UsageError as e:
            print(f"kiosk admin clips: {e}", file=sys.stderr)
            return 2
    return run


def _load(src: Path, lang: str | None) -> Pack:
    from kiosk.content import PackError, load_pack
    if not src.is_dir():
        raise _UsageError(f"{src}: not a pack folder")
    try:
        pack = load_pack(src)
    except PackError as e:
        lines = "\n".join(f"  {p}" for p in e.problems)
        raise _UsageError(f"{src}: {len(e.problems)} problem(s):\n{lines}") from None
    if lang is not None and lang not in pack.languages:
        raise _UsageError(f"pack {pack.pack_id!r} has no {lang!r} texts (languages: {', '.join(pack.languages)})")
    return pack


@_usage_errors
def _status(args: argparse.Namespace) -> int:
    pack = _load(args.pack, args.lang)
    langs = [args.lang] if args.lang else [lang for lang in pack.languages if lang in CLIP_LANGS]
    statuses: list[LangStatus] = [lang_status(pack, lang, synthetic_bo=not args.no_synthetic_bo) for lang in langs]
    if args.json:
        print(json.dumps({"pack": pack.pack_id, "languages": {s.lang: s.to_dict() for s in statuses}},
                         ensure_ascii=False, indent=1))
    else:
        print(render(pack, statuses), end="")
    return 0 if all(s.complete for s in statuses) else 1


@_usage_errors
def _import(args: argparse.Namespace) -> int:
    from kiosk.clipstudio.importer import import_clips
    if not args.dir.is_dir():
        raise _UsageError(f"{args.dir}: not a folder")
    pack = _load(args.pack, args.lang)
    outcomes = import_clips(args.dir, pack, args.lang, args.origin)
    done = [o for o in outcomes if o.imported]
    print(f"{args.dir} -> {args.pack}/clips/{args.lang}: {len(done)} imported ({args.origin}), "
          f"{len(outcomes) - len(done)} refused")
    for o in outcomes:
        print(o.line())
    return 0 if len(done) == len(outcomes) else 1


@_usage_errors
def _record(args: argparse.Namespace) -> int:
    from kiosk.clipstudio.capture import Capture, MicCapture, WavCapture
    from kiosk.clipstudio.session import RecordSession
    pack = _load(args.pack, args.lang)
    items = list(lang_status(pack, args.lang).items)
    if args.only:
        by_key = {i.key: i for i in items}
        unknown = [k for k in args.only if k not in by_key]
        if unknown:
            raise _UsageError(f"no {args.lang} text with key(s) {', '.join(unknown)} in pack {pack.pack_id!r}")
        items = [by_key[k] for k in args.only]
    elif not args.all:
        items = [i for i in items if i.state != "clip"]
    if not items:
        print(f"every {args.lang} text of {pack.pack_id!r} has a fresh clip; --all or --only KEY to re-record")
        return 0
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        raise _UsageError("the recording window needs a display (DISPLAY or WAYLAND_DISPLAY)")
    if args.from_wav is not None and not args.from_wav.exists():
        raise _UsageError(f"{args.from_wav}: no such file or folder")
    device = int(args.device) if args.device and args.device.isdigit() else args.device
    capture: Capture = WavCapture(args.from_wav) if args.from_wav else MicCapture(device)
    session = RecordSession(pack.root, args.lang, items, capture)
    try:
        return int(importlib.import_module(WINDOW_MODULE).run(session, shlex.split(args.player)))
    finally:
        session.close()
