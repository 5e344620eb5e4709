"""Tibetan text to espeak-ng phoneme input for the synthetic voice (see VOICE-TIBETAN.md).

bophono (schema MST: Tournadre's Standard Tibetan, Lhasa) gives each WORD's pronunciation in
IPA, with the tone on the word's first syllable and the sound changes inside the word; this
module turns that IPA into espeak-ng mnemonics for a voice built on Mandarin's tone machinery:
˥ -> 55, ˥˨ -> 51, ˩˨ -> 22, ˩˧˨ -> 21; a word's later syllables 44, or 53 before a pause.

Words come from the prompt's spoken form (words split by spaces, numbers spelled out, loans
respelled). Without one each syllable is read as a word of its own: understandable, but the
tones and sound changes across a word are lost, so the result says `segmented=False`.

Nothing is dropped silently: digits become Tibetan number words (tibetan_numbers), a syllable
bophono cannot read and a Latin letter are spelled (tibetan_spelling) and listed in `spelled`,
and a character of another script (Chinese above all: never read a Tibetan prompt in Chinese)
raises `UnspeakableText`.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from devices.voice.tibetan_numbers import amount_words, ascii_digits, digit_words
from devices.voice.tibetan_spelling import CannotSpell, latin_mnemonics, spell_syllable

# bophono's tone letters, set to digits (which its IPA never contains) so they parse simply.
_TONE_MARKS = {"1": "55", "2": "22", "3": "51", "4": "21"}
_BOPHONO_OPTIONS = {"hightonechar": "1", "lowtonechar": "2", "highfallingtonechar": "3",
                    "lowrisingfallingtonechar": "4", "useUnreleasedStops": True, "eatR": True, "eatL": True}
LATER_TONE, FINAL_TONE = "44", "53"

# IPA -> espeak-ng mnemonic (cmn phoneme table). Longest first when parsing; "" = not voiced.
_CONSONANTS = {
    "tɕʰ": "tS;h", "tɕ": "tS;", "dʑ̥": "tS;", "dʑ": "dZ;", "tsʰ": "tsh", "ts": "ts", "dz̥": "ts", "dz": "dz",
    "ʈʰ": "ts.h", "ʈ": "ts.", "ɖ̥": "ts.", "ɖ": "ts.", "ʂ": "s.", "kʰ": "kh", "k": "k", "g̊": "k", "g": "g",
    "cʰ": "ch", "c": "c", "ɟ̊": "c", "ɟ": "J", "tʰ": "th", "t": "t", "d̥": "t", "d": "d", "pʰ": "ph", "p": "p",
    "b̥": "p", "b": "b", "ɕ": "S;", "s": "s", "z": "z", "l̥ʰ": "l#", "l̥": "l#", "l": "l", "r": "R", "h": "h",
    "m": "m", "n̚": "n", "n": "n", "ɲ": "n^", "ŋ": "N", "w": "w", "j": "j", "ɣ": "Q", "ʔ": "?", "k̚": "", "p̚": "",
}
_VOWELS = {"a": "a", "ə": "@", "e": "e", "ɛ": "E", "i": "i", "ɪ": "i", "o": "o", "ɔ": "o", "ø": "y", "u": "u",
           "y": "y"}
_LONG, _NASAL, _OFFGLIDE = "ː", "\u0303", "ɪ̯"  # offglide of the འི affix: the long vowel carries it
_SYMBOLS = sorted([*_CONSONANTS, *_VOWELS, _LONG, _NASAL, _OFFGLIDE, *_TONE_MARKS], key=len, reverse=True)
_IGNORED = "\u0fad\u0f35\u0f37"  # bophono skips these marks (wa-zur, ngas-bzung)

_TIB_LETTERS = "\u0f40-\u0fbc"
_TSHEG = "\u0f0b\u0f0c"
_DIGITS = "0-9\u0f20-\u0f29"
_TOKENS = re.compile(
    rf"(?P<code>[{_DIGITS}A-Za-z]+(?:[-.][{_DIGITS}A-Za-z]+)*)"
    rf"|(?P<tib>[{_TIB_LETTERS}]+(?:[{_TSHEG}]+[{_TIB_LETTERS}]+)*[{_TSHEG}]*)"
    r"|(?P<stop>[\u0f04-\u0f0a\u0f0d-\u0f14.!?;:。！？；：]+)"
    r"|(?P<comma>[\u0f3a-\u0f3d,，、\-/()（）\"'“”‘’《》「」]+)"
    r"|(?P<space>\s+)"
)
_AMOUNT = re.compile(rf"([1-9\u0f21-\u0f29][{_DIGITS}]{{0,7}}|[0\u0f20])(?:\.([{_DIGITS}]+))?")
_SYLLABLE_SPLIT = re.compile(f"[{_TSHEG}]+")


class UnspeakableText(ValueError):
    """The text holds something the Tibetan voice must not or cannot say (e.g. Chinese characters)."""


class PhonemeError(RuntimeError):
    """bophono's IPA held a symbol this module has no mnemonic for (a bug here, not in the content)."""


