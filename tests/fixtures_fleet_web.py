"""The fleet dashboard on a real port, with a seeded fleet: two counties of one prefecture, kiosks in
every state, alerts in both counties, a failing notification channel and 48 h of availability.

The app runs in its own thread and event loop, so async aiohttp clients and Selenium both talk to it
over TCP like a browser would. The clock is frozen at the seeding time so the charts are exact.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from central.fleet import db
from central.fleet.config import FleetConfig, WebSection
from kiosk.netutil import free_port
from kiosk.pin import hash_pin

H = 3600.0
PASSWORDS = {"admin": "admin-pass-1", "viewer": "viewer-pass-1", "maint-a": "maint-a-pass", "maint-b": "maint-b-pass"}
COUNTY_A, COUNTY_B = "chengguan", "dagze"
ALERT_A, ALERT_B, ALERT_CLEARED, ALERT_CLOSED = 1, 2, 3, 4


def _state(kid: str, now: float, components: dict[str, tuple[str, str]], version: str = "1.4.2") -> dict:
    return {"schema": "kiosk.fleet.state/1", "kiosk_id": kid, "at": "2025-01-01T00:00:00Z", "interval_s": 30.0,
            "software_version": version, "content_version": 202501, "config_version": 3,
            "components": {n: {"level": lv, "code": code, "zh": f"{n} {code}", "en": f"{n} {code}"}
                           for n, (lv, code) in components.items()},
            "outbox": {"depth": 2, "oldest_age_s": 120.0, "dead_letters": 0, "unconfirmed": 0},
            "disk_used_pct": 41.0, "clock_offset_s": 0.4, "clock_trusted": True,
            "last_inspection": {"at": "2025-01-01T06:00:00Z", "ok": True,
                                "checks": {"printer": {"level": "ok", "code": "ok"}}}}


def tiny_jpeg() -> bytes:
    import cv2
    import numpy as np
    img = np.zeros((60, 100, 3), dtype=np.uint8)
    img[:, :, 1] = 160
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def seed(engine: Engine, now: float) -> None:
    fast = 1000  # PBKDF2 iterations for test users only: verify_pin reads them from the stored hash
    with engine.begin() as c:
        c.execute(insert(db.prefectures).values(id="lhasa", name_zh="拉萨市", name_bo="ལྷ་ས་གྲོང་ཁྱེར།"))
        c.execute(insert(db.counties), [
            {"id": COUNTY_A, "prefecture_id": "lhasa", "name_zh": "城关区", "name_bo": "ཁྲིན་ཀོན་ཆུས།"},
            {"id": COUNTY_B, "prefecture_id": "lhasa", "name_zh": "达孜区", "name_bo": "སྟག་རྩེ་ཆུས།"}])
        c.execute(insert(db.sites), [
            {"id": "cg-jiri", "county_id": COUNTY_A, "name_zh": "吉日乡", "name_bo": "", "address": "吉日乡政府一楼"},
            {"id": "cg-caigong", "county_id": COUNTY_A, "name_zh": "蔡公堂乡", "name_bo": "", "address": ""},
            {"id": "dz-bangdui", "county_id": COUNTY_B, "name_zh": "邦堆乡", "name_bo": "", "address": ""}])
        ok = {"printer": ("ok", "ok"), "idcard": ("ok", "ok")}
        rows = [
            ("k-cg-jiri-1", "cg-jiri", True, True, _state("k-cg-jiri-1", now, ok), now - 10),
            ("k-cg-jiri-2", "cg-jiri", True, True,
             _state("k-cg-jiri-2", now, {"printer": ("degraded", "paper_low"), "idcard": ("ok", "ok")}), now - 5),
            ("k-cg-caigong-1", "cg-caigong", True, True,
             _state("k-cg-caigong-1", now, {"printer": ("ok", "ok"), "idcard": ("fault", "no_reader")}), now - 8),
            ("k-dz-bangdui-1", "dz-bangdui", True, False, _state("k-dz-bangdui-1", now, ok), now - 3 * H),
            ("k-dz-bangdui-2", "dz-bangdui", True, True, _state("k-dz-bangdui-2", now, ok), now - 1000),  # stale
            ("k-stray-9", None, False, True, _state("k-stray-9", now, ok, "0.9.0"), now - 20),
        ]
        c.execute(insert(db.kiosks), [
            {"id": kid, "site_id": site, "registered": reg, "online": online, "state": st, "state_ts": ts,
             "last_seen_ts": ts, "first_seen_ts": now - 100 * H, "online_ts": ts,
             "online_reason": "birth" if online else "connection_lost", "last_seq": 3}
            for kid, site, reg, online, st, ts in rows])
        c.execute(db.kiosks.update().where(db.kiosks.c.id == "k-cg-caigong-1")
                  .values(screenshot=tiny_jpeg(), screenshot_ts=now - 60))
        c.execute(insert(db.events), [
            {"id": f"ev-caigong-{i:04d}", "kiosk_id": "k-cg-caigong-1", "seq": i, "at_ts": now - 100 + i,
             "received_ts": now - 100 + i, "kind": "status", "component": "idcard",
             "level": "fault" if i == 3 else "ok", "code": "no_reader" if i == 3 else "ok",
             "payload": {"message": {"zh": "读卡器未连接" if i == 3 else "正常", "en": "reader missing"}}}
            for i in (1, 2, 3)])

        def alert(aid: int, kid: str, site: str, rule: str, sev: str, status: str, acked: bool, since: float,
                  what: str, **kw: Any) -> dict:
            closed = status == db.ALERT_CLOSED
            return {"id": aid, "open_key": None if closed else f"{kid}|{rule}", "kiosk_id": kid, "site_id": site,
                    "condition": rule, "rule_id": rule.split(":")[0], "severity": sev, "status": status,
                    "acked": acked, "pending_ts": since, "active_ts": since, "changed_ts": since,
                    "details": {"zh": what, "bo": "", "en": rule}, "flaps": [], "flapping": False,
                    # every row names every column: an executemany takes its columns from the first row
                    **{"cleared_ts": None, "closed_ts": None, "acked_by": None, "acked_ts": None, **kw}}
        c.execute(insert(db.alerts), [
            alert(ALERT_A, "k-cg-caigong-1", "cg-caigong", "component_fault:idcard", "critical", "active", False,
                  now - 2 * H, "读卡器故障"),
            alert(ALERT_B, "k-dz-bangdui-1", "dz-bangdui", "kiosk_offline", "major", "active", False,
                  now - 3 * H, "设备离线"),
            alert(ALERT_CLEARED, "k-cg-jiri-2", "cg-jiri", "component_degraded:printer", "warning", "cleared",
                  False, now - 5 * H, "打印纸将尽", cleared_ts=now - 4 * H),
            alert(ALERT_CLOSED, "k-cg-jiri-1", "cg-jiri", "kiosk_offline", "major", "closed", True,
                  now - 6 * H, "设备离线", cleared_ts=now - 3 * H, closed_ts=now - 2.5 * H, acked_by="admin",
                  acked_ts=now - 2.5 * H),
        ])
        c.execute(insert(db.alert_transitions), [
            {"alert_id": ALERT_A, "at_ts": now - 2 * H, "from_status": "pending", "to_status": "active",
             "acked": False, "by": "system", "note": ""},
            {"alert_id": ALERT_B, "at_ts": now - 3 * H, "from_status": "pending", "to_status": "active",
             "acked": False, "by": "system", "note": ""},
            {"alert_id": ALERT_CLEARED, "at_ts": now - 4 * H, "from_status": "active", "to_status": "cleared",
             "acked": False, "by": "system", "note": ""}])
        c.execute(insert(db.teams).values(id="cg-team", name="城关运维", lang="zh", counties=[COUNTY_A],
                                          contacts=[], channels=[]))
        c.execute(insert(db.channel_health), [
            {"team_id": "cg-team", "channel": "wecom-main", "failures": 4, "last_error": "errcode 93000",
             "last_failure_ts": now - 30, "recent_sends": []},
            {"team_id": "cg-team", "channel": "mail", "failures": 1, "last_error": "timeout", "last_failure_ts": now - 40,
             "recent_sends": []}])
        c.execute(insert(db.notifications).values(
            dedupe_key="1:open:1:wecom-main", team_id="cg-team", channel="wecom-main", alert_id=ALERT_A,
            kind="open", created_ts=now - H, payload={}, status="failed", attempts=5))
        log = [("k-cg-jiri-1", -30 * H, True), ("k-cg-jiri-1", -6 * H, False), ("k-cg-jiri-1", -3 * H, True),
               ("k-cg-jiri-2", -48 * H, True),
               ("k-cg-caigong-1", -20 * H, True), ("k-cg-caigong-1", -2 * H, False),
               ("k-dz-bangdui-1", -24 * H, True), ("k-dz-bangdui-1", -12 * H, False)]
        c.execute(insert(db.availability_log), [{"kiosk_id": k, "at_ts": now + dt, "up": up} for k, dt, up in log])
        c.execute(insert(db.users), [
            {"name": "admin", "password_hash": hash_pin(PASSWORDS["admin"], fast), "role": "admin",
             "counties": [], "created_ts": now},
            {"name": "viewer", "password_hash": hash_pin(PASSWORDS["viewer"], fast), "role": "viewer",
             "counties": [], "created_ts": now},
            {"name": "maint-a", "password_hash": hash_pin(PASSWORDS["maint-a"], fast), "role": "maintainer",
             "counties": [COUNTY_A], "created_ts": now},
            {"name": "maint-b", "password_hash": hash_pin(PASSWORDS["maint-b"], fast), "role": "maintainer",
             "counties": [COUNTY_B], "created_ts": now}])


@dataclass
class WebServer:
    """make_app on 127.0.0.1:<free port> in a thread of its own."""
    engine: Engine
    cfg: FleetConfig
    now: float
    sent: list[tuple[str, str, dict, str]] = field(default_factory=list)
    counters: dict = field(default_factory=lambda: {"messages": {"state": 7, "events": 3},
                                                    "dropped": {"not_json": 2}, "duplicates": 1, "gaps": 0})
    sender: Any = None  # a real CommandSender.send; None: record calls (send_command below)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def send_command(self, kiosk_id: str, kind: str, args: dict, by: str) -> str:
        """Stands in for M1's CommandSender.send: records the call and the command_results row it writes."""
        cid = uuid.uuid4().hex
        self.sent.append((kiosk_id, kind, args, by))
        with self.engine.begin() as c:
            c.execute(insert(db.command_results).values(id=cid, kiosk_id=kiosk_id, kind=kind, issued_by=by,
                                                        issued_ts=self.now))
        return cid

    def start(self) -> None:
        from aiohttp import web

        from central.fleet.web import make_app
        self.port = free_port()
        ready = threading.Event()
        app = make_app(self.engine, self.cfg, send_command=self.sender or self.send_command, counters=lambda: self.counters,
                       clock=lambda: self.now)

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            runner = web.AppRunner(app)
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fleet-web", daemon=True)
        self._thread.start()
        assert ready.wait(10), "the dashboard did not start"

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


def start_web(url: str, make_sender: Any = None, **web_settings: Any) -> WebServer:
    """`make_sender(engine)` gives a real send_command (e.g. CommandSender(engine, publish).send)."""
    engine = db.connect(url)
    now = time.time()
    seed(engine, now)
    cfg = FleetConfig(web=WebSection(**web_settings)) if web_settings else FleetConfig()
    server = WebServer(engine, cfg, now, sender=make_sender(engine) if make_sender else None)
    server.start()
    return server


@pytest.fixture
def fleet_web(fleet_db_url: str) -> Iterator[WebServer]:
    """The seeded dashboard, once on SQLite and once on PostgreSQL."""
    server = start_web(fleet_db_url)
    yield server
    server.stop()
    server.engine.dispose()


@pytest.fixture
def fleet_web_sqlite(tmp_path: Path) -> Iterator[WebServer]:
    server = start_web(f"sqlite:///{tmp_path / 'fleet.sqlite3'}")
    yield server
    server.stop()
    server.engine.dispose()
