"""One simulated kiosk's health, without any network: its components, faults, events and state payloads.

The component names, codes and texts are the ones the real drivers emit (devices/printer/messages.py,
devices/idcard/reader.py, devices/camera/camera.py; central/ may not import devices/, so they are copied
here and a test keeps them equal). Faults come as a Poisson process at `fault_rate` per kiosk-hour and
clear after a random time around `fault_duration_s`; a site's WAN loss is handled by the network side.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from kiosk import fleet_wire
from kiosk.wire import now_iso

SOFTWARE_VERSION = "0.1.0-sim"
DISK_FULL_PCT = 96.0  # "disk filling": over the usual 90 % alarm line, under 100 %


@dataclass(frozen=True)
class Fault:
    name: str          # what `--fault` / force_fault() call it
    component: str     # "" for a fault that is not a component status (disk, WAN)
    code: str
    level: str
    zh: str
    bo: str
    en: str
    weight: float      # relative frequency among faults
    duration_scale: float = 1.0  # a cover is closed in minutes, a camera replaced in days


OK_TEXT = ("正常", "རྒྱུན་ལྡན།", "OK")

FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("paper_near_end", "printer", "paper_near_end", "degraded", "打印纸快用完了",
          "པར་ཆས་ཀྱི་ཤོག་བུ་ཟད་ལ་ཉེ་བ་རེད།", "Receipt paper is running low", 3.0),
    Fault("paper_out", "printer", "paper_out", "fault", "打印纸用完了", "པར་ཆས་ཀྱི་ཤོག་བུ་ཟད་སོང་།",
          "The printer is out of paper", 2.0),
    Fault("cover_open", "printer", "cover_open", "fault", "打印机盖子开着", "པར་ཆས་ཀྱི་ཁ་ལེབ་ཁ་ཕྱེ་འདུག",
          "The printer cover is open", 1.5, 0.3),
    Fault("card_reader_not_answering", "card_reader", "not_answering", "fault", "身份证读卡器无响应",
          "ཐོབ་ཐང་ལག་ཁྱེར་ཀློག་ཆས་ལན་མི་འདེབས།", "ID card reader is not answering", 1.5),
    Fault("camera_disconnected", "camera", "disconnected", "fault", "摄像头已断开，没有画面",
          "པར་ཆས་ཀྱི་འབྲེལ་མཐུད་ཆད་འདུག", "Camera stopped sending pictures", 1.0),
    Fault("disk_filling", "", "disk_full", "degraded", "", "", "", 0.5, 2.0),
    Fault("site_wan_loss", "", "connection_lost", "fault", "", "", "", 0.5),
)}
# Every field of a State in the model's order, as encode() writes them; state_bytes() fills in the rest.
_STATE_DEFAULTS: dict[str, Any] = json.loads(fleet_wire.encode(fleet_wire.State(
    kiosk_id="x0", at="", interval_s=1.0, software_version="")))
_AT, _UPTIME = "@@at@@", "@@uptime@@"  # placeholders no real value contains
COMPONENTS = ("edge", "wan", "content", "printer", "card_reader", "camera", "voice")


def _ok(since: str) -> fleet_wire.ComponentStatus:
    return fleet_wire.ComponentStatus(level="ok", code="ok", zh=OK_TEXT[0], bo=OK_TEXT[1], en=OK_TEXT[2],
                                      since=since)


@dataclass
class SimKiosk:
    """Health and sequence numbers of one kiosk. Not thread-safe: one network shard owns it."""
    kiosk_id: str
    site_id: str
    rng: random.Random
    interval_s: float
    started: float  # time.time() of the simulator's start (uptime)
    components: dict[str, fleet_wire.ComponentStatus] = field(default_factory=dict)
    active: dict[str, str] = field(default_factory=dict)  # component (or "disk") -> fault name
    seq: int = 0
    disk_pct: float = 0.0
    base_disk_pct: float = 0.0
    content_version: int = 3

    memory_pct: float = 0.0
    clock_offset_s: float = 0.0
    _template: str | None = None  # the state's JSON with placeholders, rebuilt only on a change

    def __post_init__(self) -> None:
        ok = _ok(now_iso())  # frozen: thousands of kiosks share one
        self.components = dict.fromkeys(COMPONENTS, ok)
        self.base_disk_pct = self.disk_pct = round(self.rng.uniform(25, 60), 1)
        self.memory_pct = round(self.rng.uniform(30, 45), 1)
        self.clock_offset_s = round(self.rng.uniform(-0.5, 0.5), 2)

    # --- faults ------------------------------------------------------------------------------------
    def next_fault_in(self, fault_rate: float) -> float | None:
        """Seconds until this kiosk's next fault (exponential: faults come independently), None at rate 0."""
        return self.rng.expovariate(fault_rate / 3600.0) if fault_rate > 0 else None

    def pick_fault(self, names: tuple[str, ...] = ()) -> Fault:
        faults = [FAULTS[n] for n in names] if names else list(FAULTS.values())
        return self.rng.choices(faults, weights=[f.weight for f in faults])[0]

    def fault_duration(self, fault: Fault, mean_s: float) -> float:
        return max(0.5, self.rng.uniform(0.5, 1.5) * mean_s * fault.duration_scale)

    def apply(self, fault: Fault) -> list[fleet_wire.Event]:
        """Start `fault` (a component fault or a filling disk); the events it causes (none for the disk:
        only the state shows it)."""
        if fault.component == "":
            if fault.name == "disk_filling" and "disk" not in self.active:
                self.active["disk"] = fault.name
                self.disk_pct = round(self.rng.uniform(DISK_FULL_PCT - 4, DISK_FULL_PCT + 2), 1)
                self._template = None
            return []
        current = self.active.get(fault.component)
        if current is not None and (current, fault.name) != ("paper_near_end", "paper_out"):
            return []  # the low roll may run out; other faults on a faulty component change nothing
        self.active[fault.component] = fault.name
        status = fleet_wire.ComponentStatus(level=fault.level, code=fault.code, zh=fault.zh, bo=fault.bo,
                                            en=fault.en, since=now_iso())
        return [self._change(fault.component, status)]

    def clear(self, fault: Fault) -> list[fleet_wire.Event]:
        key = fault.component or "disk"
        if self.active.get(key) != fault.name:
            return []
        del self.active[key]
        if key == "disk":
            self.disk_pct = self.base_disk_pct
            self._template = None
            return []
        return [self._change(key, _ok(now_iso()))]

    def _change(self, component: str, status: fleet_wire.ComponentStatus) -> fleet_wire.Event:
        prev = self.components[component]
        self.components[component] = status
        self._template = None
        self.seq += 1
        return fleet_wire.Event(
            id=uuid.uuid4().hex,  # unique across runs, also with the same seed: the monitor dedupes by id
            kiosk_id=self.kiosk_id, seq=self.seq, at=now_iso(), kind="status", component=component,
            level=status.level, code=status.code,
            message=fleet_wire.Message(zh=status.zh, bo=status.bo, en=status.en),
            details={"previous": {"level": prev.level, "code": prev.code}})

    # --- payloads ----------------------------------------------------------------------------------
    def state(self, now: float) -> fleet_wire.State:
        return fleet_wire.State(
            kiosk_id=self.kiosk_id, at=now_iso(), interval_s=self.interval_s, software_version=SOFTWARE_VERSION,
            content_version=self.content_version, config_version=1, components=self.components,
            outbox=fleet_wire.OutboxState(depth=0), disk_used_pct=self.disk_pct,
            memory_used_pct=self.memory_pct, uptime_s=round(now - self.started, 1),
            clock_offset_s=self.clock_offset_s, clock_trusted=True)

    def state_bytes(self, now: float) -> bytes:
        """`fleet_wire.encode(self.state(now))`, much faster: a state every few seconds from thousands of
        kiosks is most of the simulator's work. The JSON is built once per change with placeholders for
        the two fields that move; a test keeps the result byte-for-byte equal to encode()."""
        if self._template is None:
            doc = dict(_STATE_DEFAULTS)
            doc.update(kiosk_id=self.kiosk_id, at=_AT, interval_s=self.interval_s,
                       software_version=SOFTWARE_VERSION, content_version=self.content_version, config_version=1,
                       components={n: c.model_dump(mode="json") for n, c in self.components.items()},
                       disk_used_pct=self.disk_pct, memory_used_pct=self.memory_pct, uptime_s=_UPTIME,
                       clock_offset_s=self.clock_offset_s, clock_trusted=True)
            self._template = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        uptime = json.dumps(round(now - self.started, 1))
        return self._template.replace(f'"{_AT}"', f'"{now_iso()}"', 1).replace(f'"{_UPTIME}"', uptime, 1).encode()

    def availability(self, online: bool, reason: str) -> fleet_wire.Availability:
        return fleet_wire.Availability(kiosk_id=self.kiosk_id, online=online, reason=reason,
                                       at=None if reason == "connection_lost" else now_iso())

    def answer(self, raw: bytes) -> fleet_wire.CommandResult | None:
        """A command's result: every known kind is "done" (a simulated kiosk has nothing to fail), an
        unknown kind "rejected", like the agent; a payload without a usable id gets no answer."""
        try:
            cmd = fleet_wire.decode(fleet_wire.KIND_CMD, raw)
        except fleet_wire.WireError:
            return None
        assert isinstance(cmd, fleet_wire.Command)
        known = cmd.kind in fleet_wire.COMMANDS
        data: dict[str, Any] = {}
        if cmd.kind == fleet_wire.CMD_SELF_TEST:
            data = {"ok": not self.active, "faults": sorted(self.active)}
        return fleet_wire.CommandResult(id=cmd.id, kiosk_id=self.kiosk_id, at=now_iso(),
                                        result="done" if known else "rejected",
                                        message="simulated" if known else f"unknown command {cmd.kind[:40]!r}",
                                        data=data)
