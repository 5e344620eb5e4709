"""Lay a pushed TOML document over the kiosk's config and write the result back as TOML.

Overlay: tables merge key by key, every other value (arrays of tables too) replaces. The writer knows
just what a kiosk config holds (tables, arrays of tables, strings, numbers, booleans, arrays of those) and
proves itself: what it writes must read back equal, or nothing is written.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def overlay(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        out[k] = overlay(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, list) and not any(isinstance(x, dict) for x in v):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    raise ValueError(f"cannot write a {type(v).__name__} value")


def _is_tables(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _table(name: str, d: dict[str, Any], lines: list[str], header: str | None) -> None:
    simple = [(k, v) for k, v in d.items() if not isinstance(v, dict) and not _is_tables(v)]
    if header is not None and (simple or not d):
        lines += ["", header]
    lines += [f"{_key(k)} = {_scalar(v)}" for k, v in simple]
    for k, v in d.items():
        sub = f"{name}.{_key(k)}" if name else _key(k)
        if isinstance(v, dict):
            _table(sub, v, lines, f"[{sub}]")
        elif _is_tables(v):
            for item in v:
                _table(sub, item, lines, f"[[{sub}]]")


def dumps(doc: dict[str, Any]) -> str:
    lines: list[str] = ["# written by the edge from a signed configuration push; the previous file is .prev"]
    _table("", doc, lines, None)
    text = "\n".join(lines).strip() + "\n"
    if tomllib.loads(text) != doc:
        raise ValueError("the merged config cannot be written back as TOML exactly")
    return text
