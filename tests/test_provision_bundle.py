"""`kiosk provision ca init / enroll / install`: what lands on the kiosk, with which permissions, and what
a bad bundle or a bad request does (one line, nothing changed)."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import tarfile
import tomllib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.fixtures_provision import KIOSK_A, KIOSK_B, kiosk_cli, make_pki


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file's bytes and every symlink's target under root: 'nothing changed' is equality."""
    out: dict[str, bytes | str] = {}
    for p in sorted(root.rglob("*")):
        if p.is_symlink():
            out[str(p.relative_to(root))] = str(p.readlink())
        elif p.is_file():
            out[str(p.relative_to(root))] = p.read_bytes()
    return out


def rewrite_bundle(src: Path, dst: Path, replace: dict[str, bytes], fix_checksums: bool = True) -> None:
    with tarfile.open(src, "r:gz") as t:
        files = {m.name: t.extractfile(m).read() for m in t.getmembers()}
    files.update(replace)
    manifest = json.loads(files["bundle.json"])
    if fix_checksums:
        manifest["files"] = {n: hashlib.sha256(b).hexdigest() for n, b in files.items() if n != "bundle.json"}
    files["bundle.json"] = json.dumps(manifest).encode()
    with tarfile.open(dst, "w:gz") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("kiosk provision: ") and "\n" not in err, err
    assert "Traceback" not in err
    return err


def test_an_installed_bundle_is_complete_valid_and_tightly_guarded(tmp_path: Path, capsys):
    pki = make_pki(tmp_path, kiosks=(KIOSK_A,))
    assert mode(pki.ca_dir) == 0o700
    for key in ("device-ca.key", "server-ca.key", "broker.key"):
        assert mode(pki.ca_dir / key) == 0o600, key
    assert mode(pki.ca_dir / "identities" / "monitor.central.key") == 0o600
    assert mode(pki.bundles[KIOSK_A]) == 0o600  # it holds the kiosk's private key

    root = pki.installed[KIOSK_A]
    etc = root / "etc/kiosk"
    tls = etc / "tls"
    assert tls.is_symlink() and mode(tls.resolve()) == 0o750
    assert mode(tls / "kiosk.key") == 0o600
    assert mode(tls / "kiosk.crt") == 0o644 and mode(etc / "kiosk.toml") == 0o644

    # kiosk.toml: valid for the real config loader, TLS paths where install put the files, admin key pinned.
    capsys.readouterr()
    assert kiosk_cli("--config", etc / "kiosk.toml", "config-check") == 0
    assert f"kiosk id {KIOSK_A}" in capsys.readouterr().out
    doc = tomllib.loads((etc / "kiosk.toml").read_text())
    assert doc["mqtt"]["enabled"] is True and doc["mqtt"]["port"] == pki.port
    for k, name in (("ca_file", "broker-ca.crt"), ("cert_file", "kiosk.crt"), ("key_file", "kiosk.key")):
        assert doc["mqtt"][k] == f"/etc/kiosk/tls/{name}"
        assert (root / doc["mqtt"][k].lstrip("/")).is_file()
    pinned = tomllib.loads(pki.admin_keys.read_text())["edge"]["admin_keys"]
    assert doc["edge"]["admin_keys"] == pinned

    # The certificate: CN = kiosk id, client use only, signed by the device CA (not by the server CA).
    cert = x509.load_pem_x509_certificate((tls / "kiosk.crt").read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == KIOSK_A
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == \
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate((pki.ca_dir / "device-ca.crt").read_bytes()))
    with pytest.raises(ValueError):
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(pki.server_ca.read_bytes()))
    assert (tls / "broker-ca.crt").read_bytes() == pki.server_ca.read_bytes()


def test_a_key_that_is_not_the_certificates_is_refused_and_nothing_changes(tmp_path: Path, capsys):
    pki = make_pki(tmp_path, kiosks=(KIOSK_A, KIOSK_B))
    root = pki.installed[KIOSK_A]
    before = snapshot(root)
    other_key = (pki.installed[KIOSK_B] / "etc/kiosk/tls/kiosk.key").read_bytes()
    bad = tmp_path / "mismatched.tar.gz"
    rewrite_bundle(pki.bundles[KIOSK_A], bad, {"kiosk.key": other_key})  # checksums fixed: only the pair is wrong
    capsys.readouterr()
    assert kiosk_cli("provision", "install", bad, "--root", root, config=pki.config) == 1
    assert "does not belong to kiosk.crt" in one_line_error(capsys)
    assert snapshot(root) == before


