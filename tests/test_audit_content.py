"""Content changes in the audit trail, through the real CLI: a version applied by the sync, a pack refused
for its signature, and `kiosk edge rollback`."""

from __future__ import annotations

import base64
import json

from edge.store import ContentStore
from kiosk.audit import raw_rows, read_entries
from kiosk.audit_chain import check
from tests.fixtures_edge import install_pack, pack_files
from tests.test_audit_verify import kiosk


def _forge(path) -> None:
    """Change a signed manifest's payload after signing, as a compromised origin would."""
    d = json.loads(path.read_bytes())
    payload = json.loads(base64.b64decode(d["payload"]))
    payload["files"][0]["size"] += 1
    d["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    path.write_text(json.dumps(d))


def _config(tmp_path, origin, publisher):
    (key_id, public), = publisher.pinned.items()
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[edge]\ndata_dir = "{tmp_path / "edge"}"\norigin_url = "{origin.url}"\n'
                    f'[[edge.admin_keys]]\nkey_id = "{key_id}"\npublic_key = "{public}"\n', encoding="utf-8")
    return path


def test_applied_refused_and_rolled_back_content_is_recorded(tmp_path, origin, publisher):
    cfg, log = _config(tmp_path, origin, publisher), tmp_path / "audit" / "audit.sqlite3"
    install_pack(ContentStore(tmp_path / "edge" / "content"), pack_files(), 1)  # what the kiosk runs
    publisher.publish({"a.txt": b"two"}, 2)
    assert kiosk("--config", str(cfg), "edge", "sync", "--once").returncode == 0
    publisher.publish({"a.txt": b"three"}, 3)
    _forge(origin.root / "manifests" / "3.json")
    r = kiosk("--config", str(cfg), "edge", "sync", "--once")
    assert r.returncode == 1 and "refused [bad_signature]" in r.stdout
    r = kiosk("--config", str(cfg), "edge", "rollback")
    assert r.returncode == 0, r.stderr

    entries = [e for e in read_entries(log) if e["event"].startswith("content")]
    assert [(e["event"], e["version"]) for e in entries] == [
        ("content_applied", 2), ("content_refused", 3), ("content_rolled_back", 1)]
    assert entries[0]["previous"] == 1 and entries[2]["previous"] == 2
    assert entries[1]["code"] == "bad_signature" and entries[1]["reason"]
    assert check(raw_rows(log))[2] is None
