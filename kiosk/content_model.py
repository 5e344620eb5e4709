"""The content model: what a pack says, as frozen dataclasses that travel as JSON.

The edge loads a pack from disk (kiosk.content_load) and sends services, guides, forms and prompts
to the kiosk UI as `to_dict()` JSON; the UI rebuilds the same objects with `from_dict()`. Nothing
here touches the disk except `Pack.clip_path`, which only joins paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Text:
    """One piece of resident-facing text in every kiosk language."""

    bo: str
    zh: str
    en: str = ""

    def get(self, lang: str) -> str:
        """The text in `lang`; a missing translation falls back to Chinese, then English."""
        own = getattr(self, lang, "") if lang in LANGS else ""
        return own or self.zh or self.en

    def to_dict(self) -> dict[str, str]:
        return {"bo": self.bo, "zh": self.zh, "en": self.en}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Text:
        return cls(str(d.get("bo", "")), str(d.get("zh", "")), str(d.get("en", "")))


def _opt_text(d: dict[str, Any] | None) -> Text | None:
    return Text.from_dict(d) if d else None


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


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "label": self.label.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Choice:
        return cls(str(d["value"]), Text.from_dict(d["label"]))


@dataclass(frozen=True)
class Field:
    """One form field. With `source` it is filled from the ID card and read-only."""

    id: str
    label: Text
    type: str = "text"
    source: str | None = None
    required: bool = False
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    choices: tuple[Choice, ...] = ()
    hint: Text | None = None

    @property
    def read_only(self) -> bool:
        return self.source is not None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label.to_dict(), "type": self.type, "source": self.source,
                "required": self.required, "pattern": self.pattern, "min_length": self.min_length,
                "max_length": self.max_length, "min": self.min, "max": self.max,
                "choices": [c.to_dict() for c in self.choices],
                "hint": self.hint.to_dict() if self.hint else None}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Field:
        return cls(id=str(d["id"]), label=Text.from_dict(d["label"]), type=str(d.get("type", "text")),
                   source=d.get("source"), required=bool(d.get("required", False)),
                   pattern=d.get("pattern"), min_length=d.get("min_length"), max_length=d.get("max_length"),
                   min=d.get("min"), max=d.get("max"),
                   choices=tuple(Choice.from_dict(c) for c in d.get("choices") or ()),
                   hint=_opt_text(d.get("hint")))


@dataclass(frozen=True)
class Step:
    """One step of a service. Only the attributes of its kind are meaningful (see the loader)."""

    kind: str
    methods: tuple[str, ...] = ()        # identify
    fields: tuple[Field, ...] = ()       # form
    required: bool = False               # photo
    query: str | None = None             # lookup
    prompt: str | None = None            # any: a prompt id spoken on arrival instead of the default

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "methods": list(self.methods), "fields": [f.to_dict() for f in self.fields],
                "required": self.required, "query": self.query, "prompt": self.prompt}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Step:
        return cls(kind=str(d["kind"]), methods=tuple(d.get("methods") or ()),
                   fields=tuple(Field.from_dict(f) for f in d.get("fields") or ()),
                   required=bool(d.get("required", False)), query=d.get("query"), prompt=d.get("prompt"))


@dataclass(frozen=True)
class Service:
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

    @property
    def fields(self) -> tuple[Field, ...]:
        """Every form field of every form step, in order."""
        return tuple(f for s in self.steps if s.kind == "form" for f in s.fields)

    def has_step(self, kind: str) -> bool:
        return any(s.kind == kind for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "title": self.title.to_dict(),
                "summary": self.summary.to_dict(), "steps": [s.to_dict() for s in self.steps],
                "documents": [t.to_dict() for t in self.documents],
                "platform_service_code": self.platform_service_code, "guide": self.guide,
                "form": self.form, "icon": self.icon}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Service:
        return cls(id=str(d["id"]), category=str(d["category"]), title=Text.from_dict(d["title"]),
                   summary=Text.from_dict(d["summary"]),
                   steps=tuple(Step.from_dict(s) for s in d["steps"]),
                   documents=tuple(Text.from_dict(t) for t in d.get("documents") or ()),
                   platform_service_code=d.get("platform_service_code"), guide=d.get("guide"),
                   form=d.get("form"), icon=d.get("icon"))


@dataclass(frozen=True)
class Guide:
    """A service guide: Markdown (headings, paragraphs, bullet and numbered lists) per language."""

    id: str
    markdown: dict[str, str]

    def text(self, lang: str) -> str:
        return self.markdown.get(lang) or self.markdown.get("zh") or self.markdown.get("en", "")

    def blocks(self, lang: str) -> list[Block]:
        """The guide as blocks, for screens, speech and printing."""
        return parse_markdown(self.text(lang))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "markdown": dict(self.markdown)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Guide:
        return cls(str(d["id"]), {str(k): str(v) for k, v in d["markdown"].items()})


@dataclass(frozen=True)
class FormField:
    """One line item of a printable blank form: a label and how many blank lines to leave."""

    label: Text
    lines: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label.to_dict(), "lines": self.lines}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FormField:
        return cls(Text.from_dict(d["label"]), int(d.get("lines", 1)))


@dataclass(frozen=True)
class BlankForm:
    """A blank paper form residents take home or fill in at the counter."""

    id: str
    title: Text
    fields: tuple[FormField, ...]
    note: Text | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title.to_dict(), "fields": [f.to_dict() for f in self.fields],
                "note": self.note.to_dict() if self.note else None}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BlankForm:
        return cls(str(d["id"]), Text.from_dict(d["title"]),
                   tuple(FormField.from_dict(f) for f in d["fields"]), _opt_text(d.get("note")))


@dataclass(frozen=True)
class Prompt:
    """Words the kiosk shows and speaks; `clips` maps a language to a recorded WAV (pack-relative)."""

    id: str
    text: Text
    clips: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text.to_dict(), "clips": dict(self.clips)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Prompt:
        return cls(str(d["id"]), Text.from_dict(d["text"]), {str(k): str(v) for k, v in (d.get("clips") or {}).items()})


@dataclass(frozen=True)
class Problem:
    """Something wrong (or, as a warning, worth fixing) in a pack: which file, which key, why."""

    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}" if self.key else f"{self.file}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "key": self.key, "reason": self.reason}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        return cls(str(d["file"]), str(d.get("key", "")), str(d["reason"]))


@dataclass(frozen=True)
class Pack:
    pack_id: str
    title: Text
    services: dict[str, Service]  # in home-screen order
    guides: dict[str, Guide]
    forms: dict[str, BlankForm]
    prompts: dict[str, Prompt]
    root: Path
    languages: tuple[str, ...] = REQUIRED_LANGS
    warnings: tuple[Problem, ...] = ()  # accepted, but worth fixing (missing English, unused files)

    def clip_path(self, prompt_id: str, lang: str) -> Path | None:
        """The recorded clip for a prompt in `lang`, or None (the voice driver then uses TTS)."""
        prompt = self.prompts.get(prompt_id)
        rel = prompt.clips.get(lang) if prompt else None
        return self.root / rel if rel else None

    def missing_clips(self, lang: str) -> list[str]:
        """Prompt ids without a recorded clip in `lang` (reported, never faked)."""
        return [p.id for p in self.prompts.values() if lang not in p.clips]

    def to_dict(self) -> dict[str, Any]:
        return {"pack_id": self.pack_id, "title": self.title.to_dict(),
                "services": [s.to_dict() for s in self.services.values()],
                "guides": [g.to_dict() for g in self.guides.values()],
                "forms": [f.to_dict() for f in self.forms.values()],
                "prompts": [p.to_dict() for p in self.prompts.values()],
                "root": str(self.root), "languages": list(self.languages),
                "warnings": [w.to_dict() for w in self.warnings]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Pack:
        services = (Service.from_dict(s) for s in d["services"])
        guides = (Guide.from_dict(g) for g in d.get("guides") or ())
        forms = (BlankForm.from_dict(f) for f in d.get("forms") or ())
        prompts = (Prompt.from_dict(p) for p in d.get("prompts") or ())
        return cls(pack_id=str(d["pack_id"]), title=Text.from_dict(d["title"]),
                   services={s.id: s for s in services}, guides={g.id: g for g in guides},
                   forms={f.id: f for f in forms}, prompts={p.id: p for p in prompts},
                   root=Path(d.get("root", ".")), languages=tuple(d.get("languages") or REQUIRED_LANGS),
                   warnings=tuple(Problem.from_dict(w) for w in d.get("warnings") or ()))
