"""The kiosk's inspection (定期巡检): the UI's device self-test (through the relay) plus the edge's own
checks, once a day at a configured local hour and on every `self_test` command.

The latest result is `State.last_inspection`; each run is also an `inspection` event (a failed one at
level fault, like any other fault). Both, and the day of the last daily run, are kept in a small JSON
file beside the spool, so a restart neither loses the result nor runs the daily inspection twice in one
day. A kiosk that was off at the hour runs it when it next starts that day (halls switch off at night).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from edge.clock_check import clock_check
from edge.kiosk_commands import KioskCommandRelay, Outcome
from kiosk import fleet_wire

log = logging.getLogger(__name__)

Status = fleet_wire.ComponentStatus
KEEP_UNANNOUNCED = 8  # inspections whose event is not yet in the spool (normally none or one)
STARTUP_GRACE_S = 120.0  # a daily run due at start waits this long for the UI to come up (or its first poll)

# bo: to be reviewed by the translators
DISK_OK = Status(level="ok", code="ok", zh="存储空间充足", bo="གསོག་ཉར་གྱི་བར་སྟོང་འདང་ངེས་ཡོད།",
                 en="Enough free disk space")
DISK_LOW = Status(level="degraded", code="disk_low", zh="存储空间不多了", bo="གསོག་ཉར་གྱི་བར་སྟོང་ཉུང་དུ་ཕྱིན་འདུག",
                  en="Disk space is running low")
DISK_FULL = Status(level="fault", code="disk_full", zh="存储空间已满，申请可能无法保存",
                   bo="གསོག་ཉར་གྱི་བར་སྟོང་ཁེངས་འདུག", en="The disk is full: applications may not be stored")
DISK_UNKNOWN = Status(level="fault", code="disk_unreadable", zh="无法读取存储空间", bo="གསོག་ཉར་ཀློག་མ་ཐུབ།",
                      en="The data disk cannot be read")
UI_SILENT = "ui_no_answer"
UI_REFUSED = "ui_refused"

DISK_FAULT_FREE_PCT, DISK_LOW_FREE_PCT = 5.0, 15.0
DISK_FAULT_FREE_BYTES = 200 << 20  # a small card fills fast: an absolute floor beside the percentage


def disk_check(path: Path) -> Status:
    try:
        du = os.statvfs(path)
    except OSError:
        return DISK_UNKNOWN
    total, free = du.f_blocks * du.f_frsize, du.f_bavail * du.f_frsize
    pct = 100.0 * free / total if total else 0.0
    if pct < DISK_FAULT_FREE_PCT or free < DISK_FAULT_FREE_BYTES:
        base = DISK_FULL
    elif pct < DISK_LOW_FREE_PCT:
        base = DISK_LOW
    else:
        base = DISK_OK
    return base.model_copy(update={"en": f"{base.en} ({pct:.0f}% free)"})


def edge_checks(data_dir: Path) -> dict[str, Status]:
    return {"disk": disk_check(data_dir), "clock": clock_check()}


def _ui_check(outcome: Outcome) -> Status:
    result, message = outcome[0], outcome[1][:200]
    if result == "rejected":
        return Status(level="degraded", code=UI_REFUSED, zh="自助机界面拒绝了自检", bo="འཕྲུལ་ཆས་ཀྱིས་རང་བརྟག་དགག་འདུག",
                      en=f"The kiosk UI refused the self-test: {message}")
    return Status(level="fault", code=UI_SILENT, zh="自助机界面没有应答，设备未能自检",
                  bo="འཕྲུལ་ཆས་ཀྱི་ངོས་ནས་ལན་མ་བྱུང་།", en=f"No device self-test: {message}")


def _checks_of(data: dict[str, Any]) -> dict[str, Status]:
    out: dict[str, Status] = {}
    raw = data.get("checks")
    for name, doc in (raw.items() if isinstance(raw, dict) else ()):
        try:
            out[str(name)[:40]] = Status.model_validate(doc)
        except ValidationError:
            out[str(name)[:40]] = Status(level="fault", code="unreadable_result", en="The check's result "
                                         "could not be read", zh="自检结果无法识别", bo="བརྟག་དཔྱད་འབྲས་བུ་ཀློག་མ་ཐུབ།")
    return out


def event_fields(ins: fleet_wire.Inspection, source: str) -> dict[str, Any]:
    """The `inspection` event for one run: fault when it failed, degraded when something needs a look."""
    bad = sorted(n for n, c in ins.checks.items() if c.level == "fault")
    weak = sorted(n for n, c in ins.checks.items() if c.level == "degraded")
    level = "fault" if bad else "degraded" if weak else "ok"
    if bad:
        message = fleet_wire.Message(zh=f"巡检未通过：{'、'.join(bad)}", bo=f"ཞིབ་བཤེར་མ་འགྲིག {', '.join(bad)}",
                                     en=f"Inspection failed: {', '.join(bad)}")
    else:
        message = fleet_wire.Message(zh="巡检通过", bo="ཞིབ་བཤེར་འགྲིག་སོང་།", en="Inspection passed"
                                     + (f" (check: {', '.join(weak)})" if weak else ""))
    return {"component": "inspection", "level": level, "code": "inspection_failed" if bad else "inspection_passed",
            "message": message, "details": {"source": source, "at": ins.at, "failed": bad, "degraded": weak,
                                            "checks": {n: {"level": c.level, "code": c.code}
                                                       for n, c in sorted(ins.checks.items())}}}


class Inspector:
    """Runs inspections and remembers the last one. `hour` None: no daily run (commands still work)."""

    def __init__(self, relay: KioskCommandRelay, state_file: Path, *, data_dir: Path, hour: int | None = 3,
                 kiosk_id: str | None = None, clock: Callable[[], float] = time.time,
                 checks: Callable[[], dict[str, Status]] | None = None,
                 self_test_timeout_s: float | None = None, startup_grace_s: float = STARTUP_GRACE_S) -> None:
        self.relay, self.state_file, self.hour, self.kiosk_id = relay, state_file, hour, kiosk_id
        self.clock = clock
        self.self_test_timeout_s = self_test_timeout_s
        self._checks = checks or (lambda: edge_checks(data_dir))
        self._lock = threading.Lock()
        self._state = self._load()
        self._ready_at = time.monotonic() + startup_grace_s

    # --- persistence ------------------------------------------------------------------------------
    def _load(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.state_file.read_text(encoding="utf-8"))
            if not isinstance(doc, dict):
                raise ValueError("not an object")
            last = doc.get("last")
            return {"daily_day": str(doc.get("daily_day") or ""),
                    "last": fleet_wire.Inspection.model_validate(last) if last else None,
                    "unannounced": [e for e in doc.get("unannounced", []) if isinstance(e, dict)]}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, ValidationError) as e:  # a damaged file costs one extra run, no more
            log.warning("inspection record unreadable; starting afresh", extra={"error": type(e).__name__})
        return {"daily_day": "", "last": None, "unannounced": []}

    def _save_locked(self) -> None:
        last = self._state["last"]
        doc = {"daily_day": self._state["daily_day"], "last": last.model_dump(mode="json") if last else None,
               "unannounced": self._state["unannounced"][-KEEP_UNANNOUNCED:]}
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        try:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(doc, f, ensure_ascii=False)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state_file)
        except OSError as e:  # a full disk: the result still goes out, it is just not kept
            log.error("inspection record not written", extra={"error": e.strerror or type(e).__name__})
            with contextlib.suppress(OSError):
                tmp.unlink()

    # --- what the agent asks ----------------------------------------------------------------------
    def last(self) -> fleet_wire.Inspection | None:
        with self._lock:
            return self._state["last"]

    def _today(self) -> tuple[str, int]:
        local = datetime.fromtimestamp(self.clock()).astimezone()
        return local.date().isoformat(), local.hour

    def due(self) -> bool:
        if self.hour is None:
            return False
        if self.relay.last_poll is None and time.monotonic() < self._ready_at:
            return False  # the edge and the UI start together: give the UI its chance to answer
        day, hour = self._today()
        with self._lock:
            return hour >= self.hour and self._state["daily_day"] != day

    def pending_events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._state["unannounced"]]

    def announced(self, n: int) -> None:
        """The first n pending events are in the spool now."""
        with self._lock:
            self._state["unannounced"] = self._state["unannounced"][n:]
            self._save_locked()

    # --- running ----------------------------------------------------------------------------------
    def run(self, args: dict[str, Any], source: str) -> tuple[fleet_wire.Inspection, Outcome]:
        """One inspection (blocking: waits for the UI's self-test); recorded as the last one."""
        outcome = self.relay.request(fleet_wire.CMD_SELF_TEST, args, kiosk_id=self.kiosk_id,
                                     timeout_s=self.self_test_timeout_s)
        checks = _checks_of(outcome[2]) if outcome[0] == "done" else {"kiosk_ui": _ui_check(outcome)}
        try:
            checks.update(self._checks())
        except Exception as e:  # the device results still count
            log.exception("edge checks failed")
            checks["edge"] = Status(level="fault", code="check_crashed", zh="边缘节点自检出错",
                                    bo="མཐའ་མཚམས་རང་བརྟག་ནོར་འཁྲུལ།", en=f"Edge checks failed: {type(e).__name__}")
        at = datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds")
        ins = fleet_wire.Inspection(at=at, ok=all(c.level != "fault" for c in checks.values()), checks=checks)
        fields = event_fields(ins, source)
        fields["message"] = fields["message"].model_dump()
        with self._lock:
            self._state["last"] = ins
            self._state["unannounced"].append(fields)
            self._save_locked()
        log.info("inspection", extra={"source": source, "ok": ins.ok, "checks": len(checks)})
        return ins, outcome

    def run_daily(self) -> fleet_wire.Inspection:
        day, _ = self._today()
        with self._lock:  # marked before it runs: a crash mid-run must not make it run again and again
            self._state["daily_day"] = day
            self._save_locked()
        return self.run({}, "daily")[0]

    # --- the agent's command handlers -------------------------------------------------------------
    def self_test(self, args: dict[str, Any]) -> Outcome:
        ins, outcome = self.run(args, "command")
        data = ins.model_dump(mode="json")
        if outcome[0] != "done":
            return outcome[0], outcome[1], data
        bad = sorted(n for n, c in ins.checks.items() if c.level == "fault")
        message = f"{len(bad)} of {len(ins.checks)} checks failed: {', '.join(bad)}" if bad else \
            f"all {len(ins.checks)} checks passed"
        return "done", message, data

    def screenshot(self, args: dict[str, Any]) -> Outcome:
        return self.relay.request(fleet_wire.CMD_SCREENSHOT, args, kiosk_id=self.kiosk_id)

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Outcome]]:
        return {fleet_wire.CMD_SELF_TEST: self.self_test, fleet_wire.CMD_SCREENSHOT: self.screenshot}
