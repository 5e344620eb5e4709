"""Reading and checking a content pack from its folder.

A pack is written by people, so the loader reports every problem it finds (file, key, reason),
not just the first: an author fixes a whole batch per build instead of one error per round trip.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from kiosk.content_markdown import unsupported
from kiosk.content_model import (
    CARD_FIELDS,
    CATEGORIES,
    FIELD_TYPES,
    IDENTIFY_METHODS,
    LANGS,
    LOOKUP_QUERIES,
    REQUIRED_LANGS,
    REQUIRED_PROMPTS,
    STEP_KINDS,
    BlankForm,
    Choice,
    Field,
    FormField,
    Guide,
    Pack,
    Problem,
    Prompt,
    Service,
    Step,
    Text,
)

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_FIELD_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")
_GUIDE_NAME_RE = re.compile(r"^([a-z0-9][a-z0-9-]{0,62})\.([a-z]{2})\.md$")
_TIBETAN = re.compile(r"[\u0f00-\u0fff]")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

_SERVICE_KEYS = {"id", "category", "platform_service_code", "guide", "form", "icon", "title", "summary",
                 "documents", "steps"}
_STEP_KEYS = {"identify": {"methods"}, "form": {"fields"}, "photo": {"required"}, "lookup": {"query"},
              "confirm": set(), "submit": set(), "receipt": set(), "guide": set()}
_FIELD_KEYS = {"id", "label", "type", "source", "required", "pattern", "min_length", "max_length", "min",
               "max", "choices", "hint"}
_ONCE = ("identify", "photo", "confirm", "submit", "receipt", "lookup", "guide")


class PackError(Exception):
    """A pack that must not be used; `.problems` lists everything found, one per line in str()."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def pack_files(root: Path) -> list[Path]:
    """The files that make up a pack (relative paths): what a build copies and ships to kiosks.

    Anything else in the folder (README, scripts, editor backups) stays with the authors.
    """
    globs = ("pack.toml", "prompts.toml", "services/*.toml", "guides/*.md", "forms/*.toml",
             "images/*.png", "audio/*/*.wav")
    found = {p for g in globs for p in root.glob(g) if p.is_file()}
    return sorted(p.relative_to(root) for p in found)


