"""The content manifest refuses paths and hashes that could escape or corrupt the store."""

from __future__ import annotations

import json

import pytest

from central.admin.publish import manifest_for_dir, publish
from kiosk import signing
from kiosk.manifest import ENVELOPE_KIND, Manifest, ManifestError, blob_path


def _doc(files):
    return json.dumps({"schema": "kiosk.manifest/1", "pack_id": "p", "version": 1, "created": "x",
                       "files": files}).encode()


GOOD = {"path": "services/a.toml", "size": 3, "sha256": "a" * 64}


def test_round_trip():
    m = Manifest.from_json(_doc([GOOD]))
    assert Manifest.from_json(m.to_json()) == m
    assert m.total_size == 3


@pytest.mark.parametrize("path", ["../etc/passwd", "/abs", "a/../../b", "a/..", "sp ace"])
def test_unsafe_paths_are_refused(path):
    with pytest.raises(ManifestError, match="unsafe path"):
        Manifest.from_json(_doc([{**GOOD, "path": path}]))


def test_bad_hash_duplicates_and_junk_are_refused():
    with pytest.raises(ManifestError, match="bad hash"):
        Manifest.from_json(_doc([{**GOOD, "sha256": "xyz"}]))
    with pytest.raises(ManifestError, match="duplicate"):
        Manifest.from_json(_doc([GOOD, GOOD]))
    with pytest.raises(ManifestError, match="not JSON"):
        Manifest.from_json(b"\x00garbage")
    with pytest.raises(ManifestError, match="schema"):
        Manifest.from_json(b'{"schema": "v0"}')


def test_publish_writes_blobs_by_hash_then_latest(tmp_path):
    pack = tmp_path / "pack"
    (pack / "guides").mkdir(parents=True)
    (pack / "guides" / "a.zh.md").write_text("办事指南", encoding="utf-8")
    (pack / "pack.toml").write_text("id = 'p'")
    m = manifest_for_dir(pack, "p", 7)
    key, _ = signing.generate_key()
    env = signing.sign(ENVELOPE_KIND, m.to_json(), key, "k", m.version)
    origin = tmp_path / "origin"
    copied = publish(pack, m, env, origin)
    assert copied == m.total_size
    for f in m.files:
        assert (origin / blob_path(f.sha256)).read_bytes() == (pack / f.path).read_bytes()
    assert json.loads((origin / "latest.json").read_bytes())["version"] == 7
    # publishing the same files again copies nothing
    assert publish(pack, m, env, origin) == 0
