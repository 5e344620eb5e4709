"""`kiosk demo` (what `make demo` runs): the whole appliance on simulated devices.

It builds, signs and publishes the demo content pack to a local origin, starts the reference
service platform, the origin server and the edge node as real processes, puts the card reader and
receipt printer simulators on pseudo-terminals, points the camera at an image file and opens the
kiosk window with a small control panel (insert a card, take the paper out, show a QR code, cut
the WAN). With no display it runs headless: a scripted walk through the devices and the edge,
then a status line every few seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.lifecycle import child_dies_with_parent, stop_on_signals
from ui.demo_fleet import DEMO_KIOSK, DemoFleet, about

REPO = Path(__file__).resolve().parents[1]
DEMO_PIN = "246810"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _say(line: str) -> None:
    print(f"[demo] {line}", flush=True)


def _get_json(url: str, timeout: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def device_tables(card_reader: Path | str, printer: Path | str, camera: Path | str, tts_cache: Path,
                  player: str) -> dict[str, dict[str, Any]]:
    """The [devices.*] tables of a kiosk config: the two serial ports (simulators or real), the camera
    source and where the voice keeps its TTS cache and which program plays a clip."""
    return {"devices.card_reader": {"port": card_reader}, "devices.printer": {"port": printer},
            "devices.camera": {"source": camera}, "devices.voice": {"cache_dir": tts_cache, "player": player}}


def config_toml(tables: dict[str, dict[str, Any] | list[dict[str, Any]]]) -> str:
    """A kiosk config file (TOML) from {"table.name": {key: value}} in that order; a list of dicts is an array
    of tables. Values are str/Path (written as TOML strings, escaped), int, float or bool. The demo and the
    tests write their configs with it (kiosk.config.parse reads them back)."""
    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        return json.dumps(str(v), ensure_ascii=False)  # a JSON string is a valid TOML basic string

    lines: list[str] = []
    for name, body in tables.items():
        rows, header = (body, f"[[{name}]]") if isinstance(body, list) else ([body], f"[{name}]")
        for row in rows:
            lines += [header, *(f"{k} = {value(v)}" for k, v in row.items()), ""]
    return "\n".join(lines)


class DemoStack:
    """Everything but the window: simulators, content, platform, origin, edge."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports = {"origin": _free_port(), "platform": _free_port(), "edge": _free_port()}
        self.reader_sim = None
        self.printer_sim = None
        self.camera_image = workdir / "camera.png"
        self.printed_dir = workdir / "printed"
        self.config_path = workdir / "kiosk.toml"
        self.fleet = DemoFleet(workdir / "fleet", self._kiosk, self._spawn, _say)

    # -- setup ------------------------------------------------------------------------------------
    def _kiosk(self, *args: str, config: bool = False) -> list[str]:
        head = [sys.executable, "-m", "kiosk", "--log-format", "text"]
        if config:
            head += ["--config", str(self.config_path)]
        return head + list(args)

    def _run(self, *args: str) -> str:
        r = subprocess.run(self._kiosk(*args), capture_output=True, text=True, cwd=REPO)
        if r.returncode != 0:
            raise RuntimeError(f"`kiosk {' '.join(args)}` failed:\n{r.stdout}{r.stderr}")
        return r.stdout

    def prepare(self) -> None:
        from devices.sim.camera_media import blank_image
        from devices.sim.card_reader import CardReaderSim
        from devices.sim.printer import PrinterSim

        # Keep the TTS cache between runs; everything else starts fresh.
        for child in self.workdir.glob("*"):
            if child.name != "tts":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.printed_dir.mkdir(exist_ok=True)

        self.reader_sim = CardReaderSim(link_dir=self.workdir).start()
        self.printer_sim = PrinterSim(link_dir=self.workdir).start()
        self.printer_sim.on_page = self._save_page
        blank_image(self.camera_image)
        _say(f"card reader simulator on {self.reader_sim.path}, printer simulator on {self.printer_sim.path}")

        key = self.workdir / "admin.key"
        out = self._run("admin", "keygen", "--out", str(key), "--key-id", "demo-admin")
        public = re.search(r'public_key = "([^"]+)"', out)
        if not public:
            raise RuntimeError(f"keygen printed no public key:\n{out}")
        build = self.workdir / "build"
        origin = self.workdir / "origin"
        self._run("admin", "pack", "build", str(REPO / "content" / "demo"), str(build))
        self._run("admin", "pack", "sign", str(build), "--key", str(key), "--key-id", "demo-admin")
        self._run("admin", "pack", "publish", str(build), "--origin", str(origin))
        _say(f"demo content pack built, signed (Ed25519, key demo-admin) and published to {origin}")

        from kiosk.pin import hash_pin

        self.config_path.write_text("# written by `kiosk demo`\n" + config_toml({
            "kiosk": {"id": DEMO_KIOSK, "name": "Demo township hall", "default_language": "bo"},
            **device_tables(self.reader_sim.path, self.printer_sim.path, self.camera_image, self.workdir / "tts",
                            _player()),
            "edge": {"listen_port": self.ports["edge"], "url": f"http://127.0.0.1:{self.ports['edge']}",
                     "data_dir": self.workdir / "edge",
                     "origin_url": f"http://127.0.0.1:{self.ports['origin']}", "poll_interval_s": 15,
                     "platform_url": f"http://127.0.0.1:{self.ports['platform']}"},
            "edge.admin_keys": [{"key_id": "demo-admin", "public_key": public.group(1)}],
            "maintenance": {"pin_hash": hash_pin(DEMO_PIN)},
            **({"mqtt": self.fleet.kiosk_mqtt()} if self.fleet.available else {}),
            "logging": {"format": "text"},
        }), encoding="utf-8")
        if self.fleet.available:
            self.fleet.prepare(config_toml, key, "demo-admin")
        else:
            _say("fleet monitor not started: mosquitto is not installed (`make demo` as root installs it)")

    def _save_page(self, page) -> None:
        import cv2

        n = len(list(self.printed_dir.glob("*.png"))) + 1
        path = self.printed_dir / f"receipt-{n:03d}.png"
        cv2.imwrite(str(path), page)
        _say(f"printer simulator: page printed -> {path}")

    # -- processes --------------------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.procs[name] = subprocess.Popen(args, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True, preexec_fn=child_dies_with_parent)

    def start_platform(self) -> None:
        self._spawn("platform", self._kiosk("platform", "serve", "--port", str(self.ports["platform"]),
                                            "--db", str(self.workdir / "platform.sqlite3")))

    def stop_platform(self) -> None:
        self._stop("platform")

    def platform_running(self) -> bool:
        p = self.procs.get("platform")
        return p is not None and p.poll() is None

    def start(self) -> None:
        if self.fleet.available:
            self.fleet.start()  # the broker first: the edge's agent connects to it as it starts
        self.start_platform()
        self._spawn("origin", self._kiosk("origin", str(self.workdir / "origin"), "--port", str(self.ports["origin"])))
        self._spawn("edge", self._kiosk("edge", "serve", config=True))
        edge = f"http://127.0.0.1:{self.ports['edge']}/api/v1/status"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st = _get_json(edge)
            if st and (st.get("content") or {}).get("active_version"):
                _say(f"edge node up on 127.0.0.1:{self.ports['edge']}, content version "
                     f"{st['content']['active_version']} active")
                self.seed_payments()
                return
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited with {p.returncode}; see {self.workdir / (name + '.log')}")
            time.sleep(0.3)
        raise RuntimeError(f"the edge did not activate the demo content within 60 s; see {self.workdir}/edge.log")

    def seed_payments(self) -> None:
        """A year of social-insurance records for the first two sample cards, added with the operator's
        CLI, so the payment lookup shows something real: the second card owes one medical month."""
        from devices.sim.card_reader import SAMPLE_CARDS
        from kiosk import idnumber

        months = _recent_months(12)
        year = f"{months[0]}:{months[-1]}"
        plan = [(SAMPLE_CARDS[0], "pension", "150", "paid", year), (SAMPLE_CARDS[0], "medical", "32.50", "paid", year),
                (SAMPLE_CARDS[1], "pension", "100", "government_paid", year),
                (SAMPLE_CARDS[1], "medical", "32.50", "paid", year),
                (SAMPLE_CARDS[1], "medical", "32.50", "arrears", months[-3])]
        url = f"http://127.0.0.1:{self.ports['platform']}"
        if not _listening(self.ports["platform"], timeout=20):
            _say("platform not answering: no payment records seeded")
            return
        for card, kind, amount, status, span in plan:
            r = subprocess.run(self._kiosk("platform", "add-payments", "--id-number", card.id_number, "--months", span,
                                           "--kind", kind, "--amount", amount, "--status", status, "--url", url),
                               capture_output=True, text=True, cwd=REPO)
            if r.returncode != 0:  # the demo still runs; the lookup then says it found nothing
                _say(f"payment records for {idnumber.mask(card.id_number)} not seeded: {r.stderr.strip()}")
                return
        _say(f"platform: {len(months)} months of pension and medical payments for "
             f"{idnumber.mask(SAMPLE_CARDS[0].id_number)} and {idnumber.mask(SAMPLE_CARDS[1].id_number)} "
             f"({months[-3]} medical in arrears for the second)")

    def _stop(self, name: str) -> None:
        p = self.procs.pop(name, None)
        if p and p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def stop(self) -> None:
        for name in list(self.procs):
            self._stop(name)
        self.fleet.stop()
        for sim in (self.reader_sim, self.printer_sim):
            if sim:
                sim.stop()

    def edge_status(self) -> dict | None:
        return _get_json(f"http://127.0.0.1:{self.ports['edge']}/api/v1/status")


