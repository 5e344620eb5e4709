"""The kiosk's one TOML config file, validated by a schema.

An invalid file is reported key by key (which key, what value, what was expected) and the
program stops before starting anything. Every key has a default, so an empty file is a valid
development config; production files set at least the kiosk id and the device ports.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_PATH = Path("/etc/kiosk/kiosk.toml")

Lang = Literal["bo", "zh"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HallName(_Section):
    """The hall's name as residents know it (printed on receipts): in both languages, or not at all."""
    bo: str = ""
    zh: str = ""

    def get(self, lang: str) -> str:
        """The name in `lang` ("" when none is set), like a content pack's Text."""
        return getattr(self, lang, "") if lang in ("bo", "zh") else ""

    @model_validator(mode="after")
    def _both(self) -> HallName:
        if bool(self.bo.strip()) != bool(self.zh.strip()):
            raise ValueError("give the hall's name in both bo and zh (a receipt prints both), or neither")
        return self


class KioskSection(_Section):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")] = "dev-kiosk"
    name: str = "Development kiosk"
    default_language: Lang = "bo"
    idle_timeout_s: Annotated[int, Field(ge=30, le=3600)] = 90
    idle_warning_s: Annotated[int, Field(ge=20, le=300)] = 30  # >= 20 s to extend (ADA / EN 301 549)
    elder_mode: bool = False
    # Where the kiosk is: signed fleet commands may target a site or a region instead of one kiosk id.
    site: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{0,64}$")] = ""
    region: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{0,64}$")] = ""
    hall_name: HallName = HallName()
    # Receipts print the edge's trusted UTC time in the hall's zone, whatever zone the box was installed with.
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a time zone name (e.g. Asia/Shanghai)") from None
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class CardReaderSection(_Section):
    enabled: bool = True
    port: str = "/dev/ttyUSB0"
    baudrate: Literal[9600, 19200, 38400, 57600, 115200] = 115200
    poll_interval_s: Annotated[float, Field(gt=0.05, le=5)] = 0.3


class PrinterSection(_Section):
    enabled: bool = True
    port: str = "/dev/ttyUSB1"
    baudrate: Literal[9600, 19200, 38400, 57600, 115200] = 115200
    width_dots: Annotated[int, Field(ge=384, le=832)] = 576
    status_timeout_s: Annotated[float, Field(gt=0, le=5)] = 0.5


class CameraSection(_Section):
    enabled: bool = True
    source: int | str = 0  # device index, or a video/image file


class VoiceSection(_Section):
    enabled: bool = True
    volume_default: Annotated[float, Field(ge=0, le=1)] = 0.8
    tts_voice: str = "cmn-latn-pinyin"
    cache_dir: Path = Path("/var/cache/kiosk/tts")
    player: str = "aplay"
    synthetic_bo: bool = False  # Tibetan without a clip read by the synthetic voice (unrated: off by default)


class A4PrinterSection(_Section):
    queue: Annotated[str, Field(min_length=1)]  # the CUPS queue of the hall's A4 printer
    server: str | None = None  # host:port of the CUPS scheduler; None = the system's (CUPS_SERVER, localhost)


class DevicesSection(_Section):
    card_reader: CardReaderSection = CardReaderSection()
    printer: PrinterSection = PrinterSection()
    a4_printer: A4PrinterSection | None = None  # absent: no A4 printer, no "print my certificate" tile
    camera: CameraSection = CameraSection()
    voice: VoiceSection = VoiceSection()


class AdminKey(_Section):
    key_id: Annotated[str, Field(min_length=1)]
    public_key: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/=]{40,64}$")]  # base64 raw Ed25519


