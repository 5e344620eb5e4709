"""The fleet broker as `kiosk provision broker-config` writes it, on a real Mosquitto over TLS: who may
connect, and what each certificate may publish and read."""

from __future__ import annotations

from pathlib import Path

from kiosk import fleet_wire
from tests.fixtures_provision import ADMIN, KIOSK_A, KIOSK_B, KIOSK_C, MONITOR, TlsClient, kiosk_cli, make_pki

NOT_AUTHORIZED = 135


def test_a_kiosk_cannot_publish_to_another_kiosks_topics(pki, tls_client):
    b_topics = [fleet_wire.topic(KIOSK_B, k) for k in fleet_wire.KINDS]
    watcher_b = tls_client(MONITOR, [f"{fleet_wire.PREFIX}/{KIOSK_B}/#"])
    kiosk_b = tls_client(KIOSK_B, [fleet_wire.topic(KIOSK_B, fleet_wire.KIND_CMD)])
    kiosk_a = tls_client(KIOSK_A)
    for t in b_topics:  # every kind, the command topic included: A cannot order B about either
        assert kiosk_a.publish(t, b"forged by A") == NOT_AUTHORIZED, t
    assert kiosk_a.publish(fleet_wire.CONTENT_TOPIC, b"forged announcement", retain=True) == NOT_AUTHORIZED
    # B's own state goes through, after the forgeries: once it arrives, they would have arrived before it.
    assert kiosk_b.publish(fleet_wire.topic(KIOSK_B, fleet_wire.KIND_STATE), b"B itself") == 0
    watcher_b.wait_for(fleet_wire.topic(KIOSK_B, fleet_wire.KIND_STATE), b"B itself")
    assert [m for m in watcher_b.seen() if m[1] == b"forged by A"] == []
    assert kiosk_b.seen() == []  # no forged command reached B


def test_a_kiosk_cannot_read_another_kiosks_commands(pki, tls_client):
    cmd_a, cmd_b = (fleet_wire.topic(k, fleet_wire.KIND_CMD) for k in (KIOSK_A, KIOSK_B))
    spy = tls_client(KIOSK_A, [cmd_b, f"{fleet_wire.PREFIX}/+/cmd", "#"])
    # Mosquitto 2.0.11 grants such a subscription and checks `read` per message: what counts is delivery.
    monitor = tls_client(MONITOR)
    assert monitor.publish(cmd_b, b"for B only") == 0
    assert monitor.publish(cmd_a, b"for A") == 0
    spy.wait_for(cmd_a, b"for A")  # A does get its own, after B's was sent
    assert [m for m in spy.seen() if m[1] == b"for B only"] == []


def test_no_certificate_or_a_foreign_ca_cannot_connect(pki, tmp_path: Path):
    no_cert = TlsClient(pki.port, pki.server_ca)
    assert no_cert.wait_refused()
    plain = TlsClient(pki.port, None, tls=False)  # plain MQTT on the TLS port
    assert plain.wait_refused()
    # A lookalike CA, with a certificate for a real kiosk id, made by the same tool: still refused.
    other = make_pki(tmp_path / "intruder", kiosks=(KIOSK_A,))
    cert, key = other.kiosk_files(KIOSK_A)
    foreign = TlsClient(pki.port, pki.server_ca, cert, key)
    assert foreign.wait_refused()
    # The real one connects (the refusals above are about the certificates, not the broker).
    cert, key = pki.kiosk_files(KIOSK_A)
    TlsClient(pki.port, pki.server_ca, cert, key).ready().close()
    for c in (no_cert, plain, foreign):
        c.close()


def test_the_monitor_sees_every_kiosk_and_its_command_reaches_the_kiosk(pki, tls_client):
    monitor = tls_client(MONITOR, [fleet_wire.subscription(k, group="mon") for k in
                                   (fleet_wire.KIND_AVAILABILITY, fleet_wire.KIND_STATE, fleet_wire.KIND_EVENTS,
                                    fleet_wire.KIND_CMD_RESULT)])
    assert all(code < 128 for code in monitor.granted), monitor.granted
    kiosks = {k: tls_client(k, [fleet_wire.topic(k, fleet_wire.KIND_CMD)]) for k in (KIOSK_A, KIOSK_B)}
    for k, c in kiosks.items():
        for kind in (fleet_wire.KIND_AVAILABILITY, fleet_wire.KIND_STATE, fleet_wire.KIND_EVENTS,
                     fleet_wire.KIND_CMD_RESULT):
            assert c.publish(fleet_wire.topic(k, kind), f"{k} {kind}".encode()) == 0
    for k in kiosks:
        for kind in (fleet_wire.KIND_AVAILABILITY, fleet_wire.KIND_STATE, fleet_wire.KIND_EVENTS,
                     fleet_wire.KIND_CMD_RESULT):
            monitor.wait_for(fleet_wire.topic(k, kind), f"{k} {kind}".encode())
    assert monitor.publish(fleet_wire.topic(KIOSK_B, fleet_wire.KIND_CMD), b"run self-test") == 0
    kiosks[KIOSK_B].wait_for(fleet_wire.topic(KIOSK_B, fleet_wire.KIND_CMD), b"run self-test")
    # The monitor is not an admin: it cannot announce content.
    assert monitor.publish(fleet_wire.CONTENT_TOPIC, b"not mine to say") == NOT_AUTHORIZED


def test_only_an_admin_announces_content_and_every_kiosk_reads_it(pki, tls_client):
    admin = tls_client(ADMIN)
    assert admin.publish(fleet_wire.CONTENT_TOPIC, b"version 7", retain=True) == 0
    assert admin.publish(fleet_wire.topic(KIOSK_A, fleet_wire.KIND_CMD), b"signed push") == 0
    a = tls_client(KIOSK_A, [fleet_wire.CONTENT_TOPIC])
    a.wait_for(fleet_wire.CONTENT_TOPIC, b"version 7")  # retained, read by a kiosk that connects later
    # An admin cannot pose as a kiosk.
    assert admin.publish(fleet_wire.topic(KIOSK_A, fleet_wire.KIND_STATE), b"fake") == NOT_AUTHORIZED


def test_a_revoked_kiosk_cannot_connect_and_the_others_still_can(pki, tls_client):
    pki.enroll(KIOSK_C)
    pki.install(KIOSK_C)
    tls_client(KIOSK_C).close()  # it worked before it was stolen
    assert kiosk_cli("provision", "revoke", KIOSK_C, "--dir", pki.ca_dir, config=pki.config) == 0
    pki.write_broker_config()
    pki.broker.reload()
    cert, key = pki.kiosk_files(KIOSK_C)
    stolen = TlsClient(pki.port, pki.server_ca, cert, key)
    assert stolen.wait_refused()
    stolen.close()
    tls_client(KIOSK_A).close()
    assert "certificate verify failed" in pki.broker.log_text()
