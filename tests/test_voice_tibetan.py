"""Synthetic Tibetan: bophono's Lhasa IPA -> espeak-ng mnemonics, numbers and loan letters never
dropped, and the shipped voice rendered by the real espeak-ng (audio checked, F0 measured)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from devices.voice.synthetic import VOICE_NAME, SyntheticTibetan, ensure_data_dir, system_data_dir
from devices.voice.tibetan import (
    UnspeakableText,
    has_spoken_form,
    ipa_to_mnemonics,
    to_phonemes,
    word_ipa,
)
from devices.voice.tibetan_numbers import amount_words, digit_words, number_words
from devices.voice.tibetan_spelling import spell_syllable
from kiosk.spoken import spoken_by
from tests.fixtures_media import wav_samples

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")

_TONE_LETTERS = str.maketrans({"1": "˥", "2": "˩˨", "3": "˥˨", "4": "˩˧˨"})

# Word, its Lhasa pronunciation as bophono's MST schema writes it (Tournadre's Manual of Standard
# Tibetan; final r/l as length, unreleased final stops), and the mnemonics we give espeak-ng.
# Checked by hand against the MST rules: tone from the root letter (high after ka kha ca ..., low
# after ga nga ja ...), high-falling / low-rising-falling before a final stop, aspiration only on a
# word's first syllable, low-tone onsets voiced, final -g/-gs as a glottal stop.
LHASA_WORDS = [
    ("བཀྲ་ཤིས", "ʈa˥.ɕi", "ts.'a55S;'i44"),            # high tone, retroflex from kr
    ("བདེ་ལེགས", "de˩˨.lɛʔk̚", "d'e22l'E44?"),          # low tone, voiced onset, final stop
    ("ཐུགས་རྗེ", "tʰu˥˨k.tɕe", "th'u51ktS;'e44"),      # aspirated, high falling before the stop
    ("ཆེ", "tɕʰe˥", "tS;h'e55"),                       # aspirated affricate, high
    ("ཁ", "kʰa˥", "kh'a55"),                           # aspirated velar, high
    ("གསུམ", "su˥m", "s'u55m"),                        # prefix g- silent, high, final m
    ("དྲུག", "ʈu˩˧˨ʔk̚", "ts.'u21?"),                   # dr -> retroflex, low rising-falling, stop
    ("ཕྱག", "tɕʰa˥˨ʔk̚", "tS;h'a51?"),                 # phy -> aspirated palatal affricate
    ("ཉིན", "ɲi\u0303˩˨n̚", "n^'i22n"),                       # low, final n nasalises the vowel
    ("ལྷ་ས", "l̥ʰa˥.sə", "l#'a55s'@44"),               # voiceless l, second-syllable schwa
    ("ལག་ཁྱེར", "la˩˧˨.ɟ̊ɛː", "l'a21c'E:44"),          # aspiration lost after the first syllable
    ("བོད་སྐད", "pø˩˧˨.g̊ɛ", "p'y21k'E44"),            # umlaut from -d, low rising-falling
    ("ཡིག་ཆ", "ji˩˧˨k.tɕə", "j'i21ktS;'@44"),
    ("རྒྱ་མཚོ", "ɟa˩˨m.dz̥o", "J'a22mts'o44"),         # nasal from the next prefix m-
    ("ཞབས་ཞུ", "ɕə˩˧˨p.ɕu", "S;'@21pS;'u44"),          # final -bs as p
    ("ལྔ", "ŋa˥", "N'a55"),                            # five: high
    ("ང", "ŋa˩˨", "N'a22"),                            # I: the same sounds, low
]


@pytest.mark.parametrize(("word", "ipa", "mnemonics"), LHASA_WORDS)
def test_lhasa_words_convert_with_tones_aspiration_and_final_stops(word: str, ipa: str, mnemonics: str) -> None:
    assert word_ipa(word).translate(_TONE_LETTERS) == ipa
    assert ipa_to_mnemonics(word_ipa(word)) == mnemonics


def test_spoken_form_words_get_their_own_tone_and_the_phrase_falls_at_the_end() -> None:
    # The VOICE-TIBETAN.md example: as words, ཆེ keeps its own aspirated high tone.
    made = to_phonemes("ཐུགས་རྗེ་ཆེ།", "ཐུགས་རྗེ ཆེ།")
    assert made.phonemes == "[[th'u51ktS;'e44 tS;h'e55 _]]" and made.segmented
    assert to_phonemes("བཀྲ་ཤིས་བདེ་ལེགས།", "བཀྲ་ཤིས བདེ་ལེགས།").phonemes == "[[ts.'a55S;'i44 d'e22l'E53? _]]"
    # Read as one phrase bophono would merge ཆེ into the word before (unaspirated, toneless): wrong.
    assert word_ipa("ཐུགས་རྗེ་ཆེ").endswith("dʑ̥e")


def test_without_spoken_form_each_syllable_is_a_word_and_it_says_so() -> None:
    made = to_phonemes("བཀྲ་ཤིས་བདེ་ལེགས།")
    assert not made.segmented and not has_spoken_form(None) and not has_spoken_form("  ")
    assert made.phonemes == "[[ts.'a55 S;'i51 d'e22 l'E21? _]]"
    assert has_spoken_form("བཀྲ་ཤིས བདེ་ལེགས")
    assert not to_phonemes("བཀྲ་ཤིས", "   ").segmented  # a blank spoken form is no spoken form


def test_every_syllable_bophono_knows_parses_to_mnemonics() -> None:
    import bophono

    data = Path(bophono.__file__).with_name("data")
    roots = [line.split(",")[0].rstrip("*") for line in (data / "roots.csv").read_text("utf-8").splitlines()
             if line and not line.startswith("#")]
    ends = [line.split(",")[0] for line in (data / "ends.csv").read_text("utf-8").splitlines()
            if line and not line.startswith("#")]
    words = [root + end for root in roots for end in ends[:: max(1, len(ends) // 12)]]
    words += ["ཀ" + end for end in ends] + [f"{w}་{w}" for w in words[::7]]
    for word in words:
        ipa = word_ipa(word)
        if ipa:  # a root + end pair Tibetan does not have reads as nothing: spelled elsewhere
            assert ipa_to_mnemonics(ipa)


@needs_espeak
def test_espeak_knows_every_mnemonic_we_produce(tmp_path: Path) -> None:
    # espeak-ng drops an unknown mnemonic without a word; -x echoes what it understood.
    from devices.voice import tibetan

    onsets = sorted({m for m in tibetan._CONSONANTS.values() if m})
    vowels = sorted(set(tibetan._VOWELS.values()))
    sample = " ".join([f"{o}'a55" for o in onsets] + [f"m'{v}22" for v in vowels]
                      + ["m'a:51m", "m'a21N", "m'a44n", "m'a53?", "m'a55k", "m'a55p"])
    data = ensure_data_dir(tmp_path)
    echo = subprocess.run(["espeak-ng", f"--path={data}", "-v", VOICE_NAME, "-x", "-q", f"[[{sample}]]"],
                          capture_output=True, text=True, timeout=30, check=True).stdout
    assert echo.replace("_|", "").replace("_", "").split() == sample.split()


def test_numbers_as_tibetan_words() -> None:
    assert number_words(0) == ["ཀླད་ཀོར"]
    assert number_words(11) == ["བཅུ་གཅིག"]
    assert number_words(15) == ["བཅོ་ལྔ"] and number_words(18) == ["བཅོ་བརྒྱད"]
    assert number_words(20) == ["ཉི་ཤུ"]
    assert number_words(21) == ["ཉི་ཤུ་རྩ་གཅིག"] and number_words(99) == ["དགུ་བཅུ་གོ་དགུ"]
    assert number_words(100) == ["བརྒྱ"]
    assert number_words(350) == ["སུམ་བརྒྱ་དང", "ལྔ་བཅུ"]
    assert number_words(2024) == ["སྟོང་ཕྲག་གཉིས་དང", "ཉི་ཤུ་རྩ་བཞི"]
    assert digit_words("༠༨༩") == digit_words("089") == ["ཀླད་ཀོར", "བརྒྱད", "དགུ"]
    assert amount_words("12", "50") == ["བཅུ་གཉིས", "ཚེག", "ལྔ", "ཀླད་ཀོར"]
    with pytest.raises(ValueError, match="digit by digit"):
        number_words(100_000_000)


def test_digits_in_text_are_never_dropped() -> None:
    # An amount is read as a number, Tibetan or ASCII digits alike.
    twenty_days = to_phonemes("ཉིན་༢༠").phonemes
    assert twenty_days == to_phonemes("ཉིན་20").phonemes == to_phonemes("", "ཉིན ཉི་ཤུ").phonemes
    # A code (leading zero, hyphen, letters) is read one character at a time, every digit in order.
    words = "ཀླད་ཀོར བརྒྱད དགུ གཅིག - དྲུག གསུམ གཉིས གཅིག གཉིས གསུམ བཞི"
    assert to_phonemes("0891-6321234").phonemes == to_phonemes("", words).phonemes
    tracking = to_phonemes("ཨང་གྲངས TK250101-7KQ2MX")
    assert tracking.spelled == tuple("TKKQMX")  # Latin letters spelled, and listed
    assert tracking.phonemes.count("th'i55") == 1 and tracking.phonemes.count("kh'ei55") == 2


def test_loan_letters_are_spelled_not_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    # bophono alone stops at a Sanskrit syllable, dropping the rest of the word (and prints the text).
    assert word_ipa("ཨོཾ་མ") == "" and word_ipa("མ་ཎི་མ") == "ma2"
    capsys.readouterr()
    made = to_phonemes("ཨོཾ་མ་ཎི་པདྨེ་ཧཱུྃ", "ཨོཾ་མ་ཎི་པདྨེ་ཧཱུྃ")
    assert made.spelled == ("ཨོཾ", "ཎི", "པདྨེ", "ཧཱུྃ")
    assert spell_syllable("ཨོཾ") == ["ཨ", "ན་རོ", "རྗེས་སུ་ང་རོ"]
    assert spell_syllable("ཎི") == ["ན་ལོག", "གི་གུ"]
    assert spell_syllable("ཀྵ") == ["ཀ", "ཤ་ལོག"]
    assert "m'a" in made.phonemes  # the readable syllable between them is still read
    assert made.phonemes.startswith("[['a55 n'a22R'o44 dZ;'E21s'u44N'@44R'o44 m'a22 ")  # ཨ ན་རོ རྗེས་སུ་ང་རོ, མ
    assert capsys.readouterr().out == ""  # nothing printed: the text may be personal


def test_bophonos_broken_exception_entry_does_not_drop_a_syllable(capsys: pytest.CaptureFixture[str]) -> None:
    # bophono 0.2.0's exception for མི་འདུག ("is not", in many prompts) is malformed: it read as "min".
    assert ipa_to_mnemonics(word_ipa("མི་འདུག")) == "m'i22t'u44?"
    assert capsys.readouterr().out == ""


def test_chinese_or_other_scripts_in_a_tibetan_text_are_refused() -> None:
    for text in ("请插入身份证", "བཀྲ་ཤིས་ 你好", "ཨང་གྲངས ٣"):
        with pytest.raises(UnspeakableText, match="cannot read"):
            to_phonemes(text)
    with pytest.raises(UnspeakableText, match="nothing to say"):
        to_phonemes("། ། ", None)


def _f0(samples: np.ndarray, rate: int) -> float:
    """Median F0 (Hz) of the voiced frames, by autocorrelation: 40 ms frames, 60-300 Hz."""
    x = samples.astype(np.float64)
    frame, hop = int(0.04 * rate), int(0.01 * rate)
    lo, hi = int(rate / 300), int(rate / 60)
    energy = np.array([np.sum(x[i:i + frame] ** 2) for i in range(0, len(x) - frame, hop)])
    f0s = []
    for n, i in enumerate(range(0, len(x) - frame, hop)):
        if energy[n] < 0.3 * energy.max():
            continue
        seg = x[i:i + frame] - x[i:i + frame].mean()
        ac = np.correlate(seg, seg, mode="full")[frame - 1:]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:  # periodic enough to be voiced
            f0s.append(rate / lag)
    assert f0s, "no voiced frame"
    return float(np.median(f0s))


@needs_espeak
def test_voice_renders_speech_and_high_tone_is_higher_than_low(tmp_path: Path) -> None:
    voice = SyntheticTibetan(tmp_path / "cache")
    sentence = to_phonemes("", "བཀྲ་ཤིས བདེ་ལེགས། ཁྱེད་ཀྱི ལག་ཁྱེར ནང་འཇུག གནང་རོགས།")
    samples, rate = wav_samples(voice.get(sentence.phonemes))
    assert len(samples) / rate > 1.0 and np.abs(samples).max() > 3000  # speech, not a click or silence
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 300
    # A minimal pair: ལྔ "five" (high) and ང "I" (low) differ only in tone.
    high = _f0(*wav_samples(voice.get(to_phonemes("ལྔ").phonemes)))
    low = _f0(*wav_samples(voice.get(to_phonemes("ང").phonemes)))
    assert high > 1.2 * low, (high, low)
    assert 60 < low < high < 300


@needs_espeak
def test_data_folder_is_built_once_in_the_cache_with_our_voice(tmp_path: Path) -> None:
    first = ensure_data_dir(tmp_path)
    voice_file = first / "voices" / VOICE_NAME
    assert voice_file.read_bytes() == (Path("devices/voice/espeak") / VOICE_NAME).read_bytes()
    assert (first / "phontab").resolve() == (system_data_dir() / "phontab").resolve()
    stamp = os.stat(voice_file).st_mtime_ns
    assert ensure_data_dir(tmp_path) == first and os.stat(voice_file).st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no staging folder left behind
    voice = SyntheticTibetan(tmp_path)
    phonemes = to_phonemes("ཐུགས་རྗེ་ཆེ།", "ཐུགས་རྗེ ཆེ།").phonemes
    assert voice.get(phonemes) == voice.get(phonemes) and voice.renders == 1  # cached


def test_spoken_by_says_how_each_language_is_heard() -> None:
    assert spoken_by("bo", True, synthetic_bo=False) == "clip"
    assert spoken_by("bo", False, synthetic_bo=True) == "synthetic"
    assert spoken_by("bo", False, synthetic_bo=False) == "silent"
    assert spoken_by("zh", False, synthetic_bo=False) == "synthetic"  # Mandarin TTS
