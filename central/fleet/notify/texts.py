"""What a notification says: one message for a batch of notification payloads, in the team's language.

A batch is a list of groups; a group is the payloads of one `group_key` (same team, hall, kind and rule:
a hall that lost its WAN is one message listing its kiosks). One group gets the full layout; several
groups (a robot whose rate budget was spent batches what waited) get a compact digest, one block per group.

Chinese (zh) is the default; Tibetan (bo) when the team's `lang` is bo. Times are local time,
Asia/Shanghai (Beijing time), and every message says so. Rendering never raises on a payload with missing
or odd fields: a notification with a gap is still better than none.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
LANGS = ("zh", "bo")

# Tibetan strings below: NEEDS NATIVE REVIEW (drafted by a non-native speaker; keep the keys, fix the words).
_L: dict[str, dict[str, str]] = {
    "zh": {
        "open": "故障", "clear": "已恢复", "escalate": "升级：仍未确认", "flapping": "状态反复",
        "reminder": "提醒：仍未处理", "other": "通知",
        "critical": "紧急", "major": "严重", "minor": "一般", "warning": "提示",
        "where": "地点", "address": "地址", "since": "开始时间", "severity": "级别", "bring": "请携带",
        "kiosks": "自助机", "view": "查看告警", "tz": "北京时间 Asia/Shanghai", "digest": "告警汇总",
        "count": "{n} 条", "units": "{n} 台", "more": "……消息过长已截断（共 {n} 条），全部请在看板查看",
        "flapping_note": "状态反复变化，暂停逐条通知，请到现场检查。",
        "clear_note": "已恢复正常，无需到场。",
        "bring_paper": "热敏打印纸卷", "bring_card_reader": "备用身份证读卡器",
        "bring_camera": "镜头清洁布",
        "sep": "：", "list_sep": "、",
    },
    "bo": {  # NEEDS NATIVE REVIEW
        "open": "སྐྱོན་ཆ།", "clear": "སླར་གསོ་བྱུང་།", "escalate": "རིམ་པ་སྤར། ད་དུང་ངོས་ལེན་མ་བྱས།",
        "flapping": "ཡང་ཡང་འགྱུར་བ།", "reminder": "དྲན་སྐུལ། ད་དུང་ཐག་གཅོད་མ་བྱས།", "other": "བརྡ་ཐོ།",
        "critical": "ཛ་དྲག", "major": "ཚབས་ཆེན།", "minor": "དཀྱུས་མ།", "warning": "གསལ་བརྡ།",
        "where": "ས་གནས།", "address": "ཁ་བྱང་།", "since": "འགོ་ཚུགས་དུས།", "severity": "རིམ་པ།",
        "bring": "ཁྱེར་དགོས་པ།", "kiosks": "རང་སྤྱོད་འཕྲུལ་འཁོར།", "view": "ཉེན་བརྡ་ལྟ་བ།",
        "tz": "པེ་ཅིན་དུས་ཚོད། Asia/Shanghai", "digest": "ཉེན་བརྡ་ཕྱོགས་བསྡུས།",
        "count": "{n}", "units": "{n}", "more": "…ཡིག་ཕྲིན་རིང་དྲགས་པས་བཅད། （ཁྱོན་ {n}） ཚང་མ་ལྟ་པང་ནང་ལྟོས།",
        "flapping_note": "གནས་སྟངས་ཡང་ཡང་འགྱུར་བས་བརྡ་ཐོ་མཚམས་བཞག ས་ཐོག་ཏུ་ཞིབ་བཤེར་གནང་རོགས།",
        "clear_note": "རྒྱུན་ལྡན་དུ་སླར་གསོ་བྱུང་། ས་ཐོག་ཏུ་འགྲོ་མི་དགོས།",
        "bring_paper": "དྲོད་འཛིན་པར་ཤོག་སྒྲིལ་མ།", "bring_card_reader": "ཐོབ་ཐང་ལག་ཁྱེར་ཀློག་ཆས་ཚབ་མ།",
        "bring_camera": "མིག་ཤེལ་ཕྱི་རས།",
        "sep": "： ", "list_sep": "། ",
    },
}

# What to bring, when the fault says it plainly: a substring of the rule id / condition -> text key.
_BRING = (("paper", "bring_paper"), ("card_reader", "bring_card_reader"), ("idcard", "bring_card_reader"),
          ("camera", "bring_camera"))
_NEEDS_VISIT = ("open", "escalate", "reminder")


@dataclass(frozen=True)
class Message:
    """One outgoing message: what every channel renders from (each picks the fields it can show)."""
    title: str                      # short: e-mail subject, DingTalk title
    markdown: str                   # robots' markdown
    plain: str                      # e-mail body, WeCom text message
    lang: str
    kind: str                       # the payloads' kind, or "digest" when they differ
    mentions: list[str] = field(default_factory=list)     # phone numbers to @ (escalations)
    alerts: list[dict[str, Any]] = field(default_factory=list)  # the payloads, as M1 built them
    link: str = ""                  # the first alert's page


def _s(v: Any) -> str:
    return v if isinstance(v, str) else ("" if v is None else str(v))


def _name(where: dict[str, Any], key: str, lang: str) -> str:
    """A place name in `lang`, falling back to Chinese (Tibetan names are not always in the inventory)."""
    v = where.get(key)
    if isinstance(v, dict):
        return _s(v.get(lang)) or _s(v.get("zh"))
    return _s(v)


def _what(p: dict[str, Any], lang: str) -> str:
    w = p.get("what")
    if isinstance(w, dict):
        return _s(w.get(lang)) or _s(w.get("zh")) or _s(w.get("en")) or _s(p.get("rule_id"))
    return _s(w) or _s(p.get("rule_id")) or "?"


def local_time(ts: Any) -> str:
    """`ts` (UTC epoch seconds) as local wall time in Asia/Shanghai; "—" when missing or not a time."""
    try:
        return datetime.fromtimestamp(float(ts), TZ).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError, OverflowError, OSError):
        return "—"


def _bring(p: dict[str, Any], t: dict[str, str]) -> str:
    if _s(p.get("kind")) not in _NEEDS_VISIT:
        return ""
    hay = f"{_s(p.get('rule_id'))} {_s(p.get('condition'))}".lower()
    return next((t[key] for needle, key in _BRING if needle in hay), "")


def _where_line(p: dict[str, Any], lang: str, with_kiosk: bool) -> str:
    where = p.get("where") if isinstance(p.get("where"), dict) else {}
    parts = [_name(where, k, lang) for k in ("prefecture", "county", "site")]
    if with_kiosk:
        parts.append(_s(where.get("kiosk")) or _s(p.get("kiosk_id")))
    return " / ".join(x for x in parts if x) or _s(p.get("kiosk_id")) or "?"


def _headline(p: dict[str, Any], lang: str, n_kiosks: int) -> str:
    t = _L[lang]
    kind = _s(p.get("kind"))
    sev = t.get(_s(p.get("severity")), _s(p.get("severity")))
    label = t.get(kind) if kind in _NEEDS_VISIT + ("clear", "flapping") else t["other"]
    head = f"【{sev}·{label}】" if sev and kind != "clear" else f"【{label}】"
    units = f"（{t['units'].format(n=n_kiosks)}）" if n_kiosks > 1 else ""
    return f"{head}{_what(p, lang)}{units}"


def _kiosk_label(p: dict[str, Any]) -> str:
    where = p.get("where") if isinstance(p.get("where"), dict) else {}
    return _s(where.get("kiosk")) or _s(p.get("kiosk_id")) or "?"


def _group_lines(group: list[dict[str, Any]], t: dict[str, str], lang: str, md: bool) -> list[str]:
    """The body of one group: where, what, since, severity, what to bring, links."""
    p = group[0]
    sep = t["sep"]
    b = (lambda s: f"**{s}**") if md else (lambda s: s)
    where = p.get("where") if isinstance(p.get("where"), dict) else {}
    lines = [f"{b(t['where'])}{sep}{_where_line(p, lang, with_kiosk=len(group) == 1)}"]
    if _s(where.get("address")):
        lines.append(f"{b(t['address'])}{sep}{_s(where.get('address'))}")
    if len(group) == 1:
        lines.append(f"{b(t['since'])}{sep}{local_time(p.get('since_ts'))}（{t['tz']}）")
    if _s(p.get("severity")):
        lines.append(f"{b(t['severity'])}{sep}{t.get(_s(p.get('severity')), _s(p.get('severity')))}")
    bring = _bring(p, t)
    if bring:
        lines.append(f"{b(t['bring'])}{sep}{bring}")
    if _s(p.get("kind")) == "flapping":
        lines.append(t["flapping_note"])
    elif _s(p.get("kind")) == "clear":
        lines.append(t["clear_note"])
    if len(group) == 1:
        link = _s(p.get("link"))
        if link:
            lines.append(f"[{t['view']}]({link})" if md else f"{t['view']}{sep}{link}")
    else:
        lines.append(f"{b(t['kiosks'])}（{t['since']}，{t['tz']}）{sep}")
        for q in group:
            link = _s(q.get("link"))
            label = _kiosk_label(q)
            when = local_time(q.get("since_ts"))
            if md:
                lines.append(f"- [{label}]({link}) {when}" if link else f"- {label} {when}")
            else:
                lines.append(f"- {label} {when} {link}".rstrip())
    return lines


def render(groups: list[list[dict[str, Any]]], lang: str) -> Message:
    """The message for `groups` (each a non-empty list of payloads of one group_key) in `lang`."""
    lang = lang if lang in _L else "zh"
    t = _L[lang]
    groups = [g for g in groups if g]
    if not groups:
        raise ValueError("nothing to render")
    alerts = [p for g in groups for p in g]
    kinds = {_s(p.get("kind")) for p in alerts}
    kind = kinds.pop() if len(kinds) == 1 else "digest"
    mentions = list(dict.fromkeys(m for p in alerts for m in (p.get("mention") or []) if isinstance(m, str) and m))
    if len(groups) == 1:
        title = _headline(groups[0][0], lang, len({_kiosk_label(p) for p in groups[0]}))
        md = [f"### {title}", *_group_lines(groups[0], t, lang, md=True)]
        plain = [title, *_group_lines(groups[0], t, lang, md=False)]
    else:
        title = f"【{t['digest']}】{t['count'].format(n=len(alerts))}"
        md, plain = [f"### {title}"], [title]
        for g in groups:
            head = _headline(g[0], lang, len({_kiosk_label(p) for p in g}))
            md += ["", f"#### {head}", *_group_lines(g, t, lang, md=True)]
            plain += ["", head, *_group_lines(g, t, lang, md=False)]
    return Message(title=title, markdown="\n".join(md), plain="\n".join(plain), lang=lang, kind=kind,
                   mentions=mentions, alerts=alerts, link=_s(alerts[0].get("link")))


def more_note(lang: str, n: int) -> str:
    return _L.get(lang, _L["zh"])["more"].format(n=n)


def truncate_utf8(text: str, max_bytes: int, tail: str = "") -> str:
    """`text` cut to at most `max_bytes` UTF-8 bytes (with `tail` appended when cut): at a line end when one
    is near, never inside a character, and never between a letter and its combining marks (Tibetan
    stacks vowels and subjoined letters as combining marks: a cut there would show a broken syllable)."""
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    budget = max(0, max_bytes - len(tail.encode("utf-8")))
    n = len(text.encode("utf-8")[:budget].decode("utf-8", "ignore"))
    while 0 < n < len(text) and unicodedata.category(text[n]).startswith("M"):
        n -= 1
    nl = text.rfind("\n", 0, n)
    if nl > n * 0.7:  # a whole line is cleaner than a cut mid-sentence, if it costs little
        n = nl
    return text[:n].rstrip() + tail
