"""The content model: what a pack says, as frozen pydantic models that travel as JSON.

The edge loads a pack from disk (kiosk.content_load) and sends services, guides, forms and prompts
to the kiosk UI as `to_dict()` JSON (`model_dump`); the UI rebuilds the same objects with
`from_dict()` (`model_validate`). The rules an author must follow are checked by the loader on the
pack's sources; these models only describe the result. Nothing here touches the disk except
`Pack.clip_path`, which only joins paths.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict

from kiosk.content_markdown import Block, parse_markdown

LANGS = ("bo", "zh", "en")
REQUIRED_LANGS = ("bo", "zh")  # every text a resident may see exists in both
CARD_FIELDS = ("name", "gender", "nation", "birth_date", "address", "id_number", "id_masked")
FIELD_TYPES = ("text", "phone", "number", "choice", "date", "yesno")
PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")  # a "phone" field: mainland mobile, 11 digits, 13x..19x
STEP_KINDS = ("identify", "form", "photo", "confirm", "submit", "receipt", "guide", "lookup")
IDENTIFY_METHODS = ("card", "qr")  # card = resident ID card; qr = the QR on a kiosk receipt
# What a lookup step asks for: an application's progress, or the resident's social-insurance payments.
LOOKUP_QUERIES = ("progress", "insurance_payments")

# Prompts the kiosk UI speaks/shows on its own screens; every pack must define them.
REQUIRED_PROMPTS = (
    "home", "choose_service", "insert_card", "reading_card", "card_error_retry", "card_error_counter",
    "fill_form", "enter_phone", "take_photo", "photo_move_closer", "photo_look_at_camera", "confirm",
    "submitting", "submitted_online", "submitted_offline", "receipt_printing", "receipt_taken",
    "printer_no_paper", "lookup_choose", "lookup_show_qr", "lookup_result", "lookup_offline", "feedback",
    "thanks", "idle_warning", "session_ended", "guide_reading", "print_guide", "print_form",
    "language_switched", "need_help_counter",
)

# Recorded clips: clips/<lang>/<key>.wav beside a clips/<lang>/<key>.json sidecar (ClipMeta).
CLIP_SCHEMA = "kiosk.clip/1"
CLIP_LUFS = -23.0  # one loudness target for the whole pack (EBU R128), so no prompt is louder than another
ClipOrigin = Literal["recorded", "imported", "stand-in"]  # stand-in: a placeholder, never a native recording
ClipState = Literal["clip", "stale", "missing"]


def text_hash(text: str) -> str:
    """What a clip's sidecar remembers of the words it speaks: sha256 of the NFC-normalised, stripped text."""
    return hashlib.sha256(unicodedata.normalize("NFC", text.strip()).encode("utf-8")).hexdigest()


def title_key(service_id: str) -> str:
    """The clip key of a service's title (prompt ids never contain a dot, so the two cannot clash)."""
    return f"service.{service_id}.title"


