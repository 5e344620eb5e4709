"""Where messages go: one small class per kind of team channel, each with `send(message)` raising
ChannelError(reason) on any failure (the dispatcher retries; the reason is one line, nothing personal).

A team channel in the inventory (db.teams.channels, plain JSON; `check_channel` validates one):
- every kind: `name` (unique within the team; notifications.channel refers to it), `kind`,
  optional `rate_per_min` (messages per minute the dispatcher allows this channel; default 20 for wecom
  and dingtalk — their robots' limit — and 0 = unlimited for webhook and smtp), optional `timeout_s` (10).
- `webhook`: `url` (http/https); optional `secret`: the body is then signed, header
  `X-Kiosk-Signature: sha256=<hex HMAC-SHA256(secret, body)>`. Any 2xx answer is success. The JSON body:
  {"schema": "kiosk.fleet.notification/1", "team_id", "channel", "lang", "kind" (open|clear|escalate|
  flapping|reminder, or "digest" when a batch mixes kinds), "title", "text" (plain rendered text),
  "markdown", "mentions": [phones], "alerts": [the notification payloads: alert_id, kind, severity,
  rule_id, condition, kiosk_id, site_id, where, what, since_ts, link, group_key, ...], "sent_ts"}.
- `wecom`: `url` = the group robot's webhook URL (with its key). A markdown message (content cut to 4096
  bytes); when the batch @-mentions someone (escalations) it is sent instead as ONE text message (content
  cut to 2048 bytes) with `mentioned_mobile_list`, because WeCom markdown cannot mention by phone and a
  second message would spend rate budget. Reply `errcode` must be 0, even with HTTP 200.
- `dingtalk`: `url` = the custom robot's webhook URL (with its access_token); optional `secret` for the
  robot's signed mode (`&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256>`). Markdown with `title` and
  `text` (cut to 4096 bytes), `at.atMobiles`, and the @numbers in the text (DingTalk shows a mention only
  then). Reply `errcode` must be 0.
- `smtp`: `to` = [addresses]; `smtp` = {"host", "port" (25), "from", "starttls" (false), "ssl" (false),
  "user", "password"} (user/password optional). A plain-text UTF-8 e-mail; subject = the title.
Secrets (robot keys, tokens, passwords) never appear in errors or logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from typing import Any, Protocol

from central.fleet.notify.texts import Message, more_note, truncate_utf8

KINDS = ("webhook", "wecom", "dingtalk", "smtp")
DEFAULT_RATE_PER_MIN = {"webhook": 0, "wecom": 20, "dingtalk": 20, "smtp": 0}
WECOM_MARKDOWN_MAX = 4096
WECOM_TEXT_MAX = 2048
DINGTALK_TEXT_MAX = 4096  # DingTalk's own limit is larger; a phone screen is not
NOTIFICATION_SCHEMA = "kiosk.fleet.notification/1"
log = logging.getLogger("central.fleet.notify")

_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE_RE = re.compile(r"(?<!\d)\+?\d{7,15}(?!\d)")
_URL_QUERY_RE = re.compile(r"(https?://[^\s?]+)\?\S*")


def clean_reason(text: str) -> str:
    """One line, without e-mail addresses, phone numbers or URL queries (robot keys live there)."""
    text = _URL_QUERY_RE.sub(r"\1?…", " ".join(str(text).split()))
    return _PHONE_RE.sub("[phone]", _EMAIL_RE.sub("[email]", text))[:300]


class ChannelError(Exception):
    """A send failed. `retry_after` (s): the far end asked us to wait (a throttled robot)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(clean_reason(reason))
        self.reason = str(self)
        self.retry_after = retry_after


class Channel(Protocol):
    kind: str
    rate_per_min: int

    def send(self, message: Message) -> None: ...


