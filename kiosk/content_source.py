"""What a pack author writes: the shape of each source file, as pydantic models with readable rules.

pydantic walks every file and collects every error with its location; the annotated types below
turn its checks into the sentences an author reads (`must be true or false, not 'yes'`). Rules that
span several keys of one file (step order, duplicate field ids, keys that do not fit a field's
type) are `problems()` methods run once a file has the right shape; rules that span files (a
guide that must exist, an icon on disk) are the loader's (kiosk.content_load).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, PlainValidator
from pydantic import Field as Key
from pydantic_core import PydanticCustomError

from kiosk import content_model as model

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
FIELD_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")
_PHONE_RE = re.compile(r"^[0-9][0-9-]{2,19}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_TIBETAN = re.compile(r"[\u0f00-\u0fff]")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_ONCE = ("identify", "photo", "confirm", "submit", "receipt", "lookup", "guide")


def fail(reason: str) -> PydanticCustomError:
    """An error whose message is `reason` as written (pydantic's own would read "Value error, ...")."""
    return PydanticCustomError("pack", "{reason}", {"reason": reason})


def _plain(check: Callable[[Any], Any]) -> PlainValidator:
    return PlainValidator(check)


def _string(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise fail(f"must be a non-empty string, not {v!r}")
    return v


def _boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise fail(f"must be true or false, not {v!r}")
    return v


def _whole(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise fail(f"must be a whole number, not {v!r}")
    return v


def _number(v: Any) -> int | float:
    if not isinstance(v, int | float) or isinstance(v, bool):
        raise fail(f"must be a number, not {v!r}")
    return v


def _one_of(allowed: tuple[str, ...] | dict[str, Any], what: str) -> PlainValidator:
    def check(v: Any) -> str:
        if v not in allowed:
            raise fail(f"{v!r} is not {what} (expected one of {', '.join(allowed)})")
        return str(v)
    return _plain(check)


def _matching(rx: re.Pattern[str], what: str) -> PlainValidator:
    def check(v: Any) -> str:
        s = _string(v)
        if not rx.match(s):
            raise fail(f"{s!r} must be {what}")
        return s
    return _plain(check)


def _regex(v: Any) -> str:
    s = _string(v)
    try:
        re.compile(s)
    except re.error as e:
        raise fail(f"not a regular expression: {e}") from None
    return s


def _at_least_one(what: str) -> BeforeValidator:
    """A list of tables that must not be empty; pydantic then validates each table."""
    def check(v: Any) -> list[Any]:
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise fail("must be a list of tables ([[...]])")
        if not v:
            raise fail(what)
        return v
    return BeforeValidator(check)


Str = Annotated[str, _plain(_string)]
Bool = Annotated[bool, _plain(_boolean)]
Whole = Annotated[int, _plain(_whole)]
Number = Annotated[int | float, _plain(_number)]
Id = Annotated[str, _matching(ID_RE, "lowercase letters, digits and dashes")]
FieldId = Annotated[str, _matching(FIELD_ID_RE, "lowercase letters, digits and underscores")]
Lang = Annotated[str, _one_of(model.LANGS, "a kiosk language")]


def _script(lang: str) -> Callable[[Any], str]:
    """A text in one language: present for bo and zh, and written in that language's script."""
    def check(v: Any) -> str:
        if v is None or (isinstance(v, str) and not v.strip()):
            if lang in model.REQUIRED_LANGS:
                raise fail("text is missing (every text needs bo and zh)")
            return ""  # English: the loader warns, or refuses when en is a pack language
        if not isinstance(v, str):
            raise fail(f"must be a string, not {v!r}")
        if lang == "bo" and not _TIBETAN.search(v):
            raise fail("contains no Tibetan script")
        if lang == "zh" and not _CHINESE.search(v):
            raise fail("contains no Chinese characters")
        return v.strip()
    return check


def _spoken(v: Any) -> str:
    s = _string(v)
    if not _TIBETAN.search(s) and not _CHINESE.search(s):
        raise fail("a spoken form is written in the language's own script")
    return " ".join(s.split())


Spoken = dict[Lang, Annotated[str, _plain(_spoken)]]


class Source(BaseModel):
    """A table in a source file: no unknown keys (a typo must not pass silently).

    Built on first use (defer_build): a kiosk UI imports kiosk.content for its models, never loads a pack.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    def problems(self) -> Iterator[tuple[str, str]]:
        """(key, reason) for each rule across this table's keys that it breaks; none by default."""
        return iter(())


class TextSource(Source):
    """A resident-facing text: bo (Tibetan script) and zh (Chinese) required, en recommended."""

    bo: Annotated[str, _plain(_script("bo"))] = Key(None, validate_default=True)
    zh: Annotated[str, _plain(_script("zh"))] = Key(None, validate_default=True)
    en: Annotated[str, _plain(_script("en"))] = ""


class ContactSource(Source):
    phone: Annotated[str, _matching(_PHONE_RE, "a phone number (digits and dashes)")]
    name: TextSource


class PackSource(Source):
    """pack.toml."""

    id: Id
    title: TextSource
    languages: list[Lang] = list(model.REQUIRED_LANGS)
    order: list[Str] | None = None
    contact: ContactSource | None = None

    def problems(self) -> Iterator[tuple[str, str]]:
        for lang in model.REQUIRED_LANGS:
            if lang not in self.languages:
                yield "languages", f"must include {lang!r}"


class PromptSource(TextSource):
    """One [prompt] of prompts.toml: its text, its spoken form, and explicitly named clips."""

    spoken: Spoken = {}
    clip_bo: Str | None = None
    clip_zh: Str | None = None
    clip_en: Str | None = None

    def clips(self) -> dict[str, str]:
        named = {lang: getattr(self, f"clip_{lang}") for lang in model.LANGS}
        return {lang: rel for lang, rel in named.items() if rel}


class ClipSidecar(Source):
    """clips/<lang>/<key>.json, beside the clip it describes."""

    schema_: Annotated[str, _one_of((model.CLIP_SCHEMA,), "a clip sidecar schema")] = Key(alias="schema")
    text_sha256: Annotated[str, _matching(_SHA256_RE, "64 lowercase hex digits (sha256 of the text)")]
    origin: Annotated[model.ClipOrigin, _one_of(get_args(model.ClipOrigin), "a clip origin")]
    lufs: Number
    duration_s: Number
    made_at: str = ""  # UTC ISO-8601


class FormFieldSource(Source):
    label: TextSource
    lines: Whole = 1

    def problems(self) -> Iterator[tuple[str, str]]:
        if not 1 <= self.lines <= 20:
            yield "lines", f"{self.lines} must be between 1 and 20"


class FormSource(Source):
    """forms/<id>.toml: a printable blank form."""

    title: TextSource
    note: TextSource | None = None
    fields: Annotated[list[FormFieldSource], _at_least_one("a form needs at least one field")]

    def problems(self) -> Iterator[tuple[str, str]]:
        for i, f in enumerate(self.fields):
            yield from _under(f"fields[{i}]", f.problems())


class ChoiceSource(Source):
    value: Str
    label: TextSource


class FieldSource(Source):
    """One field of a form step. With `source` it is filled from the ID card."""

    id: FieldId
    label: TextSource
    type: Annotated[str, _one_of(model.FIELD_TYPES, "a field type")] = "text"
    source: Annotated[str, _one_of(model.CARD_FIELDS, "a card field")] | None = None
    required: Bool = False
    pattern: Annotated[str, _plain(_regex)] | None = None
    min_length: Whole | None = None
    max_length: Whole | None = None
    min: Number | None = None
    max: Number | None = None
    choices: list[ChoiceSource] = []
    hint: TextSource | None = None

    def problems(self) -> Iterator[tuple[str, str]]:
        for name, lo, hi in (("min_length", self.min_length, self.max_length), ("min", self.min, self.max)):
            if lo is not None and hi is not None and lo > hi:
                yield name, f"{lo} is greater than the maximum {hi}"
        if (self.min_length is not None and self.min_length < 0) or (self.max_length is not None
                                                                     and self.max_length < 1):
            yield "min_length", "lengths must be positive"
        belongs = {"pattern": "text", "min_length": "text", "max_length": "text", "min": "number",
                   "max": "number", "choices": "choice"}
        for key, ftype in belongs.items():
            if key in self.model_fields_set and self.type != ftype:
                yield key, f"does not apply to a {self.type!r} field"
        if self.type == "choice" and not self.choices:
            yield "choices", "a choice field needs at least one choice"
        seen: set[str] = set()
        for k, c in enumerate(self.choices):
            if c.value in seen:
                yield f"choices[{k}].value", f"{c.value!r} is used twice"
            seen.add(c.value)


def _methods(v: Any) -> list[str]:
    if not isinstance(v, list) or not v or not all(m in model.IDENTIFY_METHODS for m in v):
        raise fail(f"{v!r} must be a non-empty list of {', '.join(model.IDENTIFY_METHODS)}")
    return list(dict.fromkeys(v))


class _StepSource(Source):
    prompt: Str | None = None  # a prompt id spoken on arrival instead of the default


class IdentifyStep(_StepSource):
    kind: Literal["identify"]
    methods: Annotated[list[str], _plain(_methods)] = ["card"]


class FormStep(_StepSource):
    kind: Literal["form"]
    fields: Annotated[list[FieldSource], _at_least_one("a form step needs at least one field")]


class PhotoStep(_StepSource):
    kind: Literal["photo"]
    required: Bool = True


class LookupStep(_StepSource):
    kind: Literal["lookup"]
    query: Annotated[str, _one_of(model.LOOKUP_QUERIES, "a lookup")] = "progress"


class PlainStep(_StepSource):
    kind: Literal["confirm", "submit", "receipt", "guide"]


StepSource = Annotated[IdentifyStep | FormStep | PhotoStep | LookupStep | PlainStep, Discriminator("kind")]
STEP_MODELS: dict[str, type[Source]] = {
    "identify": IdentifyStep, "form": FormStep, "photo": PhotoStep, "lookup": LookupStep,
    "confirm": PlainStep, "submit": PlainStep, "receipt": PlainStep, "guide": PlainStep,
}


class ServiceSource(Source):
    """services/<id>.toml."""

    id: Id
    category: Annotated[str, _one_of(model.CATEGORIES, "a category")]
    platform_service_code: Annotated[str, _matching(_CODE_RE, "capital letters, digits and dashes")] | None = None
    guide: Str | None = None
    form: Str | None = None
    icon: Str | None = None
    title: TextSource
    summary: TextSource
    processing_time: TextSource | None = None
    next_steps: TextSource | None = None
    spoken_title: Spoken = {}
    documents: list[TextSource] = []
    steps: Annotated[list[StepSource], _at_least_one("a service needs at least one step")]

    def problems(self) -> Iterator[tuple[str, str]]:
        field_ids: dict[str, str] = {}
        for i, step in enumerate(self.steps):
            for j, f in enumerate(step.fields if isinstance(step, FormStep) else ()):
                key = f"steps[{i}].fields[{j}]"
                yield from _under(key, f.problems())
                if f.id in field_ids:
                    yield f"{key}.id", f"{f.id!r} is already used by {field_ids[f.id]}"
                else:
                    field_ids[f.id] = key
        yield from self._order()

    def _order(self) -> Iterator[tuple[str, str]]:
        """The rules that keep a resident's path sensible (and a submission routable)."""
        seen: dict[str, int] = {}
        card = False
        for i, s in enumerate(self.steps):
            key = f"steps[{i}]"
            if s.kind in _ONCE and s.kind in seen:
                yield key, f"a second {s.kind!r} step (the first is steps[{seen[s.kind]}])"
            if isinstance(s, IdentifyStep):
                card = "card" in s.methods
            if isinstance(s, FormStep) and any(f.source for f in s.fields) and not card:
                yield key, "fields with a card source need an identify step with 'card' before them"
            if s.kind == "submit":
                if not self.platform_service_code:
                    yield "platform_service_code", "required because the service has a submit step"
                if "identify" not in seen:
                    yield key, "submit needs an identify step before it"
                if "confirm" not in seen:
                    yield key, "submit needs a confirm step before it (residents check before sending)"
            if s.kind == "receipt" and "submit" not in seen:
                yield key, "receipt must come after a submit step"
            if s.kind == "guide" and not self.guide:
                yield key, "a guide step needs the service's `guide` key"
            if isinstance(s, LookupStep):
                if "identify" not in seen:
                    yield key, "lookup needs an identify step before it"
                elif s.query == "insurance_payments" and not card:
                    yield key, "an insurance_payments lookup needs 'card' in the identify methods"
            seen.setdefault(s.kind, i)


def _under(prefix: str, problems: Iterator[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    for key, reason in problems:
        yield f"{prefix}.{key}", reason