class KioskClient(_Section):
    """A kiosk allowed to use this edge over the hall LAN: its id and the SHA-256 (hex) of its token."""
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
    token_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class EdgeSection(_Section):
    listen_host: str = "127.0.0.1"
    listen_port: Annotated[int, Field(ge=1, le=65535)] = 8470
    url: str = "http://127.0.0.1:8470"  # where the kiosk UI reaches its edge node
    data_dir: Path = Path("/var/lib/kiosk/edge")
    origin_url: str = ""  # content origin; empty = no sync
    poll_interval_s: Annotated[float, Field(gt=0, le=86400)] = 300
    allow_unsigned: bool = False  # development only; the edge's status says so when on
    admin_keys: list[AdminKey] = []
    platform_url: str = "http://127.0.0.1:8480"
    # The kiosk side: the token this kiosk sends to its edge (empty: loopback without a token).
    token: str = ""
    # The edge side: kiosks that may call from the hall LAN (loopback without a token stays allowed).
    kiosks: list[KioskClient] = []
    lookup_rate_per_min: Annotated[int, Field(ge=1, le=600)] = 20  # progress/payment lookups per kiosk
    lookup_workers: Annotated[int, Field(ge=1, le=32)] = 4
    # Dead letters keep the resident's data this long, then only tracking number, service and reason.
    dead_letter_retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    # Free space (MiB) on data_dir's filesystem: below warn the status says disk_low; below critical new
    # submissions get 507 storage_full, so what is already queued keeps the room it needs to be forwarded.
    disk_warn_free_mb: Annotated[float, Field(ge=0, le=1_000_000)] = 500
    disk_critical_free_mb: Annotated[float, Field(ge=0, le=1_000_000)] = 100

    @field_validator("origin_url", "url", "platform_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _disk_levels(self) -> EdgeSection:
        if self.disk_critical_free_mb > self.disk_warn_free_mb:
            raise ValueError("disk_critical_free_mb must not be above disk_warn_free_mb")
        return self


class MqttSection(_Section):
    """The edge's fleet agent: health to the fleet monitor over MQTT (TLS when ca_file is set)."""
    enabled: bool = False
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    ca_file: Path | None = None    # the broker's CA; with cert_file + key_file, the kiosk's client certificate
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: Annotated[int, Field(ge=2, le=600)] = 30  # the broker sends the Last Will after 1.5x this
    interval_s: Annotated[float, Field(ge=1, le=3600)] = 60  # the state is republished at least this often
    spool_max: Annotated[int, Field(ge=10, le=1_000_000)] = 10_000  # events kept while the broker is away
    # Local hour of the daily inspection (self-test through the kiosk UI + the edge's own checks); None = off.
    inspection_hour: Annotated[int, Field(ge=0, le=23)] | None = 3

    @field_validator("inspection_hour", mode="before")
    @classmethod
    def _off(cls, v: object) -> object:
        return None if v == "off" else v  # TOML has no null: "off" is how a file says None


class MaintenanceSection(_Section):
    # PBKDF2-SHA256 hash of the maintenance PIN: "pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>"
    pin_hash: str = ""
    lockout_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    lockout_s: Annotated[int, Field(ge=10, le=3600)] = 300


class LoggingSection(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = "json"


class AuditSection(_Section):
    # The hash-chained audit log (kiosk/audit.py), shared by the UI and the edge on one box;
    # None: <edge.data_dir>/../audit/audit.sqlite3 (/var/lib/kiosk/audit/audit.sqlite3 by default).
    path: Path | None = None


class Config(_Section):
    kiosk: KioskSection = KioskSection()
    devices: DevicesSection = DevicesSection()
    edge: EdgeSection = EdgeSection()
    mqtt: MqttSection = MqttSection()
    maintenance: MaintenanceSection = MaintenanceSection()
    logging: LoggingSection = LoggingSection()
    audit: AuditSection = AuditSection()


_M = TypeVar("_M", bound=BaseModel)


class ConfigError(Exception):
    """A config file that cannot be used; the message names every problem."""


def describe_error(err: dict) -> str:
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        return f"{key}: unknown key (check the spelling; see kiosk.example.toml)"
    if err["type"] == "missing":
        return f"{key}: required key is missing"
    return f"{key} = {err.get('input')!r}: {err['msg']}"


def problems_error(source: str, problems: list[str]) -> ConfigError:
    return ConfigError("\n".join([f"{source}: {len(problems)} problem(s):"] + [f"  - {p}" for p in problems]))


def validate_model(model: type[_M], data: object, source: str) -> _M:
    """`data` checked by a pydantic model; a ConfigError naming every problem by key otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise problems_error(source, [describe_error(err) for err in e.errors()]) from None


def parse_model(model: type[_M], text: str, source: str) -> _M:
    """TOML text checked by a pydantic model (the kiosk's config, the fleet's files)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    return validate_model(model, data, source)


def read_config_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None


def parse(text: str, source: str = "<config>") -> Config:
    return parse_model(Config, text, source)


def load(path: Path | str | None = None) -> Config:
    """Load and validate the config file; a missing default file means built-in defaults."""
    p = Path(path) if path is not None else DEFAULT_PATH
    if path is None and not p.exists():
        return Config()
    return parse(read_config_text(p, "config file"), str(p))
