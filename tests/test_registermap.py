"""Tests for minimalmodbus_registermap: loading and its checks, the planner, reading and writing by name.

Reads and writes go through ``dummy_serial`` ports answered by simulated
slaves (``minimalmodbus_simulator.SimulatedBus`` as the responder), on the
fake clock of the ``dummy`` fixture: nothing sleeps. The requests a read
makes are checked byte for byte where the plan matters.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import OUR_MODULES, module_imports
from frames import rtu
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dummy_serial
import minimalmodbus
import minimalmodbus_registermap
import minimalmodbus_simulator as simulator
from minimalmodbus_registermap import Entry, RegisterMap, RegisterMapError, SlaveTables, plan_reads

REPO = Path(__file__).resolve().parent.parent
MAPS = REPO / "examples" / "maps"

SMALL_MAP = """\
# a small map: holding 0..3 (uint16, int16 with 1 decimal, float32), a hole at 4..5,
# holding 6..9 (uint32 little-swap, string of 2 registers), input 0, coil 0..1
#! format = 1
#! slave_address = 7
#! byteorder = big
name,table,register,type,byteorder,decimals,scale,unit,access,default,description
count,holding,0,uint16,,,,,rw,42,a counter
temperature,holding,1,int16,,1,,degC,rw,-12.5,
power,holding,2,float32,,,,W,rw,1234.5,
energy,holding,6,uint32,littleswap,,0.01,kWh,rw,70000.25,
label,holding,8,string:2,,,,,rw,AB,
frequency,input,0,uint16,,2,,Hz,r,50.02,
relay,coil,0,bit,,,,,rw,1,
alarm,coil,1,bit,,,,,r,0,
"""


def small_map() -> RegisterMap:
    return RegisterMap.loads(SMALL_MAP, "csv", "small.csv")


@pytest.fixture
def slave_bus(dummy: dict[bytes, bytes]) -> Iterator[simulator.SimulatedBus]:
    """A bus with the small map's slave (address 7) as the responder of every new dummy_serial port."""
    bus = simulator.SimulatedBus({7: simulator.SimulatedSlave(**small_map().slave_tables())})
    previous = dummy_serial.RESPONDER
    dummy_serial.RESPONDER = bus
    yield bus
    dummy_serial.RESPONDER = previous


def port_requests(instrument: minimalmodbus.Instrument) -> list[bytes]:
    port = instrument.serial
    assert isinstance(port, dummy_serial.Serial)
    return port.requests


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def test_the_small_map_loads() -> None:
    regmap = small_map()
    assert regmap.slaveaddress == 7
    assert list(regmap.entries) == [
        "count", "temperature", "power", "energy", "label", "frequency", "relay", "alarm"
    ]  # fmt: skip
    energy = regmap.entries["energy"]
    assert (energy.table, energy.registeraddress, energy.number_of_registers) == ("holding", 6, 2)
    assert energy.byteorder == minimalmodbus.BYTEORDER_LITTLE_SWAP
    assert (energy.scale, energy.unit, energy.writable, energy.line) == (0.01, "kWh", True, 10)
    assert regmap.entries["frequency"].writable is False
    assert regmap.entries["label"].number_of_registers == 2


def test_base_1_counts_registers_from_1() -> None:
    text = "#! format = 1\n#! base = 1\nname,table,register,type\nvoltage,input,1,float32\n"
    assert RegisterMap.loads(text).entries["voltage"].registeraddress == 0


def test_hexadecimal_register_addresses() -> None:
    text = "#! format = 1\nname,table,register,type\npv,holding,0x1000,int16\n"
    assert RegisterMap.loads(text).entries["pv"].registeraddress == 4096


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is 3.11+")
def test_toml_map_loads_like_the_csv_map() -> None:
    text = """\
format = 1
slave_address = 7

[[entry]]
name = "count"
table = "holding"
register = 0
type = "uint16"
access = "rw"
default = 42

[[entry]]
name = "energy"
table = "holding"
register = 6
type = "uint32"
byteorder = "littleswap"
scale = 0.01
unit = "kWh"
"""
    regmap = RegisterMap.loads(text, "toml", "small.toml")
    assert regmap.entries["count"] == small_map().entries["count"]._replace(line=4, description="")
    assert regmap.entries["energy"].line == 12
    assert regmap.entries["energy"].scale == 0.01


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is 3.11+")
def test_toml_problems_name_the_line_of_their_entry() -> None:
    text = 'format = 1\n\n[[entry]]\nname = "a"\ntable = "holding"\nregister = 0\ntype = "uint8"\n'
    with pytest.raises(RegisterMapError) as caught:
        RegisterMap.loads(text, "toml", "bad.toml")
    assert caught.value.problems == [
        "bad.toml:3: unknown type 'uint8'; types are bit, uint16, int16, uint32, int32, uint64, int64, "
        "float32, float64, string:N"
    ]


