"""The command-line tool (``python -m minimalmodbus``) against simulated slaves on a real pty.

Each test serves a :class:`minimalmodbus_simulator.SimulatedBus` with
:class:`minimalmodbus_simulator.PtyServer` (fixture ``serve``) and runs
``minimalmodbus_cli.main([...])`` in-process, reading stdout and stderr with
``capsys``; a few tests start ``python -m minimalmodbus`` with
``subprocess`` to check the entry point, the exit status of the process
and ``simulate`` (which serves until SIGINT).

The bus records every request frame it gets, so a test can check which
function code the command line used. Values written are checked in the
simulated slave's maps directly, not only by reading them back.

Exit codes: 0 success, 1 a Modbus error, 2 bad arguments, 3 the port
cannot be opened, 130 interrupted. The helper :func:`run` turns a
``SystemExit`` (argparse, a port that cannot be opened) into its code, so
a test checks the code whichever way ``main`` ends.

POSIX only (pseudo-terminals). Every test takes a few milliseconds; no
test waits for an interval for real (``minimalmodbus_cli._sleep`` is replaced
where an interval is asked for).
"""

from __future__ import annotations

import ast
import errno
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import serial
from conftest import OUR_MODULES, Serve, forget_port, module_imports
from frames import rtu  # the tests' own CRC, not the driver's

pytest.importorskip("termios", reason="needs pseudo-terminals (POSIX)")

import minimalmodbus
import minimalmodbus_cli
import minimalmodbus_simulator

REPO = Path(__file__).resolve().parent.parent
SLAVE = 1
NOBODY = 9  # a slave address no simulated slave has
SHORT_TIMEOUT = "0.05"  # --timeout for requests nobody answers
PROCESS_SECONDS = 20.0  # a subprocess is killed if it takes longer than this
HELP_COMMANDS = ["read", "write", "monitor", "scan", "simulate", "demo"]

# ---------------------------------------------------------------------------
# The simulated slave's map
# ---------------------------------------------------------------------------

# Holding registers 0..99 hold 10 x the address, except these.
SPECIAL_HOLDING = {
    30: 1234,  # 123.4 with --decimals 1
    31: 0xFF85,  # int16 -123; -1.23 with --decimals 2
    32: 0xFFF6,  # int16 -10
    40: 0x1234,
    41: 0x5678,  # uint32 0x12345678 (big)
    42: 0xFFFF,
    43: 0xFFFE,  # int32 -2 (big)
    44: 0x449A,
    45: 0x5000,  # float32 1234.5 (big)
    46: 0x5000,
    47: 0x449A,  # float32 1234.5 (littleswap: words swapped)
    50: 0x3FD5,
    51: 0x5555,
    52: 0x5555,
    53: 0x5555,  # float64 1/3 (big)
    60: 0x4D6F,
    61: 0x6462,
    62: 0x7573,
    63: 0x2052,
    64: 0x5455,  # "Modbus RTU"
    70: 0x0102,
    71: 0x0304,
    72: 0x0506,
    73: 0x0708,  # uint64 0x0102030405060708
    74: 0xFFFF,
    75: 0xFFFF,
    76: 0xFFFF,
    77: 0xFFFE,  # int64 -2
}
INPUT_FLOAT = {90: 0xBE20, 91: 0x0000}  # float32 -0.15625 in input registers 90..91


def holding(address: int) -> int:
    return SPECIAL_HOLDING.get(address, 10 * address)


def input_register(address: int) -> int:
    return INPUT_FLOAT.get(address, 1000 + address)


def coil(address: int) -> int:
    return address % 2


def discrete_input(address: int) -> int:
    return int(address % 3 == 0)  # another pattern than the coils: a wrong table shows


def make_slave() -> minimalmodbus_simulator.SimulatedSlave:
    """Registers, coils and discrete inputs 0..99, each table with its own values."""
    return minimalmodbus_simulator.SimulatedSlave(
        coils={address: coil(address) for address in range(100)},
        discrete_inputs={address: discrete_input(address) for address in range(100)},
        holding_registers={address: holding(address) for address in range(100)},
        input_registers={address: input_register(address) for address in range(100)},
    )


def words(fmt: str, *values: float) -> list[int]:
    """The registers (big-endian words) of values packed with ``struct``."""
    packed = struct.pack(">" + fmt, *values)
    return list(struct.unpack(f">{len(packed) // 2}H", packed))


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------


class RecordingBus(minimalmodbus_simulator.SimulatedBus):
    """A SimulatedBus (which records every request) that also lists their function codes."""

    def function_codes(self) -> list[int]:
        return [request[1] for request in self.requests]


@dataclass
class Sim:
    """A served bus with one slave at address SLAVE."""

    server: minimalmodbus_simulator.PtyServer
    bus: RecordingBus
    slave: minimalmodbus_simulator.SimulatedSlave

    @property
    def path(self) -> str:
        return self.server.path


@pytest.fixture(autouse=True)
def forget_ports() -> Iterator[None]:
    """Close the ports a test made minimalmodbus open (the CLI leaves its port shared)."""
    before = set(minimalmodbus._serialports)
    yield
    for name in set(minimalmodbus._serialports) - before:
        forget_port(name)


@pytest.fixture
def sim(serve: Serve) -> Sim:
    """One simulated slave (address SLAVE, map above) on a pty."""
    slave = make_slave()
    bus = RecordingBus({SLAVE: slave})
    return Sim(serve(bus), bus, slave)


def run(argv: Sequence[str]) -> int:
    """``minimalmodbus_cli.main(argv)``'s exit code, also when it ends with SystemExit."""
    try:
        return minimalmodbus_cli.main(list(argv))
    except SystemExit as exit_:
        assert isinstance(exit_.code, int), f"SystemExit with {exit_.code!r}"
        return exit_.code


