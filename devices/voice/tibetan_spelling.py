"""What the synthetic voice says for what bophono cannot read: letter names, never silence.

bophono knows Tibetan syllables only: a Sanskrit or loan syllable (ཨོཾ, ཀྵ, པཎ) comes back empty,
and a tracking number's Latin letters are not Tibetan at all. Such a syllable is spelled:
each letter by its Tibetan name (ཀ, ཏ་ལོག, ན་རོ ...), each name a word for bophono. Latin
letters get their English names, written directly as espeak-ng phoneme mnemonics.
"""

from __future__ import annotations

import unicodedata

# Letters whose name is not the letter itself: the reversed (Sanskrit) ones, and the fixed forms.
_LETTER_NAMES = {
    "ཊ": "ཏ་ལོག", "ཋ": "ཐ་ལོག", "ཌ": "ད་ལོག", "ཎ": "ན་ལོག", "ཥ": "ཤ་ལོག",
    "ཪ": "ར", "ཫ": "ཀ", "ཬ": "ར",
}
# Vowel signs and marks, by their names (ི is གི་གུ ...).
_SIGN_NAMES = {
    "\u0f71": "འ་ཆུང", "\u0f72": "གི་གུ", "\u0f74": "ཞབས་ཀྱུ", "\u0f7a": "འགྲེང་བུ", "\u0f7b": "འགྲེང་བུ་གཉིས",
    "\u0f7c": "ན་རོ", "\u0f7d": "ན་རོ་གཉིས", "\u0f7e": "རྗེས་སུ་ང་རོ", "\u0f7f": "རྣམ་བཅད", "\u0f80": "གི་གུ་ལོག",
    "\u0f82": "སྣ་ལྡན", "\u0f83": "སྣ་ལྡན", "\u0f84": "སྲོག་མེད",
}
_FIRST_SUBJOINED, _LAST_SUBJOINED = 0x0F90, 0x0FBC
_SUBJOINED_OFFSET = 0x0F90 - 0x0F40  # ྐ (U+0F90) is ཀ (U+0F40) written below
_FIXED_FORMS = {"\u0fba": "ཝ", "\u0fbb": "ཡ", "\u0fbc": "ར"}

# English letter names in espeak-ng mnemonics, high level tone: tracking numbers carry them.
LATIN_NAMES = {
    "A": "'ei55", "B": "b'i55", "C": "s'i55", "D": "d'i55", "E": "'i55", "F": "'E55f", "G": "dZ;'i55",
    "H": "'ei55tS;", "I": "'ai55", "J": "dZ;'ei55", "K": "kh'ei55", "L": "'E55l", "M": "'E55m", "N": "'E55n",
    "O": "'ou55", "P": "ph'i55", "Q": "kh'iou55", "R": "'a55R", "S": "'E55s", "T": "th'i55", "U": "j'ou55",
    "V": "w'i55", "W": "d'a55b@44l'iou53", "X": "'E55ks", "Y": "w'ai55", "Z": "z'ei55",
}


class CannotSpell(ValueError):
    """A character in a Tibetan syllable with no name to say (not a Tibetan letter or sign)."""


def _letter_name(ch: str) -> str:
    code = ord(ch)
    if ch in _FIXED_FORMS:
        ch = _FIXED_FORMS[ch]
    elif _FIRST_SUBJOINED <= code <= _LAST_SUBJOINED:
        ch = chr(code - _SUBJOINED_OFFSET)
    if ch in _LETTER_NAMES:
        return _LETTER_NAMES[ch]
    if ch in _SIGN_NAMES:
        return _SIGN_NAMES[ch]
    if 0x0F40 <= ord(ch) <= 0x0F6C:
        return ch  # a consonant is read by its own sound: ཀ "ka"
    raise CannotSpell(f"U+{ord(ch):04X} ({unicodedata.name(ch, 'unnamed')}) has no name to spell it by")


def spell_syllable(syllable: str) -> list[str]:
    """The syllable's letters and signs, one Tibetan word each: ཨོཾ -> ཨ ན་རོ རྗེས་སུ་ང་རོ."""
    # NFD splits the precomposed Sanskrit letters (གྷ -> ག + ྷ, ཀྵ -> ཀ + ྵ) into letters with names.
    return [_letter_name(ch) for ch in unicodedata.normalize("NFD", syllable)]


def latin_mnemonics(letter: str) -> str:
    """One Latin letter (either case) as espeak-ng mnemonics."""
    try:
        return LATIN_NAMES[letter.upper()]
    except KeyError:
        raise CannotSpell(f"{letter!r} is not a Latin letter A-Z") from None