def test_toml_needs_python_3_11(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "version_info", (3, 10, 0))
    with pytest.raises(RegisterMapError) as caught:
        RegisterMap.loads("format = 1\n", "toml", "old.toml")
    assert caught.value.problems == [
        "old.toml: TOML maps need Python 3.11 or later (tomllib); use a CSV map on this Python"
    ]


def test_load_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    path.write_text(SMALL_MAP, encoding="utf-8")
    regmap = RegisterMap.load(path)
    assert regmap.source == str(path)
    assert regmap.entries == small_map().entries


def test_a_file_that_is_neither_csv_nor_toml(tmp_path: Path) -> None:
    with pytest.raises(RegisterMapError, match=r"a map file ends in \.csv or \.toml, not '\.txt'"):
        RegisterMap.load(tmp_path / "map.txt")


# Each defect of a map file, alone in an otherwise good file, and its message.
HEADER = "#! format = 1\nname,table,register,type,access,default\n"
DEFECTS = [
    (
        "a,holding,0,uint8,,",
        "bad.csv:3: unknown type 'uint8'; types are bit, uint16, int16, uint32, int32, "
        "uint64, int64, float32, float64, string:N",
    ),
    (
        "a,holding,0,uint16,,\nb,holding,0,uint16,,",
        "bad.csv:4: 'b' overlaps 'a' (line 3): holding register 0 is inside 0..0",
    ),
    (
        "a,input,0,float64,,\nb,input,3,uint16,,",
        "bad.csv:4: 'b' overlaps 'a' (line 3): input register 3 is inside 0..3",
    ),
    (
        "a,holding,0,string:200,,",
        "bad.csv:3: a string does not fit: 'string:200'; give string:N with N 1..125 registers",
    ),
    (  # readable in one request, but function code 16 writes at most 123 registers
        "a,holding,0,string:124,rw,",
        "bad.csv:3: a string does not fit one write: 'string:124' with access rw; "
        "give string:N with N 1..123 registers",
    ),
    (
        "a,holding,0,string:2,rw,ABCDE",
        "bad.csv:3: bad default 'ABCDE': 'a' holds at most 4 ASCII characters, not 'ABCDE'",
    ),
    ("a,holding,70000,uint16,,", "bad.csv:3: bad register address '70000': a whole number 0..65535"),
    ("a,holding,x,uint16,,", "bad.csv:3: bad register address 'x': a whole number 0..65535"),
    ("a,holding,65535,uint32,,", "bad.csv:3: bad register address '65535': its 2 registers end beyond 65535"),
    ("a,holding,0,uint16,,\na,holding,1,uint16,,", "bad.csv:4: duplicate name 'a' (first on line 3)"),
    (
        "a,register,0,uint16,,",
        "bad.csv:3: unknown table 'register'; tables are coil, discrete, holding, input",
    ),
    ("a,coil,0,uint16,,", "bad.csv:3: type uint16 in a coil table: it holds bit"),
    ("a,holding,0,bit,,", "bad.csv:3: type bit in a holding table: it holds a register type, not bit"),
    ("a,input,0,uint16,rw,", "bad.csv:3: access rw: input registers are read-only"),
    ("a,holding,0,uint16,write,", "bad.csv:3: bad access 'write'; one of r, ro, read-only, rw, read-write"),
    (
        "a,holding,0,uint16,rw,70000",
        "bad.csv:3: bad default '70000': 70000 is out of range for 'a' (uint16): 0..65535",
    ),
    (
        "a b,holding,0,uint16,,",
        "bad.csv:3: bad name 'a b': letters, digits, '_', '.', '-', starting with a letter or '_'",
    ),
    ("a,holding,0", "bad.csv:3: no type"),
    (  # 40 digits: more than the 28 of decimal's default precision
        "a,holding,0,uint64,rw," + "9" * 40,
        f"bad.csv:3: bad default '{'9' * 40}': {'9' * 40} is out of range for 'a' (uint64): "
        "0..18446744073709551615",
    ),
]


