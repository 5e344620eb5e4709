"""The kiosk UI's end of the fleet-command relay: a worker thread long-polls the edge for the fleet
agent's requests (self_test, screenshot) and answers each one.

What touches widgets or the session runs on the GUI thread (a queued signal; the worker waits for it
with a bound); device checks run on the worker thread, where blocking is fine. The worker never
raises: an edge that is down is retried with backoff, a request it cannot handle is answered failed
or rejected, and every answer is best effort (the agent times out on its own).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from kiosk import fleet_wire
from kiosk.edge_client import EdgeError
from ui.fleet import screenshot, self_test

log = logging.getLogger(__name__)

Outcome = tuple[str, str, dict[str, Any]]
GUI_TIMEOUT_S = 10.0  # a GUI thread that does not get to our call within this is itself a finding


class _GuiCall:
    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn, self.value, self.error = fn, None, None
        self.done = threading.Event()


class FleetCommands(QObject):
    _to_gui = Signal(object)  # a _GuiCall, run on the GUI thread

    def __init__(self, window: Any, client: Any, *, wait_s: float = 25.0, retry_min_s: float = 1.0,
                 retry_max_s: float = 30.0) -> None:
        super().__init__(window)
        self.window, self.client = window, client
        self.wait_s, self.retry_min_s, self.retry_max_s = wait_s, retry_min_s, retry_max_s
        self.handled = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._to_gui.connect(self._run_on_gui)

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> FleetCommands:
        self._thread = threading.Thread(target=self._loop, name="fleet-commands", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop polling; a long poll in flight is not waited for (its thread is a daemon)."""
        self._stop.set()

    # --- the loop --------------------------------------------------------------------------------
    def _loop(self) -> None:
        delay = self.retry_min_s
        while not self._stop.is_set():
            try:
                req = self.client.kiosk_command(self.wait_s)
            except EdgeError as e:
                log.info("fleet commands: edge not answering", extra={"error": type(e).__name__,
                                                                      "retry_in_s": delay})
                self._stop.wait(delay)
                delay = min(self.retry_max_s, delay * 2)
                continue
            except Exception:  # never let the thread die
                log.exception("fleet commands: poll failed")
                self._stop.wait(delay)
                continue
            delay = self.retry_min_s
            if req is None or self._stop.is_set():
                continue
            outcome = self.handle(req)
            try:
                self.client.kiosk_command_result(req["id"], *outcome)
            except EdgeError as e:  # timed out on the edge meanwhile, or the edge went away
                log.warning("fleet command answer not delivered", extra={"kind": str(req.get("kind"))[:40],
                                                                         "error": type(e).__name__})
            self.handled += 1

    def handle(self, req: dict[str, Any]) -> Outcome:
        kind, args = req.get("kind"), req.get("args")
        args = args if isinstance(args, dict) else {}
        log.info("fleet command", extra={"kind": str(kind)[:40]})
        try:
            if kind == fleet_wire.CMD_SCREENSHOT:
                return self.on_gui(lambda: screenshot.take(self.window))
            if kind == fleet_wire.CMD_SELF_TEST:
                return self._self_test(args)
        except TimeoutError:
            return "failed", "the kiosk screen did not respond in time", {}
        except Exception as e:
            log.exception("fleet command failed", extra={"kind": str(kind)[:40]})
            return "failed", f"{type(e).__name__}: {str(e)[:200]}", {}
        return "rejected", f"the kiosk UI does not know {str(kind)[:40]!r}", {}

    def _self_test(self, args: dict[str, Any]) -> Outcome:
        from ui.maintenance import wiring

        def gui_side() -> tuple[bool, str, Any]:
            w = self.window
            passive = screenshot.refusal(w) is not None  # someone is using the kiosk
            print_test = wiring.make_services(w).self_test_print if args.get("print") is True else None
            return passive, w.speaker.text(self_test.PROMPT_ID, "zh"), print_test

        passive, text, print_test = self.on_gui(gui_side)
        checks = self_test.run(self.window, args, passive, text, print_test)
        bad = sorted(n for n, c in checks.items() if c["level"] == "fault")
        message = f"{len(bad)} of {len(checks)} device checks failed: {', '.join(bad)}" if bad \
            else f"all {len(checks)} device checks passed"
        return "done", message, {"checks": checks, "passive": passive}

    # --- the GUI thread --------------------------------------------------------------------------
    def on_gui(self, fn: Callable[[], Any], timeout_s: float = GUI_TIMEOUT_S) -> Any:
        call = _GuiCall(fn)
        with contextlib.suppress(RuntimeError):  # the window is gone: then the wait below times out
            self._to_gui.emit(call)
        if not call.done.wait(timeout_s):
            raise TimeoutError("the GUI thread did not run the call")
        if call.error is not None:
            raise call.error
        return call.value

    def _run_on_gui(self, call: _GuiCall) -> None:
        try:
            call.value = call.fn()
        except Exception as e:  # handed back to the worker, which answers failed
            call.error = e
        finally:
            call.done.set()