def check_channel(spec: Any) -> str:
    """The channel's name if `spec` is a usable channel; else ValueError with a one-line reason."""
    if not isinstance(spec, dict):
        raise ValueError("a channel must be a table/object")
    name, kind = spec.get("name"), spec.get("kind")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("channel needs a non-empty `name`")
    if kind not in KINDS:
        raise ValueError(f"channel {name!r}: `kind` must be one of {', '.join(KINDS)}")
    rate = spec.get("rate_per_min", DEFAULT_RATE_PER_MIN[kind])
    if not isinstance(rate, int) or isinstance(rate, bool) or rate < 0:
        raise ValueError(f"channel {name!r}: `rate_per_min` must be a whole number >= 0")
    timeout = spec.get("timeout_s", 10)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout <= 120:
        raise ValueError(f"channel {name!r}: `timeout_s` must be a number in (0, 120]")
    if kind == "smtp":
        to = spec.get("to")
        if not isinstance(to, list) or not to or not all(isinstance(a, str) and "@" in a for a in to):
            raise ValueError(f"channel {name!r}: `to` must be a non-empty list of e-mail addresses")
        smtp = spec.get("smtp")
        if not isinstance(smtp, dict) or not isinstance(smtp.get("host"), str) or not smtp["host"]:
            raise ValueError(f"channel {name!r}: `smtp.host` is required")
        if not isinstance(smtp.get("from"), str) or "@" not in smtp["from"]:
            raise ValueError(f"channel {name!r}: `smtp.from` must be an e-mail address")
        port = smtp.get("port", 25)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise ValueError(f"channel {name!r}: `smtp.port` must be 1..65535")
    else:
        url = spec.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"channel {name!r}: `url` must start with http:// or https://")
        if spec.get("secret") is not None and not isinstance(spec.get("secret"), str):
            raise ValueError(f"channel {name!r}: `secret` must be a string")
    return name


def make_channel(spec: dict[str, Any], team_id: str = "", clock: Any = time.time) -> Channel:
    """The channel object for an inventory entry (ValueError if the entry is not usable)."""
    check_channel(spec)
    cls = {"webhook": WebhookChannel, "wecom": WeComChannel, "dingtalk": DingTalkChannel,
           "smtp": SmtpChannel}[spec["kind"]]
    return cls(spec, team_id=team_id, clock=clock)


class _Base:
    kind = ""

    def __init__(self, spec: dict[str, Any], team_id: str = "", clock: Any = time.time) -> None:
        self.spec = spec
        self.name: str = spec["name"]
        self.team_id = team_id
        self.clock = clock
        self.rate_per_min: int = spec.get("rate_per_min", DEFAULT_RATE_PER_MIN[self.kind])
        self.timeout_s: float = float(spec.get("timeout_s", 10))


