"""The JSON-over-HTTP pieces shared by the kiosk's edge client and the edge's platform adapter (stdlib only).

Only what is the same for both lives here: reading a base URL and encoding a JSON request. Each keeps its own
transport loop, because they differ on purpose (a fresh connection per call vs. a keep-alive one per thread,
which failures are retried, which errors they map to).
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kiosk import wire


@dataclass(frozen=True)
class Endpoint:
    """Where a base URL points: scheme, host, port (defaulted by scheme) and path prefix (no trailing slash)."""

    https: bool
    host: str
    port: int
    prefix: str

    @classmethod
    def parse(cls, base_url: str, what: str) -> Endpoint:
        """`what` names the server in the error ("edge", "platform"), so a bad config says which URL is wrong."""
        u = urlsplit(base_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"{what} url must be http(s)://host[:port], got {base_url!r}")
        https = u.scheme == "https"
        return cls(https, u.hostname, u.port or (443 if https else 80), u.path.rstrip("/"))

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        """A new (not yet opened) connection; `timeout` bounds connect and each read."""
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=timeout)


def encode_request(doc: Any = None, key: str | None = None, headers: dict[str, str] | None = None
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
