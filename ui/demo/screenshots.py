"""`make screenshots` (`python -m ui.demo.screenshots docs/screenshots`): every kiosk screen, in Tibetan and Chinese.

It brings up the real demo stack (ui.demo.stack.DemoStack: card reader and printer simulators on ptys, a
signed demo pack, the reference platform, origin and edge as processes), creates the real window at
1920x1080 on the Qt offscreen platform and walks it the way a resident would: taps buttons with QTest,
puts the card on the card-reader simulator, holds a generated face in front of the camera (an image
file), takes the paper out of the printer simulator. Each screen is saved as `<lang>-<nn>-<screen>.png`
(window.grab()) and the folder gets a README.md listing them.

Waits are bounded: a screen that never arrives raises ScreenshotError naming it, nothing hangs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SIZE = (1920, 1080)
LANGS = ("bo", "zh")
SERVICE = ("civil_affairs", "old-age-allowance")  # the demo pack's service with a photo step
PHONE = "13800138000"

# (screen, what it shows) in walk order; the file number is the position here.
SHOTS: tuple[tuple[str, str], ...] = (
    ("home", "home: one big tile per service category, progress lookup, blank forms"),
    ("services", "the services of a category (civil affairs)"),
    ("guide", "a service's guide: documents needed, steps; hear it, print it, start"),
    ("identify", "identify: waiting for the ID card (animated card onto the reader)"),
    ("form-card", "form, first page: what the card filled in, read-only, ID number masked"),
    ("form-phone", "form: phone number on the big keypad"),
    ("form-choice", "form: a choice question, one tap answers it"),
    ("photo", "photo: live camera preview of a face, guidance says it is good"),
    ("confirm", "confirm: the summary read back before submitting"),
    ("submitting", "submitting to the edge"),
    ("result", "submitted: tracking number, receipt printed"),
    ("feedback", "feedback: five faces and reasons"),
    ("paper-out", "a second application with the printer out of paper: the receipt job is kept"),
    ("lookup", "progress lookup by ID card: the resident's applications and their steps"),
    ("print-form", "blank form printing: a form printed"),
    ("documents", "print my certificate: the card holder's issued documents (an approved application)"),
    ("a4-page", "the A4 document as printed (the PDF the A4 printer received, rendered with pdftoppm)"),
    ("idle-warning", "idle warning overlay with the one big 'I need more time' button"),
    ("elder-home", "elder mode (larger text) home"),
    ("maintenance-pin", "maintenance: the PIN keypad over the kiosk (after the corner long-press)"),
    ("maintenance", "maintenance screen: devices, edge state, how each language's prompts are heard, self-tests run"),
)
SHOT_NAMES = tuple(name for name, _ in SHOTS)


class ScreenshotError(RuntimeError):
    """The walk could not reach a screen (the message names it)."""


def shot_path(out_dir: Path, lang: str, name: str) -> Path:
    return out_dir / f"{lang}-{SHOT_NAMES.index(name) + 1:02d}-{name}.png"


class OffsetClock:
    """time.monotonic plus a jump: shows the idle warning without waiting 90 s."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def wait_for(predicate: Callable[[], object], what: str, timeout_s: float = 15.0) -> None:
    """Run the Qt event loop until predicate() holds; ScreenshotError after timeout_s."""
    from PySide6.QtTest import QTest

    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise ScreenshotError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        QTest.qWait(20)


def settle(ms: int = 60) -> None:
    """Let freshly built widgets lay out and paint (they appear on the next event-loop turn)."""
    from PySide6.QtTest import QTest

    QTest.qWait(ms)


def find_button(root: Any, name: str) -> Any:
    """The visible, enabled BigButton with this object name under root, or None."""
    from ui.widgets.buttons import BigButton

    return next((b for b in root.findChildren(BigButton, name) if b.isVisible() and b.isEnabled()), None)


