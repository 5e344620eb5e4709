"""`kiosk demo` (what `make demo` runs): the whole appliance on simulated devices.

The demo stack (ui.demo.stack) comes up, then the kiosk window opens with a small control panel
(ui.demo.panel: insert a card, take the paper out, show a QR code, cut the WAN). With no display it
runs headless: the walk-through (ui.demo.walkthrough), then a status line every few seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from kiosk.lifecycle import stop_on_signals
from ui.demo import walkthrough
from ui.demo.stack import DEMO_PIN, REPO, DemoStack, say, status_line


def run_demo(args: argparse.Namespace) -> int:
    """SIGTERM, SIGHUP and Ctrl-C all end the demo the same way: every process it started is stopped."""
    workdir = Path(args.workdir).resolve()
    stack = DemoStack(workdir)
    with stop_on_signals():
        return _run_stack(stack, workdir, args)


def _run_stack(stack: DemoStack, workdir: Path, args: argparse.Namespace) -> int:
    from kiosk import config as config_mod

    try:
        stack.prepare()
        stack.start()
        cfg = config_mod.load(stack.config_path)
        headless = args.headless or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                                         or os.environ.get("QT_QPA_PLATFORM"))
        say(f"config {stack.config_path}; logs in {workdir}; maintenance PIN {DEMO_PIN} "
             "(long-press the top-left corner for 3 s)")
        if headless:
            say("no display found: running headless (set DISPLAY, or QT_QPA_PLATFORM=offscreen, for the window)")
            walkthrough.run(stack, cfg)
            deadline = None if args.duration is None else time.monotonic() + args.duration
            while deadline is None or time.monotonic() < deadline:
                say(status_line(stack))
                time.sleep(min(5.0, max(0.0, deadline - time.monotonic())) if deadline else 5.0)
            return 0
        from ui.demo.panel import run_window

        return run_window(stack, cfg, windowed=args.windowed, duration=args.duration)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as e:
        print(f"kiosk demo: {e}", file=sys.stderr)
        return 1
    finally:
        with contextlib.suppress(Exception):
            stack.stop()
        say("stopped")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the whole appliance on simulated devices (make demo)")
    p.add_argument("--workdir", default=str(REPO / "var" / "demo"), help="where the demo keeps its state")
    p.add_argument("--headless", action="store_true", help="no window even when a display exists")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    p.set_defaults(func=run_demo)
