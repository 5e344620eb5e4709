"""The fleet monitor notices an audit log that went back: a critical `audit_rollback` that writing more
entries does not clear, only someone accepting the kiosk's log after looking (real broker, real database)."""

from __future__ import annotations

import json
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from central.fleet import audit_heads, db
from kiosk import fleet_wire
from kiosk.audit import AuditLog, read_head
from tests.fixtures_fleet import alert_rows, state_payload
from tests.fixtures_mqtt import wait_until

KIOSK = "a-k2"  # registered in hall-a of the test inventory
SEED = random.randrange(1 << 30)
print(f"test_audit_monitor seed {SEED}")
_at = datetime.now(UTC)


def send_head(pub, head: str, **fields) -> None:
    global _at
    _at += timedelta(seconds=1)  # each state newer than the last by the kiosk's clock
    pub.send(fleet_wire.topic(KIOSK, fleet_wire.KIND_STATE),
             state_payload(KIOSK, {"edge": ("ok", "ok")}, audit_head=head, at=_at.isoformat(), **fields), retain=True)


def stored(engine) -> dict | None:
    with engine.connect() as c:
        return audit_heads.load(c.execute(select(db.kiosks.c.audit_heads).where(db.kiosks.c.id == KIOSK)).scalar())


def grow(log: AuditLog, n: int) -> list[str]:
    rnd = random.Random(SEED)
    heads = []
    for _ in range(n):
        log.record("self_test", test=f"t{rnd.randrange(1000)}")
        heads.append(str(log.head()))
    return heads


def wait_heads(engine, head: str) -> None:
    wait_until(lambda: ((stored(engine) or {}).get("recent") or [[None]])[-1][0] == head,
               what=f"the monitor to store head {head}", seen=lambda: stored(engine))


def test_a_head_that_went_back_opens_a_critical_alert_that_sticks(monitor_factory, mqtt_publisher, tmp_path):
    mon = monitor_factory()
    path = tmp_path / "audit.sqlite3"
    log = AuditLog(path)
    heads = grow(log, 6)
    for h in heads[3:]:  # the kiosk reports 4, 5, 6 as its log grows
        send_head(mqtt_publisher, h)
    wait_heads(mon.engine, heads[5])
    time.sleep(0.5)  # a few evaluation rounds
    assert alert_rows(mon.engine, KIOSK, "audit_rollback") == []  # growing is normal

    db_ = sqlite3.connect(path)  # someone removes the newest three entries on the kiosk
    with db_:
        db_.execute("DELETE FROM entries WHERE seq > 3")
    db_.close()
    assert str(read_head(path)) == heads[2]
    send_head(mqtt_publisher, heads[2])
    alert = wait_until(lambda: [a for a in alert_rows(mon.engine, KIOSK, "audit_rollback")
                                if a["status"] == db.ALERT_ACTIVE], what="the audit_rollback alert")[0]
    assert alert["severity"] == "critical"
    assert "went back from entry 6 to 3" in alert["details"]["en"]
    assert alert["details"]["from"] == heads[5] and alert["details"]["to"] == heads[2]

    regrown = grow(log, 5)  # writing more entries than there were does not make it go away
    send_head(mqtt_publisher, regrown[-1])
    wait_heads(mon.engine, regrown[-1])
    time.sleep(0.5)
    assert [a["status"] for a in alert_rows(mon.engine, KIOSK, "audit_rollback")] == [db.ALERT_ACTIVE]

    cleared = audit_heads.accept(mon.engine, KIOSK)  # after a technician looked at the kiosk
    assert cleared is not None and cleared["to"] == heads[2]
    wait_until(lambda: alert_rows(mon.engine, KIOSK, "audit_rollback")[0]["status"] == db.ALERT_CLEARED,
               what="the alert to clear once the log is accepted")
    send_head(mqtt_publisher, str(grow(log, 1)[-1]))  # and the accepted chain goes on growing quietly
    time.sleep(0.5)
    assert (stored(mon.engine) or {}).get("rollback") is None


def test_the_same_seq_with_another_hash_is_a_rewrite(monitor_factory, mqtt_publisher, tmp_path):
    mon = monitor_factory()
    first = grow(AuditLog(tmp_path / "a.sqlite3"), 4)
    send_head(mqtt_publisher, first[3])
    wait_heads(mon.engine, first[3])
    rewritten = AuditLog(tmp_path / "b.sqlite3", clock=lambda: (datetime(2019, 1, 1, tzinfo=UTC), False))
    other = grow(rewritten, 4)  # the whole log replaced by one of the same length
    assert other[3].split(":")[0] == "4" and other[3] != first[3]
    send_head(mqtt_publisher, other[3])
    alert = wait_until(lambda: alert_rows(mon.engine, KIOSK, "audit_rollback"), what="the rewrite alert")[0]
    assert "entry 4 of the audit log was rewritten" in alert["details"]["en"]
    assert json.loads(json.dumps(alert["details"]))["to"] == other[3]
