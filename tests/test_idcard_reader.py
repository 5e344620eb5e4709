"""The real driver against the simulator over a pty: commands, SW3 errors, faults, reconnect,
the card watcher, concurrency and privacy of what gets logged."""

from __future__ import annotations

import logging
import threading
import time

import pytest
import serial

from devices.idcard.errors import (
    CardReadError,
    NoCard,
    ProtocolError,
    ReaderGone,
    ReaderNotAnswering,
    SamError,
    SamFault,
)
from devices.idcard.protocol import SW3, sw3_name
from devices.idcard.reader import CardReader
from devices.idcard.watcher import CardWatcher
from devices.sim.card_reader import PREAMBLE, SAMPLE_CARDS, CardReaderSim, reply_frame
from kiosk.identity import CardKind
from kiosk.status import Level
from tests.fixtures_idcard import wait_until

FAILURE_CODES = sorted(int(c) for c in SW3 if c not in (SW3.SUCCESS, SW3.FIND_OK))


def test_every_command(card_sim, card_reader):
    card_reader.reset()
    card_reader.sam_status()
    assert card_reader.sam_id() == "05.01-20101025-0000012345-1234567890"
    card_sim.insert(1)
    card_reader.find()
    card_reader.select()
    rec = card_reader.read()
    assert rec.name == SAMPLE_CARDS[1].name and rec.fingerprint is None
    assert card_reader.read_new_address() == SAMPLE_CARDS[1].new_address
    rec = card_reader.read(with_fingerprint=True)
    assert rec.fingerprint == SAMPLE_CARDS[1].fingerprint and rec.photo == SAMPLE_CARDS[1].photo
    assert dict(card_sim.counts) == {"reset": 1, "sam_status": 1, "sam_id": 1, "find": 1, "select": 1,
                                     "read": 1, "new_address": 1, "read_fp": 1}
    assert card_reader.status().code == "ok"


def test_card_without_new_address_or_fingerprints(card_sim, card_reader):
    card_sim.insert(0)
    card_reader.find()
    card_reader.select()
    assert card_reader.read_new_address() is None  # SW3 91: no content
    assert card_reader.read(with_fingerprint=True).fingerprint is None


@pytest.mark.parametrize("index", range(len(SAMPLE_CARDS)))
def test_read_card_each_layout(card_sim, card_reader, index):
    card_sim.insert(index)
    rec = card_reader.read_card()
    card = SAMPLE_CARDS[index]
    assert (rec.kind, rec.name, rec.id_number, rec.birth_date) == (card.kind, card.name, card.id_number,
                                                                    card.birth_date)
    assert rec.id_valid


def test_no_card(card_sim, card_reader):
    with pytest.raises(NoCard, match=f"no card is on the reader at {card_sim.path}") as e:
        card_reader.read_card()
    assert e.value.code == 0x80 and e.value.name == "find_failed"
    assert card_reader.status().level is Level.OK  # an empty reader is not a fault


@pytest.mark.parametrize("code", [c for c in FAILURE_CODES if c not in (0x10, 0x11)])
def test_every_failure_sw3_on_read(card_sim, card_reader, code):
    card_sim.insert(0)
    card_reader.find()
    card_reader.select()
    card_sim.fail_next("read", code)
    expected = SamFault if code in (0x60, 0x66) else CardReadError
    with pytest.raises(expected) as e:
        card_reader.read()
    assert e.value.code == code and e.value.name == sw3_name(code)
    assert f"0x{code:02X}" in str(e.value) and card_sim.path in str(e.value)
    assert card_reader.status().code == ("sam_fault" if expected is SamFault else "ok")
    assert card_reader.read().name == SAMPLE_CARDS[0].name  # the next read works


@pytest.mark.parametrize("code", [0x10, 0x11])
def test_module_reporting_a_garbled_command_gets_it_again(card_sim, card_reader, code):
    card_sim.insert(0)
    card_sim.fail_next("find", code)
    assert card_reader.read_card().name == SAMPLE_CARDS[0].name
    assert card_sim.counts["find"] == 2


def test_select_failure(card_sim, card_reader):
    card_sim.insert(0)
    card_sim.fail_next("select", 0x81)
    with pytest.raises(CardReadError, match="select card failed"):
        card_reader.read_card()