@dataclass(frozen=True)
class TibetanPhonemes:
    """espeak-ng input for one text, and what a maintainer should know about how it was made."""

    phonemes: str  # "[[...]]": what espeak-ng is given
    segmented: bool  # words came from a spoken form (False: syllable by syllable)
    spelled: tuple[str, ...] = ()  # syllables (or Latin letters) spelled letter by letter


def has_spoken_form(spoken: str | None) -> bool:
    """True when a text's spoken form (words split by spaces) is there to read it by."""
    return bool(spoken and spoken.strip())


# -- bophono ------------------------------------------------------------------------------------
_converter_lock = threading.Lock()
_converter = None


def _bophono():  # -> bophono.UnicodeToApi (the package has no type hints)
    """One converter per process: loading its tries costs ~0.1 s; get_api itself keeps no state."""
    global _converter
    with _converter_lock:
        if _converter is None:
            import bophono

            _converter = bophono.UnicodeToApi(schema="MST", options=_BOPHONO_OPTIONS)
            _drop_broken_exceptions(_converter.exceptions)
        return _converter


def _drop_broken_exceptions(exceptions) -> None:  # bophono's Trie
    """bophono 0.2.0 ships a malformed exception (མི་འདུག -> "m-in|~tu'": no tone mark on the second
    syllable), which makes it drop that syllable and print a complaint. Entries like that are
    removed, so the word is read by the ordinary syllable rules instead."""
    broken: list[str] = []

    def check(word: str, data: str) -> None:
        syllables = data.removeprefix("2:").split("|")
        if not all("+" in syl or "-" in syl for syl in syllables):
            broken.append(word)

    exceptions.walk_all_data(check)
    for word in broken:
        exceptions.add(word, None)


def _readable(syllable: str) -> bool:
    """Would bophono understand this syllable? Asked of its tries, not of get_api, because get_api
    prints an unreadable syllable to stdout (the text may be personal) and drops the rest of the word."""
    api = _bophono()
    root = api.roots.get_longest_match_with_data(syllable, 0, len(syllable), api.ignored_chars)
    if not root:
        return False
    end = api.ends.get_longest_match_with_data(syllable, root["i"], len(syllable), api.ignored_chars)
    return bool(end) and end["i"] >= len(syllable)


def word_ipa(word: str) -> str:
    """bophono's IPA for one word (syllables joined by tsheg), tones as the digits 1-4."""
    return _bophono().get_api(word)


# -- IPA -> mnemonics -----------------------------------------------------------------------------
def _ipa_symbols(ipa_syllable: str) -> Iterator[str]:
    i = 0
    while i < len(ipa_syllable):
        for sym in _SYMBOLS:
            if ipa_syllable.startswith(sym, i):
                yield sym
                i += len(sym)
                break
        else:
            raise PhonemeError(f"no mnemonic for IPA {ipa_syllable[i]!r} (U+{ord(ipa_syllable[i]):04X})")


def _syllable_mnemonics(ipa_syllable: str, tone: str) -> str:
    """One IPA syllable as onset + ' + vowel (+ :) + tone + coda; tone is used if bophono gave none."""
    onset, vowel, coda = "", "", ""
    long = False
    for sym in _ipa_symbols(ipa_syllable):
        if sym in _TONE_MARKS:
            tone = _TONE_MARKS[sym]
        elif sym == _LONG:
            long = True
        elif sym in (_NASAL, _OFFGLIDE):
            continue  # nasal vowels and the offglide: no such phonemes on Mandarin's table
        elif sym in _VOWELS and not vowel:
            vowel = _VOWELS[sym]
        elif sym in _VOWELS:
            long = True  # a second vowel (bophono's "a.ɪ" is split, so only a glide lands here)
        elif vowel:
            coda += _CONSONANTS[sym]
        else:
            onset += _CONSONANTS[sym]
    if not vowel:
        raise PhonemeError(f"IPA syllable {ipa_syllable!r} has no vowel")
    return f"{onset}'{vowel}{':' if long else ''}{tone}{coda}"


