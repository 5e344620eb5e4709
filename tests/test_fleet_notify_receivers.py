"""Real receivers for the notification tests — an aiohttp server that answers like a WeCom group robot, a
DingTalk custom robot (checking the signature and its 1-hour timestamp window) or a plain webhook, and an
aiosmtpd SMTP sink — plus the db helpers the notify tests share. The tests here check the receivers
themselves: a fake robot that accepted anything would make every other test meaningless."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import hashlib
import hmac
import importlib.util
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, insert, select

from central.fleet import db
from central.fleet.notify.channels import NOTIFICATION_SCHEMA, dingtalk_sign
from kiosk.netutil import free_port

SECRET = "SEC-test-secret-0123456789"


class Receiver:
    """One HTTP server on a free loopback port. `script` holds answers for the next requests (an int: that
    HTTP status; a dict: that JSON with HTTP 200); with an empty script it answers like the real service
    after checking the request. `accepted` has the bodies it took as delivered."""

    def __init__(self, style: str, secret: str | None = None) -> None:
        assert style in ("wecom", "dingtalk", "webhook")
        self.style, self.secret = style, secret
        self.port = free_port()
        self.script: list[int | dict[str, Any]] = []
        self.seen: list[dict[str, Any]] = []      # every request
        self.accepted: list[dict[str, Any]] = []  # the ones answered as delivered
        self.always: int | dict[str, Any] | None = None  # answer every request with this (a dead robot)
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        query = {"wecom": "?key=KEY-123", "dingtalk": "?access_token=TOKEN-123", "webhook": ""}[self.style]
        return f"http://127.0.0.1:{self.port}/{self.style}/send{query}"

    def start(self) -> Receiver:
        self._thread.start()
        assert self._ready.wait(10), "receiver did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        entry = {"query": dict(request.query), "headers": dict(request.headers), "body": body, "raw": raw}
        with self._lock:
            self.seen.append(entry)
            answer = self.script.pop(0) if self.script else self.always
        if isinstance(answer, int):
            return web.Response(status=answer, text="scripted failure")
        if isinstance(answer, dict):
            return web.json_response(answer)
        if body is None:
            return web.Response(status=400, text="not JSON")
        problem = getattr(self, f"_check_{self.style}")(entry)
        if problem is not None:
            return problem
        with self._lock:
            self.accepted.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"} if self.style != "webhook" else {"ok": True})

    def _check_wecom(self, e: dict[str, Any]) -> web.Response | None:
        b = e["body"]
        if e["query"].get("key") != "KEY-123":
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        if b.get("msgtype") == "markdown":
            c = b.get("markdown", {}).get("content")
            if not isinstance(c, str) or not c or len(c.encode()) > 4096:
                return web.json_response({"errcode": 40058, "errmsg": "markdown.content exceed max length"})
        elif b.get("msgtype") == "text":
            c = b.get("text", {}).get("content")
            if not isinstance(c, str) or not c or len(c.encode()) > 2048:
                return web.json_response({"errcode": 40058, "errmsg": "text.content exceed max length"})
            if not isinstance(b["text"].get("mentioned_mobile_list", []), list):
                return web.json_response({"errcode": 40063, "errmsg": "bad mentioned_mobile_list"})
        else:
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        return None

    def _check_dingtalk(self, e: dict[str, Any]) -> web.Response | None:
        b, q = e["body"], e["query"]
        if q.get("access_token") != "TOKEN-123":
            return web.json_response({"errcode": 300001, "errmsg": "token is not exist"})
        if self.secret is not None:
            try:
                ts = int(q["timestamp"])
            except (KeyError, ValueError):
                return web.json_response({"errcode": 310000, "errmsg": "sign not match: no timestamp"})
            expected = base64.b64encode(hmac.new(self.secret.encode(), f"{ts}\n{self.secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if abs(time.time() * 1000 - ts) > 3600 * 1000 or not hmac.compare_digest(q.get("sign", ""), expected):
                return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        md, at = b.get("markdown"), b.get("at", {})
        if (b.get("msgtype") != "markdown" or not isinstance(md, dict) or not md.get("title")
                or not md.get("text") or not isinstance(at.get("atMobiles", []), list)):
            return web.json_response({"errcode": 40035, "errmsg": "missing parameter"})
        return None

    def _check_webhook(self, e: dict[str, Any]) -> web.Response | None:
        b = e["body"]
        if b.get("schema") != NOTIFICATION_SCHEMA or not isinstance(b.get("alerts"), list) or not b.get("text"):
            return web.Response(status=422, text="not a notification")
        if self.secret is not None:
            sig = "sha256=" + hmac.new(self.secret.encode(), e["raw"], hashlib.sha256).hexdigest()
            if e["headers"].get("X-Kiosk-Signature") != sig:
                return web.Response(status=401, text="bad signature")
        return None


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a free loopback port; `mails` are the parsed messages it took.
    `fail_with` set to e.g. "451 4.3.0 try later" refuses every message with that reply."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.fail_with: str | None = None
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        if self.fail_with:
            return self.fail_with
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def wecom() -> Iterator[Receiver]:
    r = Receiver("wecom").start()
    yield r
    r.stop()


@pytest.fixture
def dingtalk() -> Iterator[Receiver]:
    r = Receiver("dingtalk", secret=SECRET).start()
    yield r
    r.stop()


@pytest.fixture
def webhook() -> Iterator[Receiver]:
    r = Receiver("webhook", secret=SECRET).start()
    yield r
    r.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    s = SmtpSink()
    s.controller.start()
    yield s
    s.controller.stop()


if importlib.util.find_spec("tests.fixtures_fleet") is None:
    @pytest.fixture
    def fleet_db_url(tmp_path: Any) -> str:
        """SQLite only: M1's fixture (SQLite and PostgreSQL) takes over once tests/fixtures_fleet.py exists."""
        return f"sqlite:///{tmp_path}/fleet.sqlite3"