def click(widget: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.mouseClick(widget, Qt.LeftButton)


def tap(window: Any, name: str, timeout_s: float = 10.0) -> None:
    """Tap a button of the kiosk window once it is there (new rows show on the next event-loop turn)."""
    wait_for(lambda: find_button(window, name),
             f"button {name!r} on the {getattr(window.current_screen(), 'name', '?')!r} screen", timeout_s)
    click(find_button(window, name))


class Walk:
    """One window in one language, walked through every screen; shot() saves the window as it is."""

    def __init__(self, stack: Any, cfg: Any, lang: str, out_dir: Path, workdir: Path) -> None:
        from kiosk.session import Session
        from ui.shell.composition import create_window

        self.stack, self.lang, self.out_dir, self.workdir = stack, lang, out_dir, workdir
        self.cfg = cfg.model_copy(update={"kiosk": cfg.kiosk.model_copy(update={"default_language": lang})})
        self.clock = OffsetClock()
        self.w = create_window(self.cfg, clip_dir=workdir / f"clips-{lang}",
                               session=Session.from_config(self.cfg, clock=self.clock))
        self.w.resize(*SIZE)
        self.w.show()
        self.saved: list[Path] = []
        self.tracking: str | None = None  # the walk's first application, approved for the documents screen

    # --- helpers ---------------------------------------------------------------------------------
    def on(self, name: str) -> bool:
        return self.w.current_screen().name == name

    def wait_screen(self, name: str, timeout_s: float = 15.0) -> None:
        wait_for(lambda: self.on(name), f"the {name!r} screen ({self.lang})", timeout_s)

    def tap(self, name: str) -> None:
        tap(self.w, name)

    def save(self, name: str, image: Any) -> Path:
        path = shot_path(self.out_dir, self.lang, name)
        if (image.width(), image.height()) != SIZE:
            raise ScreenshotError(f"{path.name}: grabbed {image.width()}x{image.height()}, not {SIZE}")
        if not image.save(str(path)):
            raise ScreenshotError(f"could not write {path}")
        self.saved.append(path)
        log.info("screenshot", extra={"file": path.name})
        return path

    def shot(self, name: str) -> Path:
        settle()
        return self.save(name, self.w.grab().toImage())

    # --- the walk --------------------------------------------------------------------------------
    def run(self) -> list[Path]:
        wait_for(lambda: self.w.content.loaded, "the content pack from the edge", 30)
        self.w.go("home")
        self.shot("home")
        self.application()
        self.paper_out()
        self.lookup()
        self.print_form()
        if self.stack.a4_sim is not None:
            self.documents()
        self.idle_warning()
        self.elder_home()
        self.maintenance()
        return self.saved

    def start_service(self) -> None:
        category, service = SERVICE
        self.tap(f"tile_{category}")
        self.wait_screen("services")

    def open_guide_and_start(self, shots: bool) -> None:
        self.tap(f"service_{SERVICE[1]}")
        self.wait_screen("detail")
        if shots:
            self.shot("guide")
        self.tap("start")
        self.wait_screen("identify")
        if shots:
            self.shot("identify")
        self.stack.reader_sim.insert(0)  # the resident puts the card on the reader
        self.wait_screen("form")

    def fill_form(self, shots: bool) -> None:
        if shots:
            self.shot("form-card")
        self.tap("next")
        for digit in PHONE:
            self.tap(f"key_{digit}")
        if shots:
            self.shot("form-phone")
        self.tap("next")
        if shots:
            self.shot("form-choice")
        self.tap("choice_bank_card")
        self.tap("choice_no")
        self.wait_screen("photo")

    def application(self) -> None:
        self.start_service()
        self.shot("services")
        self.open_guide_and_start(shots=True)
        self.fill_form(shots=True)
        photo = self.w.screens["photo"]
        wait_for(lambda: photo.hint == "ok" and photo.preview.pixmap() is not None
                 and not photo.preview.pixmap().isNull(), "the camera to see a well-placed face")
        self.shot("photo")
        self.tap("capture")
        self.wait_screen("confirm")
        self.shot("confirm")
        flow = self.w.session.flow
        self.tap("confirm")
        # The edge's answer comes back as a queued signal: the event loop has not run it yet.
        if not self.on("submitting"):
            raise ScreenshotError(f"confirm led to {self.w.current_screen().name!r}, not 'submitting'")
        self.save("submitting", self.w.grab().toImage())
        self.wait_screen("result")
        wait_for(lambda: flow.receipt_state == "printed", "the receipt to print")
        self.tracking = flow.tracking_number  # approved later for the documents screen
        self.shot("result")
        self.tap("finish")
        self.wait_screen("feedback")
        self.tap("rating_5")
        self.tap("reason_helpful")
        self.shot("feedback")
        self.tap("send_feedback")
        self.wait_screen("home", 10)  # thanks, then the session ends and wipes

    def paper_out(self) -> None:
        self.start_service()
        self.open_guide_and_start(shots=False)
        self.fill_form(shots=False)
        self.tap("skip_photo")
        self.wait_screen("confirm")
        sim = self.stack.printer_sim
        sim.paper = "out"
        flow = self.w.session.flow
        try:
            self.tap("confirm")
            self.wait_screen("result")
            wait_for(lambda: flow.receipt_state == "failed", "the printer to report paper out")
            self.shot("paper-out")
        finally:
            sim.paper = "ok"
        self.w.bridge.printer.retry_pending()  # paper back in: the kept receipt comes out
        self.tap("finish")
        self.end_at_feedback()

    def end_at_feedback(self) -> None:
        """A resident who does not rate: Back on the feedback screen ends the session."""
        self.wait_screen("feedback")
        self.tap("bar_back")
        self.wait_screen("home")

    def lookup(self) -> None:
        self.tap("tile_lookup")
        self.wait_screen("identify")
        self.stack.reader_sim.insert(0)
        self.wait_screen("lookup")
        wait_for(lambda: self.w.session.flow is not None and self.w.session.flow.lookup_result is not None,
                 "the progress lookup result")
        self.shot("lookup")
        self.tap("finish")
        self.end_at_feedback()

    def print_form(self) -> None:
        from ui.widgets.buttons import BigButton

        self.tap("tile_print_form")
        self.wait_screen("print_form")
        settle(5)
        forms = [b for b in self.w.findChildren(BigButton) if b.objectName().startswith("form_") and b.isVisible()]
        if not forms:
            raise ScreenshotError("the print-form screen lists no forms")
        printed = self._pages()
        before = printed()
        click(forms[0])
        wait_for(lambda: printed() > before, "the blank form to print", 30)
        from kiosk import i18n

        banner = self.w.current_screen().banner
        wait_for(lambda: banner.isVisible() and banner.text.text() == i18n.tr("printed", self.lang),
                 "the 'printed' message")
        self.shot("print-form")
        self.tap("bar_home")
        self.wait_screen("home")

    def _pages(self) -> Callable[[], int]:
        """How many pages the printer that takes guides and forms has printed (A4 when there is one)."""
        a4 = self.stack.a4_sim
        return (lambda: len(a4.printed())) if a4 is not None else (lambda: len(self.stack.printer_sim.pages))

    def documents(self) -> None:
        """The walk's application approved on the platform, its documents listed by the card, one printed."""
        import subprocess
        import urllib.request

        from kiosk import wire

        url = self.cfg.edge.platform_url + wire.PLATFORM_SET_STATUS.format(tracking_number=self.tracking)

        def approved() -> bool:  # the edge's outbox may still be forwarding it
            req = urllib.request.Request(url, data=json.dumps({"status": wire.STATUS_APPROVED}).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_for(approved, "the platform to approve the walk's application", 30)
        self.tap("tile_documents")
        self.wait_screen("identify")
        self.stack.reader_sim.insert(0)
        self.wait_screen("documents")
        screen = self.w.current_screen()
        wait_for(lambda: screen.body.rows, "the resident's documents")
        self.shot("documents")
        before = set(self.stack.a4_sim.printed())
        first = next(r for r in screen.body.rows if r.isEnabled())
        click(first)
        wait_for(lambda: set(self.stack.a4_sim.printed()) - before and not screen.printing, "the A4 document", 60)
        (pdf,) = set(self.stack.a4_sim.printed()) - before
        page = shot_path(self.out_dir, self.lang, "a4-page")
        subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(pdf), str(page.with_suffix(""))],
                       check=True, timeout=60)
        self.saved.append(page)
        self.tap("finish")
        self.end_at_feedback()

    def idle_warning(self) -> None:
        self.start_service()
        self.clock.offset += self.cfg.kiosk.idle_timeout_s + 1  # the resident walked away
        self.w.tick()
        wait_for(self.w.overlay.isVisible, "the idle warning")
        self.shot("idle-warning")
        self.tap("need_more_time")
        wait_for(lambda: not self.w.overlay.isVisible(), "the overlay to close")
        self.tap("bar_home")
        self.wait_screen("home")

    def elder_home(self) -> None:
        self.tap("bar_text_size")
        wait_for(lambda: self.w.session.elder_mode, "elder mode")
        self.shot("elder-home")
        self.tap("bar_text_size")
        wait_for(lambda: not self.w.session.elder_mode, "normal text again")

    def maintenance(self) -> None:
        """The maintenance launcher the window installed (ui.maintenance.wiring): its services are the
        window's own devices and edge, the PIN the demo config's."""
        from PySide6.QtGui import QPainter

        from ui.demo.stack import DEMO_PIN

        launcher = self.w.maintenance
        if launcher is None:
            raise ScreenshotError("the demo config sets no maintenance PIN: no maintenance screen")
        launcher.request()  # what the 3 s long-press on the top-left corner does
        wait_for(lambda: launcher.dialog is not None and launcher.dialog.isVisible(), "the PIN dialog")
        dialog = launcher.dialog
        for digit in DEMO_PIN:
            click(dialog.keys[digit])
        settle()
        # The dialog is a window of its own: paint it where it opens, centred over the kiosk.
        image = self.w.grab().toImage()
        over = dialog.grab().toImage()
        painter = QPainter(image)
        painter.drawImage((SIZE[0] - over.width()) // 2, (SIZE[1] - over.height()) // 2, over)
        painter.end()
        self.save("maintenance-pin", image)
        click(dialog.keys["✔"])
        wait_for(lambda: launcher.screen is not None, "the PIN check to open the maintenance screen", 30)
        screen = launcher.screen
        screen.resize(*SIZE)
        try:
            self.stack.reader_sim.insert(0)
            screen.run_test("card")
            screen.run_test("print")
            screen.test_buttons["camera"].setChecked(True)
            wait_for(lambda: all(b.isEnabled() for k, b in screen.test_buttons.items() if k != "camera")
                     and screen.preview_image is not None and screen.version_value.text(),
                     "the maintenance self-tests", 30)
            settle(200)
            self.save("maintenance", screen.grab().toImage())
        finally:
            screen.close_screen("button")
            wait_for(lambda: launcher.screen is None, "the maintenance screen to close")

    def close(self) -> None:
        self.w.shutdown()
        self.w.close()
        self.stack.reader_sim.remove()


@contextmanager
def demo_stack(workdir: Path) -> Iterator[Any]:
    """The demo stack, up, with a face in front of the camera; stopped on the way out."""
    from devices.sim.camera_media import face_image
    from ui.demo.stack import DemoStack

    stack = DemoStack(workdir)
    try:
        stack.prepare()
        face_image(stack.camera_image)
        stack.start()
        yield stack
    finally:
        stack.stop()


def take_screenshots(out_dir: Path, langs: Sequence[str] = LANGS, workdir: Path | None = None) -> list[Path]:
    """Walk every screen in each language; returns the PNGs written into out_dir (README.md beside)."""
    from PySide6.QtWidgets import QApplication

    from kiosk import config as config_mod

    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["kiosk-screenshots"])
    saved: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="kiosk-shots-") as tmp:
        root = Path(workdir or tmp)
        with demo_stack(root / "demo") as stack:
            cfg = config_mod.load(stack.config_path)
            for lang in langs:
                walk = Walk(stack, cfg, lang, out_dir, root)
                try:
                    saved += walk.run()
                finally:
                    walk.close()
                    app.processEvents()
    write_readme(out_dir, langs)
    return saved


