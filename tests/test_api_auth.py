"""Who may call the edge: kiosks on the hall LAN with their token, the hall's own box over loopback
without one. The LAN case runs a real client in a network namespace, across a veth pair, to an edge
bound on the host side of the pair."""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from kiosk import wire
from kiosk.config import Config
from kiosk.edge_client import EdgeClient, EdgeRejected
from tests.fixtures_edge import REPO

TOKEN_A = "token-of-kiosk-a-0123456789abcdef"
TOKEN_B = "token-of-kiosk-b-fedcba9876543210"
HEALTH = {"app": {"level": "ok", "code": "ok"}}


def config(**edge: object) -> Config:
    kiosks = [{"id": "hall-1-kiosk-a", "token_sha256": hashlib.sha256(TOKEN_A.encode()).hexdigest()},
              {"id": "hall-1-kiosk-b", "token_sha256": hashlib.sha256(TOKEN_B.encode()).hexdigest()}]
    return Config.model_validate({"edge": {"kiosks": kiosks, **edge}})


def request(host: str, port: int, method: str, path: str, doc: object = None,
            headers: dict | None = None) -> tuple[int, dict, object]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        body = json.dumps(doc).encode() if doc is not None else None
        conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "request refused"]


# --- loopback ------------------------------------------------------------------------------------------
def test_loopback_without_a_token_is_allowed_and_a_wrong_token_is_401(caplog, edge_factory):
    caplog.set_level(logging.INFO)
    edge = edge_factory(config=config())
    port = edge.server.port
    assert EdgeClient(edge.url).status()["kiosk_id"]  # the one-box hall: no token needed

    status, headers, body = request("127.0.0.1", port, "GET", wire.API_STATUS,
                                    headers={"Authorization": "Bearer not-a-known-token"})
    assert status == 401 and body["error"]["code"] == wire.ERR_UNAUTHORIZED
    assert headers["www-authenticate"] == "Bearer"
    with pytest.raises(EdgeRejected) as e:
        EdgeClient(edge.url, token="also-not-known").services()
    assert e.value.status == 401 and e.value.code == wire.ERR_UNAUTHORIZED

    logged = refusals(caplog)
    assert len(logged) == 2  # one line per refused request...
    everything = " ".join(str(vars(r)) for r in caplog.records)
    assert "not-a-known-token" not in everything and "also-not-known" not in everything  # ...never the token


def test_a_kiosk_token_names_the_kiosk_it_may_report_health_for(edge_factory):
    edge = edge_factory(config=config())
    a = EdgeClient(edge.url, token=TOKEN_A)
    a.health("hall-1-kiosk-a", HEALTH)
    with pytest.raises(EdgeRejected) as e:
        a.health("hall-1-kiosk-b", HEALTH)
    assert e.value.status == 403 and e.value.code == wire.ERR_FORBIDDEN
    EdgeClient(edge.url).health("hall-1-kiosk-b", HEALTH)  # loopback without a token: the one-box hall
    assert set(a.status()["kiosks"]) == {"hall-1-kiosk-a", "hall-1-kiosk-b"}


# --- a real peer on another network ------------------------------------------------------------------
def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


@pytest.fixture
def lan() -> Iterator[tuple[str, str]]:
    """(namespace, host-side address): a namespace joined to the host by a veth pair in 10.231.x.0/30;
    both are deleted at teardown."""
    if shutil.which("ip") is None:
        pytest.skip("needs the `ip` tool (iproute2) for a network namespace")
    if os.geteuid() != 0:
        pytest.skip("needs root to create a network namespace and a veth pair")
    seed = random.randrange(1 << 30)
    print(f"lan seed {seed}")
    rng = random.Random(seed)
    x, tag = rng.randrange(256), f"{rng.randrange(1 << 24):06x}"
    ns, host_if, ns_if = f"ktest{tag}", f"kth{tag}", f"ktn{tag}"
    host_ip, ns_ip = f"10.231.{x}.1", f"10.231.{x}.2"
    try:
        _ip("netns", "add", ns)
        _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _ip("link", "set", ns_if, "netns", ns)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("netns", "exec", ns, "ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if)
        _ip("netns", "exec", ns, "ip", "link", "set", ns_if, "up")
    except subprocess.CalledProcessError as e:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, timeout=20)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
        pytest.skip(f"cannot create a network namespace here: {e.stderr.decode(errors='replace').strip()}")
    try:
        yield ns, host_ip
    finally:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, timeout=20)  # both ends go
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)


_LAN_CLIENT = textwrap.dedent("""
    import http.client, json, sys
    from kiosk.edge_client import EdgeClient, EdgeRejected
    url, token_a = sys.argv[1], sys.argv[2]
    host, port = url.removeprefix("http://").split(":")
    def raw(path, headers):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return [resp.status, json.loads(resp.read())["error"]["code"] if resp.status >= 400 else None]
    out = {"no_token": raw("/api/v1/status", {}),
           "forwarded_for_loopback": raw("/api/v1/status", {"X-Forwarded-For": "127.0.0.1"}),
           "wrong_token": raw("/api/v1/status", {"Authorization": "Bearer wrong-token-123"}),
           "unknown_route_no_token": raw("/api/v1/nothing", {})}
    a = EdgeClient(url, token=token_a)
    out["services"] = [s["id"] for s in a.services()]
    a.health("hall-1-kiosk-a", {"app": {"level": "ok", "code": "ok"}})
    try:
        a.health("hall-1-kiosk-b", {"app": {"level": "ok", "code": "ok"}})
        out["other_health"] = [200, None]
    except EdgeRejected as e:
        out["other_health"] = [e.status, e.code]
    print(json.dumps(out))
""")


def test_lan_kiosks_need_their_token_and_the_peer_comes_from_the_socket(caplog, lan, edge_factory):
    caplog.set_level(logging.INFO)
    ns, host_ip = lan
    edge = edge_factory(config=config(), host=host_ip)
    out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", _LAN_CLIENT, edge.url, TOKEN_A],
                         capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                         timeout=60)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["no_token"] == [401, wire.ERR_UNAUTHORIZED]
    assert seen["forwarded_for_loopback"] == [401, wire.ERR_UNAUTHORIZED]  # a header cannot claim loopback
    assert seen["wrong_token"] == [401, wire.ERR_UNAUTHORIZED]
    assert seen["unknown_route_no_token"] == [401, wire.ERR_UNAUTHORIZED]
    assert seen["services"] == ["old-age-allowance", "medical-guide"]  # the known token works from the LAN
    assert seen["other_health"] == [403, wire.ERR_FORBIDDEN]

    logged = refusals(caplog)
    assert len(logged) == 4 and all(r.peer.startswith("10.231.") for r in logged)
    everything = " ".join(str(vars(r)) for r in caplog.records)
    assert TOKEN_A not in everything and "wrong-token-123" not in everything