def post_json(url: str, body: dict[str, Any], timeout_s: float,
              headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """POST `body` as UTF-8 JSON; (HTTP status, the parsed JSON reply or None). ChannelError when the
    request did not get an HTTP answer or the answer is not 2xx."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            status, raw = resp.status, resp.read(64 * 1024)
    except urllib.error.HTTPError as e:
        raise ChannelError(f"HTTP {e.code}") from None
    except urllib.error.URLError as e:
        raise ChannelError(f"cannot reach the receiver: {e.reason}") from None
    except TimeoutError:
        raise ChannelError(f"no answer within {timeout_s:g} s") from None
    except OSError as e:
        raise ChannelError(f"connection failed: {e}") from None
    try:
        return status, json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError):
        return status, None


def _check_errcode(reply: Any, who: str, throttle_codes: dict[int, float]) -> None:
    """Robots answer HTTP 200 even when they refused: only errcode 0 is success."""
    if not isinstance(reply, dict) or "errcode" not in reply:
        raise ChannelError(f"{who}: reply is not the robot's JSON")
    code = reply.get("errcode")
    if code != 0:
        raise ChannelError(f"{who}: errcode {code} {reply.get('errmsg', '')}".strip(),
                           retry_after=throttle_codes.get(code) if isinstance(code, int) else None)


class WebhookChannel(_Base):
    kind = "webhook"

    def body(self, m: Message) -> dict[str, Any]:
        return {"schema": NOTIFICATION_SCHEMA, "team_id": self.team_id, "channel": self.name, "lang": m.lang,
                "kind": m.kind, "title": m.title, "text": m.plain, "markdown": m.markdown,
                "mentions": m.mentions, "alerts": m.alerts, "sent_ts": self.clock()}

    def send(self, message: Message) -> None:
        body = self.body(message)
        headers = {}
        secret = self.spec.get("secret")
        if secret:
            raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["X-Kiosk-Signature"] = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        post_json(self.spec["url"], body, self.timeout_s, headers)


class WeComChannel(_Base):
    kind = "wecom"
    THROTTLED = {45009: 60.0}  # "api freq out of limit"

    def body(self, m: Message) -> dict[str, Any]:
        if m.mentions:
            text = truncate_utf8(m.plain, WECOM_TEXT_MAX, "\n" + more_note(m.lang, len(m.alerts)) + " " + m.link)
            return {"msgtype": "text", "text": {"content": text, "mentioned_mobile_list": m.mentions}}
        tail = "\n" + more_note(m.lang, len(m.alerts)) + (f" [{m.link}]({m.link})" if m.link else "")
        return {"msgtype": "markdown", "markdown": {"content": truncate_utf8(m.markdown, WECOM_MARKDOWN_MAX, tail)}}

    def send(self, message: Message) -> None:
        _, reply = post_json(self.spec["url"], self.body(message), self.timeout_s)
        _check_errcode(reply, "wecom", self.THROTTLED)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signed mode: urlencode(base64(HMAC-SHA256(key=secret, msg="<timestamp>\\n<secret>")))."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


class DingTalkChannel(_Base):
    kind = "dingtalk"
    THROTTLED = {130101: 600.0}  # "send too fast": the robot is throttled for 10 minutes

    def url(self) -> str:
        url, secret = self.spec["url"], self.spec.get("secret")
        if not secret:
            return url
        ts = int(self.clock() * 1000)
        return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"

    def body(self, m: Message) -> dict[str, Any]:
        ats = " ".join(f"@{p}" for p in m.mentions)
        tail = "\n\n" + more_note(m.lang, len(m.alerts)) + (f" [{m.link}]({m.link})" if m.link else "")
        budget = DINGTALK_TEXT_MAX - (len(ats.encode()) + 2 if ats else 0)
        md = m.markdown.replace("\n", "\n\n")  # DingTalk's markdown joins single-newline lines into one
        text = truncate_utf8(md, budget, tail) + (f"\n\n{ats}" if ats else "")
        return {"msgtype": "markdown", "markdown": {"title": m.title[:64], "text": text},
                "at": {"atMobiles": m.mentions, "isAtAll": False}}

    def send(self, message: Message) -> None:
        _, reply = post_json(self.url(), self.body(message), self.timeout_s)
        _check_errcode(reply, "dingtalk", self.THROTTLED)


class SmtpChannel(_Base):
    kind = "smtp"

    def email(self, m: Message) -> EmailMessage:
        smtp = self.spec["smtp"]
        msg = EmailMessage()
        msg["Subject"] = m.title
        name, addr = parseaddr(smtp["from"])
        msg["From"] = formataddr((name or "Kiosk fleet monitor", addr))
        msg["To"] = ", ".join(self.spec["to"])
        msg.set_content(m.plain, charset="utf-8")
        return msg

    def send(self, message: Message) -> None:
        smtp = self.spec["smtp"]
        host, port = smtp["host"], int(smtp.get("port", 25))
        try:
            if smtp.get("ssl"):
                conn: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=self.timeout_s,
                                                      context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(host, port, timeout=self.timeout_s)
            with conn:
                if smtp.get("starttls"):
                    conn.starttls(context=ssl.create_default_context())
                if smtp.get("user"):
                    conn.login(smtp["user"], smtp.get("password", ""))
                refused = conn.send_message(self.email(message))
        except smtplib.SMTPRecipientsRefused:
            raise ChannelError("smtp: every recipient refused") from None
        except smtplib.SMTPResponseException as e:
            err = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else e.smtp_error
            raise ChannelError(f"smtp: {e.smtp_code} {err}") from None
        except (smtplib.SMTPException, OSError) as e:
            raise ChannelError(f"smtp: {type(e).__name__}: {e}") from None
        if refused:  # some got it: a retry would mail them again, so it counts as sent
            log.warning("smtp: some recipients refused", extra={"team": self.team_id, "channel": self.name,
                                                               "refused": len(refused)})
