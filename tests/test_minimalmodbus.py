"""Tests of the core driver, minimalmodbus.py (issue "the core driver").

In the order of STYLE.md: pure helpers with known values, round trips,
framing and each defect, every public method through dummy_serial in both
modes, error paths, settings, input validation, and a self-check of the
frame tables.

The frame tables are at the end of the module. A test takes an entry of a
table as an argument named after the table (``recorded``, ``exchange``,
``bad_frame``, ``literal``); ``pytest_generate_tests`` parametrizes it. Frames
that were not recorded are built with the tests' own CRC and LRC
(frames.py; ``rtu``, ``asc``, ``frame``), never with minimalmodbus's, so a
checksum bug cannot hide behind itself.

Time is never spent for real: the ``dummy`` and ``fake_clock`` fixtures of
conftest.py put one fake clock behind both modules, and time is asserted
through ``fake_clock.sleeps`` and ``fake_clock.time``.
"""

from __future__ import annotations

import logging
import math
import re
import struct
from collections.abc import Iterable
from typing import Any, NamedTuple

import pytest
import serial
from calls import Call, call, count_calls, instant, silent, splice
from conftest import as_dummy
from frames import checksum_ok, crc16, frame, wire_time
from hypothesis import given, settings
from hypothesis import strategies as st

import dummy_serial
import minimalmodbus
from minimalmodbus import (
    BYTEORDER_BIG,
    BYTEORDER_BIG_SWAP,
    BYTEORDER_LITTLE,
    BYTEORDER_LITTLE_SWAP,
    MODE_ASCII,
    MODE_RTU,
    IllegalRequestError,
    Instrument,
    InvalidResponseError,
    LocalEchoError,
    MasterReportedException,
    ModbusException,
    NegativeAcknowledgeError,
    NoResponseError,
    SlaveDeviceBusyError,
    SlaveReportedException,
)

PORT = "/dev/ttyUSB0"
TIMEOUT = 0.05  # the timeout of a port opened by name (API.md)
BROADCAST_DELAY = 0.2  # the default broadcast delay (API.md)
DEBUG_PREFIX = "MinimalModbus debug mode. "
MODES = [MODE_RTU, MODE_ASCII]
BYTEORDERS = [BYTEORDER_BIG, BYTEORDER_LITTLE, BYTEORDER_BIG_SWAP, BYTEORDER_LITTLE_SWAP]


# ---------------------------------------------------------------------------
# Frames: frames.py is the tests' second opinion on the driver's; shorthands
# ---------------------------------------------------------------------------


def h(text: str) -> bytes:
    """Bytes from hex with any spaces, e.g. ``h("0a 03 02")``."""
    return bytes.fromhex(text)


def rtu(content: str) -> bytes:
    """An RTU frame around content given in hex."""
    return frame(MODE_RTU, content)


def asc(content: str) -> bytes:
    """An ASCII frame around content given in hex."""
    return frame(MODE_ASCII, content)


def content_of(mode: str, wire: bytes) -> bytes:
    """The content of a frame: without colon, checksum and CR LF (nothing is checked)."""
    if mode == MODE_RTU:
        return wire[:-2]
    return h(wire[1:-2].decode())[:-1]


def words(values: Iterable[int]) -> str:
    """16-bit values as hex, big-endian, e.g. ``words([1, 258]) == "0001 0102"``."""
    return " ".join(f"{value:04x}" for value in values)


