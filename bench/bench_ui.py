"""The kiosk UI: cold start to a painted home screen (beside headless Chromium on the same home page),
tap to next screen painted, and the UI process's memory over 20 resident sessions.

    QT_QPA_PLATFORM=offscreen python -m bench.bench_ui      (from the repo root)

The demo stack (ui.demo.stack.DemoStack: platform, origin and edge processes, card reader and printer
simulators) runs in this process; every measured UI runs in a fresh child process
(`python -m bench.bench_ui --child MODE CONFIG`), so its start-up and memory are its own.

How each number is taken:
- Qt cold start: wall clock from just before the child is spawned to the moment the event loop has
  finished the first paint of the home screen (a Paint event seen on the home screen or a widget in
  it, then control back in our loop, i.e. painted and flushed). A second row waits for the first
  paint of a category tile (the demo service's): the categories come from the edge over HTTP, so
  this is the home screen as a resident uses it (the first paint may show only the built-in tiles).
- Chromium cold start: /usr/bin/chromium --headless spawned on bench/kiosk_page/index.html (the same
  tiles and words, system fonts) with --remote-debugging-pipe; the page's own first-contentful-paint
  (Paint Timing API, performance.timeOrigin + startTime, wall clock) minus the spawn time. Polling it
  over the pipe also gives the time we first saw it, which must be later (checked).
- Tap: QTest.mouseClick on the home tile of a category, until the services screen's paint is done
  (as above); one tap the moment the tiles appear (the start-up work after home still running),
  then p50/p95 over TAPS taps once it is done, Home tapped between them (not measured).
- Memory: VmRSS of the UI child after 1 full session and after SESSIONS (card read from the simulator,
  form on the keypad, photo from the camera image, submit to the edge, receipt printed on the printer
  simulator, finish, the session ended and wiped). No forced garbage collection.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stats import percentile

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "bench" / "kiosk_page" / "index.html"
CHROMIUM = "/usr/bin/chromium"
COLD_RUNS = 5
TAPS = 30
SESSIONS = 20
CHILD_TIMEOUT_S = 120


# --- child side: the measured UI process -------------------------------------------------------------
class _PaintWatch:
    """App-wide event filter: when did the first paint inside a widget (or of some of its children) finish?"""

    def __init__(self) -> None:
        from PySide6.QtCore import QEvent, QObject

        watch = self

        class Filter(QObject):
            def eventFilter(self, obj: Any, event: Any) -> bool:  # noqa: N802 (Qt API)
                if event.type() == QEvent.Paint and watch.target is not None and obj.isWidgetType() \
                        and (obj is watch.target or watch.target.isAncestorOf(obj)):
                    name = obj.objectName()
                    for prefix in watch.pending:
                        if name.startswith(prefix):
                            watch.seen.add(prefix)
                return False

        self.filter = Filter()
        self.target: Any = None
        self.pending: tuple[str, ...] = ()
        self.seen: set[str] = set()

    def arm(self, target: Any, *prefixes: str) -> None:
        """Watch target's paints; "" = any widget in it, "tile_" = only widgets named tile_*."""
        self.target, self.pending, self.seen = target, prefixes or ("",), set()

    def wait(self, timeout_s: float = 30.0) -> dict[str, float]:
        """Run the event loop until each watched paint is done: {prefix: wall-clock time}. A paint is
        done when the event-loop pass that delivered it returns (the frame is painted and flushed)."""
        from PySide6.QtCore import QCoreApplication, QEventLoop

        done: dict[str, float] = {}
        deadline = time.monotonic() + timeout_s
        while len(done) < len(self.pending):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no paint of {sorted(set(self.pending) - set(done))} within {timeout_s} s")
            QCoreApplication.processEvents(QEventLoop.AllEvents | QEventLoop.WaitForMoreEvents)
            now = time.time()
            for prefix in self.seen - set(done):
                done[prefix] = now
        return done


def _window(config: str) -> tuple[Any, Any, _PaintWatch]:
    # the order of the `kiosk ui` entry (kiosk.cli, ui.shell.cli): the config, the window's plain-Python
    # modules, then Qt
    from kiosk import config as config_mod
    from ui.shell.preload import import_before_qt

    import_before_qt()
    from PySide6.QtWidgets import QApplication

    from ui.shell.composition import create_window

    app = QApplication.instance() or QApplication(["kiosk-bench"])
    watch = _PaintWatch()
    app.installEventFilter(watch.filter)
    cfg = config_mod.load(config)
    w = create_window(cfg, clip_dir=Path(tempfile.mkdtemp(prefix="kiosk-bench-clips-")))
    return app, w, watch


