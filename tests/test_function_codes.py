"""Tests of the serial-line function codes beyond the register and bit methods.

Function codes 7, 8, 11, 12, 17, 20, 21, 22, 23, 24 and 43/14, the generic
``perform_command``, signed ``read_registers``/``write_registers``, and the
block-decoding functions (``registers_to_long`` and friends).

In the order of STYLE.md: the tests' own checksums with known values; the
block-decoding functions with known values, round trips (exhaustive where
cheap) and agreement with the independent byte-order table of the read_long
docstring; every method through dummy_serial in RTU and ASCII with the
specification's examples (Modbus Application Protocol V1.1b3 §6); behaviours
of single function codes (listen only, "more follows", unknown layouts);
each malformed response and each exception reply; broadcast; agreement of
the Instrument with the block-decoding functions; agreement with
minimalmodbus_simulator's slave; input validation through shared lists of
bad values; a self-check of the frame tables. The tables are at the end.

Frames are built with the tests' own CRC and LRC (frames.py, ``frame``),
never with minimalmodbus's. Table content is written after the slave
address (the function code first); the tests put slave address 17 (0x11) in
front.

Time is never spent for real: the ``dummy`` and ``fake_clock`` fixtures of
conftest.py put one fake clock behind both modules.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import pytest
from calls import Call, call, count_calls, silent, splice
from conftest import as_dummy
from frames import checksum_ok, crc16, frame, lrc, wire_time
from hypothesis import HealthCheck, given, settings
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
    CommEventLog,
    IllegalRequestError,
    Instrument,
    InvalidResponseError,
    NegativeAcknowledgeError,
    NoResponseError,
    SlaveDeviceBusyError,
    SlaveReportedException,
    float_to_registers,
    long_to_registers,
    register_to_signed,
    registers_to_float,
    registers_to_long,
    registers_to_string,
    signed_to_register,
    string_to_registers,
    value_to_register,
)
from minimalmodbus_simulator import DiagnosticCounter, SimulatedBus, SimulatedSlave, block

PORT = "/dev/ttyUSB0"
TIMEOUT = 0.05  # the timeout of a port opened by name (API.md)
BROADCAST_DELAY = 0.2  # the default broadcast delay (API.md)
SILENCE = 3.5 * 10 / 19200  # Serial Line §2.5.1.1: 3.5 characters of 10 bits (8N1) at 19200 baud
SLAVE = 17  # 0x11, the slave of the PI-MBUS-300 examples
MODES = [MODE_RTU, MODE_ASCII]
BYTEORDERS = [BYTEORDER_BIG, BYTEORDER_LITTLE, BYTEORDER_BIG_SWAP, BYTEORDER_LITTLE_SWAP]
VENDOR_CODES = {65, 100, 127}  # user-defined function codes: no layout is known for them


# ---------------------------------------------------------------------------
# Frames: frames.py is the tests' second opinion on the driver's; shorthands
# ---------------------------------------------------------------------------


def h(text: str) -> bytes:
    """Bytes from hex with any spaces, e.g. ``h("11 07")``."""
    return bytes.fromhex(text)


def wire(mode: str, text: str, slaveaddress: int = SLAVE) -> bytes:
    """The frame of content given in hex after the slave address (function code first)."""
    return frame(mode, bytes([slaveaddress]) + h(text))


def words(values: Any) -> str:
    """16-bit values as hex, big-endian, e.g. ``words([1, 258]) == "0001 0102"``."""
    return " ".join(f"{value:04x}" for value in values)


def text_object(object_id: int, text: str) -> str:
    """A device identification object in hex: id, length, value."""
    value = text.encode("latin1")
    return f"{object_id:02x} {len(value):02x} {value.hex()}"


def assert_same_value(value: Any, expected: Any) -> None:
    """Equal, and of exactly the same types, down to the items of lists, tuples and dicts."""
    assert value == expected
    assert type(value) is type(expected)
    if isinstance(expected, (list, tuple)):
        assert [type(item) for item in value] == [type(item) for item in expected]
    if isinstance(expected, dict):
        assert all(type(key) is int and type(item) is bytes for key, item in value.items())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the arguments named after the frame tables at the end of the module."""
    tables: dict[str, list[Any]] = {"exchange": EXCHANGES, "malformed": MALFORMED}
    for argument, table in tables.items():
        if argument in metafunc.fixturenames:
            metafunc.parametrize(argument, table, ids=[str(entry) for entry in table])


# ---------------------------------------------------------------------------
# 1. The tests' own checksums (frames.py), with known values
# ---------------------------------------------------------------------------


def test_own_crc_check_value() -> None:
    # MODBUS.md: the CRC of ASCII "123456789" is 0x4B37; a frame with its own CRC gives 0
    assert crc16(b"123456789") == 0x4B37
    assert crc16(h("11 03 00 6b 00 03 76 87")) == 0  # PI-MBUS-300: read registers 40108..40110 of slave 17
    assert frame(MODE_RTU, h("11 03 00 6b 00 03")) == h("11 03 00 6b 00 03 76 87")


def test_own_lrc_known_value() -> None:
    # PI-MBUS-300 ASCII example: ":1103006B00037E" (sum 0x82, LRC 0x7E)
    assert lrc(h("11 03 00 6b 00 03")) == 0x7E
    assert frame(MODE_ASCII, h("11 03 00 6b 00 03")) == b":1103006B00037E\r\n"


# ---------------------------------------------------------------------------
# 2. Block decoding: known values, round trips, validation
# ---------------------------------------------------------------------------

# The byte-order table of the read_long docstring: the big-endian bytes of a
# value are A B C D (E F G H); the registers hold them in this order.
REGISTER_ORDERS = {
    BYTEORDER_BIG: ("ABCD", "ABCDEFGH"),
    BYTEORDER_LITTLE: ("DCBA", "HGFEDCBA"),
    BYTEORDER_BIG_SWAP: ("BADC", "BADCFEHG"),
    BYTEORDER_LITTLE_SWAP: ("CDAB", "GHEFCDAB"),
}

LONG_RANGES = {
    (2, False): (0, 2**32 - 1),
    (2, True): (-(2**31), 2**31 - 1),
    (4, False): (0, 2**64 - 1),
    (4, True): (-(2**63), 2**63 - 1),
}


def arrange(big_endian: bytes, byteorder: int) -> list[int]:
    """Register values holding big-endian bytes in a byte order, by the docstring's table."""
    order = REGISTER_ORDERS[byteorder][0 if len(big_endian) == 4 else 1]
    arranged = bytes(big_endian[ord(letter) - ord("A")] for letter in order)
    return [int.from_bytes(arranged[index : index + 2], "big") for index in range(0, len(arranged), 2)]


def unarrange(registers: list[int], byteorder: int) -> bytes:
    """The big-endian bytes that registers hold in a byte order (the inverse of ``arrange``)."""
    arranged = b"".join(register.to_bytes(2, "big") for register in registers)
    order = REGISTER_ORDERS[byteorder][0 if len(arranged) == 4 else 1]
    big_endian = bytearray(len(arranged))
    for position, letter in enumerate(order):
        big_endian[ord(letter) - ord("A")] = arranged[position]
    return bytes(big_endian)


@pytest.mark.parametrize(
    "byteorder, two_registers, four_registers",
    [
        # 0x12345678 and 0x0102030405060708 through the table of the read_long docstring
        (BYTEORDER_BIG, [0x1234, 0x5678], [0x0102, 0x0304, 0x0506, 0x0708]),
        (BYTEORDER_LITTLE, [0x7856, 0x3412], [0x0807, 0x0605, 0x0403, 0x0201]),
        (BYTEORDER_BIG_SWAP, [0x3412, 0x7856], [0x0201, 0x0403, 0x0605, 0x0807]),
        (BYTEORDER_LITTLE_SWAP, [0x5678, 0x1234], [0x0708, 0x0506, 0x0304, 0x0102]),
    ],
)
def test_long_known_values(byteorder: int, two_registers: list[int], four_registers: list[int]) -> None:
    assert arrange((0x12345678).to_bytes(4, "big"), byteorder) == two_registers  # the oracle agrees
    assert long_to_registers(0x12345678, byteorder=byteorder) == two_registers
    assert long_to_registers(0x12345678, False, byteorder, 2) == two_registers  # positional, as write_long
    assert_same_value(registers_to_long(two_registers, byteorder=byteorder), 0x12345678)
    value = 0x0102030405060708
    assert long_to_registers(value, byteorder=byteorder, number_of_registers=4) == four_registers
    assert_same_value(registers_to_long(four_registers, False, byteorder), value)


@pytest.mark.parametrize(
    "registers, signed, value",
    [
        ([0xFFFF, 0xFFFE], False, 4294967294),
        ([0xFFFF, 0xFFFE], True, -2),
        ([0x8000, 0x0000], True, -(2**31)),
        ([0x7FFF, 0xFFFF], True, 2**31 - 1),
        ([0, 0], True, 0),
        ([0xFFFF] * 4, False, 2**64 - 1),
        ([0xFFFF] * 4, True, -1),
        ([0x8000, 0, 0, 0], True, -(2**63)),
    ],
)
def test_long_signed_known_values(registers: list[int], signed: bool, value: int) -> None:
    assert_same_value(registers_to_long(registers, signed), value)
    assert long_to_registers(value, signed, number_of_registers=len(registers)) == registers


@pytest.mark.parametrize(
    "byteorder, single, double",
    [
        # 1.0f is 3F 80 00 00; 1.0 (double) is 3F F0 00 00 00 00 00 00
        (BYTEORDER_BIG, [0x3F80, 0x0000], [0x3FF0, 0, 0, 0]),
        (BYTEORDER_LITTLE, [0x0000, 0x803F], [0, 0, 0, 0xF03F]),
        (BYTEORDER_BIG_SWAP, [0x803F, 0x0000], [0xF03F, 0, 0, 0]),
        (BYTEORDER_LITTLE_SWAP, [0x0000, 0x3F80], [0, 0, 0, 0x3FF0]),
    ],
)
def test_float_known_values(byteorder: int, single: list[int], double: list[int]) -> None:
    assert float_to_registers(1.0, byteorder=byteorder) == single
    assert float_to_registers(1.0, 4, byteorder) == double
    assert_same_value(registers_to_float(single, byteorder), 1.0)
    assert_same_value(registers_to_float(double, byteorder), 1.0)


@pytest.mark.parametrize(
    "value, registers",
    [
        (-2.5, [0xC020, 0x0000]),
        (3.1415927410125732, [0x4049, 0x0FDB]),  # pi as a single
        (math.inf, [0x7F80, 0x0000]),
        (-math.inf, [0xFF80, 0x0000]),
        (0.0, [0x0000, 0x0000]),
        (-0.0, [0x8000, 0x0000]),
        (3.4028234663852886e38, [0x7F7F, 0xFFFF]),  # the largest single
        (math.inf, [0x7FF0, 0, 0, 0]),
        (math.pi, [0x4009, 0x21FB, 0x5444, 0x2D18]),
    ],
)
def test_float_known_values_incl_infinities(value: float, registers: list[int]) -> None:
    assert float_to_registers(value, len(registers)) == registers
    decoded = registers_to_float(registers)
    assert_same_value(decoded, value)
    assert math.copysign(1.0, decoded) == math.copysign(1.0, value)  # -0.0 stays negative


@pytest.mark.parametrize("number_of_registers", [2, 4])
@pytest.mark.parametrize("byteorder", BYTEORDERS)
def test_float_nan(number_of_registers: int, byteorder: int) -> None:
    registers = float_to_registers(math.nan, number_of_registers, byteorder)
    assert len(registers) == number_of_registers
    assert math.isnan(registers_to_float(registers, byteorder))
    big_endian = unarrange(registers, byteorder)
    exponent_bits = (0x7F80 if number_of_registers == 2 else 0x7FF0) << 16 * (number_of_registers - 1)
    value = int.from_bytes(big_endian, "big")
    assert value & exponent_bits == exponent_bits  # all exponent bits set...
    assert value & ~exponent_bits & ((1 << 16 * number_of_registers - 1) - 1)  # ...and a mantissa


