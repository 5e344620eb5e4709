"""Reading and checking a content pack from its folder.

A pack is written by people, so the loader reports every problem it finds (file, key, reason),
not just the first: an author fixes a whole batch per build instead of one error per round trip.
Each file's shape is checked by its model in kiosk.content_source (pydantic collects every error
with its location); this module reads the files, checks what spans files (a guide a service names,
an icon on disk, the clips beside the prompts) and builds the Pack.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from kiosk.content_markdown import unsupported
from kiosk.content_model import (
    CATEGORIES,
    LANGS,
    REQUIRED_LANGS,
    REQUIRED_PROMPTS,
    STEP_KINDS,
    BlankForm,
    ClipMeta,
    Contact,
    Guide,
    Pack,
    Problem,
    Prompt,
    Service,
    Text,
    title_key,
)
from kiosk.content_source import (
    FIELD_ID_RE,
    STEP_MODELS,
    ClipSidecar,
    FormSource,
    PackSource,
    PromptSource,
    ServiceSource,
    Source,
    TextSource,
)

_GUIDE_NAME_RE = re.compile(r"^([a-z0-9][a-z0-9-]{0,62})\.([a-z]{2})\.md$")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_WAV_MAGIC = b"RIFF"
S = TypeVar("S", bound=Source)


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
             "images/*.png", "audio/*/*.wav", "clips/*/*.wav", "clips/*/*.json")
    found = {p for g in globs for p in root.glob(g) if p.is_file()}
    return sorted(p.relative_to(root) for p in found)


def load_pack(path: Path) -> Pack:
    """Load and check the pack in folder `path`; raise PackError listing every problem."""
    return _Loader(Path(path)).load()


# --- pydantic's errors as an author reads them -------------------------------------------------------

def _model_in(tp: Any) -> type[BaseModel] | None:
    """The first model class inside an annotation (list[X], X | None, Annotated[X, ...])."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    return next((m for arg in get_args(tp) if (m := _model_in(arg))), None)


def _is_tag(loc: tuple[int | str, ...], i: int) -> bool:
    """pydantic names the chosen step model by its kind right after the list index: steps[2].confirm.x."""
    return i > 0 and isinstance(loc[i - 1], int) and loc[i] in STEP_MODELS


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    cls: type[BaseModel] | None = root
    for i, part in enumerate(loc):
        if cls is None or isinstance(part, int):
            continue
        if _is_tag(loc, i):
            cls = STEP_MODELS[str(part)]
        else:
            field = cls.model_fields.get(str(part))
            cls = _model_in(field.annotation) if field else None
    return cls


