"""A free loopback TCP port, for the demo stack, the local broker, the tests and the benchmarks.

The port is free when asked: something else may take it before the caller binds it, which is why only
throwaway local processes use it (a production port is configured).
"""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
