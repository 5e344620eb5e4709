"""`kiosk fleet user add|list|passwd`, run as a process (`python -m central.fleet.web.cli`)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from central.fleet import db
from central.fleet.web import auth, cli

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "central.fleet.web.cli", "user", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_user_add_list_passwd(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fleet.sqlite3'}"
    r = run("add", "dolma", "--role", "maintainer", "--county", "chengguan", "--county", "dagze", "--db", url,
            stdin="first-password\n")
    assert r.returncode == 0, r.stderr
    assert "first-password" not in r.stdout + r.stderr
    assert run("add", "tashi", "--role", "viewer", "--db", url, stdin="viewer-password\n").returncode == 0
    r = run("list", "--db", url)
    assert r.stdout.splitlines() == ["dolma\tmaintainer\tchengguan,dagze", "tashi\tviewer\t*"]
    engine = db.connect(url)
    assert auth.authenticate(engine, "dolma", "first-password").counties == ("chengguan", "dagze")
    with engine.connect() as c:
        stored = c.execute(select(db.users.c.password_hash).where(db.users.c.name == "dolma")).scalar()
    assert stored.startswith("pbkdf2_sha256$") and "first-password" not in stored
    user = auth.authenticate(engine, "dolma", "first-password")
    token, _ = auth.open_session(engine, user, 1)
    r = run("passwd", "dolma", "--db", url, stdin="second-password\n")
    assert r.returncode == 0, r.stderr
    assert auth.authenticate(engine, "dolma", "first-password") is None
    assert auth.authenticate(engine, "dolma", "second-password") is not None
    assert auth.find_session(engine, token) is None  # a new password ends the old sessions


def test_bad_input_is_one_line_and_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """In-process through the module's entry function (a process start per case is slow)."""
    url = f"sqlite:///{tmp_path / 'fleet.sqlite3'}"

    def call(args: tuple[str, ...], stdin: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = cli.main(["user", *args])
        except SystemExit as e:  # argparse refusing an argument
            code = int(e.code or 0)
        return code, capsys.readouterr().err

    assert call(("add", "dolma", "--role", "admin", "--db", url), "long-enough-1\n")[0] == 0
    cases = [
        (("add", "dolma", "--role", "admin", "--db", url), "long-enough-2\n", "exists already"),
        (("add", "pema", "--role", "viewer", "--db", url), "short\n", "shorter than 8"),
        (("add", "bad name!", "--role", "viewer", "--db", url), "long-enough-3\n", "is not 1-64 letters"),
        (("add", "pema", "--role", "viewer", "--county", "x", "--db", url), "long-enough-4\n", "for maintainers"),
        (("passwd", "nobody", "--db", url), "long-enough-5\n", "no user 'nobody'"),
        (("list", "--db", f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite3'}"), "", "database"),
    ]
    for args, stdin, expected in cases:
        code, err = call(args, stdin)
        assert code == 1, (args, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], (args, err)
    code, err = call(("add", "pema", "--role", "superuser", "--db", url), "long-enough-6\n")
    assert code == 2 and "invalid choice" in err  # argparse names the allowed roles