def _child_cold(config: str) -> dict:
    from ui.demo.screenshots import SERVICE  # stdlib only: costs the measurement nothing

    app, w, watch = _window(config)
    category_tile = f"tile_{SERVICE[0]}"
    watch.arm(w.screens["home"], "", category_tile)
    w.resize(1920, 1080)
    w.show()
    done = watch.wait()
    w.shutdown()
    return {"home_painted": done[""], "tiles_painted": done[category_tile]}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _session(w: Any) -> None:
    """One resident, start to end: the card is on the reader already (each new flow reads it again)."""
    from functools import partial

    from ui.demo import screenshots
    from ui.demo.screenshots import PHONE, SERVICE, wait_for

    tap = partial(screenshots.tap, w)

    def screen(name: str) -> None:
        wait_for(lambda: w.current_screen().name == name, f"screen {name!r}", 20)

    tap(f"tile_{SERVICE[0]}")
    tap(f"service_{SERVICE[1]}")
    tap("start")
    screen("form")
    tap("next")
    for digit in PHONE:
        tap(f"key_{digit}")
    tap("next")
    tap("choice_bank_card")
    tap("choice_no")
    screen("photo")
    tap("capture")
    screen("confirm")
    flow = w.session.flow
    tap("confirm")
    screen("result")
    wait_for(lambda: flow.receipt_state == "printed", "the receipt", 20)
    tap("finish")
    screen("feedback")
    tap("bar_back")  # no rating: the session ends and is wiped
    screen("home")


def _child_use(config: str) -> dict:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from ui.demo.screenshots import SERVICE, find_button, tap, wait_for

    app, w, watch = _window(config)
    w.resize(1920, 1080)
    w.show()
    tile_name = f"tile_{SERVICE[0]}"
    wait_for(lambda: find_button(w, tile_name), "the home tiles", 30)

    def tap_tile() -> float:
        tile = find_button(w, tile_name)
        watch.arm(w.screens["services"])
        start = time.time()
        QTest.mouseClick(tile, Qt.LeftButton)
        took = watch.wait()[""] - start
        tap(w, "bar_home")
        wait_for(lambda: find_button(w, tile_name), "home again")
        return took

    first = tap_tile()  # the moment the tiles appear: the start-up work after home is still running
    wait_for(lambda: w.started and len(w.screens.built()) == len(w.screens), "the start-up work after home", 30)
    taps = [tap_tile() for _ in range(TAPS)]
    rss = []
    for _ in range(SESSIONS):
        _session(w)
        QTest.qWait(200)  # let the printer and edge workers finish their last callbacks
        rss.append(_rss_mb())
    w.shutdown()
    return {"first_tap_s": first, "taps_s": taps, "rss_mb": rss}


def _child_main(mode: str, config: str) -> int:
    result = _child_cold(config) if mode == "cold" else _child_use(config)
    print("RESULT " + json.dumps(result), flush=True)
    os._exit(0)  # the window is shut down; skip Qt's slow teardown of the rest


# --- parent side ---------------------------------------------------------------------------------------
def _child_env() -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
            "PYTHONUNBUFFERED": "1"}


