"""A kiosk config file written from Python: the demo's, and the tests' (kiosk.config.parse reads it back)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def device_tables(card_reader: Path | str, printer: Path | str, camera: Path | str, tts_cache: Path,
                  player: str) -> dict[str, dict[str, Any]]:
    """The [devices.*] tables of a kiosk config: the two serial ports (simulators or real), the camera
    source and where the voice keeps its TTS cache and which program plays a clip."""
    return {"devices.card_reader": {"port": card_reader}, "devices.printer": {"port": printer},
            "devices.camera": {"source": camera}, "devices.voice": {"cache_dir": tts_cache, "player": player}}


def config_toml(tables: dict[str, dict[str, Any] | list[dict[str, Any]]]) -> str:
    """A kiosk config file (TOML) from {"table.name": {key: value}} in that order; a list of dicts is an array
    of tables. Values are str/Path (written as TOML strings, escaped), int, float or bool. The demo and the
    tests write their configs with it (kiosk.config.parse reads them back)."""
    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        return json.dumps(str(v), ensure_ascii=False)  # a JSON string is a valid TOML basic string

    lines: list[str] = []
    for name, body in tables.items():
        rows, header = (body, f"[[{name}]]") if isinstance(body, list) else ([body], f"[{name}]")
        for row in rows:
            lines += [header, *(f"{k} = {value(v)}" for k, v in row.items()), ""]
    return "\n".join(lines)
