"""Commands that start child processes stop them, whatever ends the command.

A terminal sends SIGINT (Ctrl-C) or SIGHUP (the window closed), a service manager or `timeout`
sends SIGTERM. Python turns only SIGINT into KeyboardInterrupt by default; the other two kill the
interpreter without running `finally:` blocks, which left the demo's platform, origin and edge
running as orphans that held their ports. `stop_on_signals()` makes all three run the same clean
path, and `child_dies_with_parent` covers the one signal no handler can catch (SIGKILL).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
_PR_SET_PDEATHSIG = 1


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def stop_on_signals(on_signal: Callable[[], None] | None = None) -> Iterator[None]:
    """Inside the block SIGTERM, SIGHUP and SIGINT raise KeyboardInterrupt in the main thread (or call
    `on_signal`, e.g. a Qt application's quit, where an exception could not leave the event loop).
    The previous handlers are restored afterwards."""
    handler = _interrupt if on_signal is None else (lambda signum, frame: on_signal())
    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Resolved here, in the parent: between fork and exec the child may only call what is already loaded.
_prctl = _load_prctl()


def child_dies_with_parent() -> None:
    """A `preexec_fn` for subprocess.Popen (Linux): the child gets SIGTERM when its parent dies, even by
    SIGKILL, so no server outlives the command that started it. A no-op where prctl is missing."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
