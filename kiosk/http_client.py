"""The one HTTP client stack: the kiosk's edge client, the edge's platform adapter and its content
origin client all talk through `HttpClient` (urllib3).

One client is one server (a base URL, maybe with a path prefix) and a small pool of keep-alive
connections that threads share. Timeouts are set here: `timeout` bounds the connect and each read.
urllib3 replaces a pooled connection that the server has visibly closed before using it; a `Retry`
covers the rest of the stale keep-alive case (the server closed it while we were sending): such a
request is sent once more on a new connection, but only when sending it twice is safe (a
read-only method, a request marked idempotent, or one that carries an idempotency key). A read
timeout is never resent: the caller's timeout is the bound, not half of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import (
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as UrllibTimeout
from urllib3.util.retry import Retry

from kiosk import wire

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Unreachable(Exception):
    """No answer from the server: it could not be reached, the connection broke, or it timed out.
    The message names the kind of failure, never anything of the request."""


class _ResendOnBrokenConnection(Retry):
    """A read timeout is not a broken connection: it ends the request instead of being resent."""

    def _is_read_error(self, err: Exception) -> bool:
        return isinstance(err, ProtocolError)


def _retry(resends: int) -> Retry:
    # Connect errors are not retried either: nothing was sent, but a down server stays down for the
    # next millisecond, and a connect timeout resent would double the wait.
    return _ResendOnBrokenConnection(total=resends, connect=0, read=resends, other=0, status=0, redirect=False,
                                     allowed_methods=None, raise_on_status=False)


def describe(err: BaseException) -> Unreachable:
    """An urllib3 failure as Unreachable, with a short reason for the log and the status screen."""
    reason = err.reason if isinstance(err, MaxRetryError) and err.reason is not None else err
    if isinstance(reason, UrllibTimeout) and not isinstance(reason, NewConnectionError):
        return Unreachable("timed out")
    if isinstance(reason, NewConnectionError):
        return Unreachable(f"cannot connect ({_cause(reason)})")
    if isinstance(reason, SSLError):
        return Unreachable(f"TLS failed ({_cause(reason)})")
    if isinstance(reason, ProtocolError):
        return Unreachable(f"connection lost ({_cause(reason)})")
    return Unreachable(type(reason).__name__)


def _cause(err: BaseException) -> str:
    """The innermost OS or http.client error's name, e.g. "ConnectionRefusedError", "RemoteDisconnected"."""
    inner = next((a for a in reversed(err.args) if isinstance(a, BaseException)), None) or err.__context__
    return type(inner or err).__name__


def json_request(doc: Any = None, key: str | None = None, headers: Mapping[str, str] | None = None
                 ) -> tuple[bytes | None, dict[str, str]]:
    """(body, headers) for a request that wants JSON back: `doc` as UTF-8 JSON (None = no body), `key` as the
    idempotency header, `headers` added on top of Accept."""
    hdrs = {"Accept": "application/json", **(headers or {})}
    body = None
    if doc is not None:
        body = json.dumps(doc, ensure_ascii=False).encode()
        hdrs["Content-Type"] = "application/json"
    if key:
        hdrs[wire.IDEMPOTENCY_HEADER] = key
    return body, hdrs


class HttpClient:
    def __init__(self, base_url: str, what: str, *, timeout: float, resends: int = 1,
                 connections: int = 32) -> None:
        """`what` names the server in errors ("edge", "platform", "origin"), so a bad config says which URL is
        wrong. `resends`: how often a request that is safe to send twice is sent again after its connection
        broke. `connections`: how many idle keep-alive connections are kept (more are opened when needed, and
        closed after use with a warning from urllib3): the default covers the edge's most lookup workers."""
        u = urlsplit(base_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"{what} url must be http(s)://host[:port][/path], got {base_url!r}")
        self._origin = f"{u.scheme}://{u.netloc}"
        self._prefix = u.path.rstrip("/")
        self.timeout = timeout
        self._resend, self._no_resend = _retry(resends), _retry(0)
        self._connections = connections
        self._pool = self._new_pool()

    def _new_pool(self) -> urllib3.HTTPConnectionPool:
        return urllib3.connection_from_url(self._origin, maxsize=self._connections, block=False)

    def close(self) -> None:
        """Close the idle connections; the client stays usable and opens new ones when asked."""
        old, self._pool = self._pool, self._new_pool()
        old.close()

    def _open(self, method: str, path: str, body: bytes | None, headers: Mapping[str, str], *, idempotent: bool,
              timeout: float | None, stream: bool) -> urllib3.BaseHTTPResponse:
        safe = idempotent or method in _SAFE_METHODS or wire.IDEMPOTENCY_HEADER in headers
        t = self.timeout if timeout is None else timeout
        try:
            return self._pool.urlopen(method, self._prefix + path, body=body, headers=dict(headers),
                                      retries=self._resend if safe else self._no_resend, redirect=False,
                                      timeout=urllib3.Timeout(connect=t, read=t), preload_content=not stream,
                                      decode_content=not stream)
        except HTTPError as e:
            raise describe(e) from None

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, idempotent: bool = False,
                timeout: float | None = None) -> urllib3.BaseHTTPResponse:
        """Send one request and read the whole answer (`.status`, `.headers`, `.data`). `idempotent` marks a
        POST that only reads (a search), so it may be resent like a GET. Unreachable if no answer came."""
        return self._open(method, path, body, headers or {}, idempotent=idempotent, timeout=timeout, stream=False)

    @contextmanager
    def stream(self, path: str, headers: Mapping[str, str] | None = None) -> Iterator[urllib3.BaseHTTPResponse]:
        """GET whose body the caller reads in pieces (`.read(n)` raises urllib3's HTTPError when the connection
        breaks or is cut short of its Content-Length). A body left unread closes its connection."""
        resp = self._open("GET", path, None, headers or {}, idempotent=True, timeout=None, stream=True)
        try:
            yield resp
        finally:
            if not resp.closed:
                resp.close()  # the rest of the body is still on the wire: this connection cannot be reused
            resp.release_conn()