@pytest.mark.parametrize(("rows", "message"), DEFECTS)
def test_each_defect_is_reported_with_its_line(rows: str, message: str) -> None:
    with pytest.raises(RegisterMapError) as caught:
        RegisterMap.loads(HEADER + rows + "\n", "csv", "bad.csv")
    assert caught.value.problems == [message]
    assert str(caught.value) == f"Register map bad.csv has 1 problem(s):\n  {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name,table,register,type\na,holding,0,uint16\n",
            "bad.csv: no format version: put '#! format = 1' first (TOML: format = 1)",
        ),
        (
            "#! format = 2\nname,table,register,type\na,holding,0,uint16\n",
            "bad.csv:1: bad format '2'; one of 1",
        ),
        (
            "#! format = 1\n#! base = 2\nname,table,register,type\na,holding,0,uint16\n",
            "bad.csv:2: bad base '2'; one of 0, 1",
        ),
        (
            "#! format = 1\n#! slave_address = 300\nname,table,register,type\na,holding,0,uint16\n",
            "bad.csv:2: bad slave_address '300': a whole number 1..255",
        ),
        (
            "#! format = 1\n#! byteorder = middle\nname,table,register,type\na,holding,0,uint16\n",
            "bad.csv:2: bad byteorder 'middle'; one of big, little, bigswap, littleswap",
        ),
        (
            "#! format = 1\n#! colour = red\nname,table,register,type\na,holding,0,uint16\n",
            "bad.csv:2: unknown setting 'colour'; settings are format, slave_address, byteorder, base",
        ),
        (
            "#! format = 1\nname,table,register,type,colour\na,holding,0,uint16,red\n",
            "bad.csv:2: unknown column 'colour'; columns are name, table, register, type, byteorder, "
            "decimals, scale, unit, access, default, description",
        ),
        ("#! format = 1\nname,table,type\n", "bad.csv:2: no column 'register'"),
        ("#! format = 1\nname,table,register,type\n", "bad.csv: no values: the map is empty"),
        (
            "#! format = 1\n#! base = 1\nname,table,register,type\na,holding,0,uint16\n",
            "bad.csv:4: bad register address '0': a whole number 1..65536",
        ),
        (
            "#! format = 1\nname,table,register,type,decimals,scale\na,holding,0,uint16,1,0.1\n",
            "bad.csv:3: give decimals or scale, not both",
        ),
        (
            "#! format = 1\nname,table,register,type,decimals\na,holding,0,float32,1\n",
            "bad.csv:3: decimals apply to integer types, not float32 (use scale for floats)",
        ),
        (
            "#! format = 1\nname,table,register,type,scale\na,holding,0,uint16,0\n",
            "bad.csv:3: bad scale '0': a number other than 0, e.g. 0.1",
        ),
    ],
)
def test_file_level_defects(text: str, message: str) -> None:
    with pytest.raises(RegisterMapError) as caught:
        RegisterMap.loads(text, "csv", "bad.csv")
    assert caught.value.problems == [message]


def test_every_problem_is_reported_at_once() -> None:
    rows = "a,holding,0,uint8,,\nb,register,1,uint16,,\nc,holding,70000,uint16,,\nd,input,0,uint16,,\n"
    rows += "d,input,1,uint16,,\n"
    with pytest.raises(RegisterMapError) as caught:
        RegisterMap.loads(HEADER + rows, "csv", "bad.csv")
    assert [problem.split(":")[1] for problem in caught.value.problems] == ["3", "4", "5", "7"]
    assert isinstance(caught.value, ValueError)


def test_nothing_is_read_with_a_map_that_did_not_load(slave_bus: simulator.SimulatedBus) -> None:
    with pytest.raises(RegisterMapError):
        RegisterMap.loads(HEADER + "a,holding,0,uint8,,\n", "csv", "bad.csv")
    assert slave_bus.requests == []


# ---------------------------------------------------------------------------
# Values: decoding and encoding
# ---------------------------------------------------------------------------