@pytest.mark.parametrize("damage", ["truncated", "altered_config", "not_a_bundle"])
def test_a_damaged_bundle_is_refused_and_nothing_changes(tmp_path: Path, capsys, damage: str):
    pki = make_pki(tmp_path, kiosks=(KIOSK_A,))
    root = pki.installed[KIOSK_A]
    before = snapshot(root)
    bad = tmp_path / "bad.tar.gz"
    good = pki.bundles[KIOSK_A].read_bytes()
    if damage == "truncated":
        bad.write_bytes(good[: len(good) // 2])
    elif damage == "altered_config":  # someone edits the broker host on the USB stick
        rewrite_bundle(pki.bundles[KIOSK_A], bad, {"kiosk.toml": b'[kiosk]\nid = "hall-07-k1"\n'},
                       fix_checksums=False)
    else:
        bad.write_text("hello")
    capsys.readouterr()
    assert kiosk_cli("provision", "install", bad, "--root", root, config=pki.config) == 1
    err = one_line_error(capsys)
    assert ("checksum" if damage == "altered_config" else "not an enrolment bundle") in err
    assert snapshot(root) == before


def test_renewal_swaps_the_certificate_and_keeps_the_halls_edited_config(tmp_path: Path, capsys):
    pki = make_pki(tmp_path, kiosks=(KIOSK_A,))
    root = pki.installed[KIOSK_A]
    config = root / "etc/kiosk/kiosk.toml"
    edited = config.read_text() + '\n[devices.printer]\nport = "/dev/ttyS4"\n'
    config.write_text(edited)  # the technician set this hall's printer port
    old_cert = (root / "etc/kiosk/tls/kiosk.crt").read_bytes()
    for _ in range(2):
        pki.enroll(KIOSK_A)
        pki.install(KIOSK_A)
    new_cert = (root / "etc/kiosk/tls/kiosk.crt").read_bytes()
    assert new_cert != old_cert
    key = (root / "etc/kiosk/tls/kiosk.key").read_bytes()
    with tarfile.open(pki.bundles[KIOSK_A], "r:gz") as t:
        assert t.extractfile("kiosk.key").read() == key and t.extractfile("kiosk.crt").read() == new_cert
    backups = sorted((root / "etc/kiosk").glob("kiosk.toml.*.bak"))
    assert any(b.read_text() == edited for b in backups)  # nothing the hall typed is lost
    assert len([p for p in (root / "etc/kiosk").glob("tls.*") if p.is_dir()]) == 2  # current + previous


def test_a_bundle_for_another_kiosk_needs_force(tmp_path: Path, capsys):
    pki = make_pki(tmp_path, kiosks=(KIOSK_A, KIOSK_B))
    root = pki.installed[KIOSK_A]
    before = snapshot(root)
    capsys.readouterr()
    assert kiosk_cli("provision", "install", pki.bundles[KIOSK_B], "--root", root, config=pki.config) == 1
    assert f"enrolled as '{KIOSK_A}'" in one_line_error(capsys)
    assert snapshot(root) == before
    assert kiosk_cli("provision", "install", pki.bundles[KIOSK_B], "--root", root, "--force",
                     config=pki.config) == 0
    assert f'id = "{KIOSK_B}"' in (root / "etc/kiosk/kiosk.toml").read_text()


def test_bad_requests_get_one_line_and_issue_nothing(tmp_path: Path, capsys):
    pki = make_pki(tmp_path, kiosks=())
    register = (pki.ca_dir / "ca.json").read_bytes()
    out = tmp_path / "x.tar.gz"
    cases = [
        (("enroll", "hall-1-k1", "--site", "s", "--region", "r", "--dir", pki.ca_dir, "--out", out), "no admin key"),
        (("enroll", "fleet", "--site", "s", "--region", "r", "--dir", pki.ca_dir, "--out", out,
          "--admin-keys", pki.admin_keys), "not a kiosk id"),
        (("enroll", "Hall_1", "--site", "s", "--region", "r", "--dir", pki.ca_dir, "--out", out,
          "--admin-keys", pki.admin_keys), "not a kiosk id"),
        (("enroll", "hall-1-k1", "--site", "s", "--region", "r", "--dir", pki.ca_dir, "--out", out,
          "--admin-key", "nonsense"), "KEY_ID=BASE64"),
        (("enroll", "hall-1-k1", "--site", "s", "--region", "r", "--dir", tmp_path / "nowhere", "--out", out,
          "--admin-keys", pki.admin_keys), "holds no CA"),
        (("identity", "Bob Smith", "--role", "admin", "--dir", pki.ca_dir), "identity name"),
        (("revoke", "hall-9-k9", "--dir", pki.ca_dir), "no certificate was ever issued"),
        (("ca", "init", "--dir", pki.ca_dir), "already holds a CA"),
    ]
    for args, expected in cases:
        capsys.readouterr()
        assert kiosk_cli("provision", *args, config=pki.config) == 1, args
        assert expected in one_line_error(capsys), args
    assert not out.exists()
    assert (pki.ca_dir / "ca.json").read_bytes() == register  # nothing was issued or revoked
