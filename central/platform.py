"""A reference government-service platform: what the edge forwarder delivers to in test halls,
training and the demo. Real regions plug their own platform in behind edge/platform_adapter.py.

- Intake is idempotent: every POST carries an Idempotency-Key; the key, a fingerprint of the
  body and the response are stored in the same transaction as the application. A replay gets
  the same response and never makes a second application; the same key with another body is
  409. `BEGIN IMMEDIATE` serialises writers, so concurrent duplicates (even from two processes
  on one file) are safe.
  Every intake is counted as first-time or replay (`GET /platform/v1/stats`, `kiosk platform
  stats`), persisted with the data: a test can prove an edge did not re-send what was delivered.
- Applications move received -> in_review -> approved | rejected, each change in a history.
- It stores PII (it stands in for the government's system) but never logs it; search by ID
  number takes the number in the body, never the URL; operator listings show masked IDs.
- It also keeps social-insurance payment records (one per person, month and kind), which an
  operator adds (`kiosk platform add-payments`) and the edge searches by ID number.
- Approving an application issues its documents (central/documents.py) in the same transaction; the
  edge lists them and fetches one as an A4 PDF, rendered on request and never stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from aiohttp import web

from central import documents
from kiosk import idnumber, wire
from kiosk.durable import write_transaction

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    key          TEXT NOT NULL,
    scope        TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    http_status  INTEGER NOT NULL,
    response     TEXT NOT NULL,
    created      TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS applications (
    tracking_number        TEXT PRIMARY KEY,
    idempotency_key        TEXT NOT NULL UNIQUE,
    service_id             TEXT NOT NULL,
    platform_service_code  TEXT NOT NULL,
    id_number              TEXT NOT NULL,
    name                   TEXT NOT NULL,
    payload                TEXT NOT NULL,
    status                 TEXT NOT NULL,
    history                TEXT NOT NULL,
    received_at            TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS applications_id_number ON applications(id_number);
CREATE TABLE IF NOT EXISTS payments (
    id_number     TEXT NOT NULL,
    year          INTEGER NOT NULL,
    month         INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    amount_fen    INTEGER NOT NULL,
    paid_at       TEXT,
    payer_status  TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (id_number, year, month, kind)
);
CREATE TABLE IF NOT EXISTS feedback (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key  TEXT NOT NULL UNIQUE,
    payload          TEXT NOT NULL,
    received_at      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS intake_counts (
    scope     TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (scope, outcome)
);
"""
PLATFORM_STATS = "/platform/v1/stats"  # operator: intake counts (reference platform only, not in kiosk/wire.py)
SCOPES = ("application", "feedback")
OUTCOMES = ("intakes", "replays", "conflicts")

# Which operator moves are allowed from each state.
TRANSITIONS = {
    wire.STATUS_RECEIVED: (wire.STATUS_IN_REVIEW, wire.STATUS_APPROVED, wire.STATUS_REJECTED),
    wire.STATUS_IN_REVIEW: (wire.STATUS_APPROVED, wire.STATUS_REJECTED),
    wire.STATUS_APPROVED: (),
    wire.STATUS_REJECTED: (),
}
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MAX_AMOUNT = Decimal(100_000)   # yuan: a sanity bound far above any contribution
MAX_PAYMENTS_PER_CALL = 600      # 25 years x 2 kinds x 12 months


