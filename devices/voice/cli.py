"""`kiosk device say`: write what the kiosk would say to a WAV file (no sound card needed)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

EXIT_NO_TIBETAN_CLIP = 3


def register(dsub: argparse._SubParsersAction) -> None:
    p = dsub.add_parser("say", help="write spoken guidance to a WAV: a recorded clip, else Mandarin TTS "
                                    "or the synthetic Tibetan voice")
    p.add_argument("text")
    p.add_argument("--lang", choices=["zh", "bo"], required=True)
    p.add_argument("--out", type=Path, required=True, metavar="FILE.wav")
    p.add_argument("--clip-dir", type=Path, metavar="DIR", help="recorded clips, laid out DIR/<lang>/<key>.wav")
    p.add_argument("--prompt-id", help="the prompt's id (the clip key); default: a hash of the text")
    p.add_argument("--voice", help="espeak-ng voice (default: devices.voice.tts_voice)")
    p.add_argument("--spoken", metavar="WORDS", help="Tibetan: the text's spoken form, words split by spaces")
    p.add_argument("--synthetic", action=argparse.BooleanOptionalAction, default=None,
                   help="Tibetan without a clip: use the synthetic voice (default: devices.voice.synthetic_bo)")
    p.set_defaults(func=_say)


def _say(args: argparse.Namespace) -> int:
    from devices.voice.clips import clip_dir_resolver, clip_key
    from devices.voice.tts import TtsError, render_tts

    key = clip_key(args.text, args.prompt_id)
    clip = clip_dir_resolver(args.clip_dir)(key, args.lang) if args.clip_dir else None
    if clip is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, args.out)
        print(f"{args.out}: recorded clip {clip}")
        return 0
    if args.lang == "bo":
        return _say_tibetan(args, key)
    voice = args.voice or args.cfg.devices.voice.tts_voice
    try:
        render_tts(args.text, voice, out=args.out)
    except TtsError as e:
        print(f"say: {e}", file=sys.stderr)
        return 1
    print(f"{args.out}: Mandarin TTS, voice {voice}")
    return 0


def _say_tibetan(args: argparse.Namespace, key: str) -> int:
    from devices.voice.synthetic import SyntheticError, SyntheticTibetan
    from devices.voice.tibetan import UnspeakableText, to_phonemes

    synthetic = args.synthetic if args.synthetic is not None else args.cfg.devices.voice.synthetic_bo
    where = f"{args.clip_dir}/bo/{key}.wav" if args.clip_dir else "no --clip-dir given"
    if not synthetic:
        print(f"say: no clip for this text ({where}) and the synthetic Tibetan voice is off "
              "(devices.voice.synthetic_bo, or --synthetic)", file=sys.stderr)
        return EXIT_NO_TIBETAN_CLIP
    try:
        made = to_phonemes(args.text, args.spoken)
        SyntheticTibetan(args.cfg.devices.voice.cache_dir).render(made.phonemes, args.out)
    except UnspeakableText as e:
        print(f"say: the synthetic Tibetan voice cannot read this text: {e}", file=sys.stderr)
        return EXIT_NO_TIBETAN_CLIP
    except SyntheticError as e:
        print(f"say: {e}", file=sys.stderr)
        return 1
    how = "by words" if made.segmented else "unsegmented: syllable by syllable (no --spoken form)"
    spelled = f"; spelled letter by letter: {' '.join(made.spelled)}" if made.spelled else ""
    print(f"{args.out}: SYNTHETIC Tibetan voice (not rated by native speakers), {how}{spelled}")
    return 0
