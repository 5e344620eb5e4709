"""Numbers as Tibetan words, for the synthetic voice (bophono reads no digits at all).

Two readings: `digit_words` says a code one digit at a time (tracking numbers, phone numbers:
what a resident copies down), `number_words` says an amount as a number (ཉི་ཤུ་རྩ་ལྔ for 25).
Each returned item is one word (syllables joined by tsheg), so bophono puts one tone on it.

Forms are the Lhasa spoken ones with the tens connectors (ཉི་ཤུ་རྩ་གཅིག, སུམ་ཅུ་སོ་གཉིས ...);
places above a hundred are named with the digit after them (སྟོང་ཕྲག་གཉིས = 2000) and joined
with དང. Written from grammars, not heard from speakers: to be checked by native listeners.
"""

from __future__ import annotations

TIBETAN_DIGITS = "༠༡༢༣༤༥༦༧༨༩"
_TO_ASCII = str.maketrans(TIBETAN_DIGITS, "0123456789")

UNITS = ("ཀླད་ཀོར", "གཅིག", "གཉིས", "གསུམ", "བཞི", "ལྔ", "དྲུག", "བདུན", "བརྒྱད", "དགུ")
_TENS = ("", "བཅུ", "ཉི་ཤུ", "སུམ་ཅུ", "བཞི་བཅུ", "ལྔ་བཅུ", "དྲུག་ཅུ", "བདུན་ཅུ", "བརྒྱད་ཅུ", "དགུ་བཅུ")
# The syllable between the tens and the units: ཉི་ཤུ་རྩ་གཅིག (21), སུམ་ཅུ་སོ་གཅིག (31) ...
_CONNECTORS = ("", "", "རྩ", "སོ", "ཞེ", "ང", "རེ", "དོན", "གྱ", "གོ")
# 11-19: བཅུ + unit, with the sound change in 15 and 18.
_TEENS = {5: "བཅོ་ལྔ", 8: "བཅོ་བརྒྱད"}
_HUNDREDS = ("", "བརྒྱ", "ཉིས་བརྒྱ", "སུམ་བརྒྱ", "བཞི་བརྒྱ", "ལྔ་བརྒྱ", "དྲུག་བརྒྱ", "བདུན་བརྒྱ", "བརྒྱད་བརྒྱ",
             "དགུ་བརྒྱ")
# 10^3 .. 10^7: the place's name, then the digit (ཁྲི་གསུམ = 30000).
_PLACES = {3: "སྟོང་ཕྲག", 4: "ཁྲི", 5: "འབུམ", 6: "ས་ཡ", 7: "བྱེ་བ"}
MAX_NUMBER = 99_999_999  # above this a number is read digit by digit
_AND = "དང"
POINT = "ཚེག"  # the decimal point, read before the decimals one by one


def ascii_digits(digits: str) -> str:
    """Tibetan digits (༠-༩) as ASCII; ASCII digits unchanged. Anything else is an error."""
    out = digits.translate(_TO_ASCII)
    if not out.isascii() or not out.isdigit():
        raise ValueError(f"not a run of digits: {digits!r}")
    return out


def digit_words(digits: str) -> list[str]:
    """One word per digit: ༠༨༩༡ -> ཀླད་ཀོར བརྒྱད དགུ གཅིག."""
    return [UNITS[int(d)] for d in ascii_digits(digits)]


def _below_hundred(n: int) -> str:
    tens, units = divmod(n, 10)
    if tens == 0:
        return UNITS[units]
    if units == 0:
        return _TENS[tens]
    if tens == 1:
        return _TEENS.get(units, f"བཅུ་{UNITS[units]}")
    return f"{_TENS[tens]}་{_CONNECTORS[tens]}་{UNITS[units]}"


def number_words(n: int) -> list[str]:
    """An amount as Tibetan number words, 0 <= n <= MAX_NUMBER: 2024 -> སྟོང་ཕྲག་གཉིས་དང ཉི་ཤུ་རྩ་བཞི."""
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"{n} is outside 0..{MAX_NUMBER}: read it digit by digit")
    if n == 0:
        return [UNITS[0]]
    parts: list[str] = []
    for place in sorted(_PLACES, reverse=True):
        digit = n // 10**place % 10
        if digit:
            parts.append(f"{_PLACES[place]}་{UNITS[digit]}")
    if n // 100 % 10:
        parts.append(_HUNDREDS[n // 100 % 10])
    if n % 100:
        parts.append(_below_hundred(n % 100))
    # The particle དང joins the parts; it is attached to the word before it, as in the content.
    return [f"{p}་{_AND}" for p in parts[:-1]] + parts[-1:]


def amount_words(digits: str, decimals: str = "") -> list[str]:
    """An amount ("350", "12" + "50"): the whole part as a number, decimals one by one after ཚེག."""
    whole = ascii_digits(digits)
    words = number_words(int(whole)) if int(whole) <= MAX_NUMBER else digit_words(whole)
    return words + ([POINT, *digit_words(decimals)] if decimals else [])
