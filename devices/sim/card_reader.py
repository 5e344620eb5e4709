"""A GA 467 SAM ID-card reader on a pty, with cards to put on it and faults to inject.

Written from /work/shared/DEVICES.md independently of the driver (its own framing and its own
text-block encoder), so driver tests check the driver against the protocol, not against
itself. Replies are paced at the configured baud rate: a pty passes bytes instantly, a real
115200-baud line takes ~112 ms for a text+photo reply.
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from devices.sim.pty import PtyDevice
from kiosk.identity import CardKind
from kiosk.idnumber import make_valid

PREAMBLE = bytes.fromhex("AAAAAA9669")
COMMANDS: dict[tuple[int, int], str] = {
    (0x10, 0xFF): "reset", (0x11, 0xFF): "sam_status", (0x12, 0xFF): "sam_id",
    (0x20, 0x01): "find", (0x20, 0x02): "select",
    (0x30, 0x01): "read", (0x30, 0x03): "new_address", (0x30, 0x10): "read_fp",
}
OK, FIND_OK, NO_CONTENT = 0x90, 0x9F, 0x91
BAD_CHECKSUM, BAD_LENGTH, BAD_COMMAND = 0x10, 0x11, 0x21
READ_FAILED, FIND_FAILED, SELECT_FAILED = 0x41, 0x80, 0x81
# bytes 0, 2 and three little-endian uint32 -> "05.01-20101025-0000012345-1234567890"
DEFAULT_SAM_ID = bytes((0x05, 0x00, 0x01, 0x00)) + struct.pack("<III", 20101025, 12345, 1234567890)
PACE_CHUNK = 32  # bytes written per pacing step


def _ucs2(text: str, length: int, what: str) -> bytes:
    raw = text.encode("utf-16-le")
    if len(raw) > length:
        raise ValueError(f"{what} does not fit in {length} bytes")
    return raw + " ".encode("utf-16-le") * ((length - len(raw)) // 2)


def _ymd(d: date | None) -> str:
    return "长期" if d is None else d.strftime("%Y%m%d")


def fake_blob(seed: str, size: int = 1024, head: bytes = b"") -> bytes:
    """Deterministic opaque bytes standing in for WLT photo / fingerprint data."""
    out = bytearray(head)
    block = seed.encode()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


@dataclass
class SimCard:
    """A card as issued. For foreigner cards `name` is the English name and `extra` holds
    name_zh, nationality and the layout's own fields; `nation_code` is unused there."""

    kind: CardKind
    name: str
    gender_code: str
    nation_code: str
    birth_date: date
    address: str
    id_number: str
    issuer: str
    valid_from: date
    valid_to: date | None
    extra: dict = field(default_factory=dict)
    photo: bytes = field(default=b"", repr=False)
    fingerprint: bytes | None = field(default=None, repr=False)
    new_address: str = ""

    def encode_text(self) -> bytes:
        """The card's 256-byte UCS-2LE text block, laid out per card kind."""
        x = self.extra
        if self.kind in (CardKind.RESIDENT, CardKind.HMT_PERMIT):
            parts = [(0, 30, self.name), (30, 2, self.gender_code), (32, 4, self.nation_code),
                     (36, 16, self.birth_date.strftime("%Y%m%d")), (52, 70, self.address),
                     (122, 36, self.id_number), (158, 30, self.issuer),
                     (188, 16, _ymd(self.valid_from)), (204, 16, _ymd(self.valid_to))]
            if self.kind is CardKind.HMT_PERMIT:
                parts += [(220, 18, x["pass_number"]), (238, 4, f"{x['issue_count']:02d}"), (248, 2, "J")]
        elif self.kind is CardKind.FOREIGNER_OLD:
            parts = [(0, 120, self.name), (120, 2, self.gender_code), (122, 30, self.id_number),
                     (152, 6, x["nationality"]), (158, 30, x.get("name_zh", "")),
                     (188, 16, _ymd(self.valid_from)), (204, 16, _ymd(self.valid_to)),
                     (220, 16, self.birth_date.strftime("%Y%m%d")), (236, 4, x["card_version"]),
                     (240, 8, x["authority_code"]), (248, 2, "I")]
        else:  # 2023 layout: English name characters 1-35 at 52, 36-46 at 220
            parts = [(0, 30, x.get("name_zh", "")), (30, 2, self.gender_code),
                     (32, 4, f"{x['issue_count']:02d}"), (36, 16, self.birth_date.strftime("%Y%m%d")),
                     (52, 70, self.name[:35]), (122, 36, self.id_number),
                     (188, 16, _ymd(self.valid_from)), (204, 16, _ymd(self.valid_to)),
                     (220, 22, self.name[35:]), (242, 6, x["nationality"]), (248, 2, "Y"),
                     (250, 6, x["previous_number_link"])]
        block = bytearray(" ".encode("utf-16-le") * 128)
        for offset, length, text in parts:
            block[offset:offset + length] = _ucs2(text, length, f"field at {offset}")
        return bytes(block)