def write_readme(out_dir: Path, langs: Sequence[str]) -> Path:
    names = {"bo": "Tibetan", "zh": "Chinese"}
    lines = ["# Kiosk screenshots", "",
             "Generated by `make screenshots` (`python -m ui.demo.screenshots docs/screenshots`, Qt offscreen platform,",
             "1920x1080): the real window on the demo stack (card reader and printer simulators, signed demo pack,",
             "platform, origin and edge processes), walked by tapping buttons and using the simulators.", ""]
    for lang in langs:
        lines += [f"## {names.get(lang, lang)} (`{lang}`)", "", "| file | screen |", "|---|---|"]
        for name, what in SHOTS:
            file = shot_path(out_dir, lang, name).name
            lines.append(f"| [{file}]({file}) | {what} |")
        lines.append("")
    path = out_dir / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@contextmanager
def kiosk_screen() -> Iterator[None]:
    """The offscreen platform with a 1920x1080 screen, like the kiosk's (its default is 800x800, which
    would bound dialogs to a screen smaller than the window). Leaves any other platform alone."""
    if os.environ.get("QT_QPA_PLATFORM", "offscreen") != "offscreen":
        yield
        return
    with tempfile.TemporaryDirectory(prefix="kiosk-qpa-") as tmp:
        conf = Path(tmp) / "screen.json"
        conf.write_text(json.dumps({"screens": [{"name": "kiosk", "x": 0, "y": 0, "width": SIZE[0],
                                                 "height": SIZE[1], "logicalDpi": 96, "logicalBaseDpi": 96,
                                                 "dpr": 1}]}))
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={conf}"
        try:
            yield
        finally:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ui.demo.screenshots", description=__doc__.splitlines()[0])
    p.add_argument("out_dir", type=Path, help="where the PNGs and README.md go (e.g. docs/screenshots)")
    p.add_argument("--lang", action="append", choices=LANGS, help="only this language (repeatable)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        with kiosk_screen():
            saved = take_screenshots(args.out_dir, args.lang or LANGS)
    except (ScreenshotError, RuntimeError) as e:
        print(f"screenshots: {e}", file=sys.stderr)
        return 1
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