def ipa_to_mnemonics(ipa: str, *, phrase_final: bool = False) -> str:
    """A word's IPA (syllables split by '.') as espeak-ng mnemonics, one tone per syllable."""
    syllables = ipa.split(".")
    out = []
    for i, syllable in enumerate(syllables):
        tone = FINAL_TONE if phrase_final and i == len(syllables) - 1 else LATER_TONE
        out.append(_syllable_mnemonics(syllable, tone))
    return "".join(out)


# -- text -> words ------------------------------------------------------------------------------
@dataclass
class _Builder:
    """Collects words (as mnemonics) and pauses; a word's last tone depends on what follows it."""

    items: list[tuple[str, str]]  # ("ipa", ipa) | ("mn", mnemonics) | ("pause", "_" / "_:")
    spelled: list[str]

    def word(self, word: str) -> None:
        syllables = [s for s in _SYLLABLE_SPLIT.split(word.translate({ord(c): None for c in _IGNORED})) if s]
        run: list[str] = []
        for syllable in syllables:
            if _readable(syllable):
                run.append(syllable)
                continue
            self._flush(run)
            run = []
            try:
                letters = spell_syllable(syllable)
            except CannotSpell as e:
                raise UnspeakableText(str(e)) from None
            self.spelled.append(syllable)
            for name in letters:
                self._flush([name])
        self._flush(run)

    def _flush(self, syllables: list[str]) -> None:
        if syllables:
            ipa = word_ipa("་".join(syllables))
            if not ipa:  # _readable said yes: bophono disagreeing is a bug to hear about, not silence
                raise PhonemeError(f"bophono gave nothing for a word of {len(syllables)} readable syllables")
            self.items.append(("ipa", ipa))

    def code(self, code: str) -> None:
        """A run of digits and Latin letters: an amount, or a code read one character at a time."""
        amount = _AMOUNT.fullmatch(code)
        if amount:
            for w in amount_words(amount[1], amount[2] or ""):
                self.word(w)
            return
        for part in re.split(r"([-.])", code):
            if part in ("-", "."):
                self.pause("_")
            for ch in part if part not in ("-", ".") else "":
                if ch.isascii() and ch.isalpha():
                    self.spelled.append(ch)
                    self.items.append(("mn", latin_mnemonics(ch)))
                else:
                    for w in digit_words(ascii_digits(ch)):
                        self.word(w)

    def pause(self, kind: str) -> None:
        if self.items and self.items[-1][0] != "pause":
            self.items.append(("pause", kind))

    def phonemes(self) -> str:
        while self.items and self.items[-1][0] == "pause":
            self.items.pop()  # the closing " _" is the utterance's pause
        out = []
        for i, (kind, value) in enumerate(self.items):
            if kind == "ipa":
                final = i + 1 == len(self.items) or self.items[i + 1][0] == "pause"
                out.append(ipa_to_mnemonics(value, phrase_final=final))
            else:
                out.append(value)
        return "[[" + " ".join(out) + " _]]"


def to_phonemes(text: str, spoken: str | None = None) -> TibetanPhonemes:
    """espeak-ng input for a Tibetan text: by its spoken form's words when given, else syllable by syllable."""
    segmented = has_spoken_form(spoken)
    source = unicodedata.normalize("NFC", (spoken if segmented else text) or "").replace("ༀ", "ཨོཾ")
    build = _Builder([], [])
    pos = 0
    while pos < len(source):
        m = _TOKENS.match(source, pos)
        if m is None:
            ch = source[pos]
            raise UnspeakableText(f"the Tibetan voice cannot read U+{ord(ch):04X} "
                                  f"({unicodedata.name(ch, 'unnamed')}) at position {pos}")
        pos = m.end()
        if m["tib"]:
            chunk = m["tib"]
            for word in [chunk] if segmented else _SYLLABLE_SPLIT.split(chunk):
                if word:
                    build.word(word)
        elif m["code"]:
            build.code(m["code"])
        elif m["stop"]:
            build.pause("_:")
        elif m["comma"]:
            build.pause("_")
    if not any(kind != "pause" for kind, _ in build.items):
        raise UnspeakableText("nothing to say: the text has no Tibetan words, digits or letters")
    return TibetanPhonemes(build.phonemes(), segmented, tuple(build.spelled))