class _Model(BaseModel):
    """Frozen, and constructible positionally like the dataclasses these models replaced."""

    model_config = ConfigDict(frozen=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = list(type(self).model_fields)
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes at most {len(names)} positional arguments")
        super().__init__(**dict(zip(names, args, strict=False)), **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the edge serves."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        """Back from the JSON form (pydantic.ValidationError if it is not one)."""
        return cls.model_validate(d)


class Text(_Model):
    """One piece of resident-facing text in every kiosk language."""

    bo: str = ""
    zh: str = ""
    en: str = ""

    def get(self, lang: str) -> str:
        """The text in `lang`; a missing translation falls back to Chinese, then English."""
        own = getattr(self, lang, "") if lang in LANGS else ""
        return own or self.zh or self.en


# Service categories in home-screen order.
CATEGORIES: dict[str, Text] = {
    "social_security": Text("སྤྱི་ཚོགས་འགན་ལེན།", "社会保障", "Social security"),
    "medical": Text("སྨན་བཅོས་འགན་ལེན།", "医疗保障", "Medical insurance"),
    "agriculture": Text("ཞིང་འབྲོག", "农牧业", "Farming and herding"),
    "civil_affairs": Text("དམངས་སྲིད།", "民政", "Civil affairs"),
    "household": Text("ཐེམ་ཐོ་དང་སྡོད་གནས།", "户籍与居住", "Household and residence"),
    "employment": Text("ལས་ཞུགས།", "就业", "Employment"),
    "education": Text("སློབ་གསོ།", "教育", "Education"),
    "general": Text("སྤྱི་ཡོངས་ཞབས་ཞུ།", "综合服务", "General"),
}


class ClipMeta(_Model):
    """A recorded clip's sidecar: which text it speaks (its hash), where it came from, how loud and long."""

    text_sha256: str
    origin: ClipOrigin
    lufs: float
    duration_s: float
    made_at: str = ""  # UTC ISO-8601

    def sidecar_bytes(self) -> bytes:
        """The sidecar file's contents (clips/<lang>/<key>.json)."""
        return json.dumps({"schema": CLIP_SCHEMA, **self.to_dict()}, ensure_ascii=False, indent=1).encode()


class Choice(_Model):
    value: str
    label: Text


class Field(_Model):
    """One form field. With `source` it is filled from the ID card and read-only."""

    id: str
    label: Text
    type: str = "text"
    source: str | None = None
    required: bool = False
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    min: int | float | None = None
    max: int | float | None = None
    choices: tuple[Choice, ...] = ()
    hint: Text | None = None

    @property
    def read_only(self) -> bool:
        return self.source is not None


class Step(_Model):
    """One step of a service. Only the attributes of its kind are meaningful (see the loader)."""

    kind: str
    methods: tuple[str, ...] = ()        # identify
    fields: tuple[Field, ...] = ()       # form
    required: bool = False               # photo
    query: str | None = None             # lookup
    prompt: str | None = None            # any: a prompt id spoken on arrival instead of the default


class Service(_Model):
    id: str
    category: str
    title: Text
    summary: Text
    steps: tuple[Step, ...]
    documents: tuple[Text, ...] = ()
    platform_service_code: str | None = None
    guide: str | None = None
    form: str | None = None
    icon: str | None = None  # path relative to the pack root
    processing_time: Text | None = None  # how long the office takes, e.g. 20个工作日 (printed on the receipt)
    next_steps: Text | None = None       # what happens after submitting
    spoken_title: dict[str, str] = {}    # lang -> the title's spoken form, words separated by spaces
    title_clips: dict[str, str] = {}     # lang -> pack-relative WAV of the title
    title_clip_meta: dict[str, ClipMeta] = {}

    @property
    def fields(self) -> tuple[Field, ...]:
        """Every form field of every form step, in order."""
        return tuple(f for s in self.steps if s.kind == "form" for f in s.fields)

    def has_step(self, kind: str) -> bool:
        return any(s.kind == kind for s in self.steps)


class Guide(_Model):
    """A service guide: Markdown (headings, paragraphs, bullet and numbered lists) per language."""

    id: str
    markdown: dict[str, str]

    def text(self, lang: str) -> str:
        return self.markdown.get(lang) or self.markdown.get("zh") or self.markdown.get("en", "")

    def blocks(self, lang: str) -> list[Block]:
        """The guide as blocks, for screens, speech and printing."""
        return parse_markdown(self.text(lang))


class FormField(_Model):
    """One line item of a printable blank form: a label and how many blank lines to leave."""

    label: Text
    lines: int = 1


class BlankForm(_Model):
    """A blank paper form residents take home or fill in at the counter."""

    id: str
    title: Text
    fields: tuple[FormField, ...]
    note: Text | None = None


class Prompt(_Model):
    """Words the kiosk shows and speaks; `clips` maps a language to a recorded WAV (pack-relative)."""

    id: str
    text: Text
    clips: dict[str, str] = {}
    clip_meta: dict[str, ClipMeta] = {}  # lang -> sidecar, for clips that have one
    spoken: dict[str, str] = {}  # lang -> spoken form: words separated by spaces, numbers spelled out


class Contact(_Model):
    """The platform's hotline, printed on receipts so a resident can follow up."""

    phone: str
    name: Text


class SpokenText(_Model):
    """One thing the kiosk speaks (a prompt or a service title), as the clip studio lists it."""

    key: str  # a prompt id, or title_key(service id)
    text: str
    spoken: str | None = None


class Problem(_Model):
    """Something wrong (or, as a warning, worth fixing) in a pack: which file, which key, why."""

    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}" if self.key else f"{self.file}: {self.reason}"


class Pack(_Model):
    pack_id: str
    title: Text
    services: dict[str, Service]  # in home-screen order
    guides: dict[str, Guide]
    forms: dict[str, BlankForm]
    prompts: dict[str, Prompt]
    root: Path
    languages: tuple[str, ...] = REQUIRED_LANGS
    warnings: tuple[Problem, ...] = ()  # accepted, but worth fixing (missing English, unused files)
    contact: Contact | None = None

    def _spoken(self, key: str) -> tuple[Text, dict[str, str], dict[str, str], dict[str, ClipMeta]] | None:
        """(text, spoken forms, clips, clip sidecars) of a prompt id or a service-title key."""
        if (p := self.prompts.get(key)) is not None:
            return p.text, p.spoken, p.clips, p.clip_meta
        for s in self.services.values():
            if title_key(s.id) == key:
                return s.title, s.spoken_title, s.title_clips, s.title_clip_meta
        return None

    def clip_path(self, key: str, lang: str) -> Path | None:
        """The recorded clip for a prompt (or service title) in `lang`, or None (the voice driver then uses TTS)."""
        found = self._spoken(key)
        rel = found[2].get(lang) if found else None
        return self.root / rel if rel else None

    def missing_clips(self, lang: str) -> list[str]:
        """Prompt ids without a recorded clip in `lang` (reported, never faked)."""
        return [p.id for p in self.prompts.values() if lang not in p.clips]

    def clip_state(self, key: str, lang: str) -> ClipState:
        """"stale" when the text changed since the clip was recorded (its sidecar's hash differs)."""
        found = self._spoken(key)
        if found is None or lang not in found[2]:
            return "missing"
        meta = found[3].get(lang)
        if meta is not None and meta.text_sha256 != text_hash(getattr(found[0], lang, "")):
            return "stale"
        return "clip"

    def spoken_texts(self, lang: str) -> list[SpokenText]:
        """Every prompt, then every service title, with its text in `lang`: what the clip studio goes through."""
        keys = [*self.prompts, *(title_key(s) for s in self.services)]
        out = []
        for key in keys:
            text, spoken, _, _ = self._spoken(key) or (Text(), {}, {}, {})
            if words := getattr(text, lang, ""):
                out.append(SpokenText(key, words, spoken.get(lang)))
        return out
