"""The fleet's remote self-test: the maintenance screen's device checks, run with nobody at the kiosk.

Each check answers a kiosk.status-like dict {level, code, zh, bo, en}. What differs from the
technician's buttons, and why: the printer is asked for its status (paper, cover) instead of printing a
test receipt (a daily receipt left in an empty hall wastes paper; `{"print": true}` prints one); the
card reader's SAM module is asked instead of reading a card (a card on the reader may be a resident's);
speech is rendered to a WAV and checked for sound instead of played aloud. While a resident or a
technician is using the kiosk, the card reader and the camera are not touched: their last known
status is reported instead.
"""

from __future__ import annotations

import logging
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.status import UNAVAILABLE, Level, Status

log = logging.getLogger(__name__)

# bo: to be reviewed by the translators
READER_OK = Status(Level.OK, "ok", "读卡器应答正常", "ལག་ཁྱེར་ཀློག་ཆས་ཀྱིས་ལན་བཏབ།", "Card reader answering")
PRINTER_OK = Status(Level.OK, "ok", "打印机正常，有纸", "པར་ཆས་རྒྱུན་ལྡན།", "Printer ready, paper in")
CAMERA_OK = Status(Level.OK, "ok", "摄像头有画面", "པར་ཆས་ལ་བརྙན་རིས་འདུག", "Camera gives a picture")
NO_FRAME = Status(Level.FAULT, "no_frame", "摄像头没有画面", "པར་ཆས་ལ་བརྙན་རིས་མི་འདུག", "Camera gives no picture")
SPEECH_OK = Status(Level.OK, "ok", "语音合成正常", "སྒྲ་བཟོ་རྒྱུན་ལྡན།", "Speech renders")
SPEECH_SILENT = Status(Level.FAULT, "speech_silent", "语音合成没有声音", "སྒྲ་བཟོས་པ་ལ་སྒྲ་མི་འདུག",
                       "Speech renders silence")
SILENCE_RMS = 50.0  # of 32767: espeak's quietest speech is far above this, a zeroed file is 0

PROMPT_ID = "home"  # the welcome prompt: every pack has it


def _failed(device: str, error: BaseException) -> Status:
    return Status(Level.FAULT, "self_test_failed", "自检出错", "རང་བརྟག་ནོར་འཁྲུལ།",
                  f"{device} self-test failed: {type(error).__name__}")


def card_reader(reader: Any, passive: bool) -> Status:
    if reader is None:
        return UNAVAILABLE
    if passive:
        return reader.status()
    try:
        reader.sam_status()
    except Exception as e:  # the driver has set its status (not answering, SAM fault...) already
        after = reader.status()
        return after if after.level is not Level.OK else _failed("card reader", e)
    after = reader.status()
    return READER_OK if after.level is Level.OK else after


def printer(dev: Any, print_test: Callable[[], Status] | None) -> Status:
    if dev is None:
        return UNAVAILABLE
    if print_test is not None:
        return print_test()
    dev.query_status()  # updates status_source; bounded by the driver's status timeout
    after = dev.status_source.status()
    return PRINTER_OK if after.level is Level.OK else after


def camera(dev: Any, passive: bool, last_known: Status | None) -> Status:
    if dev is None:
        return UNAVAILABLE
    if passive:
        return last_known or UNAVAILABLE
    frame = dev.read_frame()  # checked for a picture only: it goes nowhere
    if frame is not None:
        return CAMERA_OK
    after = dev.status.status() if hasattr(dev, "status") else None
    return after if after is not None and after.level is Level.FAULT else NO_FRAME


def voice(dev: Any) -> Status:
    return UNAVAILABLE if dev is None else dev.status.status()


def wav_rms(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        width, frames = w.getsampwidth(), w.readframes(w.getnframes())
    if width != 2 or not frames:
        return 0.0 if not frames else 1e9  # not 16-bit: cannot measure here, but it has samples
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples * samples)))


def speech(dev: Any, text: str) -> Status:
    """The Mandarin welcome prompt rendered by the TTS engine (not played) and checked for sound."""
    from devices.voice.tts import TtsError, render_tts
    from devices.voice.voice import TTS_FAILED

    if dev is None:
        return UNAVAILABLE
    if not text.strip():
        return Status(Level.DEGRADED, "no_prompt", "没有可合成的提示语", "གསལ་བརྡ་མེད།", "No prompt text to render")
    with tempfile.TemporaryDirectory(prefix="kiosk-selftest-") as tmp:
        try:
            out = render_tts(text, dev.tts_voice, out=Path(tmp) / "self-test.wav")
            rms = wav_rms(out)
        except (TtsError, OSError, EOFError, wave.Error) as e:
            log.warning("speech self-test failed", extra={"error": type(e).__name__})
            return Status(TTS_FAILED.level, TTS_FAILED.code, TTS_FAILED.zh, TTS_FAILED.bo,
                          f"{TTS_FAILED.en}: {str(e)[:120]}")
    return SPEECH_OK if rms > SILENCE_RMS else SPEECH_SILENT


def run(window: Any, args: dict[str, Any], passive: bool, prompt_text: str,
        print_test: Callable[[], Status] | None = None) -> dict[str, dict[str, str]]:
    """Every check (blocking; call it off the GUI thread). One check's crash is that check's fault."""
    bridge = window.bridge
    checks: dict[str, Callable[[], Status]] = {
        "card_reader": lambda: card_reader(bridge.reader, passive),
        "printer": lambda: printer(bridge.printer, print_test if args.get("print") is True else None),
        "camera": lambda: camera(bridge.camera, passive, bridge.statuses().get("camera")),
        "voice": lambda: voice(window.speaker.voice),
        "speech": lambda: speech(window.speaker.voice, prompt_text),
    }
    out = {}
    for name, check in checks.items():
        try:
            status = check()
        except Exception as e:
            log.exception("self-test check crashed", extra={"check": name})
            status = _failed(name, e)
        out[name] = {k: v for k, v in status.as_dict().items() if k != "since"}
    return out
