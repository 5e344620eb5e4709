"""HTTP fetches from the content origin: small documents, and blobs resumed with Range.

Over kiosk/http_client.py with one keep-alive connection per client: on a 300 ms satellite link a
new connection per blob would cost more than many small blobs themselves. Every socket operation
(connect and each read) has a timeout, so a dead link fails a fetch instead of hanging it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import urllib3
from urllib3.exceptions import HTTPError

from kiosk.http_client import HttpClient, Unreachable, describe

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
        self._http = HttpClient(base_url, "origin", timeout=timeout, connections=1)
        self.abort = abort or (lambda: False)
        self.bytes_received = 0  # blob bytes, all downloads, for accounting

    def close(self) -> None:
        self._http.close()

    @contextmanager
    def _get(self, rel: str, headers: dict[str, str]) -> Iterator[urllib3.BaseHTTPResponse]:
        """A GET whose body the caller reads (a stale kept-alive connection is replaced on the way)."""
        try:
            with self._http.stream(f"/{rel}", headers) as resp:
                yield resp
        except Unreachable as e:  # only opening raises it: reading raises urllib3's HTTPError
            raise OriginError("network", f"cannot reach the origin: {e}") from None

    def get_bytes(self, rel: str, *, max_bytes: int = 16 << 20) -> bytes:
        """A whole small document (latest.json, a manifest envelope), never cached on the way."""
        with self._get(rel, {"Cache-Control": "no-cache"}) as resp:
            if resp.status != 200:
                raise OriginError(f"http_{resp.status}", f"origin answered {resp.status} for {rel}")
            try:
                data = resp.read(max_bytes + 1)
            except HTTPError as e:
                raise OriginError("network", f"connection lost while reading {rel}: {describe(e)}") from None
            if len(data) > max_bytes:
                raise OriginError("too_large", f"{rel} is larger than {max_bytes} bytes")
            if resp.length_remaining:  # a cut connection leaves bytes unread
                raise OriginError("network", f"connection cut while reading {rel}")
            return data

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
            with self._get(rel, headers) as resp:
                if resp.status == 416:
                    dest.unlink(missing_ok=True)
                    continue
                if resp.status == 206 and have:
                    m = _CONTENT_RANGE_RE.match(resp.headers.get("Content-Range", ""))
                    if not m or int(m.group(1)) != have:
                        raise OriginError("bad_range", f"origin answered a different range for {rel}")
                    mode, resumed = "ab", True
                elif resp.status == 200:
                    mode, resumed, have = "wb", False, 0  # the server ignored the range: start over
                else:
                    raise OriginError(f"http_{resp.status}", f"origin answered {resp.status} for {rel}")
                return self._stream(resp, rel, dest, mode, size - have), resumed
        raise OriginError("bad_range", f"origin keeps refusing the range for {rel}")

    def _stream(self, resp: urllib3.BaseHTTPResponse, rel: str, dest: Path, mode: str, want: int) -> int:
        received = 0
        # Unbuffered: what arrived is on disk (page cache) even if this process is killed next.
        with open(dest, mode, buffering=0) as f:
            try:
                while received < want:
                    if self.abort():
                        raise OriginError("aborted", "download stopped: the edge is shutting down")
                    chunk = resp.read(min(_CHUNK, want - received))
                    if not chunk:
                        # A cut connection may end the body quietly: tell them apart by the
                        # Content-Length still owed.
                        if resp.length_remaining:
                            raise OriginError("network", f"connection cut while downloading {rel}")
                        break
                    f.write(chunk)
                    received += len(chunk)
                    self.bytes_received += len(chunk)
            except HTTPError as e:
                raise OriginError("network", f"connection lost while downloading {rel}: {describe(e)}") from None
            finally:
                os.fsync(f.fileno())
        return received