def _resident(name: str, gender: str, nation: str, born: date, region: str, seq: str, address: str,
              issuer: str, valid_from: date, valid_to: date | None, **kw: Any) -> SimCard:
    number = make_valid(region + born.strftime("%Y%m%d") + seq)
    return SimCard(CardKind.RESIDENT, name, gender, nation, born, address, number, issuer, valid_from,
                   valid_to, photo=fake_blob(number, head=b"WLf"), **kw)


SAMPLE_CARDS: list[SimCard] = [
    _resident("扎西次仁", "1", "04", date(1968, 3, 15), "540102", "011",
              "西藏自治区拉萨市城关区八廓街道冲赛康社区3组12号", "拉萨市公安局城关分局",
              date(2015, 6, 1), None),
    _resident("卓玛", "2", "04", date(1992, 11, 2), "540103", "024",
              "西藏自治区拉萨市堆龙德庆区东嘎街道桑木村5组", "拉萨市公安局堆龙德庆分局",
              date(2018, 4, 20), date(2038, 4, 20),
              fingerprint=fake_blob("fp-卓玛"), new_address="西藏自治区拉萨市城关区纳金路8号"),
    _resident("王建国", "1", "01", date(1979, 8, 30), "540102", "135",
              "西藏自治区拉萨市城关区北京中路46号", "拉萨市公安局城关分局",
              date(2016, 9, 12), date(2036, 9, 12)),
    SimCard(CardKind.HMT_PERMIT, "陈家明", "1", "", date(1985, 5, 20), "西藏自治区拉萨市城关区金珠西路158号",
            make_valid("81000019850520001"), "拉萨市公安局", date(2021, 9, 1), date(2026, 9, 1),
            extra={"pass_number": "H60123456", "issue_count": 1}, photo=fake_blob("hmt", head=b"WLf")),
    SimCard(CardKind.FOREIGNER_OLD, "SMITH JOHN ALEXANDER", "1", "", date(1980, 5, 12), "",
            "USA540180051201", "5401", date(2016, 2, 1), date(2026, 2, 1),
            extra={"name_zh": "史密斯", "nationality": "USA", "card_version": "01", "authority_code": "5401"},
            photo=fake_blob("for-i", head=b"WLf")),
    SimCard(CardKind.FOREIGNER_2023, "GARCIA FERNANDEZ DE LA TORRE MARIA ELENA", "2", "", date(1990, 9, 30), "",
            make_valid("95472419900930002"), "", date(2024, 1, 15), date(2034, 1, 15),
            extra={"name_zh": "玛丽亚", "nationality": "ESP", "issue_count": 0, "previous_number_link": "001"},
            photo=fake_blob("for-y", head=b"WLf")),
]


def _xor(data: bytes) -> int:
    out = 0
    for b in data:
        out ^= b
    return out


def reply_frame(sw3: int, data: bytes = b"") -> bytes:
    """A reply frame: preamble, LEN, 00 00 SW3, data, XOR checksum."""
    body = struct.pack(">H", 3 + len(data) + 1) + bytes((0, 0, sw3)) + data
    return PREAMBLE + body + bytes((_xor(body),))