class PlatformDB:
    """The platform's SQLite file. Synchronous: handlers call it between awaits, so one process's
    requests never interleave inside a transaction."""

    def __init__(self, path: Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        for pragma in ("journal_mode=WAL", "synchronous=FULL"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript(_SCHEMA)
        self._db.executescript(documents.SCHEMA)

    def close(self) -> None:
        self._db.close()

    def _replay(self, scope: str, key: str, fp: str) -> tuple[int, dict] | None:
        row = self._db.execute("SELECT fingerprint, http_status, response FROM idempotency"
                               " WHERE scope = ? AND key = ?", (scope, key)).fetchone()
        if row is None:
            return None
        if row["fingerprint"] != fp:
            self._count(scope, "conflicts")
            return 409, wire.error_body("idempotency_conflict",
                                        "this Idempotency-Key was already used for a different request")
        self._count(scope, "replays")
        return 200, json.loads(row["response"])

    def _count(self, scope: str, outcome: str) -> None:
        """Inside the intake's transaction, so a count is exactly as durable as what it counts."""
        self._db.execute("INSERT INTO intake_counts VALUES (?, ?, 1)"
                         " ON CONFLICT (scope, outcome) DO UPDATE SET n = n + 1", (scope, outcome))

    def intake_stats(self) -> dict:
        """{scope: {"intakes": first-time intakes, "replays": same key and body again, "conflicts"}}."""
        stats = {scope: dict.fromkeys(OUTCOMES, 0) for scope in SCOPES}
        for r in self._db.execute("SELECT scope, outcome, n FROM intake_counts"):
            stats.setdefault(r["scope"], dict.fromkeys(OUTCOMES, 0))[r["outcome"]] = r["n"]
        return stats

    def _intake(self, scope: str, key: str, fp: str, store: Callable[[str], dict]) -> tuple[int, dict]:
        """One transaction: a replay of `key` answers as before; otherwise store(now) writes the item and
        returns the response, which is remembered under `key` with the item."""
        now = wire.now_iso()
        with write_transaction(self._db):
            replay = self._replay(scope, key, fp)
            if replay is not None:
                return replay
            response = store(now)
            self._db.execute("INSERT INTO idempotency VALUES (?,?,?,?,?,?)",
                             (key, scope, fp, 201, json.dumps(response), now))
            self._count(scope, "intakes")
        return 201, response

    def intake_application(self, key: str, body: dict, fp: str) -> tuple[int, dict]:
        def store(now: str) -> dict:
            proposed = str(body.get("tracking_number") or "")
            tracking = proposed if wire.is_tracking_number(proposed) else wire.new_tracking_number()
            while self._db.execute("SELECT 1 FROM applications WHERE tracking_number = ?",
                                   (tracking,)).fetchone():
                tracking = wire.new_tracking_number()  # another edge proposed the same number
            applicant = body["applicant"]
            history = [{"status": wire.STATUS_RECEIVED, "at": now}]
            self._db.execute(
                "INSERT INTO applications (tracking_number, idempotency_key, service_id, platform_service_code,"
                " id_number, name, payload, status, history, received_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (tracking, key, body["service_id"], body["platform_service_code"], applicant["id_number"].upper(),
                 applicant["name"], json.dumps(body, ensure_ascii=False), wire.STATUS_RECEIVED,
                 json.dumps(history), now, now))
            return {"tracking_number": tracking, "status": wire.STATUS_RECEIVED, "received_at": now}
        return self._intake("application", key, fp, store)

    def intake_feedback(self, key: str, body: dict, fp: str) -> tuple[int, dict]:
        def store(now: str) -> dict:
            cur = self._db.execute("INSERT INTO feedback (idempotency_key, payload, received_at) VALUES (?,?,?)",
                                   (key, json.dumps(body, ensure_ascii=False), now))
            return {"tracking_number": f"FB{cur.lastrowid:08d}", "status": wire.STATUS_RECEIVED, "received_at": now}
        return self._intake("feedback", key, fp, store)

    @staticmethod
    def _public(row: sqlite3.Row) -> dict:
        """An application as anyone outside the platform may see it: no name, masked ID."""
        return {"tracking_number": row["tracking_number"], "service_id": row["service_id"],
                "platform_service_code": row["platform_service_code"],
                "applicant_id_masked": idnumber.mask(row["id_number"]), "status": row["status"],
                "history": json.loads(row["history"]), "received_at": row["received_at"],
                "updated_at": row["updated_at"]}

    def get(self, tracking: str) -> dict | None:
        row = self._db.execute("SELECT * FROM applications WHERE tracking_number = ?", (tracking,)).fetchone()
        return self._public(row) if row else None

    def search(self, id_number: str) -> list[dict]:
        rows = self._db.execute("SELECT * FROM applications WHERE id_number = ? ORDER BY received_at",
                                (id_number.upper(),)).fetchall()
        return [self._public(r) for r in rows]

    def add_payments(self, id_number: str, records: list[dict]) -> int:
        """Store checked records (see _payment_problems); a record for the same person, month and kind
        replaces the old one, so an operator can correct a month and a demo script can run twice."""
        now = wire.now_iso()
        rows = [(id_number.upper(), r["year"], r["month"], r["kind"], r["amount_fen"], r["paid_at"],
                 r["payer_status"], now) for r in records]
        with write_transaction(self._db):
            self._db.executemany("INSERT OR REPLACE INTO payments VALUES (?,?,?,?,?,?,?,?)", rows)
        return len(rows)

    def search_payments(self, id_number: str, max_months: int = wire.PAYMENTS_MAX_MONTHS) -> list[dict]:
        """The latest `max_months` months on record (not calendar months back from today: a resident
        who stopped paying years ago still sees their last payments), latest first."""
        rows = self._db.execute(
            "SELECT * FROM payments WHERE id_number = :id AND year * 12 + month >= ("
            " SELECT MIN(ym) FROM (SELECT DISTINCT year * 12 + month AS ym FROM payments WHERE id_number = :id"
            " ORDER BY ym DESC LIMIT :n))", {"id": id_number.upper(), "n": max_months}).fetchall()
        rows.sort(key=lambda r: (-r["year"], -r["month"], wire.PAYMENT_KINDS.index(r["kind"])))  # pension first
        return [{"year": r["year"], "month": r["month"], "kind": r["kind"],
                 "amount": f"{Decimal(r['amount_fen']) / 100:.2f}", "paid_at": r["paid_at"],
                 "payer_status": r["payer_status"]} for r in rows]

    def list(self, status: str | None = None, limit: int = 100) -> list[dict]:
        q, args = "SELECT * FROM applications", []
        if status:
            q += " WHERE status = ?"
            args.append(status)
        rows = self._db.execute(q + " ORDER BY received_at DESC, rowid DESC LIMIT ?", (*args, limit)).fetchall()
        return [self._public(r) for r in rows]

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM applications").fetchone()[0]

    def set_status(self, tracking: str, status: str) -> tuple[int, dict]:
        now = wire.now_iso()
        with write_transaction(self._db):
            row = self._db.execute("SELECT * FROM applications WHERE tracking_number = ?",
                                   (tracking,)).fetchone()
            if row is None:
                return 404, wire.error_body("not_found", "no application with this tracking number")
            if status not in TRANSITIONS[row["status"]]:
                allowed = ", ".join(TRANSITIONS[row["status"]]) or "none (final)"
                return 409, wire.error_body("invalid_transition",
                                            f"cannot go from {row['status']} to {status}; allowed: {allowed}")
            history = json.loads(row["history"]) + [{"status": status, "at": now}]
            self._db.execute("UPDATE applications SET status = ?, history = ?, updated_at = ?"
                             " WHERE tracking_number = ?", (status, json.dumps(history), now, tracking))
            if status == wire.STATUS_APPROVED:  # in the same transaction: approved means issued
                documents.issue(self._db, row, documents.issue_date())
        return 200, self.get(tracking) or {}

    def find_documents(self, **who: str) -> list[documents.IssuedDocument]:
        return documents.find(self._db, **who)

    def document_key(self) -> bytes:
        return documents.signing_key(self._db)

    def verify_document(self, code: str) -> documents.IssuedDocument | None:
        return documents.verify(self._db, code)


def _error(status: int, code: str, message: str, **details: object) -> web.Response:
    return web.json_response(wire.error_body(code, message, **details), status=status)


@web.middleware
async def _bad_requests(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                        ) -> web.StreamResponse:
    """A malformed body or idempotency key (the wire's rules, as at the edge) is a 400 that says why."""
    try:
        return await handler(request)
    except wire.BadRequest as e:
        return _error(400, e.code, e.message)


async def _json_body(request: web.Request) -> dict:
    return wire.json_object(await request.read())


def _application_problems(body: dict) -> list[str]:
    problems = []
    for k in ("service_id", "platform_service_code"):
        if not isinstance(body.get(k), str) or not body[k]:
            problems.append(f"{k}: required")
    applicant = body.get("applicant")
    if not isinstance(applicant, dict):
        return problems + ["applicant: required"]
    if not isinstance(applicant.get("id_number"), str) or not idnumber.is_valid(applicant["id_number"]):
        problems.append("applicant.id_number: not a valid ID number")
    if not isinstance(applicant.get("name"), str) or not applicant["name"].strip():
        problems.append("applicant.name: required")
    return problems


def _amount_fen(value: object) -> int | None:
    """Yuan (number or decimal string, at most 2 decimals, 0..MAX_AMOUNT) as whole fen; None if not."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or not 0 <= amount <= MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


def _payment_problems(records: object) -> tuple[list[dict], list[str]]:
    """(checked records with amount_fen, problems) for an operator's list of payment records."""
    if not isinstance(records, list) or not 1 <= len(records) <= MAX_PAYMENTS_PER_CALL:
        return [], [f"payments: a list of 1 to {MAX_PAYMENTS_PER_CALL} records is required"]
    checked, problems = [], []
    for i, r in enumerate(records):
        where = f"payments[{i}]"
        if not isinstance(r, dict):
            problems.append(f"{where}: must be an object")
            continue
        year, month, kind = r.get("year"), r.get("month"), r.get("kind")
        status, paid_at = r.get("payer_status", wire.PAYER_PAID), r.get("paid_at")
        amount_fen = _amount_fen(r.get("amount"))
        if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
            problems.append(f"{where}.year: a year from 1990 to 2100")
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            problems.append(f"{where}.month: a month from 1 to 12")
        if kind not in wire.PAYMENT_KINDS:
            problems.append(f"{where}.kind: one of {', '.join(wire.PAYMENT_KINDS)}")
        if amount_fen is None:
            problems.append(f"{where}.amount: yuan from 0 to {MAX_AMOUNT}, at most 2 decimals")
        if status not in wire.PAYER_STATUSES:
            problems.append(f"{where}.payer_status: one of {', '.join(wire.PAYER_STATUSES)}")
        elif status == wire.PAYER_ARREARS and paid_at is not None:
            problems.append(f"{where}.paid_at: must be null for a month in arrears")
        if paid_at is not None and not (isinstance(paid_at, str) and _DATE_RE.match(paid_at) and _is_date(paid_at)):
            problems.append(f"{where}.paid_at: a date written YYYY-MM-DD, or null")
        checked.append({"year": year, "month": month, "kind": kind, "amount_fen": amount_fen,
                        "paid_at": paid_at, "payer_status": status})
    return checked, problems


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _valid_id(body: dict) -> str:
    id_number = body.get("id_number")
    if not isinstance(id_number, str) or not idnumber.is_valid(id_number):
        raise web.HTTPUnprocessableEntity(
            text=json.dumps(wire.error_body("invalid_id_number", "id_number must be a valid 18-character ID number")),
            content_type="application/json")
    return id_number.strip()


def make_app(db: PlatformDB, latency_s: float = 0.0) -> web.Application:
    """latency_s adds a delay to every intake and payment search, standing in for a slow WAN in tests
    and benches."""

    async def delay() -> None:
        if latency_s:
            await asyncio.sleep(latency_s)

    async def post_application(request: web.Request) -> web.Response:
        key = wire.idempotency_key(request.headers)
        body = await _json_body(request)
        await delay()
        problems = _application_problems(body)
        if problems:
            return _error(422, "invalid_application", "the application is incomplete", problems=problems)
        status, doc = db.intake_application(key, body, wire.fingerprint(body))
        if status == 201:
            log.info("application received", extra={"tracking_number": doc["tracking_number"],
                                                     "service_id": body["service_id"]})
        return web.json_response(doc, status=status)

    async def post_feedback(request: web.Request) -> web.Response:
        key = wire.idempotency_key(request.headers)
        body = await _json_body(request)
        await delay()
        status, doc = db.intake_feedback(key, body, wire.fingerprint(body))
        return web.json_response(doc, status=status)

    async def get_application(request: web.Request) -> web.Response:
        doc = db.get(request.match_info["tracking_number"])
        if doc is None:
            return _error(404, "not_found", "no application with this tracking number")
        return web.json_response(doc)

    async def search(request: web.Request) -> web.Response:
        body = await _json_body(request)
        return web.json_response({"applications": db.search(_valid_id(body))})

    async def add_payments(request: web.Request) -> web.Response:
        body = await _json_body(request)
        id_number = _valid_id(body)
        records, problems = _payment_problems(body.get("payments"))
        if problems:
            return _error(422, "invalid_payments", "the payment records need attention", problems=problems)
        stored = db.add_payments(id_number, records)
        log.info("payments stored", extra={"records": stored})
        return web.json_response({"stored": stored, "id_masked": idnumber.mask(id_number)})

    async def search_payments(request: web.Request) -> web.Response:
        body = await _json_body(request)
        id_number = _valid_id(body)
        await delay()
        return web.json_response({"payments": db.search_payments(id_number)})

    async def list_applications(request: web.Request) -> web.Response:
        status = request.query.get("status") or None
        if status is not None and status not in TRANSITIONS:
            return _error(400, "bad_status", f"unknown status {status!r}")
        try:
            limit = max(1, min(1000, int(request.query.get("limit", "100"))))
        except ValueError:
            return _error(400, "bad_limit", "limit must be a number")
        return web.json_response({"total": db.count(), "applications": db.list(status, limit)})

    async def intake_stats(request: web.Request) -> web.Response:
        return web.json_response(db.intake_stats())

    async def set_status(request: web.Request) -> web.Response:
        body = await _json_body(request)
        status = body.get("status")
        if status not in TRANSITIONS:
            return _error(422, "bad_status", f"status must be one of {', '.join(TRANSITIONS)}")
        code, doc = db.set_status(request.match_info["tracking_number"], status)
        if code == 200:
            log.info("status set", extra={"tracking_number": doc["tracking_number"], "status": status})
        return web.json_response(doc, status=code)

    def who_asks(body: dict) -> dict[str, str]:
        """A holder's ID number (card) or a tracking number (receipt), from the body, never the URL."""
        if "id_number" in body:
            return {"id_number": _valid_id(body)}
        tracking = body.get("tracking_number")
        if not wire.is_tracking_number(tracking):
            raise web.HTTPUnprocessableEntity(
                text=json.dumps(wire.error_body("bad_request", "give an id_number or a tracking_number")),
                content_type="application/json")
        return {"tracking_number": tracking}

    async def search_documents(request: web.Request) -> web.Response:
        who = who_asks(await _json_body(request))
        await delay()
        return web.json_response({"documents": [d.summary() for d in db.find_documents(**who)]})

    async def document_pdf(request: web.Request) -> web.Response:
        who = who_asks(await _json_body(request))
        serial = request.match_info["serial"]
        doc = next((d for d in db.find_documents(**who) if d.serial == serial), None)
        if doc is None:  # unknown, or not this holder's / this application's: the same answer
            return _error(404, wire.ERR_NOT_FOUND, "no such document for this resident")
        if doc.kind in documents.NEEDS_CARD and "id_number" not in who:
            return _error(422, wire.ERR_CARD_REQUIRED, "this document names its holder: read the ID card")
        await delay()
        pdf = await asyncio.get_running_loop().run_in_executor(None, documents.render_pdf, doc, db.document_key())
        log.info("document rendered", extra={"serial": doc.serial, "kind": doc.kind})
        return web.Response(body=pdf, content_type="application/pdf")

    async def verify_document(request: web.Request) -> web.Response:
        code = (await _json_body(request)).get("code")
        doc = db.verify_document(code) if isinstance(code, str) else None
        if doc is None:
            return web.json_response({"valid": False})
        return web.json_response({"valid": True, **doc.summary()})

    app = web.Application(client_max_size=8 * 1024 * 1024, middlewares=[_bad_requests])
    app.router.add_post(wire.PLATFORM_APPLICATIONS, post_application)
    app.router.add_get(wire.PLATFORM_APPLICATIONS, list_applications)
    app.router.add_get(PLATFORM_STATS, intake_stats)
    app.router.add_post(wire.PLATFORM_SEARCH, search)
    app.router.add_get(wire.PLATFORM_APPLICATION, get_application)
    app.router.add_post(wire.PLATFORM_SET_STATUS, set_status)
    app.router.add_post(wire.PLATFORM_FEEDBACK, post_feedback)
    app.router.add_post(wire.PLATFORM_PAYMENTS, add_payments)
    app.router.add_post(wire.PLATFORM_PAYMENTS_SEARCH, search_payments)
    app.router.add_post(wire.PLATFORM_DOCUMENTS_SEARCH, search_documents)
    app.router.add_post(wire.PLATFORM_DOCUMENT_PDF, document_pdf)
    app.router.add_post(wire.PLATFORM_DOCUMENT_VERIFY, verify_document)
    return app


def serve(db_path: Path, host: str, port: int, latency_s: float = 0.0) -> None:
    db = PlatformDB(db_path)
    log.info("reference platform serving", extra={"db": str(db_path), "host": host, "port": port})
    try:
        # No access log: request lines are harmless, but a platform is the last place to be careless.
        web.run_app(make_app(db, latency_s), host=host, port=port, print=None, access_log=None)
    finally:
        db.close()
