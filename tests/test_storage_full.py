"""A full disk at the edge, on a real 16 MiB tmpfs: the status says disk_low, then storage_full (and the
fleet agent reports it); a new submission gets 507 storage_full with nothing half-written, an SQLITE_FULL
mid-write is answered the same way, the kiosk tells the resident to go to the counter, and everything
queued before is still forwarded."""

from __future__ import annotations

import time

import pytest

from edge.agent.state import components_of
from kiosk import i18n, wire
from kiosk.config import parse
from kiosk.edge_client import EdgeClient, EdgeUnavailable
from tests.fixtures_edge import Edge, make_id
from tests.fixtures_ui import click, install_demo, to_confirm, wait_until

MB = 1024 * 1024
WARN_MB, CRITICAL_MB = 4, 2
FIELDS = {"phone": "13912345678", "account": "bank", "agree": True}


def _config(warn: float = WARN_MB, critical: float = CRITICAL_MB):
    return parse(f"[kiosk]\nid = \"disk-hall-1\"\n[edge]\ndisk_warn_free_mb = {warn}\n"
                 f"disk_critical_free_mb = {critical}\n")


def _submit(client: EdgeClient, n: int, key: str | None = None) -> dict:
    return client.submit("old-age-allowance", FIELDS, {"id_number": make_id(n), "name": "卓玛"}, idempotency_key=key)


def _wait_received(client: EdgeClient, tracking: list[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while any(client.submission(tn)["status"] != wire.STATUS_RECEIVED for tn in tracking):
        assert time.monotonic() < deadline, [client.submission(tn)["status"] for tn in tracking]
        time.sleep(0.05)


def test_low_then_full_disk_is_reported_refused_with_507_and_the_queue_still_drains(small_disk, platform_factory):
    platform = platform_factory(start=False)  # WAN down: what residents hand in stays queued
    edge = Edge(small_disk.mount / "edge", platform.url, config=_config())
    try:
        client = EdgeClient(edge.url, retries=0)
        queued = [_submit(client, i)["tracking_number"] for i in (1, 2)]
        status = client.status()
        assert status["storage"]["code"] == "ok"

        small_disk.fill_to(int(3 * MB))
        status = client.status()
        assert (status["storage"]["level"], status["storage"]["code"]) == ("degraded", "disk_low")
        assert components_of(status, "disk-hall-1")["storage"].code == "disk_low"  # what the fleet gets
        accepted = _submit(client, 3)["tracking_number"]  # low is a warning: still accepted
        queued.append(accepted)

        small_disk.fill_to(int(1 * MB))
        status = client.status()
        assert (status["storage"]["level"], status["storage"]["code"]) == ("fault", "storage_full")
        assert components_of(status, "disk-hall-1")["storage"].level == "fault"
        depth = status["outbox"]["depth"]
        with pytest.raises(EdgeUnavailable) as refused:
            _submit(client, 4, key="refused-on-full-disk-1")
        assert refused.value.code == wire.ERR_STORAGE_FULL and "HTTP 507" in str(refused.value)
        assert client.status()["outbox"]["depth"] == depth == 3  # nothing half-stored

        platform.start()  # the reserve below the critical level is what lets the queue drain now
        _wait_received(client, queued)
        assert client.status()["outbox"]["depth"] == 0

        small_disk.clear()
        assert client.status()["storage"]["code"] == "ok"
        again = client.submit("old-age-allowance", FIELDS, {"id_number": make_id(4), "name": "卓玛"},
                              idempotency_key="refused-on-full-disk-1")
        assert again["status"] == wire.STATUS_QUEUED  # the refused key was never used: a fresh application
    finally:
        edge.close()


def test_sqlite_full_mid_write_is_a_507_and_loses_nothing(small_disk, platform_factory):
    platform = platform_factory(start=False)
    edge = Edge(small_disk.mount / "edge", platform.url, config=_config(0, 0))  # no early refusal: the disk decides
    try:
        client = EdgeClient(edge.url, retries=0)
        before = [_submit(client, i)["tracking_number"] for i in (1, 2)]
        small_disk.fill_up()
        with pytest.raises(EdgeUnavailable) as refused:
            _submit(client, 3, key="written-on-a-full-disk")
        assert refused.value.code == wire.ERR_STORAGE_FULL
        small_disk.clear()
        created = _submit(client, 3, key="written-on-a-full-disk")  # not a replay: nothing was kept of it
        assert created["tracking_number"] not in before
        assert client.status()["outbox"]["depth"] == 3
        platform.start()
        _wait_received(client, [*before, created["tracking_number"]])
    finally:
        edge.close()


def test_the_kiosk_sends_the_resident_to_the_counter_when_the_edge_is_full(qtbot, kiosk, ui_stack, small_disk,
                                                                          platform_factory):
    edge = Edge(small_disk.mount / "edge", platform_factory().url, with_pack=False, config=_config())
    install_demo(edge.store)
    try:
        w = kiosk("zh", edge_url=edge.url)
        to_confirm(qtbot, w, ui_stack)
        small_disk.fill_to(int(1 * MB))
        click(qtbot, w, "confirm")
        screen = w.screens["submitting"]
        wait_until(qtbot, lambda: screen.counter_btn.isVisible(), 20_000)
        assert screen.banner.text.text() == i18n.tr("submit_storage_full", "zh")
        assert not screen.retry_btn.isVisible()  # trying again would not help
        assert not w.session.flow.outcome_unknown
        assert edge.outbox.stats()["depth"] == 0
        click(qtbot, w, "submit_counter")
        assert w.current_screen().name == "home" and w.session.flow is None
    finally:
        edge.close()
