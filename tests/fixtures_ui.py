"""Fixtures for the flow engine and the kiosk UI: the demo pack in a real edge, a real platform, real
device simulators (card reader and printer on ptys), camera input from generated image files."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk.netutil import free_port
from ui.demo.config import config_toml, device_tables

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "content" / "demo"


def demo_files() -> dict[str, bytes]:
    return {p.relative_to(DEMO).as_posix(): p.read_bytes() for p in sorted(DEMO.rglob("*")) if p.is_file()}


def install_demo(store) -> None:
    """The demo pack, active in a real ContentStore (or its directory), the way a sync leaves it."""
    from edge.store import ContentStore
    from tests.fixtures_edge import install_pack

    install_pack(store if isinstance(store, ContentStore) else ContentStore(store), demo_files(), 1)


def read_sample_card(index: int = 0):
    """A CardRecord read by the real driver from the simulator over a pty."""
    from devices.idcard.reader import CardReader
    from devices.sim.card_reader import CardReaderSim

    sim = CardReaderSim().start()
    try:
        sim.insert(index)
        reader = CardReader(sim.path)
        try:
            return reader.read_card()
        finally:
            reader.close()
    finally:
        sim.stop()


@pytest.fixture(scope="session")
def card_record():
    return read_sample_card(0)


@pytest.fixture
def demo_edge(platform_factory, tmp_path: Path):
    """An in-process edge (API + outbox + forwarder) serving the demo pack, with a running platform."""
    from tests.fixtures_edge import Edge

    platform = platform_factory()
    edge = Edge(tmp_path / "edge", platform.url, with_pack=False)
    install_demo(edge.store)
    edge.platform = platform
    yield edge
    edge.close()


def platform_search(platform_url: str, id_number: str) -> list[dict]:
    import json
    import urllib.request

    from kiosk import wire

    req = urllib.request.Request(platform_url + wire.PLATFORM_SEARCH, data=json.dumps({"id_number": id_number}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())["applications"]


# --- subprocesses: the edge daemon and the reference platform, as in production ---------------------
def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port}")


class Service:
    """`python -m kiosk ...` as a child process on a fixed port; stop() and start() again."""

    def __init__(self, args: list[str], port: int, log: Path) -> None:
        self.args, self.port, self.log = args, port, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Service:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "kiosk", *self.args], cwd=ROOT, env=env,
                                         stdout=out, stderr=subprocess.STDOUT)
        _wait_port(self.port, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


class Stack:
    """Platform + edge (subprocesses) + card reader and printer simulators + a camera image path."""

    def __init__(self, root: Path) -> None:
        from devices.sim.card_reader import CardReaderSim
        from devices.sim.printer import PrinterSim

        self.root = root
        self.platform_port, self.edge_port = free_port(), free_port()
        self.platform_url = f"http://127.0.0.1:{self.platform_port}"
        self.edge_url = f"http://127.0.0.1:{self.edge_port}"
        self.data_dir = root / "edge"
        install_demo(self.data_dir / "content")
        self.card_sim = CardReaderSim(link_dir=root).start()
        self.printer_sim = PrinterSim(link_dir=root).start()
        self.camera_source = root / "camera.png"
        self.played = root / "played.txt"
        self.player = root / "player.sh"
        # The "player" records the WAV it was handed: this machine has no sound card.
        self.player.write_text(f'#!/bin/sh\nfor last; do :; done\necho "$last" >> "{self.played}"\n')
        self.player.chmod(0o755)
        self.config = root / "kiosk.toml"
        self.config.write_text(self.config_text())
        self.platform = Service(["platform", "serve", "--port", str(self.platform_port),
                                 "--db", str(root / "platform.sqlite3")], self.platform_port, root / "platform.log")
        self.edge = Service(["--config", str(self.config), "--log-format", "text", "edge", "serve"],
                            self.edge_port, root / "edge.log")

    def config_text(self, lang: str = "bo", camera: Path | None = None, pin_hash: str = "") -> str:
        devices = device_tables(self.card_sim.path, self.printer_sim.path, camera or self.camera_source,
                                self.root / "tts", str(self.player))
        devices["devices.card_reader"]["poll_interval_s"] = 0.1
        return config_toml({
            "maintenance": {"pin_hash": pin_hash},
            "kiosk": {"id": "test-kiosk", "default_language": lang, "idle_timeout_s": 30, "idle_warning_s": 20},
            **devices,
            # One module's UI tests are many residents within a minute from one kiosk: the per-kiosk lookup
            # limit (tested in test_api_lookups and test_flow_engine) would otherwise decide their order.
            "edge": {"listen_port": self.edge_port, "url": self.edge_url, "data_dir": self.data_dir,
                     "platform_url": self.platform_url, "lookup_rate_per_min": 600},
        })

    def cfg(self, lang: str = "bo", camera: Path | None = None, pin_hash: str = ""):
        from kiosk.config import parse

        return parse(self.config_text(lang, camera, pin_hash))

    def applications(self, id_number: str) -> list[dict]:
        return platform_search(self.platform_url, id_number)

    def close(self) -> None:
        self.edge.stop()
        self.platform.stop()
        self.card_sim.stop()
        self.printer_sim.stop()


@pytest.fixture(scope="module")
def ui_stack(tmp_path_factory) -> Iterator[Stack]:
    stack = Stack(tmp_path_factory.mktemp("ui"))
    try:
        stack.platform.start()
        stack.edge.start()
        yield stack
    finally:
        stack.close()


def wait_until(qtbot, predicate: Callable[[], object], timeout_ms: int = 10_000) -> None:
    qtbot.waitUntil(lambda: bool(predicate()), timeout=timeout_ms)


# --- an in-process edge whose answers a test can lose, hold back or hang -------------------------
class TroubleEdge:
    """The real edge (API, outbox, forwarder, demo pack) behind a middleware that can misbehave:

    lose_submit   POST /submissions is stored, then answered 503 (the answer is lost)
    hold_submit   POST /submissions is stored, then its answer waits until `release()`
    hang_health   POST /health never answers until `release()` (counts requests and how many at once)
    fail_shown    POST /submissions/{tn}/shown answers 503
    """

    def __init__(self, root: Path, platform_url: str) -> None:
        import asyncio
        import threading

        from aiohttp import web

        from edge.api import make_app
        from kiosk.config import Config
        from tests.fixtures_edge import Edge, ServerThread

        self.platform_url = platform_url
        self.edge = Edge(root, platform_url, with_pack=False)
        install_demo(self.edge.store)
        self.edge.server.stop()
        self.lose_submit = self.hold_submit = self.hang_health = self.fail_shown = False
        self.released = threading.Event()
        self.submit_arrived = threading.Event()
        self.health_seen = self.health_now = self.health_max = 0
        self.shown_failed = 0

        @web.middleware
        async def trouble(request: web.Request, handler):
            path, post = request.path, request.method == "POST"
            if post and path == "/api/v1/health" and self.hang_health:
                self.health_seen += 1
                self.health_now += 1
                self.health_max = max(self.health_max, self.health_now)
                try:
                    await asyncio.to_thread(self.released.wait, 60)
                finally:
                    self.health_now -= 1
            if post and path.endswith("/shown") and self.fail_shown:
                self.shown_failed += 1
                return web.json_response({"error": {"code": "unavailable", "message": "test"}}, status=503)
            response = await handler(request)
            if post and path == "/api/v1/submissions":
                self.submit_arrived.set()
                if self.hold_submit:
                    await asyncio.to_thread(self.released.wait, 60)
                if self.lose_submit:
                    return web.json_response({"error": {"code": "unavailable", "message": "lost"}}, status=503)
            return response

        def app() -> web.Application:
            a = make_app(self.edge.store, self.edge.outbox, self.edge.forwarder, Config())
            a.middlewares.insert(0, trouble)
            return a

        self.server = ServerThread(app).start()
        self.url = self.server.url

    def release(self) -> None:
        self.released.set()

    def unconfirmed(self) -> list[str]:
        """Tracking numbers whose receipt nobody saw, however recent."""
        return [a["tracking_number"] for a in self.edge.outbox.unconfirmed(min_age_s=0)]

    def close(self) -> None:
        self.release()
        self.server.stop()
        self.edge.close()


@pytest.fixture
def trouble_edge(platform_factory, tmp_path: Path) -> Iterator[TroubleEdge]:
    edge = TroubleEdge(tmp_path / "trouble-edge", platform_factory().url)
    yield edge
    edge.close()


class FakeClock:
    """Stands in for time.monotonic so the idle timeout is tested without waiting for it."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def kiosk(qtbot, ui_stack, tmp_path, monkeypatch):
    """kiosk(lang, camera=None, clock=None, edge_url=None, pin_hash="") -> a shown 1920x1080 window with content
    loaded (edge_url: another edge than the stack's daemon)."""
    import ui.screens.feedback as feedback
    from kiosk.session import Session
    from ui.shell.composition import create_window

    monkeypatch.setattr(feedback, "THANKS_MS", 200)
    windows = []

    def make(lang: str = "bo", camera=None, clock=None, edge_url: str | None = None, pin_hash: str = ""):
        cfg = ui_stack.cfg(lang, camera=camera, pin_hash=pin_hash)
        session = Session.from_config(cfg, clock=clock) if clock else None
        w = create_window(cfg, edge_url=edge_url, clip_dir=tmp_path / f"clips{len(windows)}", session=session)
        windows.append(w)
        w.resize(1920, 1080)
        w.show()
        qtbot.waitExposed(w)
        wait_until(qtbot, lambda: w.content.loaded and w.started)  # started: maintenance, watchdog, all screens
        w.go("home")
        return w

    yield make
    for w in windows:
        w.shutdown()
        w.close()
    ui_stack.card_sim.remove()
    ui_stack.printer_sim.paper = "ok"


def click(qtbot, window, name: str) -> None:
    from PySide6.QtCore import Qt

    from ui.widgets.buttons import BigButton

    qtbot.wait(1)  # widgets added to a shown layout appear on the next event-loop turn
    buttons = [b for b in window.findChildren(BigButton, name) if b.isVisible()]
    assert buttons, f"no visible button {name!r} on screen {window.current_screen().name}"
    qtbot.mouseClick(buttons[0], Qt.LeftButton)


def to_confirm(qtbot, w, stack, card: int = 0) -> None:
    """Old-age allowance up to the confirm screen: card, phone, payout account, no photo."""
    w.start_service(w.content.service("old-age-allowance"))
    stack.card_sim.insert(card)
    wait_until(qtbot, lambda: w.current_screen().name == "form")
    click(qtbot, w, "next")  # the card page: read-only
    for d in "13800138000":
        click(qtbot, w, f"key_{d}")
    click(qtbot, w, "next")
    click(qtbot, w, "choice_bank_card")
    click(qtbot, w, "choice_no")
    click(qtbot, w, "skip_photo")
    wait_until(qtbot, lambda: w.current_screen().name == "confirm")
