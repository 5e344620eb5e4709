"""The fleet's MQTT contract: topics and payloads, defined once for the edge agent and the fleet monitor.

Topics (`<kiosk_id>` fills one whole level, so a Mosquitto `pattern` ACL on `%u` confines a kiosk to its
own subtree):
- `kiosk/v1/<id>/availability` (retained): online / offline. The agent's Last Will says offline with
  reason `connection_lost`; it publishes online (birth) after each connect and offline `shutdown` on an
  orderly stop (a will is not sent on a clean disconnect).
- `kiosk/v1/<id>/state` (retained): the kiosk's whole health picture, republished on change, on every
  reconnect and every reporting interval.
- `kiosk/v1/<id>/events`: one per status change or fault, with a unique id and a per-kiosk sequence
  number (the monitor drops redelivered duplicates and notices gaps).
- `kiosk/v1/<id>/cmd` and `kiosk/v1/<id>/cmd/result`: commands and their answers, matched by id.
- `kiosk/v1/fleet/content` (retained): the content announcement.

Every payload is a JSON object with a `schema` field naming its kind and major version; a reader drops
a payload whose schema it does not know (unknown extra fields are ignored: newer agents may add some).
Timestamps are UTC ISO-8601. No payload ever carries a resident's name, ID number or photo.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PREFIX = "kiosk/v1"
FLEET_ID = "fleet"  # reserved: never a kiosk id
KIOSK_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
MAX_PAYLOAD_BYTES = 256 * 1024  # a downscaled screenshot fits; anything larger is dropped unread

KIND_AVAILABILITY = "availability"
KIND_STATE = "state"
KIND_EVENTS = "events"
KIND_CMD = "cmd"
KIND_CMD_RESULT = "cmd/result"
KINDS = (KIND_AVAILABILITY, KIND_STATE, KIND_EVENTS, KIND_CMD, KIND_CMD_RESULT)
CONTENT_TOPIC = f"{PREFIX}/{FLEET_ID}/content"

SCHEMA_AVAILABILITY = "kiosk.fleet.availability/1"
SCHEMA_STATE = "kiosk.fleet.state/1"
SCHEMA_EVENT = "kiosk.fleet.event/1"
SCHEMA_COMMAND = "kiosk.fleet.command/1"
SCHEMA_COMMAND_RESULT = "kiosk.fleet.command-result/1"

# Commands the agent understands (the security issue makes every one that changes anything signed).
CMD_SYNC_CONTENT = "sync_content"
CMD_SELF_TEST = "self_test"
CMD_RESTART_COMPONENT = "restart_component"
CMD_SCREENSHOT = "screenshot"
CMD_CONFIG = "config"  # args: {"toml": text laid over the kiosk's config, "config_version": int}
COMMANDS = (CMD_SYNC_CONTENT, CMD_SELF_TEST, CMD_RESTART_COMPONENT, CMD_SCREENSHOT, CMD_CONFIG)
# Commands that change something travel signed (Command.envelope); read-only ones may come unsigned.
SIGNED_COMMANDS = (CMD_SYNC_CONTENT, CMD_RESTART_COMPONENT, CMD_CONFIG)
READ_ONLY_COMMANDS = (CMD_SELF_TEST, CMD_SCREENSHOT)
COMMAND_ENVELOPE_KIND = "fleet-command"            # kiosk.signing Envelope kind of a signed command
ANNOUNCEMENT_ENVELOPE_KIND = "content-announcement"  # ... of the retained CONTENT_TOPIC announcement
SCHEMA_SIGNED_COMMAND = "kiosk.fleet.signed-command/1"
SCHEMA_CONTENT_ANNOUNCEMENT = "kiosk.fleet.content-announcement/1"

QOS = 1


def topic(kiosk_id: str, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown topic kind {kind!r}")
    if not KIOSK_ID_RE.match(kiosk_id) or kiosk_id == FLEET_ID:
        raise ValueError(f"not a kiosk id: {kiosk_id!r}")
    return f"{PREFIX}/{kiosk_id}/{kind}"


def parse_topic(name: str) -> tuple[str, str] | None:
    """(kiosk_id, kind) for a kiosk topic of a known shape, else None."""
    if not name.startswith(PREFIX + "/"):
        return None
    kiosk_id, _, kind = name[len(PREFIX) + 1:].partition("/")
    if kind not in KINDS or kiosk_id == FLEET_ID or not KIOSK_ID_RE.match(kiosk_id):
        return None
    return kiosk_id, kind


def subscription(kind: str, group: str | None = None) -> str:
    """The filter for one kind of message from every kiosk; with `group`, an MQTT 5 shared subscription
    (each message goes to one member of the group: several monitor processes split the fleet)."""
    flt = f"{PREFIX}/+/{kind}"
    return f"$share/{group}/{flt}" if group else flt


# --- payloads ------------------------------------------------------------------------------------
class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Message(_Payload):
    zh: str = ""
    bo: str = ""
    en: str = ""


class ComponentStatus(_Payload):
    """One component, as `kiosk.status.Status.as_dict()` gives it."""
    level: Literal["ok", "degraded", "fault"]
    code: str
    zh: str = ""
    bo: str = ""
    en: str = ""
    since: str | None = None


class Availability(_Payload):
    schema_: Literal["kiosk.fleet.availability/1"] = Field(SCHEMA_AVAILABILITY, alias="schema")
    kiosk_id: str
    online: bool
    reason: Literal["birth", "shutdown", "connection_lost"]
    at: str | None = None  # None in a Last Will: it is written at connect time, sent much later


class OutboxState(_Payload):
    depth: int = 0
    oldest_age_s: float | None = None
    dead_letters: int = 0
    dead_oldest_age_s: float | None = None
    unconfirmed: int = 0  # applications whose receipt no resident saw


class VoiceCoverage(_Payload):
    """How one language's prompts and service titles are heard on a kiosk (the UI reports it with its health)."""
    clip: int = Field(0, ge=0)        # a recorded or imported clip
    stand_in: int = Field(0, ge=0)    # a stand-in clip: a placeholder, not a native recording
    synthetic: int = Field(0, ge=0)   # Mandarin TTS, or the synthetic Tibetan voice (unrated)
    silent: int = Field(0, ge=0)      # no clip and no voice for it (Tibetan with voice.synthetic_bo off)


