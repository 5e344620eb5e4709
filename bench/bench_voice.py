"""Synthetic Tibetan voice: text -> phonemes, and phonemes -> WAV (an espeak-ng process per prompt,
as the kiosk runs it on a cache miss), over the demo pack's Tibetan prompts.

    .venv/bin/python -m bench.bench_voice      (from the repo root)
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
import tomllib
from pathlib import Path

from bench.stats import percentile, timings
from devices.voice.synthetic import SyntheticTibetan, ensure_data_dir
from devices.voice.tibetan import to_phonemes

PROMPTS = Path(__file__).parents[1] / "content" / "demo" / "prompts.toml"
ROUNDS = 5


def _demo_prompts() -> list[tuple[str, str | None]]:
    """(Tibetan text, its spoken form or None) for every demo prompt that has Tibetan."""
    table = tomllib.loads(PROMPTS.read_text(encoding="utf-8"))
    return [(p["bo"], (p.get("spoken") or {}).get("bo")) for p in table.values()
            if isinstance(p, dict) and p.get("bo")]


def run(rounds: int = ROUNDS) -> list[dict]:
    prompts = _demo_prompts()
    segmented = sum(1 for _, spoken in prompts if spoken)
    cache = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    try:
        start = time.perf_counter()
        ensure_data_dir(cache)
        build_ms = (time.perf_counter() - start) * 1000
        to_phonemes(*prompts[0])  # loads bophono's tries once, as the kiosk's first Tibetan prompt does
        convert = [t for text, spoken in prompts for t in timings(lambda t=text, s=spoken: to_phonemes(t, s), rounds)]
        voice = SyntheticTibetan(cache)
        phonemes = [to_phonemes(text, spoken).phonemes for text, spoken in prompts]
        out = cache / "out.wav"
        synth = [t for p in phonemes for t in timings(lambda p=p: voice.render(p, out), rounds)]
        return [
            {"name": "espeak-ng data folder, first build", "value": round(build_ms, 1), "unit": "ms",
             "note": "symlinks + our voice file, once per cache dir"},
            {"name": "Tibetan text -> phonemes (median)", "value": round(statistics.median(convert) * 1000, 3),
             "unit": "ms", "note": f"{len(prompts)} demo prompts ({segmented} with a spoken form) x {rounds}"},
            {"name": "synthesise one prompt (median)", "value": round(statistics.median(synth) * 1000, 1),
             "unit": "ms", "note": "espeak-ng process start + render to WAV, cache miss"},
            {"name": "synthesise one prompt (p95)", "value": round(percentile(synth, 0.95) * 1000, 1),
             "unit": "ms", "note": f"{len(synth)} renders"},
        ]
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    from bench.__main__ import show
    show("voice", run())