def _explain(root: type[BaseModel], err: ErrorDetails) -> tuple[str, str]:
    """(key, reason) for one validation error, e.g. ("steps[3].fields[0].type", "'datetime' is not ...")."""
    loc, kind = err["loc"], err["type"]
    key = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            key += f"[{part}]"
        elif part != "[key]" and not _is_tag(loc, i):
            key = f"{key}.{part}" if key else str(part)
    if kind == "pack":
        return key, err["msg"]
    if kind == "missing":
        return key, "required key is missing"
    if kind == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        allowed = sorted(f.alias or name for name, f in parent.model_fields.items()) if parent else []
        step = f" for a {loc[-2]!r} step" if len(loc) > 1 and _is_tag(loc, len(loc) - 2) else ""
        return key, f"unknown key{step} (allowed: {', '.join(allowed)})"
    if kind == "union_tag_invalid":
        return f"{key}.kind", (f"{err['ctx']['tag']!r} is not a step kind "
                               f"(expected one of {', '.join(STEP_KINDS)})")
    if kind == "union_tag_not_found":
        return f"{key}.kind", "required key is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(root, loc)
        what = " with bo, zh and en texts" if model and issubclass(model, TextSource) else ""
        return key, f"must be a table{what}, not {err['input']!r}"
    if kind == "list_type":
        return key, f"must be a list, not {err['input']!r}"
    return key, err["msg"]


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.languages: tuple[str, ...] = REQUIRED_LANGS
        # Ids with a file (or table), loaded or not: a reference to a broken one is not reported twice.
        self.prompt_ids: set[str] | None = None  # None: prompts.toml is unreadable (already reported)
        self.form_ids: set[str] = set()

    # --- reporting and reading -------------------------------------------------------------------
    def bad(self, file: str, key: str, reason: str) -> None:
        self.problems.append(Problem(file, key, reason))

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

    def check(self, file: str, model: type[S], data: Any, prefix: str = "") -> S | None:
        """`data` as a `model`, or None; every error, then every broken rule, becomes a problem."""
        def at(key: str) -> str:
            return prefix + key if key.startswith("[") or not prefix else f"{prefix}.{key}" if key else prefix
        try:
            obj = model.model_validate(data)
        except ValidationError as e:
            for err in e.errors(include_url=False):
                key, reason = _explain(model, err)
                self.bad(file, at(key), reason)
            return None
        broken = [(at(key), reason) for key, reason in obj.problems()]
        for key, reason in broken:
            self.bad(file, key, reason)
        return None if broken else obj

    def english(self, file: str, obj: Any, key: str = "") -> None:
        """Every text without English: refused when en is a pack language, else a warning."""
        if isinstance(obj, TextSource) and not obj.en:
            where = f"{key}.en" if key else "en"
            if "en" in self.languages:
                self.bad(file, where, "text is missing (en is a pack language)")
            else:
                self.warnings.append(Problem(file, where, "no English text (recommended for staff and logs)"))
        if isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                self.english(file, getattr(obj, name), f"{key}.{name}" if key else name)
        elif isinstance(obj, list):
            for i, item in enumerate(obj):
                self.english(file, item, f"{key}[{i}]")

    def source(self, file: str, model: type[S], data: Any, prefix: str = "") -> S | None:
        obj = self.check(file, model, data, prefix)
        if obj is not None:
            self.english(file, obj, prefix)
        return obj

    def media(self, file: str, key: str, rel: str, folder: str, suffix: str, magic: bytes) -> bool:
        """A pack-relative path to a media file: inside `folder`, present, and of the right type."""
        if rel.startswith("/") or ".." in Path(rel).parts or "\\" in rel:
            self.bad(file, key, f"{rel!r} must be a relative path inside the pack")
        elif Path(rel).parent.as_posix() != folder or not rel.endswith(suffix):
            self.bad(file, key, f"{rel!r} must be a {suffix} file under {folder}/")
        elif not (self.root / rel).is_file():
            self.bad(file, key, f"{rel} does not exist")
        elif not _has_magic(self.root / rel, magic):
            self.bad(file, key, f"{rel} is not a {suffix[1:].upper()} file")
        else:
            return True
        return False

    def folder_files(self, folder: str, *suffixes: str) -> list[Path]:
        d = self.root / folder
        if not d.is_dir():
            return []
        files = []
        for p in sorted(d.iterdir()):
            if p.name.startswith("."):
                continue
            if p.is_dir() or p.suffix not in suffixes:
                only = " and ".join(f"*{s}" for s in suffixes)
                self.bad(f"{folder}/{p.name}", "",
                         f"unexpected {'folder' if p.is_dir() else 'file'} (only {only} files belong here)")
            else:
                files.append(p)
        return files

    # --- the pack -------------------------------------------------------------------------------
    def load(self) -> Pack:
        if not self.root.is_dir():
            raise PackError([Problem(str(self.root), "", "not a folder")])
        raw = self.read_toml("pack.toml")
        meta = self.check("pack.toml", PackSource, raw) if raw is not None else None
        if meta is not None:
            self.languages = tuple(dict.fromkeys(meta.languages))
            self.english("pack.toml", meta)
        prompts = self.load_prompts()
        guides = self.load_guides()
        forms = self.load_forms()
        known = {p.stem for p in (self.root / "services").glob("*.toml")}
        services = self.ordered(self.load_services(guides), meta.order if meta else None, known)
        self.load_clips(prompts, services, known)
        used_guides = {s.guide for s in services.values()}
        used_forms = {s.form for s in services.values()}
        for g in guides:
            if g not in used_guides:
                self.warnings.append(Problem(f"guides/{g}.zh.md", "", "guide is not used by any service"))
        for f in forms:
            if f not in used_forms:
                self.warnings.append(Problem(f"forms/{f}.toml", "", "form is not used by any service"))
        if self.problems or meta is None:
            raise PackError(self.problems)
        contact = Contact.model_validate(meta.contact.model_dump()) if meta.contact else None
        return Pack(meta.id, _text(meta.title), services, guides, forms, prompts, self.root, self.languages,
                    tuple(self.warnings), contact)

    def ordered(self, services: dict[str, Service], order: list[str] | None, known: set[str]) -> dict[str, Service]:
        """Home-screen order: pack.toml `order` first, then by category, then by id.

        `known` holds every service file's id, so a service that failed to load is not reported twice.
        """
        first: list[str] = []
        for i, sid in enumerate(order or ()):
            if sid not in known:
                self.bad("pack.toml", f"order[{i}]", f"{sid!r} is not a service in services/")
            elif sid in services and sid not in first:
                first.append(sid)
        cats = list(CATEGORIES)
        rest = sorted((s for s in services if s not in first), key=lambda s: (cats.index(services[s].category), s))
        return {sid: services[sid] for sid in first + rest}

    # --- prompts ---------------------------------------------------------------------------------
    def load_prompts(self) -> dict[str, Prompt]:
        file = "prompts.toml"
        data = self.read_toml(file)
        if data is None:
            return {}
        prompts: dict[str, Prompt] = {}
        self.prompt_ids = set(data)
        for pid, body in data.items():
            if not FIELD_ID_RE.match(pid):
                self.bad(file, pid, "prompt ids are lowercase letters, digits and underscores")
            if not isinstance(body, dict):
                self.bad(file, pid, "must be a table with bo, zh, en (and optional spoken, clip_bo, clip_zh)")
                continue
            src = self.source(file, PromptSource, body, pid)
            if src is None:
                continue
            clips = {lang: rel for lang, rel in src.clips().items()
                     if self.media(file, f"{pid}.clip_{lang}", rel, f"audio/{lang}", ".wav", _WAV_MAGIC)}
            prompts[pid] = Prompt(pid, _text(src), clips, spoken=src.spoken)
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
                self.warnings.append(Problem(f"guides/{gid}.en.md", "", "no English guide (recommended)"))
        return {gid: Guide(gid, dict(sorted(texts.items()))) for gid, texts in sorted(by_id.items())}

    # --- blank forms -----------------------------------------------------------------------------
    def load_forms(self) -> dict[str, BlankForm]:
        forms = {}
        files = self.folder_files("forms", ".toml")
        self.form_ids = {p.stem for p in files}
        for p in files:
            rel = f"forms/{p.name}"
            data = self.read_toml(rel)
            src = self.source(rel, FormSource, data) if data is not None else None
            if src is not None:
                forms[p.stem] = BlankForm.model_validate({"id": p.stem, **src.model_dump()})
        return forms

    # --- services ------------------------------------------------------------------------------
    def load_services(self, guides: dict[str, Guide]) -> dict[str, Service]:
        files = self.folder_files("services", ".toml")
        if not files:
            self.bad("services/", "", "the pack has no services")
        services = {}
        for p in files:
            s = self.load_service(f"services/{p.name}", p.stem, guides)
            if s:
                services[s.id] = s
        return services

    def load_service(self, file: str, stem: str, guides: dict[str, Guide]) -> Service | None:
        data = self.read_toml(file)
        src = self.source(file, ServiceSource, data) if data is not None else None
        if src is None:
            return None
        before = len(self.problems)
        if src.id != stem:
            self.bad(file, "id", f"{src.id!r} must match the file name ({stem!r})")
        if src.guide and src.guide not in guides:
            self.bad(file, "guide", f"guides/{src.guide}.<lang>.md does not exist")
        if src.form and src.form not in self.form_ids:
            self.bad(file, "form", f"forms/{src.form}.toml does not exist")
        if src.icon:
            self.media(file, "icon", src.icon, "images", ".png", _PNG_MAGIC)
        for i, step in enumerate(src.steps):
            if step.prompt and self.prompt_ids is not None and step.prompt not in self.prompt_ids:
                self.bad(file, f"steps[{i}].prompt", f"{step.prompt!r} is not a prompt in prompts.toml")
        if len(self.problems) > before:
            return None  # the pack is refused anyway; no half-built objects
        return Service.model_validate(src.model_dump())

    # --- recorded clips: clips/<lang>/<key>.wav beside its <key>.json sidecar ----------------------
    def load_clips(self, prompts: dict[str, Prompt], services: dict[str, Service], known: set[str]) -> None:
        """Attach each clip (and its sidecar) to its prompt or service title, in place."""
        titles = {title_key(sid): sid for sid in known}
        for lang_dir in sorted((self.root / "clips").glob("[!.]*")):
            lang = lang_dir.name
            if not lang_dir.is_dir() or lang not in LANGS:
                self.bad(f"clips/{lang}", "", f"unexpected {'folder' if lang_dir.is_dir() else 'file'} (clips/ "
                                              f"holds one folder per language: {', '.join(LANGS)})")
                continue
            files = self.folder_files(f"clips/{lang}", ".wav", ".json")
            stems = {p.stem for p in files if p.suffix == ".wav"}
            for p in files:
                rel = f"clips/{lang}/{p.name}"
                if p.suffix == ".json" and p.stem not in stems:
                    self.bad(rel, "", f"a sidecar without its clip (clips/{lang}/{p.stem}.wav)")
                if p.suffix != ".wav":
                    continue
                meta = self.sidecar(f"clips/{lang}/{p.stem}.json")
                is_wav = _has_magic(p, _WAV_MAGIC)
                if not is_wav:
                    self.bad(rel, "", "not a WAV file")
                if meta is None or not is_wav:
                    continue
                if p.stem in prompts:
                    prompt = prompts[p.stem]
                    if lang in prompt.clips:
                        self.bad(rel, "", f"prompts.toml names another clip for {p.stem!r} "
                                          f"({prompt.clips[lang]}); keep one")
                    prompts[p.stem] = prompt.model_copy(update={"clips": {**prompt.clips, lang: rel},
                                                                "clip_meta": {**prompt.clip_meta, lang: meta}})
                elif p.stem in titles:
                    if (s := services.get(titles[p.stem])) is not None:
                        services[s.id] = s.model_copy(update={"title_clips": {**s.title_clips, lang: rel},
                                                              "title_clip_meta": {**s.title_clip_meta, lang: meta}})
                else:
                    self.bad(rel, "", f"no prompt or service title is called {p.stem!r}")

    def sidecar(self, rel: str) -> ClipMeta | None:
        if not (self.root / rel).is_file():
            self.bad(rel, "", "file is missing (every clip needs its sidecar)")
            return None
        text = self.read_text(rel)
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError as e:
            self.bad(rel, "", f"not valid JSON: {e}")
            return None
        side = self.check(rel, ClipSidecar, data)
        return ClipMeta.model_validate(side.model_dump(exclude={"schema_"})) if side else None


def _text(src: TextSource) -> Text:
    return Text(src.bo, src.zh, src.en)


def _has_magic(path: Path, magic: bytes) -> bool:
    with open(path, "rb") as f:
        head = f.read(12)
    return head.startswith(magic) and (magic != _WAV_MAGIC or head[8:12] == b"WAVE")