class CardReaderSim:
    """The reader on a pty. State and faults may be changed from any thread."""

    def __init__(self, link_dir: Path | str | None = None, sam_id_bytes: bytes = DEFAULT_SAM_ID, *,
                 baudrate: int = 115200, pace: bool = True, name: str = "card-reader") -> None:
        self.sam_id_bytes = sam_id_bytes
        self.baudrate = baudrate
        self.pace = pace
        self.counts: Counter[str] = Counter()  # commands received, by name
        self.bad_frames = 0  # commands that failed checksum/length checks
        self._card: SimCard | None = None
        self._found = self._selected = False
        self._silent = self._noise = False
        self._garbage = bytearray()
        self._corrupt = 0
        self._fail: dict[str, int] = {}
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._dev = PtyDevice(name, self._on_bytes, Path(link_dir) if link_dir else None)

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def path(self) -> str:
        return self._dev.path

    def start(self) -> CardReaderSim:
        self._dev.start()
        return self

    def stop(self) -> None:
        self._dev.stop()

    def unplug(self) -> None:
        self._dev.unplug()

    def replug(self) -> None:
        with self._lock:
            self._buf.clear()
            self._found = self._selected = False
        self._dev.plug()

    def __enter__(self) -> CardReaderSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the card -----------------------------------------------------------------------------
    def insert(self, card: SimCard | int) -> None:
        with self._lock:
            self._card = SAMPLE_CARDS[card] if isinstance(card, int) else card
            self._found = self._selected = False

    def remove(self) -> None:
        with self._lock:
            self._card = None
            self._found = self._selected = False

    # -- faults -------------------------------------------------------------------------------
    def inject_garbage(self, data: bytes) -> None:
        """Send these bytes just before the next reply."""
        with self._lock:
            self._garbage += data

    def corrupt_next_checksum(self, count: int = 1) -> None:
        with self._lock:
            self._corrupt += count

    def silence(self, on: bool) -> None:
        """Receive commands but never answer."""
        self._silent = on

    def noise(self, on: bool) -> None:
        """Answer every command with line noise (what a wrong baud rate looks like)."""
        self._noise = on

    def fail_next(self, command: str, sw3: int) -> None:
        """Answer the next `command` (a name in COMMANDS) with this SW3 and no data."""
        if command not in COMMANDS.values():
            raise ValueError(f"unknown command {command!r}; one of {sorted(COMMANDS.values())}")
        with self._lock:
            self._fail[command] = sw3

    # -- protocol -----------------------------------------------------------------------------
    def _on_bytes(self, data: bytes) -> None:
        replies: list[bytes] = []
        with self._lock:
            self._buf += data
            while (frame := self._next_command()) is not None:
                reply = self._answer(*frame)
                if reply is not None:
                    replies.append(reply)
        for reply in replies:
            self._send(reply)

    def _next_command(self) -> tuple[str | None, int] | None:
        """Take one complete command from the buffer -> (name, sw3 to force) or None."""
        while True:
            start = self._buf.find(PREAMBLE)
            if start < 0:
                del self._buf[:max(0, len(self._buf) - (len(PREAMBLE) - 1))]
                return None
            del self._buf[:start]
            if len(self._buf) < 7:
                return None
            length = struct.unpack_from(">H", self._buf, 5)[0]
            if not 3 <= length <= 1024:
                del self._buf[:1]
                continue
            if len(self._buf) < 7 + length:
                return None
            frame = bytes(self._buf[:7 + length])
            del self._buf[:7 + length]
            if _xor(frame[5:-1]) != frame[-1]:
                self.bad_frames += 1
                return None, BAD_CHECKSUM
            name = COMMANDS.get((frame[7], frame[8]))
            if name is None:
                return None, BAD_COMMAND
            self.counts[name] += 1
            if length != 3:
                self.bad_frames += 1
                return name, BAD_LENGTH
            return name, 0

    def _answer(self, name: str | None, forced: int) -> bytes | None:
        if self._silent:
            return None
        if self._noise:
            return fake_blob(f"noise{sum(self.counts.values())}", 24).replace(b"\xaa", b"\x55")
        if forced:
            reply = reply_frame(forced)
        elif name in self._fail:
            reply = reply_frame(self._fail.pop(name))
        else:
            reply = self._handle(name)
        if self._corrupt:
            self._corrupt -= 1
            reply = reply[:-1] + bytes((reply[-1] ^ 0xFF,))
        if self._garbage:
            reply, self._garbage = bytes(self._garbage) + reply, bytearray()
        return reply

    def _handle(self, name: str | None) -> bytes:
        card = self._card
        if name in ("reset", "sam_status"):
            if name == "reset":
                self._found = self._selected = False
            return reply_frame(OK)
        if name == "sam_id":
            return reply_frame(OK, self.sam_id_bytes)
        if name == "find":
            if card is None:
                return reply_frame(FIND_FAILED)
            self._found = True
            return reply_frame(FIND_OK, bytes(4))
        if name == "select":
            if card is None or not self._found:
                return reply_frame(SELECT_FAILED)
            self._selected = True
            return reply_frame(OK, bytes(8))
        if card is None or not self._selected:
            return reply_frame(READ_FAILED)
        if name == "new_address":
            if not card.new_address:
                return reply_frame(NO_CONTENT)
            return reply_frame(OK, _ucs2(card.new_address, 70, "new address"))
        text = card.encode_text()
        if name == "read_fp":
            fp = card.fingerprint or b""
            return reply_frame(OK, struct.pack(">HHH", len(text), len(card.photo), len(fp)) + text + card.photo + fp)
        return reply_frame(OK, struct.pack(">HH", len(text), len(card.photo)) + text + card.photo)

    def _send(self, data: bytes) -> None:
        """Write a reply, paced at the baud rate (10 bits per byte on an 8N1 line)."""
        start = time.monotonic()
        try:
            for i in range(0, len(data), PACE_CHUNK if self.pace else len(data)):
                piece = data[i:i + PACE_CHUNK] if self.pace else data
                self._dev.send(piece)
                if self.pace:
                    wait = start + (i + len(piece)) * 10 / self.baudrate - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
        except OSError:
            pass  # unplugged mid-reply: the driver sees a broken frame, as on a real line