def test_values_decode_scaled_and_typed() -> None:
    regmap = small_map()
    tables = regmap.slave_tables()
    assert tables["holding_registers"] == {
        0: 42, 1: 0xFF83, 2: 0x449A, 3: 0x5000, 6: 0xCFD9, 7: 0x006A, 8: 0x4142, 9: 0x2020
    }  # fmt: skip
    assert tables["input_registers"] == {0: 5002}
    assert tables["coils"] == {0: 1, 1: 0}
    assert tables["discrete_inputs"] == {}
    entries = regmap.entries
    assert entries["temperature"].decode([0xFF83]) == -12.5
    assert entries["energy"].decode([0xCFD9, 0x006A]) == 70000.25
    assert entries["frequency"].decode([5000]) == 50  # whole: an int, as read_register
    assert entries["label"].decode([0x4142, 0x2020]) == "AB"


def test_float32_values_read_as_their_shortest_decimal() -> None:
    entry = Entry("voltage", "input", 0, "float32", 2)
    assert entry.decode(minimalmodbus.float_to_registers(230.1)) == 230.1
    assert minimalmodbus.registers_to_float(minimalmodbus.float_to_registers(230.1)) != 230.1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("count", 65536, "65536 is out of range for 'count' (uint16): 0..65535"),
        ("count", 1.5, "'count' (uint16) takes a whole number, not 1.5"),
        pytest.param(  # too large for a float: still a ValueError, not OverflowError
            "count",
            10**400,
            f"{10**400!r} is out of range for 'count' (uint16): 0..65535",
            id="count-10**400",
        ),
        pytest.param("power", 10**400, f"'power' (float32) cannot hold {10**400!r}", id="power-10**400"),
        (
            "temperature",
            3276.8,
            "3276.8 is out of range for 'temperature' (int16, decimals 1): -3276.8..3276.7",
        ),
        ("energy", -0.01, "-0.01 is out of range for 'energy' (uint32, scale 0.01): 0.00..42949672.95"),
        ("power", 1e39, "'power' (float32) cannot hold 1e+39"),
        ("label", "ABCDE", "'label' holds at most 4 ASCII characters, not 'ABCDE'"),
        ("relay", 2, "'relay' is a bit: give 0 or 1, not 2"),
        ("frequency", 50, "'frequency' is read-only in the register map small.csv (access r, line 12)"),
        ("alarm", 1, "'alarm' is read-only in the register map small.csv (access r, line 14)"),
        (
            "nosuch",
            1,
            "No value 'nosuch' in the register map small.csv (it has: count, temperature, power, "
            "energy, label, frequency, relay, alarm)",
        ),
    ],
)
def test_bad_writes_are_refused_before_anything_is_sent(
    slave_bus: simulator.SimulatedBus, name: str, value: object, message: str
) -> None:
    instrument = minimalmodbus.Instrument("/dev/ttyUSB0", 7)
    with pytest.raises(ValueError) as caught:
        small_map().write(instrument, name, value)  # type: ignore[arg-type]
    assert str(caught.value) == message
    assert port_requests(instrument) == []


def test_a_float_that_unscales_beyond_its_type_is_refused_not_written_as_infinity() -> None:
    entry = Entry("flow", "holding", 0, "float64", 4, scale=0.1, writable=True)
    assert entry.encode(1e307) == minimalmodbus.float_to_registers(1e308, 4)
    with pytest.raises(ValueError, match=r"^'flow' \(float64\) cannot hold 1e\+308$"):
        entry.encode(1e308)  # 1e309 registers: infinity


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("count", "1.5", "'count' (uint16) takes a whole number, not '1.5'"),
        ("temperature", "warm", "'temperature' (int16) takes a number, not 'warm'"),  # 1 decimal: 21.5
        ("energy", "x", "'energy' (uint32) takes a number, not 'x'"),  # scale 0.01
        ("power", "x", "'power' (float32) takes a number, not 'x'"),
    ],
)
def test_text_that_is_not_a_value_says_what_the_value_takes(name: str, text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        small_map().entries[name].parse(text)
    assert str(caught.value) == message
    assert small_map().entries["temperature"].parse("21.5") == 21.5


def test_writing_a_string_value_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="'label' is a string: give a str, not 12"):
        small_map().encode("label", 12)
    with pytest.raises(TypeError, match="'count' takes a number, not '12'"):
        small_map().encode("count", "12")


