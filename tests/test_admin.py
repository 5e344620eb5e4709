"""Admin tools as real processes: keygen, pin-hash, and a pack's build -> sign -> publish into an origin."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import tomllib
from pathlib import Path

import pytest

from central.admin.progress import Progress
from kiosk import config, signing
from kiosk.content import DEMO_PACK_DIR, load_pack, pack_files
from kiosk.manifest import ENVELOPE_KIND, Manifest, blob_path
from kiosk.pin import verify_pin


def _ok(result) -> str:
    assert result.returncode == 0, f"rc={result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def _latest(origin: Path) -> int:
    return json.loads((origin / "latest.json").read_bytes())["version"]


def _release(kiosk_cli, admin_key, out: Path, origin: Path, version: int) -> None:
    key_file, key_id, _ = admin_key
    _ok(kiosk_cli("admin", "pack", "build", DEMO_PACK_DIR, out, "--version", str(version)))
    _ok(kiosk_cli("admin", "pack", "sign", out, "--key", key_file, "--key-id", key_id))
    _ok(kiosk_cli("admin", "pack", "publish", out, "--origin", origin))


def test_build_sign_publish_reaches_the_origin_intact(kiosk_cli, admin_key, tmp_path: Path) -> None:
    key_file, key_id, public = admin_key
    out, origin = tmp_path / "build", tmp_path / "origin"

    built = kiosk_cli("admin", "pack", "build", DEMO_PACK_DIR, out, "--version", "7")
    assert "version 7" in _ok(built)
    assert "hashing: 100%" in built.stderr  # progress, every 10% when not on a terminal
    assert "no recorded bo clip" in built.stderr  # missing Tibetan audio is reported, not faked
    shipped = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert shipped == {p.as_posix() for p in pack_files(DEMO_PACK_DIR)} | {"manifest.json"}

    _ok(kiosk_cli("admin", "pack", "sign", out, "--key", key_file, "--key-id", key_id, "--expires-days", "30"))
    published = kiosk_cli("admin", "pack", "publish", out, "--origin", origin)
    assert "version 7" in _ok(published)
    assert "uploading: 100%" in published.stderr

    # an edge's view: latest -> signed manifest -> blobs by hash
    assert _latest(origin) == 7
    env = signing.Envelope.from_json((origin / "manifests" / "7.json").read_bytes())
    payload = signing.verify(env, ENVELOPE_KIND, {key_id: public})
    assert payload == (out / "manifest.json").read_bytes()
    manifest = Manifest.from_json(payload)
    assert manifest.pack_id == "demo" and manifest.version == 7
    blobs = [p for p in (origin / "blobs").rglob("*") if p.is_file()]
    for blob in blobs:
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    assert {b.name for b in blobs} == {f.sha256 for f in manifest.files}

    # the pack rebuilt from the origin's blobs loads like the source
    restored = tmp_path / "restored"
    for f in manifest.files:
        (restored / f.path).parent.mkdir(parents=True, exist_ok=True)
        (restored / f.path).write_bytes((origin / blob_path(f.sha256)).read_bytes())
    assert load_pack(restored).to_dict() | {"root": ""} == load_pack(DEMO_PACK_DIR).to_dict() | {"root": ""}


def test_a_tampered_manifest_fails_verification(kiosk_cli, admin_key, tmp_path: Path) -> None:
    key_file, key_id, public = admin_key
    out, origin = tmp_path / "build", tmp_path / "origin"
    _release(kiosk_cli, admin_key, out, origin, 3)
    raw = (origin / "manifests" / "3.json").read_bytes()
    env = signing.Envelope.from_json(raw)

    d = json.loads(env.payload)
    d["files"][0]["sha256"] = "0" * 64  # point a kiosk at another blob
    forged = signing.Envelope(env.kind, env.key_id, env.version, env.expires,
                              json.dumps(d).encode(), env.signature)
    with pytest.raises(signing.EnvelopeError) as e:
        signing.verify(forged, ENVELOPE_KIND, {key_id: public})
    assert e.value.code == "bad_signature"
    bumped = signing.Envelope(env.kind, env.key_id, 99, env.expires, env.payload, env.signature)
    with pytest.raises(signing.EnvelopeError):
        signing.verify(bumped, ENVELOPE_KIND, {key_id: public})
    other_key = signing.generate_key()[1]
    with pytest.raises(signing.EnvelopeError):
        signing.verify(env, ENVELOPE_KIND, {key_id: other_key})


def test_a_file_changed_after_signing_is_not_published(kiosk_cli, admin_key, tmp_path: Path) -> None:
    key_file, key_id, _ = admin_key
    out, origin = tmp_path / "build", tmp_path / "origin"
    _ok(kiosk_cli("admin", "pack", "build", DEMO_PACK_DIR, out, "--version", "4"))
    _ok(kiosk_cli("admin", "pack", "sign", out, "--key", key_file, "--key-id", key_id))
    prompts = out / "prompts.toml"
    prompts.write_text(prompts.read_text(encoding="utf-8").replace("欢迎", "欢迎光临"), encoding="utf-8")

    r = kiosk_cli("admin", "pack", "publish", out, "--origin", origin)
    assert r.returncode == 1
    assert "prompts.toml: changed since the build" in r.stderr
    assert not origin.exists() or not any(origin.rglob("*.json"))

    # signing again does not launder it either: the build itself no longer matches
    r = kiosk_cli("admin", "pack", "sign", out, "--key", key_file, "--key-id", key_id)
    assert r.returncode == 1 and "changed since the build" in r.stderr


def test_publish_refuses_an_older_or_equal_version(kiosk_cli, admin_key, tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    _release(kiosk_cli, admin_key, tmp_path / "v5", origin, 5)
    key_file, key_id, _ = admin_key
    for version in ("4", "5"):
        out = tmp_path / f"again{version}"
        _ok(kiosk_cli("admin", "pack", "build", DEMO_PACK_DIR, out, "--version", version))
        _ok(kiosk_cli("admin", "pack", "sign", out, "--key", key_file, "--key-id", key_id))
        r = kiosk_cli("admin", "pack", "publish", out, "--origin", origin)
        assert r.returncode == 1
        assert f"version {version} is not newer than the origin's 5" in r.stderr
    assert _latest(origin) == 5
    assert not (origin / "manifests" / "4.json").exists()


def test_publish_refuses_unsigned_unless_asked(kiosk_cli, tmp_path: Path) -> None:
    out, origin = tmp_path / "build", tmp_path / "origin"
    _ok(kiosk_cli("admin", "pack", "build", DEMO_PACK_DIR, out, "--version", "2"))
    r = kiosk_cli("admin", "pack", "publish", out, "--origin", origin)
    assert r.returncode == 1 and "not signed" in r.stderr
    assert not (origin / "latest.json").exists()

    _ok(kiosk_cli("admin", "pack", "publish", out, "--origin", origin, "--allow-unsigned"))
    env = signing.Envelope.from_json((origin / "manifests" / "2.json").read_bytes())
    assert not env.signed
    with pytest.raises(signing.EnvelopeError) as e:
        signing.verify(env, ENVELOPE_KIND, {})
    assert e.value.code == "unsigned"
    assert signing.verify(env, ENVELOPE_KIND, {}, allow_unsigned=True) == (out / "manifest.json").read_bytes()


def test_build_of_a_broken_pack_prints_every_problem(kiosk_cli, pack_copy: Path, tmp_path: Path) -> None:
    svc = pack_copy / "services" / "old-age-allowance.toml"
    svc.write_text(svc.read_text(encoding="utf-8").replace('source = "id_masked"', 'source = "idnumber"')
                   .replace('category = "civil_affairs"', 'category = "pensions"'), encoding="utf-8")
    (pack_copy / "guides" / "grassland-subsidy.bo.md").unlink()
    out = tmp_path / "build"

    r = kiosk_cli("admin", "pack", "build", pack_copy, out)
    assert r.returncode == 1
    assert "3 problem(s)" in r.stderr
    assert "services/old-age-allowance.toml: steps[1].fields[1].source: 'idnumber' is not a card field" in r.stderr
    assert "services/old-age-allowance.toml: category: 'pensions' is not a category" in r.stderr
    assert "guides/grassland-subsidy.bo.md: file is missing" in r.stderr
    assert not out.exists()
    assert not list(tmp_path.glob(".build.*"))  # no half-built staging left behind


def test_build_never_overwrites_a_folder_that_is_not_a_build(kiosk_cli, tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.txt").write_text("years of work")
    r = kiosk_cli("admin", "pack", "build", DEMO_PACK_DIR, out)
    assert r.returncode == 1 and "not empty" in r.stderr
    assert (out / "thesis.txt").read_text() == "years of work"

    earlier = tmp_path / "build"  # an earlier build, though, is replaced whole
    _ok(kiosk_cli("admin", "pack", "build", DEMO_PACK_DIR, earlier, "--version", "1"))
    (earlier / "stray.txt").write_text("left over")
    _ok(kiosk_cli("admin", "pack", "build", DEMO_PACK_DIR, earlier, "--version", "2"))
    assert Manifest.from_json((earlier / "manifest.json").read_bytes()).version == 2
    assert not (earlier / "stray.txt").exists()


def test_keygen_writes_a_private_key_only_its_owner_reads(kiosk_cli, tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "admin.key"
    key_file.parent.mkdir()
    out = _ok(kiosk_cli("admin", "keygen", "--out", key_file, "--key-id", "region-2025"))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = signing.private_from_b64(key_file.read_text())

    # what it prints pastes straight into a valid kiosk config, and it is the key's public half
    cfg = config.parse(out)
    assert cfg.edge.admin_keys[0].key_id == "region-2025"
    assert cfg.edge.admin_keys[0].public_key == signing.public_b64(key.public_key())
    assert signing.private_to_b64(key) not in out

    before = key_file.read_bytes()
    r = kiosk_cli("admin", "keygen", "--out", key_file)
    assert r.returncode == 1 and "already exists" in r.stderr
    assert key_file.read_bytes() == before


def test_sign_with_a_bad_key_file_says_so_without_echoing_it(kiosk_cli, tmp_path: Path) -> None:
    out = tmp_path / "build"
    _ok(kiosk_cli("admin", "pack", "build", DEMO_PACK_DIR, out, "--version", "1"))
    bad = tmp_path / "bad.key"
    bad.write_text("SECRETSECRETnot-base64!!")
    r = kiosk_cli("admin", "pack", "sign", out, "--key", bad, "--key-id", "x")
    assert r.returncode == 1 and "not an admin key file" in r.stderr
    assert "SECRETSECRET" not in r.stderr + r.stdout
    assert not (out / "manifest.signed.json").exists()


def test_pin_hash_verifies_and_rejects_bad_pins(kiosk_cli) -> None:
    stored = _ok(kiosk_cli("admin", "pin-hash", input="24681357\n")).strip()
    assert stored.startswith("pbkdf2_sha256$")
    assert tomllib.loads(f'pin_hash = "{stored}"')  # pastes into [maintenance] as is
    assert verify_pin("24681357", stored)
    assert not verify_pin("24681358", stored)
    for bad in ("1234", "12ab5678", ""):
        r = kiosk_cli("admin", "pin-hash", input=bad + "\n")
        assert r.returncode == 1 and "6 to 12 digits" in r.stderr
        assert not bad or bad not in r.stderr + r.stdout


def test_progress_reports_every_tenth_off_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress("hashing", stream)
    for i in range(1, 1001):
        progress(i, 1000)
    assert stream.getvalue().splitlines() == [f"hashing: {p}%" for p in range(10, 101, 10)]

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    live = Progress("uploading", tty)
    live(1, 4)
    live(4, 4)
    assert tty.getvalue() == "\ruploading: 1/4 (25%)\ruploading: 4/4 (100%)\n"