def _spawn_child(mode: str, config: Path) -> tuple[float, dict]:
    """(wall-clock time just before the spawn, the child's RESULT)."""
    spawned = time.time()
    r = subprocess.run([sys.executable, "-m", "bench.bench_ui", "--child", mode, str(config)], cwd=REPO,
                       env=_child_env(), capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return spawned, json.loads(line[7:])
    raise RuntimeError(f"UI child ({mode}) gave no result (exit {r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-3000:]}")


def _high_fd(fd: int) -> int:
    """Move a pipe end above 4 so dup2 onto 3 and 4 in the child cannot clobber it."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


class _Pipe:
    """Chrome DevTools Protocol over --remote-debugging-pipe: we write fd 3, Chromium writes fd 4."""

    def __init__(self, out_fd: int, in_fd: int) -> None:
        self.out_fd, self.in_fd, self.buf, self.n = out_fd, in_fd, b"", 0

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout_s: float = 20.0) -> dict:
        import select

        self.n += 1
        msg: dict[str, Any] = {"id": self.n, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.out_fd, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout_s
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.n:
                    if "error" in reply:
                        raise RuntimeError(f"CDP {method}: {reply['error']}")
                    return reply["result"]
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.in_fd], [], [], left)[0]:
                raise TimeoutError(f"CDP {method}: no answer within {timeout_s} s")
            chunk = os.read(self.in_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buf += chunk


_PAINT_JS = ("JSON.stringify([performance.timeOrigin, "
             "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime ?? null])")


def chromium_first_paint(url: str) -> float:
    """Seconds from spawning headless Chromium to the page's first contentful paint."""
    to_r, to_w = map(_high_fd, os.pipe())
    from_r, from_w = map(_high_fd, os.pipe())

    def wire_pipe() -> None:  # in the child, before exec
        os.dup2(to_r, 3)
        os.dup2(from_w, 4)

    with tempfile.TemporaryDirectory(prefix="kiosk-bench-chromium-") as profile:
        spawned = time.time()
        proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--window-size=1920,1080", "--remote-debugging-pipe", url],
            preexec_fn=wire_pipe, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        try:
            cdp = _Pipe(to_w, from_r)
            targets = cdp.call("Target.getTargets")["targetInfos"]
            page = next(t for t in targets if t["type"] == "page")
            session = cdp.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
            deadline = time.monotonic() + 30
            while True:
                value = cdp.call("Runtime.evaluate", {"expression": _PAINT_JS, "returnByValue": True},
                                 session)["result"]["value"]
                seen = time.time()
                origin, fcp = json.loads(value)
                if fcp is not None:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError("no first-contentful-paint within 30 s")
                time.sleep(0.005)
            painted = (origin + fcp) / 1000
            if not spawned < painted <= seen + 0.005:
                raise RuntimeError(f"paint timestamp {painted:.3f} outside spawn {spawned:.3f} .. seen {seen:.3f}")
            cdp.call("Browser.close")
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(to_w)
            os.close(from_r)
    return painted - spawned


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _byte_compile() -> None:
    """Compile the project's modules as an installed kiosk has them (pip and dpkg byte-compile on
    install): with PYTHONDONTWRITEBYTECODE set, every child would otherwise compile ~120 of them."""
    import compileall

    for package in ("kiosk", "ui", "devices"):
        compileall.compile_dir(REPO / package, quiet=1)


def run(cold_runs: int = COLD_RUNS) -> list[dict]:
    from devices.sim.camera_media import face_image
    from ui.demo.stack import DemoStack

    _byte_compile()
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-ui-") as tmp:
        stack = DemoStack(Path(tmp) / "demo")
        try:
            stack.prepare()
            face_image(stack.camera_image)
            stack.start()
            stack.reader_sim.insert(0)  # stays on the reader: every new flow reads it again
            home, tiles = [], []
            for _ in range(cold_runs):
                spawned, r = _spawn_child("cold", stack.config_path)
                home.append(r["home_painted"] - spawned)
                tiles.append(r["tiles_painted"] - spawned)
            browser = [chromium_first_paint(PAGE.as_uri()) for _ in range(cold_runs)]
            _, use = _spawn_child("use", stack.config_path)
        finally:
            stack.stop()

    taps, rss = use["taps_s"], use["rss_mb"]  # rss[i]: after session i + 1
    late = 5  # the last few sessions: past the warm-up (caches filling) of the first ~15
    late_kb = (rss[-1] - rss[-1 - late]) / late * 1024
    spread = "min {:.0f} / max {:.0f} ms".format
    return [
        {"name": "cold start to home painted (Qt), median", "value": _ms(statistics.median(home)), "unit": "ms",
         "note": f"{cold_runs} fresh processes, modules byte-compiled, spawn -> first home paint done; {spread(min(home) * 1e3, max(home) * 1e3)}"},
        {"name": "cold start to home tiles painted (Qt), median", "value": _ms(statistics.median(tiles)),
         "unit": "ms", "note": f"a category tile: services fetched from the edge over HTTP; {spread(min(tiles) * 1e3, max(tiles) * 1e3)}"},
        {"name": "cold start to first contentful paint (Chromium), median", "value": _ms(statistics.median(browser)),
         "unit": "ms", "note": f"headless, same tiles as a static page (file://), FCP via Paint Timing over "
                               f"--remote-debugging-pipe; {spread(min(browser) * 1e3, max(browser) * 1e3)}"},
        {"name": "first tap, as the tiles appear", "value": _ms(use["first_tap_s"]), "unit": "ms",
         "note": "home tile -> services painted while the start-up work after home (other screens, "
                 "maintenance, fleet, voice) still runs"},
        {"name": "tap to next screen painted, p50", "value": _ms(percentile(taps, 0.5)), "unit": "ms",
         "note": f"{len(taps)} taps on a home tile -> services screen painted (QTest.mouseClick), start-up done"},
        {"name": "tap to next screen painted, p95", "value": _ms(percentile(taps, 0.95)), "unit": "ms",
         "note": f"max {_ms(max(taps))} ms"},
        {"name": "UI RSS after 1 session", "value": round(rss[0], 1), "unit": "MB",
         "note": "card, form, photo, submit, receipt printed, session ended and wiped"},
        {"name": f"UI RSS after {SESSIONS} sessions", "value": round(rss[-1], 1), "unit": "MB",
         "note": "after " + ", ".join(f"{n}: {rss[n - 1]:.1f}" for n in (5, 10, 15) if n < SESSIONS) + " MB"},
        {"name": f"UI RSS growth, 1 -> {SESSIONS} sessions", "value": round(rss[-1] - rss[0], 1), "unit": "MB",
         "note": f"{late_kb:.0f} KB per session over the last {late}; no forced GC"},
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_ui")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "CONFIG"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child_main(*args.child)
    from bench.__main__ import show

    show("ui", run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
