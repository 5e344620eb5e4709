"""The demo stack: everything of the appliance but the window, as real processes on simulated devices.

It builds, signs and publishes the demo content pack to a local origin, starts the reference
service platform, the origin server and the edge node as real processes, puts the card reader and
receipt printer simulators on pseudo-terminals, starts a CUPS scheduler with a simulated A4 printer
(devices/a4/sim.py: its jobs land as PDFs in printed/) and points the camera at an image file. `kiosk demo`
(ui.demo.cli), the screenshot tool and the UI bench run on it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from kiosk.config import HallName
from kiosk.edge_client import EdgeClient, EdgeError
from kiosk.lifecycle import child_dies_with_parent
from kiosk.netutil import free_port
from ui.demo.config import config_toml, device_tables
from ui.demo.fleet import DEMO_KIOSK, DemoFleet

REPO = Path(__file__).resolve().parents[2]
DEMO_PIN = "246810"
# Printed on the demo's receipts (bo: to be reviewed by the translators).
DEMO_HALL = HallName(bo="དཔེ་སྟོན་ཤང་གི་དམངས་ཕན་ཞབས་ཞུ་ལྟེ་གནས།", zh="示范乡便民服务中心")


def say(line: str) -> None:
    print(f"[demo] {line}", flush=True)


class DemoStack:
    """Everything but the window: simulators, content, platform, origin, edge."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports = {"origin": free_port(), "platform": free_port(), "edge": free_port()}
        self.reader_sim = None
        self.printer_sim = None
        self.a4_sim = None  # devices.a4.sim.A4Sim when CUPS and ippeveprinter are installed
        self.camera_image = workdir / "camera.png"
        self.printed_dir = workdir / "printed"
        self.config_path = workdir / "kiosk.toml"
        self.fleet = DemoFleet(workdir / "fleet", self._kiosk, self._spawn, say)

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
        self._start_a4()
        say(f"card reader simulator on {self.reader_sim.path}, printer simulator on {self.printer_sim.path}")

        key = self.workdir / "admin.key"
        out = self._run("admin", "keygen", "--out", str(key), "--key-id", "demo-admin")
        public = re.search(r'public_key = "([^"]+)"', out)
        if not public:
            raise RuntimeError(f"keygen printed no public key:\n{out}")
        build = self.workdir / "build"
        origin = self.workdir / "origin"
        from ui.demo.stand_ins import STAND_IN_PROMPTS, pack_with_stand_ins

        source = pack_with_stand_ins(REPO / "content" / "demo", self.workdir)
        say(f"stand-in Tibetan clips (synthetic voice, labelled stand-in, not native recordings) imported for: "
            f"{', '.join(STAND_IN_PROMPTS)}")
        self._run("admin", "pack", "build", str(source), str(build))
        self._run("admin", "pack", "sign", str(build), "--key", str(key), "--key-id", "demo-admin")
        self._run("admin", "pack", "publish", str(build), "--origin", str(origin))
        say(f"demo content pack built, signed (Ed25519, key demo-admin) and published to {origin}")

        from kiosk.pin import hash_pin

        devices = device_tables(self.reader_sim.path, self.printer_sim.path, self.camera_image, self.workdir / "tts",
                                _player())
        devices["devices.voice"]["synthetic_bo"] = True  # Tibetan without a clip: the labelled synthetic voice

        self.config_path.write_text("# written by `kiosk demo`\n" + config_toml({
            "kiosk": {"id": DEMO_KIOSK, "name": "Demo township hall", "default_language": "bo",
                      "timezone": "Asia/Shanghai"},
            "kiosk.hall_name": {"bo": DEMO_HALL.bo, "zh": DEMO_HALL.zh},
            **devices,
            "edge": {"listen_port": self.ports["edge"], "url": f"http://127.0.0.1:{self.ports['edge']}",
                     "data_dir": self.workdir / "edge",
                     "origin_url": f"http://127.0.0.1:{self.ports['origin']}", "poll_interval_s": 15,
                     "platform_url": f"http://127.0.0.1:{self.ports['platform']}"},
            **({"devices.a4_printer": {"queue": self.a4_sim.queue, "server": self.a4_sim.cups_server}}
               if self.a4_sim is not None else {}),
            "edge.admin_keys": [{"key_id": "demo-admin", "public_key": public.group(1)}],
            "maintenance": {"pin_hash": hash_pin(DEMO_PIN)},
            **({"mqtt": self.fleet.kiosk_mqtt()} if self.fleet.available else {}),
            "logging": {"format": "text"},
        }), encoding="utf-8")
        if self.fleet.available:
            self.fleet.prepare(config_toml, key, "demo-admin")
        else:
            say("fleet monitor not started: mosquitto is not installed (`make demo` as root installs it)")

    def _start_a4(self) -> None:
        from devices.a4.sim import A4Sim, missing_binaries

        if missing := missing_binaries():
            say(f"no A4 printer: {', '.join(missing)} not installed (`make demo` as root installs them)")
            return
        self.a4_sim = A4Sim(self.workdir / "a4", printed_dir=self.printed_dir).start()
        say(f"A4 printer: CUPS on {self.a4_sim.cups_server}, queue {self.a4_sim.queue} -> PDFs in {self.printed_dir}")

    def _save_page(self, page) -> None:
        import cv2

        n = len(list(self.printed_dir.glob("*.png"))) + 1
        path = self.printed_dir / f"receipt-{n:03d}.png"
        cv2.imwrite(str(path), page)
        say(f"printer simulator: page printed -> {path}")

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
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st = self.edge_status()
            if st and (st.get("content") or {}).get("active_version"):
                say(f"edge node up on 127.0.0.1:{self.ports['edge']}, content version "
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
            say("platform not answering: no payment records seeded")
            return
        for card, kind, amount, status, span in plan:
            r = subprocess.run(self._kiosk("platform", "add-payments", "--id-number", card.id_number, "--months", span,
                                           "--kind", kind, "--amount", amount, "--status", status, "--url", url),
                               capture_output=True, text=True, cwd=REPO)
            if r.returncode != 0:  # the demo still runs; the lookup then says it found nothing
                say(f"payment records for {idnumber.mask(card.id_number)} not seeded: {r.stderr.strip()}")
                return
        say(f"platform: {len(months)} months of pension and medical payments for "
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
        for sim in (self.reader_sim, self.printer_sim, self.a4_sim):
            if sim:
                sim.stop()

    def edge_client(self) -> EdgeClient:
        return EdgeClient(f"http://127.0.0.1:{self.ports['edge']}", timeout=2.0)

    def edge_status(self) -> dict | None:
        """The edge's /api/v1/status, or None while it is not answering."""
        try:
            return self.edge_client().status()
        except EdgeError:
            return None


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


def status_line(stack: DemoStack) -> str:
    st = stack.edge_status() or {}
    out = st.get("outbox") or {}
    content = st.get("content") or {}
    wan = st.get("wan") or {}
    return (f"platform {'up' if stack.platform_running() else 'DOWN'} | edge: wan {wan.get('wan', '?')}, "
            f"content v{content.get('active_version')}, outbox depth {out.get('depth')}, "
            f"printer pages {len(stack.printer_sim.pages) if stack.printer_sim else 0}")