class Inspection(_Payload):
    """A self-test run (the daily inspection, or on command): each check's result."""
    at: str
    ok: bool
    checks: dict[str, ComponentStatus] = {}


class State(_Payload):
    schema_: Literal["kiosk.fleet.state/1"] = Field(SCHEMA_STATE, alias="schema")
    kiosk_id: str
    at: str
    online: bool = True
    interval_s: float  # how often the agent republishes; the monitor's silence timeout is a multiple
    software_version: str
    content_version: int | None = None
    content_refused: dict[str, Any] | None = None  # the edge sync's `refused` record
    config_version: int | None = None
    components: dict[str, ComponentStatus] = {}
    outbox: OutboxState = OutboxState()
    disk_used_pct: float | None = None
    memory_used_pct: float | None = None
    uptime_s: float | None = None
    clock_offset_s: float | None = None  # None when unknown
    clock_trusted: bool | None = None
    broker_cert_days_left: int | None = None  # the kiosk's own client certificate (TLS); None without one
    last_inspection: Inspection | None = None
    missing_clips: dict[str, int] = {}  # language -> prompts with no recorded clip
    voice_coverage: dict[str, VoiceCoverage] = {}  # language -> how its prompts are heard
    audit_head: str | None = None
    spool_depth: int = 0
    spool_evicted: int = 0  # events dropped oldest-first because the spool was full, ever
    commands_dropped: int = 0  # cmd payloads dropped unanswered (not JSON, or no usable id) since start


