"""Fixtures for the edge API, outbox, forwarder and the reference platform: real aiohttp servers on
free loopback ports (each in its own thread and event loop), real SQLite files in tmp_path."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

from kiosk import idnumber
from kiosk.netutil import free_port
from ui.demo.config import config_toml

if TYPE_CHECKING:
    from edge.platform_adapter import HttpPlatformAdapter


class ServerThread:
    """Runs an aiohttp app on 127.0.0.1:port (or `host`) in a background thread; stop() and start() again
    on the same port (a platform that goes away and comes back)."""

    def __init__(self, make_app: Callable[[], web.Application], port: int | None = None,
                 host: str = "127.0.0.1") -> None:
        self.make_app = make_app
        self.host = host
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def start(self) -> ServerThread:
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._runner = web.AppRunner(self.make_app(), access_log=None)
                loop.run_until_complete(self._runner.setup())
                site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
                loop.run_until_complete(site.start())
            except BaseException as e:  # surfaced to the caller of start()
                errors.append(e)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None


def make_id(n: int) -> str:
    """A valid (checksummed) test ID number, distinct for each n: region 540102 (Lhasa), born 1950s."""
    return idnumber.make_valid(f"540102195{n % 10}0101{n % 1000:03d}"[:17])


@pytest.fixture
def platform_factory(tmp_path: Path) -> Iterator[Callable[..., ServerThread]]:
    """platform_factory(port=None, latency_s=0, start=True) -> a reference platform server (not started
    if start=False). All are stopped at teardown; each shares the db at tmp_path/platform.sqlite3."""
    from central.platform import PlatformDB, make_app

    servers: list[ServerThread] = []
    dbs: list[PlatformDB] = []

    def factory(port: int | None = None, latency_s: float = 0.0, start: bool = True) -> ServerThread:
        def app() -> web.Application:
            db = PlatformDB(tmp_path / "platform.sqlite3")
            dbs.append(db)
            return make_app(db, latency_s)

        srv = ServerThread(app, port)
        servers.append(srv)
        return srv.start() if start else srv

    yield factory
    for srv in servers:
        srv.stop()
    for db in dbs:
        db.close()


@pytest.fixture
def platform(platform_factory: Callable[..., ServerThread]) -> ServerThread:
    """One running reference platform (its db at tmp_path/platform.sqlite3)."""
    return platform_factory()


@pytest.fixture
def adapter(platform: ServerThread) -> Iterator[HttpPlatformAdapter]:
    """The edge's HTTP adapter to `platform`, closed at teardown."""
    from edge.platform_adapter import HttpPlatformAdapter

    a = HttpPlatformAdapter(platform.url, timeout=5)
    yield a
    a.close()


# --- a small content pack, installed into a real edge.store.ContentStore ---------------------------
_BO, _ZH = "བཀྲ་ཤིས་བདེ་ལེགས།", "欢迎"


def _text(en: str) -> str:
    return f'{{ bo = "{_BO}", zh = "{_ZH}{en}", en = "{en}" }}'


def pack_files(version_note: str = "") -> dict[str, bytes]:
    """A pack the content loader accepts: a submittable service (every field type) and a guide-only one."""
    from kiosk.content import REQUIRED_PROMPTS

    prompts = "\n".join(f'[{p}]\nbo = "{_BO}"\nzh = "{_ZH}{version_note}"\nen = "{p}"'
                        + ('\nclip_bo = "audio/bo/home.wav"' if p == "home" else "") for p in REQUIRED_PROMPTS)
    old_age = f"""
id = "old-age-allowance"
category = "social_security"
platform_service_code = "SS-0101"
guide = "old-age-allowance"
form = "old-age-allowance"
icon = "images/old-age.png"
title = {_text("Old-age allowance")}
summary = {_text("Apply for the allowance")}
[[steps]]
kind = "identify"
methods = ["card"]
[[steps]]
kind = "form"
  [[steps.fields]]
  id = "name"
  source = "name"
  label = {_text("Name")}
  [[steps.fields]]
  id = "id_masked"
  source = "id_masked"
  label = {_text("ID")}
  [[steps.fields]]
  id = "phone"
  type = "phone"
  required = true
  label = {_text("Phone")}
  [[steps.fields]]
  id = "account"
  type = "choice"
  required = true
  label = {_text("Account")}
  choices = [{{ value = "bank", label = {_text("Bank")} }}, {{ value = "cash", label = {_text("Cash")} }}]
  [[steps.fields]]
  id = "household_size"
  type = "number"
  min = 1
  max = 20
  label = {_text("Household size")}
  [[steps.fields]]
  id = "village"
  type = "text"
  max_length = 20
  pattern = "[^0-9]+"
  label = {_text("Village")}
  [[steps.fields]]
  id = "start_date"
  type = "date"
  label = {_text("Start")}
  [[steps.fields]]
  id = "agree"
  type = "yesno"
  required = true
  label = {_text("Agree")}
[[steps]]
kind = "photo"
required = false
[[steps]]
kind = "confirm"
[[steps]]
kind = "submit"
[[steps]]
kind = "receipt"
"""
    guide_only = f"""
id = "medical-guide"
category = "medical"
guide = "medical-guide"
title = {_text("Medical reimbursement")}
summary = {_text("How to claim")}
[[steps]]
kind = "guide"
"""
    files = {
        "pack.toml": f'id = "test"\ntitle = {_text("Test pack")}\n',
        "prompts.toml": prompts,
        "services/old-age-allowance.toml": old_age,
        "services/medical-guide.toml": guide_only,
        "guides/old-age-allowance.bo.md": f"# {_BO}\n\n{_BO}\n",
        "guides/old-age-allowance.zh.md": "# 高龄津贴\n\n带上身份证。\n",
        "guides/medical-guide.bo.md": f"# {_BO}\n\n{_BO}\n",
        "guides/medical-guide.zh.md": "# 医保报销\n\n带上发票。\n",
        "forms/old-age-allowance.toml": f"title = {_text('Form')}\n[[fields]]\nlabel = {_text('Name')}\nlines = 1\n",
        "images/old-age.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        # Over the API's in-memory limit: served by streaming from disk.
        "audio/bo/home.wav": b"RIFF" + (400_000).to_bytes(4, "little") + b"WAVE" + bytes(400_000),
    }
    return {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}


