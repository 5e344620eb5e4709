"""The demo's stand-in Tibetan clips: a few prompts rendered by the synthetic voice, brought into a copy of
the demo pack through `kiosk admin clips import --origin stand-in`.

They show the clip path working end to end (import checks, loudness, sidecar, pack build, the kiosk
playing a clip first) without anyone having recorded anything: every one is labelled "stand-in" in its
sidecar, counted apart on the maintenance screen and in the fleet state, and never called a native
recording. The pack in the repository stays as it is; the copy lives in the demo's work folder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from kiosk.content import load_pack

# Prompts a resident hears first: a handful, so most of the demo still shows the synthetic voice.
STAND_IN_PROMPTS = ("home", "choose_service", "insert_card")


def render_stand_ins(pack_dir: Path, out_dir: Path, cache_dir: Path) -> list[Path]:
    """<prompt id>.wav for STAND_IN_PROMPTS, spoken by the synthetic Tibetan voice from each prompt's spoken form."""
    from devices.voice.synthetic import SyntheticTibetan
    from devices.voice.tibetan import to_phonemes

    pack = load_pack(pack_dir)
    voice = SyntheticTibetan(cache_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for pid in STAND_IN_PROMPTS:
        prompt = pack.prompts[pid]
        phonemes = to_phonemes(prompt.text.bo, prompt.spoken.get("bo")).phonemes
        made.append(voice.render(phonemes, out_dir / f"{pid}.wav"))
    return made


def pack_with_stand_ins(source: Path, workdir: Path) -> Path:
    """A copy of the pack at `source` with the stand-in clips imported (origin "stand-in"); returns the copy."""
    pack_copy = workdir / "pack-src"
    shutil.rmtree(pack_copy, ignore_errors=True)
    shutil.copytree(source, pack_copy)
    wavs = workdir / "stand-in-clips"
    render_stand_ins(pack_copy, wavs, workdir / "tts")
    r = subprocess.run([sys.executable, "-m", "kiosk", "admin", "clips", "import", str(wavs), str(pack_copy),
                        "--lang", "bo", "--origin", "stand-in"], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"`kiosk admin clips import` refused the stand-in clips:\n{r.stdout}{r.stderr}")
    return pack_copy
