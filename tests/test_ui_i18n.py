"""The UI catalog: every entry in Tibetan script and in Chinese, the same placeholders in each."""

from __future__ import annotations

import re
import string

from kiosk import i18n

_TIBETAN = re.compile(r"[\u0F00-\u0FFF]")
_CJK = re.compile(r"[\u4E00-\u9FFF]")


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_entry_has_real_tibetan_and_chinese():
    for key, (bo, zh, en) in i18n.catalog().items():
        if key == "language_other":  # the button names the other language, in that language
            assert _CJK.search(bo) and _TIBETAN.search(zh)
            continue
        assert _TIBETAN.search(bo), key
        assert _CJK.search(zh), key
        assert en, key
        assert _fields(bo) == _fields(zh) == _fields(en), key


def test_lookup_and_formatting():
    assert i18n.tr("idle_warning", "zh", seconds=20) == "还在用吗？20 秒后回到首页"
    assert i18n.tr("home", "en") == "Home"
    assert i18n.tr("no_such_key", "zh") == "no_such_key"  # a bug shows the key, it does not crash
    assert i18n.other_language("bo") == "zh" and i18n.other_language("zh") == "bo"


def test_every_field_error_code_has_words():
    from kiosk.flows.validation import validate  # noqa: F401 (the codes live in its docstring)

    for code in ("required", "phone", "number", "too_small", "too_large", "too_short", "too_long", "pattern",
                 "choice", "date", "yesno", "read_only", "photo_required", "unknown"):
        assert i18n.has(f"err_{code}"), code


def test_every_application_status_has_words():
    from kiosk import wire

    for status in wire.STATUSES:
        assert i18n.has(f"status_{status}")