@pytest.mark.parametrize("command", ["reset", "sam_status", "sam_id"])
@pytest.mark.parametrize("code", [0x60, 0x66, 0x24])
def test_sam_failures_set_sam_fault_until_healthy(card_sim, card_reader, command, code):
    card_sim.fail_next(command, code)
    call = {"reset": card_reader.reset, "sam_status": card_reader.sam_status, "sam_id": card_reader.sam_id}
    with pytest.raises(SamFault) as e:
        call[command]()
    assert e.value.code == code
    assert card_reader.status().code == "sam_fault" and card_reader.status().level is Level.FAULT
    card_reader.sam_status()
    assert card_reader.status().code == "ok"


def test_unknown_find_status_is_a_sam_error(card_sim, card_reader):
    card_sim.fail_next("find", 0x23)
    with pytest.raises(SamError, match="unauthorised") as e:
        card_reader.find()
    assert not isinstance(e.value, NoCard | SamFault)


def test_checksum_error_is_retried_once(card_sim, card_reader):
    card_sim.insert(0)
    card_sim.corrupt_next_checksum()
    assert card_reader.read_card().name == SAMPLE_CARDS[0].name
    assert card_sim.counts["find"] == 2 and card_reader.status().code == "ok"


def test_persistent_corruption_raises_and_degrades(card_sim, card_reader):
    card_sim.insert(0)
    card_sim.corrupt_next_checksum(4)
    for _ in range(2):
        with pytest.raises(ProtocolError, match="checksum"):
            card_reader.find()
    status = card_reader.status()
    assert (status.level, status.code) == (Level.DEGRADED, "read_errors")
    assert status.zh and status.bo and status.en
    assert card_reader.read_card().name == SAMPLE_CARDS[0].name
    assert card_reader.status().code == "ok"


@pytest.mark.parametrize("garbage", [b"\x00\x13\xffnoise", b"\xaa\xaa\x96", PREAMBLE + b"\x00\x05",
                                     PREAMBLE + b"\xff\xff" + bytes(20)])
def test_garbage_before_a_good_reply(card_sim, card_reader, garbage):
    card_sim.insert(2)
    card_sim.inject_garbage(garbage)
    assert card_reader.read_card().name == SAMPLE_CARDS[2].name
    assert card_sim.counts["find"] == 1  # recovered without asking again


def test_silence_is_not_answering(card_sim, card_reader):
    seen = []
    card_reader.subscribe(lambda component, status: seen.append((component, status.code)))
    card_sim.silence(True)
    with pytest.raises(ReaderNotAnswering, match=f"{card_sim.path} did not answer find card within 200 ms"):
        card_reader.find()
    assert card_reader.status().code == "not_answering" and card_reader.status().level is Level.FAULT
    card_sim.silence(False)
    with pytest.raises(NoCard):
        card_reader.find()
    assert seen == [("card_reader", "not_answering"), ("card_reader", "ok")]


def test_line_noise_is_not_answering_and_says_so(card_sim, card_reader):
    card_sim.noise(True)
    with pytest.raises(ReaderNotAnswering, match="not a valid reply"):
        card_reader.sam_status()


def test_unplugged_reader_comes_back(card_sim, card_reader):
    card_sim.insert(0)
    assert card_reader.read_card().name == SAMPLE_CARDS[0].name
    card_sim.unplug()
    with pytest.raises(ReaderGone, match=card_sim.path):
        card_reader.find()
    assert card_reader.status().code == "disconnected" and card_reader.status().level is Level.FAULT
    with pytest.raises(ReaderGone):  # fails fast while reconnecting
        card_reader.find()
    card_sim.replug()
    wait_until(lambda: card_reader.status().code == "ok", what="reconnect")
    assert card_reader.read_card().name == SAMPLE_CARDS[0].name


def test_port_missing_at_start_then_appearing(tmp_path):
    path = tmp_path / "card-reader"
    reader = CardReader(str(path))
    try:
        with pytest.raises(ReaderGone, match=f"{path} is missing"):
            reader.find()
        assert reader.status().code == "disconnected"
        with CardReaderSim(link_dir=tmp_path) as sim:
            sim.insert(3)
            wait_until(lambda: reader.status().code == "ok", what="port to appear")
            assert reader.read_card().kind is CardKind.HMT_PERMIT
    finally:
        reader.close()


