"""Dashboard users, sessions and the login rate limit.

A session cookie is a random token; only its SHA-256 is stored (db.web_sessions), so a copy of the
database does not let anyone log in. Each session carries its own CSRF token. Passwords are hashed
with kiosk.pin's PBKDF2 helpers.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, insert, select, update

from central.fleet import db
from kiosk.pin import hash_pin, verify_pin

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_PASSWORD = 8
# A wrong user name costs the same PBKDF2 work as a wrong password (no user enumeration by timing).
_DUMMY_HASH = hash_pin(secrets.token_hex(8))


class UserError(ValueError):
    """Bad input for a user command: the message is one line for the operator."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    counties: tuple[str, ...] = ()  # a maintainer's counties; empty = all

    @property
    def can_act(self) -> bool:
        return self.role in ("maintainer", "admin")

    def may_act_on(self, county_id: str | None) -> bool:
        """True when this user may acknowledge / resolve / command something in `county_id`."""
        if self.role == "admin":
            return True
        if self.role != "maintainer":
            return False
        return not self.counties or (county_id is not None and county_id in self.counties)


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires_ts: float


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- users ---------------------------------------------------------------------------------------
def _check(name: str, role: str | None = None, password: str | None = None) -> None:
    if not NAME_RE.match(name):
        raise UserError(f"user name {name[:70]!r} is not 1-64 letters, digits, '_', '.' or '-'")
    if role is not None and role not in db.ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(db.ROLES)}")
    if password is not None and len(password) < MIN_PASSWORD:
        raise UserError(f"password is shorter than {MIN_PASSWORD} characters")


def add_user(engine: Engine, name: str, password: str, role: str, counties: list[str] | None = None,
             now: float | None = None) -> None:
    _check(name, role, password)
    with engine.begin() as conn:
        if conn.execute(select(db.users.c.name).where(db.users.c.name == name)).first():
            raise UserError(f"user {name!r} exists already (use `user passwd` to change the password)")
        conn.execute(insert(db.users).values(
            name=name, password_hash=hash_pin(password), role=role, counties=list(counties or []),
            created_ts=time.time() if now is None else now))


def set_password(engine: Engine, name: str, password: str) -> None:
    _check(name, password=password)
    with engine.begin() as conn:
        changed = conn.execute(update(db.users).where(db.users.c.name == name)
                               .values(password_hash=hash_pin(password))).rowcount
        if not changed:
            raise UserError(f"no user {name!r}")
        # a new password ends the sessions opened with the old one
        conn.execute(delete(db.web_sessions).where(db.web_sessions.c.user_name == name))


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        rows = conn.execute(select(db.users).order_by(db.users.c.name)).all()
    return [User(r.name, r.role, tuple(r.counties or ())) for r in rows]


def authenticate(engine: Engine, name: str, password: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(db.users).where(db.users.c.name == name)).first()
    if row is None:
        verify_pin(password, _DUMMY_HASH)
        return None
    if not verify_pin(password, row.password_hash):
        return None
    return User(row.name, row.role, tuple(row.counties or ()))


# --- sessions ------------------------------------------------------------------------------------
def open_session(engine: Engine, user: User, hours: float, now: float | None = None) -> tuple[str, Session]:
    """A new session: (the cookie value, the session). Expired sessions are swept on the way."""
    now = time.time() if now is None else now
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + hours * 3600
    with engine.begin() as conn:
        conn.execute(delete(db.web_sessions).where(db.web_sessions.c.expires_ts < now))
        conn.execute(insert(db.web_sessions).values(token_hash=token_hash(token), user_name=user.name, csrf=csrf,
                                                    created_ts=now, expires_ts=expires))
    return token, Session(user, csrf, expires)


def find_session(engine: Engine, token: str, now: float | None = None) -> Session | None:
    now = time.time() if now is None else now
    s, u = db.web_sessions, db.users
    with engine.connect() as conn:
        row = conn.execute(select(s.c.csrf, s.c.expires_ts, u.c.name, u.c.role, u.c.counties)
                           .join(u, u.c.name == s.c.user_name)
                           .where(s.c.token_hash == token_hash(token), s.c.expires_ts > now)).first()
    if row is None:
        return None
    return Session(User(row.name, row.role, tuple(row.counties or ())), row.csrf, row.expires_ts)


def close_session(engine: Engine, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(db.web_sessions).where(db.web_sessions.c.token_hash == token_hash(token)))


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf.encode(), str(sent).encode())


# --- login rate limit ----------------------------------------------------------------------------
@dataclass
class LoginLimiter:
    """At most `attempts` failed logins per client in `window_s`; in memory (a restart forgives)."""
    attempts: int = 5
    window_s: float = 300.0
    max_clients: int = 10_000  # bounded memory under a spray of addresses
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, client: str, now: float) -> deque[float]:
        q = self._failures.get(client, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def retry_after(self, client: str, now: float | None = None) -> float:
        """0 if the client may try now, else the seconds until it may."""
        now = time.monotonic() if now is None else now
        q = self._recent(client, now)
        if len(q) < self.attempts:
            return 0.0
        return max(0.0, q[0] + self.window_s - now)

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if client not in self._failures and len(self._failures) >= self.max_clients:
            self._failures.pop(next(iter(self._failures)))
        q = self._recent(client, now)
        q.append(now)
        self._failures[client] = q

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)