class Event(_Payload):
    schema_: Literal["kiosk.fleet.event/1"] = Field(SCHEMA_EVENT, alias="schema")
    id: Annotated[str, Field(min_length=8, max_length=64)]
    kiosk_id: str
    seq: Annotated[int, Field(ge=1)]
    at: str
    kind: Literal["status", "inspection", "command", "spool_evicted"]
    component: str | None = None
    level: Literal["ok", "degraded", "fault"] = "ok"
    code: str = "ok"
    message: Message = Message()
    details: dict[str, Any] = {}


class Command(_Payload):
    schema_: Literal["kiosk.fleet.command/1"] = Field(SCHEMA_COMMAND, alias="schema")
    id: Annotated[str, Field(min_length=8, max_length=64)]
    kind: str  # one of COMMANDS; an unknown kind is answered "rejected", not dropped
    args: dict[str, Any] = {}
    issued_at: str | None = None
    issued_by: str | None = None
    envelope: str | None = None  # kiosk.signing Envelope JSON of a SignedCommand (kind COMMAND_ENVELOPE_KIND)


class Target(_Payload):
    """Who a signed command is for: exactly one of a kiosk id, a site or a region."""
    kiosk: str | None = None
    site: str | None = None
    region: str | None = None


class SignedCommand(_Payload):
    """The signed payload of a command: what the kiosk runs is this, never the unsigned outer fields."""
    schema_: Literal["kiosk.fleet.signed-command/1"] = Field(SCHEMA_SIGNED_COMMAND, alias="schema")
    id: str
    kind: str
    args: dict[str, Any] = {}
    target: Target
    issued_at: str
    issued_by: str = ""


class ContentAnnouncement(_Payload):
    """The signed payload of the retained content announcement: a new content version is at the origin."""
    schema_: Literal["kiosk.fleet.content-announcement/1"] = Field(SCHEMA_CONTENT_ANNOUNCEMENT, alias="schema")
    version: Annotated[int, Field(ge=1)]
    issued_at: str


class CommandResult(_Payload):
    schema_: Literal["kiosk.fleet.command-result/1"] = Field(SCHEMA_COMMAND_RESULT, alias="schema")
    id: str
    kiosk_id: str
    at: str
    result: Literal["done", "rejected", "failed"]
    message: str = ""
    data: dict[str, Any] = {}


_MODELS: dict[str, type[_Payload]] = {
    KIND_AVAILABILITY: Availability, KIND_STATE: State, KIND_EVENTS: Event,
    KIND_CMD: Command, KIND_CMD_RESULT: CommandResult,
}


class WireError(ValueError):
    """A payload that cannot be used; the message says why in one line (for a log line and a counter)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # too_large | not_json | wrong_schema | invalid | wrong_kiosk


def encode(payload: _Payload) -> bytes:
    return json.dumps(payload.model_dump(mode="json", by_alias=True), ensure_ascii=False,
                      separators=(",", ":")).encode()


def decode(kind: str, data: bytes, kiosk_id: str | None = None) -> _Payload:
    """Parse and validate one payload of `kind`; WireError with a one-line reason otherwise. With
    `kiosk_id` (from the topic), a payload that names another kiosk is refused."""
    if len(data) > MAX_PAYLOAD_BYTES:
        raise WireError("too_large", f"payload of {len(data)} bytes is over {MAX_PAYLOAD_BYTES}")
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise WireError("not_json", "payload is not JSON") from None
    if not isinstance(doc, dict):
        raise WireError("not_json", "payload is not a JSON object")
    model = _MODELS[kind]
    expected = model.model_fields["schema_"].default
    if doc.get("schema") != expected:
        raise WireError("wrong_schema", f"schema {str(doc.get('schema'))[:60]!r} is not {expected!r}")
    try:
        obj = model.model_validate(doc)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise WireError("invalid", f"{e.error_count()} problem(s), first: {where}: {first['msg']}") from None
    if kiosk_id is not None and getattr(obj, "kiosk_id", kiosk_id) != kiosk_id:
        raise WireError("wrong_kiosk", "payload names another kiosk than its topic")
    return obj