# ---------------------------------------------------------------------------
# Reading and writing by name, through a simulated slave
# ---------------------------------------------------------------------------


def test_read_all_in_as_few_requests_as_the_holes_allow(slave_bus: simulator.SimulatedBus) -> None:
    instrument = minimalmodbus.Instrument("/dev/ttyUSB0", 7)
    values = small_map().read(instrument)
    assert values == {
        "count": 42, "temperature": -12.5, "power": 1234.5, "energy": 70000.25, "label": "AB",
        "frequency": 50.02, "relay": 1, "alarm": 0,
    }  # fmt: skip
    assert port_requests(instrument) == [
        rtu(7, 1, b"\x00\x00\x00\x02"),  # coils 0..1
        rtu(7, 3, b"\x00\x00\x00\x04"),  # holding 0..3
        rtu(7, 3, b"\x00\x06\x00\x04"),  # holding 6..9, not over the hole at 4..5
        rtu(7, 4, b"\x00\x00\x00\x01"),  # input 0
    ]


def test_read_a_few_in_the_order_asked(slave_bus: simulator.SimulatedBus) -> None:
    instrument = minimalmodbus.Instrument("/dev/ttyUSB0", 7)
    values = small_map().read(instrument, ["label", "count", "power"])
    assert list(values.items()) == [("label", "AB"), ("count", 42), ("power", 1234.5)]
    assert port_requests(instrument) == [rtu(7, 3, b"\x00\x00\x00\x04"), rtu(7, 3, b"\x00\x08\x00\x02")]


def test_max_gap_lets_a_read_cross_a_hole(slave_bus: simulator.SimulatedBus) -> None:
    slave_bus.slaves[7].holding_registers.update({4: 0, 5: 0})  # this device has the hole's registers
    instrument = minimalmodbus.Instrument("/dev/ttyUSB0", 7)
    small_map().read(instrument, ["count", "label"], max_gap=2)
    assert port_requests(instrument) == [rtu(7, 3, b"\x00\x00\x00\x0a")]


def test_a_refused_join_is_split_learned_and_the_values_still_returned(
    slave_bus: simulator.SimulatedBus,
) -> None:
    instrument = minimalmodbus.Instrument("/dev/ttyUSB0", 7)
    regmap = small_map()
    names = ["count", "temperature", "power", "energy", "label"]
    assert regmap.read(instrument, names, max_gap=2)["label"] == "AB"  # the slave has no registers 4, 5
    assert port_requests(instrument) == [
        rtu(7, 3, b"\x00\x00\x00\x0a"),  # 0..9, over the hole: exception 2
        rtu(7, 3, b"\x00\x00\x00\x04"),  # split into its runs
        rtu(7, 3, b"\x00\x06\x00\x04"),
    ]
    assert regmap.refused_joins == {7: {("holding", 6)}}
    port_requests(instrument).clear()
    assert regmap.read(instrument, names, max_gap=2) == regmap.read(instrument, names)
    assert port_requests(instrument) == [rtu(7, 3, b"\x00\x00\x00\x04"), rtu(7, 3, b"\x00\x06\x00\x04")] * 2


class _BlockSlave(simulator.SimulatedSlave):
    """A device with two memory blocks: it refuses (exception 2) a read spanning ``last`` and the next."""

    def __init__(self, last: int, tables: SlaveTables) -> None:
        super().__init__(**tables)
        self.last = last

    def handle(self, pdu: bytes, broadcast: bool = False) -> bytes | None:
        first, count = int.from_bytes(pdu[1:3], "big"), int.from_bytes(pdu[3:5], "big")
        if pdu[0] == 3 and first <= self.last < first + count - 1:
            return bytes([0x83, 2])
        return super().handle(pdu, broadcast)


