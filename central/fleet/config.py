"""The fleet monitor's settings (`fleet.toml`), validated with readable errors like the kiosk's config.

The inventory (prefectures, counties, sites, kiosks, teams) and the alert rules are files of their
own (`inventory` and `rules` below): they change with the fleet, this file with the installation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiosk.config import parse_model, read_config_text


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrokerSection(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    client_id: str = ""  # empty: "fleet-monitor-<hostname>-<pid>"
    shared_group: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = "fleet-monitor"
    keepalive_s: Annotated[int, Field(ge=2, le=600)] = 30
    ca_file: Path | None = None  # TLS when set; with cert_file/key_file the monitor's client certificate
    cert_file: Path | None = None
    key_file: Path | None = None


class WebSection(_Section):
    listen_host: str = "127.0.0.1"
    listen_port: Annotated[int, Field(ge=1, le=65535)] = 8490
    public_url: str = "http://127.0.0.1:8490"  # the links in notifications point here
    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 12
    secure_cookies: bool = False  # True behind HTTPS

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")


class MonitorSection(_Section):
    db: str = "sqlite:///var/lib/kiosk-fleet/fleet.sqlite3"  # or postgresql+psycopg://user@host/db
    inventory: Path = Path("/etc/kiosk-fleet/inventory.toml")
    rules: Path | None = None  # None: the built-in rules only
    evaluate_every_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    offline_after_intervals: Annotated[float, Field(ge=1.5, le=20)] = 3.0  # no state for N x its interval


class AdminSection(_Section):
    """The admin key the monitor signs changing commands with (sync_content...); none: it cannot send them."""
    signing_key_file: Path | None = None  # from `kiosk admin keygen` (mode 0600)
    key_id: str = ""


class FleetConfig(_Section):
    monitor: MonitorSection = MonitorSection()
    broker: BrokerSection = BrokerSection()
    web: WebSection = WebSection()
    admin: AdminSection = AdminSection()


def parse(text: str, source: str = "<fleet config>") -> FleetConfig:
    return parse_model(FleetConfig, text, source)


def load(path: Path | str) -> FleetConfig:
    p = Path(path)
    return parse(read_config_text(p, "fleet config file"), str(p))