@pytest.mark.parametrize("registers", [[0x7FC0, 0], [0xFFFF, 0xFFFF], [0x7F80, 1], [0x7FF8, 0, 0, 0]])
def test_registers_holding_nan(registers: list[int]) -> None:
    assert math.isnan(registers_to_float(registers))


def test_float_single_exhaustive_high_register() -> None:
    # Every pattern of the high register (sign, exponent, top of the mantissa), low register 0
    for high in range(65536):
        value = registers_to_float([high, 0])
        assert type(value) is float
        if math.isnan(value):
            assert high & 0x7F80 == 0x7F80 and high & 0x007F
        else:
            assert float_to_registers(value) == [high, 0]
            assert value == struct.unpack(">f", bytes([high >> 8, high & 0xFF, 0, 0]))[0]


@pytest.mark.parametrize(
    "text, number_of_registers, registers",
    [
        ("AB", 1, [0x4142]),
        ("A", 1, [0x4120]),  # padded with a space
        ("", 2, [0x2020, 0x2020]),
        ("Hello", 3, [0x4865, 0x6C6C, 0x6F20]),
        ("\x00\x7f", 1, [0x007F]),
    ],
)
def test_string_known_values(text: str, number_of_registers: int, registers: list[int]) -> None:
    assert string_to_registers(text, number_of_registers) == registers
    assert_same_value(registers_to_string(registers), text.ljust(2 * number_of_registers))


def test_registers_to_string_keeps_every_byte() -> None:
    # Latin-1: every byte value is one character, nothing stripped
    assert registers_to_string([0x4100]) == "A\x00"
    assert registers_to_string([0xFFE9, 0x2020]) == "\xff\xe9  "


def test_string_exhaustive_one_register() -> None:
    for register in range(65536):
        text = registers_to_string([register])
        assert text == bytes([register >> 8, register & 0xFF]).decode("latin1")
        if register & 0x8080 == 0:  # both characters ASCII: writable back
            assert string_to_registers(text, 1) == [register]


@pytest.mark.parametrize(
    "register, value", [(0, 0), (1, 1), (0x7FFF, 32767), (0x8000, -32768), (0xFFFF, -1), (0xFFFE, -2)]
)
def test_signed_known_values(register: int, value: int) -> None:
    assert_same_value(register_to_signed(register), value)
    assert_same_value(signed_to_register(value), register)


def test_signed_exhaustive() -> None:
    for register in range(65536):
        value = register_to_signed(register)
        assert value == (register - 65536 if register >= 0x8000 else register)
        assert signed_to_register(value) == register
    for value in range(-32768, 32768):
        assert register_to_signed(signed_to_register(value)) == value


@pytest.mark.parametrize(
    "value, number_of_decimals, signed, register",
    [
        (0, 0, False, 0),
        (65535, 0, False, 0xFFFF),
        (123.4, 1, False, 1234),
        (2.55, 2, False, 255),
        (-1.23, 2, True, 0xFF85),
        (-32768, 0, True, 0x8000),
        (3276.7, 1, True, 0x7FFF),
    ],
)
def test_value_to_register_scales_as_write_register(
    value: float, number_of_decimals: int, signed: bool, register: int
) -> None:
    assert_same_value(value_to_register(value, number_of_decimals, signed), register)


@pytest.mark.parametrize(
    "keywords, error, shown",
    [
        ({"value": 70000}, ValueError, "70000"),
        ({"value": 3276.8, "number_of_decimals": 1, "signed": True}, ValueError, "3276.8"),
        ({"value": "1"}, TypeError, "'1'"),
        ({"value": 1, "number_of_decimals": 11}, ValueError, "number_of_decimals"),
        ({"value": 1, "signed": 1}, TypeError, "signed"),
    ],
)
def test_value_to_register_refuses_what_write_register_refuses(
    keywords: dict[str, Any], error: type[Exception], shown: str
) -> None:
    with pytest.raises(error, match=re.escape(shown)):
        value_to_register(**keywords)


@pytest.mark.parametrize("number_of_registers, signed", sorted(LONG_RANGES))
@pytest.mark.parametrize("byteorder", BYTEORDERS)
def test_long_every_byte_value_at_every_position(
    number_of_registers: int, signed: bool, byteorder: int
) -> None:
    # Exhaustive where it is cheap: each byte value alone at each byte position
    size = 2 * number_of_registers
    for position in range(size):
        for byte in range(256):
            big_endian = bytes(size - 1 - position) + bytes([byte]) + bytes(position)
            value = int.from_bytes(big_endian, "big", signed=signed)
            registers = arrange(big_endian, byteorder)
            assert long_to_registers(value, signed, byteorder, number_of_registers) == registers
            assert registers_to_long(registers, signed, byteorder) == value


@pytest.mark.parametrize("number_of_registers, signed", sorted(LONG_RANGES))
@pytest.mark.parametrize("byteorder", BYTEORDERS)
@given(data=st.data())
def test_long_round_trip(number_of_registers: int, signed: bool, byteorder: int, data: st.DataObject) -> None:
    value = data.draw(st.integers(*LONG_RANGES[number_of_registers, signed]))
    registers = long_to_registers(value, signed, byteorder, number_of_registers)
    assert registers == arrange(value.to_bytes(2 * number_of_registers, "big", signed=signed), byteorder)
    assert_same_value(registers_to_long(registers, signed, byteorder), value)
    # and from any registers back to the same registers
    any_registers = data.draw(
        st.lists(st.integers(0, 0xFFFF), min_size=number_of_registers, max_size=number_of_registers)
    )
    decoded = registers_to_long(any_registers, signed, byteorder)
    assert long_to_registers(decoded, signed, byteorder, number_of_registers) == any_registers


@pytest.mark.parametrize("byteorder", BYTEORDERS)
@given(value=st.floats(width=32, allow_nan=False))
def test_single_round_trip(byteorder: int, value: float) -> None:
    registers = float_to_registers(value, 2, byteorder)
    assert registers == arrange(struct.pack(">f", value), byteorder)
    assert registers_to_float(registers, byteorder) == value


@pytest.mark.parametrize("byteorder", BYTEORDERS)
@given(value=st.floats(allow_nan=False))
def test_double_round_trip(byteorder: int, value: float) -> None:
    registers = float_to_registers(value, 4, byteorder)
    assert registers == arrange(struct.pack(">d", value), byteorder)
    assert registers_to_float(registers, byteorder) == value


@pytest.mark.parametrize("byteorder", BYTEORDERS)
@given(value=st.floats(min_value=-3.4028234663852886e38, max_value=3.4028234663852886e38))
def test_single_rounds_to_the_nearest_single(byteorder: int, value: float) -> None:
    nearest = struct.unpack(">f", struct.pack(">f", value))[0]
    assert registers_to_float(float_to_registers(value, 2, byteorder), byteorder) == nearest


@pytest.mark.parametrize("number_of_registers", [2, 4])
@pytest.mark.parametrize("byteorder", BYTEORDERS)
@given(data=st.data())
def test_float_registers_round_trip(number_of_registers: int, byteorder: int, data: st.DataObject) -> None:
    registers = data.draw(
        st.lists(st.integers(0, 0xFFFF), min_size=number_of_registers, max_size=number_of_registers)
    )
    value = registers_to_float(registers, byteorder)
    expected = struct.unpack(">f" if number_of_registers == 2 else ">d", unarrange(registers, byteorder))[0]
    if math.isnan(expected):
        assert math.isnan(value)
    else:
        assert value == expected
        assert float_to_registers(value, number_of_registers, byteorder) == registers


