"""Render one text to a WAV with pyttsx3 + espeak-ng, in a process of its own.

Run by devices.voice.tts as `python pyttsx3_worker.py VOICE RATE OUT.wav` with the text on
stdin (never on the command line, where `ps` would show it). A process per render keeps the
espeak driver's global state and its known hangs away from the kiosk: the caller has a timeout
and kills us. Exit 3 when the voice cannot be selected: pyttsx3 falls back to English silently,
so the voice is read back after the run loop has applied it.
"""

from __future__ import annotations

import sys

EXIT_NO_VOICE = 3


def main(argv: list[str]) -> int:
    import pyttsx3

    voice, rate, out = argv[1], int(argv[2]), argv[3]
    text = sys.stdin.buffer.read().decode("utf-8")
    engine = pyttsx3.init("espeak")
    ids = [v.id for v in engine.getProperty("voices")]
    # pyttsx3 ids are espeak identifiers ("sit/cmn-latn-pinyin"); accept the bare name too.
    match = next((i for i in ids if voice.lower() in (i, i.rsplit("/", 1)[-1])), None)
    if match is None:
        print(f"voice {voice!r} is not installed in espeak-ng", file=sys.stderr)
        return EXIT_NO_VOICE
    engine.setProperty("voice", match)
    engine.setProperty("rate", rate)
    engine.runAndWait()  # properties take effect in the run loop; read back only after it
    got = engine.getProperty("voice")
    if got != match:
        print(f"voice {voice!r} was not selected (espeak-ng kept {got!r})", file=sys.stderr)
        return EXIT_NO_VOICE
    engine.save_to_file(text, out)
    engine.runAndWait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
