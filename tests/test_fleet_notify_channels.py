"""Each kind of team channel gets the right message, in Chinese and in Tibetan, through the real dispatcher
to a real receiver: WeCom and DingTalk robots (signed), a plain webhook, an SMTP server."""

# ruff: noqa: F811 - pytest fixtures imported from the receivers module are parameters here
from __future__ import annotations

import random
import unicodedata
from typing import Any

import pytest
from sqlalchemy import Engine

from central.fleet.notify import Dispatcher
from central.fleet.notify.channels import ChannelError, WeComChannel, check_channel
from central.fleet.notify.health import failing_channels
from central.fleet.notify.texts import render, truncate_utf8
from tests.test_fleet_notify_receivers import (  # noqa: F401 - fixtures
    FakeClock,
    Receiver,
    SmtpSink,
    add_rows,
    add_team,
    channel_spec,
    dingtalk,
    engine,
    payload,
    rows,
    smtp_sink,
    webhook,
    wecom,
)

SEED = 20240501
# What a maintainer must read in each language: the fault, the place, the local time and that it is local
# time, what to bring, and the alert's link.
EXPECT = {
    "zh": ["打印机缺纸", "拉萨市", "城关区", "八廓街道便民服务大厅", "k-001", "八廓街 1 号", "2024-05-01 14:03",
           "北京时间", "紧急", "热敏打印纸卷", "http://fleet.example/alerts/1"],
    "bo": ["པར་ཆས་ལ་ཤོག་བུ་མེད།", "ལྷ་ས་གྲོང་ཁྱེར།", "ཁྲིན་ཀོན་ཆུས།", "བར་སྐོར་ཞབས་ཞུ་ཚོགས་ཁང་།", "k-001",
           "2024-05-01 14:03", "པེ་ཅིན་དུས་ཚོད།", "ཛ་དྲག", "པར་ཤོག", "http://fleet.example/alerts/1"],
}


def _dispatcher(engine: Engine, clock: FakeClock, **kw: Any) -> Dispatcher:
    print(f"rng seed {SEED}")
    return Dispatcher(engine, "monitor-a", clock=clock, rng=random.Random(SEED), **kw)


def _text_of(kind: str, target: Any) -> str:
    if kind == "smtp":
        mail = target.mails[0]
        return f"{mail['Subject']}\n{mail.get_content()}"
    body = target.accepted[0]
    if kind == "wecom":
        return body["markdown"]["content"]
    if kind == "dingtalk":
        return body["markdown"]["title"] + "\n" + body["markdown"]["text"]
    return body["text"]


@pytest.mark.parametrize("lang", ["zh", "bo"])
@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "webhook", "smtp"])
def test_each_channel_kind_delivers_the_alert_in_the_team_language(
        kind: str, lang: str, engine: Engine, request: pytest.FixtureRequest) -> None:
    target: Receiver | SmtpSink = request.getfixturevalue("smtp_sink" if kind == "smtp" else kind)
    add_team(engine, "t1", [channel_spec(kind, target)], lang=lang)
    add_rows(engine, [payload(1)])
    clock = FakeClock()
    assert _dispatcher(engine, clock).run_once() == 1
    text = _text_of(kind, target)
    for needle in EXPECT[lang]:
        assert needle in text, f"{kind}/{lang}: {needle!r} missing from:\n{text}"
    if lang == "bo":
        assert "打印机缺纸" not in text  # the fault is said in Tibetan, not left in Chinese
    [row] = rows(engine)
    assert row.status == "sent" and row.attempts == 1 and row.sent_ts == clock.t
    assert failing_channels(engine) == []
    if kind == "webhook":  # the documented structured body, signed
        body = target.accepted[0]
        assert body["alerts"][0]["alert_id"] == 1 and body["alerts"][0]["kiosk_id"] == "k-001"
        assert body["lang"] == lang and body["kind"] == "open" and body["team_id"] == "t1"
    if kind == "smtp":
        assert target.envelopes[0] == ("fleet@example.org", ["team@example.org", "lead@example.org"])


def test_dingtalk_wrong_secret_is_refused_and_retried(dingtalk: Receiver, engine: Engine) -> None:
    add_team(engine, "t1", [channel_spec("dingtalk", dingtalk, secret="not-the-robots-secret")])
    add_rows(engine, [payload(1)])
    clock = FakeClock()
    assert _dispatcher(engine, clock).run_once() == 0
    [row] = rows(engine)
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_ts > clock.t
    assert "310000" in row.last_error
    assert dingtalk.seen and not dingtalk.accepted


