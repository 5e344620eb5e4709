"""The fleet monitor's database: one schema in SQLAlchemy 2 Core, the same on SQLite and PostgreSQL.

Times are UTC epoch seconds (`*_ts`, floats): they compare and sort the same on both backends.
Several monitor processes may share one database (they split the fleet with an MQTT shared
subscription), so every decision that must happen once is made by one statement that only one
process can win:
- an alert is unique per kiosk + condition while it is not closed (`alerts.open_key` UNIQUE; NULL
  once closed, and NULLs do not collide);
- a state change of an alert is a conditional UPDATE (`WHERE status = <what I saw>`): the process
  whose UPDATE changed a row writes the transition and the notifications, in the same transaction;
- a notification is sent by the process that claimed it (`claimed_by`, `claimed_ts`, conditional UPDATE)
  and is unique by `dedupe_key`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    cast,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

SCHEMA_VERSION = 1
metadata = MetaData()

# --- the inventory (from the TOML inventory file; kiosks also appear on their own) -----------------
prefectures = Table(
    "prefectures", metadata,
    Column("id", String(64), primary_key=True),
    Column("name_zh", Text, nullable=False),
    Column("name_bo", Text, nullable=False, default=""),
)

counties = Table(
    "counties", metadata,
    Column("id", String(64), primary_key=True),
    Column("prefecture_id", String(64), ForeignKey("prefectures.id"), nullable=False),
    Column("name_zh", Text, nullable=False),
    Column("name_bo", Text, nullable=False, default=""),
)

sites = Table(  # a township hall
    "sites", metadata,
    Column("id", String(64), primary_key=True),
    Column("county_id", String(64), ForeignKey("counties.id"), nullable=False),
    Column("name_zh", Text, nullable=False),
    Column("name_bo", Text, nullable=False, default=""),
    Column("address", Text, nullable=False, default=""),
)

teams = Table(  # a maintenance team; it covers the kiosks of its counties
    "teams", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("lang", String(2), nullable=False, default="zh"),  # notifications in zh (default) or bo
    Column("counties", JSON, nullable=False, default=list),   # county ids
    Column("contacts", JSON, nullable=False, default=list),   # [{"name", "phone", "email"}], first = primary
    Column("channels", JSON, nullable=False, default=list),   # [{"kind": webhook|wecom|dingtalk|smtp, ...}]
)

kiosks = Table(
    "kiosks", metadata,
    Column("id", String(64), primary_key=True),
    Column("site_id", String(64), ForeignKey("sites.id"), nullable=True),
    Column("registered", Boolean, nullable=False, default=False),  # False: seen on the broker, not in inventory
    Column("first_seen_ts", Float, nullable=True),
    Column("last_seen_ts", Float, nullable=True),     # any message from it
    Column("online", Boolean, nullable=True),          # from availability (None: never heard)
    Column("online_reason", String(32), nullable=True),
    Column("online_ts", Float, nullable=True),
    Column("state", JSON, nullable=True),              # the last fleet_wire.State, as received
    Column("state_ts", Float, nullable=True),          # when it was received
    Column("last_seq", Integer, nullable=False, default=0),  # highest event seq received
    Column("gaps", Integer, nullable=False, default=0),      # event seqs found missing, ever
    Column("screenshot", LargeBinary, nullable=True),  # the last JPEG the kiosk sent on command
    Column("screenshot_ts", Float, nullable=True),
    Column("audit_heads", Text, nullable=True),  # JSON: audit-log heads seen, a rollback (fleet/audit_heads.py)
)

# --- what kiosks said -----------------------------------------------------------------------------
events = Table(
    "events", metadata,
    Column("id", String(64), primary_key=True),  # the agent's unique event id: a redelivery collides
    Column("kiosk_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at_ts", Float, nullable=True),       # the kiosk's time (its clock may be wrong)
    Column("received_ts", Float, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("component", String(64), nullable=True),
    Column("level", String(16), nullable=False),
    Column("code", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Index("events_kiosk_seq", "kiosk_id", "seq"),
    Index("events_received", "received_ts"),
)

availability_log = Table(  # every change of "online and able to serve", for availability over time
    "availability_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kiosk_id", String(64), nullable=False),
    Column("at_ts", Float, nullable=False),
    Column("up", Boolean, nullable=False),
    Index("availability_kiosk_at", "kiosk_id", "at_ts"),
)

command_results = Table(
    "command_results", metadata,
    Column("id", String(64), primary_key=True),  # the command's id
    Column("kiosk_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("issued_by", String(64), nullable=True),
    Column("issued_ts", Float, nullable=False),
    Column("result", String(16), nullable=True),  # None until answered: done | rejected | failed
    Column("message", Text, nullable=True),
    Column("answered_ts", Float, nullable=True),
)

# --- alerts ---------------------------------------------------------------------------------------
ALERT_PENDING = "pending"    # the condition holds, its `for` duration has not passed yet (not shown as open)
ALERT_ACTIVE = "active"
ALERT_CLEARED = "cleared"    # the condition cleared; visible until acknowledged
ALERT_CLOSED = "closed"      # cleared and acknowledged (or a pending one whose condition went away)
ALERT_STATUSES = (ALERT_PENDING, ALERT_ACTIVE, ALERT_CLEARED, ALERT_CLOSED)
SEVERITIES = ("critical", "major", "minor", "warning")

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("open_key", String(200), nullable=True, unique=True),  # f"{kiosk_id}|{condition}" until closed
    Column("kiosk_id", String(64), nullable=False),
    Column("site_id", String(64), nullable=True),
    Column("condition", String(128), nullable=False),  # rule id, plus the component for per-component rules
    Column("rule_id", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("acked", Boolean, nullable=False, default=False),
    Column("acked_by", String(64), nullable=True),
    Column("acked_ts", Float, nullable=True),
    Column("pending_ts", Float, nullable=False),       # the condition first held
    Column("active_ts", Float, nullable=True),
    Column("cleared_ts", Float, nullable=True),
    Column("closed_ts", Float, nullable=True),
    Column("changed_ts", Float, nullable=False),
    Column("flaps", JSON, nullable=False, default=list),  # times it opened or cleared, recent window
    Column("flapping", Boolean, nullable=False, default=False),
    Column("escalated_ts", Float, nullable=True),
    Column("reminded_ts", Float, nullable=True),  # the last repeat-until-acknowledged reminder
    Column("details", JSON, nullable=False, default=dict),  # what, in words: {"zh", "bo", "en", "component", ...}
    Index("alerts_status", "status"),
    Index("alerts_kiosk", "kiosk_id"),
)

alert_transitions = Table(
    "alert_transitions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("at_ts", Float, nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("acked", Boolean, nullable=False),
    Column("by", String(64), nullable=False),  # a user name, or "system"
    Column("note", Text, nullable=False, default=""),
    Index("transitions_alert", "alert_id"),
)

# --- notifications --------------------------------------------------------------------------------
notifications = Table(
    "notifications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(255), nullable=False, unique=True),  # f"{alert_id}:{kind}:{transition}:{channel}"
    Column("team_id", String(64), nullable=False),
    Column("channel", String(64), nullable=False),  # the team channel's name in the inventory
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=True),
    Column("kind", String(16), nullable=False),  # open | clear | escalate | flapping | group | channel
    Column("created_ts", Float, nullable=False),
    Column("payload", JSON, nullable=False),      # what the message says (built when it was decided)
    Column("status", String(16), nullable=False, default="pending"),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_ts", Float, nullable=False, default=0.0),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_ts", Float, nullable=True),
    Column("sent_ts", Float, nullable=True),
    Column("last_error", Text, nullable=True),
    Index("notifications_due", "status", "next_attempt_ts"),
)

channel_health = Table(  # one row per team channel: a channel that keeps failing is itself shown as a fault
    "channel_health", metadata,
    Column("team_id", String(64), primary_key=True),
    Column("channel", String(64), primary_key=True),  # the channel's name in the inventory
    Column("failures", Integer, nullable=False, default=0),  # consecutive
    Column("last_error", Text, nullable=True),
    Column("last_ok_ts", Float, nullable=True),
    Column("last_failure_ts", Float, nullable=True),
    Column("recent_sends", JSON, nullable=False, default=list),  # send times in the last minute (rate limits)
)

# --- people ---------------------------------------------------------------------------------------
ROLES = ("viewer", "maintainer", "admin")

users = Table(
    "users", metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),   # kiosk.pin's PBKDF2 format
    Column("role", String(16), nullable=False),
    Column("counties", JSON, nullable=False, default=list),  # a maintainer's counties; [] = all
    Column("created_ts", Float, nullable=False),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the cookie value; the value is never stored
    Column("user_name", String(64), ForeignKey("users.name"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_ts", Float, nullable=False),
    Column("expires_ts", Float, nullable=False),
)

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    UniqueConstraint("key"),
)


def insert_ignore(conn: Connection, table: Table, row: dict[str, Any], keys: list[str]) -> bool:
    """INSERT unless a row with the same `keys` exists (both backends, no exception, no aborted
    PostgreSQL transaction); True if this call inserted it."""
    stmt = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table).values(**row)
    stmt = stmt.on_conflict_do_nothing(index_elements=keys).returning(table.c[keys[0]])
    return conn.execute(stmt).first() is not None  # rowcount is -1 here on psycopg 3: RETURNING tells


def upsert(conn: Connection, table: Table, row: dict[str, Any], keys: list[str]) -> None:
    """INSERT, or UPDATE the non-key columns of the row with the same `keys` (one statement: two monitor
    processes applying the inventory at once cannot collide)."""
    stmt = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table).values(**row)
    rest = {k: stmt.excluded[k] for k in row if k not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_=rest) if rest else \
        stmt.on_conflict_do_nothing(index_elements=keys)
    conn.execute(stmt)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API connection
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")  # several monitor processes may share one file
    cur.close()


def connect(url: str) -> Engine:
    """An engine for `url` (`sqlite:///path` or `postgresql+psycopg://...`) with the schema created."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    metadata.create_all(engine)
    return engine


def insert_ignore_many(conn: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> set[Any]:
    """insert_ignore() for many rows in one executemany (SQLAlchemy's "insertmanyvalues": a few multi-row
    INSERT ... ON CONFLICT DO NOTHING RETURNING statements); the `key` values of the rows this call
    inserted. Every row must have the same columns."""
    if not rows:
        return set()
    stmt = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)
    stmt = stmt.on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
    return set(conn.execute(stmt, rows).scalars())


def json_text(conn: Connection, name: str) -> Any:
    """A bound parameter `name` for a JSON column that takes the document already serialized (a str of
    JSON, e.g. from pydantic's model_dump_json: no json.dumps of a dict per row). SQLite stores JSON as
    its text; PostgreSQL casts the text to json."""
    param = bindparam(name, type_=Text)
    return cast(param, JSON) if conn.dialect.name == "postgresql" else param
