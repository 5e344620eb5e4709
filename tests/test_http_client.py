"""The one HTTP client stack (kiosk/http_client.py) against a real socket server that misbehaves on
purpose: a kept-alive connection the server drops while the next request is on its way is resent
only when that is safe, a slow server is never asked twice, idle connections are reused."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator

import pytest

from kiosk import wire
from kiosk.http_client import HttpClient, Unreachable
from kiosk.netutil import free_port

# What the server does with the n-th request on a connection (1 = the first): answer, hang up, or stall.
Script = Callable[[int], str]


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script
        self.connections = 0
        self.requests: list[tuple[str, str]] = []  # (request line, idempotency key) as the server read them
        self.release = threading.Event()  # ends a stall

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.connections += 1
        n = 0
        while line := self.rfile.readline():
            headers: dict[str, str] = {}
            while (h := self.rfile.readline()) not in (b"\r\n", b""):
                name, _, value = h.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            self.rfile.read(int(headers.get("content-length", 0)))
            n += 1
            self.server.requests.append((line.decode().strip(), headers.get(wire.IDEMPOTENCY_HEADER.lower(), "")))
            action = self.server.script(n)
            if action == "hang up":  # as a server closing an idle keep-alive just as the request arrives
                return
            if action == "stall":
                self.server.release.wait(10)
                return
            body = b'{"ok": true}' + b" " * 4096
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


@pytest.fixture
def serve() -> Iterator[Callable[[Script], _Server]]:
    servers: list[_Server] = []

    def start(script: Script) -> _Server:
        srv = _Server(script)
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.release.set()
        srv.shutdown()
        srv.server_close()


def _answer_once(n: int) -> str:
    """Answers the first request on each connection, hangs up on the second."""
    return "answer" if n == 1 else "hang up"


def test_idle_connections_are_reused(serve) -> None:
    srv = serve(lambda n: "answer")
    http = HttpClient(srv.url, "test", timeout=5)
    assert [http.request("GET", "/a").status for _ in range(3)] == [200, 200, 200]
    assert srv.connections == 1


@pytest.mark.parametrize("method, key, idempotent", [("GET", None, False), ("POST", "key-00000001", False),
                                                     ("POST", None, True)])
def test_a_safe_request_on_a_dropped_keep_alive_is_sent_again(serve, method, key, idempotent) -> None:
    srv = serve(_answer_once)
    http = HttpClient(srv.url, "test", timeout=5)
    http.request("GET", "/warm-up")
    headers = {wire.IDEMPOTENCY_HEADER: key} if key else {}
    assert http.request(method, "/x", body=b"{}", headers=headers, idempotent=idempotent).status == 200
    assert srv.connections == 2
    # the second connection carried the same request again, with the same key
    assert srv.requests[1:] == [(f"{method} /x HTTP/1.1", key or "")] * 2


def test_a_plain_post_on_a_dropped_keep_alive_is_not_sent_twice(serve) -> None:
    srv = serve(_answer_once)
    http = HttpClient(srv.url, "test", timeout=5)
    http.request("GET", "/warm-up")
    with pytest.raises(Unreachable, match="connection lost"):
        http.request("POST", "/shown", body=b"{}")
    assert [line for line, _ in srv.requests] == ["GET /warm-up HTTP/1.1", "POST /shown HTTP/1.1"]


def test_a_server_that_does_not_answer_times_out_and_is_asked_once(serve) -> None:
    srv = serve(lambda n: "stall")
    http = HttpClient(srv.url, "test", timeout=0.3)
    with pytest.raises(Unreachable, match="timed out"):
        http.request("GET", "/slow")
    assert len(srv.requests) == 1


def test_nobody_listening_says_it_cannot_connect() -> None:
    http = HttpClient(f"http://127.0.0.1:{free_port()}", "test", timeout=2)
    with pytest.raises(Unreachable, match="cannot connect"):
        http.request("GET", "/")


def test_a_stream_left_unread_closes_its_connection_and_the_next_request_still_works(serve) -> None:
    srv = serve(lambda n: "answer")
    http = HttpClient(srv.url + "/prefix/", "test", timeout=5)
    with http.stream("/blob") as resp:
        assert resp.read(10) == b'{"ok": tru'
    assert http.request("GET", "/doc").data.startswith(b'{"ok": true}')
    assert srv.connections == 2  # the unread body could not be left on a reused connection
    assert [line for line, _ in srv.requests] == ["GET /prefix/blob HTTP/1.1", "GET /prefix/doc HTTP/1.1"]


def test_close_drops_idle_connections_and_the_client_stays_usable(serve) -> None:
    srv = serve(lambda n: "answer")
    http = HttpClient(srv.url, "test", timeout=5)
    http.request("GET", "/a")
    http.close()
    assert http.request("GET", "/b").status == 200
    assert srv.connections == 2


@pytest.mark.parametrize("url", ["ftp://host/x", "127.0.0.1:8080", "http:///path"])
def test_a_bad_base_url_names_the_server_it_is_for(url) -> None:
    with pytest.raises(ValueError, match="^platform url must be http"):
        HttpClient(url, "platform", timeout=1)


def test_a_socket_closed_before_any_answer_is_unreachable_not_a_crash() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def slam() -> None:
            conn, _ = listener.accept()
            conn.close()

        threading.Thread(target=slam, daemon=True).start()
        with pytest.raises(Unreachable, match="connection lost"):
            HttpClient(f"http://127.0.0.1:{port}", "test", timeout=5).request("POST", "/x", body=b"{}")
