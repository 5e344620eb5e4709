"""Content packs: the public face of the content model and its loader.

Everyone else imports from here (`from kiosk.content import load_pack, Service, ...`); the model,
the loader and the Markdown subset live in content_model, content_load and content_markdown.

Pack layout (all UTF-8; TOML for structure, Markdown for guides):
    pack.toml               id, title {bo, zh, en}, languages, optional order = [service ids]
    services/<id>.toml      one service definition each
    guides/<id>.<lang>.md   guide text per language
    forms/<id>.toml         a printable blank form
    prompts.toml            [<prompt_id>] bo, zh, en, optional spoken = {bo = "word word"},
                            optional clip_bo / clip_zh = "audio/<lang>/<f>.wav" (an explicit clip)
    clips/<lang>/<key>.wav  a recorded clip by convention (key: a prompt id or service.<id>.title), with
    clips/<lang>/<key>.json its sidecar (ClipMeta: text hash, origin, loudness, length)
    audio/<lang>/*.wav      explicitly named clips (optional)
    images/*.png            icons (optional)
"""

from __future__ import annotations

from pathlib import Path

from kiosk.content_load import PackError, load_pack, pack_files
from kiosk.content_markdown import Block, parse_markdown
from kiosk.content_model import (
    CARD_FIELDS,
    CATEGORIES,
    CLIP_LUFS,
    CLIP_SCHEMA,
    FIELD_TYPES,
    IDENTIFY_METHODS,
    LANGS,
    LOOKUP_QUERIES,
    REQUIRED_LANGS,
    REQUIRED_PROMPTS,
    STEP_KINDS,
    BlankForm,
    Choice,
    ClipMeta,
    ClipState,
    Contact,
    Field,
    FormField,
    Guide,
    Pack,
    Problem,
    Prompt,
    Service,
    SpokenText,
    Step,
    Text,
    text_hash,
    title_key,
)

# The demo pack in a source checkout (tests, `kiosk demo`); production kiosks get packs by sync.
DEMO_PACK_DIR = Path(__file__).resolve().parent.parent / "content" / "demo"

__all__ = [
    "CARD_FIELDS", "CATEGORIES", "CLIP_LUFS", "CLIP_SCHEMA", "DEMO_PACK_DIR", "FIELD_TYPES", "IDENTIFY_METHODS",
    "LANGS", "LOOKUP_QUERIES", "REQUIRED_LANGS", "REQUIRED_PROMPTS", "STEP_KINDS", "BlankForm", "Block", "Choice",
    "ClipMeta", "ClipState", "Contact", "Field", "FormField", "Guide", "Pack", "PackError", "Problem", "Prompt",
    "Service", "SpokenText", "Step", "Text", "load_pack", "pack_files", "parse_markdown", "text_hash", "title_key",
]
