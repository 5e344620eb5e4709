"""What a submission's receipt says: everything a resident needs to act on it later, in their language with
the other kiosk language beside it (the printer puts it beneath).

The time printed is the edge's trusted time of acceptance (`wire.SUBMISSION_ACCEPTED_AT`); when the edge's
clock was not verified there is none, and the receipt prints no date and no time rather than a wrong one (a
resident counts the processing time from it). The ID number is the masked one; nothing here is logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, Protocol

from kiosk import i18n, wire
from kiosk.trusted_time import parse_time

TIME_FORMAT = "%Y-%m-%d %H:%M"

# Words only receipts use, key: (bo, zh, en). bo: to be reviewed by the translators.
_WORDS: dict[str, tuple[str, str, str]] = {
    "processing_time": ("ལས་དོན་སྒྲུབ་པའི་དུས་ཚོད།", "办理时限", "Processing time"),
    "next_steps": ("རྗེས་མའི་བྱ་རིམ།", "接下来", "What happens next"),
    "follow_up": ("QR ཨང་རྟགས་འདི་རང་སྒྲུབ་འཕྲུལ་ཆས་གང་རུང་དུ་བཤེར་ནས་ཞུ་ཡིག་གི་འཕེལ་རིམ་ལྟ་ཆོག",
                  "在任何一台自助机上扫描此二维码，可查看申请办到哪一步了",
                  "Scan this QR code at any kiosk to see how your application is going"),
    "hotline": ("འབྲེལ་གཏུག་ཁ་པར།", "咨询电话", "Hotline"),
}


class Words(Protocol):
    """Text in each kiosk language: a pack's `Text`, the config's `HallName`."""

    def get(self, lang: str) -> str: ...


class Hotline(Protocol):
    """The pack's `Contact`: the platform's phone line."""

    phone: str
    name: Words


@dataclass(frozen=True)
class ReceiptContent:
    """A receipt in `lang`. `alt` is the same receipt in the other language, item for item (its own `alt` is
    None), printed beneath; values (tracking number, masked ID, time) are the same in both and printed once."""

    title: str
    lines: list[tuple[str, str]]  # (label, value): tracking number, masked ID, date and time when trusted
    qr: str | None
    footer: str
    lang: str
    hall: str = ""                # where it was handed in
    notes: list[tuple[str, str]] = field(default_factory=list)  # (heading, text): processing time, next steps
    qr_caption: str = ""          # how to follow up: this QR at any kiosk, the platform's phone line
    alt: ReceiptContent | None = None


def accepted_at(submission: Mapping[str, Any], tz: tzinfo | None) -> str | None:
    """The edge's trusted time of acceptance as local wall time in `tz` (None: this box's zone), or None
    when the edge did not vouch for one."""
    stamp = submission.get(wire.SUBMISSION_ACCEPTED_AT)
    if not isinstance(stamp, str):
        return None
    try:
        return parse_time(stamp).astimezone(tz).strftime(TIME_FORMAT)
    except ValueError:
        return None


def build(service: Any, submission: Mapping[str, Any], masked_id: str | None, lang: str, *,
          hall: Words | None = None, contact: Hotline | None = None, tz: tzinfo | None = None) -> ReceiptContent:
    """The receipt for `submission` (the edge's answer) to `service` in `lang`, the other language as `alt`."""
    values = [("tracking_number", submission.get("tracking_number") or "")]
    if masked_id:
        values.append(("id_number", masked_id))
    if (when := accepted_at(submission, tz)) is not None:
        values.append(("date", when))

    def side(lang: str, alt: ReceiptContent | None) -> ReceiptContent:
        notes = [(_word(key, lang), text.get(lang))
                 for key, text in (("processing_time", service.processing_time), ("next_steps", service.next_steps))
                 if text is not None]
        caption = _word("follow_up", lang)
        if contact is not None:
            caption += f"\n{contact.name.get(lang) or _word('hotline', lang)} {contact.phone}"
        online = submission.get("forwarded")
        return ReceiptContent(
            title=service.title.get(lang), lines=[(i18n.tr(key, lang), value) for key, value in values],
            qr=submission.get("tracking_number"), lang=lang, alt=alt,
            footer=i18n.tr("submitted_online" if online else "submitted_offline", lang),
            hall=hall.get(lang) if hall is not None else "", notes=notes, qr_caption=caption)

    return side(lang, side(i18n.other_language(lang), None))


def _word(key: str, lang: str) -> str:
    return i18n.lookup(_WORDS, key, lang)
