"""ESC/POS byte builders and the DLE EOT status decoder, checked against shared/DEVICES.md."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.printer import escpos


def test_command_bytes_match_the_protocol_table():
    assert escpos.init() == bytes.fromhex("1B40")
    assert escpos.cut() == bytes.fromhex("1D5600")
    assert escpos.cut(partial=True) == bytes.fromhex("1D5601")
    assert escpos.feed(3) == bytes.fromhex("1B6403")
    assert [escpos.status_query(n) for n in (1, 2, 3, 4)] == [bytes.fromhex(f"10040{n}") for n in (1, 2, 3, 4)]
    assert escpos.transmit_paper_status() == bytes.fromhex("1D7201")


@pytest.mark.parametrize("bad", [lambda: escpos.feed(256), lambda: escpos.feed(-1),
                                 lambda: escpos.status_query(0), lambda: escpos.status_query(5),
                                 lambda: escpos.decode_status(5, 0x12), lambda: escpos.decode_status(1, 256)])
def test_out_of_range_arguments_are_refused(bad):
    with pytest.raises(ValueError):
        bad()


def test_all_clear_byte_0x12_sets_no_flag_for_any_query():
    for n in (1, 2, 3, 4):
        decoded = escpos.decode_status(n, 0x12)
        assert not decoded.garbled
        assert decoded.flags and not any(decoded.flags.values())


def test_0x1e_is_paper_near_end_but_not_paper_end():
    decoded = escpos.decode_status(4, 0x1E)
    assert decoded["paper_near_end"] and not decoded["paper_end"]


@pytest.mark.parametrize("byte", [0x72, 0x7E])
def test_0x72_and_0x7e_are_paper_end(byte):
    assert escpos.decode_status(4, byte)["paper_end"]


@pytest.mark.parametrize("n,byte,flag", [
    (1, 0x1A, "offline"), (1, 0x32, "waiting_online_recovery"), (1, 0x52, "feed_button_pressed"),
    (2, 0x16, "cover_open"), (2, 0x1A, "feeding_by_button"), (2, 0x32, "stopped_paper_end"), (2, 0x52, "error"),
    (3, 0x16, "recoverable_error"), (3, 0x1A, "autocutter_error"), (3, 0x32, "unrecoverable_error"),
    (3, 0x52, "auto_recoverable_error"),
])
def test_each_bit_of_the_table_sets_only_its_flag(n, byte, flag):
    decoded = escpos.decode_status(n, byte)
    assert [k for k, v in decoded.flags.items() if v] == [flag]


@pytest.mark.parametrize("byte", [0x00, 0xFF, 0x13, 0x92, 0x02, 0x10, 0x16 | 0x80, 0x1C])
def test_bytes_outside_the_fixed_pattern_are_garbled_not_ok(byte):
    decoded = escpos.decode_status(4, byte)
    assert decoded.garbled
    assert decoded.flags == {}


@given(st.integers(0, 255), st.integers(1, 4))
def test_garbled_exactly_when_the_fixed_bits_are_wrong(byte, n):
    # pattern 0xx1xx10: bit 7 = 0, bit 4 = 1, bit 1 = 1, bit 0 = 0
    fixed_ok = not byte & 0x80 and byte & 0x10 and byte & 0x02 and not byte & 0x01
    assert escpos.decode_status(n, byte).garbled == (not fixed_ok)


def _headers(data: bytes) -> list[tuple[int, int]]:
    """(bytes per row, rows) of each GS v 0 band, walking the stream."""
    out, i = [], 0
    while i < len(data):
        assert data[i:i + 4] == bytes.fromhex("1D763000")
        x, y = data[i + 4] | data[i + 5] << 8, data[i + 6] | data[i + 7] << 8
        out.append((x, y))
        i += 8 + x * y
    assert i == len(data)
    return out


def test_raster_packs_rows_msb_first_with_one_as_black_and_pads_to_whole_bytes():
    img = np.zeros((3, 10), dtype=bool)
    img[0, 0] = True  # leftmost dot of row 0 -> bit 7 of byte 0
    img[1, 9] = True  # dot 9 of row 1 -> bit 6 of byte 1
    img[2, :] = True  # a full row: 10 dots, the 6 padding bits stay white
    data = escpos.raster(img)
    assert data[:8] == bytes([0x1D, 0x76, 0x30, 0, 2, 0, 3, 0])
    assert data[8:] == bytes([0x80, 0x00, 0x00, 0x40, 0xFF, 0xC0])


def test_tall_images_are_split_into_bands_the_printer_buffer_can_take():
    img = np.ones((2500, 576), dtype=bool)
    assert _headers(escpos.raster(img)) == [(72, 1000), (72, 1000), (72, 500)]
    assert _headers(escpos.raster(img, band_rows=24))[-1] == (72, 2500 % 24)


def test_raster_rejects_non_images():
    with pytest.raises(ValueError):
        escpos.raster(np.zeros(10, dtype=bool))
    assert escpos.raster(np.zeros((0, 576), dtype=bool)) == b""
