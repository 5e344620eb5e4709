"""Benchmark: one ID-card read end to end (find -> select -> read -> parsed CardRecord) through
a pty at 115200 baud, against the wire-time limit of the bytes that must cross the line.

A pty passes bytes instantly, so the simulator paces its replies at the baud rate (10 bits per
byte, written in 32-byte steps); the driver's 30 command bytes are not paced (the pty cannot
slow the writer), which the limit row accounts for. Run: python -m bench.bench_card
"""

from __future__ import annotations

import statistics
import tempfile

from bench.stats import percentile, timings
from devices.idcard.protocol import Command, encode_command
from devices.idcard.reader import CardReader
from devices.sim.card_reader import SAMPLE_CARDS, CardReaderSim, reply_frame

BAUD = 115200
READS = 30


def _wire_bytes() -> tuple[int, int]:
    """(command bytes, reply bytes) of one find -> select -> read."""
    commands = sum(len(encode_command(c)) for c in (Command.FIND_CARD, Command.SELECT_CARD,
                                                   Command.READ_TEXT_PHOTO))
    card = SAMPLE_CARDS[0]
    replies = (len(reply_frame(0x9F, bytes(4))) + len(reply_frame(0x90, bytes(8)))
               + len(reply_frame(0x90, bytes(4) + card.encode_text() + card.photo)))
    return commands, replies


def run(reads: int = READS) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp, CardReaderSim(link_dir=tmp, baudrate=BAUD, pace=True) as sim:
        sim.insert(0)
        with CardReader(sim.path, BAUD) as reader:
            samples = timings(reader.read_card, reads)  # the warm-up read opens the port
    commands, replies = _wire_bytes()
    limit_ms = (commands + replies) * 10 / BAUD * 1000
    paced_ms = replies * 10 / BAUD * 1000
    median_ms = statistics.median(samples) * 1000
    p95_ms = percentile(samples, 0.95) * 1000
    pacing = f"simulator paces replies at {BAUD} baud; pty itself does not throttle"
    return [
        {"name": "card read end to end, median", "value": round(median_ms, 1), "unit": "ms",
         "note": f"{reads} reads of find->select->read->CardRecord; {pacing}"},
        {"name": "card read end to end, p95", "value": round(p95_ms, 1), "unit": "ms", "note": pacing},
        {"name": "wire-time limit", "value": round(limit_ms, 1), "unit": "ms",
         "note": f"{commands} command + {replies} reply bytes x 10 bits / {BAUD}; "
                 f"{round(paced_ms, 1)} ms of it is paced reply time"},
        {"name": "driver overhead over paced replies, median", "value": round(median_ms - paced_ms, 1),
         "unit": "ms", "note": "parsing, framing, Python scheduling; commands cross the pty unpaced"},
    ]


if __name__ == "__main__":
    from bench.__main__ import show
    show("card", run())
