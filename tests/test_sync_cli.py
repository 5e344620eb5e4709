"""`kiosk edge sync | rollback | versions` through the real argparse wiring and a real config file."""

from __future__ import annotations

import argparse
from pathlib import Path

from edge.cli_content import register_content
from kiosk import config


def write_config(tmp_path: Path, origin_url: str, pinned: dict[str, str]) -> Path:
    keys = "".join(f'[[edge.admin_keys]]\nkey_id = "{k}"\npublic_key = "{v}"\n' for k, v in pinned.items())
    p = tmp_path / "kiosk.toml"
    p.write_text(f'[edge]\ndata_dir = "{tmp_path / "edge"}"\norigin_url = "{origin_url}"\n'
                 f"poll_interval_s = 0.2\n{keys}")
    return p


def run_cli(cfg_path: Path, *argv: str) -> int:
    ap = argparse.ArgumentParser(prog="kiosk edge")
    register_content(ap.add_subparsers(dest="edge_command", required=True))
    args = ap.parse_args(list(argv))
    args.cfg = config.load(cfg_path)
    return args.func(args)


def test_sync_versions_rollback_round_trip(tmp_path, origin, publisher, capsys) -> None:
    cfg = write_config(tmp_path, origin.url, publisher.pinned)
    assert run_cli(cfg, "versions") == 0
    assert "no content versions" in capsys.readouterr().out

    publisher.publish({"a.txt": b"one"}, 1)
    assert run_cli(cfg, "sync", "--once") == 0
    assert capsys.readouterr().out.startswith("updated to version 1: 1 blob(s) downloaded")
    publisher.publish({"a.txt": b"two", "b.txt": b"more"}, 2)
    assert run_cli(cfg, "sync", "--once") == 0
    capsys.readouterr()
    assert run_cli(cfg, "sync", "--once") == 0
    assert capsys.readouterr().out.strip() == "up to date at version 2"

    assert run_cli(cfg, "versions") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "2" and "[active]" in lines[0] and "2 files" in lines[0]
    assert lines[1].split()[0] == "1" and "[" not in lines[1]

    assert run_cli(cfg, "rollback") == 0
    assert capsys.readouterr().out.startswith("rolled back from 2 to 1")
    assert run_cli(cfg, "versions") == 0
    out = capsys.readouterr().out
    assert "[blocked]" in out.splitlines()[0] and "[active]" in out.splitlines()[1]

    assert run_cli(cfg, "rollback") == 2
    assert "nothing to roll back to" in capsys.readouterr().err


def test_sync_once_reports_a_refusal_and_fails(tmp_path, origin, publisher, capsys) -> None:
    cfg = write_config(tmp_path, origin.url, {"someone-else": publisher.public_b64})
    publisher.publish({"a.txt": b"one"}, 1)
    assert run_cli(cfg, "sync", "--once") == 1
    assert capsys.readouterr().out.startswith("refused [unknown_key]: signed with key 'test-admin'")


def test_sync_without_an_origin_says_so(tmp_path, capsys) -> None:
    cfg = write_config(tmp_path, "", {})
    assert run_cli(cfg, "sync", "--once") == 1
    assert "origin_url is not set" in capsys.readouterr().err
