"""GA 467 framing: command bytes from DEVICES.md, the incremental parser, status words.

Reply frames for these tests come from the simulator's own encoder (devices.sim.card_reader
.reply_frame) and from the literal samples in DEVICES.md, not from the driver's code.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.idcard.errors import ChecksumError, ProtocolError, ReaderError
from devices.idcard.protocol import SW3, Command, Frame, FrameParser, encode_command, parse_sam_id, sw3_name
from devices.sim.card_reader import reply_frame

# DEVICES.md, command table, byte for byte.
COMMAND_BYTES = {
    Command.RESET_SAM: "AA AA AA 96 69 00 03 10 FF EC",
    Command.SAM_STATUS: "AA AA AA 96 69 00 03 11 FF ED",
    Command.READ_SAM_ID: "AA AA AA 96 69 00 03 12 FF EE",
    Command.FIND_CARD: "AA AA AA 96 69 00 03 20 01 22",
    Command.SELECT_CARD: "AA AA AA 96 69 00 03 20 02 21",
    Command.READ_TEXT_PHOTO: "AA AA AA 96 69 00 03 30 01 32",
    Command.READ_NEW_ADDRESS: "AA AA AA 96 69 00 03 30 03 30",
    Command.READ_WITH_FINGERPRINT: "AA AA AA 96 69 00 03 30 10 23",
}
SAM_OK = bytes.fromhex("AA AA AA 96 69 00 04 00 00 90 94")
FIND_OK = bytes.fromhex("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97")
NO_CARD = bytes.fromhex("AA AA AA 96 69 00 04 00 00 80 84")
SELECT_FAIL = bytes.fromhex("AA AA AA 96 69 00 04 00 00 81 85")
READ_FAIL = bytes.fromhex("AA AA AA 96 69 00 04 00 00 41 45")

# DEVICES.md, SW3 table.
DOC_SW3 = {0x90, 0x9F, 0x91, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x41, 0x47,
           0x60, 0x66, 0x80, 0x81}


@pytest.mark.parametrize("command", list(Command))
def test_command_bytes_are_exactly_as_documented(command):
    assert encode_command(command) == bytes.fromhex(COMMAND_BYTES[command])
    assert encode_command(command.cmd, command.para) == bytes.fromhex(COMMAND_BYTES[command])


def test_sample_replies_parse():
    frames = FrameParser().feed(SAM_OK + FIND_OK + NO_CARD + SELECT_FAIL + READ_FAIL)
    assert frames == [Frame(0x90), Frame(0x9F, bytes(4)), Frame(0x80), Frame(0x81), Frame(0x41)]


def test_simulator_frames_match_the_documented_samples():
    assert reply_frame(0x90) == SAM_OK
    assert reply_frame(0x9F, bytes(4)) == FIND_OK


def test_every_documented_sw3_has_a_name_and_meaning():
    assert {int(c) for c in SW3} == DOC_SW3
    for code in DOC_SW3:
        assert sw3_name(code) == SW3(code).name.lower()
        assert SW3(code).meaning
    assert sw3_name(0x55) == "sw3_0x55"


def test_frame_repr_shows_no_data():
    assert "扎" not in repr(Frame(0x90, "扎西".encode("utf-16-le")))


def test_parser_is_incremental_byte_by_byte():
    parser = FrameParser()
    stream = FIND_OK + reply_frame(0x90, bytes(range(200)))
    got = [f for b in stream for f in parser.feed(bytes([b]))]
    assert got == [Frame(0x9F, bytes(4)), Frame(0x90, bytes(range(200)))]
    assert parser.pending == 0


def test_parser_skips_garbage_and_resynchronises():
    parser = FrameParser()
    garbage = b"\x00\xff\x13noise\xaa\xaa\x96"  # includes a partial preamble
    assert parser.feed(garbage + SAM_OK) == [Frame(0x90)]
    assert parser.skipped == len(garbage)


def test_parser_finds_the_real_frame_behind_a_false_preamble():
    parser = FrameParser()
    fake = b"\xaa\xaa\xaa\x96\x69\x00\x05"  # claims 5 more bytes: swallows the real preamble
    with pytest.raises(ChecksumError) as e:
        parser.feed(fake + SAM_OK)
    # the false frame failed its checksum; the real one is found in the same call
    assert e.value.frames == [Frame(0x90)]


@pytest.mark.parametrize("length", [b"\x00\x00", b"\x00\x03", b"\xff\xff"])
def test_parser_treats_impossible_length_as_noise(length):
    assert FrameParser().feed(b"\xaa\xaa\xaa\x96\x69" + length + SAM_OK) == [Frame(0x90)]


def test_checksum_error_is_raised_and_keeps_good_frames():
    bad = SAM_OK[:-1] + bytes([SAM_OK[-1] ^ 0x01])
    parser = FrameParser()
    with pytest.raises(ChecksumError) as e:
        parser.feed(FIND_OK + bad + NO_CARD)
    assert e.value.count == 1
    assert e.value.frames == [Frame(0x9F, bytes(4)), Frame(0x80)]
    assert isinstance(e.value, ReaderError)
    assert parser.feed(SAM_OK) == [Frame(0x90)]  # the parser carries on


def test_parse_sam_id():
    data = bytes((0x05, 0x77, 0x01, 0x00)) + struct.pack("<III", 20101025, 12345, 1234567890)
    assert parse_sam_id(data) == "05.01-20101025-0000012345-1234567890"
    with pytest.raises(ProtocolError):
        parse_sam_id(data[:15])


frames = st.builds(reply_frame, st.integers(0, 255), st.binary(max_size=300))


@st.composite
def mutated_frames(draw):
    frame = bytearray(draw(frames))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "drop", "insert"]))
        i = draw(st.integers(0, len(frame) - 1))
        if op == "flip":
            frame[i] ^= draw(st.integers(1, 255))
        elif op == "drop":
            del frame[i]
        else:
            frame.insert(i, draw(st.integers(0, 255)))
    return bytes(frame)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=64), frames, mutated_frames()), max_size=12),
       st.lists(st.integers(1, 64), min_size=1, max_size=20))
def test_parser_fuzz_only_raises_its_own_errors_and_terminates(pieces, cuts):
    stream = b"".join(pieces)
    parser = FrameParser()
    pos, i = 0, 0
    while pos < len(stream):
        chunk = stream[pos:pos + cuts[i % len(cuts)]]
        pos += len(chunk)
        i += 1
        try:
            got = parser.feed(chunk)
        except ChecksumError as e:
            got = e.frames
        for frame in got:
            assert 0 <= frame.sw3 <= 255
    assert parser.pending <= len(stream)


@settings(max_examples=200, deadline=None)
@given(st.lists(frames, min_size=1, max_size=6), st.binary(max_size=40),
       st.lists(st.integers(1, 50), min_size=1, max_size=10))
def test_parser_recovers_every_valid_frame_after_noise(valid, noise, cuts):
    noise = noise.replace(b"\xaa", b"\x55")  # noise without preamble bytes
    stream = noise + b"".join(valid)
    parser, got, pos, i = FrameParser(), [], 0, 0
    while pos < len(stream):
        chunk = stream[pos:pos + cuts[i % len(cuts)]]
        pos += len(chunk)
        i += 1
        got += parser.feed(chunk)
    expected = FrameParser().feed(b"".join(valid))
    assert got == expected and len(got) == len(valid)