def check(mode: str, request: bytes, response: bytes) -> bytes:
    """``minimalmodbus._check_response`` on a request frame and a response frame."""
    content = content_of(mode, request)
    built = minimalmodbus._new_request(mode, content[0], content[1], content[2:])
    assert built.frame == request
    return minimalmodbus._check_response(built, response)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the arguments named after the frame tables at the end of the module."""
    tables: dict[str, list[Any]] = {
        "recorded": RECORDED,
        "exchange": EXCHANGES,
        "bad_frame": BAD_FRAMES,
        "literal": LITERAL_FRAMES,
    }
    for argument, table in tables.items():
        if argument in metafunc.fixturenames:
            metafunc.parametrize(argument, table, ids=[str(entry) for entry in table])


# ---------------------------------------------------------------------------
# 1. Pure helpers with known values
# ---------------------------------------------------------------------------


def test_module_attributes() -> None:
    assert re.fullmatch(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", minimalmodbus.__version__)
    for name in ("__license__", "__author__", "__url__"):
        assert isinstance(getattr(minimalmodbus, name), str)
    assert (MODE_RTU, MODE_ASCII) == ("rtu", "ascii")
    assert BYTEORDERS == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "exception_class, base",
    [
        (ModbusException, IOError),
        (SlaveReportedException, ModbusException),
        (SlaveDeviceBusyError, SlaveReportedException),
        (NegativeAcknowledgeError, SlaveReportedException),
        (IllegalRequestError, SlaveReportedException),
        (MasterReportedException, ModbusException),
        (NoResponseError, MasterReportedException),
        (LocalEchoError, MasterReportedException),
        (InvalidResponseError, MasterReportedException),
    ],
)
def test_exception_hierarchy(exception_class: type[Exception], base: type[Exception]) -> None:
    # API.md part A: the 2.x tree, all IOError (= OSError) subclasses
    assert exception_class.__bases__ == (base,)
    assert issubclass(exception_class, OSError)


def test_crc16_check_value() -> None:
    # MODBUS.md: the check value of CRC-16/MODBUS is the CRC of ASCII "123456789"
    assert minimalmodbus._crc16(b"123456789") == 0x4B37
    assert crc16(b"123456789") == 0x4B37  # and the tests' own CRC (frames.py) agrees
    assert minimalmodbus._crc16(b"") == 0xFFFF  # the initial value, no final XOR


@given(st.binary(max_size=300))
def test_crc16_agrees_with_bitwise_crc(data: bytes) -> None:
    assert minimalmodbus._crc16(data) == crc16(data)


def test_checksum_of_literal_frame(literal: LiteralFrame) -> None:
    # A frame including its own CRC gives 0 (MODBUS.md); the CRC is sent low byte first
    if literal.mode == MODE_RTU:
        assert minimalmodbus._crc16(literal.frame) == 0
        assert minimalmodbus._crc16(literal.frame[:-2]).to_bytes(2, "little") == literal.frame[-2:]
    else:
        lrc_sent = h(literal.frame[-4:-2].decode())[0]
        assert minimalmodbus._lrc(content_of(MODE_ASCII, literal.frame)) == lrc_sent


@pytest.mark.parametrize(
    "content, expected",
    [
        # Serial Line §2.5.2.2: LRC = two's complement of the 8-bit sum of the bytes.
        ("01 03 00 00 00 0a", 0xF2),  # sum 0x0E; 0x100 - 0x0E = 0xF2
        ("11 03 00 6b 00 03", 0x7E),  # PI-MBUS-300 ASCII example ":1103006B00037E": sum 0x82
        ("0a 03 02 07 d0", 0x1A),  # sum 0xE6 (230); 256 - 230 = 26
        ("", 0x00),
        ("ff", 0x01),
        ("80 80", 0x00),  # the sum is taken modulo 256
    ],
)
def test_lrc_known_values(content: str, expected: int) -> None:
    assert minimalmodbus._lrc(h(content)) == expected


@given(st.binary(max_size=300))
def test_lrc_makes_the_sum_zero(data: bytes) -> None:
    assert 0 <= minimalmodbus._lrc(data) <= 255
    assert (sum(data) + minimalmodbus._lrc(data)) % 256 == 0


@pytest.mark.parametrize(
    "mode, slaveaddress, functioncode, payload, expected",
    [
        # DTB4824 recording: read_register(4097, 1) on slave 10
        (MODE_RTU, 10, 3, "1001 0001", h("0a 03 10 01 00 01 d0 71")),
        # PI-MBUS-300 example: read holding registers 40108..40110 of slave 17
        (MODE_RTU, 17, 3, "006b 0003", h("11 03 00 6b 00 03 76 87")),
        (MODE_ASCII, 17, 3, "006b 0003", b":1103006B00037E\r\n"),
        # ':' + upper-case hex of address, function code, data and LRC + CR LF
        (MODE_ASCII, 1, 3, "0000 000a", b":01030000000AF2\r\n"),
        (MODE_ASCII, 10, 5, "0814 ff00", b":0A050814FF00D6\r\n"),  # sum 0x12A -> LRC 0xD6
        (MODE_ASCII, 1, 7, "", b":0107F8\r\n"),
    ],
)
def test_build_frame_known_values(
    mode: str, slaveaddress: int, functioncode: int, payload: str, expected: bytes
) -> None:
    assert minimalmodbus._new_request(mode, slaveaddress, functioncode, h(payload)).frame == expected


def test_recorded_frames_through_the_pure_helpers(recorded: Recorded) -> None:
    request, response = recorded.request, recorded.response
    assert minimalmodbus._new_request(MODE_RTU, request[0], request[1], request[2:-2]).frame == request
    if response:
        assert minimalmodbus._predict_response_size(MODE_RTU, request[1], request[2:-2]) == len(response)
        assert check(MODE_RTU, request, response) == response[2:-2]


@given(st.integers(0, 247), st.integers(1, 127), st.binary(max_size=252), st.sampled_from(MODES))
def test_build_frame_agrees_with_own_frames(
    slaveaddress: int, functioncode: int, payload: bytes, mode: str
) -> None:
    expected = frame(mode, bytes([slaveaddress, functioncode]) + payload)
    assert minimalmodbus._FORMATS[mode].build(bytes((slaveaddress, functioncode)) + payload) == expected


def test_hex() -> None:
    # STYLE.md: frames in messages as "01 03 02 00 BA 39 F7 (7 bytes)"
    assert minimalmodbus._hex(h("01 03 02 00 ba 39 f7")) == "01 03 02 00 BA 39 F7 (7 bytes)"
    assert minimalmodbus._hex(h("1e 29"), with_length=False) == "1E 29"
    assert minimalmodbus._hex(b"") == "(nothing)"


def bit_list(text: str) -> list[int]:
    """Bits written in the order they are read, e.g. ``bit_list("10110011 101")``."""
    return [int(bit) for bit in text.replace(" ", "")]


@pytest.mark.parametrize(
    "packed, bits",
    [
        # Each byte's bits LSB first: CD = 1100 1101 is read 1011 0011.
        # Application Protocol §6.1 example, Read Coils 20..38: CD 6B 05
        ("cd 6b 05", bit_list("10110011 11010110 101")),
        # Application Protocol §6.2 example, Read Discrete Inputs 197..218: AC DB 35
        ("ac db 35", bit_list("00110101 11011011 101011")),
        # Application Protocol §6.11 example, Write Multiple Coils 20..29: CD 01
        ("cd 01", bit_list("10110011 10")),
        # PI-MBUS-300 example, Read Coil Status 20..56 of slave 17: CD 6B B2 0E 1B
        ("cd 6b b2 0e 1b", bit_list("10110011 11010110 01001101 01110000 11011")),
        ("01", [1]),
        ("80", bit_list("00000001")),
    ],
)
def test_bits_are_packed_lsb_first(packed: str, bits: list[int]) -> None:
    # The first bit is bit 0 of the first byte; unused high bits of the last byte are 0
    assert minimalmodbus._bytes_to_bits(h(packed), len(bits)) == bits
    assert minimalmodbus._bits_to_bytes(bits) == h(packed)


@pytest.mark.parametrize(
    "byteorder, four_bytes, eight_bytes",
    [
        # The table in the read_long docstring, for the value 0xABCD (and 0xABCDEFGH)
        (BYTEORDER_BIG, b"ABCD", b"ABCDEFGH"),
        (BYTEORDER_LITTLE, b"DCBA", b"HGFEDCBA"),
        (BYTEORDER_BIG_SWAP, b"BADC", b"BADCFEHG"),
        (BYTEORDER_LITTLE_SWAP, b"CDAB", b"GHEFCDAB"),
    ],
)
def test_reorder(byteorder: int, four_bytes: bytes, eight_bytes: bytes) -> None:
    assert minimalmodbus._reorder(b"ABCD", byteorder) == four_bytes
    assert minimalmodbus._reorder(b"ABCDEFGH", byteorder) == eight_bytes
    # and back: the same function serves both directions
    assert minimalmodbus._reorder(four_bytes, byteorder) == b"ABCD"
    assert minimalmodbus._reorder(eight_bytes, byteorder) == b"ABCDEFGH"


@pytest.mark.parametrize(
    "value, number_of_decimals, register",
    [
        (325.8, 1, 3258),  # DTB4824 recording: write_register(4097, 325.8, 1) writes 3258
        (18.6, 1, 186),
        (200, 0, 200),
        (0.29, 2, 29),  # 0.29 * 100 = 28.999999999999996, but the value written is 0.29
        (2.55, 2, 255),  # 2.x's int(2.55 * 100) gave 254 (issue 10, item 3)
        (12.7, 0, 12),  # truncated toward zero, as 2.x (issue 10, item 3)
        (95.56, 1, 955),  # 2.x sends 955 (issue 10, item 3)
        (-1.5, 0, -1),  # toward zero, not down (issue 10, item 3)
        (1.4, 0, 1),
        (1.6, 0, 1),
        (-0.5, 1, -5),
        (-0.59, 1, -5),
        (6.5535e-06, 10, 65535),
        (True, 0, 1),
        (2**53 + 1, 0, 2**53 + 1),  # an int stays exact
    ],
)
def test_scale_up(value: float, number_of_decimals: int, register: int) -> None:
    result = minimalmodbus._scale_up(value, number_of_decimals)
    assert result == register
    assert type(result) is int


@pytest.mark.parametrize(
    "register, number_of_decimals, value",
    [
        # As 2.x's _generic_command: a float with decimals (read_register then gives
        # an int when the value is whole, test_call and test_compat_2x.py)
        (2000, 1, 200.0),  # DTB4824 recording: 0x07D0 with one decimal
        (3258, 1, 325.8),
        (186, 1, 18.6),
        (150, 1, 15.0),
        (65535, 10, 6.5535e-06),
        (-5, 1, -0.5),
        (-20, 1, -2.0),
        (0, 3, 0.0),
        (2000, 0, 2000),  # an int without decimals
    ],
)
def test_scale_down(register: int, number_of_decimals: int, value: float) -> None:
    result = minimalmodbus._scale_down(register, number_of_decimals)
    assert result == value
    assert type(result) is type(value)


# Per function code: the response length without checksum (MODBUS.md, Application
# Protocol §6): a fixed length; "count": a 1-byte byte count after the function
# code, "count2": a 2-byte one (fc 24), "objects": the object list of fc 43.
RESPONSE_LAYOUTS: dict[int, int | str] = {
    1: "count",
    2: "count",
    3: "count",
    4: "count",
    5: 6,  # echo of address and value
    6: 6,
    7: 3,  # one status byte
    # As long as the request (return query data echoes any number of words):
    # the header cannot tell, the request's length does (_predict_response_size).
    8: "as long as the request",
    11: 6,  # status 2, event count 2
    12: "count",
    15: 6,  # start 2, quantity 2
    16: 6,
    17: "count",
    20: "count",
    21: "count",
    22: 8,  # echo of address, AND mask, OR mask
    23: "count",
    24: "count2",
    43: "objects",  # Read Device Identification: a list of (id, length, value) objects
}


def test_response_layouts_cover_every_function_code() -> None:
    assert set(RESPONSE_LAYOUTS) == set(minimalmodbus._FUNCTION_CODES)


@pytest.mark.parametrize("functioncode, layout", RESPONSE_LAYOUTS.items())
def test_response_length(functioncode: int, layout: int | str) -> None:
    def length(*rest: int) -> int | None:
        return minimalmodbus._response_length(bytes([1, functioncode, *rest]))

    if layout == "count":
        assert length() == 3  # partial header: the byte count is needed first
        assert length(0) == 3
        assert length(4) == 7
        assert length(250, 0, 0) == 253
    elif layout == "objects":
        # MEI type 0E, read code, conformity, more follows, next id, number of objects
        assert length() == 8
        assert length(0x0E, 1, 1, 0, 0) == 8
        assert length(0x0E, 1, 1, 0, 0, 0) == 8  # no objects
        assert length(0x0E, 1, 1, 0, 0, 2) == 10  # the first object's id and length first
        assert length(0x0E, 1, 1, 0, 0, 2, 0, 3, *b"abc") == 15
        assert length(0x0E, 1, 1, 0, 0, 2, 0, 3, *b"abc", 1, 2, *b"xy") == 17
        assert length(0x0D) is None  # another MEI type
    elif layout == "count2":
        assert length() == 4
        assert length(0) == 4
        assert length(0, 6) == 10
        assert length(1, 0, 0) == 260
    elif layout == "as long as the request":
        assert length(0, 0, 0xA5, 0x37) is None
        request = b"\x00\x00\x01\x02\x03\x04"
        assert minimalmodbus._predict_response_size("rtu", functioncode, request) == 2 + 6 + 2
    else:
        assert length() == layout
        assert length(0, 0, 0) == layout


@pytest.mark.parametrize("functioncode", [1, 3, 5, 16, 17, 43, 65, 100, 127])
def test_response_length_of_exception_frame(functioncode: int) -> None:
    # MODBUS.md: an exception response is address, fc | 0x80, code (+ CRC): known from byte 2
    assert minimalmodbus._response_length(bytes([1, functioncode | 0x80])) == 3
    assert minimalmodbus._response_length(bytes([1, functioncode | 0x80, 2])) == 3


@pytest.mark.parametrize("functioncode", [9, 65, 100, 127])
def test_response_length_of_unknown_function_code(functioncode: int) -> None:
    assert minimalmodbus._response_length(bytes([1, functioncode, 2])) is None


@pytest.mark.parametrize(
    "functioncode, payload, rtu_size",
    [
        # MODBUS.md "Response lengths (RTU)"
        (1, "0013 0013", 5 + 3),  # 19 bits: 5 + ceil(19 / 8)
        (1, "0000 07d0", 5 + 250),  # 2000 bits
        (2, "00c4 0016", 5 + 3),  # 22 bits
        (3, "006b 0003", 5 + 2 * 3),
        (4, "0008 0001", 5 + 2 * 1),
        (3, "0000 007d", 5 + 2 * 125),
        (5, "00ac ff00", 8),
        (6, "0001 0003", 8),
        (15, "0013 000a 02 cd01", 8),
        (16, "0001 0002 04 000a 0102", 8),
        (7, "", 5),
        (8, "0000 a537", 8),  # Application Protocol §6.8.1 example: loopback of A537
        (11, "", 8),
        (22, "0004 00f2 0025", 10),  # Application Protocol §6.16 example
        (23, "0003 0006 000e 0003 06 00ff 00ff 00ff", 5 + 2 * 6),  # §6.17 example: 6 read
        (12, "", -1),  # -1: the response tells its length
        (17, "", -1),
        (20, "07 06 0004 0001 0002", -1),
        (24, "04de", -1),
        (43, "0e 01 00", -1),
        (65, "", -1),  # unknown function code
    ],
)
def test_predict_response_size(functioncode: int, payload: str, rtu_size: int) -> None:
    # MODBUS.md: ASCII is 1 (colon) + 2 * (RTU length - 2 CRC bytes + 1 LRC byte) + 2 (CR LF)
    ascii_size = 1 + 2 * (rtu_size - 2 + 1) + 2 if rtu_size > 0 else rtu_size
    assert minimalmodbus._predict_response_size(MODE_RTU, functioncode, h(payload)) == rtu_size
    assert minimalmodbus._predict_response_size(MODE_ASCII, functioncode, h(payload)) == ascii_size


@pytest.mark.parametrize(
    "baudrate, parity, stopbits, seconds",
    [
        # Serial Line §2.5.1.1: 3.5 character times; 1.75 ms above 19200 baud
        (19200, "N", 1, 3.5 * 10 / 19200),  # 8N1: 10 bits per character, 1.82 ms
        (9600, "E", 1, 3.5 * 11 / 9600),  # 8E1: 11 bits
        (9600, "O", 1, 3.5 * 11 / 9600),
        (9600, "N", 2, 3.5 * 11 / 9600),  # 8N2: 11 bits
        (1200, "N", 1, 3.5 * 10 / 1200),
        (38400, "N", 1, 0.00175),
        (115200, "E", 1, 0.00175),
    ],
)
def test_silent_period(baudrate: int, parity: str, stopbits: int, seconds: float) -> None:
    port = dummy_serial.Serial(baudrate=baudrate, parity=parity, stopbits=stopbits)  # never opened
    assert minimalmodbus._silent_period(port) == pytest.approx(seconds, rel=1e-12)


# ---------------------------------------------------------------------------
# 2. Round trips
# ---------------------------------------------------------------------------

LONG_RANGES = {
    (2, False): (0, 2**32 - 1),
    (2, True): (-(2**31), 2**31 - 1),
    (4, False): (0, 2**64 - 1),
    (4, True): (-(2**63), 2**63 - 1),
}


@given(st.data())
def test_long_round_trip(data: st.DataObject) -> None:
    number_of_registers, signed = data.draw(st.sampled_from(sorted(LONG_RANGES)))
    value = data.draw(st.integers(*LONG_RANGES[number_of_registers, signed]))
    byteorder = data.draw(st.sampled_from(BYTEORDERS))
    encoded = minimalmodbus._encode_long(value, signed, byteorder, number_of_registers)
    assert len(encoded) == 2 * number_of_registers
    assert minimalmodbus._decode_long(encoded, signed, byteorder) == value


@pytest.mark.parametrize("number_of_registers, signed", sorted(LONG_RANGES))
@pytest.mark.parametrize("byteorder", BYTEORDERS)
def test_long_round_trip_at_the_limits(number_of_registers: int, signed: bool, byteorder: int) -> None:
    minimum, maximum = LONG_RANGES[number_of_registers, signed]
    for value in (minimum, minimum + 1, 0, 1, maximum - 1, maximum):
        encoded = minimalmodbus._encode_long(value, signed, byteorder, number_of_registers)
        assert minimalmodbus._decode_long(encoded, signed, byteorder) == value


@given(st.sampled_from([4, 8]).flatmap(lambda size: st.binary(min_size=size, max_size=size)), st.data())
def test_long_bytes_round_trip(encoded: bytes, data: st.DataObject) -> None:
    signed = data.draw(st.booleans())
    byteorder = data.draw(st.sampled_from(BYTEORDERS))
    value = minimalmodbus._decode_long(encoded, signed, byteorder)
    assert minimalmodbus._encode_long(value, signed, byteorder, len(encoded) // 2) == encoded


@given(st.floats(allow_nan=False), st.sampled_from(BYTEORDERS))
def test_double_round_trip(value: float, byteorder: int) -> None:
    encoded = minimalmodbus._encode_float(value, byteorder, 4)
    assert len(encoded) == 8
    assert minimalmodbus._decode_float(encoded, byteorder) == value


@given(st.floats(width=32, allow_nan=False), st.sampled_from(BYTEORDERS))
def test_single_round_trip(value: float, byteorder: int) -> None:
    encoded = minimalmodbus._encode_float(value, byteorder, 2)
    assert len(encoded) == 4
    assert minimalmodbus._decode_float(encoded, byteorder) == value


@given(st.floats(min_value=-3.4e38, max_value=3.4e38), st.sampled_from(BYTEORDERS))
def test_single_rounds_a_double_to_the_nearest_single(value: float, byteorder: int) -> None:
    nearest_single = struct.unpack(">f", struct.pack(">f", value))[0]
    decoded = minimalmodbus._decode_float(minimalmodbus._encode_float(value, byteorder, 2), byteorder)
    assert decoded == nearest_single


@pytest.mark.parametrize("number_of_registers", [2, 4])
@pytest.mark.parametrize("byteorder", BYTEORDERS)
def test_nan_round_trip(number_of_registers: int, byteorder: int) -> None:
    encoded = minimalmodbus._encode_float(math.nan, byteorder, number_of_registers)
    assert math.isnan(minimalmodbus._decode_float(encoded, byteorder))


def test_bits_round_trip_exhaustive_up_to_12_bits() -> None:
    for number_of_bits in range(1, 13):
        for number in range(2**number_of_bits):
            bits = [(number >> index) & 1 for index in range(number_of_bits)]
            packed = minimalmodbus._bits_to_bytes(bits)
            assert len(packed) == (number_of_bits + 7) // 8
            assert int.from_bytes(packed, "little") == number  # LSB first
            assert minimalmodbus._bytes_to_bits(packed, number_of_bits) == bits


@given(st.lists(st.integers(0, 1), min_size=1, max_size=2000))
def test_bits_round_trip(bits: list[int]) -> None:
    packed = minimalmodbus._bits_to_bytes(bits)
    assert minimalmodbus._bytes_to_bits(packed, len(bits)) == bits


@given(st.data())
def test_string_round_trip(data: st.DataObject) -> None:
    text = data.draw(st.text(st.characters(max_codepoint=127), max_size=250))
    number_of_registers = data.draw(st.integers(max(1, (len(text) + 1) // 2), 125))
    encoded = minimalmodbus._encode_string(text, number_of_registers)
    assert len(encoded) == 2 * number_of_registers
    # padded with spaces to fill the registers; nothing stripped when read
    assert minimalmodbus._decode_string(encoded) == text.ljust(2 * number_of_registers)


def register_round_trip(data: bytes, number_of_decimals: int, signed: bool) -> bytes:
    """Decode two register bytes as a value and encode the value again."""
    register_format = minimalmodbus._Payloadformat.REGISTER
    value = minimalmodbus._decode_value(register_format, data, 1, number_of_decimals, signed, BYTEORDER_BIG)
    return minimalmodbus._encode_value(register_format, value, 1, number_of_decimals, signed, BYTEORDER_BIG)


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("number_of_decimals", [0, 1])
def test_register_round_trip_exhaustive(number_of_decimals: int, signed: bool) -> None:
    for register in range(65536):
        data = register.to_bytes(2, "big")
        assert register_round_trip(data, number_of_decimals, signed) == data


@settings(max_examples=500)
@given(st.binary(min_size=2, max_size=2), st.integers(0, 10), st.booleans())
def test_register_round_trip_with_decimals(data: bytes, number_of_decimals: int, signed: bool) -> None:
    assert register_round_trip(data, number_of_decimals, signed) == data


@pytest.mark.parametrize(
    "data, number_of_decimals, signed, value",
    [
        ("ffff", 0, False, 65535),
        ("ffff", 0, True, -1),
        ("8000", 0, True, -32768),
        ("7fff", 0, True, 32767),
        ("8000", 1, True, -3276.8),
        ("07d0", 1, False, 200.0),  # _generic_command's value, a float as in 2.x
    ],
)
def test_register_values(data: str, number_of_decimals: int, signed: bool, value: float) -> None:
    register_format = minimalmodbus._Payloadformat.REGISTER
    decoded = minimalmodbus._decode_value(
        register_format, h(data), 1, number_of_decimals, signed, BYTEORDER_BIG
    )
    assert decoded == value
    assert type(decoded) is type(value)


# ---------------------------------------------------------------------------
# 3. Framing, and each defect, through _check_response
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_check_response_returns_the_payload(exchange: Exchange, mode: str) -> None:
    request, response = frame(mode, exchange.request), frame(mode, exchange.response)
    assert check(mode, request, response) == h(exchange.response)[2:]


def test_check_response_accepts_the_good_frame_of_a_bad_one(bad_frame: BadFrame) -> None:
    payload = content_of(bad_frame.mode, bad_frame.good)[2:]
    assert check(bad_frame.mode, bad_frame.request, bad_frame.good) == payload


def test_check_response_finds_the_defect(bad_frame: BadFrame) -> None:
    with pytest.raises(InvalidResponseError) as info:
        check(bad_frame.mode, bad_frame.request, bad_frame.bad)
    error = info.value
    message = str(error)
    assert bad_frame.error in message.lower()
    assert error.request == bad_frame.request
    assert error.response == bad_frame.bad
    assert bad_frame.bad.hex(" ").upper() in message  # the frame in hex


# The class per exception code (API.md part A); the others are SlaveReportedException itself.
EXCEPTION_CLASSES: dict[int, type[SlaveReportedException]] = {
    1: IllegalRequestError,
    2: IllegalRequestError,
    3: IllegalRequestError,
    6: SlaveDeviceBusyError,
    7: NegativeAcknowledgeError,
    10: minimalmodbus.GatewayPathUnavailableError,  # Modbus TCP gateways (issue 14)
    11: minimalmodbus.GatewayTargetFailedError,
}

# The meaning of each exception code (MODBUS.md), as the message must name it (lower case).
EXCEPTION_MEANINGS = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    5: "acknowledge",
    6: "device busy",
    7: "negative acknowledge",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target",
}


def check_slave_exception(error: SlaveReportedException, code: int, functioncode: int) -> None:
    """The class, attributes and message of the exception for an exception response."""
    assert type(error) is EXCEPTION_CLASSES.get(code, SlaveReportedException)
    assert error.exception_code == code
    assert error.function_code == functioncode
    message = str(error).lower()
    assert str(code) in message
    assert EXCEPTION_MEANINGS.get(code, "") in message


@pytest.mark.parametrize("code", range(1, 12))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("request_content", ["0a 03 1001 0001", "0a 10 1001 0001 02 0cba", "0a 05 0814 ff00"])
def test_check_response_of_exception_frame(request_content: str, mode: str, code: int) -> None:
    functioncode = h(request_content)[1]
    response = frame(mode, f"0a {functioncode | 0x80:02x} {code:02x}")
    with pytest.raises(SlaveReportedException) as info:
        check(mode, frame(mode, request_content), response)
    check_slave_exception(info.value, code, functioncode)


@pytest.mark.parametrize(
    "response, problem",
    [
        ("0b 83 02", "slave address"),  # an exception frame from another slave
        ("0a 84 02", "function code"),  # an exception frame for another function code
    ],
)
@pytest.mark.parametrize("mode", MODES)
def test_check_response_of_foreign_exception_frame(mode: str, response: str, problem: str) -> None:
    with pytest.raises(InvalidResponseError, match=problem):
        check(mode, frame(mode, "0a 03 1001 0001"), frame(mode, response))


# ---------------------------------------------------------------------------
# 4. Every public method through dummy_serial, in both modes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_call(dummy: dict[bytes, bytes], fake_clock: Any, exchange: Exchange, mode: str) -> None:
    request = frame(mode, exchange.request)
    dummy[request] = frame(mode, exchange.response)
    instrument = Instrument(PORT, h(exchange.request)[0], mode)
    value = exchange.call.run(instrument)
    assert as_dummy(instrument.serial).requests == [request]
    assert value == exchange.value
    assert type(value) is type(exchange.value)
    # API.md B: returns as soon as the last byte arrives (dummy_serial delivers
    # a recorded answer as it crosses the line), never waiting out a timeout
    assert sum(fake_clock.sleeps) == pytest.approx(wire_time(request, dummy[request]), abs=1e-9)
    assert instrument.roundtrip_time == pytest.approx(wire_time(request, dummy[request]), abs=1e-9)


def test_recorded_exchange(dummy: dict[bytes, bytes], recorded: Recorded) -> None:
    dummy[recorded.request] = recorded.response  # b"" is dummy_serial.NO_DATA_PRESENT
    instrument = Instrument(PORT, recorded.request[0])
    if recorded.response:
        value = recorded.call.run(instrument)
        assert value == recorded.value
        assert type(value) is type(recorded.value)
    else:
        with pytest.raises(NoResponseError):
            recorded.call.run(instrument)
    assert as_dummy(instrument.serial).requests == [recorded.request]


def test_recorded_exchange_in_ascii(dummy: dict[bytes, bytes], recorded: Recorded) -> None:
    request = frame(MODE_ASCII, content_of(MODE_RTU, recorded.request))
    if recorded.response:
        dummy[request] = frame(MODE_ASCII, content_of(MODE_RTU, recorded.response))
    else:
        dummy[request] = dummy_serial.NO_DATA_PRESENT
    instrument = Instrument(PORT, recorded.request[0], MODE_ASCII)
    if recorded.response:
        assert recorded.call.run(instrument) == recorded.value
    else:
        with pytest.raises(NoResponseError):
            recorded.call.run(instrument)
    assert as_dummy(instrument.serial).requests == [request]


def test_recorded_dtb4824_session_in_order(dummy: dict[bytes, bytes]) -> None:
    # The DTB4824 recording as one session: 200.0, write 325.8, 325.8, bit 0, write bit
    session = [entry for entry in RECORDED if entry.device == "DTB4824"]
    answers = iter(entry.response for entry in session)
    instrument = Instrument(PORT, 10)
    as_dummy(instrument.serial).responder = lambda request: [(0.0, next(answers))]
    assert [entry.call.run(instrument) for entry in session] == [entry.value for entry in session]
    assert as_dummy(instrument.serial).requests == [entry.request for entry in session]


# ---------------------------------------------------------------------------
# 5. Error paths through dummy_serial
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_no_response(dummy: dict[bytes, bytes], mode: str) -> None:
    request = frame(mode, "0a 03 1001 0001")
    dummy[request] = dummy_serial.NO_DATA_PRESENT
    instrument = Instrument(PORT, 10, mode)
    with pytest.raises(NoResponseError) as info:
        instrument.read_register(4097, 1)
    assert info.value.request == request
    assert info.value.response == b""
    assert request.hex(" ").upper() in str(info.value)
    assert as_dummy(instrument.serial).requests == [request]


@pytest.mark.parametrize("mode", MODES)
def test_no_response_waits_one_timeout(dummy: dict[bytes, bytes], fake_clock: Any, mode: str) -> None:
    # "nothing came back in time": the port's timeout, once (as 2.x)
    dummy[frame(mode, "0a 03 1001 0001")] = dummy_serial.NO_DATA_PRESENT
    instrument = Instrument(PORT, 10, mode)
    with pytest.raises(NoResponseError):
        instrument.read_register(4097, 1)
    assert fake_clock.sleeps == pytest.approx([TIMEOUT], abs=1e-9)


def test_bad_response_through_instrument(dummy: dict[bytes, bytes], bad_frame: BadFrame) -> None:
    dummy[bad_frame.request] = bad_frame.bad
    instrument = Instrument(PORT, content_of(bad_frame.mode, bad_frame.request)[0], bad_frame.mode)
    with pytest.raises(InvalidResponseError) as info:
        bad_frame.context.call.run(instrument)
    error = info.value
    assert as_dummy(instrument.serial).requests == [bad_frame.request]
    assert error.request == bad_frame.request
    assert error.response  # something came back...
    assert bad_frame.bad.startswith(error.response)  # ...and it is what the slave sent
    assert error.response.hex(" ").upper() in str(error)


def test_good_response_through_instrument(dummy: dict[bytes, bytes], bad_frame: BadFrame) -> None:
    dummy[bad_frame.request] = bad_frame.good
    instrument = Instrument(PORT, content_of(bad_frame.mode, bad_frame.request)[0], bad_frame.mode)
    bad_frame.context.call.run(instrument)
    assert as_dummy(instrument.serial).requests == [bad_frame.request]


@pytest.mark.parametrize("mode", MODES)
def test_unknown_request_gets_the_default_response(dummy: dict[bytes, bytes], mode: str) -> None:
    instrument = Instrument(PORT, 1, mode)
    with pytest.raises(InvalidResponseError) as info:
        instrument.read_register(0)
    assert info.value.response == dummy_serial.DEFAULT_RESPONSE
    assert as_dummy(instrument.serial).requests == [frame(mode, "01 03 0000 0001")]


@pytest.mark.parametrize("code", range(1, 12))
@pytest.mark.parametrize("mode", MODES)
def test_exception_code_response(dummy: dict[bytes, bytes], fake_clock: Any, mode: str, code: int) -> None:
    dummy[frame(mode, "0a 03 1001 0001")] = frame(mode, f"0a 83 {code:02x}")
    instrument = Instrument(PORT, 10, mode)
    with pytest.raises(SlaveReportedException) as info:
        instrument.read_register(4097, 1)
    check_slave_exception(info.value, code, 3)
    # API.md B: raised as soon as the 5 bytes (RTU) arrive
    request = frame(mode, "0a 03 1001 0001")
    assert sum(fake_clock.sleeps) == pytest.approx(wire_time(request, dummy[request]), abs=1e-9)


@pytest.mark.parametrize("code", [2, 4, 6])
def test_exception_code_response_to_a_write(dummy: dict[bytes, bytes], code: int) -> None:
    dummy[rtu("0a 10 1001 0001 02 0cba")] = rtu(f"0a 90 {code:02x}")
    with pytest.raises(SlaveReportedException) as info:
        Instrument(PORT, 10).write_register(4097, 325.8, 1)
    check_slave_exception(info.value, code, 16)


@pytest.mark.parametrize("mode", MODES)
def test_local_echo(dummy: dict[bytes, bytes], mode: str) -> None:
    instrument = Instrument(PORT, 10, mode)
    instrument.handle_local_echo = True
    answer = frame(mode, "0a 03 02 07d0")
    as_dummy(instrument.serial).responder = lambda written: [(0.0, written + answer)]
    assert instrument.read_register(4097, 1) == 200.0
    assert as_dummy(instrument.serial).requests == [frame(mode, "0a 03 1001 0001")]


def change_last_byte(request: bytes) -> bytes:
    """An echo with the last byte changed."""
    return request[:-1] + bytes([request[-1] ^ 0x01])


def no_echo(request: bytes) -> bytes:
    """No echo at all."""
    return b""


@pytest.mark.parametrize("make_echo", [change_last_byte, no_echo])
@pytest.mark.parametrize("mode", MODES)
def test_local_echo_wrong(dummy: dict[bytes, bytes], mode: str, make_echo: Any) -> None:
    request = frame(mode, "0a 03 1001 0001")
    answer = frame(mode, "0a 03 02 07d0")
    instrument = Instrument(PORT, 10, mode)
    instrument.handle_local_echo = True
    as_dummy(instrument.serial).responder = lambda written: [(0.0, make_echo(written) + answer)]
    with pytest.raises(LocalEchoError) as info:
        instrument.read_register(4097, 1)
    assert info.value.request == request
    assert info.value.response == (make_echo(request) + answer)[: len(request)]


# ---------------------------------------------------------------------------
# 6. Settings
# ---------------------------------------------------------------------------

READ_REQUEST = h("01 03 00 05 00 01 94 0b")  # recorded, slave 1: read_register(5, 1)
READ_RESPONSE = h("01 03 02 00 ba 39 f7")  # 0x00BA = 186 -> 18.6


def test_port_opened_by_name(dummy: dict[bytes, bytes]) -> None:
    port = Instrument(PORT, 1).serial
    assert isinstance(port, dummy_serial.Serial)
    assert port.is_open
    assert (port.port, port.baudrate, port.bytesize, port.parity, port.stopbits) == (PORT, 19200, 8, "N", 1)
    assert (port.timeout, port.write_timeout) == (TIMEOUT, 2.0)


def test_instrument_defaults(dummy: dict[bytes, bytes]) -> None:
    instrument = Instrument(PORT, 1)
    assert instrument.address == 1
    assert instrument.mode == MODE_RTU
    assert instrument.precalculate_read_size is True
    assert instrument.debug is False
    assert instrument.clear_buffers_before_each_transaction is True
    assert instrument.close_port_after_each_call is False
    assert instrument.handle_local_echo is False
    assert instrument.inter_frame_delay is None
    assert instrument.broadcast_delay == BROADCAST_DELAY
    assert instrument.roundtrip_time is None


def test_close_port_after_each_call(dummy: dict[bytes, bytes]) -> None:
    dummy[READ_REQUEST] = READ_RESPONSE
    instrument = Instrument(PORT, 1, close_port_after_each_call=True)
    assert not instrument.serial.is_open
    assert instrument.read_register(5, 1) == 18.6  # opened for the call...
    assert not instrument.serial.is_open  # ...and closed after it
    dummy[READ_REQUEST] = dummy_serial.NO_DATA_PRESENT
    with pytest.raises(NoResponseError):
        instrument.read_register(5, 1)
    assert not instrument.serial.is_open  # also after an exception
    dummy[READ_REQUEST] = READ_RESPONSE
    assert instrument.read_register(5, 1) == 18.6  # reopened on the next call
    assert not instrument.serial.is_open
    assert as_dummy(instrument.serial).requests == [READ_REQUEST] * 3


def test_port_stays_open_by_default(dummy: dict[bytes, bytes]) -> None:
    dummy[READ_REQUEST] = READ_RESPONSE
    instrument = Instrument(PORT, 1)
    instrument.read_register(5, 1)
    assert instrument.serial.is_open


@pytest.mark.parametrize("clear", [True, False])
@pytest.mark.parametrize("stray", [b"", b"\x00"], ids=["clean line", "a byte waits"])
def test_clear_buffers_before_each_transaction(
    dummy: dict[bytes, bytes], monkeypatch: pytest.MonkeyPatch, clear: bool, stray: bytes
) -> None:
    # Issue 13: the buffers are flushed (two system calls) only when a byte waits
    # after the silence; a clean line is left alone (one look at in_waiting)
    instrument = Instrument(PORT, 1)
    port = as_dummy(instrument.serial)
    port.responder = lambda request: [(0.0, READ_RESPONSE), (0.001, stray)]  # a stray byte 1 ms later
    instrument.clear_buffers_before_each_transaction = clear
    input_resets = count_calls(monkeypatch, port, "reset_input_buffer")
    output_resets = count_calls(monkeypatch, port, "reset_output_buffer")
    assert instrument.read_register(5, 1) == 18.6
    assert instrument.read_register(5, 1) == 18.6
    expected = 1 if clear and stray else 0  # only before the second request
    assert (len(input_resets), len(output_resets)) == (expected, expected)


def test_cleared_buffers_drop_stale_bytes(dummy: dict[bytes, bytes]) -> None:
    # The first answer is followed by a stray copy with another value, left in the buffer
    stale = rtu("01 03 02 0000")
    answers = iter([READ_RESPONSE + stale, READ_RESPONSE])
    instrument = Instrument(PORT, 1)
    as_dummy(instrument.serial).responder = lambda request: [(0.0, next(answers))]
    assert instrument.read_register(5, 1) == 18.6
    assert instrument.read_register(5, 1) == 18.6


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("precalculate", [True, False])
def test_precalculate_read_size(
    dummy: dict[bytes, bytes], fake_clock: Any, mode: str, precalculate: bool
) -> None:
    # False: read until the timeout instead of a predicted length (2.x)
    request = frame(mode, "0a 03 1001 0001")
    dummy[request] = frame(mode, "0a 03 02 07d0")
    instrument = Instrument(PORT, 10, mode)
    instrument.precalculate_read_size = precalculate
    assert instrument.read_register(4097, 1) == 200.0
    seconds = wire_time(request, dummy[request]) if precalculate else TIMEOUT
    assert sum(fake_clock.sleeps) == pytest.approx(seconds, abs=1e-9)
    assert instrument.roundtrip_time == pytest.approx(seconds, abs=1e-9)


BROADCAST_WRITES = [
    (call("write_register", 1, 3), "00 10 0001 0001 02 0003"),
    (call("write_register", 1, 3, functioncode=6), "00 06 0001 0003"),
    (call("write_bit", 172, 1), "00 05 00ac ff00"),
    (call("write_bit", 172, 1, functioncode=15), "00 0f 00ac 0001 01 01"),
    (call("write_bits", 19, [1, 0, 1]), "00 0f 0013 0003 01 05"),
    (call("write_registers", 1, [10, 258]), "00 10 0001 0002 04 000a 0102"),
    (call("write_long", 1, 0x0A0B0C0D), "00 10 0001 0002 04 0a0b 0c0d"),
    (call("write_float", 1, 1.0), "00 10 0001 0002 04 3f80 0000"),
    (call("write_string", 1, "AB", 1), "00 10 0001 0001 02 4142"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "write, request_content", BROADCAST_WRITES, ids=[str(w) for w, _ in BROADCAST_WRITES]
)
def test_broadcast_writes_and_reads_nothing(
    dummy: dict[bytes, bytes],
    fake_clock: Any,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    write: Call,
    request_content: str,
) -> None:
    instrument = Instrument(PORT, 0, mode)
    port = as_dummy(instrument.serial)
    port.responder = lambda request: [(0.0, frame(mode, "01 10 0001 0001"))]  # a slave answers anyway
    reads = count_calls(monkeypatch, port, "read")
    assert write.run(instrument) is None
    assert port.requests == [frame(mode, request_content)]
    assert reads == []
    assert fake_clock.sleeps == [BROADCAST_DELAY]


def test_broadcast_delay_setting(dummy: dict[bytes, bytes], fake_clock: Any) -> None:
    instrument = Instrument(PORT, 0)
    instrument.broadcast_delay = 0.5
    as_dummy(instrument.serial).responder = silent
    instrument.write_register(1, 3)
    assert fake_clock.sleeps == [0.5]


@pytest.mark.parametrize(
    "read",
    [
        call("read_register", 1),
        call("read_bit", 1),
        call("read_bits", 1, 8),
        call("read_registers", 1, 2),
        call("read_long", 1),
        call("read_float", 1),
        call("read_string", 1, 2),
    ],
    ids=str,
)
def test_broadcast_read_is_refused_before_writing(dummy: dict[bytes, bytes], read: Call) -> None:
    instrument = Instrument(PORT, 0)
    with pytest.raises(ValueError, match="broadcast"):
        read.run(instrument)
    assert as_dummy(instrument.serial).requests == []


def test_instruments_on_one_port_name_share_the_port(dummy: dict[bytes, bytes]) -> None:
    instruments = [Instrument(PORT, slaveaddress) for slaveaddress in (1, 2, 3)]
    requests = [rtu(f"{slaveaddress:02x} 03 0005 0001") for slaveaddress in (1, 2, 3)]
    for slaveaddress, request in zip((1, 2, 3), requests):
        dummy[request] = rtu(f"{slaveaddress:02x} 03 02 {100 * slaveaddress:04x}")
    assert [instrument.read_register(5) for instrument in instruments] == [100, 200, 300]
    port = as_dummy(instruments[0].serial)
    assert all(instrument.serial is port for instrument in instruments)
    assert port.requests == requests


def test_shared_port_is_reopened(dummy: dict[bytes, bytes]) -> None:
    dummy[READ_REQUEST] = READ_RESPONSE
    first = Instrument(PORT, 1)
    first.serial.close()
    second = Instrument(PORT, 2)
    assert second.serial is first.serial
    assert second.serial.is_open
    second.serial.close()
    assert first.read_register(5, 1) == 18.6  # a call opens it too


def test_external_port_object_is_used_as_given(dummy: dict[bytes, bytes]) -> None:
    port = dummy_serial.Serial(port="COM4", baudrate=9600, timeout=0.2)
    dummy[READ_REQUEST] = READ_RESPONSE
    instrument = Instrument(port, 1)
    assert instrument.serial is port
    assert instrument.read_register(5, 1) == 18.6
    assert port.requests == [READ_REQUEST]
    assert (port.port, port.baudrate, port.timeout) == ("COM4", 9600, 0.2)


def test_port_that_fails_to_open(dummy: dict[bytes, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    class UnopenableSerial:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise serial.SerialException("could not open port /dev/ttyNothing")

    monkeypatch.setattr("minimalmodbus.serial.Serial", UnopenableSerial)
    with pytest.raises(MasterReportedException) as info:
        Instrument("/dev/ttyNothing", 1)
    assert "/dev/ttyNothing" in str(info.value)
    assert isinstance(info.value.__cause__, serial.SerialException)


@pytest.mark.parametrize("port", [123, None, 1.5, b"/dev/ttyUSB0"])
def test_port_neither_name_nor_port_object(dummy: dict[bytes, bytes], port: Any) -> None:
    with pytest.raises(MasterReportedException):
        Instrument(port, 1)


@pytest.mark.parametrize(
    "baudrate, seconds", [(19200, 3.5 * 10 / 19200), (9600, 3.5 * 10 / 9600), (115200, 0.00175)]
)
def test_inter_frame_silence(
    dummy: dict[bytes, bytes], fake_clock: Any, baudrate: int, seconds: float
) -> None:
    instrument = Instrument(PORT, 1)
    as_dummy(instrument.serial).responder = instant(READ_RESPONSE)  # only the silence takes time
    instrument.serial.baudrate = baudrate
    instrument.read_register(5, 1)
    assert fake_clock.sleeps == []  # nothing was on the line before
    fake_clock.time += 0.0005  # the program works for half a millisecond
    instrument.read_register(5, 1)
    assert fake_clock.sleeps == [pytest.approx(seconds - 0.0005, abs=1e-9)]
    fake_clock.time += 0.1  # a long pause: no silence left to wait for
    instrument.read_register(5, 1)
    assert len(fake_clock.sleeps) == 1


def test_inter_frame_silence_counts_from_the_end_of_the_answer(
    dummy: dict[bytes, bytes], fake_clock: Any
) -> None:
    instrument = Instrument(PORT, 1)
    as_dummy(instrument.serial).responder = lambda request: [(0.010, READ_RESPONSE)]  # answers after 10 ms
    instrument.read_register(5, 1)
    instrument.read_register(5, 1)
    assert fake_clock.sleeps == [
        pytest.approx(0.010, abs=1e-9),
        pytest.approx(3.5 * 10 / 19200, abs=1e-9),
        pytest.approx(0.010, abs=1e-9),
    ]


@pytest.mark.parametrize("delay, sleeps", [(0.1, [0.1]), (0, [])])
def test_inter_frame_delay(
    dummy: dict[bytes, bytes], fake_clock: Any, delay: float, sleeps: list[float]
) -> None:
    instrument = Instrument(PORT, 1)
    as_dummy(instrument.serial).responder = instant(READ_RESPONSE)  # only the silence takes time
    instrument.inter_frame_delay = delay
    instrument.read_register(5, 1)
    instrument.read_register(5, 1)
    assert fake_clock.sleeps == [pytest.approx(sleep, abs=1e-9) for sleep in sleeps]


def test_roundtrip_time(dummy: dict[bytes, bytes]) -> None:
    instrument = Instrument(PORT, 1)
    as_dummy(instrument.serial).responder = lambda request: [
        (0.004, READ_RESPONSE[:3]),
        (0.007, READ_RESPONSE[3:]),
    ]
    assert instrument.roundtrip_time is None
    instrument.read_register(5, 1)
    assert instrument.roundtrip_time == pytest.approx(0.007, abs=1e-9)
    with pytest.raises(AttributeError):
        instrument.roundtrip_time = 1.0  # type: ignore[misc]


def test_repr(dummy: dict[bytes, bytes]) -> None:
    instrument = Instrument(PORT, 1)
    assert repr(instrument) == (
        f"minimalmodbus.Instrument<id={hex(id(instrument))}, address=1, mode=rtu, "
        "close_port_after_each_call=False, precalculate_read_size=True, "
        "clear_buffers_before_each_transaction=True, handle_local_echo=False, "
        f"debug=False, serial={instrument.serial!r}>"
    )


def test_repr_after_changes(dummy: dict[bytes, bytes]) -> None:
    instrument = Instrument(PORT, 247, MODE_ASCII, close_port_after_each_call=True)
    instrument.precalculate_read_size = False
    instrument.clear_buffers_before_each_transaction = False
    instrument.handle_local_echo = True
    instrument.debug = True
    assert repr(instrument) == (
        f"minimalmodbus.Instrument<id={hex(id(instrument))}, address=247, mode=ascii, "
        "close_port_after_each_call=True, precalculate_read_size=False, "
        "clear_buffers_before_each_transaction=False, handle_local_echo=True, "
        f"debug=True, serial={instrument.serial!r}>"
    )


def test_debug_prints_every_frame_with_the_prefix(
    dummy: dict[bytes, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    dummy[READ_REQUEST] = READ_RESPONSE
    instrument = Instrument(PORT, 1, debug=True)
    assert instrument.read_register(5, 1) == 18.6
    lines = capsys.readouterr().out.splitlines()
    assert lines
    assert all(line.startswith(DEBUG_PREFIX) for line in lines)
    text = "\n".join(lines).lower()
    assert READ_REQUEST.hex(" ") in text  # the frames, pasteable into bytes.fromhex
    assert READ_RESPONSE.hex(" ") in text


def test_no_debug_prints_nothing(dummy: dict[bytes, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    dummy[READ_REQUEST] = READ_RESPONSE
    Instrument(PORT, 1).read_register(5, 1)
    assert capsys.readouterr().out == ""


def test_logging(dummy: dict[bytes, bytes], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="minimalmodbus")
    dummy[READ_REQUEST] = READ_RESPONSE
    Instrument(PORT, 1).read_register(5, 1)
    records = [record for record in caplog.records if record.name == "minimalmodbus"]
    assert records
    assert all(record.levelno == logging.DEBUG for record in records)
    text = "\n".join(record.getMessage() for record in records).lower()
    assert READ_REQUEST.hex(" ") in text
    assert READ_RESPONSE.hex(" ") in text


class Dtb4824(minimalmodbus.Instrument):
    """A vendor driver written for MinimalModbus 2.x: the Delta DTB4824 controller."""

    def __init__(self, portname: str, slaveaddress: int = 10) -> None:
        minimalmodbus.Instrument.__init__(self, portname, slaveaddress)

    def get_setpoint(self) -> float:
        return float(self.read_register(4097, 1))

    def set_setpoint(self, value: float) -> None:
        self.write_register(4097, value, 1)

    def get_setpoint_generic(self) -> Any:
        return self._generic_command(3, 4097, number_of_decimals=1, number_of_registers=1)

    def loopback(self, data: bytes) -> bytes:
        """Diagnostics (function code 8), sub-function 0: the slave echoes the data."""
        return self._perform_command(8, b"\x00\x00" + data)

    def raw(self, request: bytes, number_of_bytes_to_read: int) -> bytes:
        return self._communicate(request, number_of_bytes_to_read)


class LoggingDriver(minimalmodbus.Instrument):
    """A 2.x vendor driver that overrides ``_communicate`` to see every frame."""

    def __init__(self, portname: str) -> None:
        super().__init__(portname, 10)
        self.log: list[tuple[bytes, int, bytes]] = []

    def _communicate(self, request: bytes, number_of_bytes_to_read: int) -> bytes:
        response = super()._communicate(request, number_of_bytes_to_read)
        self.log.append((request, number_of_bytes_to_read, response))
        return response


def test_subclass_overriding_communicate_sees_every_transaction(dummy: dict[bytes, bytes]) -> None:
    read_200 = RECORDED[0]  # DTB4824: read_register(4097, 1)
    dummy[read_200.request] = read_200.response
    driver = LoggingDriver(PORT)
    assert driver.read_register(4097, 1) == 200
    assert driver.log == [(read_200.request, 7, read_200.response)]
    bad = h("0a 03 02 07 d0 1e 28")  # the response checks still apply: a wrong CRC
    dummy[read_200.request] = bad
    with pytest.raises(InvalidResponseError, match="Checksum error"):
        driver.read_register(4097, 1)
    assert driver.log[-1] == (read_200.request, 7, bad)


def test_subclassed_instrument_of_2x(dummy: dict[bytes, bytes]) -> None:
    read_200, write_325 = RECORDED[0], RECORDED[1]  # DTB4824: read_register(4097, 1), write 325.8
    dummy[read_200.request] = read_200.response
    dummy[write_325.request] = write_325.response
    loopback = rtu("0a 08 0000 a537")  # Application Protocol §6.8.1 example, echoed
    dummy[loopback] = loopback
    controller = Dtb4824(PORT)
    assert controller.get_setpoint() == 200.0
    assert controller.get_setpoint_generic() == 200.0
    controller.set_setpoint(325.8)
    assert controller.loopback(h("a537")) == h("0000 a537")
    assert controller.raw(read_200.request, 7) == read_200.response
    assert as_dummy(controller.serial).requests == [
        read_200.request,
        read_200.request,
        write_325.request,
        loopback,
        read_200.request,
    ]


@pytest.mark.parametrize("mode", MODES)
def test_address_and_mode_setters(dummy: dict[bytes, bytes], mode: str) -> None:
    instrument = Instrument(PORT, 1)
    as_dummy(instrument.serial).responder = silent
    instrument.address = 10
    instrument.mode = mode
    with pytest.raises(NoResponseError):
        instrument.read_register(4097, 1)
    assert as_dummy(instrument.serial).requests == [frame(mode, "0a 03 1001 0001")]
    with pytest.raises(ValueError, match="256"):
        instrument.address = 256
    with pytest.raises(TypeError, match="'10'"):
        instrument.address = "10"  # type: ignore[assignment]
    with pytest.raises(ValueError, match="'tcp'"):
        instrument.mode = "tcp"
    assert (instrument.address, instrument.mode) == (10, mode)


@pytest.mark.parametrize(
    "name, value, error",
    [
        ("inter_frame_delay", -0.1, ValueError),
        ("inter_frame_delay", "0.1", TypeError),
        ("broadcast_delay", -1, ValueError),
        ("broadcast_delay", None, TypeError),
    ],
)
def test_timing_setters_validate(dummy: dict[bytes, bytes], name: str, value: Any, error: type) -> None:
    instrument = Instrument(PORT, 1)
    with pytest.raises(error, match=name):
        setattr(instrument, name, value)


# ---------------------------------------------------------------------------
# 7. Input validation: shared lists of bad types and values
# ---------------------------------------------------------------------------

BAD_TYPES_INT = [1.0, "1", None, [1]]
BAD_TYPES_BOOL = [1, 0, "True", None, 1.0]  # signed must be a real bool
BAD_TYPES_NUMBER = ["1", None, [1], b"1"]
BAD_TYPES_LIST = [None, 1, "1", b"\x01", {1: 1}]
BAD_TYPES_STR = [None, 1, b"abc", ["a"]]
BAD_REGISTERADDRESSES = [-1, 65536]
BAD_DECIMALS = [-1, 11]
BAD_BYTEORDERS = [-1, 4]
BAD_BIT_VALUES = [-1, 2]
BAD_BITS_TO_READ = [0, 2001]
BAD_REGISTERS_TO_READ = [0, 126]
BAD_REGISTERS_TO_WRITE = [0, 124]
BAD_REGISTERS_LONG_FLOAT = [0, 1, 3, 5, 8]
BAD_BIT_LISTS = [[], [1] * 1969]
BAD_REGISTER_LISTS = [[], [0] * 124]
BAD_REGISTER_VALUES = [-1, 65536, 65536.0, math.nan, math.inf]
BAD_TEXTSTRINGS = ["é", "x" * 33]  # non-ASCII; longer than 16 registers
BAD_SLAVEADDRESSES = [-1, 256]
BAD_MODES = ["RTU", "tcp", ""]
FUNCTION_CODES_TO_TRY = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 15, 16, 23, 128]

# Valid keyword arguments of every method; each case changes one of them.
VALID_CALLS: dict[str, dict[str, Any]] = {
    "read_bit": {"registeraddress": 0, "functioncode": 2},
    "write_bit": {"registeraddress": 0, "value": 1, "functioncode": 5},
    "read_bits": {"registeraddress": 0, "number_of_bits": 1, "functioncode": 2},
    "write_bits": {"registeraddress": 0, "values": [1]},
    "read_register": {"registeraddress": 0, "number_of_decimals": 0, "functioncode": 3, "signed": False},
    "write_register": {
        "registeraddress": 0,
        "value": 1,
        "number_of_decimals": 0,
        "functioncode": 16,
        "signed": False,
    },
    "read_registers": {"registeraddress": 0, "number_of_registers": 1, "functioncode": 3, "signed": False},
    "write_registers": {"registeraddress": 0, "values": [1], "signed": False},
    "read_long": {
        "registeraddress": 0,
        "functioncode": 3,
        "signed": False,
        "byteorder": BYTEORDER_BIG,
        "number_of_registers": 2,
    },
    "write_long": {
        "registeraddress": 0,
        "value": 1,
        "signed": False,
        "byteorder": BYTEORDER_BIG,
        "number_of_registers": 2,
    },
    "read_float": {"registeraddress": 0, "functioncode": 3, "number_of_registers": 2, "byteorder": 0},
    "write_float": {"registeraddress": 0, "value": 1.0, "number_of_registers": 2, "byteorder": 0},
    "read_string": {"registeraddress": 0, "number_of_registers": 16, "functioncode": 3},
    "write_string": {"registeraddress": 0, "textstring": "abc", "number_of_registers": 16},
}

ALLOWED_FUNCTION_CODES = {
    "read_bit": (1, 2),
    "write_bit": (5, 15),
    "read_bits": (1, 2),
    "read_register": (3, 4),
    "write_register": (6, 16),
    "read_registers": (3, 4),
    "read_long": (3, 4),
    "read_float": (3, 4),
    "read_string": (3, 4),
}

# (bad types, bad values) per argument, and where a method differs, per (method, argument)
BAD_BY_ARGUMENT: dict[str, tuple[list[Any], list[Any]]] = {
    "registeraddress": (BAD_TYPES_INT, BAD_REGISTERADDRESSES),
    "number_of_decimals": (BAD_TYPES_INT, BAD_DECIMALS),
    "signed": (BAD_TYPES_BOOL, []),
    "byteorder": (BAD_TYPES_INT, BAD_BYTEORDERS),
    "number_of_bits": (BAD_TYPES_INT, BAD_BITS_TO_READ),
    "number_of_registers": (BAD_TYPES_INT, BAD_REGISTERS_LONG_FLOAT),
    "textstring": (BAD_TYPES_STR, BAD_TEXTSTRINGS),
}
BAD_BY_METHOD_AND_ARGUMENT: dict[tuple[str, str], tuple[list[Any], list[Any]]] = {
    ("write_bit", "value"): (BAD_TYPES_INT, BAD_BIT_VALUES),
    ("write_register", "value"): (BAD_TYPES_NUMBER, BAD_REGISTER_VALUES),
    ("write_long", "value"): (BAD_TYPES_INT, [-1, 2**32]),
    ("write_float", "value"): (BAD_TYPES_NUMBER, [1e39, -1e39]),
    ("write_bits", "values"): (BAD_TYPES_LIST, BAD_BIT_LISTS),
    ("write_registers", "values"): (BAD_TYPES_LIST, BAD_REGISTER_LISTS),
    ("read_registers", "number_of_registers"): (BAD_TYPES_INT, BAD_REGISTERS_TO_READ),
    ("read_string", "number_of_registers"): (BAD_TYPES_INT, BAD_REGISTERS_TO_READ),
    ("write_string", "number_of_registers"): (BAD_TYPES_INT, BAD_REGISTERS_TO_WRITE),
}

# Cases on another base call: (method, changed valid arguments, argument, bad value, error, shown value)
OTHER_BAD_CASES: list[tuple[str, dict[str, Any], str, Any, type[Exception], Any]] = [
    *(("write_register", {"signed": True}, "value", value, ValueError, value) for value in [-32769, 32768]),
    ("write_register", {"number_of_decimals": 1}, "value", 6553.6, ValueError, 6553.6),  # 65536
    ("write_register", {"number_of_decimals": 1}, "value", -0.1, ValueError, -0.1),  # -1
    ("write_long", {"signed": True}, "value", -(2**31) - 1, ValueError, -(2**31) - 1),
    ("write_long", {"signed": True}, "value", 2**31, ValueError, 2**31),
    ("write_long", {"number_of_registers": 4}, "value", 2**64, ValueError, 2**64),
    ("write_long", {"number_of_registers": 4, "signed": True}, "value", 2**63, ValueError, 2**63),
    ("write_string", {"number_of_registers": 1}, "textstring", "abc", ValueError, "abc"),
    # A bad item in a list of values: the message shows the item
    *(("write_bits", {}, "values", [0, item], TypeError, item) for item in [1.0, "1", None]),
    *(("write_bits", {}, "values", [0, item], ValueError, item) for item in BAD_BIT_VALUES),
    *(("write_registers", {}, "values", [0, item], TypeError, item) for item in [1.0, "1", None]),
    *(("write_registers", {}, "values", [0, item], ValueError, item) for item in [-1, 65536]),
    *(
        ("write_registers", {"signed": True}, "values", [0, item], ValueError, item)
        for item in [-32769, 32768]
    ),
    # The quantity must fit below address 65536
    ("read_bits", {"number_of_bits": 2}, "registeraddress", 65535, ValueError, 65535),
    ("write_bits", {"values": [1, 0]}, "registeraddress", 65535, ValueError, 65535),
    ("read_registers", {"number_of_registers": 2}, "registeraddress", 65535, ValueError, 65535),
    ("write_registers", {"values": [1, 2]}, "registeraddress", 65535, ValueError, 65535),
    ("read_long", {}, "registeraddress", 65535, ValueError, 65535),
    ("write_long", {"number_of_registers": 4}, "registeraddress", 65533, ValueError, 65533),
    ("read_float", {"number_of_registers": 4}, "registeraddress", 65533, ValueError, 65533),
    ("write_float", {}, "registeraddress", 65535, ValueError, 65535),
    ("read_string", {"number_of_registers": 2}, "registeraddress", 65535, ValueError, 65535),
    ("write_string", {}, "registeraddress", 65521, ValueError, 65521),
]


def bad_arguments(method: str, argument: str) -> tuple[list[Any], list[Any]]:
    """The bad types and bad values of one argument of one method."""
    if argument == "functioncode":
        allowed = ALLOWED_FUNCTION_CODES[method]
        return BAD_TYPES_INT, [code for code in FUNCTION_CODES_TO_TRY if code not in allowed]
    return BAD_BY_METHOD_AND_ARGUMENT.get((method, argument)) or BAD_BY_ARGUMENT[argument]


def validation_cases() -> list[Any]:
    """Every method, every argument, every bad type and value: one pytest.param each."""
    cases = []
    for method, valid in VALID_CALLS.items():
        for argument in valid:
            bad_types, bad_values = bad_arguments(method, argument)
            errors: list[type[Exception]] = [TypeError] * len(bad_types) + [ValueError] * len(bad_values)
            for bad, error in zip(bad_types + bad_values, errors):
                kwargs = {**valid, argument: bad}
                case_id = f"{method}-{argument}={bad!r:.20}"
                cases.append(pytest.param(method, kwargs, argument, repr(bad), error, id=case_id))
    for method, changes, argument, bad, error, shown in OTHER_BAD_CASES:
        kwargs = {**VALID_CALLS[method], **changes, argument: bad}
        cases.append(
            pytest.param(method, kwargs, argument, repr(shown), error, id=f"{method}-{argument}={bad!r:.20}")
        )
    return cases


@pytest.mark.parametrize("method", VALID_CALLS)
def test_valid_call_is_accepted(dummy: dict[bytes, bytes], method: str) -> None:
    # The base of the validation cases: valid, with the 2.x keyword names
    instrument = Instrument(PORT, 1)
    as_dummy(instrument.serial).responder = silent
    with pytest.raises(NoResponseError):
        getattr(instrument, method)(**VALID_CALLS[method])
    assert len(as_dummy(instrument.serial).requests) == 1


@pytest.mark.parametrize("method, kwargs, argument, shown, error", validation_cases())
def test_bad_argument_is_refused_before_writing(
    dummy: dict[bytes, bytes], method: str, kwargs: dict[str, Any], argument: str, shown: str, error: type
) -> None:
    instrument = Instrument(PORT, 1)
    with pytest.raises(error) as info:
        getattr(instrument, method)(**kwargs)
    assert type(info.value) is error
    message = str(info.value)
    assert argument in message  # names the argument
    assert shown in message  # shows the value given
    assert as_dummy(instrument.serial).requests == []  # before anything is written


# Numbers too large for a float (or for a register after scaling): a ValueError
# naming ``value``, not an OverflowError or struct.error from deep inside.
HUGE_VALUE_CALLS = [
    ("write_register", {"registeraddress": 0, "value": 1e300, "number_of_decimals": 10}),
    ("write_register", {"registeraddress": 0, "value": 10**400, "number_of_decimals": 1}),
    ("write_register", {"registeraddress": 0, "value": 10**400}),
    ("write_float", {"registeraddress": 0, "value": 10**400, "number_of_registers": 4}),
    ("write_float", {"registeraddress": 0, "value": 10**400}),
]


@pytest.mark.parametrize("method, kwargs", HUGE_VALUE_CALLS)
def test_huge_value_is_a_value_error(dummy: dict[bytes, bytes], method: str, kwargs: dict[str, Any]) -> None:
    instrument = Instrument(PORT, 1)
    with pytest.raises(ValueError, match=r"^value ") as info:
        getattr(instrument, method)(**kwargs)
    assert type(info.value) is ValueError
    assert as_dummy(instrument.serial).requests == []


INSTRUMENT_BAD_CASES = [
    *(("slaveaddress", bad, TypeError) for bad in BAD_TYPES_INT),
    *(("slaveaddress", bad, ValueError) for bad in BAD_SLAVEADDRESSES),
    *(("mode", bad, TypeError) for bad in [1, None, b"rtu"]),
    *(("mode", bad, ValueError) for bad in BAD_MODES),
]


@pytest.mark.parametrize("argument, bad, error", INSTRUMENT_BAD_CASES)
def test_bad_instrument_argument(dummy: dict[bytes, bytes], argument: str, bad: Any, error: type) -> None:
    with pytest.raises(error) as info:
        Instrument(**{"port": PORT, "slaveaddress": 1, argument: bad})
    assert type(info.value) is error
    assert argument in str(info.value)
    assert repr(bad) in str(info.value)
    port = minimalmodbus._serialports.get(PORT)
    assert port is None or as_dummy(port).requests == []


@pytest.mark.parametrize("argument, bad, error", INSTRUMENT_BAD_CASES)
def test_bad_setting(dummy: dict[bytes, bytes], argument: str, bad: Any, error: type) -> None:
    instrument = Instrument(PORT, 1)
    attribute = {"slaveaddress": "address"}.get(argument, argument)
    with pytest.raises(error) as info:
        setattr(instrument, attribute, bad)
    assert type(info.value) is error
    assert repr(bad) in str(info.value)
    assert (instrument.address, instrument.mode) == (1, MODE_RTU)


BOOL_AS_INT = [
    # API.md: bool counts as an int where an int is expected (not for signed)
    (call("read_register", True), call("read_register", 1)),
    (call("read_register", 0, True), call("read_register", 0, 1)),
    (call("read_bit", 0, True), call("read_bit", 0, 1)),  # functioncode True is 1
    (call("read_bits", 0, True), call("read_bits", 0, 1)),
    (call("write_bit", 0, True), call("write_bit", 0, 1)),
    (call("write_bits", 0, [True, False]), call("write_bits", 0, [1, 0])),
    (call("write_register", 0, True), call("write_register", 0, 1)),
    (call("write_registers", 0, [True, False]), call("write_registers", 0, [1, 0])),
    (call("read_registers", 0, True), call("read_registers", 0, 1)),
    (call("read_string", 0, True), call("read_string", 0, 1)),
    (call("write_long", 0, True), call("write_long", 0, 1)),
    (call("read_long", 0, byteorder=True), call("read_long", 0, byteorder=1)),
    (call("write_float", 0, True), call("write_float", 0, 1)),
]


@pytest.mark.parametrize("with_bool, with_int", BOOL_AS_INT, ids=[str(pair[0]) for pair in BOOL_AS_INT])
def test_bool_counts_as_int(dummy: dict[bytes, bytes], with_bool: Call, with_int: Call) -> None:
    instrument = Instrument(PORT, 1)
    as_dummy(instrument.serial).responder = silent
    for each in (with_int, with_bool):
        with pytest.raises(NoResponseError):
            each.run(instrument)
    int_request, bool_request = as_dummy(instrument.serial).requests
    assert bool_request == int_request


def test_bool_slaveaddress(dummy: dict[bytes, bytes]) -> None:
    assert Instrument(PORT, True).address == 1


# ---------------------------------------------------------------------------
# 8. Self-check of the frame tables
# ---------------------------------------------------------------------------


def test_literal_frame_is_valid(literal: LiteralFrame) -> None:
    # Every frame written out in the tables has a valid CRC (the CRC over it is 0) or LRC
    assert checksum_ok(literal.mode, literal.frame)
    assert frame(literal.mode, content_of(literal.mode, literal.frame)) == literal.frame


def test_bad_frame_has_exactly_its_defect(bad_frame: BadFrame) -> None:
    assert checksum_ok(bad_frame.mode, bad_frame.request)
    assert checksum_ok(bad_frame.mode, bad_frame.good)
    assert bad_frame.bad != bad_frame.good
    assert bad_frame.defect.fix(bad_frame.mode, bad_frame.bad) == bad_frame.good
    if isinstance(bad_frame.defect, Content):  # only the content is wrong: the checksum fits it
        assert checksum_ok(bad_frame.mode, bad_frame.bad)


def test_table_entries_are_unique() -> None:
    for table in (RECORDED, EXCHANGES, BAD_FRAMES, LITERAL_FRAMES):
        ids = [str(entry) for entry in table]
        assert len(ids) == len(set(ids))


# ===========================================================================
# Tables of frames
# ===========================================================================


class Recorded(NamedTuple):
    """A request and response recorded from a real instrument (RECORDINGS.md)."""

    device: str
    call: Call
    request: bytes
    response: bytes  # b"": none recorded
    value: Any  # what the call returns

    def __str__(self) -> str:
        return f"{self.device}-{self.call}-{self.response.hex() or 'none'}"


RECORDED = [
    # Delta DTB4824 process controller, slave address 10, RTU, 19200 8N1
    # read_register(4097, 1): 0x07D0 = 2000 -> 200 with one decimal (an int, as 2.x)
    Recorded(
        "DTB4824",
        call("read_register", 4097, 1),
        h("0a 03 10 01 00 01 d0 71"),
        h("0a 03 02 07 d0 1e 29"),
        200,  # whole: an int, as 2.x (issue 10, item 1)
    ),
    # write_register(4097, 325.8, 1): writes 3258 (0x0CBA) with function code 16
    Recorded(
        "DTB4824",
        call("write_register", 4097, 325.8, 1),
        h("0a 10 10 01 00 01 02 0c ba 41 c3"),
        h("0a 10 10 01 00 01 55 b2"),
        None,
    ),
    # read_register(4097, 1): 3258 -> 325.8
    Recorded(
        "DTB4824",
        call("read_register", 4097, 1),
        h("0a 03 10 01 00 01 d0 71"),
        h("0a 03 02 0c ba 99 36"),
        325.8,
    ),
    # read_bit(2068): the bit is 0
    Recorded("DTB4824", call("read_bit", 2068), h("0a 02 08 14 00 01 fa d5"), h("0a 02 01 00 a3 ac"), 0),
    # write_bit(2068, 1): the slave echoes the request
    Recorded(
        "DTB4824",
        call("write_bit", 2068, 1),
        h("0a 05 08 14 ff 00 cf 25"),
        h("0a 05 08 14 ff 00 cf 25"),
        None,
    ),
    # Other recorded frames, slave address 1
    # read_register(5, 1): 0x00BA = 186 -> 18.6
    Recorded(
        "slave 1", call("read_register", 5, 1), h("01 03 00 05 00 01 94 0b"), h("01 03 02 00 ba 39 f7"), 18.6
    ),
    # read_bit(2068): request bytes only, no response recorded
    Recorded("slave 1", call("read_bit", 2068), h("01 02 08 14 00 01 fb ae"), b"", None),
]


class Exchange(NamedTuple):
    """A call, the content of its request and response frames in hex, and what it returns.

    The content is slave address, function code and data; the tests add the
    checksum and framing of each mode with this module's own ``frame``.
    """

    call: Call
    request: str
    response: str
    value: Any

    def __str__(self) -> str:
        text = str(self.call) if self.value is None else f"{self.call}={self.value!r}"
        return text if len(text) <= 110 else text[:107] + "..."


# Frames without a comment of their own were made for these tests (slave 1): the
# call, the request and response content, and the value are the whole record.
EXCHANGES = [
    # --- bits ---
    Exchange(call("read_bit", 2068), "01 02 0814 0001", "01 02 01 01", 1),
    Exchange(call("read_bit", 2068, 1), "01 01 0814 0001", "01 01 01 00", 0),
    Exchange(call("read_bit", 2068, functioncode=1), "01 01 0814 0001", "01 01 01 01", 1),
    # Application Protocol §6.5 example: write coil 173 (address 172) ON; the slave echoes
    Exchange(call("write_bit", 172, 1), "01 05 00ac ff00", "01 05 00ac ff00", None),
    Exchange(call("write_bit", 172, 0), "01 05 00ac 0000", "01 05 00ac 0000", None),
    Exchange(call("write_bit", 172, True, functioncode=15), "01 0f 00ac 0001 01 01", "01 0f 00ac 0001", None),
    Exchange(call("write_bit", 172, 0, 15), "01 0f 00ac 0001 01 00", "01 0f 00ac 0001", None),
    # Application Protocol §6.1 example: read coils 20..38 (addresses 19..37): CD 6B 05
    Exchange(
        call("read_bits", 19, 19, functioncode=1),
        "01 01 0013 0013",
        "01 01 03 cd6b05",
        bit_list("10110011 11010110 101"),
    ),
    # Application Protocol §6.2 example: read discrete inputs 197..218: AC DB 35
    Exchange(
        call("read_bits", 196, 22),
        "01 02 00c4 0016",
        "01 02 03 acdb35",
        bit_list("00110101 11011011 101011"),
    ),
    # PI-MBUS-300 example: read coil status 20..56 of slave 17: CD 6B B2 0E 1B
    Exchange(
        call("read_bits", 19, 37, 1),
        "11 01 0013 0025",
        "11 01 05 cd6bb20e1b",
        bit_list("10110011 11010110 01001101 01110000 11011"),
    ),
    Exchange(call("read_bits", 0, 2000), "01 02 0000 07d0", "01 02 fa" + " 55" * 250, [1, 0] * 1000),
    # Application Protocol §6.11 example: write coils 20..29: CD 01
    Exchange(
        call("write_bits", 19, bit_list("10110011 10")),
        "01 0f 0013 000a 02 cd01",
        "01 0f 0013 000a",
        None,
    ),
    Exchange(call("write_bits", 0, [1] * 1968), "01 0f 0000 07b0 f6" + " ff" * 246, "01 0f 0000 07b0", None),
    # --- 16-bit registers ---
    Exchange(call("read_register", 107), "01 03 006b 0001", "01 03 02 022b", 555),
    # Application Protocol §6.4 example: read input register 9 (address 8): 10
    Exchange(call("read_register", 8, functioncode=4), "01 04 0008 0001", "01 04 02 000a", 10),
    Exchange(call("read_register", 289, signed=True), "01 03 0121 0001", "01 03 02 fffe", -2),
    Exchange(call("read_register", 289, 2, 4, True), "01 04 0121 0001", "01 04 02 ff9c", -1),
    Exchange(call("read_register", 289, 1, signed=True), "01 03 0121 0001", "01 03 02 8000", -3276.8),
    Exchange(call("read_register", 289, 10), "01 03 0121 0001", "01 03 02 ffff", 6.5535e-06),
    Exchange(call("read_register", 289), "01 03 0121 0001", "01 03 02 ffff", 65535),
    # Application Protocol §6.6 example: write register 2 (address 1) with 3; the slave echoes
    Exchange(call("write_register", 1, 3, functioncode=6), "01 06 0001 0003", "01 06 0001 0003", None),
    Exchange(call("write_register", 1, 3), "01 10 0001 0001 02 0003", "01 10 0001 0001", None),
    Exchange(call("write_register", 2, -1, signed=True), "01 10 0002 0001 02 ffff", "01 10 0002 0001", None),
    Exchange(call("write_register", 2, -0.5, 1, 6, True), "01 06 0002 fffb", "01 06 0002 fffb", None),
    Exchange(
        call("write_register", 2, 0.29, 2), "01 10 0002 0001 02 001d", "01 10 0002 0001", None
    ),  # rounded
    Exchange(call("write_register", 2, 6553.5, 1), "01 10 0002 0001 02 ffff", "01 10 0002 0001", None),
    Exchange(call("write_register", 2, 65535), "01 10 0002 0001 02 ffff", "01 10 0002 0001", None),
    # Application Protocol §6.3 example: read registers 108..110: 022B 0000 0064
    Exchange(call("read_registers", 107, 3), "01 03 006b 0003", "01 03 06 022b 0000 0064", [555, 0, 100]),
    Exchange(call("read_registers", 8, 1, functioncode=4), "01 04 0008 0001", "01 04 02 000a", [10]),
    Exchange(call("read_registers", 289, 1), "01 03 0121 0001", "01 03 02 ffff", [65535]),
    Exchange(
        call("read_registers", 289, 3, signed=True),
        "01 03 0121 0003",
        "01 03 06 ffff 8000 7fff",
        [-1, -32768, 32767],
    ),
    Exchange(
        call("read_registers", 0, 125), "01 03 0000 007d", "01 03 fa " + words(range(125)), list(range(125))
    ),
    # Application Protocol §6.12 example: write registers 2..3 (addresses 1..2) with 000A 0102
    Exchange(call("write_registers", 1, [10, 258]), "01 10 0001 0002 04 000a 0102", "01 10 0001 0002", None),
    Exchange(
        call("write_registers", 1, [-1, -32768, 32767], signed=True),
        "01 10 0001 0003 06 ffff 8000 7fff",
        "01 10 0001 0003",
        None,
    ),
    Exchange(
        call("write_registers", 0, list(range(123))),
        "01 10 0000 007b f6 " + words(range(123)),
        "01 10 0000 007b",
        None,
    ),
    # --- strings: 2 characters per register, first in the high byte ---
    Exchange(call("read_string", 10, 3), "01 03 000a 0003", "01 03 06 48656c6c6f20", "Hello "),
    Exchange(call("read_string", 10, 1, 4), "01 04 000a 0001", "01 04 02 4100", "A\x00"),  # nothing stripped
    Exchange(
        call("read_string", 10),
        "01 03 000a 0010",
        "01 03 20 " + b"abcdefghijklmnopqrstuvwxyz012345".hex(),
        "abcdefghijklmnopqrstuvwxyz012345",
    ),
    Exchange(
        call("write_string", 10, "Hello", 3), "01 10 000a 0003 06 48656c6c6f20", "01 10 000a 0003", None
    ),  # padded with a space
    Exchange(call("write_string", 10, "ABCD", 2), "01 10 000a 0002 04 41424344", "01 10 000a 0002", None),
    Exchange(call("write_string", 10, "AB"), "01 10 000a 0010 20 4142" + " 20" * 30, "01 10 000a 0010", None),
    # --- long and float, positional arguments in the 2.x order ---
    # read_long(registeraddress, functioncode, signed, byteorder, number_of_registers)
    Exchange(
        call("read_long", 100, 4, True, BYTEORDER_LITTLE, 2), "01 04 0064 0002", "01 04 04 feffffff", -2
    ),
    # write_long(registeraddress, value, signed, byteorder, number_of_registers)
    Exchange(
        call("write_long", 100, -2, True, BYTEORDER_LITTLE_SWAP, 4),
        "01 10 0064 0004 08 fffe ffff ffff ffff",
        "01 10 0064 0004",
        None,
    ),
    # read_float(registeraddress, functioncode, number_of_registers, byteorder)
    Exchange(
        call("read_float", 100, 4, 4, BYTEORDER_BIG), "01 04 0064 0004", "01 04 08 3ff0 0000 0000 0000", 1.0
    ),
    # write_float(registeraddress, value, number_of_registers, byteorder)
    Exchange(
        call("write_float", 100, -2.5, 2, BYTEORDER_BIG),
        "01 10 0064 0002 04 c020 0000",
        "01 10 0064 0002",
        None,
    ),
]

# Integers in registers: (number_of_registers, signed, byteorder, value, register bytes)
LONG_LAYOUTS = [
    (2, False, BYTEORDER_BIG, 0x0A0B0C0D, "0a0b 0c0d"),
    (2, False, BYTEORDER_LITTLE, 0x0A0B0C0D, "0d0c 0b0a"),
    (2, False, BYTEORDER_BIG_SWAP, 0x0A0B0C0D, "0b0a 0d0c"),
    (2, False, BYTEORDER_LITTLE_SWAP, 0x0A0B0C0D, "0c0d 0a0b"),
    (4, False, BYTEORDER_BIG, 0x0102030405060708, "0102 0304 0506 0708"),
    (4, False, BYTEORDER_LITTLE, 0x0102030405060708, "0807 0605 0403 0201"),
    (4, False, BYTEORDER_BIG_SWAP, 0x0102030405060708, "0201 0403 0605 0807"),
    (4, False, BYTEORDER_LITTLE_SWAP, 0x0102030405060708, "0708 0506 0304 0102"),
    (2, False, BYTEORDER_BIG, 4294967294, "ffff fffe"),
    (2, True, BYTEORDER_BIG, -2, "ffff fffe"),
    (2, True, BYTEORDER_LITTLE, -2, "feff ffff"),
    (2, True, BYTEORDER_BIG, -(2**31), "8000 0000"),
    (2, True, BYTEORDER_BIG, 2**31 - 1, "7fff ffff"),
    (4, True, BYTEORDER_BIG, -2, "ffff ffff ffff fffe"),
    (4, True, BYTEORDER_BIG_SWAP, -(2**63), "0080 0000 0000 0000"),
    (4, False, BYTEORDER_BIG, 2**64 - 1, "ffff ffff ffff ffff"),
]

# IEEE 754 floats in registers: (number_of_registers, byteorder, value, register bytes)
FLOAT_LAYOUTS = [
    (2, BYTEORDER_BIG, 3.1415927410125732, "4049 0fdb"),  # pi as a single: 40 49 0F DB
    (2, BYTEORDER_LITTLE, 3.1415927410125732, "db0f 4940"),
    (2, BYTEORDER_BIG_SWAP, 3.1415927410125732, "4940 db0f"),
    (2, BYTEORDER_LITTLE_SWAP, 3.1415927410125732, "0fdb 4049"),
    (4, BYTEORDER_BIG, math.pi, "4009 21fb 5444 2d18"),  # pi as a double
    (4, BYTEORDER_LITTLE, math.pi, "182d 4454 fb21 0940"),
    (4, BYTEORDER_BIG_SWAP, math.pi, "0940 fb21 4454 182d"),
    (4, BYTEORDER_LITTLE_SWAP, math.pi, "2d18 5444 21fb 4009"),
    (2, BYTEORDER_BIG, 1.0, "3f80 0000"),
    (2, BYTEORDER_BIG, -2.5, "c020 0000"),
    (2, BYTEORDER_BIG, math.inf, "7f80 0000"),
    (4, BYTEORDER_BIG, 1.0, "3ff0 0000 0000 0000"),
]


def read_and_write(
    methods: tuple[str, str], options: dict[str, Any], number_of_registers: int, value: Any, registers: str
) -> list[Exchange]:
    """The read and the write of a value at register address 100 (0x64) of slave 1."""
    read_method, write_method = methods
    quantity, byte_count = f"{number_of_registers:04x}", f"{2 * number_of_registers:02x}"
    return [
        Exchange(
            call(read_method, 100, **options),
            f"01 03 0064 {quantity}",
            f"01 03 {byte_count} {registers}",
            value,
        ),
        Exchange(
            call(write_method, 100, value, **options),
            f"01 10 0064 {quantity} {byte_count} {registers}",
            f"01 10 0064 {quantity}",
            None,
        ),
    ]


# Each layout as a read and a write, through the byte-order table of the read_long docstring
EXCHANGES += [
    exchange
    for number_of_registers, signed, byteorder, value, registers in LONG_LAYOUTS
    for exchange in read_and_write(
        ("read_long", "write_long"),
        {"signed": signed, "byteorder": byteorder, "number_of_registers": number_of_registers},
        number_of_registers,
        value,
        registers,
    )
]
EXCHANGES += [
    exchange
    for number_of_registers, byteorder, value, registers in FLOAT_LAYOUTS
    for exchange in read_and_write(
        ("read_float", "write_float"),
        {"byteorder": byteorder, "number_of_registers": number_of_registers},
        number_of_registers,
        value,
        registers,
    )
]


class Wire(NamedTuple):
    """A defect on the wire: ``bad`` where the good frame has ``good``, at ``offset``.

    The checksum is not updated, so the frame is broken as it travels.
    """

    offset: int
    good: bytes
    bad: bytes

    def fix(self, mode: str, wire: bytes) -> bytes:
        """The frame with the defect undone."""
        return splice(wire, self.offset, self.bad, self.good)


class Content(NamedTuple):
    """A defect in the content (slave address, function code, data).

    The checksum fits the bad content: the frame is intact, but says the wrong thing.
    """

    offset: int
    good: bytes
    bad: bytes

    def fix(self, mode: str, wire: bytes) -> bytes:
        """The frame with the defect undone, and its checksum made again."""
        return frame(mode, splice(content_of(mode, wire), self.offset, self.bad, self.good))


class Context(NamedTuple):
    """A call, the request frame it sends, and the good response to it."""

    call: Call
    mode: str
    request: bytes
    good: bytes


class BadFrame(NamedTuple):
    """A response with a single defect, and the words its error message must contain."""

    name: str
    context: Context
    bad: bytes
    defect: Wire | Content
    error: str

    @property
    def mode(self) -> str:
        return self.context.mode

    @property
    def request(self) -> bytes:
        return self.context.request

    @property
    def good(self) -> bytes:
        return self.context.good

    def __str__(self) -> str:
        return self.name


# DTB4824 recording: read_register(4097, 1) -> 0x07D0 = 2000 -> 200.0
READ_4097 = Context(
    call("read_register", 4097, 1), MODE_RTU, h("0a 03 10 01 00 01 d0 71"), h("0a 03 02 07 d0 1e 29")
)
# DTB4824 recording: write_bit(2068, 1); the slave echoes the request
WRITE_BIT_2068 = Context(
    call("write_bit", 2068, 1), MODE_RTU, h("0a 05 08 14 ff 00 cf 25"), h("0a 05 08 14 ff 00 cf 25")
)
# DTB4824 recording: write_register(4097, 325.8, 1) writes 3258 with function code 16
WRITE_4097 = Context(
    call("write_register", 4097, 325.8, 1),
    MODE_RTU,
    h("0a 10 10 01 00 01 02 0c ba 41 c3"),
    h("0a 10 10 01 00 01 55 b2"),
)
# Application Protocol §6.6 example, slave 1: write register 2 (address 1) with 3
WRITE_SINGLE = Context(
    call("write_register", 1, 3, functioncode=6), MODE_RTU, rtu("01 06 0001 0003"), rtu("01 06 0001 0003")
)
# Application Protocol §6.11 example, slave 1: write coils 20..29
WRITE_COILS = Context(
    call("write_bits", 19, [1, 0, 1, 1, 0, 0, 1, 1, 1, 0]),
    MODE_RTU,
    rtu("01 0f 0013 000a 02 cd01"),
    rtu("01 0f 0013 000a"),
)
# Application Protocol §6.1 example, slave 1: read coils 20..38
READ_COILS = Context(
    call("read_bits", 19, 19, functioncode=1), MODE_RTU, rtu("01 01 0013 0013"), rtu("01 01 03 cd6b05")
)
# The DTB4824 read and write_bit in ASCII
READ_4097_ASCII = Context(
    call("read_register", 4097, 1), MODE_ASCII, asc("0a 03 1001 0001"), b":0A030207D01A\r\n"
)
WRITE_BIT_2068_ASCII = Context(
    call("write_bit", 2068, 1), MODE_ASCII, asc("0a 05 0814 ff00"), b":0A050814FF00D6\r\n"
)

BAD_FRAMES = [
    # --- RTU: framing and checksum ---
    # CRC low byte changed (1E -> 1F)
    BadFrame("rtu-crc", READ_4097, h("0a 03 02 07 d0 1f 29"), Wire(5, h("1e"), h("1f")), "crc"),
    # CRC sent high byte first
    BadFrame(
        "rtu-crc-byte-order", READ_4097, h("0a 03 02 07 d0 29 1e"), Wire(5, h("1e29"), h("291e")), "crc"
    ),
    # one data bit flipped on the line (D0 -> D1), CRC as sent
    BadFrame("rtu-data-bit-flipped", READ_4097, h("0a 03 02 07 d1 1e 29"), Wire(4, h("d0"), h("d1")), "crc"),
    # the last byte is missing
    BadFrame("rtu-last-byte-missing", READ_4097, h("0a 03 02 07 d0 1e"), Wire(6, h("29"), b""), "crc"),
    # only 3 bytes came: too short for any frame
    BadFrame("rtu-too-short", READ_4097, h("0a 03 02"), Wire(3, h("07 d0 1e 29"), b""), "too short"),
    # --- RTU: content (valid CRC) ---
    # answer from slave 11 instead of 10
    BadFrame(
        "rtu-wrong-slave", READ_4097, rtu("0b 03 02 07d0"), Content(0, h("0a"), h("0b")), "slave address"
    ),
    # function code 4 instead of 3
    BadFrame(
        "rtu-wrong-function-code",
        READ_4097,
        rtu("0a 04 02 07d0"),
        Content(1, h("03"), h("04")),
        "function code",
    ),
    # two registers (byte count 4) for a one-register request
    BadFrame(
        "rtu-wrong-byte-count",
        READ_4097,
        rtu("0a 03 04 07d0 0000"),
        Content(2, h("02 07d0"), h("04 07d0 0000")),
        "byte count",
    ),
    # byte count 2, but 3 data bytes
    BadFrame("rtu-wrong-length", READ_4097, rtu("0a 03 02 07d0 00"), Content(5, b"", h("00")), "length"),
    # byte count 3 for 19 coils, correct, but only 2 bytes said: byte count 2
    BadFrame(
        "rtu-fc1-wrong-byte-count",
        READ_COILS,
        rtu("01 01 02 cd6b"),
        Content(2, h("03 cd6b05"), h("02 cd6b")),
        "byte count",
    ),
    # fc 5: the value echoed as 0000 (OFF) instead of FF00
    BadFrame(
        "rtu-fc5-wrong-value-echo",
        WRITE_BIT_2068,
        rtu("0a 05 0814 0000"),
        Content(4, h("ff"), h("00")),
        "echo",
    ),
    # fc 5: the address echoed as 2069 instead of 2068
    BadFrame(
        "rtu-fc5-wrong-address-echo",
        WRITE_BIT_2068,
        rtu("0a 05 0815 ff00"),
        Content(3, h("14"), h("15")),
        "echo",
    ),
    # fc 5: one data byte too many
    BadFrame(
        "rtu-fc5-wrong-length", WRITE_BIT_2068, rtu("0a 05 0814 ff00 00"), Content(6, b"", h("00")), "length"
    ),
    # fc 6: the value echoed as 4 instead of 3
    BadFrame(
        "rtu-fc6-wrong-value-echo", WRITE_SINGLE, rtu("01 06 0001 0004"), Content(5, h("03"), h("04")), "echo"
    ),
    # fc 15: the quantity echoed as 9 instead of 10
    BadFrame(
        "rtu-fc15-wrong-quantity-echo",
        WRITE_COILS,
        rtu("01 0f 0013 0009"),
        Content(5, h("0a"), h("09")),
        "echo",
    ),
    # fc 16: the address echoed as 4098 instead of 4097
    BadFrame(
        "rtu-fc16-wrong-address-echo",
        WRITE_4097,
        rtu("0a 10 1002 0001"),
        Content(3, h("01"), h("02")),
        "echo",
    ),
    # fc 16: the quantity echoed as 2 instead of 1
    BadFrame(
        "rtu-fc16-wrong-quantity-echo",
        WRITE_4097,
        rtu("0a 10 1001 0002"),
        Content(5, h("01"), h("02")),
        "echo",
    ),
    # --- ASCII: framing and checksum (":0A030207D01A" CR LF: colon 0, data 1..10, LRC 11..12) ---
    # LRC 1B instead of 1A
    BadFrame("ascii-lrc", READ_4097_ASCII, b":0A030207D01B\r\n", Wire(11, b"1A", b"1B"), "lrc"),
    # a data digit changed on the line (D0 -> D1), LRC as sent
    BadFrame("ascii-data-digit-changed", READ_4097_ASCII, b":0A030207D11A\r\n", Wire(10, b"0", b"1"), "lrc"),
    # no colon
    BadFrame("ascii-no-colon", READ_4097_ASCII, b"0A030207D01A\r\n", Wire(0, b":", b""), "':'"),
    # no CR LF
    BadFrame("ascii-no-cr-lf", READ_4097_ASCII, b":0A030207D01A", Wire(13, b"\r\n", b""), "cr lf"),
    # CR without LF
    BadFrame("ascii-no-lf", READ_4097_ASCII, b":0A030207D01A\r", Wire(14, b"\n", b""), "cr lf"),
    # a digit missing: an odd number of digits
    BadFrame("ascii-odd-digits", READ_4097_ASCII, b":0A030207D01\r\n", Wire(12, b"A", b""), "even number"),
    # a non-hex digit (G)
    BadFrame("ascii-non-hex-digit", READ_4097_ASCII, b":0A030207DG1A\r\n", Wire(10, b"0", b"G"), "not hex"),
    # only 4 digits
    BadFrame("ascii-too-short", READ_4097_ASCII, b":0A03\r\n", Wire(5, b"0207D01A", b""), "hex digits"),
    # --- ASCII: content (valid LRC) ---
    BadFrame(
        "ascii-wrong-slave",
        READ_4097_ASCII,
        asc("0b 03 02 07d0"),
        Content(0, h("0a"), h("0b")),
        "slave address",
    ),
    BadFrame(
        "ascii-wrong-function-code",
        READ_4097_ASCII,
        asc("0a 04 02 07d0"),
        Content(1, h("03"), h("04")),
        "function code",
    ),
    BadFrame(
        "ascii-wrong-byte-count",
        READ_4097_ASCII,
        asc("0a 03 04 07d0 0000"),
        Content(2, h("02 07d0"), h("04 07d0 0000")),
        "byte count",
    ),
    BadFrame(
        "ascii-wrong-length", READ_4097_ASCII, asc("0a 03 02 07d0 00"), Content(5, b"", h("00")), "length"
    ),
    BadFrame(
        "ascii-fc5-wrong-value-echo",
        WRITE_BIT_2068_ASCII,
        asc("0a 05 0814 0000"),
        Content(4, h("ff"), h("00")),
        "echo",
    ),
]


class LiteralFrame(NamedTuple):
    """A frame written out byte by byte (not built by this module), and where it comes from."""

    source: str
    mode: str
    frame: bytes

    def __str__(self) -> str:
        return self.source


LITERAL_FRAMES = [
    # PI-MBUS-300 (Modicon Modbus Protocol Reference Guide) examples, slave 17
    # read holding registers 40108..40110
    LiteralFrame("pi-mbus-300-read-registers", MODE_RTU, h("11 03 00 6b 00 03 76 87")),
    LiteralFrame("pi-mbus-300-read-registers-ascii", MODE_ASCII, b":1103006B00037E\r\n"),
    # read coil status 20..56, and the answer CD 6B B2 0E 1B
    LiteralFrame("pi-mbus-300-read-coils", MODE_RTU, h("11 01 00 13 00 25 0e 84")),
    LiteralFrame("pi-mbus-300-read-coils-response", MODE_RTU, h("11 01 05 cd 6b b2 0e 1b 45 e6")),
    # The recorded frames, and the good frames of the bad-frame table
    *(LiteralFrame(f"recorded-request-{entry}", MODE_RTU, entry.request) for entry in RECORDED),
    *(
        LiteralFrame(f"recorded-response-{entry}", MODE_RTU, entry.response)
        for entry in RECORDED
        if entry.response
    ),
    *(
        LiteralFrame(f"good-{context.call}-{context.mode}-{index}", context.mode, wire)
        for context in (READ_4097, WRITE_BIT_2068, WRITE_4097, READ_4097_ASCII, WRITE_BIT_2068_ASCII)
        for index, wire in enumerate((context.request, context.good))
    ),
]


# Vendor drivers call _generic_command directly (API.md part A): bad arguments
# there are TypeError/ValueError naming the argument, before anything is written.
GENERIC_COMMAND_BAD_CALLS = [
    ({"functioncode": 3, "registeraddress": 5}, ValueError, "number_of_registers"),  # quantity 0
    ({"functioncode": 3, "registeraddress": 70000, "number_of_registers": 1}, ValueError, "registeraddress"),
    ({"functioncode": 3, "registeraddress": "5", "number_of_registers": 1}, TypeError, "registeraddress"),
    ({"functioncode": 5, "registeraddress": 5, "number_of_registers": 1}, ValueError, "functioncode"),
    (
        {
            "functioncode": 1,
            "registeraddress": 0,
            "number_of_bits": 2001,
            "payloadformat": minimalmodbus._Payloadformat.BITS,
        },
        ValueError,
        "number_of_bits",
    ),
    (
        {"functioncode": 6, "registeraddress": 5, "value": 70000, "number_of_registers": 1},
        ValueError,
        "value 70000",
    ),
    (
        {"functioncode": 16, "registeraddress": 5, "value": "x", "number_of_registers": 1},
        ValueError,
        "value 'x'",
    ),
]


@pytest.mark.parametrize("kwargs, error, named", GENERIC_COMMAND_BAD_CALLS)
def test_generic_command_checks_what_vendor_drivers_give_it(
    dummy: dict[bytes, bytes], kwargs: dict[str, Any], error: type, named: str
) -> None:
    instrument = Instrument(PORT, 1)
    with pytest.raises(error) as info:
        instrument._generic_command(**kwargs)
    assert type(info.value) is error
    assert named in str(info.value)
    assert as_dummy(instrument.serial).requests == []