@pytest.mark.parametrize(
    ("count", "last", "reads", "cuts"),
    [
        # 6 values, blocks 0..2 and 3..5: the halves are the blocks.
        (6, 2, [(0, 6), (0, 3), (3, 3)], {3}),
        # 10 values, blocks 0..6 and 7..9: halved twice; the cut at 5 was not needed, and costs one request.
        (10, 6, [(0, 10), (0, 5), (5, 5), (5, 2), (7, 3)], {5, 7}),
    ],
)
def test_a_hole_the_map_does_not_show_is_learned_by_halving(
    dummy: dict[bytes, bytes], count: int, last: int, reads: list[tuple[int, int]], cuts: set[int]
) -> None:
    text = "#! format = 1\nname,table,register,type,default\n" + "".join(
        f"r{number},holding,{number},uint16,{number}\n" for number in range(count)
    )
    regmap = RegisterMap.loads(text)
    bus = simulator.SimulatedBus({1: _BlockSlave(last, regmap.slave_tables())})
    port = dummy_serial.Serial(port="/dev/ttyUSB0")
    port.responder = bus
    instrument = minimalmodbus.Instrument(port, 1)
    assert regmap.read(instrument) == {f"r{number}": number for number in range(count)}
    assert bus.requests == [rtu(1, 3, struct.pack(">HH", first, number)) for first, number in reads]
    assert regmap.refused_joins == {1: {("holding", cut) for cut in cuts}}
    assert len(regmap.plan(slaveaddress=1)) == len(cuts) + 1
    assert len(regmap.plan()) == 1  # another slave has refused nothing
    bus.requests.clear()
    assert regmap.read(instrument) == {f"r{number}": number for number in range(count)}
    assert len(bus.requests) == len(cuts) + 1  # learned: no refused read again


def test_a_single_value_refused_raises(slave_bus: simulator.SimulatedBus) -> None:
    del slave_bus.slaves[7].holding_registers[8]
    instrument = minimalmodbus.Instrument("/dev/ttyUSB0", 7)
    with pytest.raises(minimalmodbus.IllegalRequestError):
        small_map().read(instrument, ["label"])


def test_a_refusal_learned_before_a_part_fails_is_kept(slave_bus: simulator.SimulatedBus) -> None:
    del slave_bus.slaves[7].holding_registers[8]  # "label" (8..9) is refused even alone
    instrument = minimalmodbus.Instrument("/dev/ttyUSB0", 7)
    regmap = small_map()
    with pytest.raises(minimalmodbus.IllegalRequestError):
        regmap.read(instrument, ["count", "label"], max_gap=4)
    assert port_requests(instrument) == [
        rtu(7, 3, b"\x00\x00\x00\x0a"),  # 0..9 joined: refused
        rtu(7, 3, b"\x00\x00\x00\x01"),  # count
        rtu(7, 3, b"\x00\x08\x00\x02"),  # label: refused alone, raises
    ]
    assert regmap.refused_joins == {7: {("holding", 8)}}  # the next read does not try the join again


def test_write_by_name_and_read_back(slave_bus: simulator.SimulatedBus) -> None:
    instrument = minimalmodbus.Instrument("/dev/ttyUSB0", 7)
    regmap = small_map()
    regmap.write(instrument, "temperature", -3.25)  # truncated toward zero: -32, as write_register
    regmap.write(instrument, "energy", 123.45)
    regmap.write(instrument, "relay", 0)
    regmap.write(instrument, "label", "Z")
    assert port_requests(instrument) == [
        rtu(7, 16, b"\x00\x01\x00\x01\x02\xff\xe0"),
        rtu(7, 16, b"\x00\x06\x00\x02\x04\x30\x39\x00\x00"),  # 12345, low word first
        rtu(7, 5, b"\x00\x00\x00\x00"),
        rtu(7, 16, b"\x00\x08\x00\x02\x04\x5a\x20\x20\x20"),
    ]
    assert regmap.read(instrument, ["temperature", "energy", "relay", "label"]) == {
        "temperature": -3.2, "energy": 123.45, "relay": 0, "label": "Z"
    }  # fmt: skip


def test_bad_names_and_max_gap() -> None:
    regmap = small_map()
    with pytest.raises(ValueError, match="No value 'x'"):
        regmap.plan(["x"])
    with pytest.raises(TypeError, match="names must be a list of names, not the text 'count'"):
        regmap.plan("count")
    with pytest.raises(ValueError, match="max_gap must be a whole number 0 or more, not -1"):
        regmap.plan(max_gap=-1)


# ---------------------------------------------------------------------------
# The planner: property tests
# ---------------------------------------------------------------------------

WIDTHS = {"uint16": 1, "uint32": 2, "float64": 4, "string": 0}