def install_pack(store, files: dict[str, bytes], version: int) -> None:
    """Put a pack into a real ContentStore the way sync does: blobs by hash, then activate."""
    import hashlib

    from kiosk import manifest as manifest_mod
    from kiosk import signing
    from kiosk.manifest import FileEntry, Manifest

    entries = []
    for rel, data in sorted(files.items()):
        sha = hashlib.sha256(data).hexdigest()
        entries.append(FileEntry(rel, len(data), sha))
        if not store.has_blob(sha):
            part = store.partial_path(sha)
            part.write_bytes(data)
            store.commit_blob(sha, part)
    m = Manifest("test", version, "2026-01-01T00:00:00+00:00", tuple(entries))
    store.activate(m, signing.unsigned(manifest_mod.ENVELOPE_KIND, m.to_json(), version).to_json())


class Edge:
    """An edge API server with a real store, outbox and forwarder (platform at platform_url). `config`
    (default Config()) sets the kiosks, lookup rate and workers; `host` is the one address it listens on
    (e.g. a test's veth address); `platform_timeout_s` is the adapter's socket timeout."""

    def __init__(self, data_dir: Path, platform_url: str, *, with_pack: bool = True, forwarder_opts=None,
                 lookup_timeout_s: float = 2.0, config=None, host: str = "127.0.0.1",
                 platform_timeout_s: float = 2.0) -> None:
        from edge.api import make_app
        from edge.forwarder import Forwarder
        from edge.outbox import Outbox
        from edge.platform_adapter import HttpPlatformAdapter
        from edge.store import ContentStore
        from kiosk.config import Config

        self.store = ContentStore(data_dir / "content")
        if with_pack:
            install_pack(self.store, pack_files(), 1)
        self.outbox = Outbox.open(data_dir)
        opts = {"backoff_base_s": 0.05, "backoff_cap_s": 0.3, "idle_poll_s": 0.1, "refresh_interval_s": 0.2,
                **(forwarder_opts or {})}
        self.forwarder = Forwarder(self.outbox, HttpPlatformAdapter(platform_url, timeout=platform_timeout_s),
                                   **opts)
        self.forwarder.start()
        self.server = ServerThread(lambda: make_app(self.store, self.outbox, self.forwarder, config or Config(),
                                                    lookup_timeout_s=lookup_timeout_s), host=host).start()
        self.url = self.server.url

    def close(self) -> None:
        self.server.stop()
        self.forwarder.close()
        self.outbox.close()

    def __enter__(self) -> Edge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def edge_factory(tmp_path: Path) -> Iterator[Callable[..., Edge]]:
    edges: list[Edge] = []

    def factory(platform_url: str | None = None, **kw) -> Edge:
        e = Edge(tmp_path / f"edge{len(edges)}", platform_url or f"http://127.0.0.1:{free_port()}", **kw)
        edges.append(e)
        return e

    yield factory
    for e in edges:
        e.close()


# --- `python -m kiosk ... edge serve` as a real subprocess, with a systemd-style notify socket ------
REPO = Path(__file__).resolve().parent.parent


def write_config(path: Path, data_dir: Path, port: int, platform_url: str, origin_url: str = "") -> Path:
    path.write_text(config_toml({
        "kiosk": {"id": "test-hall-1"},
        "edge": {"listen_host": "127.0.0.1", "listen_port": port, "data_dir": data_dir, "platform_url": platform_url,
                 "origin_url": origin_url},
        "logging": {"format": "json"},
    }), encoding="utf-8")
    return path


class NotifySocket:
    """What systemd listens on for sd_notify messages (abstract namespace: no path length limits)."""

    def __init__(self) -> None:
        self.name = f"@kiosk-test-{secrets.token_hex(6)}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name[1:])
        self.messages: list[str] = []

    def wait_for(self, text: str, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in m for m in self.messages):
                return True
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                break
        return any(text in m for m in self.messages)

    def close(self) -> None:
        self.sock.close()


class EdgeProcess:
    def __init__(self, config: Path, log_path: Path, watchdog_usec: int | None = None) -> None:
        self.notify = NotifySocket()
        env = {**os.environ, "NOTIFY_SOCKET": self.notify.name, "PYTHONPATH": str(REPO)}
        if watchdog_usec:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(config), "edge", "serve"],
                                         cwd=REPO, env=env, stdout=log, stderr=log)

    def wait_ready(self, timeout: float = 30.0) -> None:
        if not self.notify.wait_for("READY=1", timeout):
            self.kill()
            raise AssertionError(f"edge did not become ready (exit code {self.proc.poll()})")

    def kill(self) -> None:
        """kill -9: no cleanup of any kind."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.close()

    def terminate(self, timeout: float = 15.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self.notify.wait_for("STOPPING=1", timeout=0.5)  # collect what it said on the way out
        self.close()
        return code

    def close(self) -> None:
        self.notify.close()