# -- `kiosk sim card-reader` ---------------------------------------------------------------------
_HELP = "commands: insert N | remove | silence on|off | noise on|off | unplug | replug | quit"


def register_cli(ssub: argparse._SubParsersAction) -> None:
    p = ssub.add_parser("card-reader", help="GA 467 ID-card reader simulator on a pty")
    p.add_argument("--card", type=int, help=f"insert sample card N (0..{len(SAMPLE_CARDS) - 1}) at start")
    p.add_argument("--link-dir", help="directory for the stable port symlink (default: a temp dir)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    sim = CardReaderSim(link_dir=args.link_dir).start()
    if args.card is not None:
        sim.insert(args.card)
    print(sim.path, flush=True)
    for i, card in enumerate(SAMPLE_CARDS):
        print(f"  card {i}: {card.kind.value}", flush=True)
    print(_HELP, flush=True)
    try:
        for line in sys.stdin:
            if _command(sim, line.split()) == "quit":
                return 0
        threading.Event().wait()  # stdin closed (run in the background): serve until a signal
    except KeyboardInterrupt:
        return 0
    finally:
        sim.stop()
    return 0


def _command(sim: CardReaderSim, words: list[str]) -> str | None:
    try:
        match words:
            case ["insert", n]:
                sim.insert(int(n))
            case ["remove"]:
                sim.remove()
            case ["silence", ("on" | "off") as v]:
                sim.silence(v == "on")
            case ["noise", ("on" | "off") as v]:
                sim.noise(v == "on")
            case ["unplug"]:
                sim.unplug()
            case ["replug"]:
                sim.replug()
            case ["quit"]:
                return "quit"
            case []:
                return None
            case _:
                print(_HELP, flush=True)
                return None
    except (ValueError, IndexError):
        print(f"no such card; 0..{len(SAMPLE_CARDS) - 1}", flush=True)
        return None
    print("ok", flush=True)
    return None