@st.composite
def maps(draw: st.DrawFn) -> list[Entry]:
    """Entries of one or two tables: runs of adjacent values separated by holes, some long."""
    entries: list[Entry] = []
    for table in draw(st.sampled_from([["holding"], ["holding", "input"], ["coil"]])):
        registeraddress = draw(st.integers(0, 50))
        for number in range(draw(st.integers(1, 60))):
            if table == "coil":
                valuetype, width = "bit", draw(st.sampled_from([1, 1, 1, 40]))  # 40: a run of 40 bits
                for bit in range(width):
                    entries.append(Entry(f"{table}{number}_{bit}", table, registeraddress + bit, "bit", 1))
                registeraddress += width + draw(st.sampled_from([0, 0, 0, 1, 3, 700]))
                continue
            valuetype = draw(st.sampled_from(list(WIDTHS)))
            width = WIDTHS[valuetype] or draw(st.integers(1, 125))
            entries.append(Entry(f"{table}{number}", table, registeraddress, valuetype, width))
            registeraddress += width + draw(st.sampled_from([0, 0, 0, 1, 2, 5, 30]))
    return [entry for entry in entries if entry.end <= 65536]


def declared_of(entries: list[Entry]) -> dict[str, set[int]]:
    declared: dict[str, set[int]] = {}
    for entry in entries:
        declared.setdefault(entry.table, set()).update(range(entry.registeraddress, entry.end))
    return declared


def run_spans(entries: list[Entry]) -> list[tuple[str, int]]:
    """(table, registers) of each run of consecutive declared registers."""
    spans: list[tuple[str, int]] = []
    previous: Entry | None = None
    for entry in sorted(entries, key=lambda entry: (entry.table, entry.registeraddress)):
        if previous is not None and previous.table == entry.table and previous.end == entry.registeraddress:
            spans[-1] = (entry.table, spans[-1][1] + entry.number_of_registers)
        else:
            spans.append((entry.table, entry.number_of_registers))
        previous = entry
    return spans


@settings(max_examples=300, deadline=None)
@given(maps())
def test_with_max_gap_0_one_request_per_run(entries: list[Entry]) -> None:
    plan = plan_reads(entries, declared_of(entries))
    spans = run_spans(entries)
    if all(span <= (2000 if table == "coil" else 125) for table, span in spans):
        assert len(plan) == len(spans)
    else:  # a run longer than one request takes more
        assert len(plan) > len(spans)


@st.composite
def plan_cases(draw: st.DrawFn) -> tuple[list[Entry], list[Entry], int, set[tuple[str, int]]]:
    """A map, the values asked for (a subset), max_gap and refused joins."""
    entries = draw(maps())
    wanted = [entry for entry in entries if draw(st.booleans())] or entries[:1]
    refused = {(entry.table, entry.registeraddress) for entry in entries if draw(st.integers(0, 9)) == 0}
    return entries, wanted, draw(st.sampled_from([0, 0, 1, 3, 10, 700])), refused


@settings(max_examples=300, deadline=None)
@given(plan_cases())
def test_every_value_once_within_the_limits_and_no_gap_larger_than_allowed(
    case: tuple[list[Entry], list[Entry], int, set[tuple[str, int]]],
) -> None:
    entries, wanted, max_gap, refused = case
    declared = declared_of(entries)
    plan = plan_reads(wanted, declared, max_gap, refused)
    planned = [entry for request in plan for entry in request.entries]
    assert sorted(planned) == sorted(wanted)  # each wanted value exactly once, nothing else
    for request in plan:
        first, last = request.entries[0], request.entries[-1]
        assert {entry.table for entry in request.entries} == {request.table}
        assert request.registeraddress == first.registeraddress
        assert request.number_of_registers == last.end - first.registeraddress
        assert 1 <= request.number_of_registers <= (2000 if request.table == "coil" else 125)
        for before, entry in zip(request.entries, request.entries[1:]):
            assert before.end <= entry.registeraddress  # by address, not overlapping
            between = range(before.end, entry.registeraddress)
            assert sum(address not in declared[request.table] for address in between) <= max_gap
            assert (entry.table, entry.registeraddress) not in refused


