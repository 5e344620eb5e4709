"""HTTP fetches from the content origin: small documents, and blobs resumed with Range.

Stdlib http.client over one keep-alive connection: on a 300 ms satellite link a new connection
per blob would cost more than many small blobs themselves. Every socket operation (connect and
each read) has a timeout, so a dead link fails a fetch instead of hanging it.
"""

from __future__ import annotations

import http.client
import os
import re
import ssl
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

_CHUNK = 64 * 1024
_CONTENT_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class OriginError(Exception):
    """The origin could not be reached or answered with something unusable; `code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class OriginClient:
    def __init__(self, base_url: str, *, timeout: float = 20.0,
                 abort: Callable[[], bool] | None = None) -> None:
        """`abort` is asked between chunks: True stops a download with OriginError("aborted")."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"origin url must be http(s)://host[:port][/path], got {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.abort = abort or (lambda: False)
        self._conn: http.client.HTTPConnection | None = None
        self.bytes_received = 0  # blob bytes, all downloads, for accounting

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout,
                                                         context=ssl.create_default_context())
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        return self._conn

    def _request(self, rel: str, headers: dict[str, str]) -> http.client.HTTPResponse:
        """Send a GET, retrying once on a fresh connection if the kept-alive one had gone stale."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("GET", f"{self._prefix}/{rel}", headers=headers)
                return conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                self.close()
                if attempt == 2:
                    raise OriginError("network", f"origin closed the connection: {e}") from None
            except (OSError, http.client.HTTPException) as e:
                self.close()
                raise OriginError("network", f"cannot reach the origin: {e or type(e).__name__}") from None
        raise AssertionError("unreachable")

    def get_bytes(self, rel: str, *, max_bytes: int = 16 << 20) -> bytes:
        """A whole small document (latest.json, a manifest envelope), never cached on the way."""
        resp = self._request(rel, {"Cache-Control": "no-cache"})
        try:
            if resp.status != 200:
                raise OriginError(f"http_{resp.status}", f"origin answered {resp.status} for {rel}")
            data = resp.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise OriginError("too_large", f"{rel} is larger than {max_bytes} bytes")
            if resp.length:  # a cut connection leaves bytes unread
                raise OriginError("network", f"connection cut while reading {rel}")
            return data
        except (OSError, http.client.HTTPException) as e:
            raise OriginError("network", f"connection lost while reading {rel}: {e or type(e).__name__}") from None
        finally:
            if not resp.isclosed():
                self.close()  # body left unread: the connection cannot be reused

    def download(self, rel: str, dest: Path, size: int) -> tuple[int, bool]:
        """Fetch `rel` into `dest` until it holds `size` bytes, resuming what `dest` already has.

        Returns (bytes received, resumed). A network fault raises OriginError and leaves `dest`
        with what arrived, for the next try to resume. Never writes more than `size` bytes: the
        caller's hash check then decides whether the blob is good.
        """
        for _ in range(2):  # a second round only when the server rejected our range
            have = dest.stat().st_size if dest.exists() else 0
            if have > size:
                dest.unlink()
                have = 0
            if have == size:
                return 0, have > 0
            headers = {"Range": f"bytes={have}-"} if have else {}
            resp = self._request(rel, headers)
            try:
                if resp.status == 416:
                    resp.read()
                    dest.unlink(missing_ok=True)
                    continue
                if resp.status == 206 and have:
                    m = _CONTENT_RANGE_RE.match(resp.getheader("Content-Range", ""))
                    if not m or int(m.group(1)) != have:
                        raise OriginError("bad_range", f"origin answered a different range for {rel}")
                    mode, resumed = "ab", True
                elif resp.status == 200:
                    mode, resumed, have = "wb", False, 0  # the server ignored the range: start over
                else:
                    raise OriginError(f"http_{resp.status}", f"origin answered {resp.status} for {rel}")
                return self._stream(resp, rel, dest, mode, size - have), resumed
            finally:
                if not resp.isclosed():
                    self.close()
        raise OriginError("bad_range", f"origin keeps refusing the range for {rel}")

    def _stream(self, resp: http.client.HTTPResponse, rel: str, dest: Path, mode: str, want: int) -> int:
        received = 0
        # Unbuffered: what arrived is on disk (page cache) even if this process is killed next.
        with open(dest, mode, buffering=0) as f:
            try:
                while received < want:
                    if self.abort():
                        raise OriginError("aborted", "download stopped: the edge is shutting down")
                    chunk = resp.read(min(_CHUNK, want - received))
                    if not chunk:
                        # http.client reports a cut connection as a quiet end of body: tell them
                        # apart by the Content-Length still owed.
                        if resp.length:
                            raise OriginError("network", f"connection cut while downloading {rel}")
                        break
                    f.write(chunk)
                    received += len(chunk)
                    self.bytes_received += len(chunk)
            except (OSError, http.client.HTTPException) as e:
                raise OriginError("network", f"connection lost while downloading {rel}: "
                                             f"{e or type(e).__name__}") from None
            finally:
                os.fsync(f.fileno())
        return received
