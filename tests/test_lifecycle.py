"""`kiosk demo` starts a platform, an origin and an edge: however the demo ends, none of them survives it.

Reproduced before the fix: `timeout 150 make demo` (SIGTERM) left all three running, holding their ports.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> set[int]:
    kids: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids |= {int(k) for k in (task / "children").read_text().split()}
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has stopped; only its parent has not collected it yet


def _start_demo(workdir: Path) -> tuple[subprocess.Popen, set[int]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--log-format", "text", "demo", "--headless",
                             "--workdir", str(workdir)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if "edge node up" in line:
            break
    else:
        pytest.fail("the demo never came up:\n" + "".join(seen))
    kids = _children(proc.pid)
    assert len(kids) >= 3, f"expected platform, origin and edge as children, found {kids}"
    return proc, kids


def _wait_gone(pids: set[int], limit_s: float = 30.0) -> set[int]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    return {p for p in pids if _alive(p)}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_demo_stops_every_child_on_signal(tmp_path, sig):
    proc, kids = _start_demo(tmp_path / "demo")
    try:
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
        assert "[demo] stopped" in out, out
        assert _wait_gone(kids) == set(), f"children outlived the demo after {sig.name}"
    finally:
        proc.kill()
        for k in kids:
            if _alive(k):
                os.kill(k, signal.SIGKILL)


def test_demo_children_die_even_when_the_demo_is_killed(tmp_path):
    """SIGKILL runs no handler: the children are told by the kernel (PR_SET_PDEATHSIG) instead."""
    proc, kids = _start_demo(tmp_path / "demo")
    try:
        proc.kill()
        proc.wait(timeout=30)
        assert _wait_gone(kids) == set(), "children outlived a killed demo"
    finally:
        for k in kids:
            if _alive(k):
                os.kill(k, signal.SIGKILL)