def test_escalation_mentions_the_second_contact_on_both_robots(
        wecom: Receiver, dingtalk: Receiver, engine: Engine) -> None:
    add_team(engine, "t1", [channel_spec("wecom", wecom, name="wx"), channel_spec("dingtalk", dingtalk, name="dd")])
    p = payload(1, kind="escalate", mention=["13900000002"])
    add_rows(engine, [p], channel="wx")
    add_rows(engine, [p], channel="dd")
    assert _dispatcher(engine, FakeClock()).run_once() == 2
    wx = wecom.accepted[0]
    assert wx["msgtype"] == "text" and wx["text"]["mentioned_mobile_list"] == ["13900000002"]
    assert "升级" in wx["text"]["content"] and "打印机缺纸" in wx["text"]["content"]
    dd = dingtalk.accepted[0]
    assert dd["at"]["atMobiles"] == ["13900000002"] and "@13900000002" in dd["markdown"]["text"]


def test_wecom_cuts_a_long_tibetan_digest_cleanly_within_its_limit(wecom: Receiver, engine: Engine) -> None:
    add_team(engine, "t1", [channel_spec("wecom", wecom)], lang="bo")
    # 60 halls at once: the 20/min budget sends 19 alone and one digest of 41, far over 4096 bytes
    add_rows(engine, [payload(i, kiosk=f"k-{i:03d}", site=f"s-{i}") for i in range(60)])
    assert _dispatcher(engine, FakeClock()).run_once() == 20
    digest = wecom.accepted[-1]["markdown"]["content"]
    assert len(digest.encode()) <= 4096
    assert "ཁྱོན་ 60" in digest or "ཁྱོན་ 41" in digest  # says it was cut, and how many it carried
    assert all(r.status == "sent" for r in rows(engine))


def test_a_tibetan_cut_never_splits_a_syllable() -> None:
    rng = random.Random(SEED)
    print(f"rng seed {SEED}")
    letters = [chr(c) for c in range(0x0F40, 0x0F6C)]
    marks = [chr(c) for c in range(0x0F71, 0x0F7E)] + [chr(c) for c in range(0x0F90, 0x0FBC)]
    for _ in range(300):
        text = "".join(rng.choice(letters) + "".join(rng.choice(marks) for _ in range(rng.randint(0, 3))) + "་"
                       for _ in range(rng.randint(50, 400)))
        limit = rng.randint(20, 2000)
        cut = truncate_utf8(text, limit, "…")
        assert len(cut.encode()) <= limit
        body = cut[:-1] if cut != text else cut
        assert text.startswith(body)
        if cut != text:
            assert unicodedata.category(text[len(body)])[0] != "M", "cut between a letter and its marks"


def test_bad_channel_entries_get_one_line_reasons() -> None:
    assert check_channel({"name": "wx", "kind": "wecom", "url": "https://qyapi.weixin.qq.com/x?key=k"}) == "wx"
    for spec, needle in [({"kind": "wecom"}, "name"), ({"name": "a", "kind": "fax"}, "kind"),
                         ({"name": "a", "kind": "dingtalk", "url": "ftp://x"}, "url"),
                         ({"name": "a", "kind": "smtp", "to": [], "smtp": {"host": "h", "from": "a@b"}}, "to"),
                         ({"name": "a", "kind": "smtp", "to": ["x@y"], "smtp": {"from": "a@b"}}, "host"),
                         ({"name": "a", "kind": "wecom", "url": "http://x", "rate_per_min": -1}, "rate_per_min")]:
        with pytest.raises(ValueError, match=needle) as e:
            check_channel(spec)
        assert "\n" not in str(e.value)


def test_channel_errors_do_not_leak_keys_phones_or_addresses() -> None:
    e = ChannelError("failed https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY for 13912345678 "
                     "and ops@example.org")
    assert "SECRETKEY" not in e.reason and "13912345678" not in e.reason and "ops@example.org" not in e.reason
    msg = render([[payload(1, kind="escalate", mention=["13900000002"])]], "zh")
    dead = WeComChannel({"name": "wx", "kind": "wecom", "url": "http://127.0.0.1:9/x?key=SECRETKEY",
                         "timeout_s": 2})
    with pytest.raises(ChannelError) as err:
        dead.send(msg)
    assert "SECRETKEY" not in err.value.reason