def load_pack(path: Path) -> Pack:
    """Load and check the pack in folder `path`; raise PackError listing every problem."""
    return _Loader(Path(path)).load()


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.languages: tuple[str, ...] = REQUIRED_LANGS

    # --- reporting and small readers ----------------------------------------------------------
    def bad(self, file: str, key: str, reason: str) -> None:
        self.problems.append(Problem(file, key, reason))

    def warn(self, file: str, key: str, reason: str) -> None:
        self.warnings.append(Problem(file, key, reason))

    def read_text(self, rel: str) -> str | None:
        p = self.root / rel
        if not p.is_file():
            self.bad(rel, "", "file is missing")
            return None
        try:
            return p.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            self.bad(rel, "", f"not UTF-8 text (byte {e.start})")
        except OSError as e:
            self.bad(rel, "", f"cannot read: {e.strerror}")
        return None

    def read_toml(self, rel: str) -> dict[str, Any] | None:
        text = self.read_text(rel)
        if text is None:
            return None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            self.bad(rel, "", f"not valid TOML: {e}")
            return None

    def keys(self, file: str, key: str, d: dict[str, Any], allowed: set[str],
             required: Collection[str] = (), what: str = "") -> None:
        for k in sorted(set(d) - allowed):
            hint = f" for {what}" if what else ""
            self.bad(file, _join(key, k), f"unknown key{hint} (allowed: {', '.join(sorted(allowed))})")
        for k in sorted(set(required) - set(d)):
            self.bad(file, _join(key, k), "required key is missing")

    def string(self, file: str, key: str, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.bad(file, key, f"must be a non-empty string, not {value!r}")
            return None
        return value

    def boolean(self, file: str, key: str, value: Any, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.bad(file, key, f"must be true or false, not {value!r}")
            return default
        return value

    def number(self, file: str, key: str, value: Any, *, integer: bool = False) -> Any:
        if value is None:
            return None
        ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if not ok or isinstance(value, bool):
            self.bad(file, key, f"must be {'a whole number' if integer else 'a number'}, not {value!r}")
            return None
        return value

    def table_list(self, file: str, key: str, value: Any) -> list[dict[str, Any]]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.bad(file, key, "must be a list of tables ([[...]])")
            return []
        return value

    def text(self, file: str, key: str, value: Any) -> Text | None:
        """A resident-facing text: bo (Tibetan script) and zh (Chinese) required, en recommended."""
        if value is None:
            return None
        if not isinstance(value, dict):
            self.bad(file, key, "must be a table with bo, zh and en texts")
            return None
        self.keys(file, key, value, set(LANGS))
        out: dict[str, str] = {}
        for lang in LANGS:
            v = value.get(lang)
            if v is None or (isinstance(v, str) and not v.strip()):
                if lang in REQUIRED_LANGS:
                    self.bad(file, _join(key, lang), "text is missing (every text needs bo and zh)")
                elif lang in self.languages:
                    self.bad(file, _join(key, lang), "text is missing (en is a pack language)")
                else:
                    self.warn(file, _join(key, lang), "no English text (recommended for staff and logs)")
                continue
            if not isinstance(v, str):
                self.bad(file, _join(key, lang), f"must be a string, not {v!r}")
                continue
            if lang == "bo" and not _TIBETAN.search(v):
                self.bad(file, _join(key, lang), "contains no Tibetan script")
            if lang == "zh" and not _CHINESE.search(v):
                self.bad(file, _join(key, lang), "contains no Chinese characters")
            out[lang] = v.strip()
        if "bo" in out and "zh" in out:
            return Text(out["bo"], out["zh"], out.get("en", ""))
        return None

    def pack_path(self, file: str, key: str, value: Any, folder: str, suffix: str, magic: bytes) -> str | None:
        """A pack-relative path to a media file: inside `folder`, present, and of the right type."""
        rel = self.string(file, key, value)
        if rel is None:
            return None
        parts = Path(rel).parts
        if rel.startswith("/") or ".." in parts or "\\" in rel:
            self.bad(file, key, f"{rel!r} must be a relative path inside the pack")
            return None
        if Path(rel).parent.as_posix() != folder or not rel.endswith(suffix):
            self.bad(file, key, f"{rel!r} must be a {suffix} file under {folder}/")
            return None
        p = self.root / rel
        if not p.is_file():
            self.bad(file, key, f"{rel} does not exist")
            return None
        with open(p, "rb") as f:
            head = f.read(12)
        if not head.startswith(magic) or (suffix == ".wav" and head[8:12] != b"WAVE"):
            self.bad(file, key, f"{rel} is not a {suffix[1:].upper()} file")
            return None
        return rel

    # --- the pack -------------------------------------------------------------------------------
    def load(self) -> Pack:
        if not self.root.is_dir():
            raise PackError([Problem(str(self.root), "", "not a folder")])
        meta = self.read_toml("pack.toml")
        if meta is None:
            meta = {}  # already reported; carry on to find the other files' problems too
        else:
            self.keys("pack.toml", "", meta, {"id", "title", "languages", "order"}, {"id", "title"})
        pack_id = self.string("pack.toml", "id", meta.get("id")) or ""
        if pack_id and not _ID_RE.match(pack_id):
            self.bad("pack.toml", "id", f"{pack_id!r} must be lowercase letters, digits and dashes")
        self.load_languages(meta.get("languages", list(REQUIRED_LANGS)))
        title = self.text("pack.toml", "title", meta.get("title"))
        prompts = self.load_prompts()
        guides = self.load_guides()
        forms = self.load_forms()
        services = self.load_services(guides, forms, prompts)
        services = self.ordered(services, meta.get("order"), {p.stem for p in (self.root / "services").glob("*.toml")})
        used_guides = {s.guide for s in services.values()}
        used_forms = {s.form for s in services.values()}
        for g in guides:
            if g not in used_guides:
                self.warn(f"guides/{g}.zh.md", "", "guide is not used by any service")
        for f in forms:
            if f not in used_forms:
                self.warn(f"forms/{f}.toml", "", "form is not used by any service")
        if self.problems:
            raise PackError(self.problems)
        assert title is not None
        return Pack(pack_id, title, services, guides, forms, prompts, self.root, self.languages,
                    tuple(self.warnings))

    def load_languages(self, value: Any) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.bad("pack.toml", "languages", "must be a list of language codes")
            return
        for v in value:
            if v not in LANGS:
                self.bad("pack.toml", "languages", f"{v!r} is not a kiosk language (expected one of {', '.join(LANGS)})")
        for lang in REQUIRED_LANGS:
            if lang not in value:
                self.bad("pack.toml", "languages", f"must include {lang!r}")
        self.languages = tuple(v for v in value if v in LANGS) or REQUIRED_LANGS

    def ordered(self, services: dict[str, Service], order: Any, known: set[str]) -> dict[str, Service]:
        """Home-screen order: pack.toml `order` first, then by category, then by id.

        `known` holds every service file's id, so a service that failed to load is not reported twice.
        """
        first: list[str] = []
        if order is not None:
            if not isinstance(order, list) or not all(isinstance(v, str) for v in order):
                self.bad("pack.toml", "order", "must be a list of service ids")
            else:
                for i, sid in enumerate(order):
                    if sid not in known:
                        self.bad("pack.toml", f"order[{i}]", f"{sid!r} is not a service in services/")
                    elif sid in services and sid not in first:
                        first.append(sid)
        cats = list(CATEGORIES)
        rest = sorted((s for s in services if s not in first),
                      key=lambda s: (cats.index(services[s].category), s))
        return {sid: services[sid] for sid in first + rest}

    def folder_files(self, folder: str, suffix: str) -> list[Path]:
        d = self.root / folder
        if not d.is_dir():
            return []
        files = []
        for p in sorted(d.iterdir()):
            rel = f"{folder}/{p.name}"
            if p.name.startswith("."):
                continue
            if p.is_dir() or p.suffix != suffix:
                self.bad(rel, "", f"unexpected {'folder' if p.is_dir() else 'file'} (only *{suffix} files belong here)")
            else:
                files.append(p)
        return files

    # --- prompts ---------------------------------------------------------------------------------
    def load_prompts(self) -> dict[str, Prompt]:
        data = self.read_toml("prompts.toml")
        if data is None:
            return {}
        file = "prompts.toml"
        prompts: dict[str, Prompt] = {}
        clip_keys = {f"clip_{lang}" for lang in LANGS}
        for pid, body in data.items():
            if not _FIELD_ID_RE.match(pid):
                self.bad(file, pid, "prompt ids are lowercase letters, digits and underscores")
            if not isinstance(body, dict):
                self.bad(file, pid, "must be a table with bo, zh, en (and optional clip_bo, clip_zh)")
                continue
            self.keys(file, pid, body, set(LANGS) | clip_keys)
            text = self.text(file, pid, {k: v for k, v in body.items() if k in LANGS})
            clips = {}
            for lang in LANGS:
                key = f"clip_{lang}"
                if key in body:
                    rel = self.pack_path(file, f"{pid}.{key}", body[key], f"audio/{lang}", ".wav", b"RIFF")
                    if rel:
                        clips[lang] = rel
            if text:
                prompts[pid] = Prompt(pid, text, clips)
        for pid in REQUIRED_PROMPTS:
            if pid not in data:
                self.bad(file, pid, "built-in prompt is missing (the kiosk UI needs it)")
        return prompts

    # --- guides ----------------------------------------------------------------------------------
    def load_guides(self) -> dict[str, Guide]:
        by_id: dict[str, dict[str, str]] = {}
        for p in self.folder_files("guides", ".md"):
            rel = f"guides/{p.name}"
            m = _GUIDE_NAME_RE.match(p.name)
            if not m or m.group(2) not in LANGS:
                self.bad(rel, "", f"name must be <id>.<lang>.md with lang one of {', '.join(LANGS)}")
                continue
            text = self.read_text(rel)
            if text is None:
                continue
            if not text.strip():
                self.bad(rel, "", "guide is empty")
                continue
            for line, reason in unsupported(text):
                self.bad(rel, f"line {line}", reason)
            by_id.setdefault(m.group(1), {})[m.group(2)] = text
        for gid, texts in by_id.items():
            for lang in self.languages:
                if lang not in texts:
                    self.bad(f"guides/{gid}.{lang}.md", "", f"file is missing (guide {gid!r} needs every pack language)")
            if "en" not in texts:
                self.warn(f"guides/{gid}.en.md", "", "no English guide (recommended)")
        return {gid: Guide(gid, dict(sorted(texts.items()))) for gid, texts in sorted(by_id.items())}

    # --- blank forms -----------------------------------------------------------------------------
    def load_forms(self) -> dict[str, BlankForm]:
        forms = {}
        for p in self.folder_files("forms", ".toml"):
            rel = f"forms/{p.name}"
            data = self.read_toml(rel)
            if data is None:
                continue
            self.keys(rel, "", data, {"title", "note", "fields"}, {"title", "fields"})
            title = self.text(rel, "title", data.get("title"))
            note = self.text(rel, "note", data.get("note"))
            items = self.table_list(rel, "fields", data.get("fields"))
            if "fields" in data and not items:
                self.bad(rel, "fields", "a form needs at least one field")
            fields = []
            for i, f in enumerate(items):
                key = f"fields[{i}]"
                self.keys(rel, key, f, {"label", "lines"}, {"label"})
                label = self.text(rel, f"{key}.label", f.get("label"))
                lines = self.number(rel, f"{key}.lines", f.get("lines", 1), integer=True)
                if lines is not None and not 1 <= lines <= 20:
                    self.bad(rel, f"{key}.lines", f"{lines} must be between 1 and 20")
                if label and lines is not None:
                    fields.append(FormField(label, lines))
            if title:
                forms[p.stem] = BlankForm(p.stem, title, tuple(fields), note)
        return forms

    # --- services ------------------------------------------------------------------------------
    def load_services(self, guides: dict[str, Guide], forms: dict[str, BlankForm],
                      prompts: dict[str, Prompt]) -> dict[str, Service]:
        files = self.folder_files("services", ".toml")
        if not files:
            self.bad("services/", "", "the pack has no services")
        services = {}
        for p in files:
            s = self.load_service(f"services/{p.name}", p.stem, guides, forms, prompts)
            if s:
                services[s.id] = s
        return services

    def load_service(self, file: str, stem: str, guides: dict[str, Guide], forms: dict[str, BlankForm],
                     prompts: dict[str, Prompt]) -> Service | None:
        d = self.read_toml(file)
        if d is None:
            return None
        before = len(self.problems)
        self.keys(file, "", d, _SERVICE_KEYS, {"id", "category", "title", "summary", "steps"})
        sid = self.string(file, "id", d.get("id"))
        if sid and sid != stem:
            self.bad(file, "id", f"{sid!r} must match the file name ({stem!r})")
        if sid and not _ID_RE.match(sid):
            self.bad(file, "id", f"{sid!r} must be lowercase letters, digits and dashes")
        category = self.string(file, "category", d.get("category"))
        if category and category not in CATEGORIES:
            self.bad(file, "category", f"{category!r} is not a category (expected one of {', '.join(CATEGORIES)})")
        code = self.string(file, "platform_service_code", d.get("platform_service_code"))
        if code and not _CODE_RE.match(code):
            self.bad(file, "platform_service_code", f"{code!r} must be capital letters, digits and dashes")
        guide = self.string(file, "guide", d.get("guide"))
        if guide and guide not in guides:
            self.bad(file, "guide", f"guides/{guide}.<lang>.md does not exist")
        form = self.string(file, "form", d.get("form"))
        if form and form not in forms:
            self.bad(file, "form", f"forms/{form}.toml does not exist")
        icon = self.pack_path(file, "icon", d.get("icon"), "images", ".png", _PNG_MAGIC)
        title = self.text(file, "title", d.get("title"))
        summary = self.text(file, "summary", d.get("summary"))
        docs = [self.text(file, f"documents[{i}]", t)
                for i, t in enumerate(self.table_list(file, "documents", d.get("documents")))]
        raw_steps = self.table_list(file, "steps", d.get("steps"))
        if "steps" in d and not raw_steps:
            self.bad(file, "steps", "a service needs at least one step")
        steps = [self.load_step(file, f"steps[{i}]", s, prompts) for i, s in enumerate(raw_steps)]
        self.check_order(file, steps, code, guide)
        field_ids: dict[str, str] = {}
        for i, step in enumerate(steps):
            for j, f in enumerate(step.fields if step else ()):
                if f.id in field_ids:
                    self.bad(file, f"steps[{i}].fields[{j}].id", f"{f.id!r} is already used by {field_ids[f.id]}")
                else:
                    field_ids[f.id] = f"steps[{i}].fields[{j}]"
        if len(self.problems) > before or not (sid and category and title and summary):
            return None  # the pack is refused anyway; no half-built objects
        return Service(sid, category, title, summary, tuple(s for s in steps if s), tuple(t for t in docs if t),
                       code, guide, form, icon)

    def load_step(self, file: str, key: str, d: dict[str, Any], prompts: dict[str, Prompt]) -> Step | None:
        kind = d.get("kind")
        if kind not in STEP_KINDS:
            self.bad(file, f"{key}.kind", f"{kind!r} is not a step kind (expected one of {', '.join(STEP_KINDS)})")
            return None
        self.keys(file, key, d, {"kind", "prompt"} | _STEP_KEYS[kind], what=f"a {kind!r} step")
        prompt = self.string(file, f"{key}.prompt", d.get("prompt"))
        if prompt and prompt not in prompts:
            self.bad(file, f"{key}.prompt", f"{prompt!r} is not a prompt in prompts.toml")
        methods: tuple[str, ...] = ()
        if kind == "identify":
            raw = d.get("methods", ["card"])
            if not isinstance(raw, list) or not raw or not all(m in IDENTIFY_METHODS for m in raw):
                self.bad(file, f"{key}.methods", f"{raw!r} must be a non-empty list of {', '.join(IDENTIFY_METHODS)}")
            else:
                methods = tuple(dict.fromkeys(raw))
        fields: list[Field] = []
        if kind == "form":
            items = self.table_list(file, f"{key}.fields", d.get("fields"))
            if not items:
                self.bad(file, f"{key}.fields", "a form step needs at least one field")
            for j, f in enumerate(items):
                field = self.load_field(file, f"{key}.fields[{j}]", f)
                if field:
                    fields.append(field)
        query = None
        if kind == "lookup":
            query = d.get("query", "progress")
            if query not in LOOKUP_QUERIES:
                self.bad(file, f"{key}.query", f"{query!r} is not a lookup (expected one of {', '.join(LOOKUP_QUERIES)})")
        required = self.boolean(file, f"{key}.required", d.get("required"), default=kind == "photo")
        return Step(kind, methods, tuple(fields), required, query, prompt)

    def load_field(self, file: str, key: str, d: dict[str, Any]) -> Field | None:
        self.keys(file, key, d, _FIELD_KEYS, {"id", "label"})
        fid = self.string(file, f"{key}.id", d.get("id"))
        if fid and not _FIELD_ID_RE.match(fid):
            self.bad(file, f"{key}.id", f"{fid!r} must be lowercase letters, digits and underscores")
        label = self.text(file, f"{key}.label", d.get("label"))
        hint = self.text(file, f"{key}.hint", d.get("hint"))
        ftype = d.get("type", "text")
        if ftype not in FIELD_TYPES:
            self.bad(file, f"{key}.type", f"{ftype!r} is not a field type (expected one of {', '.join(FIELD_TYPES)})")
        source = self.string(file, f"{key}.source", d.get("source"))
        if source and source not in CARD_FIELDS:
            self.bad(file, f"{key}.source", f"{source!r} is not a card field (expected one of {', '.join(CARD_FIELDS)})")
        required = self.boolean(file, f"{key}.required", d.get("required"), default=False)
        pattern = self.string(file, f"{key}.pattern", d.get("pattern"))
        if pattern:
            try:
                re.compile(pattern)
            except re.error as e:
                self.bad(file, f"{key}.pattern", f"not a regular expression: {e}")
        min_len = self.number(file, f"{key}.min_length", d.get("min_length"), integer=True)
        max_len = self.number(file, f"{key}.max_length", d.get("max_length"), integer=True)
        lo = self.number(file, f"{key}.min", d.get("min"))
        hi = self.number(file, f"{key}.max", d.get("max"))
        for name, a, b in (("min_length", min_len, max_len), ("min", lo, hi)):
            if a is not None and b is not None and a > b:
                self.bad(file, f"{key}.{name}", f"{a} is greater than the maximum {b}")
        if (min_len is not None and min_len < 0) or (max_len is not None and max_len < 1):
            self.bad(file, f"{key}.min_length", "lengths must be positive")
        misplaced = {"pattern": ftype != "text", "min_length": ftype != "text", "max_length": ftype != "text",
                     "min": ftype != "number", "max": ftype != "number", "choices": ftype != "choice"}
        for k, wrong in misplaced.items():
            if wrong and k in d:
                self.bad(file, f"{key}.{k}", f"does not apply to a {ftype!r} field")
        choices = self.load_choices(file, key, d.get("choices")) if ftype == "choice" else ()
        if not (fid and label) or ftype not in FIELD_TYPES:
            return None
        return Field(fid, label, ftype, source, required, pattern, min_len, max_len, lo, hi, choices, hint)

    def load_choices(self, file: str, key: str, value: Any) -> tuple[Choice, ...]:
        items = self.table_list(file, f"{key}.choices", value)
        if not items:
            self.bad(file, f"{key}.choices", "a choice field needs at least one choice")
        choices, seen = [], set()
        for k, c in enumerate(items):
            ck = f"{key}.choices[{k}]"
            self.keys(file, ck, c, {"value", "label"}, {"value", "label"})
            value_ = self.string(file, f"{ck}.value", c.get("value"))
            label = self.text(file, f"{ck}.label", c.get("label"))
            if value_ in seen:
                self.bad(file, f"{ck}.value", f"{value_!r} is used twice")
            seen.add(value_)
            if value_ and label:
                choices.append(Choice(value_, label))
        return tuple(choices)

    def check_order(self, file: str, steps: list[Step | None], code: str | None, guide: str | None) -> None:
        """The rules that keep a resident's path sensible (and a submission routable)."""
        seen: dict[str, int] = {}
        card = False
        for i, s in enumerate(steps):
            if s is None:
                continue
            key = f"steps[{i}]"
            if s.kind in _ONCE and s.kind in seen:
                self.bad(file, key, f"a second {s.kind!r} step (the first is steps[{seen[s.kind]}])")
            if s.kind == "identify":
                card = "card" in s.methods
            if s.kind == "form" and any(f.source for f in s.fields) and not card:
                self.bad(file, key, "fields with a card source need an identify step with 'card' before them")
            if s.kind == "submit":
                if not code:
                    self.bad(file, "platform_service_code", "required because the service has a submit step")
                if "identify" not in seen:
                    self.bad(file, key, "submit needs an identify step before it")
                if "confirm" not in seen:
                    self.bad(file, key, "submit needs a confirm step before it (residents check before sending)")
            if s.kind == "receipt" and "submit" not in seen:
                self.bad(file, key, "receipt must come after a submit step")
            if s.kind == "guide" and not guide:
                self.bad(file, key, "a guide step needs the service's `guide` key")
            if s.kind == "lookup":
                if "identify" not in seen:
                    self.bad(file, key, "lookup needs an identify step before it")
                elif s.query == "insurance_payments" and not card:
                    self.bad(file, key, "an insurance_payments lookup needs 'card' in the identify methods")
            seen.setdefault(s.kind, i)


def _join(key: str, sub: str) -> str:
    return f"{key}.{sub}" if key else sub