@given(st.text(st.characters(max_codepoint=127), max_size=250), st.data())
def test_string_round_trip(text: str, data: st.DataObject) -> None:
    number_of_registers = data.draw(st.integers(max(1, (len(text) + 1) // 2), 125))
    registers = string_to_registers(text, number_of_registers)
    assert len(registers) == number_of_registers
    assert registers_to_string(registers) == text.ljust(2 * number_of_registers)


# Bad arguments of the block-decoding functions:
# (function, keyword arguments, error, argument named in the message, text showing the value)
CODEC_BAD_CASES: list[tuple[Callable[..., Any], dict[str, Any], type[Exception], str, str]] = [
    # registers: a list of 2 or 4 register values 0..65535
    *(
        (function, {"registers": registers}, error, "registers", shown)
        for function in (registers_to_long, registers_to_float)
        for registers, error, shown in [
            ([1], ValueError, "1"),
            ([1, 2, 3], ValueError, "3"),
            ([1, 2, 3, 4, 5], ValueError, "[1, 2, 3, 4, 5]"),
            ([], ValueError, "[]"),
            ([0, 65536], ValueError, "65536"),
            ([-1, 0], ValueError, "-1"),
            ([1.0, 0], TypeError, "1.0"),
            (["1", 0], TypeError, "'1'"),
            ([None, 0], TypeError, "None"),
            (None, TypeError, "None"),
            (b"\x00\x01\x00\x02", TypeError, repr(b"\x00\x01\x00\x02")),
            ("ab", TypeError, "'ab'"),
        ]
    ),
    (registers_to_long, {"registers": [0, 0], "signed": 1}, TypeError, "signed", "1"),
    (registers_to_long, {"registers": [0, 0], "signed": None}, TypeError, "signed", "None"),
    (registers_to_long, {"registers": [0, 0], "byteorder": 4}, ValueError, "byteorder", "4"),
    (registers_to_long, {"registers": [0, 0], "byteorder": -1}, ValueError, "byteorder", "-1"),
    (registers_to_long, {"registers": [0, 0], "byteorder": "0"}, TypeError, "byteorder", "'0'"),
    (registers_to_float, {"registers": [0, 0], "byteorder": 4}, ValueError, "byteorder", "4"),
    (registers_to_float, {"registers": [0, 0], "byteorder": 1.0}, TypeError, "byteorder", "1.0"),
    # long_to_registers: the value must fit the registers and the signedness
    (long_to_registers, {"value": 2**32}, ValueError, "value", str(2**32)),
    (long_to_registers, {"value": -1}, ValueError, "value", "-1"),
    (long_to_registers, {"value": 2**31, "signed": True}, ValueError, "value", str(2**31)),
    (long_to_registers, {"value": -(2**31) - 1, "signed": True}, ValueError, "value", str(-(2**31) - 1)),
    (long_to_registers, {"value": 2**64, "number_of_registers": 4}, ValueError, "value", str(2**64)),
    (
        long_to_registers,
        {"value": 2**63, "signed": True, "number_of_registers": 4},
        ValueError,
        "value",
        str(2**63),
    ),
    (long_to_registers, {"value": 1.0}, TypeError, "value", "1.0"),
    (long_to_registers, {"value": "1"}, TypeError, "value", "'1'"),
    (long_to_registers, {"value": 1, "number_of_registers": 3}, ValueError, "number_of_registers", "3"),
    (long_to_registers, {"value": 1, "number_of_registers": 1}, ValueError, "number_of_registers", "1"),
    (long_to_registers, {"value": 1, "number_of_registers": 2.0}, TypeError, "number_of_registers", "2.0"),
    (long_to_registers, {"value": 1, "signed": 0}, TypeError, "signed", "0"),
    (long_to_registers, {"value": 1, "byteorder": 5}, ValueError, "byteorder", "5"),
    # float_to_registers: a single holds at most 3.4e38
    (float_to_registers, {"value": 1e39}, ValueError, "value", "1e+39"),
    (float_to_registers, {"value": -1e39}, ValueError, "value", "-1e+39"),
    (float_to_registers, {"value": "1.0"}, TypeError, "value", "'1.0'"),
    (float_to_registers, {"value": None}, TypeError, "value", "None"),
    (float_to_registers, {"value": 1.0, "number_of_registers": 3}, ValueError, "number_of_registers", "3"),
    (float_to_registers, {"value": 1.0, "number_of_registers": "2"}, TypeError, "number_of_registers", "'2'"),
    (float_to_registers, {"value": 1.0, "byteorder": 4}, ValueError, "byteorder", "4"),
    # registers_to_string: 1..125 register values
    (registers_to_string, {"registers": []}, ValueError, "registers", "[]"),
    (registers_to_string, {"registers": [0] * 126}, ValueError, "registers", "126"),
    (registers_to_string, {"registers": [65536]}, ValueError, "registers", "65536"),
    (registers_to_string, {"registers": [-1]}, ValueError, "registers", "-1"),
    (registers_to_string, {"registers": [1.0]}, TypeError, "registers", "1.0"),
    (registers_to_string, {"registers": None}, TypeError, "registers", "None"),
    (registers_to_string, {"registers": "AB"}, TypeError, "registers", "'AB'"),
    # string_to_registers: ASCII, at most 2 characters per register, 1..125 registers
    (string_to_registers, {"textstring": "é", "number_of_registers": 1}, ValueError, "textstring", "'é'"),
    (string_to_registers, {"textstring": "abc", "number_of_registers": 1}, ValueError, "textstring", "'abc'"),
    (string_to_registers, {"textstring": None, "number_of_registers": 1}, TypeError, "textstring", "None"),
    (string_to_registers, {"textstring": b"ab", "number_of_registers": 1}, TypeError, "textstring", "b'ab'"),
    (
        string_to_registers,
        {"textstring": "a", "number_of_registers": 0},
        ValueError,
        "number_of_registers",
        "0",
    ),
    (
        string_to_registers,
        {"textstring": "a", "number_of_registers": 126},
        ValueError,
        "number_of_registers",
        "126",
    ),
    (
        string_to_registers,
        {"textstring": "a", "number_of_registers": 1.0},
        TypeError,
        "number_of_registers",
        "1.0",
    ),
    # 16-bit signed
    (register_to_signed, {"register": -1}, ValueError, "register", "-1"),
    (register_to_signed, {"register": 65536}, ValueError, "register", "65536"),
    (register_to_signed, {"register": 1.0}, TypeError, "register", "1.0"),
    (register_to_signed, {"register": "1"}, TypeError, "register", "'1'"),
    (signed_to_register, {"value": -32769}, ValueError, "value", "-32769"),
    (signed_to_register, {"value": 32768}, ValueError, "value", "32768"),
    (signed_to_register, {"value": 1.0}, TypeError, "value", "1.0"),
    (signed_to_register, {"value": None}, TypeError, "value", "None"),
]


@pytest.mark.parametrize(
    "function, kwargs, error, argument, shown",
    CODEC_BAD_CASES,
    ids=[f"{case[0].__name__}-{case[1]!r:.40}" for case in CODEC_BAD_CASES],
)
def test_codec_bad_argument(
    function: Callable[..., Any], kwargs: dict[str, Any], error: type, argument: str, shown: str
) -> None:
    with pytest.raises(error) as info:
        function(**kwargs)
    assert type(info.value) is error
    message = str(info.value)
    assert re.search(rf"\b{argument}\b", message), message  # names the argument
    assert shown in message  # shows the value given


@pytest.mark.parametrize(
    "function, kwargs",
    [
        (registers_to_long, {"registers": [True, False]}),  # bool counts as an int (API.md)
        (long_to_registers, {"value": True}),
        (float_to_registers, {"value": 3}),  # an int is a number
        (float_to_registers, {"value": 3.4028234663852886e38}),  # the largest single
        (float_to_registers, {"value": 1e308, "number_of_registers": 4}),
        (string_to_registers, {"textstring": "x" * 250, "number_of_registers": 125}),
        (registers_to_string, {"registers": [0] * 125}),
    ],
)
def test_codec_accepts_the_limits(function: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    function(**kwargs)


# ---------------------------------------------------------------------------
# 3. Every method through dummy_serial, in both modes (EXCHANGES table)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_request_bytes_and_value(
    dummy: dict[bytes, bytes], fake_clock: Any, exchange: Exchange, mode: str
) -> None:
    request = wire(mode, exchange.request)
    dummy[request] = wire(mode, exchange.response)
    instrument = Instrument(PORT, SLAVE, mode)
    value = exchange.call.run(instrument)
    assert as_dummy(instrument.serial).requests == [request]
    assert_same_value(value, exchange.value)
    # API.md B: returns as soon as the last byte is in (dummy_serial delivers a
    # recorded answer as it crosses the line); an unknown layout (vendor code,
    # RTU) ends only when the line has been silent after it: a silence checked
    # after reads that took what had come, so one to two silences after the last byte.
    unknown = mode == MODE_RTU and h(exchange.request)[0] in VENDOR_CODES
    answer = wire_time(request, dummy[request])
    if unknown:
        assert answer + SILENCE - 1e-9 <= sum(fake_clock.sleeps) <= answer + 2 * SILENCE + 1e-9
    else:
        assert sum(fake_clock.sleeps) == pytest.approx(answer, abs=1e-9)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("answer", ["silent", "answers anyway"])
def test_force_listen_only_writes_and_reads_nothing(
    dummy: dict[bytes, bytes], fake_clock: Any, monkeypatch: pytest.MonkeyPatch, mode: str, answer: str
) -> None:
    # Application Protocol §6.8.1, sub-function 04: the slave does not answer
    instrument = Instrument(PORT, SLAVE, mode)
    port = as_dummy(instrument.serial)
    if answer == "silent":
        port.responder = silent
    else:  # a slave that answers all the same: the bytes are not read
        port.responder = lambda request: [(0.0, request)]
    reads = count_calls(monkeypatch, port, "read")
    start = fake_clock.time
    assert instrument.diagnostics(4) is None
    assert port.requests == [wire(mode, "08 0004 0000")]
    assert reads == []
    assert fake_clock.sleeps == []  # no timeout waited
    assert fake_clock.time == start


@pytest.mark.parametrize("mode", MODES)
def test_return_query_data_of_several_words(dummy: dict[bytes, bytes], fake_clock: Any, mode: str) -> None:
    # Application Protocol §6.8.1, sub-function 00: the data field is "any"
    # N x 2 bytes, and the response echoes it. diagnostics() sends one word;
    # perform_command is the way to send more, and must accept the echo.
    request = wire(mode, "08 0000 0102 0304")
    dummy[request] = request
    instrument = Instrument(PORT, SLAVE, mode)
    assert_same_value(instrument.perform_command(8, h("0000 0102 0304")), h("0000 0102 0304"))
    assert as_dummy(instrument.serial).requests == [request]
    assert sum(fake_clock.sleeps) == pytest.approx(wire_time(request, request), abs=1e-9)


SPEC_OBJECTS = {0: b"Company identification", 1: b"Product code XX", 2: b"V2.11"}
COMPANY = text_object(0, "Company identification")
PRODUCT = text_object(1, "Product code XX")
REVISION = text_object(2, "V2.11")


@pytest.mark.parametrize("mode", MODES)
def test_device_identification_more_follows_in_two_transactions(
    dummy: dict[bytes, bytes], fake_clock: Any, mode: str
) -> None:
    # Application Protocol §6.21: the objects of the example, answered in two
    # transactions. First: more follows FF, next object id 02, 2 objects.
    first, second = wire(mode, "2b 0e 01 00"), wire(mode, "2b 0e 01 02")
    dummy[first] = wire(mode, f"2b 0e 01 01 ff 02 02 {COMPANY} {PRODUCT}")
    # Second, from object 02: no more follows, 1 object
    dummy[second] = wire(mode, f"2b 0e 01 01 00 00 01 {REVISION}")
    instrument = Instrument(PORT, SLAVE, mode)
    assert_same_value(instrument.read_device_identification(), SPEC_OBJECTS)
    assert as_dummy(instrument.serial).requests == [first, second]
    # The answers as they cross the line, and the inter-frame silence between
    # them (RTU; ASCII needs none, Serial Line §2.5.2, but may keep one): never a timeout
    answers = wire_time(first, dummy[first], second, dummy[second])
    if mode == MODE_RTU:
        assert sum(fake_clock.sleeps) == pytest.approx(answers + SILENCE, abs=1e-9)
    else:
        assert answers - 1e-9 <= sum(fake_clock.sleeps) <= answers + SILENCE + 1e-9


@pytest.mark.parametrize("mode", MODES)
def test_device_identification_more_follows_in_three_transactions(
    dummy: dict[bytes, bytes], mode: str
) -> None:
    # Extended objects, read code 03, one object per response
    objects = {0: b"V", 0x80: b"x" * 200, 0xFF: b"y"}
    dummy[wire(mode, "2b 0e 03 00")] = wire(mode, "2b 0e 03 83 ff 80 01 00 01 56")
    dummy[wire(mode, "2b 0e 03 80")] = wire(mode, f"2b 0e 03 83 ff ff 01 80 c8 {'78' * 200}")
    dummy[wire(mode, "2b 0e 03 ff")] = wire(mode, "2b 0e 03 83 00 00 01 ff 01 79")
    instrument = Instrument(PORT, SLAVE, mode)
    assert_same_value(instrument.read_device_identification(3), objects)
    assert as_dummy(instrument.serial).requests == [
        wire(mode, f"2b 0e 03 {oid}") for oid in ("00", "80", "ff")
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("next_object_id", ["02", "01", "00"])
def test_device_identification_next_object_id_must_advance(
    dummy: dict[bytes, bytes], mode: str, next_object_id: str
) -> None:
    # The second response says more follows, but from an object not beyond the one asked for
    first, second = wire(mode, "2b 0e 01 00"), wire(mode, "2b 0e 01 02")
    dummy[first] = wire(mode, f"2b 0e 01 01 ff 02 02 {COMPANY} {PRODUCT}")
    bad = wire(mode, f"2b 0e 01 01 ff {next_object_id} 01 {REVISION}")
    dummy[second] = bad
    instrument = Instrument(PORT, SLAVE, mode)
    with pytest.raises(InvalidResponseError) as info:
        instrument.read_device_identification()
    assert (info.value.request, info.value.response) == (second, bad)
    assert "advance" in str(info.value)
    assert bad.hex(" ").upper() in str(info.value)
    assert as_dummy(instrument.serial).requests == [first, second]


@pytest.mark.parametrize("functioncode", [65, 100])
def test_vendor_code_is_read_until_the_line_is_silent(
    dummy: dict[bytes, bytes], fake_clock: Any, functioncode: int
) -> None:
    instrument = Instrument(PORT, SLAVE)
    answer = wire(MODE_RTU, f"{functioncode:02x} 0a0b0c0d0e")
    as_dummy(instrument.serial).responder = lambda request: [(0.008, answer)]
    start = fake_clock.time
    assert_same_value(instrument.perform_command(functioncode, h("0102")), h("0a0b0c0d0e"))
    assert as_dummy(instrument.serial).requests == [wire(MODE_RTU, f"{functioncode:02x} 0102")]
    # the last byte arrives after 8 ms; then the line is silent for 3.5 characters
    assert fake_clock.time == pytest.approx(start + 0.008 + SILENCE, abs=1e-12)
    assert instrument.roundtrip_time == pytest.approx(0.008 + SILENCE, abs=1e-12)


def test_vendor_code_in_pieces_is_one_frame(dummy: dict[bytes, bytes], fake_clock: Any) -> None:
    # A gap shorter than the silence is inside the frame
    instrument = Instrument(PORT, SLAVE)
    answer = wire(MODE_RTU, "64 0a0b0c0d0e")
    as_dummy(instrument.serial).responder = lambda request: [
        (0.004, answer[:4]),
        (0.004 + SILENCE / 2, answer[4:]),
    ]
    start = fake_clock.time
    assert instrument.perform_command(100, b"") == h("0a0b0c0d0e")
    last_byte = start + 0.004 + SILENCE / 2
    assert last_byte + SILENCE - 1e-12 <= fake_clock.time <= last_byte + 2 * SILENCE + 1e-12


@pytest.mark.parametrize("functioncode", [65, 100])
@pytest.mark.parametrize("pieces", [1, 2])
def test_vendor_code_in_ascii_is_read_to_cr_lf(
    dummy: dict[bytes, bytes], fake_clock: Any, functioncode: int, pieces: int
) -> None:
    # Serial Line §2.5.2: gaps of up to 1 s are legal in ASCII; CR LF ends the frame
    instrument = Instrument(PORT, SLAVE, MODE_ASCII)
    answer = wire(MODE_ASCII, f"{functioncode:02x} 0a0b0c0d0e")
    if pieces == 1:
        chunks = [(0.008, answer)]
    else:  # a 10 ms gap, longer than any RTU silence
        chunks = [(0.004, answer[:9]), (0.014, answer[9:])]
    as_dummy(instrument.serial).responder = lambda request: chunks
    start = fake_clock.time
    assert instrument.perform_command(functioncode, b"") == h("0a0b0c0d0e")
    assert as_dummy(instrument.serial).requests == [wire(MODE_ASCII, f"{functioncode:02x}")]
    assert fake_clock.time == pytest.approx(start + chunks[-1][0], abs=1e-12)


# ---------------------------------------------------------------------------
# 4. Malformed responses and exception replies
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_malformed_response(dummy: dict[bytes, bytes], malformed: Malformed, mode: str) -> None:
    request, bad = wire(mode, malformed.request), wire(mode, malformed.bad)
    dummy[request] = bad
    instrument = Instrument(PORT, SLAVE, mode)
    with pytest.raises(InvalidResponseError) as info:
        malformed.call.run(instrument)
    error = info.value
    message = str(error)
    assert as_dummy(instrument.serial).requests == [request]
    assert error.request == request
    assert error.response  # something came back...
    assert bad.startswith(error.response)  # ...and it is what the slave sent
    assert error.response.hex(" ").upper() in message  # the frame in hex
    assert re.search(malformed.error, message.lower()), message


@pytest.mark.parametrize("mode", MODES)
def test_good_response_of_a_malformed_one(dummy: dict[bytes, bytes], malformed: Malformed, mode: str) -> None:
    dummy[wire(mode, malformed.request)] = wire(mode, malformed.good)
    malformed.call.run(Instrument(PORT, SLAVE, mode))


# One call per function code and the content of its request
EXCEPTION_CALLS = [
    (call("read_exception_status"), "07"),
    (call("diagnostics", 0, 0xA537), "08 0000 a537"),
    (call("diagnostics", 11), "08 000b 0000"),
    (call("read_comm_event_counter"), "0b"),
    (call("read_comm_event_log"), "0c"),
    (call("report_slave_id"), "11"),
    (call("read_file_record", 4, 1, 2), "14 07 06 0004 0001 0002"),
    (call("write_file_record", 4, 7, [0x06AF, 0x04BE, 0x100D]), "15 0d 06 0004 0007 0003 06af 04be 100d"),
    (call("mask_write_register", 4, 0x00F2, 0x0025), "16 0004 00f2 0025"),
    (call("read_write_registers", 3, 6, 14, [0xFF] * 3), "17 0003 0006 000e 0003 06 00ff 00ff 00ff"),
    (call("read_fifo_queue", 0x04DE), "18 04de"),
    (call("read_device_identification"), "2b 0e 01 00"),
    (call("read_device_identification", 4, 1), "2b 0e 04 01"),
    (call("perform_command", 65, b""), "41"),
    (call("perform_command", 100, h("01")), "64 01"),
    (call("read_registers", 0, 1, signed=True), "03 0000 0001"),
    (call("write_registers", 0, [-1], signed=True), "10 0000 0001 02 ffff"),
]

EXCEPTION_CLASSES: dict[int, type[SlaveReportedException]] = {
    1: IllegalRequestError,
    2: IllegalRequestError,
    3: IllegalRequestError,
    6: SlaveDeviceBusyError,
    7: NegativeAcknowledgeError,
    10: minimalmodbus.GatewayPathUnavailableError,  # Modbus TCP gateways (issue 14)
    11: minimalmodbus.GatewayTargetFailedError,
}


@pytest.mark.parametrize("code", [1, 2, 3, 4, 6, 7, 8])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "method_call, request_content", EXCEPTION_CALLS, ids=[str(entry[0]) for entry in EXCEPTION_CALLS]
)
def test_exception_reply(
    dummy: dict[bytes, bytes], fake_clock: Any, method_call: Call, request_content: str, mode: str, code: int
) -> None:
    functioncode = h(request_content)[0]
    reply = wire(mode, f"{functioncode | 0x80:02x} {code:02x}")
    dummy[wire(mode, request_content)] = reply
    with pytest.raises(SlaveReportedException) as info:
        method_call.run(Instrument(PORT, SLAVE, mode))
    error = info.value
    assert type(error) is EXCEPTION_CLASSES.get(code, SlaveReportedException)
    assert (error.exception_code, error.function_code) == (code, functioncode)
    assert reply.hex(" ").upper() in str(error)
    # raised as soon as the exception frame is in
    assert sum(fake_clock.sleeps) == pytest.approx(wire_time(wire(mode, request_content), reply), abs=1e-9)


# ---------------------------------------------------------------------------
# 5. Broadcast (slave address 0)
# ---------------------------------------------------------------------------

BROADCAST_WRITES = [
    (call("write_file_record", 4, 7, [0x06AF, 0x04BE, 0x100D]), "15 0d 06 0004 0007 0003 06af 04be 100d"),
    (call("write_file_record", 1, 0, [1]), "15 09 06 0001 0000 0001 0001"),
    (call("mask_write_register", 4, 0x00F2, 0x0025), "16 0004 00f2 0025"),
    (call("write_registers", 1, [-2], signed=True), "10 0001 0001 02 fffe"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "write, request_content", BROADCAST_WRITES, ids=[str(entry[0]) for entry in BROADCAST_WRITES]
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
    port.responder = lambda request: [(0.0, wire(mode, request_content))]  # a slave answers anyway
    reads = count_calls(monkeypatch, port, "read")
    assert write.run(instrument) is None
    assert port.requests == [wire(mode, request_content, slaveaddress=0)]
    assert reads == []
    assert fake_clock.sleeps == [BROADCAST_DELAY]


BROADCAST_REFUSED = [
    call("read_write_registers", 3, 6, 14, [0xFF] * 3),
    call("diagnostics", 0, 0xA537),
    call("diagnostics", 4),  # force listen only: not a broadcast code either
    call("read_exception_status"),
    call("read_fifo_queue", 0x04DE),
    call("report_slave_id"),
    call("read_device_identification"),
    call("read_device_identification", 4, 1),
    call("read_comm_event_counter"),
    call("read_comm_event_log"),
    call("read_file_record", 4, 1, 2),
    call("read_registers", 0, 1, signed=True),
    call("perform_command", 3, h("0000 0001")),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("refused", BROADCAST_REFUSED, ids=str)
def test_broadcast_is_refused_before_writing(dummy: dict[bytes, bytes], refused: Call, mode: str) -> None:
    instrument = Instrument(PORT, 0, mode)
    with pytest.raises(ValueError, match="broadcast"):
        refused.run(instrument)
    assert as_dummy(instrument.serial).requests == []


# ---------------------------------------------------------------------------
# 6. The Instrument and the block-decoding functions agree
# ---------------------------------------------------------------------------

FIXTURE_EVERY_EXAMPLE = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def answering(instrument: Instrument, mode: str, response: str) -> None:
    """Let the instrument's port answer every request with the same response content."""
    answer = wire(mode, response)
    as_dummy(instrument.serial).responder = lambda request: [(0.0, answer)]


def register_lists(count: int) -> st.SearchStrategy[list[int]]:
    """Lists of exactly ``count`` register values."""
    return st.lists(st.integers(0, 0xFFFF), min_size=count, max_size=count)


@FIXTURE_EVERY_EXAMPLE
@given(data=st.data())
def test_read_long_agrees_with_registers_to_long(dummy: dict[bytes, bytes], data: st.DataObject) -> None:
    mode = data.draw(st.sampled_from(MODES))
    number_of_registers, signed = data.draw(st.sampled_from(sorted(LONG_RANGES)))
    byteorder = data.draw(st.sampled_from(BYTEORDERS))
    registers = data.draw(register_lists(number_of_registers))
    instrument = Instrument(PORT, SLAVE, mode)
    answering(instrument, mode, f"03 {2 * number_of_registers:02x} {words(registers)}")
    assert instrument.read_registers(0, number_of_registers) == registers
    value = instrument.read_long(0, 3, signed, byteorder, number_of_registers)
    assert value == registers_to_long(registers, signed, byteorder)
    assert value == int.from_bytes(unarrange(registers, byteorder), "big", signed=signed)


@FIXTURE_EVERY_EXAMPLE
@given(data=st.data())
def test_write_long_agrees_with_long_to_registers(dummy: dict[bytes, bytes], data: st.DataObject) -> None:
    number_of_registers, signed = data.draw(st.sampled_from(sorted(LONG_RANGES)))
    byteorder = data.draw(st.sampled_from(BYTEORDERS))
    value = data.draw(st.integers(*LONG_RANGES[number_of_registers, signed]))
    instrument = Instrument(PORT, SLAVE)
    answering(instrument, MODE_RTU, f"10 0000 {number_of_registers:04x}")
    instrument.write_long(0, value, signed, byteorder, number_of_registers)
    instrument.write_registers(0, long_to_registers(value, signed, byteorder, number_of_registers))
    by_write_long, by_write_registers = as_dummy(instrument.serial).requests[-2:]
    assert by_write_long == by_write_registers


@FIXTURE_EVERY_EXAMPLE
@given(data=st.data())
def test_read_float_agrees_with_registers_to_float(dummy: dict[bytes, bytes], data: st.DataObject) -> None:
    mode = data.draw(st.sampled_from(MODES))
    number_of_registers = data.draw(st.sampled_from([2, 4]))
    byteorder = data.draw(st.sampled_from(BYTEORDERS))
    registers = data.draw(register_lists(number_of_registers))
    instrument = Instrument(PORT, SLAVE, mode)
    answering(instrument, mode, f"04 {2 * number_of_registers:02x} {words(registers)}")
    value = instrument.read_float(0, 4, number_of_registers, byteorder)
    decoded = registers_to_float(instrument.read_registers(0, number_of_registers, 4), byteorder)
    if math.isnan(decoded):
        assert math.isnan(value)
    else:
        assert value == decoded


@FIXTURE_EVERY_EXAMPLE
@given(data=st.data())
def test_write_float_agrees_with_float_to_registers(dummy: dict[bytes, bytes], data: st.DataObject) -> None:
    number_of_registers = data.draw(st.sampled_from([2, 4]))
    byteorder = data.draw(st.sampled_from(BYTEORDERS))
    width: Literal[32, 64] = 32 if number_of_registers == 2 else 64
    value = data.draw(st.floats(width=width))
    instrument = Instrument(PORT, SLAVE)
    answering(instrument, MODE_RTU, f"10 0000 {number_of_registers:04x}")
    instrument.write_float(0, value, number_of_registers, byteorder)
    instrument.write_registers(0, float_to_registers(value, number_of_registers, byteorder))
    by_write_float, by_write_registers = as_dummy(instrument.serial).requests[-2:]
    assert by_write_float == by_write_registers


@FIXTURE_EVERY_EXAMPLE
@given(data=st.data())
def test_string_methods_agree_with_the_string_codecs(dummy: dict[bytes, bytes], data: st.DataObject) -> None:
    number_of_registers = data.draw(st.integers(1, 123))
    registers = data.draw(register_lists(number_of_registers))
    text = data.draw(st.text(st.characters(max_codepoint=127), max_size=2 * number_of_registers))
    instrument = Instrument(PORT, SLAVE)
    answering(instrument, MODE_RTU, f"03 {2 * number_of_registers:02x} {words(registers)}")
    assert instrument.read_string(0, number_of_registers) == registers_to_string(registers)
    answering(instrument, MODE_RTU, f"10 0000 {number_of_registers:04x}")
    instrument.write_string(0, text, number_of_registers)
    instrument.write_registers(0, string_to_registers(text, number_of_registers))
    assert as_dummy(instrument.serial).requests[-2] == as_dummy(instrument.serial).requests[-1]


@FIXTURE_EVERY_EXAMPLE
@given(data=st.data())
def test_signed_registers_agree_with_register_to_signed(
    dummy: dict[bytes, bytes], data: st.DataObject
) -> None:
    mode = data.draw(st.sampled_from(MODES))
    registers = data.draw(st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=123))
    count = len(registers)
    instrument = Instrument(PORT, SLAVE, mode)
    answering(instrument, mode, f"03 {2 * count:02x} {words(registers)}")
    signed_values = instrument.read_registers(0, count, signed=True)
    assert signed_values == [register_to_signed(register) for register in registers]
    assert instrument.read_registers(0, count) == registers  # the default stays unsigned
    answering(instrument, mode, f"10 0000 {count:04x}")
    instrument.write_registers(0, signed_values, signed=True)
    instrument.write_registers(0, [signed_to_register(value) for value in signed_values])
    assert as_dummy(instrument.serial).requests[-2] == as_dummy(instrument.serial).requests[-1]
    assert as_dummy(instrument.serial).requests[-1] == wire(
        mode, f"10 0000 {count:04x} {2 * count:02x} {words(registers)}"
    )


# ---------------------------------------------------------------------------
# 7. The driver and minimalmodbus_simulator's slave agree
#
# No real peer available here implements function codes 7, 8, 11, 12, 20,
# 21, 24 and 43 (libmodbus 3.1.6 serves only 1-6, 15-17, 22 and 23), so the
# simulated slave, written from the specification on its own, is the
# interoperability check for those.
# ---------------------------------------------------------------------------


@pytest.fixture
def simulate(dummy: dict[bytes, bytes], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Instrument]:
    """Put a simulated slave (address 17) on a bus that answers every new port; return a connector."""

    def connect(slave: SimulatedSlave, mode: str, slaveaddress: int = SLAVE) -> Instrument:
        monkeypatch.setattr(dummy_serial, "RESPONDER", SimulatedBus({SLAVE: slave}, mode))
        minimalmodbus.forget_ports()
        return Instrument(PORT, slaveaddress, mode)

    return connect


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc7_read_exception_status(simulate: Callable[..., Instrument], mode: str) -> None:
    instrument = simulate(SimulatedSlave(exception_status=0x6D), mode)  # §6.7 example
    assert instrument.read_exception_status() == 0x6D


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc8_diagnostics(simulate: Callable[..., Instrument], mode: str) -> None:
    slave = SimulatedSlave()
    slave.diagnostic_register = 0x8001
    instrument = simulate(slave, mode)
    assert instrument.diagnostics(0, 0xA537) == 0xA537  # §6.8.1 example: return query data
    assert instrument.diagnostics(2) == 0x8001
    assert instrument.diagnostics(11) == 3 == slave.counters[DiagnosticCounter.BUS_MESSAGE]  # counts itself
    assert instrument.diagnostics(14) == 4 == slave.counters[DiagnosticCounter.SLAVE_MESSAGE]
    assert instrument.diagnostics(10) == 0  # clear counters: echo
    assert slave.counters[DiagnosticCounter.SLAVE_MESSAGE] == 0
    assert slave.diagnostic_register == 0
    assert instrument.diagnostics(4) is None  # force listen only: no answer, none awaited
    assert slave.listen_only
    # §6.8.1 sub-function 01: in listen only mode the restart is acted on, but not answered
    with pytest.raises(NoResponseError):
        instrument.diagnostics(1)
    assert not slave.listen_only
    assert instrument.diagnostics(1, 0xFF00) == 0xFF00  # restart and clear the log: echo
    assert instrument.diagnostics(0, 7) == 7


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc8_return_query_data_of_several_words(
    simulate: Callable[..., Instrument], mode: str
) -> None:
    # §6.8.1: the simulated slave echoes any N x 2 bytes of query data, as the specification says
    instrument = simulate(SimulatedSlave(), mode)
    assert instrument.perform_command(8, h("0000 0102 0304 0506")) == h("0000 0102 0304 0506")


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc11_comm_event_counter(simulate: Callable[..., Instrument], mode: str) -> None:
    slave = SimulatedSlave()
    slave.event_counter = 0x0108  # the count of the §6.9 example
    instrument = simulate(slave, mode)
    assert_same_value(instrument.read_comm_event_counter(), (0, 0x0108))
    assert_same_value(instrument.read_comm_event_counter(), (0, 0x0108))  # fc 11 does not count itself


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc12_comm_event_log(simulate: Callable[..., Instrument], mode: str) -> None:
    slave = SimulatedSlave()
    slave.event_counter = 0x0108  # §6.10 example: 264 events, events 20 00
    slave.counters[DiagnosticCounter.BUS_MESSAGE] = 0x0120
    slave.comm_events = [0x20, 0x00]
    instrument = simulate(slave, mode)
    # message count 0x121 and event 80: this request, received and counted first
    assert_same_value(instrument.read_comm_event_log(), CommEventLog(0, 0x0108, 0x0121, h("80 20 00")))
    slave.comm_events = [0x40] * 64  # a full log: 64 events, byte count 70
    log = instrument.read_comm_event_log()
    assert log.events == h("80") + h("40") * 63


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc17_report_slave_id(simulate: Callable[..., Instrument], mode: str) -> None:
    instrument = simulate(SimulatedSlave(slave_id=b"\x2a\xffSIM"), mode)
    assert_same_value(instrument.report_slave_id(), b"\x2a\xffSIM")


def file_slave() -> SimulatedSlave:
    """Files 3 and 4 of the §6.14 and §6.15 examples, and file 5 with record n holding n."""
    return SimulatedSlave(
        file_records={
            3: {9: 0x33CD, 10: 0x0040},
            4: {1: 0x0DFE, 2: 0x0020, 7: 0, 8: 0, 9: 0},
            5: {record: record for record in range(10000)},
        }
    )


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc20_read_file_record(simulate: Callable[..., Instrument], mode: str) -> None:
    instrument = simulate(file_slave(), mode)
    assert instrument.read_file_record(4, 1, 2) == [0x0DFE, 0x0020]
    assert instrument.read_file_record(3, 9, 2) == [0x33CD, 0x0040]
    assert instrument.read_file_record(5, 9879, 121) == list(range(9879, 10000))
    with pytest.raises(IllegalRequestError) as info:
        instrument.read_file_record(6, 0, 1)  # no such file
    assert (info.value.exception_code, info.value.function_code) == (2, 20)


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc21_write_file_record(simulate: Callable[..., Instrument], mode: str) -> None:
    slave = file_slave()
    instrument = simulate(slave, mode)
    assert instrument.write_file_record(4, 7, [0x06AF, 0x04BE, 0x100D]) is None  # type: ignore[func-returns-value]
    assert [slave.file_records[4][record] for record in (7, 8, 9)] == [0x06AF, 0x04BE, 0x100D]
    assert instrument.read_file_record(4, 7, 3) == [0x06AF, 0x04BE, 0x100D]
    instrument.write_file_record(5, 9878, [0xFFFF] * 122)
    assert instrument.read_file_record(5, 9878, 121) == [0xFFFF] * 121


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc22_mask_write_register(simulate: Callable[..., Instrument], mode: str) -> None:
    slave = SimulatedSlave(holding_registers={4: 0x12})  # §6.16 example: 0x12 becomes 0x17
    instrument = simulate(slave, mode)
    assert instrument.mask_write_register(4, 0x00F2, 0x0025) is None  # type: ignore[func-returns-value]
    assert slave.holding_registers[4] == 0x17


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc23_read_write_registers(simulate: Callable[..., Instrument], mode: str) -> None:
    registers = {**block(65536), 3: 0xFE, 4: 0x0ACD, 5: 1, 6: 3, 7: 0x0D, 8: 0xFF}
    slave = SimulatedSlave(holding_registers=registers)
    instrument = simulate(slave, mode)
    # §6.17 example: read 6 from 3, write 00FF 00FF 00FF at 14
    read = instrument.read_write_registers(3, 6, 14, [0xFF] * 3)
    assert read == [0xFE, 0x0ACD, 1, 3, 0x0D, 0xFF]
    assert [slave.holding_registers[address] for address in (14, 15, 16)] == [0xFF] * 3
    # the write happens before the read
    assert instrument.read_write_registers(14, 3, 15, [1, 2]) == [0xFF, 1, 2]
    assert instrument.read_write_registers(65411, 125, 65415, [7] * 121)[-121:] == [7] * 121


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc24_read_fifo_queue(simulate: Callable[..., Instrument], mode: str) -> None:
    queues = {0x04DE: [0x01B8, 0x1284], 0: [], 1: list(range(31)), 2: list(range(32))}
    instrument = simulate(SimulatedSlave(fifo_queues=queues), mode)
    assert instrument.read_fifo_queue(0x04DE) == [0x01B8, 0x1284]  # §6.18 example
    assert instrument.read_fifo_queue(0) == []
    assert instrument.read_fifo_queue(1) == list(range(31))
    with pytest.raises(IllegalRequestError) as info:
        instrument.read_fifo_queue(2)  # more than 31: exception 3
    assert (info.value.exception_code, info.value.function_code) == (3, 24)


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc43_read_device_identification(simulate: Callable[..., Instrument], mode: str) -> None:
    instrument = simulate(SimulatedSlave(device_identification=SPEC_OBJECTS), mode)
    assert_same_value(instrument.read_device_identification(), SPEC_OBJECTS)  # §6.21 example
    assert_same_value(instrument.read_device_identification(4, 1), {1: b"Product code XX"})
    assert instrument.read_device_identification(1, 2) == {2: b"V2.11"}
    with pytest.raises(IllegalRequestError) as info:
        instrument.read_device_identification(4, 5)  # no such object: exception 2
    assert (info.value.exception_code, info.value.function_code) == (2, 43)


@pytest.mark.parametrize("mode", MODES)
def test_simulated_fc43_in_several_transactions(simulate: Callable[..., Instrument], mode: str) -> None:
    objects = {object_id: bytes([65 + object_id]) * 100 for object_id in range(7)}
    objects[0x80] = b"extended"
    instrument = simulate(SimulatedSlave(device_identification=objects), mode)
    assert instrument.read_device_identification(3) == objects
    assert len(as_dummy(instrument.serial).requests) == 4  # two objects of 100 bytes per response
    assert instrument.read_device_identification(2) == {key: objects[key] for key in range(7)}


@pytest.mark.parametrize("mode", MODES)
def test_simulated_vendor_code_gets_exception_1(simulate: Callable[..., Instrument], mode: str) -> None:
    instrument = simulate(SimulatedSlave(), mode)
    with pytest.raises(IllegalRequestError) as info:
        instrument.perform_command(65, b"\x01")
    assert (info.value.exception_code, info.value.function_code) == (1, 65)
    # and a standard code through perform_command
    instrument = simulate(SimulatedSlave(exception_status=0x6D), mode)
    assert instrument.perform_command(7, b"") == h("6d")


@pytest.mark.parametrize("mode", MODES)
def test_simulated_broadcast(simulate: Callable[..., Instrument], fake_clock: Any, mode: str) -> None:
    slave = file_slave()
    slave.holding_registers = {4: 0x12}
    instrument = simulate(slave, mode, slaveaddress=0)
    instrument.write_file_record(4, 7, [1, 2, 3])
    instrument.mask_write_register(4, 0x00F2, 0x0025)
    assert [slave.file_records[4][record] for record in (7, 8, 9)] == [1, 2, 3]
    assert slave.holding_registers[4] == 0x17
    assert fake_clock.sleeps.count(BROADCAST_DELAY) == 2


# ---------------------------------------------------------------------------
# 8. Input validation: shared lists of bad types and values
# ---------------------------------------------------------------------------

BAD_TYPES_INT = [1.0, "1", None, [1]]
BAD_TYPES_BOOL = [1, 0, "True", None, 1.0]  # signed must be a real bool
BAD_TYPES_LIST = [None, 1, "1", b"\x01\x02", {1: 1}]
BAD_TYPES_BYTES = [None, "abc", [1, 2], 1]
BAD_16_BIT = [-1, 65536]

# Valid keyword arguments of every method; each case changes one of them.
VALID_CALLS: dict[str, dict[str, Any]] = {
    "diagnostics": {"subfunction": 0, "data": 0},
    "read_file_record": {"file_number": 1, "record_number": 0, "number_of_registers": 1},
    "write_file_record": {"file_number": 1, "record_number": 0, "values": [1]},
    "mask_write_register": {"registeraddress": 0, "and_mask": 0xFFFF, "or_mask": 0},
    "read_write_registers": {
        "read_registeraddress": 0,
        "number_of_registers": 1,
        "write_registeraddress": 0,
        "values": [1],
    },
    "read_fifo_queue": {"registeraddress": 0},
    "read_device_identification": {"read_code": 1, "object_id": 0},
    "perform_command": {"functioncode": 65, "payload": b""},
    "read_registers": {"registeraddress": 0, "number_of_registers": 1, "functioncode": 3, "signed": True},
    "write_registers": {"registeraddress": 0, "values": [-1], "signed": True},
}

# (bad types, bad values) per (method, argument)
BAD_ARGUMENTS: dict[tuple[str, str], tuple[list[Any], list[Any]]] = {
    ("diagnostics", "subfunction"): (BAD_TYPES_INT, BAD_16_BIT),
    ("diagnostics", "data"): (BAD_TYPES_INT, BAD_16_BIT),
    ("read_file_record", "file_number"): (BAD_TYPES_INT, [0, -1, 65536]),
    ("read_file_record", "record_number"): (BAD_TYPES_INT, [-1, 10000]),
    ("read_file_record", "number_of_registers"): (BAD_TYPES_INT, [0, -1, 122]),
    ("write_file_record", "file_number"): (BAD_TYPES_INT, [0, 65536]),
    ("write_file_record", "record_number"): (BAD_TYPES_INT, [-1, 10000]),
    ("write_file_record", "values"): (BAD_TYPES_LIST, [[], [0] * 123]),
    ("mask_write_register", "registeraddress"): (BAD_TYPES_INT, BAD_16_BIT),
    ("mask_write_register", "and_mask"): (BAD_TYPES_INT, BAD_16_BIT),
    ("mask_write_register", "or_mask"): (BAD_TYPES_INT, BAD_16_BIT),
    ("read_write_registers", "read_registeraddress"): (BAD_TYPES_INT, BAD_16_BIT),
    ("read_write_registers", "number_of_registers"): (BAD_TYPES_INT, [0, 126]),
    ("read_write_registers", "write_registeraddress"): (BAD_TYPES_INT, BAD_16_BIT),
    ("read_write_registers", "values"): (BAD_TYPES_LIST, [[], [0] * 122]),
    ("read_fifo_queue", "registeraddress"): (BAD_TYPES_INT, BAD_16_BIT),
    ("read_device_identification", "read_code"): (BAD_TYPES_INT, [0, 5, -1, 14]),
    ("read_device_identification", "object_id"): (BAD_TYPES_INT, [-1, 256]),
    ("perform_command", "functioncode"): (BAD_TYPES_INT, [0, -1, 128, 0xAB]),
    ("perform_command", "payload"): (BAD_TYPES_BYTES, []),
    ("read_registers", "signed"): (BAD_TYPES_BOOL, []),
    ("write_registers", "signed"): (BAD_TYPES_BOOL, []),
}

# Cases on another base call: (method, changed valid arguments, argument, bad value, error, shown value)
OTHER_BAD_CASES: list[tuple[str, dict[str, Any], str, Any, type[Exception], str]] = [
    # The file records must stay within records 0..9999
    ("read_file_record", {"number_of_registers": 2}, "record_number", 9999, ValueError, "9999"),
    ("read_file_record", {"number_of_registers": 121}, "record_number", 9880, ValueError, "9880"),
    ("write_file_record", {"values": [1, 2]}, "record_number", 9999, ValueError, "9999"),
    ("write_file_record", {"values": [0] * 122}, "record_number", 9879, ValueError, "9879"),
    # A bad item in a list of values: the message shows the item
    *(
        (method, {}, "values", [0, item], error, repr(item))
        for method in ("write_file_record", "read_write_registers")
        for item, error in [(-1, ValueError), (65536, ValueError), (1.0, TypeError), ("1", TypeError)]
    ),
    ("read_write_registers", {}, "values", [0, None], TypeError, "None"),
    # The quantity must fit below address 65536
    ("read_write_registers", {"number_of_registers": 2}, "read_registeraddress", 65535, ValueError, "65535"),
    (
        "read_write_registers",
        {"number_of_registers": 125},
        "read_registeraddress",
        65412,
        ValueError,
        "65412",
    ),
    ("read_write_registers", {"values": [1, 2]}, "write_registeraddress", 65535, ValueError, "65535"),
    # At most 252 bytes after the function code
    ("perform_command", {}, "payload", bytes(253), ValueError, "253"),
    # Signed register values -32768..32767; unsigned 0..65535
    *(("write_registers", {}, "values", [0, item], ValueError, repr(item)) for item in [-32769, 32768]),
    ("write_registers", {}, "values", [0, 1.0], TypeError, "1.0"),
    *(
        ("write_registers", {"signed": False}, "values", [0, item], ValueError, repr(item))
        for item in [-1, 65536]
    ),
]


def validation_cases() -> list[Any]:
    """Every method, every argument, every bad type and value: one pytest.param each."""
    cases = []
    for (method, argument), (bad_types, bad_values) in BAD_ARGUMENTS.items():
        errors: list[type[Exception]] = [TypeError] * len(bad_types) + [ValueError] * len(bad_values)
        for bad, error in zip(bad_types + bad_values, errors):
            kwargs = {**VALID_CALLS[method], argument: bad}
            cases.append(
                pytest.param(
                    method, kwargs, argument, repr(bad), error, id=f"{method}-{argument}={bad!r:.20}"
                )
            )
    for method, changes, argument, bad, error, shown in OTHER_BAD_CASES:
        kwargs = {**VALID_CALLS[method], **changes, argument: bad}
        case_id = f"{method}-{changes!r:.20}-{argument}={bad!r:.20}"
        cases.append(pytest.param(method, kwargs, argument, shown, error, id=case_id))
    return cases


def test_every_argument_of_every_method_has_bad_cases() -> None:
    covered = set(BAD_ARGUMENTS)
    for method, valid in VALID_CALLS.items():
        for argument in valid:
            if method in ("read_registers", "write_registers") and argument != "signed":
                continue  # the other arguments: test_minimalmodbus.py
            assert (method, argument) in covered


@pytest.mark.parametrize("method", VALID_CALLS)
def test_valid_call_is_sent(dummy: dict[bytes, bytes], method: str) -> None:
    # The base of the validation cases is valid: it is written, and waits for an answer
    instrument = Instrument(PORT, SLAVE)
    as_dummy(instrument.serial).responder = silent
    with pytest.raises(NoResponseError):
        getattr(instrument, method)(**VALID_CALLS[method])
    assert len(as_dummy(instrument.serial).requests) == 1


@pytest.mark.parametrize("method, kwargs, argument, shown, error", validation_cases())
def test_bad_argument_is_refused_before_writing(
    dummy: dict[bytes, bytes], method: str, kwargs: dict[str, Any], argument: str, shown: str, error: type
) -> None:
    instrument = Instrument(PORT, SLAVE)
    with pytest.raises(error) as info:
        getattr(instrument, method)(**kwargs)
    assert type(info.value) is error
    message = str(info.value)
    # STYLE.md: the message names what the user typed, as a word of its own
    assert re.search(rf"(?<![\w]){argument}(?![\w])", message), message
    assert shown in message  # shows the value given
    assert as_dummy(instrument.serial).requests == []  # before anything is written


# The largest and smallest values allowed: sent, byte for byte
LIMIT_CALLS = [
    (call("diagnostics", 65535, 65535), "08 ffff ffff"),
    (call("read_file_record", 65535, 9879, 121), "14 07 06 ffff 2697 0079"),  # records up to 9999
    (call("read_file_record", 1, 0, 1), "14 07 06 0001 0000 0001"),
    (call("write_file_record", 65535, 9878, [0xFFFF] * 122), "15 fb 06 ffff 2696 007a " + "ffff" * 122),
    (call("write_file_record", 1, 9999, [0]), "15 09 06 0001 270f 0001 0000"),
    (call("mask_write_register", 65535, 65535, 0), "16 ffff ffff 0000"),
    (call("mask_write_register", 0, 0, 65535), "16 0000 0000 ffff"),
    (call("read_write_registers", 65411, 125, 65415, [0] * 121), "17 ff83 007d ff87 0079 f2 " + "0000" * 121),
    (call("read_write_registers", 0, 1, 0, [65535]), "17 0000 0001 0000 0001 02 ffff"),
    (call("read_fifo_queue", 65535), "18 ffff"),
    (call("read_device_identification", 4, 255), "2b 0e 04 ff"),
    (call("read_device_identification", 3, 0), "2b 0e 03 00"),
    (call("read_device_identification", 2), "2b 0e 02 00"),
    (call("perform_command", 127, bytes(252)), "7f " + "00" * 252),
    (call("perform_command", 1, h("0000 0001")), "01 0000 0001"),
    (call("read_registers", 65535, 1, 4, True), "04 ffff 0001"),
    (call("write_registers", 65535, [-32768], True), "10 ffff 0001 02 8000"),
    (call("write_registers", 0, [32767, -1], signed=True), "10 0000 0002 04 7fff ffff"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("limit, request_content", LIMIT_CALLS, ids=[str(entry[0]) for entry in LIMIT_CALLS])
def test_limits_are_accepted(dummy: dict[bytes, bytes], limit: Call, request_content: str, mode: str) -> None:
    instrument = Instrument(PORT, SLAVE, mode)
    as_dummy(instrument.serial).responder = silent
    with pytest.raises(NoResponseError):
        limit.run(instrument)
    assert as_dummy(instrument.serial).requests == [wire(mode, request_content)]


# ---------------------------------------------------------------------------
# 9. Self-check of the frame tables
# ---------------------------------------------------------------------------


def test_malformed_has_exactly_its_defect(malformed: Malformed) -> None:
    good, bad = h(malformed.good), h(malformed.bad)
    assert bad != good
    defect = malformed.defect
    assert splice(bad, defect.offset, h(defect.now), h(defect.was)) == good
    # the good response is a table exchange of its own, accepted there
    assert any(
        (exchange.call, exchange.request, exchange.response)
        == (malformed.call, malformed.request, malformed.good)
        for exchange in EXCHANGES
    )


def test_table_frames_are_valid_in_both_modes() -> None:
    for exchange in EXCHANGES:
        for mode in MODES:
            assert checksum_ok(mode, wire(mode, exchange.request))
            assert checksum_ok(mode, wire(mode, exchange.response))
        assert h(exchange.request)[0] == h(exchange.response)[0]  # the function code


def test_table_entries_are_unique() -> None:
    for table in (EXCHANGES, MALFORMED):
        ids = [str(entry) for entry in table]
        assert len(ids) == len(set(ids))


# ===========================================================================
# Tables of frames (content after the slave address, function code first)
# ===========================================================================


class Exchange(NamedTuple):
    """A call, the content of its request and response frames in hex, and what it returns."""

    call: Call
    request: str
    response: str
    value: Any

    def __str__(self) -> str:
        text = f"{self.call}->{self.response.replace(' ', '')}"
        return text if len(text) <= 110 else text[:107] + "..."


EXCHANGES = [
    # --- fc 7, Read Exception Status ---
    # §6.7 example: no request data; the status byte 6D
    Exchange(call("read_exception_status"), "07", "07 6d", 0x6D),
    Exchange(call("read_exception_status"), "07", "07 00", 0),
    Exchange(call("read_exception_status"), "07", "07 ff", 0xFF),
    # --- fc 8, Diagnostics: sub-function 2 bytes, data 2 bytes ---
    # §6.8 example: sub-function 00 00 (return query data), data A5 37, echoed
    Exchange(call("diagnostics", 0, 0xA537), "08 0000 a537", "08 0000 a537", 0xA537),
    Exchange(call("diagnostics", 0), "08 0000 0000", "08 0000 0000", 0),  # data defaults to 0
    # 01 restart communications, FF00 also clears the log: echo
    Exchange(call("diagnostics", 1, 0xFF00), "08 0001 ff00", "08 0001 ff00", 0xFF00),
    # 02 return diagnostic register
    Exchange(call("diagnostics", 2), "08 0002 0000", "08 0002 8001", 0x8001),
    # 0A clear counters and diagnostic register: echo
    Exchange(call("diagnostics", 10), "08 000a 0000", "08 000a 0000", 0),
    # 0B bus message count
    Exchange(call("diagnostics", 11), "08 000b 0000", "08 000b 0121", 0x0121),
    # 12 bus character overrun count, keyword arguments
    Exchange(call("diagnostics", subfunction=18, data=0), "08 0012 0000", "08 0012 0003", 3),
    # 14 clear overrun counter and flag: echo
    Exchange(call("diagnostics", 20), "08 0014 0000", "08 0014 0000", 0),
    # --- fc 11, Get Comm Event Counter ---
    # §6.9 example: status FF FF (busy), event count 01 08 (264)
    Exchange(call("read_comm_event_counter"), "0b", "0b ffff 0108", (0xFFFF, 264)),
    Exchange(call("read_comm_event_counter"), "0b", "0b 0000 0000", (0, 0)),
    # --- fc 12, Get Comm Event Log ---
    # §6.10 example: byte count 08, status 0000, event count 0108 (264),
    # message count 0121 (289), events 20 (entered listen only) 00 (restart)
    Exchange(
        call("read_comm_event_log"), "0c", "0c 08 0000 0108 0121 20 00", CommEventLog(0, 264, 289, h("2000"))
    ),
    # no events: byte count 6, the least
    Exchange(call("read_comm_event_log"), "0c", "0c 06 ffff 0000 0001", CommEventLog(0xFFFF, 0, 1, b"")),
    # 64 events: byte count 70 (0x46), the most
    Exchange(
        call("read_comm_event_log"),
        "0c",
        "0c 46 0000 0040 0040 " + "80" * 64,
        CommEventLog(0, 64, 64, h("80") * 64),
    ),
    # --- fc 17, Report Slave ID ---
    # §6.13 gives the layout, not bytes: byte count, slave id, run indicator (FF on), device data
    Exchange(call("report_slave_id"), "11", "11 05 2a ff 53494d", b"\x2a\xffSIM"),
    Exchange(call("report_slave_id"), "11", "11 02 01 00", b"\x01\x00"),  # run indicator off
    # --- fc 20, Read File Record: one sub-request ---
    # §6.14 example, its first sub-request: reference type 06, file 0004,
    # record 0001, length 0002 -> data length 06, sub-response length 05,
    # type 06, 0DFE 0020
    Exchange(
        call("read_file_record", 4, 1, 2),
        "14 07 06 0004 0001 0002",
        "14 06 05 06 0dfe 0020",
        [0x0DFE, 0x0020],
    ),
    # its second sub-request: file 0003, record 0009, length 0002 -> 33CD 0040
    Exchange(
        call("read_file_record", 3, 9, 2),
        "14 07 06 0003 0009 0002",
        "14 06 05 06 33cd 0040",
        [0x33CD, 0x0040],
    ),
    # 121 registers: data length F4, sub-response length F3 (the spec's limit is F5)
    Exchange(
        call("read_file_record", 65535, 9879, 121),
        "14 07 06 ffff 2697 0079",
        "14 f4 f3 06 " + words(range(121)),
        list(range(121)),
    ),
    # --- fc 21, Write File Record: one sub-request, echoed ---
    # §6.15 example: data length 0D, type 06, file 0004, record 0007, length 0003, 06AF 04BE 100D
    Exchange(
        call("write_file_record", 4, 7, [0x06AF, 0x04BE, 0x100D]),
        "15 0d 06 0004 0007 0003 06af 04be 100d",
        "15 0d 06 0004 0007 0003 06af 04be 100d",
        None,
    ),
    Exchange(
        call("write_file_record", 1, 9999, [0]),
        "15 09 06 0001 270f 0001 0000",
        "15 09 06 0001 270f 0001 0000",
        None,
    ),
    # --- fc 22, Mask Write Register, echoed ---
    # §6.16 example: register 0004, AND 00F2, OR 0025
    Exchange(call("mask_write_register", 4, 0x00F2, 0x0025), "16 0004 00f2 0025", "16 0004 00f2 0025", None),
    Exchange(call("mask_write_register", 65535, 0, 0xFFFF), "16 ffff 0000 ffff", "16 ffff 0000 ffff", None),
    # --- fc 23, Read/Write Multiple Registers ---
    # §6.17 example: read 6 from 0003, write 3 at 000E: 00FF 00FF 00FF;
    # byte count 0C, 00FE 0ACD 0001 0003 000D 00FF
    Exchange(
        call("read_write_registers", 3, 6, 14, [0xFF] * 3),
        "17 0003 0006 000e 0003 06 00ff 00ff 00ff",
        "17 0c 00fe 0acd 0001 0003 000d 00ff",
        [0x00FE, 0x0ACD, 0x0001, 0x0003, 0x000D, 0x00FF],
    ),
    Exchange(
        call("read_write_registers", 0, 125, 0, [0] * 121),
        "17 0000 007d 0000 0079 f2 " + "0000" * 121,
        "17 fa " + words(range(125)),
        list(range(125)),
    ),
    Exchange(
        call("read_write_registers", 0, 1, 1, [1, 2]),
        "17 0000 0001 0001 0002 04 0001 0002",
        "17 02 ffff",
        [0xFFFF],
    ),
    # --- fc 24, Read FIFO Queue ---
    # §6.18 example: pointer 04DE -> byte count 0006, FIFO count 0002, 01B8 1284
    Exchange(call("read_fifo_queue", 0x04DE), "18 04de", "18 0006 0002 01b8 1284", [0x01B8, 0x1284]),
    Exchange(call("read_fifo_queue", 0), "18 0000", "18 0002 0000", []),  # empty
    Exchange(call("read_fifo_queue", 65535), "18 ffff", "18 0040 001f " + words(range(31)), list(range(31))),
    # --- fc 43 / MEI 14, Read Device Identification ---
    # §6.21 example: read code 01 (basic) from object 00 -> conformity 01, no
    # more, next 00, 3 objects: 00 "Company identification", 01 "Product
    # code XX", 02 "V2.11" (lengths counted here: 16, 0F, 05)
    Exchange(
        call("read_device_identification"),
        "2b 0e 01 00",
        f"2b 0e 01 01 00 00 03 {COMPANY} {PRODUCT} {REVISION}",
        SPEC_OBJECTS,
    ),
    # read code 04: one object (individual access)
    Exchange(
        call("read_device_identification", 4, 1),
        "2b 0e 04 01",
        f"2b 0e 04 81 00 00 01 {PRODUCT}",
        {1: b"Product code XX"},
    ),
    # regular from object 03; extended object 80; no objects at all
    Exchange(
        call("read_device_identification", 2, 3),
        "2b 0e 02 03",
        f"2b 0e 02 82 00 00 02 {text_object(3, 'http://x')} {text_object(4, 'Name')}",
        {3: b"http://x", 4: b"Name"},
    ),
    Exchange(
        call("read_device_identification", read_code=3, object_id=0x80),
        "2b 0e 03 80",
        f"2b 0e 03 83 00 00 01 {text_object(0x80, 'abc')}",
        {0x80: b"abc"},
    ),
    Exchange(call("read_device_identification", 1), "2b 0e 01 00", "2b 0e 01 01 00 00 00", {}),
    Exchange(call("read_device_identification", 4, 6), "2b 0e 04 06", "2b 0e 04 81 00 00 01 06 00", {6: b""}),
    # --- perform_command: any function code, the response payload back ---
    Exchange(call("perform_command", 65, h("0102")), "41 0102", "41 0a0b0c", h("0a0b0c")),  # vendor code
    Exchange(call("perform_command", 100, b""), "64", "64 00", h("00")),
    Exchange(call("perform_command", 127, h("ff")), "7f ff", "7f " + "55" * 40, h("55") * 40),
    Exchange(
        call("perform_command", 3, h("006b 0003")),
        "03 006b 0003",
        "03 06 022b 0000 0064",
        h("06 022b 0000 0064"),
    ),
    Exchange(call("perform_command", 7, b""), "07", "07 6d", h("6d")),
    Exchange(call("perform_command", 8, h("0000 a537")), "08 0000 a537", "08 0000 a537", h("0000 a537")),
    # --- signed read_registers / write_registers ---
    Exchange(
        call("read_registers", 0, 3, signed=True), "03 0000 0003", "03 06 ffff 8000 7fff", [-1, -32768, 32767]
    ),
    Exchange(
        call("read_registers", 0, 3), "03 0000 0003", "03 06 ffff 8000 7fff", [65535, 32768, 32767]
    ),  # default
    Exchange(call("read_registers", 8, 2, 4, True), "04 0008 0002", "04 04 fffe 0001", [-2, 1]),
    Exchange(call("read_registers", 8, 2, 4, False), "04 0008 0002", "04 04 fffe 0001", [65534, 1]),
    Exchange(
        call("write_registers", 1, [-1, -32768, 32767, -2, 0], signed=True),
        "10 0001 0005 0a ffff 8000 7fff fffe 0000",
        "10 0001 0005",
        None,
    ),
    Exchange(call("write_registers", 1, [-256], True), "10 0001 0001 02 ff00", "10 0001 0001", None),
    Exchange(
        call("write_registers", 1, [65535, 32768]), "10 0001 0002 04 ffff 8000", "10 0001 0002", None
    ),  # default
]


class Defect(NamedTuple):
    """Where a bad response differs from the good one: ``was`` became ``now`` at ``offset`` (hex)."""

    offset: int
    was: str
    now: str


class Malformed(NamedTuple):
    """A response with a single defect, and a regular expression its error message must match."""

    name: str
    call: Call
    request: str
    good: str
    bad: str
    defect: Defect
    error: str

    def __str__(self) -> str:
        return self.name


# A frame with a byte too many or too few: the reader trusts the length
# the header gives, so what the driver sees is a bad checksum (RTU), a
# frame without CR LF or a wrong length (ASCII).
FRAMING = "checksum|cr lf|length"

MALFORMED = [
    # --- fc 7 ---
    Malformed(
        "fc7-two-status-bytes",
        call("read_exception_status"),
        "07",
        "07 6d",
        "07 6d 00",
        Defect(2, "", "00"),
        FRAMING,
    ),
    Malformed(
        "fc7-wrong-function-code",
        call("read_exception_status"),
        "07",
        "07 6d",
        "08 6d",
        Defect(0, "07", "08"),
        "function code",
    ),
    # --- fc 8 ---
    Malformed(
        "fc8-wrong-subfunction",
        call("diagnostics", 2),
        "08 0002 0000",
        "08 0002 8001",
        "08 0003 8001",
        Defect(2, "02", "03"),
        "echo|sub-function",
    ),
    Malformed(
        "fc8-return-query-data-changed",
        call("diagnostics", 0, 0xA537),
        "08 0000 a537",
        "08 0000 a537",
        "08 0000 a536",
        Defect(4, "37", "36"),
        "query data",
    ),
    Malformed(
        "fc8-return-query-data-of-zero-changed",
        call("diagnostics", 0),
        "08 0000 0000",
        "08 0000 0000",
        "08 0000 0100",
        Defect(3, "00", "01"),
        "query data",
    ),
    Malformed(
        "fc8-one-byte-too-many",
        call("diagnostics", 0, 0xA537),
        "08 0000 a537",
        "08 0000 a537",
        "08 0000 a537 00",
        Defect(5, "", "00"),
        FRAMING,
    ),
    # --- fc 11 ---
    Malformed(
        "fc11-one-byte-too-many",
        call("read_comm_event_counter"),
        "0b",
        "0b ffff 0108",
        "0b ffff 0108 00",
        Defect(5, "", "00"),
        FRAMING,
    ),
    Malformed(
        "fc11-one-byte-missing",
        call("read_comm_event_counter"),
        "0b",
        "0b ffff 0108",
        "0b ffff 01",
        Defect(4, "08", ""),
        FRAMING,
    ),
    # --- fc 12 ---
    Malformed(
        "fc12-byte-count-5",
        call("read_comm_event_log"),
        "0c",
        "0c 08 0000 0108 0121 20 00",
        "0c 05 0000 0108 01",
        Defect(1, "08 0000 0108 0121 20 00", "05 0000 0108 01"),
        "byte count",
    ),
    Malformed(
        "fc12-byte-count-0",
        call("read_comm_event_log"),
        "0c",
        "0c 08 0000 0108 0121 20 00",
        "0c 00",
        Defect(1, "08 0000 0108 0121 20 00", "00"),
        "byte count",
    ),
    Malformed(
        "fc12-65-events",
        call("read_comm_event_log"),
        "0c",
        "0c 08 0000 0108 0121 20 00",
        "0c 47 0000 0108 0121 20 00" + " 00" * 63,
        Defect(1, "08 0000 0108 0121 20 00", "47 0000 0108 0121 20 00" + " 00" * 63),
        "byte count",
    ),
    # --- fc 20 ---
    Malformed(
        "fc20-wrong-reference-type",
        call("read_file_record", 4, 1, 2),
        "14 07 06 0004 0001 0002",
        "14 06 05 06 0dfe 0020",
        "14 06 05 07 0dfe 0020",
        Defect(3, "06", "07"),
        "sub-response header",
    ),
    Malformed(
        "fc20-wrong-sub-response-length",
        call("read_file_record", 4, 1, 2),
        "14 07 06 0004 0001 0002",
        "14 06 05 06 0dfe 0020",
        "14 06 07 06 0dfe 0020",
        Defect(2, "05", "07"),
        "sub-response header",
    ),
    # data length 08 and 3 registers, though the sub-response length (05) and the request say 2
    Malformed(
        "fc20-one-register-too-many",
        call("read_file_record", 4, 1, 2),
        "14 07 06 0004 0001 0002",
        "14 06 05 06 0dfe 0020",
        "14 08 05 06 0dfe 0020 1234",
        Defect(1, "06 05 06 0dfe 0020", "08 05 06 0dfe 0020 1234"),
        "byte count|length",
    ),
    # data length 04 and 1 register, though the sub-response length (05) and the request say 2
    Malformed(
        "fc20-one-register-missing",
        call("read_file_record", 4, 1, 2),
        "14 07 06 0004 0001 0002",
        "14 06 05 06 0dfe 0020",
        "14 04 05 06 0dfe",
        Defect(1, "06 05 06 0dfe 0020", "04 05 06 0dfe"),
        "byte count|length",
    ),
    # --- fc 21 ---
    Malformed(
        "fc21-wrong-record-data-echo",
        call("write_file_record", 4, 7, [0x06AF, 0x04BE, 0x100D]),
        "15 0d 06 0004 0007 0003 06af 04be 100d",
        "15 0d 06 0004 0007 0003 06af 04be 100d",
        "15 0d 06 0004 0007 0003 06af 04be 100e",
        Defect(14, "0d", "0e"),
        "echo",
    ),
    Malformed(
        "fc21-wrong-file-number-echo",
        call("write_file_record", 4, 7, [0x06AF, 0x04BE, 0x100D]),
        "15 0d 06 0004 0007 0003 06af 04be 100d",
        "15 0d 06 0004 0007 0003 06af 04be 100d",
        "15 0d 06 0005 0007 0003 06af 04be 100d",
        Defect(4, "04", "05"),
        "echo",
    ),
    Malformed(
        "fc21-echo-one-register-short",
        call("write_file_record", 4, 7, [0x06AF, 0x04BE, 0x100D]),
        "15 0d 06 0004 0007 0003 06af 04be 100d",
        "15 0d 06 0004 0007 0003 06af 04be 100d",
        "15 0b 06 0004 0007 0003 06af 04be",
        Defect(1, "0d 06 0004 0007 0003 06af 04be 100d", "0b 06 0004 0007 0003 06af 04be"),
        "echo",
    ),
    # --- fc 22 ---
    Malformed(
        "fc22-wrong-or-mask-echo",
        call("mask_write_register", 4, 0x00F2, 0x0025),
        "16 0004 00f2 0025",
        "16 0004 00f2 0025",
        "16 0004 00f2 0026",
        Defect(6, "25", "26"),
        "echo",
    ),
    Malformed(
        "fc22-wrong-and-mask-echo",
        call("mask_write_register", 4, 0x00F2, 0x0025),
        "16 0004 00f2 0025",
        "16 0004 00f2 0025",
        "16 0004 00f3 0025",
        Defect(4, "f2", "f3"),
        "echo",
    ),
    Malformed(
        "fc22-wrong-address-echo",
        call("mask_write_register", 4, 0x00F2, 0x0025),
        "16 0004 00f2 0025",
        "16 0004 00f2 0025",
        "16 0005 00f2 0025",
        Defect(2, "04", "05"),
        "echo",
    ),
    Malformed(
        "fc22-one-byte-too-many",
        call("mask_write_register", 4, 0x00F2, 0x0025),
        "16 0004 00f2 0025",
        "16 0004 00f2 0025",
        "16 0004 00f2 0025 00",
        Defect(7, "", "00"),
        FRAMING,
    ),
    # --- fc 23 ---
    Malformed(
        "fc23-wrong-byte-count",
        call("read_write_registers", 3, 6, 14, [0xFF] * 3),
        "17 0003 0006 000e 0003 06 00ff 00ff 00ff",
        "17 0c 00fe 0acd 0001 0003 000d 00ff",
        "17 0a 00fe 0acd 0001 0003 000d",
        Defect(1, "0c 00fe 0acd 0001 0003 000d 00ff", "0a 00fe 0acd 0001 0003 000d"),
        "byte count",
    ),
    # the byte count of the write part (06) instead of the read part (0C)
    Malformed(
        "fc23-byte-count-of-the-write",
        call("read_write_registers", 3, 6, 14, [0xFF] * 3),
        "17 0003 0006 000e 0003 06 00ff 00ff 00ff",
        "17 0c 00fe 0acd 0001 0003 000d 00ff",
        "17 06 00fe 0acd 0001",
        Defect(1, "0c 00fe 0acd 0001 0003 000d 00ff", "06 00fe 0acd 0001"),
        "byte count",
    ),
    # --- fc 24 ---
    Malformed(
        "fc24-fifo-count-3-for-2-registers",
        call("read_fifo_queue", 0x04DE),
        "18 04de",
        "18 0006 0002 01b8 1284",
        "18 0006 0003 01b8 1284",
        Defect(4, "02", "03"),
        "fifo count",
    ),
    Malformed(
        "fc24-fifo-count-1-for-2-registers",
        call("read_fifo_queue", 0x04DE),
        "18 04de",
        "18 0006 0002 01b8 1284",
        "18 0006 0001 01b8 1284",
        Defect(4, "02", "01"),
        "fifo count",
    ),
    Malformed(
        "fc24-byte-count-for-4-registers",
        call("read_fifo_queue", 0x04DE),
        "18 04de",
        "18 0006 0002 01b8 1284",
        "18 000a 0002 01b8 1284 0000 0000",
        Defect(2, "06 0002 01b8 1284", "0a 0002 01b8 1284 0000 0000"),
        "fifo count",
    ),
    # 32 registers: the FIFO holds at most 31
    Malformed(
        "fc24-fifo-count-32",
        call("read_fifo_queue", 0x04DE),
        "18 04de",
        "18 0006 0002 01b8 1284",
        "18 0042 0020 " + words(range(32)),
        Defect(2, "06 0002 01b8 1284", "42 0020 " + words(range(32))),
        "fifo count",
    ),
    # --- fc 43 ---
    Malformed(
        "fc43-wrong-mei-type",
        call("read_device_identification"),
        "2b 0e 01 00",
        f"2b 0e 01 01 00 00 03 {COMPANY} {PRODUCT} {REVISION}",
        f"2b 0d 01 01 00 00 03 {COMPANY} {PRODUCT} {REVISION}",
        Defect(1, "0e", "0d"),
        "mei type",
    ),
    Malformed(
        "fc43-wrong-read-code",
        call("read_device_identification"),
        "2b 0e 01 00",
        f"2b 0e 01 01 00 00 03 {COMPANY} {PRODUCT} {REVISION}",
        f"2b 0e 02 01 00 00 03 {COMPANY} {PRODUCT} {REVISION}",
        Defect(2, "01", "02"),
        "read code",
    ),
    Malformed(
        "fc43-more-follows-from-object-0-again",
        call("read_device_identification"),
        "2b 0e 01 00",
        f"2b 0e 01 01 00 00 03 {COMPANY} {PRODUCT} {REVISION}",
        f"2b 0e 01 01 ff 00 03 {COMPANY} {PRODUCT} {REVISION}",
        Defect(4, "00", "ff"),
        "advance",
    ),
    Malformed(
        "fc43-object-count-4-for-3",
        call("read_device_identification"),
        "2b 0e 01 00",
        f"2b 0e 01 01 00 00 03 {COMPANY} {PRODUCT} {REVISION}",
        f"2b 0e 01 01 00 00 04 {COMPANY} {PRODUCT} {REVISION}",
        Defect(6, "03", "04"),
        FRAMING,
    ),
    # individual access (read code 04) to object 01 answered with object 02
    Malformed(
        "fc43-individual-access-wrong-object",
        call("read_device_identification", 4, 1),
        "2b 0e 04 01",
        f"2b 0e 04 81 00 00 01 {PRODUCT}",
        f"2b 0e 04 81 00 00 01 02 {PRODUCT[3:]}",
        Defect(7, "01", "02"),
        "object",
    ),
]