def run_json(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> object:
    """Run with --json; exit code 0, nothing on stderr (but scan's plan); the parsed stdout."""
    assert run([*argv, "--json"]) == 0
    captured = capsys.readouterr()
    if argv[0] == "scan":
        assert captured.err.startswith("Scanning slaves ") and captured.err.count("\n") == 1
    else:
        assert captured.err == ""
    return json.loads(captured.out)


def read_values(capsys: pytest.CaptureFixture[str], path: str, *options: str) -> list[object]:
    """The values ``read PATH OPTIONS --json`` prints."""
    document = run_json(capsys, ["read", path, *options])
    assert isinstance(document, dict)
    return [item["value"] for item in document["values"]]


def value_lines(text: str) -> list[str]:
    """The ``  [register] value`` lines of human output."""
    return [line for line in text.splitlines() if re.match(r"  \[\d+\] ", line)]


def python_m(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """``python -m minimalmodbus ARGS`` from the repository root."""
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "minimalmodbus", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=PROCESS_SECONDS,
        check=False,
        **kwargs,
    )


# ---------------------------------------------------------------------------
# read: holding registers, every format
# ---------------------------------------------------------------------------


def test_read_holding_uint16_human_output(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["read", sim.path, "-r", "5", "-c", "3"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "Slave 1, holding, uint16:\n  [5] 50\n  [6] 60\n  [7] 70\n"
    assert captured.err == ""
    assert sim.bus.requests == [rtu(SLAVE, 3, b"\x00\x05\x00\x03")]


def test_read_defaults_to_one_holding_register_at_0(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    document = run_json(capsys, ["read", sim.path])
    assert document == {
        "slave": 1,
        "table": "holding",
        "format": "uint16",
        "values": [{"register": 0, "value": 0}],
    }
    assert sim.bus.requests == [rtu(SLAVE, 3, b"\x00\x00\x00\x01")]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["-r", "8", "-c", "2"], [80, 90]),
        (["-t", "4:uint16", "-r", "31"], [0xFF85]),
        (["-t", "4:int16", "-r", "30", "-c", "3"], [1234, -123, -10]),
        (["-t", "holding:int16", "-r", "32"], [-10]),
        (["-t", "4:hex", "-r", "30", "-c", "3"], ["0x04D2", "0xFF85", "0xFFF6"]),
        (["-t", "4:hex", "-r", "1"], ["0x000A"]),
        (["--decimals", "1", "-r", "30"], [123.4]),
        (["--decimals", "1", "-r", "7", "-c", "2"], [7.0, 8.0]),
        (["-t", "4:int16", "--decimals", "2", "-r", "31"], [-1.23]),
        (["-t", "4:uint32", "-B", "-r", "40"], [0x12345678]),
        (["-t", "4:int32", "-B", "-r", "42"], [-2]),
        (["-t", "4:int", "-B", "-r", "42"], [-2]),  # mbpoll's 4:int is int32
        (["-t", "4:uint32", "-B", "-r", "42"], [0xFFFFFFFE]),
        (["-t", "4:int32", "-B", "-r", "40", "-c", "2"], [0x12345678, -2]),
        (["-t", "4:uint32", "-r", "40", "--byteorder", "big"], [0x12345678]),
        (["-t", "4:uint32", "-r", "40", "--byteorder", "little"], [0x78563412]),
        (["-t", "4:uint32", "-r", "40", "--byteorder", "bigswap"], [0x34127856]),
        (["-t", "4:uint32", "-r", "40", "--byteorder", "littleswap"], [0x56781234]),
        (["-t", "4:float32", "-B", "-r", "44"], [1234.5]),
        (["-t", "4:float", "-B", "-r", "44"], [1234.5]),  # mbpoll's 4:float is float32
        (["-t", "4:float", "-r", "46", "--byteorder", "littleswap"], [1234.5]),
        (
            ["-t", "4:float32", "-r", "44", "-c", "2", "--byteorder", "littleswap"],
            [
                struct.unpack(">f", bytes.fromhex("5000449A"))[0],
                struct.unpack(">f", bytes.fromhex("449A5000"))[0],
            ],
        ),
        (["-t", "4:float64", "-B", "-r", "50"], [1 / 3]),
        (
            ["-t", "4:float64", "-r", "50", "--byteorder", "little"],
            [struct.unpack("<d", struct.pack(">4H", 0x3FD5, 0x5555, 0x5555, 0x5555))[0]],
        ),
        (["-t", "4:uint64", "-B", "-r", "70"], [0x0102030405060708]),
        (["-t", "4:int64", "-B", "-r", "74"], [-2]),
        (["-t", "4:uint64", "-r", "70", "--byteorder", "littleswap"], [0x0708050603040102]),
        (["-t", "4:string", "-r", "60", "-c", "5"], ["Modbus RTU"]),
        (["-t", "4:string", "-r", "60", "-c", "3"], ["Modbus"]),
    ],
    ids=lambda value: (
        " ".join(value) if isinstance(value, list) and all(isinstance(item, str) for item in value) else None
    ),
)
def test_read_holding_formats_json(
    sim: Sim, capsys: pytest.CaptureFixture[str], options: list[str], expected: list[object]
) -> None:
    assert read_values(capsys, sim.path, *options) == expected
    assert sim.bus.function_codes() == [3]


def test_read_json_document_names_registers_of_wide_values(
    sim: Sim, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(capsys, ["read", sim.path, "-t", "4:float", "-B", "-r", "44", "-c", "2"])
    assert document == {
        "slave": 1,
        "table": "holding",
        "format": "float32",
        "values": [
            {"register": 44, "value": 1234.5},
            {"register": 46, "value": struct.unpack(">f", bytes.fromhex("5000449A"))[0]},
        ],
    }
    assert sim.bus.requests == [rtu(SLAVE, 3, b"\x00\x2c\x00\x04")]  # 2 values, 4 registers


def test_read_human_output_of_formats(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["read", sim.path, "-t", "4:int", "-B", "-r", "40", "-c", "2"]) == 0
    assert capsys.readouterr().out == "Slave 1, holding, int32:\n  [40] 305419896\n  [42] -2\n"
    assert run(["read", sim.path, "-t", "4:hex", "-r", "31"]) == 0
    assert capsys.readouterr().out == "Slave 1, holding, hex:\n  [31] 0xFF85\n"
    assert run(["read", sim.path, "-t", "4:string", "-r", "60", "-c", "5"]) == 0
    assert capsys.readouterr().out == "Slave 1, holding, string:\n  [60] Modbus RTU\n"
    assert run(["read", sim.path, "--decimals", "1", "-r", "30"]) == 0
    assert capsys.readouterr().out == "Slave 1, holding, uint16:\n  [30] 123.4\n"


def test_read_reserved_slave_address_and_whole_values_as_ints(
    serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 10: -a accepts 248..255 (0xF8 is the PZEM meters' general address), and a
    # whole value with decimals prints as an int, as read_register returns it (2.x)
    meter = make_slave()
    meter.input_registers[0] = 2300  # 230.0 V
    bus = RecordingBus({0xF8: meter})
    server = serve(bus)
    document = run_json(capsys, ["read", server.path, "-a", "248", "-t", "3", "--decimals", "1"])
    assert document == {
        "slave": 248,
        "table": "input",
        "format": "uint16",
        "values": [{"register": 0, "value": 230}],
    }
    assert run(["read", server.path, "-a", "248", "-t", "3", "--decimals", "1"]) == 0
    assert capsys.readouterr().out == "Slave 248, input, uint16:\n  [0] 230\n"
    assert bus.requests == [rtu(0xF8, 4, b"\x00\x00\x00\x01")] * 2


def test_read_other_slave_address(serve: Serve, capsys: pytest.CaptureFixture[str]) -> None:
    other = make_slave()
    other.holding_registers[0] = 4242
    bus = RecordingBus({SLAVE: make_slave(), 17: other})
    server = serve(bus)
    document = run_json(capsys, ["read", server.path, "-a", "17"])
    assert document == {
        "slave": 17,
        "table": "holding",
        "format": "uint16",
        "values": [{"register": 0, "value": 4242}],
    }
    assert bus.requests == [rtu(17, 3, b"\x00\x00\x00\x01")]


# ---------------------------------------------------------------------------
# read: input registers, coils, discrete inputs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["3", "input", "3:uint16", "INPUT"])
def test_read_input_registers(sim: Sim, capsys: pytest.CaptureFixture[str], table: str) -> None:
    document = run_json(capsys, ["read", sim.path, "-t", table, "-r", "2", "-c", "3"])
    assert document == {
        "slave": 1,
        "table": "input",
        "format": "uint16",
        "values": [{"register": address, "value": 1000 + address} for address in (2, 3, 4)],
    }
    assert sim.bus.requests == [rtu(SLAVE, 4, b"\x00\x02\x00\x03")]


def test_read_input_registers_float_and_human_output(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    assert read_values(capsys, sim.path, "-t", "3:float", "-B", "-r", "90") == [-0.15625]
    assert run(["read", sim.path, "-t", "3", "-r", "98", "-c", "2"]) == 0
    assert capsys.readouterr().out == "Slave 1, input, uint16:\n  [98] 1098\n  [99] 1099\n"
    assert sim.bus.function_codes() == [4, 4]


@pytest.mark.parametrize("table", ["0", "coil"])
def test_read_coils(sim: Sim, capsys: pytest.CaptureFixture[str], table: str) -> None:
    document = run_json(capsys, ["read", sim.path, "-t", table, "-r", "3", "-c", "10"])
    assert isinstance(document, dict)
    # "format" is not checked: for bits it says "uint16" (the default), where the
    # human output says "bits"
    assert {key: value for key, value in document.items() if key != "format"} == {
        "slave": 1,
        "table": "coil",
        "values": [{"register": address, "value": coil(address)} for address in range(3, 13)],
    }
    assert sim.bus.requests == [rtu(SLAVE, 1, b"\x00\x03\x00\x0a")]


@pytest.mark.parametrize("table", ["1", "discrete"])
def test_read_discrete_inputs(sim: Sim, capsys: pytest.CaptureFixture[str], table: str) -> None:
    values = read_values(capsys, sim.path, "-t", table, "-r", "0", "-c", "100")
    assert values == [discrete_input(address) for address in range(100)]
    assert sim.bus.requests == [rtu(SLAVE, 2, b"\x00\x00\x00\x64")]


def test_read_bits_human_output(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["read", sim.path, "-t", "0", "-c", "4"]) == 0
    assert capsys.readouterr().out == "Slave 1, coil, bits:\n  [0] 0\n  [1] 1\n  [2] 0\n  [3] 1\n"
    assert run(["read", sim.path, "-t", "1", "-c", "4"]) == 0
    assert capsys.readouterr().out == "Slave 1, discrete, bits:\n  [0] 1\n  [1] 0\n  [2] 0\n  [3] 1\n"
    assert sim.bus.function_codes() == [1, 2]


# ---------------------------------------------------------------------------
# read: port options, ASCII, debug
# ---------------------------------------------------------------------------


def test_read_with_port_options(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    """Baud rate, stop bits and timeout are set on the port (a pty ignores them).

    Parity stays none: this machine's pty refuses some parity changes
    (tcsetattr gives EINVAL), see test_port_refusing_a_setting_exits_3."""
    for options, settings in [
        (["-b", "9600", "--timeout", "0.25"], (9600, "N", 1, 0.25)),
        (["-P", "none", "-s", "2", "--timeout", "1.5"], (19200, "N", 2, 1.5)),
        (["-P", "n", "-b", "115200", "--timeout", "0.75"], (115200, "N", 1, 0.75)),
    ]:
        assert read_values(capsys, sim.path, "-r", "7", *options) == [70]
        port: Any = minimalmodbus._serialports[sim.path]
        assert (port.baudrate, port.parity, port.stopbits, port.timeout) == settings


@pytest.mark.parametrize("command", [["read"], ["write", "5"], ["monitor", "--iterations", "1"]])
def test_default_timeout_is_half_a_second(
    sim: Sim, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    assert run([command[0], sim.path, *command[1:]]) == 0
    assert minimalmodbus._serialports[sim.path].timeout == 0.5


def test_default_timeout_of_scan(
    scan_bus: tuple[str, RecordingBus], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = scan_bus
    assert run(["scan", path, "--from", "3", "--to", "3"]) == 0
    assert minimalmodbus._serialports[path].timeout == 0.05


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["read", "PORT", "-b", "0"], "argument -b/--baudrate: must be a whole number 1..100000000, not '0'"),
        (
            ["read", "PORT", "-b", "-5"],
            "argument -b/--baudrate: must be a whole number 1..100000000, not '-5'",
        ),
        (
            ["read", "PORT", "--timeout", "-1"],
            "argument -o/--timeout: must be a number of seconds, more than 0",
        ),
        (
            ["read", "PORT", "-o", "0"],
            "argument -o/--timeout: must be a number of seconds, more than 0, not '0'",
        ),
        (["read", "PORT", "--decimals", "-1"], "argument --decimals: must be a whole number 0..10, not '-1'"),
        (["read", "PORT", "--decimals", "20"], "argument --decimals: must be a whole number 0..10, not '20'"),
        (["read", "PORT", "-a", "300"], "argument -a/--slave: must be a whole number 0..255, not '300'"),
        (["read", "PORT", "-a", "256"], "argument -a/--slave: must be a whole number 0..255, not '256'"),
        (["read", "PORT", "-c", "0"], "argument -c/--count: must be a whole number 1..2000, not '0'"),
        (
            ["read", "PORT", "-r", "65536"],
            "argument -r/--register: must be a whole number 0..65535, not '65536'",
        ),
        (
            ["monitor", "PORT", "--interval", "-2"],
            "argument --interval: must be a number of seconds, 0 or more",
        ),
        (
            ["monitor", "PORT", "--iterations", "-1"],
            "argument --iterations: must be a whole number 0 or more, not '-1'",
        ),
        (
            ["scan", "PORT", "--baudrates", "9600,abc"],
            "argument --baudrates: must be baud rates 1..100000000 separated by commas (e.g. 9600,19200); "
            "'abc' in '9600,abc' is not one",
        ),
        (["scan", "PORT", "--from", "0"], "argument --from: must be a whole number 1..255, not '0'"),
        (["scan", "PORT", "--to", "256"], "argument --to: must be a whole number 1..255, not '256'"),
        (["simulate", "-a", "0"], "argument -a/--slave: must be a whole number 1..255, not '0'"),
    ],
)
def test_option_errors_name_the_option_the_value_and_the_range(
    sim: Sim, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Issue 12, items 6 and 7: in the program's own name, exit code 2, nothing sent."""
    assert run([sim.path if part == "PORT" else part for part in argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"minimalmodbus {argv[0]}: error: {message}" in captured.err
    assert "python -m" not in captured.err and "<lambda>" not in captured.err
    assert sim.bus.requests == []


def test_port_refusing_a_setting_exits_3(
    sim: Sim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A device that refuses even parity, as this machine's pty does for real (EINVAL)."""
    termios = pytest.importorskip("termios")
    original = serial.Serial._reconfigure_port  # type: ignore[attr-defined]  # pyserial POSIX

    def reconfigure(port: object, *args: object, **kwargs: object) -> None:
        if getattr(port, "parity", "N") == "E":
            raise termios.error(22, "Invalid argument")
        original(port, *args, **kwargs)

    monkeypatch.setattr(serial.Serial, "_reconfigure_port", reconfigure)
    assert run(["read", sim.path, "-P", "even"]) == 3
    captured = capsys.readouterr()
    assert captured.err.startswith(f"minimalmodbus: Port {sim.path!r} refuses -P/--parity even: ")
    assert "Invalid argument" in captured.err


def test_read_ascii_mode(serve: Serve, capsys: pytest.CaptureFixture[str]) -> None:
    bus = RecordingBus({SLAVE: make_slave()}, minimalmodbus_simulator.MODE_ASCII)
    server = serve(bus)
    assert read_values(capsys, server.path, "--mode", "ascii", "-r", "7", "-c", "2") == [70, 80]
    assert bus.requests == [b":010300070002F3\r\n"]


def test_read_debug_prints_the_frames(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["read", sim.path, "-r", "7", "--debug"]) == 0
    out = capsys.readouterr().out
    assert "Writing to instrument: 01 03 00 07 00 01 35 CB (8 bytes)" in out
    assert "Response from instrument: 01 03 02 00 46 39 B6 (7 bytes)" in out
    assert out.endswith("Slave 1, holding, uint16:\n  [7] 70\n")


# ---------------------------------------------------------------------------
# write
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "values", "registers", "read_back"),
    [
        (["-r", "10"], ["123"], [123], [123]),
        (["-r", "10"], ["1", "65535", "0x10"], [1, 65535, 16], [1, 65535, 16]),
        (["-t", "4:uint16", "-r", "10"], ["0"], [0], [0]),
        (
            ["-t", "4:int16", "-r", "10"],
            ["-5", "32767", "-32768"],
            [0xFFFB, 0x7FFF, 0x8000],
            [-5, 32767, -32768],
        ),
        (["-t", "4:hex", "-r", "10"], ["0x1F2E", "0xffff"], [0x1F2E, 0xFFFF], ["0x1F2E", "0xFFFF"]),
        (["--decimals", "1", "-r", "10"], ["123.4", "0.5"], [1234, 5], [123.4, 0.5]),
        (["-t", "4:int16", "--decimals", "2", "-r", "10"], ["-1.23"], [0xFF85], [-1.23]),
        (["-t", "4:uint32", "-B", "-r", "10"], ["0x12345678"], [0x1234, 0x5678], [0x12345678]),
        (
            ["-t", "4:uint32", "-r", "10", "--byteorder", "little"],
            ["0x12345678"],
            [0x7856, 0x3412],
            [0x12345678],
        ),
        (
            ["-t", "4:uint32", "-r", "10", "--byteorder", "bigswap"],
            ["0x12345678"],
            [0x3412, 0x7856],
            [0x12345678],
        ),
        (
            ["-t", "4:uint32", "-r", "10", "--byteorder", "littleswap"],
            ["0x12345678"],
            [0x5678, 0x1234],
            [0x12345678],
        ),
        (["-t", "4:int", "-B", "-r", "10"], ["-2", "100000"], [0xFFFF, 0xFFFE, 0x0001, 0x86A0], [-2, 100000]),
        (["-t", "4:int64", "-B", "-r", "10"], ["-2"], [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE], [-2]),
        (
            ["-t", "4:uint64", "-B", "-r", "10"],
            ["0x0102030405060708"],
            [0x0102, 0x0304, 0x0506, 0x0708],
            [0x0102030405060708],
        ),
        (["-t", "4:float", "-B", "-r", "10"], ["1234.5"], [0x449A, 0x5000], [1234.5]),
        (
            ["-t", "4:float32", "-r", "10", "--byteorder", "littleswap"],
            ["-0.15625", "2"],
            [0x0000, 0xBE20, 0x0000, 0x4000],
            [-0.15625, 2.0],
        ),
        (["-t", "4:float64", "-B", "-r", "10"], ["0.3333333333333333"], words("d", 1 / 3), [1 / 3]),
        (
            ["-t", "4:string", "-r", "10", "-c", "4"],
            ["hi", "there"],
            [0x6869, 0x2074, 0x6865, 0x7265],
            ["hi there"],
        ),
        (["-t", "4:string", "-r", "10", "-c", "3"], ["abc"], [0x6162, 0x6320, 0x2020], ["abc   "]),
    ],
    ids=lambda value: (
        " ".join(value) if isinstance(value, list) and all(isinstance(item, str) for item in value) else None
    ),
)
def test_write_holding_registers(
    sim: Sim,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    values: list[str],
    registers: list[int],
    read_back: list[object],
) -> None:
    assert run(["write", sim.path, *options, *values]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"Wrote {' '.join(values)} to slave 1 at register 10\n"
    assert captured.err == ""
    # In the slave's map: exactly these registers changed, nothing else
    expected_map = {address: holding(address) for address in range(100)}
    expected_map.update({10 + offset: register for offset, register in enumerate(registers)})
    assert sim.slave.holding_registers == expected_map
    # One fc 16 request carrying the registers
    count = len(registers)
    payload = struct.pack(f">HHB{count}H", 10, count, 2 * count, *registers)
    assert sim.bus.requests == [rtu(SLAVE, 16, payload)]
    # And read back with the same options
    count_options = [] if "-c" in options else ["-c", str(len(read_back))]
    assert read_values(capsys, sim.path, *options, *count_options) == read_back


@pytest.mark.parametrize(
    ("options", "values", "document_values"),
    [
        (["-r", "3"], ["77", "0x10"], [{"register": 3, "value": 77}, {"register": 4, "value": 16}]),
        (
            ["-t", "4:float", "-r", "10"],
            ["1.5", "-2"],
            [{"register": 10, "value": 1.5}, {"register": 12, "value": -2.0}],
        ),
        (["--decimals", "1", "-r", "5"], ["12.3"], [{"register": 5, "value": 12.3}]),
        (["-t", "4:string", "-r", "20", "-c", "2"], ["ab", "c"], [{"register": 20, "value": "ab c"}]),
        (["-t", "0", "-r", "7"], ["1", "0"], [{"register": 7, "value": 1}, {"register": 8, "value": 0}]),
    ],
)
def test_write_json_prints_what_was_written(
    sim: Sim,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    values: list[str],
    document_values: object,
) -> None:
    """Issue 12, item 4: the document read --json prints, with the values as numbers."""
    table, valueformat = minimalmodbus_cli._parse_type(options[1] if options[0] == "-t" else "4")
    assert run_json(capsys, ["write", sim.path, *options, *values]) == {
        "slave": 1,
        "table": table,
        "format": "bits" if table == "coil" else valueformat,
        "values": document_values,
    }
    assert len(sim.bus.requests) == 1


def test_write_one_coil_uses_fc5(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["write", sim.path, "-t", "0", "-r", "4", "1"]) == 0
    assert capsys.readouterr().out == "Wrote 1 to slave 1 at register 4\n"
    assert sim.slave.coils[4] == 1
    assert run(["write", sim.path, "-t", "coil", "-r", "5", "0"]) == 0
    assert sim.slave.coils[5] == 0
    assert sim.bus.requests == [rtu(SLAVE, 5, b"\x00\x04\xff\x00"), rtu(SLAVE, 5, b"\x00\x05\x00\x00")]
    capsys.readouterr()
    assert read_values(capsys, sim.path, "-t", "0", "-r", "3", "-c", "4") == [1, 1, 0, 0]
    assert sim.slave.coils == {a: {4: 1, 5: 0}.get(a, coil(a)) for a in range(100)}


def test_write_several_coils_uses_fc15(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    bits = ["1", "1", "0", "0", "1", "0", "1", "1", "1", "0"]
    assert run(["write", sim.path, "-t", "0", "-r", "20", *bits]) == 0
    assert capsys.readouterr().out == f"Wrote {' '.join(bits)} to slave 1 at register 20\n"
    # bits 20..29 LSB first: 1,1,0,0,1,0,1,1 -> 0xD3; 1,0 -> 0x01
    assert sim.bus.requests == [rtu(SLAVE, 15, b"\x00\x14\x00\x0a\x02\xd3\x01")]
    written = {20 + offset: int(bit) for offset, bit in enumerate(bits)}
    assert sim.slave.coils == {a: written.get(a, coil(a)) for a in range(100)}
    assert read_values(capsys, sim.path, "-t", "0", "-r", "20", "-c", "10") == [int(bit) for bit in bits]


def test_write_decimals_truncate_toward_zero(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    # As write_register (and 2.x): scaled, then truncated toward zero (issue 10, item 3)
    assert run(["write", sim.path, "--decimals", "1", "-r", "0", "0.25", "0.29", "2.55"]) == 0
    assert run(["write", sim.path, "-t", "4:int16", "--decimals", "1", "-r", "3", "-0.25"]) == 0
    assert [sim.slave.holding_registers[a] for a in range(4)] == [2, 2, 25, 0xFFFE]


# ---------------------------------------------------------------------------
# monitor
# ---------------------------------------------------------------------------


@pytest.fixture
def interval_sleeps(monkeypatch: pytest.MonkeyPatch, sim: Sim) -> list[float]:
    """Replace minimalmodbus_cli._sleep, the wait between polls: intervals (>= 1 s) are
    recorded, not waited, and each one changes holding register 1 of the slave, so every
    poll sees a new value. Shorter waits are waited."""
    sleeps: list[float] = []
    real_sleep = minimalmodbus_cli._sleep

    def sleep(seconds: float) -> None:
        if seconds >= 1:
            sleeps.append(seconds)
            sim.slave.holding_registers[1] += 1
        else:
            real_sleep(seconds)

    monkeypatch.setattr(minimalmodbus_cli, "_sleep", sleep)
    return sleeps


def test_monitor_polls_and_prints(
    sim: Sim, capsys: pytest.CaptureFixture[str], interval_sleeps: list[float]
) -> None:
    assert run(["monitor", sim.path, "-r", "1", "-c", "2", "--iterations", "3", "--interval", "2.5"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "\x1b" not in captured.out  # not a terminal: no redrawing in place
    assert captured.out.splitlines() == [
        "Slave 1, holding, poll 1 every 2.5 s",
        "  [1] 10",
        "  [2] 20",
        "Slave 1, holding, poll 2 every 2.5 s",
        "  [1] 11",
        "  [2] 20",
        "Slave 1, holding, poll 3 every 2.5 s",
        "  [1] 12",
        "  [2] 20",
    ]
    assert interval_sleeps == [2.5, 2.5]  # between polls, not after the last
    assert sim.bus.requests == [rtu(SLAVE, 3, b"\x00\x01\x00\x02")] * 3


def test_monitor_json_lines(
    sim: Sim, capsys: pytest.CaptureFixture[str], interval_sleeps: list[float]
) -> None:
    assert run(["monitor", sim.path, "-t", "4:int", "-B", "-r", "42", "--iterations", "3", "--json"]) == 0
    out = capsys.readouterr().out
    assert [json.loads(line) for line in out.splitlines()] == [
        {
            "poll": poll,
            "slave": 1,
            "table": "holding",
            "format": "int32",
            "values": [{"register": 42, "value": -2}],
        }
        for poll in (1, 2, 3)
    ]
    assert interval_sleeps == [1.0, 1.0]  # the default interval


def test_monitor_json_values_are_numbers_and_errors_are_objects(
    sim: Sim,
    capsys: pytest.CaptureFixture[str],
    interval_sleeps: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12, item 4: poll 2 fails (slave exception), poll 3 recovers; exit 0 as the last poll worked."""
    real_read = minimalmodbus_cli._read_selection
    polls = iter([real_read, None, real_read])

    def read(instrument: minimalmodbus.Instrument, selection: Any) -> list[tuple[int, Any]]:
        chosen = next(polls)
        if chosen is None:
            return real_read(instrument, selection._replace(registeraddress=1000))
        return chosen(instrument, selection)

    monkeypatch.setattr(minimalmodbus_cli, "_read_selection", read)
    argv = ["monitor", sim.path, "-r", "1", "-c", "2", "--iterations", "3", "--interval", "2", "--json"]
    assert run(argv) == 0
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert documents[0]["values"] == [{"register": 1, "value": 10}, {"register": 2, "value": 20}]
    assert documents[2]["values"] == [{"register": 1, "value": 12}, {"register": 2, "value": 20}]
    error = documents[1].pop("error")
    assert documents[1] == {"poll": 2, "slave": 1, "table": "holding", "format": "uint16"}
    assert error["type"] == "IllegalRequestError"
    assert error["exception_code"] == 2
    assert "Illegal data address" in error["message"]


def test_monitor_zero_interval_does_not_wait(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(["monitor", sim.path, "-t", "0", "-r", "1", "-c", "2", "--iterations", "3", "--interval", "0"])
        == 0
    )
    assert value_lines(capsys.readouterr().out) == ["  [1] 1", "  [2] 0"] * 3
    assert sim.bus.function_codes() == [1, 1, 1]


def test_monitor_goes_on_after_errors(
    sim: Sim, capsys: pytest.CaptureFixture[str], interval_sleeps: list[float]
) -> None:
    """An exception reply is shown as the poll's line; the monitor goes on, and exits 1 as the last
    poll failed (issue 12, item 4)."""
    assert run(["monitor", sim.path, "-r", "1000", "--iterations", "2", "--interval", "3"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Slave 1, holding, poll 1 every 3.0 s"
    assert lines[1].startswith("  IllegalRequestError: ")
    assert "exception code 2" in lines[1]
    assert lines[2] == "Slave 1, holding, poll 2 every 3.0 s"
    assert len(lines) == 4
    assert interval_sleeps == [3.0]


def test_monitor_no_response_line(
    sim: Sim, capsys: pytest.CaptureFixture[str], interval_sleeps: list[float]
) -> None:
    argv = ["monitor", sim.path, "-a", str(NOBODY), "--iterations", "2", "--timeout", SHORT_TIMEOUT, "--json"]
    assert run(argv) == 1  # every poll, so the last, failed
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [document["poll"] for document in documents] == [1, 2]
    for document in documents:
        assert "values" not in document
        assert document["error"]["type"] == "NoResponseError"
        assert "exception_code" not in document["error"]
        assert document["error"]["message"].startswith("No communication with the instrument")


# ---------------------------------------------------------------------------
# scan
# ---------------------------------------------------------------------------


@pytest.fixture
def scan_bus(serve: Serve) -> tuple[str, RecordingBus]:
    """Slaves 3, 7 and 12 only; slave 7 has no holding register 0 (answers exception 2)."""
    slaves = {
        3: minimalmodbus_simulator.SimulatedSlave(holding_registers={0: 30}),
        7: minimalmodbus_simulator.SimulatedSlave(holding_registers={1: 71}),
        12: minimalmodbus_simulator.SimulatedSlave(holding_registers={0: 120, 5: 125}),
    }
    bus = RecordingBus(slaves)
    return serve(bus).path, bus


def test_scan_finds_exactly_the_slaves(
    scan_bus: tuple[str, RecordingBus], capsys: pytest.CaptureFixture[str]
) -> None:
    path, bus = scan_bus
    assert run(["scan", path, "--from", "1", "--to", "15", "--timeout", "0.02"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"Scan of {path}: 3 slave(s) answered",
        "  slave  baudrate  answer",
        "      3     19200  register 0 = 30",
        "      7     19200  exception code 2 (Illegal data address)",
        "     12     19200  register 0 = 120",
    ]
    # not a terminal: the plan, no bar; no progress line as the scan takes less than 5 s
    assert captured.err == (
        f"Scanning slaves 1..15 at 19200 baud on {path}: 15 probe(s), up to 0.4 s "
        "(a 0.02 s timeout for each address that does not answer)\n"
    )
    assert bus.requests == [rtu(address, 3, b"\x00\x00\x00\x01") for address in range(1, 16)]


def test_scan_json(scan_bus: tuple[str, RecordingBus], capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = scan_bus
    document = run_json(capsys, ["scan", path, "--from", "1", "--to", "15", "--timeout", "0.02"])
    assert document == {
        "port": path,
        "interrupted": False,
        "found": [
            {"slave": 3, "baudrate": 19200, "answer": "register 0 = 30"},
            {"slave": 7, "baudrate": 19200, "answer": "exception code 2 (Illegal data address)"},
            {"slave": 12, "baudrate": 19200, "answer": "register 0 = 120"},
        ],
    }


def test_scan_probes_another_register(
    scan_bus: tuple[str, RecordingBus], capsys: pytest.CaptureFixture[str]
) -> None:
    path, bus = scan_bus
    document = run_json(capsys, ["scan", path, "--from", "5", "--to", "12", "-r", "5", "--timeout", "0.02"])
    assert isinstance(document, dict)
    assert [(item["slave"], item["answer"]) for item in document["found"]] == [
        (7, "exception code 2 (Illegal data address)"),
        (12, "register 5 = 125"),
    ]
    assert bus.requests == [rtu(address, 3, b"\x00\x05\x00\x01") for address in range(5, 13)]


def test_scan_baudrates(scan_bus: tuple[str, RecordingBus], capsys: pytest.CaptureFixture[str]) -> None:
    """A pty answers at any baud rate, so slave 3 is found at both."""
    path, bus = scan_bus
    argv = ["scan", path, "--from", "2", "--to", "4", "--baudrates", "9600,19200", "--timeout", "0.02"]
    assert run(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"Scan of {path}: 2 slave(s) answered",
        "  slave  baudrate  answer",
        "      3      9600  register 0 = 30",
        "      3     19200  register 0 = 30",
    ]
    assert [request[0] for request in bus.requests] == [2, 3, 4, 2, 3, 4]
    document = run_json(capsys, [*argv])
    assert isinstance(document, dict)
    assert [(item["slave"], item["baudrate"]) for item in document["found"]] == [(3, 9600), (3, 19200)]


def test_scan_nobody_answers_exits_1(
    scan_bus: tuple[str, RecordingBus], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = scan_bus
    assert run(["scan", path, "--from", "13", "--to", "14", "--timeout", "0.02"]) == 1
    assert capsys.readouterr().out == f"Scan of {path}: 0 slave(s) answered\n"
    assert run(["scan", path, "--from", "13", "--to", "14", "--timeout", "0.02", "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == {"port": path, "interrupted": False, "found": []}


# ---------------------------------------------------------------------------
# Errors and exit codes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["read"], ["write", "--", "5"], ["monitor"], ["scan"]])
def test_bad_port_path_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    missing = str(tmp_path / "no-such-port")
    argv = [command[0], missing, *command[1:]]
    assert run(argv) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("minimalmodbus: ")
    assert "no-such-port" in captured.err
    assert "Could not open port" in captured.err
    assert "Traceback" not in captured.err
    assert missing not in minimalmodbus._serialports


def test_no_response_exits_1(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["read", sim.path, "-a", str(NOBODY), "--timeout", SHORT_TIMEOUT]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("minimalmodbus: NoResponseError: ")
    assert "09 03 00 00 00 01 85 42" in captured.err  # the request nobody answered
    assert sim.bus.requests == [rtu(NOBODY, 3, b"\x00\x00\x00\x01")]


def test_no_response_to_a_write_exits_1(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["write", sim.path, "-a", str(NOBODY), "--timeout", SHORT_TIMEOUT, "5"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "NoResponseError" in captured.err


@pytest.mark.parametrize(
    ("argv", "functioncode"),
    [
        (["read", "-r", "1000"], 3),
        (["read", "-r", "99", "-c", "2"], 3),
        (["read", "-t", "3", "-r", "100"], 4),
        (["read", "-t", "0", "-r", "95", "-c", "10"], 1),
        (["read", "-t", "1", "-r", "200"], 2),
        (["write", "-r", "1000", "5"], 16),
        (["write", "-t", "0", "-r", "100", "1"], 5),
        (["write", "-t", "0", "-r", "99", "1", "1"], 15),
    ],
)
def test_slave_exception_exits_1(
    sim: Sim, capsys: pytest.CaptureFixture[str], argv: list[str], functioncode: int
) -> None:
    assert run([argv[0], sim.path, *argv[1:]]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("minimalmodbus: IllegalRequestError: ")
    assert "exception code 2" in captured.err
    assert "Illegal data address" in captured.err
    assert sim.bus.function_codes() == [functioncode]
    assert sim.slave.holding_registers == {a: holding(a) for a in range(100)}  # nothing written
    assert sim.slave.coils == {a: coil(a) for a in range(100)}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["read", "PORT", "-t", "5"], "-t/--type"),
        (["read", "PORT", "-t", "4:nope"], "-t/--type"),
        (["read", "PORT", "-t", "1:int16"], "bits have no format"),
        (["read", "PORT", "-t", "0:float"], "bits have no format"),
        (["read", "PORT", "--byteorder", "middle"], "--byteorder"),
        (["read", "PORT", "-B", "big"], "unrecognized arguments: big"),  # -B is a flag, as in mbpoll
        (["read", "PORT", "-P", "mark"], "-P/--parity"),
        (["read", "PORT", "-s", "3"], "-s/--stopbits"),
        (["read", "PORT", "-r", "ten"], "-r/--register"),
        (["read", "PORT", "--mode", "tcp"], "--mode"),
        (["read"], "port"),
        (["write", "PORT"], "values"),
        (["monitor", "PORT", "--interval", "soon"], "--interval"),
        (["scan", "PORT", "--baudrates", "9600,fast"], "--baudrates"),
        (["frobnicate", "PORT"], "invalid choice"),
        ([], "COMMAND"),
    ],
)
def test_bad_arguments_exit_2_before_any_request(
    sim: Sim, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run([sim.path if part == "PORT" else part for part in argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "usage: minimalmodbus" in captured.err
    assert message in captured.err
    assert sim.bus.requests == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["write", "PORT", "-t", "3", "5"], "-t/--type input: input registers are read-only"),
        (["write", "PORT", "-t", "input:float", "1.5"], "input registers are read-only"),
        (["write", "PORT", "-t", "1", "1"], "-t/--type discrete: discrete inputs are read-only"),
        (["write", "PORT", "abc"], "value 'abc' is not a whole number"),
        (
            ["write", "PORT", "-r", "10", "12.5"],
            "value '12.5' is not a whole number (give --decimals N for decimals, or -t 4:float)",
        ),
        (["write", "PORT", "70000"], "value '70000' is out of range: uint16 holds 0..65535"),
        (
            ["write", "PORT", "-t", "4:int16", "40000"],
            "value '40000' is out of range: int16 holds -32768..32767",
        ),
        (
            ["write", "PORT", "--decimals", "1", "7000"],
            "value '7000' is out of range: uint16 with --decimals 1 holds 0.0..6553.5",
        ),
        (
            ["write", "PORT", "-t", "4:string", "-c", "2", "too long"],
            "value 'too long' has 8 characters, but -c/--count 2 register(s) hold at most 4",
        ),
        (
            ["write", "PORT", "-t", "4:uint32", "--", "-1"],
            "value '-1' is out of range: uint32 holds 0..4294967295",
        ),
        (["write", "PORT", "-t", "4:float", "x"], "value 'x' is not a number that float32 can hold"),
        (["write", "PORT", "-t", "4:float", "1e40"], "value '1e40' is not a number that float32 can hold"),
        (["write", "PORT", "-t", "0", "2"], "value '2': a coil is written with 0 or 1"),
        (
            ["write", "PORT", "-t", "4:float", "--decimals", "1", "1"],
            "--decimals 1 applies to uint16 and int16",
        ),
        (
            ["read", "PORT", "-t", "4:float", "-c", "63"],
            "-c/--count 63 of float32 need 126 registers, but one request carries at most 125 registers "
            "(-c/--count at most 62 for float32)",
        ),
        (["read", "PORT", "-c", "126"], "-c/--count 126 of uint16 need 126 registers"),
        (
            ["read", "PORT", "-t", "0", "-c", "2000", "-r", "65000"],
            "ends at 66999, beyond the last address 65535",
        ),
        (["monitor", "PORT", "-t", "4:float64", "-c", "32"], "at most 31 for float64"),
        (["write", "PORT", "-r", "65535", "1", "2"], "-r/--register 65535 with 2 registers ends at 65536"),
        (["write", "PORT", *["1"] * 124], "124 value(s) of uint16 need 124 registers"),
        (["scan", "PORT", "--from", "9", "--to", "8"], "--to 8 is below --from 9; give --to 9 or more"),
    ],
)
def test_bad_values_exit_2_before_any_request(
    sim: Sim, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Issue 12, items 6 and 7: checks that need more than one option, before the port is opened."""
    assert run([sim.path if part == "PORT" else part for part in argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"minimalmodbus {argv[0]}: bad argument: ")
    assert message in captured.err
    assert captured.err.count("\n") == 1
    assert sim.bus.requests == []
    assert sim.slave.holding_registers == {a: holding(a) for a in range(100)}


def test_help_of_the_tool(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        minimalmodbus_cli.main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: minimalmodbus ")
    for command in HELP_COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", HELP_COMMANDS)
def test_help_of_every_command(capsys: pytest.CaptureFixture[str], command: str) -> None:
    with pytest.raises(SystemExit) as caught:
        minimalmodbus_cli.main([command, "-h"])
    assert caught.value.code == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"usage: minimalmodbus {command} ")
    assert captured.err == ""


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        minimalmodbus_cli.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"minimalmodbus {minimalmodbus.__version__}\n"


def test_interrupted_read_exits_130(
    sim: Sim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(minimalmodbus.Instrument, "read_registers", interrupt)
    assert run(["read", sim.path]) == 130
    assert capsys.readouterr().err == "minimalmodbus: interrupted\n"


def test_interrupted_scan_prints_what_it_found_and_exits_130(
    scan_bus: tuple[str, RecordingBus], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = scan_bus
    original = minimalmodbus_cli._probe

    def probe(instrument: minimalmodbus.Instrument, registeraddress: int) -> str | None:
        if instrument.address == 10:
            raise KeyboardInterrupt
        return original(instrument, registeraddress)

    monkeypatch.setattr(minimalmodbus_cli, "_probe", probe)
    assert run(["scan", path, "--from", "1", "--to", "15", "--timeout", "0.02", "--json"]) == 130
    document = json.loads(capsys.readouterr().out)
    assert document["interrupted"] is True
    assert [item["slave"] for item in document["found"]] == [3, 7]


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


def test_demo(capsys: pytest.CaptureFixture[str]) -> None:
    threads_before = set(threading.enumerate())
    assert run(["demo"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert re.fullmatch(r"A simulated slave \(address 1\) serves the pseudo-terminal /dev/\S+\.", lines[0]), (
        lines[0]
    )
    for call, result in [
        ("instrument.read_register(7)", "70"),
        ("instrument.read_register(7, number_of_decimals=1)", "123.4"),
        ("instrument.read_float(20)", repr(struct.unpack(">f", struct.pack(">f", 3.14))[0])),
        ("instrument.read_bits(0, 8, functioncode=1)", "[0, 1, 0, 1, 0, 1, 0, 1]"),
    ]:
        index = lines.index(f">>> {call}")
        shown = [line for line in lines[index + 1 :] if not line.startswith("MinimalModbus debug mode.")]
        assert shown[0] == result, call
    assert "Writing to instrument: 01 03 00 07 00 01 35 CB (8 bytes)" in out  # debug output
    assert ">>> instrument.write_register(7, 1234)" in lines
    assert any(line.startswith("IllegalRequestError: ") for line in lines)
    assert lines[-1] == "Done: the driver talked to the simulated slave through a real serial port path."
    assert not [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]


# ---------------------------------------------------------------------------
# The entry point: python -m minimalmodbus
# ---------------------------------------------------------------------------


def test_the_driver_imports_nothing_of_ours() -> None:
    """Only its last lines, run as ``python -m minimalmodbus``, hand over to the command line."""
    assert module_imports(minimalmodbus.__file__) & OUR_MODULES == set()


def test_the_command_line_imports_the_driver_the_simulator_the_maps_and_the_replay_only() -> None:
    imported = module_imports(minimalmodbus_cli.__file__) & OUR_MODULES
    # the simulator for simulate, demo; register maps for --map; the replay for simulate --replay
    assert imported == {
        "minimalmodbus",
        "minimalmodbus_simulator",
        "minimalmodbus_registermap",
        "minimalmodbus_replay",
    }


def test_the_command_line_uses_only_public_names_of_the_driver() -> None:
    tree = ast.parse(Path(minimalmodbus_cli.__file__ or "").read_text(encoding="utf-8"))
    private = [
        f"line {node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "minimalmodbus"
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ]
    private += [
        f"line {node.lineno}: {alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "minimalmodbus"
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert private == []


def test_python_m_read_json(sim: Sim) -> None:
    done = python_m("read", sim.path, "-t", "4:float", "-B", "-r", "44", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "slave": 1,
        "table": "holding",
        "format": "float32",
        "values": [{"register": 44, "value": 1234.5}],
    }
    assert sim.bus.requests == [rtu(SLAVE, 3, b"\x00\x2c\x00\x02")]


def test_python_m_exit_codes(sim: Sim, tmp_path: Path) -> None:
    done = python_m("read", str(tmp_path / "no-such-port"))
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr.startswith("minimalmodbus: Could not open port")
    done = python_m("read", sim.path, "-r", "1000")
    assert done.returncode == 1
    assert "IllegalRequestError" in done.stderr
    done = python_m("read", sim.path, "-t", "9")
    assert done.returncode == 2
    done = python_m("--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: minimalmodbus")


def _read_line(stream: object, seconds: float) -> str:
    """One line from a subprocess's pipe, or fail after ``seconds``."""
    fd = stream.fileno()  # type: ignore[attr-defined]
    readable, _, _ = select.select([fd], [], [], seconds)
    if not readable:
        pytest.fail(f"no line from the process within {seconds} s")
    return stream.readline()  # type: ignore[attr-defined, no-any-return]


def test_python_m_simulate_serves_until_sigint() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "minimalmodbus", "simulate", "-a", "5"],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    path = ""
    try:
        line = _read_line(process.stdout, PROCESS_SECONDS)
        match = re.fullmatch(r"Simulated slave\(s\) 5 on (/dev/\S+) \(rtu\)\. Press Ctrl-C to stop\.\n", line)
        assert match, line
        path = match.group(1)
        assert os.path.exists(path)
        with minimalmodbus.Instrument(path, 5) as instrument:
            instrument.serial.timeout = 1.0
            assert instrument.read_register(7) == 70  # minimalmodbus_simulator.demo_slave: 10 x the address
            instrument.write_register(7, 1234)
            assert instrument.read_register(7) == 1234
            instrument.address = 1  # nobody: only slave 5 is simulated
            instrument.serial.timeout = 0.05
            with pytest.raises(minimalmodbus.NoResponseError):
                instrument.read_register(7)
        forget_port(path)
        process.send_signal(signal.SIGINT)
        assert process.wait(PROCESS_SECONDS) == 0
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read() == ""
        assert "Traceback" not in process.stderr.read()
    finally:
        if path:
            forget_port(path)
        if process.poll() is None:
            process.kill()
            process.wait(PROCESS_SECONDS)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


# ---------------------------------------------------------------------------
# Issue 12: pipes, scan progress, strings, mbpoll's options
# ---------------------------------------------------------------------------


def test_read_into_a_pipe_closed_early_stops_quietly(sim: Sim) -> None:
    """Item 1: the reader of stdout went away before anything was written (as ``| head`` does):
    no traceback, exit status 141 (128 + SIGPIPE, as a shell reports such a tool)."""
    done = run_into_a_closed_pipe(["read", sim.path, "-r", "0", "-c", "100"])
    assert (done.returncode, done.stderr) == (141, "")
    assert sim.bus.requests == [rtu(SLAVE, 3, b"\x00\x00\x00\x64")]  # it did read


def test_simulate_into_a_pipe_closed_early_stops_quietly() -> None:
    """As read: the banner finds no reader; exit 141 and nothing on stderr, not 'cannot serve there'."""
    done = run_into_a_closed_pipe(["simulate", "--tcp", "127.0.0.1:0"])
    assert (done.returncode, done.stderr) == (141, "")


def run_into_a_closed_pipe(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``python -m minimalmodbus ARGV`` with its standard output a pipe nobody reads (EPIPE on write)."""
    reading_end, writing_end = os.pipe()
    os.close(reading_end)  # every write to the pipe now fails with EPIPE
    try:
        return subprocess.run(
            [sys.executable, "-m", "minimalmodbus", *argv],
            cwd=REPO,
            stdout=writing_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=PROCESS_SECONDS,
            check=False,
        )
    finally:
        os.close(writing_end)


def test_monitor_piped_into_head_stops_quietly(sim: Sim) -> None:
    """Item 1: ``monitor ... | head -3`` polls until head has its lines, then stops quietly."""
    command = (
        f"{sys.executable} -m minimalmodbus monitor {sim.path} -r 1 --interval 0 | head -3; "
        'echo "status ${PIPESTATUS[0]}"'
    )
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=PROCESS_SECONDS,
        check=False,
    )
    assert done.stdout.splitlines() == [
        "Slave 1, holding, poll 1 every 0.0 s",
        "  [1] 10",
        "Slave 1, holding, poll 2 every 0.0 s",
        "status 141",
    ]
    assert done.stderr == ""


def test_scan_prints_progress_lines_when_not_on_a_terminal(
    scan_bus: tuple[str, RecordingBus], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 8: the plan, then a line every 5 s of the (patched) clock, then the summary."""
    path, _ = scan_bus
    clock = iter(range(0, 1000, 2))  # each look at the clock: 2 s later
    monkeypatch.setattr(minimalmodbus_cli, "_now", lambda: float(next(clock)))
    assert run(["scan", path, "--from", "1", "--to", "8", "--timeout", "0.02"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"Scanning slaves 1..8 at 19200 baud on {path}: 8 probe(s), up to 0.2 s "
        "(a 0.02 s timeout for each address that does not answer)",
        "Scanned 3/8: slave 3 at 19200 baud, found 1",
        "Scanned 6/8: slave 6 at 19200 baud, found 1",
    ]
    assert captured.out.startswith(f"Scan of {path}: 2 slave(s) answered\n")


def test_scan_draws_a_bar_on_a_terminal(
    scan_bus: tuple[str, RecordingBus], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = scan_bus
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert (
        run(["scan", path, "--from", "2", "--to", "4", "--timeout", "0.02", "--baudrates", "9600,19200"]) == 0
    )
    err = capsys.readouterr().err
    plan, bar = err.split("\n", 1)
    assert plan == (
        f"Scanning slaves 2..4 at 9600, 19200 baud on {path}: 6 probe(s), up to 0.2 s "
        "(a 0.02 s timeout for each address that does not answer)"
    )
    assert bar.count("\r") == 6
    assert "\r[" + "#" * 30 + "] 6/6 slave 4 at 19200 baud, found 2\x1b[K\n" in bar


def test_scan_plan_of_the_default_scan(capsys: pytest.CaptureFixture[str]) -> None:
    """247 addresses x (0.05 s timeout + 8-byte request + 3.5 characters of silence) at 19200 baud."""
    args = minimalmodbus_cli._build_parser().parse_args(["scan", "/dev/ttyUSB0"])
    minimalmodbus_cli._print_scan_plan(args, [19200], 247, 0.05)
    assert capsys.readouterr().err == (
        "Scanning slaves 1..247 at 19200 baud on /dev/ttyUSB0: 247 probe(s), up to 14.0 s "
        "(a 0.05 s timeout for each address that does not answer)\n"
    )


def test_strings_show_escaped_without_nul_padding(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 7: for people, trailing NULs dropped and control characters escaped; JSON keeps all."""
    sim.slave.holding_registers.update({80: 0x4142, 81: 0x0A09, 82: 0x4300, 83: 0x0000})  # "AB\n\tC\0\0\0"
    assert run(["read", sim.path, "-t", "4:string", "-r", "80", "-c", "4"]) == 0
    assert capsys.readouterr().out == "Slave 1, holding, string:\n  [80] AB\\n\\tC\n"
    assert read_values(capsys, sim.path, "-t", "4:string", "-r", "80", "-c", "4") == ["AB\n\tC\x00\x00\x00"]


@pytest.mark.parametrize(
    ("options", "registers"),
    [
        ([], [0x0000, 0xC14C]),  # mbpoll's default: low word first (BYTEORDER_LITTLE_SWAP)
        (["-B"], [0xC14C, 0x0000]),  # mbpoll's -B: high word first (BYTEORDER_BIG, the library's default)
        (["--byteorder", "big"], [0xC14C, 0x0000]),
        (["--byteorder", "littleswap"], [0x0000, 0xC14C]),
    ],
)
def test_word_order_follows_mbpoll(
    sim: Sim, capsys: pytest.CaptureFixture[str], options: list[str], registers: list[int]
) -> None:
    """Item 5: -12.75 written with -t 4:float lands where mbpoll (with the same options) reads it."""
    assert run(["write", sim.path, "-t", "4:float", "-r", "10", *options, "-12.75"]) == 0
    assert [sim.slave.holding_registers[a] for a in (10, 11)] == registers
    capsys.readouterr()
    assert read_values(capsys, sim.path, "-t", "4:float", "-r", "10", *options) == [-12.75]


def test_mbpoll_short_options(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 5: mbpoll's -m (mode) and -o (timeout in seconds) work as in mbpoll."""
    assert read_values(capsys, sim.path, "-m", "rtu", "-o", "0.5", "-r", "3") == [30]
    assert run(["read", sim.path, "-a", str(NOBODY), "-o", SHORT_TIMEOUT]) == 1
    assert f"within {SHORT_TIMEOUT} s" in capsys.readouterr().err


def test_negative_values_need_no_double_dash(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 10: ``write ... -5`` works (cli.rst said it needed ``--``)."""
    assert run(["write", sim.path, "-t", "4:int16", "-r", "10", "-5", "-6"]) == 0
    assert capsys.readouterr().out == "Wrote -5 -6 to slave 1 at register 10\n"
    assert [sim.slave.holding_registers[a] for a in (10, 11)] == [0xFFFB, 0xFFFA]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["simulate", "--map", "m.csv", "--replay", "r.jsonl"], "--map and --replay: give one"),
        (["simulate", "--replay", "r.jsonl", "-a", "2"], "--replay r.jsonl: the recording has its slaves"),
        (["simulate", "--lookup"], "--lookup: only with --replay FILE"),
        (["simulate", "--timing", "--tcp", "127.0.0.1:0"], "--timing: only with --replay FILE"),
        (["simulate", "--replay", "r.jsonl", "--mode", "ascii"], "--mode ascii: not with --replay"),
    ],
)
def test_simulate_options_that_exclude_each_other(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str
) -> None:
    def serve(*args: object, **kwargs: object) -> int:
        raise AssertionError("served although the options exclude each other")

    monkeypatch.setattr(minimalmodbus_simulator, "serve", serve)  # a missed check fails, never blocks
    assert run(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"minimalmodbus simulate: bad argument: {message}")
    assert captured.err.count("\n") == 1 and captured.out == ""


def test_simulate_on_an_address_in_use_is_a_message_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        assert run(["simulate", "--tcp", address]) == 2
        assert minimalmodbus_simulator.main(["--tcp", address]) == 2
    captured = capsys.readouterr()
    in_use = os.strerror(errno.EADDRINUSE)
    assert captured.err == (
        f"minimalmodbus simulate: bad argument: --tcp {address}: cannot serve there: {in_use}\n"
        f"minimalmodbus_simulator: cannot serve on {address}: {in_use}\n"
    )
    assert captured.out == ""


def test_a_tcp_server_that_refuses_the_connection_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    """Exit status 3, the port cannot be used, as for a serial port that cannot be opened."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    assert run(["read", f"tcp://127.0.0.1:{port}", "-o", "0.2"]) == 3
    captured = capsys.readouterr()
    assert captured.err.startswith("minimalmodbus: PortError: ")
    assert os.strerror(errno.ECONNREFUSED) in captured.err and captured.out == ""