@pytest.fixture
def engine(fleet_db_url: str) -> Iterator[Engine]:
    e = db.connect(fleet_db_url)
    yield e
    e.dispose()


class FakeClock:
    """Monitor time under the test's control: nobody waits for real minutes."""

    def __init__(self, t: float = 1_714_543_380.0) -> None:  # 2024-05-01 14:03 Beijing time
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> float:
        self.t += s
        return self.t


def channel_spec(kind: str, target: Receiver | SmtpSink, name: str = "robot", **extra: Any) -> dict[str, Any]:
    if kind == "smtp":
        assert isinstance(target, SmtpSink)
        return {"name": name, "kind": "smtp", "to": ["team@example.org", "lead@example.org"],
                "smtp": {"host": "127.0.0.1", "port": target.port, "from": "fleet@example.org"}, **extra}
    assert isinstance(target, Receiver)
    spec = {"name": name, "kind": kind, "url": target.url, **extra}
    if target.secret is not None and "secret" not in extra:
        spec["secret"] = target.secret
    return spec


def add_team(engine: Engine, team_id: str, channels: list[dict[str, Any]], lang: str = "zh") -> None:
    with engine.begin() as conn:
        conn.execute(insert(db.teams).values(id=team_id, name=f"Team {team_id}", lang=lang, counties=["c1"],
                                             contacts=[{"name": "A", "phone": "13800000001"}],
                                             channels=channels))


def payload(alert_id: int, kiosk: str = "k-001", kind: str = "open", rule: str = "paper_out",
            team: str = "t1", site: str = "s-bk", **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "alert_id": alert_id, "severity": "critical", "rule_id": rule,
            "condition": f"{rule}:printer", "kiosk_id": kiosk, "site_id": site,
            "where": {"prefecture": {"zh": "拉萨市", "bo": "ལྷ་ས་གྲོང་ཁྱེར།"},
                      "county": {"zh": "城关区", "bo": "ཁྲིན་ཀོན་ཆུས།"},
                      "site": {"zh": "八廓街道便民服务大厅", "bo": "བར་སྐོར་ཞབས་ཞུ་ཚོགས་ཁང་།"},
                      "address": "八廓街 1 号", "kiosk": kiosk},
            "what": {"zh": "打印机缺纸", "bo": "པར་ཆས་ལ་ཤོག་བུ་མེད།", "en": "Printer out of paper"},
            "since_ts": 1_714_543_380.0, "link": f"http://fleet.example/alerts/{alert_id}", "mention": [],
            "group_key": f"{team}|{site}|{kind}|{rule}", **extra}


def add_rows(engine: Engine, payloads: list[dict[str, Any]], team: str = "t1", channel: str = "robot",
             due: float = 0.0) -> list[int]:
    ids = []
    with engine.begin() as conn:
        for p in payloads:
            kind = p.get("kind", "open") if isinstance(p, dict) else "open"
            ids.append(conn.execute(insert(db.notifications).values(
                dedupe_key=f"{kind}:{len(ids)}:{team}:{channel}:{time.monotonic_ns()}",
                team_id=team, channel=channel, alert_id=None, kind=kind, created_ts=due,
                payload=p, status="pending", attempts=0, next_attempt_ts=due)).inserted_primary_key[0])
    return ids


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(db.notifications).order_by(db.notifications.c.id)))


def post(url: str, body: Any) -> dict[str, Any]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


# --- the receivers must refuse what the real services refuse ----------------------------------------------

def test_dingtalk_receiver_refuses_a_bad_or_old_signature(dingtalk: Receiver) -> None:
    body = {"msgtype": "markdown", "markdown": {"title": "t", "text": "x"}, "at": {"atMobiles": []}}
    now = int(time.time() * 1000)
    good = f"{dingtalk.url}&timestamp={now}&sign={dingtalk_sign(SECRET, now)}"
    assert post(good, body)["errcode"] == 0
    assert post(f"{dingtalk.url}&timestamp={now}&sign={dingtalk_sign('wrong', now)}", body)["errcode"] == 310000
    old = now - 2 * 3600 * 1000
    assert post(f"{dingtalk.url}&timestamp={old}&sign={dingtalk_sign(SECRET, old)}", body)["errcode"] == 310000
    assert post(f"{dingtalk.url}&timestamp={now}&sign={dingtalk_sign(SECRET, now)}", {"msgtype": "text"}
                )["errcode"] != 0
    assert len(dingtalk.accepted) == 1


def test_wecom_receiver_refuses_oversized_markdown(wecom: Receiver) -> None:
    assert post(wecom.url, {"msgtype": "markdown", "markdown": {"content": "好" * 1365}})["errcode"] == 0
    assert post(wecom.url, {"msgtype": "markdown", "markdown": {"content": "好" * 1366}})["errcode"] == 40058
    assert post(wecom.url, {"msgtype": "text", "text": {"content": "好" * 683}})["errcode"] == 40058
    assert len(wecom.accepted) == 1