def test_sim_buffers_a_command_split_across_writes(card_sim):
    # independent of the driver: raw pyserial, command bytes from DEVICES.md
    with serial.Serial(card_sim.path, 115200, timeout=1) as port:
        port.write(bytes.fromhex("AA AA AA 96"))
        port.flush()
        time.sleep(0.05)
        port.write(bytes.fromhex("69 00 03 11 FF ED"))
        assert port.read(11) == reply_frame(0x90)
        port.write(bytes.fromhex("AA AA AA 96 69 00 03 11 FF EE"))  # bad checksum
        assert port.read(11) == reply_frame(0x10)


def test_concurrent_callers_do_not_interleave_frames(card_sim, card_reader):
    card_sim.insert(0)
    errors, names = [], []

    def worker():
        for _ in range(3):
            try:
                names.append(card_reader.read_card().name)
            except Exception as e:  # collected and asserted below
                errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == [] and names == [SAMPLE_CARDS[0].name] * 9


def test_watcher_fires_once_per_insertion(card_sim, card_reader):
    cards = []
    watcher = CardWatcher(card_reader, cards.append).start()
    try:
        card_sim.insert(0)
        wait_until(lambda: len(cards) == 1, what="first card")
        finds = card_sim.counts["find"]
        wait_until(lambda: card_sim.counts["find"] >= finds + 5, what="more polls")
        assert len(cards) == 1  # left on the reader: not again
        card_sim.remove()
        finds = card_sim.counts["find"]
        wait_until(lambda: card_sim.counts["find"] >= finds + 2, what="removal seen")
        card_sim.insert(1)
        wait_until(lambda: len(cards) == 2, what="second card")
        watcher.forget()  # session wiped: the same card counts again
        wait_until(lambda: len(cards) == 3, what="card after forget")
    finally:
        watcher.stop()
    assert [c.name for c in cards] == [SAMPLE_CARDS[0].name, SAMPLE_CARDS[1].name, SAMPLE_CARDS[1].name]
    assert card_sim.counts["read"] == 3


def test_wait_for_card_returns_the_card_put_on_the_reader(card_sim, card_reader):
    assert card_reader.wait_for_card(timeout=0.3) is None  # empty reader: times out, no exception
    threading.Timer(0.2, card_sim.insert, args=(2,)).start()
    record = card_reader.wait_for_card(timeout=10)
    assert record is not None and record.name == SAMPLE_CARDS[2].name
    stop = threading.Event()
    stop.set()  # a kiosk shutting down: returns at once even with a card on the reader
    assert card_reader.wait_for_card(stop=stop) is None


def test_watcher_reports_each_error_once_and_gives_up_on_an_unreadable_card(card_sim, card_reader):
    cards, errors = [], []
    watcher = CardWatcher(card_reader, cards.append, errors.append, max_attempts=2)
    card_sim.insert(0)
    for _ in range(2):
        card_sim.fail_next("read", 0x41)
        watcher.poll_once()
    watcher.poll_once()  # two attempts used: no third read for this insertion
    assert cards == [] and card_sim.counts["read"] == 2
    assert len(errors) == 1 and isinstance(errors[0], CardReadError)
    card_sim.silence(True)
    watcher.poll_once()
    watcher.poll_once()
    assert len(errors) == 2 and isinstance(errors[1], ReaderNotAnswering)
    card_sim.silence(False)
    card_sim.remove()
    watcher.poll_once()
    card_sim.insert(0)
    watcher.poll_once()
    assert [c.name for c in cards] == [SAMPLE_CARDS[0].name]


def test_watcher_survives_a_failing_callback(card_sim, card_reader):
    def boom(record):
        raise RuntimeError("ui bug")

    watcher = CardWatcher(card_reader, boom)
    card_sim.insert(0)
    watcher.poll_once()  # must not raise
    watcher.poll_once()
    assert card_sim.counts["read"] == 1


def test_nothing_personal_is_logged(card_sim, card_reader, caplog):
    caplog.set_level(logging.DEBUG)
    for index in range(len(SAMPLE_CARDS)):
        card_sim.insert(index)
        card_reader.read_card()
        card_reader.read(with_fingerprint=True)
    card_sim.fail_next("read", 0x41)
    with pytest.raises(CardReadError):
        card_reader.read_card()
    card_sim.corrupt_next_checksum(2)
    with pytest.raises(ProtocolError):
        card_reader.find()
    card_sim.unplug()
    with pytest.raises(ReaderGone):
        card_reader.find()
    assert any(r.getMessage() == "card read" for r in caplog.records)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for card in SAMPLE_CARDS:
        for secret in (card.id_number, card.name, card.address, card.extra.get("name_zh", "")):
            if secret:
                assert secret not in logged
