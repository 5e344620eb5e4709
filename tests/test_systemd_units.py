"""The appliance's systemd units, checked by systemd itself: `systemd-analyze verify` on every unit (in a
throwaway root where their ExecStart binaries exist), `systemd-analyze security --offline` for the
hardening, `systemd-sysusers` and `systemd-tmpfiles` for the users and the directories they may write."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNITS_DIR = ROOT / "systemd"
UNITS = sorted(p.name for p in UNITS_DIR.glob("*.service"))
ON_KIOSK = ("kiosk-edge.service", "kiosk-ui.service")

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")


def _host_units() -> Path:
    for d in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")):
        if (d / "sysinit.target").exists():
            return d
    pytest.skip("no systemd unit directory with sysinit.target on this machine")


def _binaries(unit_text: str) -> set[str]:
    """Absolute paths each ExecStart runs: the command, and what /usr/bin/env runs after VAR=value."""
    found = set()
    for line in unit_text.splitlines():
        if line.startswith("ExecStart="):
            words = line.split("=", 1)[1].lstrip("-@:+!").split()
            found.add(words[0])
            found.update(w for w in words[1:] if w.startswith("/") and "=" not in w and w.count("/") > 1
                         and not w.startswith(("/etc/", "/var/", "/run/")))
    return found


def _make_root(tmp_path: Path, units: dict[str, str]) -> Path:
    root = tmp_path / "root"
    shutil.copytree(_host_units(), root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for name, text in units.items():
        (root / "etc/systemd/system" / name).write_text(text)
        for binary in _binaries(text):
            stub = root / binary.lstrip("/")
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text("#!/bin/sh\n")
            stub.chmod(0o755)
    return root


def _verify(root: Path, unit: str) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", f"--root={root}", unit], capture_output=True, text=True,
                          timeout=60)


def _ours() -> dict[str, str]:
    return {name: (UNITS_DIR / name).read_text() for name in UNITS}


def _settings(unit: str) -> dict[str, str]:
    out = {}
    for line in (UNITS_DIR / unit).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            out[key] = value
    return out


def test_every_unit_passes_systemd_analyze_verify(tmp_path):
    assert set(ON_KIOSK) | {"kiosk-fleet.service"} <= set(UNITS)
    root = _make_root(tmp_path, _ours())
    for unit in UNITS:
        done = _verify(root, unit)
        assert done.returncode == 0 and done.stderr.strip() == "", f"{unit}:\n{done.stderr}"


def test_the_check_catches_a_mistyped_setting_and_a_missing_binary(tmp_path):
    """The harness has teeth: systemd warns (exit 0) on a typo, so the test above reads stderr too."""
    text = _ours()["kiosk-edge.service"].replace("WatchdogSec=30", "WatchdogSecs=30")
    root = _make_root(tmp_path, {"kiosk-edge.service": text})
    assert "Unknown key" in _verify(root, "kiosk-edge.service").stderr
    (root / "opt/township-kiosk/.venv/bin/kiosk").unlink()
    done = _verify(root, "kiosk-edge.service")
    assert done.returncode != 0 and "is not executable" in done.stderr


def test_kiosk_units_restart_on_failure_escalate_to_reboot_and_run_as_their_own_users():
    users = set()
    for unit in ON_KIOSK:
        s = _settings(unit)
        # the UI also restarts after a clean exit: that is how it picks up a pushed config (ui/config_watch.py)
        restart = "always" if unit == "kiosk-ui.service" else "on-failure"
        assert (s["Type"], s["Restart"], s["StartLimitAction"]) == ("notify", restart, "reboot"), unit
        assert int(s["WatchdogSec"]) > 0 and int(s["StartLimitBurst"]) > 1 and int(s["StartLimitIntervalSec"]) > 0
        assert s["ProtectSystem"] == "strict" and s["ProtectHome"] == "yes" and s["PrivateTmp"] == "yes"
        assert s["NoNewPrivileges"] == "yes" and s["CapabilityBoundingSet"] == ""
        assert s["User"] not in ("", "root") and s["User"] == s["Group"]
        users.add(s["User"])
        for path in s["ReadWritePaths"].split():  # state lives under /var/lib/kiosk; config pushes in /etc/kiosk
            assert path.lstrip("-").startswith(("/var/lib/kiosk/", "/etc/kiosk")), (unit, path)
    assert len(users) == 2  # the touchscreen does not run as the edge's user
    edge, ui = _settings("kiosk-edge.service"), _settings("kiosk-ui.service")
    assert edge["NotifyAccess"] == "main" and ui["NotifyAccess"] == "all"  # the UI is cage's child
    assert re.search(r"/usr/bin/cage .*-- \S+/kiosk --config \S+ ui$", ui["ExecStart"])
    assert " -s " not in ui["ExecStart"]  # no VT switching from a public touchscreen
    assert {"dialout", "video", "audio"} <= set(ui["SupplementaryGroups"].split())
    assert (UNITS_DIR / "pam.d" / ui["PAMName"]).exists()


def test_systemd_rates_the_hardening(tmp_path):
    root = _make_root(tmp_path, _ours())
    limits = {"kiosk-edge.service": 2.5, "kiosk-fleet.service": 2.5, "kiosk-ui.service": 5.0}
    for unit, limit in limits.items():
        done = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"--root={root}", unit],
                              capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout + done.stderr)
        assert m, done.stdout[-500:] + done.stderr[-500:]
        assert float(m.group(1)) <= limit, f"{unit}: exposure {m.group(1)}"


def test_sysusers_and_tmpfiles_make_the_users_and_the_only_writable_directories(tmp_path):
    for tool in ("systemd-sysusers", "systemd-tmpfiles"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    subprocess.run(["systemd-sysusers", f"--root={root}", str(UNITS_DIR / "sysusers.d/township-kiosk.conf")],
                   check=True, capture_output=True, timeout=60)
    passwd = {f[0]: f for f in (line.split(":") for line in (root / "etc/passwd").read_text().splitlines())}
    groups = {f[0]: f for f in (line.split(":") for line in (root / "etc/group").read_text().splitlines())}
    for user in ("kiosk", "kiosk-edge", "kiosk-fleet"):
        assert passwd[user][6].endswith("nologin") and not passwd[user][5].startswith("/home")
    assert set(groups["kiosk-audit"][3].split(",")) == {"kiosk", "kiosk-edge"}
    subprocess.run(["systemd-tmpfiles", "--create", f"--root={root}",
                    str(UNITS_DIR / "tmpfiles.d/township-kiosk.conf")], check=True, capture_output=True, timeout=60)

    def owner_mode(rel: str) -> tuple[str, str, str]:
        st = (root / rel).stat()
        return str(st.st_uid), str(st.st_gid), oct(st.st_mode & 0o7777)

    assert owner_mode("var/lib/kiosk/edge") == (passwd["kiosk-edge"][2], groups["kiosk-edge"][2], "0o700")
    assert owner_mode("var/lib/kiosk/ui") == (passwd["kiosk"][2], groups["kiosk"][2], "0o700")
    assert owner_mode("var/lib/kiosk/audit")[1:] == (groups["kiosk-audit"][2], "0o2770")
    assert owner_mode("etc/kiosk") == (passwd["kiosk-edge"][2], groups["kiosk"][2], "0o750")