class _BoundarySlave(simulator.SimulatedSlave):
    """A device whose memory has blocks: exception 2 for a read that spans a boundary; records good reads."""

    def __init__(self, boundaries: set[int], **tables: dict[int, int]) -> None:
        super().__init__(**tables)  # type: ignore[arg-type]
        self.boundaries = boundaries
        self.answered: list[tuple[int, int]] = []  # (first register address, number of registers)

    def handle(self, pdu: bytes, broadcast: bool = False) -> bytes | None:
        first, count = int.from_bytes(pdu[1:3], "big"), int.from_bytes(pdu[3:5], "big")
        if pdu[0] == 3 and any(first < boundary < first + count for boundary in self.boundaries):
            return bytes([0x83, 2])
        response = super().handle(pdu, broadcast)
        if response is not None and pdu[0] == 3 and response[0] == 3:
            self.answered.append((first, count))
        return response


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_learned_refusals_never_skip_or_repeat_a_value(
    dummy: dict[bytes, bytes], data: st.DataObject
) -> None:
    widths = data.draw(st.lists(st.sampled_from([1, 2, 4]), min_size=1, max_size=40))
    holes = data.draw(st.lists(st.sampled_from([0, 0, 0, 1, 3]), min_size=len(widths), max_size=len(widths)))
    rows, registeraddress = [], 0
    for number, (width, hole) in enumerate(zip(widths, holes)):
        valuetype = {1: "uint16", 2: "uint32", 4: "uint64"}[width]
        rows.append(f"v{number},holding,{registeraddress},{valuetype},{number + 1}\n")
        registeraddress += width + hole
    regmap = RegisterMap.loads("#! format = 1\nname,table,register,type,default\n" + "".join(rows))
    starts = [entry.registeraddress for entry in regmap.entries.values()]
    slave = _BoundarySlave(set(data.draw(st.lists(st.sampled_from(starts)))), **regmap.slave_tables())
    port = dummy_serial.Serial(port="/dev/ttyUSB0")
    port.responder = simulator.SimulatedBus({1: slave})
    instrument = minimalmodbus.Instrument(port, 1)
    max_gap = data.draw(st.sampled_from([0, 1, 3, 10]))
    expected = {f"v{number}": number + 1 for number in range(len(widths))}
    for _ in range(2):  # learning, then with what was learned
        slave.answered.clear()
        assert regmap.read(instrument, max_gap=max_gap) == expected
        read = [address for first, count in slave.answered for address in range(first, first + count)]
        assert sorted(address for address in read if address in starts) == starts  # each value once


def test_plan_of_a_run_longer_than_one_request() -> None:
    entries = [
        Entry(f"v{number}", "input", 2 * number, "float32", 2) for number in range(70)
    ]  # 140 registers
    plan = plan_reads(entries, declared_of(entries))
    assert [(request.registeraddress, request.number_of_registers) for request in plan] == [
        (0, 124),
        (124, 16),
    ]


def test_the_planner_reads_declared_values_nobody_asked_for_to_save_a_request() -> None:
    entries = [Entry(f"v{number}", "holding", number, "uint16", 1) for number in range(20)]
    declared = declared_of(entries)
    near = plan_reads([entries[0], entries[9]], declared)  # 8 registers between: read them
    assert [(request.registeraddress, request.number_of_registers) for request in near] == [(0, 10)]
    far = plan_reads([entries[0], entries[10]], declared)  # 9 between: two requests
    assert [(request.registeraddress, request.number_of_registers) for request in far] == [(0, 1), (10, 1)]


# ---------------------------------------------------------------------------
# The module's place
# ---------------------------------------------------------------------------


def test_the_map_module_imports_the_driver_only() -> None:
    imported = module_imports(minimalmodbus_registermap.__file__)
    assert imported & OUR_MODULES == {"minimalmodbus"}
    standard_library = getattr(sys, "stdlib_module_names", imported - OUR_MODULES)  # 3.10+
    assert imported - OUR_MODULES <= set(standard_library)


def test_every_example_map_loads() -> None:
    paths = sorted(MAPS.glob("*.*"))
    assert [path.name for path in paths] == ["eastron_sdm120.csv", "eastron_sdm630.csv", "omega_cn7500.toml"]
    for path in paths if sys.version_info >= (3, 11) else paths[:2]:  # TOML needs tomllib
        assert RegisterMap.load(path).entries
    sdm630 = RegisterMap.load(MAPS / "eastron_sdm630.csv")
    assert len(sdm630.entries) == 60
    assert len(sdm630.plan()) == 14  # its runs between holes
