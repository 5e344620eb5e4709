"""Alert rules: a TOML file (validated, every problem by key) over the built-in rules, and their conditions.

    [flapping]                 # Nagios-style damping: more than `changes` opens/clears within `window_s`
    changes = 4
    window_s = 900
    [escalation]
    after_s = 900              # a critical alert nobody acknowledged: tell the team's second contact
    remind_every_s = 14400     # repeat-until-acknowledged (Alertmanager's repeat_interval); 0: never

    [[rules]]                  # a rule with a built-in id replaces that rule; a new id adds one
    id = "disk_full"
    severity = "major"         # critical | major | minor | warning
    type = "threshold"         # offline | component | threshold | content_age | outbox_age |
    field = "disk_used_pct"    # inspection_failed | clock_offset | missing_clips | audit_rollback
    above = 90                 # opens above this...
    clear_below = 85           # ...and clears only below this (Zabbix-style hysteresis)
    for_s = 0                  # the condition must hold this long first (the alert is pending until then)
    group_wait_s = 0           # notifications wait this long so one hall's alerts go out as one message

A condition is evaluated per kiosk, or per component (`component = "*"`: one alert for each component
that matches). The component names and codes are the ones the drivers emit: card_reader
(devices/idcard/reader.py), printer (devices/printer/messages.py), a4_printer (devices/a4/messages.py),
camera (devices/camera/camera.py),
voice (devices/voice/voice.py), plus the agent's edge / wan / content (edge/agent/state.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk.config import parse_model, problems_error, read_config_text, validate_model

Severity = Literal["critical", "major", "minor", "warning"]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_M):
    """What the alert says, in each language; `{value}`, `{component}`, `{code}` are filled in."""
    zh: str
    bo: str = ""
    en: str = ""


class _Rule(_M):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")]
    severity: Severity
    enabled: bool = True
    for_s: Annotated[float, Field(ge=0, le=7 * 86400)] = 0.0
    group_wait_s: Annotated[float, Field(ge=0, le=3600)] = 0.0
    escalate_after_s: Annotated[float, Field(gt=0)] | None = None  # None: the global one, critical only
    remind_every_s: Annotated[float, Field(ge=0)] | None = None     # None: the global one; 0: never
    title: Text | None = None


class OfflineRule(_Rule):
    """The kiosk said offline (Last Will or shutdown), or sent no state for offline_after_intervals x its
    interval_s."""
    type: Literal["offline"]


class ComponentRule(_Rule):
    type: Literal["component"]
    component: Annotated[str, Field(min_length=1, max_length=40)]  # "*": each component, one alert each
    levels: list[Literal["ok", "degraded", "fault"]] = ["fault"]
    codes: list[str] = []  # empty: any code at those levels


class ThresholdRule(_Rule):
    type: Literal["threshold"]
    field: Literal["disk_used_pct", "memory_used_pct", "spool_depth", "spool_evicted", "commands_dropped",
                   "outbox.depth", "outbox.dead_letters", "outbox.unconfirmed"]
    above: float
    clear_below: float | None = None  # None: clears as soon as it is not above


class ContentAgeRule(_Rule):
    """The kiosk still runs older content than the newest version in the fleet, `hours` after that version
    first appeared (a kiosk with no content at all is the `content` component's no_content fault)."""
    type: Literal["content_age"]
    hours: Annotated[float, Field(gt=0)]


class OutboxAgeRule(_Rule):
    type: Literal["outbox_age"]
    minutes: Annotated[float, Field(gt=0)]


class InspectionRule(_Rule):
    type: Literal["inspection_failed"]


class ClockRule(_Rule):
    type: Literal["clock_offset"]
    seconds: Annotated[float, Field(gt=0)]


class MissingClipsRule(_Rule):
    type: Literal["missing_clips"]
    lang: str = "bo"


class AuditRollbackRule(_Rule):
    """The kiosk's audit-log head went back or was rewritten (central/fleet/audit_heads.py); holds until
    someone accepts the kiosk's log (`kiosk fleet audit-accept`)."""
    type: Literal["audit_rollback"]


Rule = Annotated[OfflineRule | ComponentRule | ThresholdRule | ContentAgeRule | OutboxAgeRule | InspectionRule
                 | ClockRule | MissingClipsRule | AuditRollbackRule, Field(discriminator="type")]


class Flapping(_M):
    changes: Annotated[int, Field(ge=2, le=100)] = 4
    window_s: Annotated[float, Field(gt=0)] = 900.0


class Escalation(_M):
    after_s: Annotated[float, Field(gt=0)] = 900.0
    remind_every_s: Annotated[float, Field(ge=0)] = 4 * 3600.0


class RulesFile(_M):
    flapping: Flapping = Flapping()
    escalation: Escalation = Escalation()
    rules: list[Rule] = []


@dataclass(frozen=True)
class RuleSet:
    rules: dict[str, Any]  # id -> rule, in evaluation order
    flapping: Flapping = Flapping()
    escalation: Escalation = Escalation()

    def escalate_after(self, rule: Any) -> float | None:
        if rule.escalate_after_s is not None:
            return float(rule.escalate_after_s)
        return self.escalation.after_s if rule.severity == "critical" else None

    def remind_every(self, rule: Any) -> float:
        return float(rule.remind_every_s if rule.remind_every_s is not None else self.escalation.remind_every_s)


# --- built-in rules ---------------------------------------------------------------------------------
def _t(zh: str, bo: str, en: str) -> dict[str, str]:
    return {"zh": zh, "bo": bo, "en": en}


_BUILTIN: list[dict[str, Any]] = [
    {"id": "kiosk_offline", "type": "offline", "severity": "critical", "for_s": 30, "group_wait_s": 30,
     "title": _t("自助机离线", "རང་འགུལ་འཕྲུལ་ཆས་དྲ་ཐོག་མེད།", "Kiosk offline")},
    {"id": "card_reader_down", "type": "component", "component": "card_reader", "severity": "critical",
     "codes": ["not_answering", "disconnected", "sam_fault"], "for_s": 10},
    {"id": "printer_paper_out", "type": "component", "component": "printer", "severity": "major",
     "codes": ["paper_out"]},
    {"id": "printer_cover_open", "type": "component", "component": "printer", "severity": "major",
     "codes": ["cover_open"], "for_s": 60},
    {"id": "printer_not_answering", "type": "component", "component": "printer", "severity": "major",
     "codes": ["not_answering", "disconnected", "offline", "garbled", "cutter_error"], "for_s": 10},
    {"id": "printer_paper_near_end", "type": "component", "component": "printer", "severity": "warning",
     "levels": ["degraded"], "codes": ["paper_near_end"]},
    # The hall's A4 printer (devices/a4/messages.py uses the receipt printer's codes where they mean the same).
    {"id": "a4_printer_paper_out", "type": "component", "component": "a4_printer", "severity": "major",
     "codes": ["paper_out"]},
    {"id": "a4_printer_jam_or_open", "type": "component", "component": "a4_printer", "severity": "major",
     "codes": ["paper_jam", "cover_open"], "for_s": 30},
    {"id": "a4_printer_not_answering", "type": "component", "component": "a4_printer", "severity": "major",
     "codes": ["offline", "not_answering", "job_failed", "job_unconfirmed", "toner_out"], "for_s": 10},
    {"id": "a4_printer_supplies_low", "type": "component", "component": "a4_printer", "severity": "warning",
     "levels": ["degraded"], "codes": ["paper_near_end", "toner_low"]},
    {"id": "camera_gone", "type": "component", "component": "camera", "severity": "major",
     "codes": ["no_camera", "disconnected"], "for_s": 10},
    {"id": "speech_failing", "type": "component", "component": "voice", "severity": "major",
     "codes": ["no_audio_output", "tts_failed"], "for_s": 10},
    {"id": "content_missing", "type": "component", "component": "content", "severity": "critical",
     "codes": ["no_content"]},
    {"id": "edge_blind", "type": "component", "component": "edge", "severity": "major",
     "codes": ["status_unavailable"], "for_s": 60},
    # The kiosk's TLS client certificate (edge/agent/cert_expiry.py): re-enrol it before the broker refuses it.
    {"id": "broker_cert_expiring", "type": "component", "component": "broker_cert", "severity": "major",
     "levels": ["degraded"], "codes": ["cert_expiring"],
     "title": _t("代理服务器证书即将过期", "ལག་ཁྱེར་དུས་ཚོད་འདས་ཉེ།", "Broker certificate expires soon")},
    {"id": "broker_cert_expired", "type": "component", "component": "broker_cert", "severity": "critical",
     "codes": ["cert_expired", "cert_unreadable"],
     "title": _t("代理服务器证书已过期或不可读", "ལག་ཁྱེར་དུས་ཚོད་འདས་ཟིན།", "Broker certificate expired or unreadable")},
    {"id": "disk_full", "type": "threshold", "field": "disk_used_pct", "above": 90, "clear_below": 85,
     "severity": "major", "title": _t("磁盘空间不足（已用 {value:.0f}%）", "སྡུད་སྡེར་གྱི་བར་སྟོང་མི་འདང་། ({value:.0f}%)",
                                      "Disk {value:.0f}% full")},
    {"id": "content_stale", "type": "content_age", "hours": 24, "severity": "minor",
     "title": _t("服务内容未更新到最新版本", "ཞབས་ཞུའི་ནང་དོན་གསར་པ་མ་བྱུང་།", "Content not updated to the newest version")},
    {"id": "outbox_backlog", "type": "outbox_age", "minutes": 30, "severity": "major",
     "title": _t("申请积压未上报（最早 {value:.0f} 分钟）", "ཞུ་ཡིག་མ་བསྐུར་བར་བསགས་འདུག ({value:.0f} min)",
                 "Applications not delivered for {value:.0f} min")},
    {"id": "inspection_failed", "type": "inspection_failed", "severity": "major",
     "title": _t("每日巡检未通过", "ཉིན་རེའི་ཞིབ་བཤེར་མ་འགྲིག", "Daily inspection failed")},
    {"id": "clock_wrong", "type": "clock_offset", "seconds": 120, "severity": "minor",
     "title": _t("系统时间不准（偏差 {value:.0f} 秒）", "དུས་ཚོད་མི་འགྲིག ({value:.0f} s)", "Clock off by {value:.0f} s")},
    {"id": "audit_rollback", "type": "audit_rollback", "severity": "critical",
     "title": _t("审计日志被截断或回滚：{why}", "རྩིས་ཞིབ་ཐོ་འགོད་བཅད་པའམ་ཕྱིར་ལོག་བྱས།", "Audit log truncated or rolled back: {why}")},
    {"id": "missing_tibetan_clips", "type": "missing_clips", "lang": "bo", "severity": "minor",
     "title": _t("缺少藏语语音片段（{value:.0f} 条）", "བོད་སྐད་ཀྱི་སྒྲ་ཆ་མི་འདུག ({value:.0f})",
                 "{value:.0f} Tibetan voice clips missing")},
]

_COMPONENT_TITLE = _t("{component} 故障：{code}", "{component} སྐྱོན། {code}", "{component}: {code}")
_THRESHOLD_TITLE = _t("{field} 超过阈值（{value}）", "{field} ({value})", "{field} over threshold ({value})")


def builtin() -> RuleSet:
    f = validate_model(RulesFile, {"rules": _BUILTIN}, "<built-in rules>")
    return RuleSet({r.id: r for r in f.rules})


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    f = parse_model(RulesFile, text, source)
    problems = []
    seen: set[str] = set()
    for n, r in enumerate(f.rules):
        if r.id in seen:
            problems.append(f"rules.{n}.id = {r.id!r}: defined twice in this file")
        seen.add(r.id)
        if isinstance(r, ThresholdRule) and r.clear_below is not None and r.clear_below > r.above:
            problems.append(f"rules.{n}.clear_below = {r.clear_below}: must not be above `above` ({r.above})")
    if problems:
        raise problems_error(source, problems)
    merged = dict(builtin().rules)
    for r in f.rules:  # an override without a title keeps the built-in words
        base = merged.get(r.id)
        merged[r.id] = r.model_copy(update={"title": base.title}) if r.title is None and base is not None else r
    return RuleSet({k: v for k, v in merged.items() if v.enabled}, f.flapping, f.escalation)


def load_rules(path: Path | str | None) -> RuleSet:
    if path is None:
        return builtin()
    p = Path(path)
    return parse_rules(read_config_text(p, "rules file"), str(p))


# --- evaluating a condition -------------------------------------------------------------------------
@dataclass
class KioskView:
    """What the rules look at for one kiosk (from the kiosks row)."""
    id: str
    online: bool | None
    online_reason: str | None
    online_ts: float | None
    state: dict[str, Any] | None
    state_ts: float | None
    audit: dict[str, Any] | None = None  # the kiosks row's audit_heads (central/fleet/audit_heads.py)


@dataclass(frozen=True)
class Context:
    now: float
    offline_after_intervals: float
    latest_content: tuple[int, float] | None = None  # (newest content version in the fleet, first seen)


@dataclass
class Finding:
    condition: str  # the rule id, plus ":<component>" for per-component rules
    holds: bool
    details: dict[str, Any] = field(default_factory=dict)  # {"zh","bo","en", "value", "component", ...}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _fmt(template: str, values: dict[str, Any]) -> str:
    try:
        return template.format_map(_Blank(values))
    except (ValueError, TypeError, IndexError):
        return template


def what(rule: Any, values: dict[str, Any]) -> dict[str, str]:
    t = rule.title.model_dump() if rule.title else (
        _COMPONENT_TITLE if isinstance(rule, ComponentRule) else _THRESHOLD_TITLE if isinstance(
            rule, ThresholdRule) else _t(rule.id, rule.id, rule.id))
    return {lang: _fmt(t.get(lang) or t["zh"], values) for lang in ("zh", "bo", "en")}


def is_offline(k: KioskView, ctx: Context) -> str | None:
    """Why the kiosk counts as offline, or None. A kiosk never heard from is not offline (not deployed)."""
    if k.online is False:
        return k.online_reason or "offline"
    last = k.state_ts if k.state_ts is not None else (k.online_ts if k.online else None)
    if last is None:
        return None
    interval = _num((k.state or {}).get("interval_s")) or 60.0
    return "silent" if ctx.now - last > ctx.offline_after_intervals * interval else None


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _field(state: dict[str, Any], name: str) -> float | None:
    cur: Any = state
    for part in name.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return _num(cur)


def evaluate(rule: Any, k: KioskView, ctx: Context, holding: set[str]) -> list[Finding]:
    """This rule's findings for one kiosk. `holding`: the conditions whose alert is now open with the
    condition true (for hysteresis: those clear at the clear threshold, not the open one)."""
    if isinstance(rule, OfflineRule):
        why = is_offline(k, ctx)
        return [Finding(rule.id, why is not None, {"reason": why, **what(rule, {"reason": why})} if why else {})]
    st = k.state or {}
    if isinstance(rule, AuditRollbackRule):
        rb = (k.audit or {}).get("rollback")
        if not isinstance(rb, dict):
            return [Finding(rule.id, False)]
        vals = {"why": rb.get("why") or "", "from": rb.get("from"), "to": rb.get("to")}
        return [Finding(rule.id, True, {**what(rule, vals), **vals})]
    if isinstance(rule, ComponentRule):
        comps = st.get("components") or {}
        names = sorted(comps) if rule.component == "*" else [rule.component]
        out = []
        for name in names:
            c = comps.get(name)
            cond = f"{rule.id}:{name}" if rule.component == "*" else rule.id
            hit = isinstance(c, dict) and c.get("level") in rule.levels and (not rule.codes or c.get("code")
                                                                              in rule.codes)
            det: dict[str, Any] = {}
            if hit:
                assert isinstance(c, dict)
                det = {"component": name, "code": c.get("code"), "level": c.get("level")}
                # The driver's own words (in every language) say it best; the rule's title otherwise.
                msg = {lang: str(c.get(lang) or "") for lang in ("zh", "bo", "en")}
                base = what(rule, det) if rule.title else msg
                det.update({lang: base.get(lang) or msg.get(lang) or f"{name}: {c.get('code')}"
                            for lang in ("zh", "bo", "en")})
            out.append(Finding(cond, hit, det))
        return out
    value: float | None = None
    hit = False
    if isinstance(rule, ThresholdRule):
        value = _field(st, rule.field)
        limit = rule.clear_below if (rule.id in holding and rule.clear_below is not None) else rule.above
        hit = value is not None and (value >= limit if rule.id in holding else value > limit)
    elif isinstance(rule, ContentAgeRule):
        ver = st.get("content_version")
        if ctx.latest_content is not None and isinstance(ver, int):
            newest, since = ctx.latest_content
            hit = ver < newest and ctx.now - since > rule.hours * 3600
            value = float(newest - ver)
    elif isinstance(rule, OutboxAgeRule):
        age = _field(st, "outbox.oldest_age_s")
        value = age / 60 if age is not None else None
        hit = value is not None and value > rule.minutes
    elif isinstance(rule, InspectionRule):
        insp = st.get("last_inspection")
        hit = isinstance(insp, dict) and insp.get("ok") is False
        if hit:
            failed = sorted(n for n, c in (insp.get("checks") or {}).items()
                            if isinstance(c, dict) and c.get("level") != "ok")
            return [Finding(rule.id, True, {**what(rule, {}), "failed_checks": failed})]
    elif isinstance(rule, ClockRule):
        off = _num(st.get("clock_offset_s"))
        value = abs(off) if off is not None else None
        hit = value is not None and value > rule.seconds
    elif isinstance(rule, MissingClipsRule):
        value = _num((st.get("missing_clips") or {}).get(rule.lang))
        hit = value is not None and value > 0
    if not hit:
        return [Finding(rule.id, False)]
    vals = {"value": value, "field": getattr(rule, "field", rule.id)}
    return [Finding(rule.id, True, {**what(rule, vals), "value": value})]