def _recent_months(n: int) -> list[str]:
    """The last n months up to this one, oldest first, as YYYY-MM."""
    today = date.today()
    now = today.year * 12 + today.month - 1
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(now - n + 1, now + 1)]


def _listening(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        time.sleep(0.2)
    return False


def _player() -> str:
    """Real speakers when ALSA has a card, else ALSA's null device (the demo still runs)."""
    if shutil.which("aplay"):
        r = subprocess.run(["aplay", "-l"], capture_output=True, text=True)
        if "card" in r.stdout:
            return "aplay -q"
        return "aplay -q -D null"
    return "aplay"


def _status_line(stack: DemoStack) -> str:
    st = stack.edge_status() or {}
    out = st.get("outbox") or {}
    content = st.get("content") or {}
    wan = st.get("wan") or {}
    return (f"platform {'up' if stack.platform_running() else 'DOWN'} | edge: wan {wan.get('wan', '?')}, "
            f"content v{content.get('active_version')}, outbox depth {out.get('depth')}, "
            f"printer pages {len(stack.printer_sim.pages) if stack.printer_sim else 0}")


def _headless_walkthrough(stack: DemoStack, cfg) -> None:
    """What a maintenance engineer would check first, done on the simulators for real."""
    from devices.idcard.reader import CardReader
    from devices.printer.printer import ReceiptPrinter
    from devices.printer.receipt import Receipt
    from devices.sim.card_reader import SAMPLE_CARDS
    from kiosk.edge_client import EdgeClient

    reader = CardReader(cfg.devices.card_reader.port)
    stack.reader_sim.insert(SAMPLE_CARDS[0])
    card = reader.read_card()
    _say(f"card reader: read a {card.kind.value} card, ID {card.masked_id} (masked)")
    reader.close()

    edge = EdgeClient(cfg.edge.url, token=cfg.edge.token)
    services = edge.services()
    _say(f"edge: {len(services)} services in the active pack: "
         + ", ".join(s["title"]["zh"] for s in services))
    fields = {"phone": "13800138000", "payout_account": "social_security_card", "received_elsewhere": "no"}
    service = edge.service("old-age-allowance")
    for step in service.steps:
        for f in getattr(step, "fields", ()) or ():
            if f.type == "choice" and f.id in fields and f.choices:
                fields[f.id] = f.choices[0].value
    card_fields = card.to_form_fields("zh")
    for step in service.steps:
        for f in getattr(step, "fields", ()) or ():
            if f.source:
                fields[f.id] = card_fields[f.source]
    answer = edge.submit("old-age-allowance", fields, card_fields, lang="zh")
    tracking = answer["tracking_number"]
    _say(f"edge: application accepted at once, tracking number {tracking} (status {answer['status']})")

    printer = ReceiptPrinter(cfg.devices.printer.port, width_dots=cfg.devices.printer.width_dots)
    printer.print_receipt(Receipt(title="高龄津贴申请 回执", lines=[("受理编号", tracking),
                                                             ("身份证号", card.masked_id)],
                                  qr=tracking, footer="请妥善保管此回执", lang="zh"))
    printer.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        st = edge.submission(tracking)
        if st.get("status") != "queued":
            _say(f"platform: application {tracking} is now '{st['status']}' (forwarded by the edge's outbox)")
            break
        time.sleep(0.5)
    else:
        _say(f"platform: {tracking} still queued after 20 s; see {stack.workdir}/edge.log")
    stack.reader_sim.remove()
    del card, card_fields
    if stack.fleet.sink is not None:
        _paper_out_reaches_the_team(stack, cfg, edge)


def _paper_out_reaches_the_team(stack: DemoStack, cfg, edge) -> None:
    """Paper out at the demo kiosk: the printer's own status goes to the edge as the UI would report it, the
    edge's agent publishes it, the monitor opens an alert and notifies the hall's team; paper back clears it."""
    from devices.printer.printer import ReceiptPrinter

    printer = ReceiptPrinter(cfg.devices.printer.port, width_dots=cfg.devices.printer.width_dots)
    try:
        for paper, kind in (("out", "open"), ("ok", "clear")):
            stack.printer_sim.paper = paper
            printer.query_status()
            edge.health(cfg.kiosk.id, {"printer": printer.status_source.status().as_dict()})
            t0 = time.monotonic()
            if stack.fleet.sink.wait_for(lambda d, k=kind: about(d, DEMO_KIOSK, k), 60) is None:
                _say(f"fleet: no '{kind}' notification for the paper within 60 s; see {stack.workdir}/fleet-monitor.log")
                return
            _say(f"fleet: paper {paper} at {DEMO_KIOSK} -> '{kind}' notification after "
                 f"{time.monotonic() - t0:.1f} s; alerts on {stack.fleet.dashboard}/alerts")
    finally:
        printer.close()


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
        _say(f"config {stack.config_path}; logs in {workdir}; maintenance PIN {DEMO_PIN} "
             "(long-press the top-left corner for 3 s)")
        if headless:
            _say("no display found: running headless (set DISPLAY, or QT_QPA_PLATFORM=offscreen, for the window)")
            _headless_walkthrough(stack, cfg)
            deadline = None if args.duration is None else time.monotonic() + args.duration
            while deadline is None or time.monotonic() < deadline:
                _say(_status_line(stack))
                time.sleep(min(5.0, max(0.0, deadline - time.monotonic())) if deadline else 5.0)
            return 0
        from ui.demo_panel import run_window

        return run_window(stack, cfg, windowed=args.windowed, duration=args.duration)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as e:
        print(f"kiosk demo: {e}", file=sys.stderr)
        return 1
    finally:
        with contextlib.suppress(Exception):
            stack.stop()
        _say("stopped")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the whole appliance on simulated devices (make demo)")
    p.add_argument("--workdir", default=str(REPO / "var" / "demo"), help="where the demo keeps its state")
    p.add_argument("--headless", action="store_true", help="no window even when a display exists")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    p.set_defaults(func=run_demo)
