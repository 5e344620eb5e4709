"""Two processes (the UI and the edge on one box) appending to one log make one valid chain."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from kiosk.audit import raw_rows, read_entries
from kiosk.audit_chain import check

ROOT = Path(__file__).resolve().parent.parent
WRITER = """
import sys, time
from pathlib import Path
from kiosk.audit import AuditLog
path, name, go, n = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
log = AuditLog(path)
while not go.exists():
    time.sleep(0.005)
for i in range(n):
    log.record("self_test", test=f"{name}-{i}")
"""


def test_two_processes_appending_at_once_make_one_valid_chain(tmp_path):
    path, go, n = tmp_path / "audit.sqlite3", tmp_path / "go", 60
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(go), str(n)], env=env)
             for name in ("ui", "edge")]
    time.sleep(0.5)  # both are importing and waiting on the start line
    go.touch()
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    count, head, problem = check(raw_rows(path))
    assert problem is None and count == 2 * n and head is not None and head.seq == 2 * n
    tests = [e["test"] for e in read_entries(path)]
    for name in ("ui", "edge"):  # each writer's own entries, all there, in its own order
        assert [t for t in tests if t.startswith(name)] == [f"{name}-{i}" for i in range(n)]
