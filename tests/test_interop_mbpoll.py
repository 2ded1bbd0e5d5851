"""Interoperability: mbpoll (an RTU master built on libmodbus) against our simulated slave.

mbpoll (https://github.com/epsilonrt/mbpoll, Debian package ``mbpoll``) is a
command-line Modbus master on libmodbus, an independent C implementation.
Each test serves a :class:`minimalmodbus_simulator.SimulatedBus` with one
:class:`minimalmodbus_simulator.SimulatedSlave` on a pseudo-terminal
(:class:`minimalmodbus_simulator.PtyServer`), runs ``mbpoll`` once on the pty's path
(19200 8N1, RTU, ``-1``: poll once) with ``subprocess`` and a timeout, and
checks what mbpoll printed against the slave's maps, the request frames the
bus received against frames built here, and the maps after writes.
Without mbpoll the tests are skipped (``apt-get install mbpoll``).

What mbpoll does, as used here (mbpoll 1.4, libmodbus 3.1.6):

- ``-r`` is a 1-based reference (``-r 1`` is register address 0) unless
  ``-0`` is given; output lines are ``[reference]: <TAB>value``.
- ``-t 0`` coils (fc 1, writes fc 5 for one value, 15 for more), ``-t 1``
  discrete inputs (fc 2), ``-t 3`` input registers (fc 4), ``-t 4`` holding
  registers (fc 3, writes fc 6 for one value, 16 for more); ``:hex`` shows
  ``0x%04X``; ``:int`` and ``:float`` are 32 bits in two registers, which
  mbpoll writes with fc 16 even for one value.
- A 16-bit register from 0x8000 up is shown as ``unsigned (signed)``.
- 32-bit values: the low word first by default (minimalmodbus's
  ``BYTEORDER_LITTLE_SWAP``), high word first with ``-B``
  (``BYTEORDER_BIG``); ints are signed; floats are printed with ``%g``.
- ``-u`` sends fc 17 (report slave id).
- An exception reply or a timeout: a message on stderr, exit status 1.

The slave's map (registers, coils and discrete inputs 0..99):

- holding registers: ``(1237 * address + 11) % 65536``, except 60..79
  (32-bit values, see ``SPECIAL_HOLDING``)
- input registers: ``3000 + address``, except 90..91 (a float)
- coils: 1 where ``address % 5`` is 0 or 3; discrete inputs: 1 where
  ``address % 3 == 1``
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass

import pytest
from conftest import Serve, forget_port
from frames import rtu  # the tests' own CRC, not the driver's

import minimalmodbus
import minimalmodbus_cli
import minimalmodbus_simulator

SLAVE = 1
OTHER_SLAVE = 3
NOBODY = 2  # no simulated slave has this address
INSTALL_HINT = "apt-get install mbpoll (Debian package mbpoll)"
PROCESS_SECONDS = 10.0  # mbpoll is killed if it takes longer than this
MBPOLL_TIMEOUT = "1.0"  # mbpoll's -o: seconds to wait for an answer that must come
SHORT_TIMEOUT = "0.1"  # for the request nobody answers
SIZE = 100  # addresses 0..99 in every table

SPECIAL_HOLDING = {
    # 32-bit integers, low word first (mbpoll's default word order)
    60: 0x5678,
    61: 0x1234,  # 0x12345678 = 305419896
    62: 0xFFFE,
    63: 0xFFFF,  # -2
    64: 0x0000,
    65: 0x8000,  # -2147483648
    # the same integers, high word first (mbpoll -B)
    66: 0x1234,
    67: 0x5678,
    68: 0xFFFF,
    69: 0xFFFE,
    # floats, low word first
    70: 0x5000,
    71: 0x449A,  # 1234.5
    72: 0x0000,
    73: 0xBE20,  # -0.15625
    74: 0x0000,
    75: 0x0000,  # 0
    # the same floats, high word first (mbpoll -B)
    76: 0x449A,
    77: 0x5000,
    78: 0xBE20,
    79: 0x0000,
}
INPUT_FLOAT = {90: 0x0000, 91: 0x3FC0}  # 1.5, low word first


def holding(address: int) -> int:
    return SPECIAL_HOLDING.get(address, (1237 * address + 11) % 65536)


def input_register(address: int) -> int:
    return INPUT_FLOAT.get(address, 3000 + address)


def coil(address: int) -> int:
    return int(address % 5 in (0, 3))


def discrete_input(address: int) -> int:
    return int(address % 3 == 1)


def make_slave() -> minimalmodbus_simulator.SimulatedSlave:
    return minimalmodbus_simulator.SimulatedSlave(
        coils={a: coil(a) for a in range(SIZE)},
        discrete_inputs={a: discrete_input(a) for a in range(SIZE)},
        holding_registers={a: holding(a) for a in range(SIZE)},
        input_registers={a: input_register(a) for a in range(SIZE)},
        slave_id=b"\x2a\xffsimulated",
    )


def shown_16bit(value: int) -> str:
    """How mbpoll shows a 16-bit register: ``65535 (-1)`` from 0x8000 up."""
    return f"{value} ({value - 0x10000})" if value & 0x8000 else str(value)


# ---------------------------------------------------------------------------
# Fixtures and running mbpoll
# ---------------------------------------------------------------------------


@dataclass
class Sim:
    server: minimalmodbus_simulator.PtyServer
    bus: minimalmodbus_simulator.SimulatedBus
    slave: minimalmodbus_simulator.SimulatedSlave
    other: minimalmodbus_simulator.SimulatedSlave

    @property
    def path(self) -> str:
        return self.server.path


@dataclass
class Result:
    """What one mbpoll run gave."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def values(self) -> dict[int, str]:
        """Reference -> value text, from the ``[reference]: <TAB>value`` lines."""
        found: dict[int, str] = {}
        for line in self.stdout.splitlines():
            head, colon, value = line.partition("]:")
            if colon and head.startswith("[") and head[1:].isdigit():
                found[int(head[1:])] = value.strip()
        return found

    def __str__(self) -> str:
        return (
            f"$ {' '.join(self.command)}\nexit status {self.returncode}\n"
            f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )


@pytest.fixture(scope="module")
def mbpoll_executable() -> str:
    if sys.platform == "win32":
        pytest.skip("needs pseudo-terminals (POSIX)")
    pytest.importorskip("termios", reason="needs pseudo-terminals (POSIX)")
    executable = shutil.which("mbpoll")
    if executable is None:
        pytest.skip(f"mbpoll not found; to run these tests: {INSTALL_HINT}")
    return executable


@pytest.fixture
def sim(mbpoll_executable: str, serve: Serve) -> Sim:
    """Slaves SLAVE and OTHER_SLAVE on a pty; conftest's serve stops and checks the server afterwards."""
    slave, other = make_slave(), make_slave()
    other.holding_registers[0] = 4321
    bus = minimalmodbus_simulator.SimulatedBus({SLAVE: slave, OTHER_SLAVE: other})
    return Sim(serve(bus), bus, slave, other)


def mbpoll(
    sim: Sim,
    *options: str,
    values: tuple[str, ...] = (),
    slave: str = str(SLAVE),
    timeout: str = MBPOLL_TIMEOUT,
) -> Result:
    """Run mbpoll once on the simulator's pty; values (if any) are written."""
    command = [
        "mbpoll",
        "-m",
        "rtu",
        "-a",
        slave,
        "-b",
        "19200",
        "-d",
        "8",
        "-s",
        "1",
        "-P",
        "none",
        "-1",
        "-o",
        timeout,
        *options,
        sim.path,
    ]
    if values:
        command += ["--", *values]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=PROCESS_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as error:  # subprocess.run has killed it
        pytest.fail(f"mbpoll did not finish within {PROCESS_SECONDS} s: {' '.join(command)}\n{error}")
    return Result(command, done.returncode, done.stdout, done.stderr)


def read(sim: Sim, *options: str) -> dict[int, str]:
    """The values of a read that must succeed."""
    result = mbpoll(sim, *options)
    assert result.returncode == 0, str(result)
    assert result.stderr == "", str(result)
    return result.values


def write(sim: Sim, *options: str, values: tuple[str, ...]) -> Result:
    """A write that must succeed."""
    result = mbpoll(sim, *options, values=values)
    assert result.returncode == 0, str(result)
    assert f"Written {len(values)} references." in result.stdout, str(result)
    return result


def read_request(functioncode: int, start: int, quantity: int, slave: int = SLAVE) -> bytes:
    return rtu(slave, functioncode, struct.pack(">HH", start, quantity))


# ---------------------------------------------------------------------------
# Reads: fc 1, 2, 3, 4
# ---------------------------------------------------------------------------


def test_read_holding_registers(sim: Sim) -> None:
    values = read(sim, "-t", "4", "-r", "1", "-c", "10")
    assert values == {reference: shown_16bit(holding(reference - 1)) for reference in range(1, 11)}
    assert sim.bus.requests == [read_request(3, 0, 10)]


def test_read_holding_registers_0_based(sim: Sim) -> None:
    """-0: the reference is the register address."""
    values = read(sim, "-0", "-t", "4", "-r", "20", "-c", "20")
    assert values == {address: shown_16bit(holding(address)) for address in range(20, 40)}
    assert any(value & 0x8000 for value in map(holding, range(20, 40)))  # shown signed too
    assert sim.bus.requests == [read_request(3, 20, 20)]


def test_read_125_holding_registers(sim: Sim) -> None:
    """The largest read (a 255-byte response); the slave has 0..99, so add 100..124."""
    sim.slave.holding_registers.update({a: 0xFFFF - a for a in range(SIZE, 125)})
    values = read(sim, "-0", "-t", "4", "-r", "0", "-c", "125")
    assert values == {a: shown_16bit(sim.slave.holding_registers[a]) for a in range(125)}
    assert sim.bus.requests == [read_request(3, 0, 125)]


def test_read_holding_registers_hex(sim: Sim) -> None:
    values = read(sim, "-t", "4:hex", "-r", "96", "-c", "5")
    assert values == {reference: f"0x{holding(reference - 1):04X}" for reference in range(96, 101)}
    assert sim.bus.requests == [read_request(3, 95, 5)]


def test_read_input_registers(sim: Sim) -> None:
    values = read(sim, "-t", "3", "-r", "1", "-c", "12")
    assert values == {reference: str(3000 + reference - 1) for reference in range(1, 13)}
    assert sim.bus.requests == [read_request(4, 0, 12)]


def test_read_coils(sim: Sim) -> None:
    values = read(sim, "-t", "0", "-r", "1", "-c", "100")
    assert values == {reference: str(coil(reference - 1)) for reference in range(1, 101)}
    assert sim.bus.requests == [read_request(1, 0, 100)]


def test_read_discrete_inputs(sim: Sim) -> None:
    values = read(sim, "-0", "-t", "1", "-r", "7", "-c", "19")
    assert values == {address: str(discrete_input(address)) for address in range(7, 26)}
    assert sim.bus.requests == [read_request(2, 7, 19)]


def test_read_two_slaves(sim: Sim) -> None:
    """-a 1,3: one request to each slave, in turn."""
    result = mbpoll(sim, "-t", "4", "-r", "1", "-c", "2", slave=f"{SLAVE},{OTHER_SLAVE}")
    assert result.returncode == 0, str(result)
    polled = result.stdout[result.stdout.index("-- Polling slave 1...") :].splitlines()
    assert [line for line in polled if line] == [
        "-- Polling slave 1...",
        f"[1]: \t{shown_16bit(holding(0))}",
        f"[2]: \t{shown_16bit(holding(1))}",
        "-- Polling slave 3...",
        "[1]: \t4321",
        f"[2]: \t{shown_16bit(holding(1))}",
    ]
    assert sim.bus.requests == [read_request(3, 0, 2, SLAVE), read_request(3, 0, 2, OTHER_SLAVE)]


# ---------------------------------------------------------------------------
# 32-bit values
# ---------------------------------------------------------------------------


def test_read_int32_default_word_order_is_low_word_first(sim: Sim) -> None:
    values = read(sim, "-0", "-t", "4:int", "-r", "60", "-c", "3")
    assert values == {60: "305419896", 62: "-2", 64: "-2147483648"}
    assert sim.bus.requests == [read_request(3, 60, 6)]
    # the same as minimalmodbus's BYTEORDER_LITTLE_SWAP, signed
    for address, text in values.items():
        registers = [holding(address), holding(address + 1)]
        decoded = minimalmodbus.registers_to_long(
            registers, signed=True, byteorder=minimalmodbus.BYTEORDER_LITTLE_SWAP
        )
        assert str(decoded) == text


def test_read_int32_big_endian_word_order(sim: Sim) -> None:
    values = read(sim, "-B", "-t", "4:int", "-r", "67", "-c", "2")  # 1-based: addresses 66..69
    assert values == {67: "305419896", 69: "-2"}
    assert sim.bus.requests == [read_request(3, 66, 4)]
    assert minimalmodbus.registers_to_long([holding(66), holding(67)]) == 305419896


def test_read_float_default_word_order_is_low_word_first(sim: Sim) -> None:
    values = read(sim, "-0", "-t", "4:float", "-r", "70", "-c", "3")
    assert values == {70: "1234.5", 72: "-0.15625", 74: "0"}
    assert sim.bus.requests == [read_request(3, 70, 6)]
    for address, text in values.items():
        registers = [holding(address), holding(address + 1)]
        decoded = minimalmodbus.registers_to_float(registers, byteorder=minimalmodbus.BYTEORDER_LITTLE_SWAP)
        assert decoded == float(text)


def test_read_float_big_endian_word_order(sim: Sim) -> None:
    values = read(sim, "-0", "-B", "-t", "4:float", "-r", "76", "-c", "2")
    assert values == {76: "1234.5", 78: "-0.15625"}
    assert sim.bus.requests == [read_request(3, 76, 4)]


def test_read_float_from_input_registers(sim: Sim) -> None:
    values = read(sim, "-0", "-t", "3:float", "-r", "90")
    assert values == {90: "1.5"}
    assert sim.bus.requests == [read_request(4, 90, 2)]


def test_float_written_by_mbpoll_read_by_minimalmodbus(sim: Sim) -> None:
    """mbpoll's default word order is minimalmodbus's BYTEORDER_LITTLE_SWAP, both ways."""
    write(sim, "-0", "-t", "4:float", "-r", "10", values=("-2.75",))
    with minimalmodbus.Instrument(sim.path, SLAVE) as instrument:
        try:
            instrument.serial.timeout = float(MBPOLL_TIMEOUT)
            assert instrument.read_float(10, byteorder=minimalmodbus.BYTEORDER_LITTLE_SWAP) == -2.75
            instrument.write_float(12, 6.5, byteorder=minimalmodbus.BYTEORDER_LITTLE_SWAP)
        finally:
            minimalmodbus._serialports.pop(sim.path, None)
    assert read(sim, "-0", "-t", "4:float", "-r", "12") == {12: "6.5"}


# ---------------------------------------------------------------------------
# Writes: fc 5, 15, 6, 16
# ---------------------------------------------------------------------------


def test_write_one_coil(sim: Sim) -> None:
    """fc 5 with 0xFF00 (on) and 0x0000 (off); the response echoes the request."""
    assert coil(6) == 0 and coil(5) == 1
    write(sim, "-t", "0", "-r", "7", values=("1",))  # reference 7: address 6
    write(sim, "-t", "0", "-r", "6", values=("0",))
    assert sim.bus.requests == [rtu(SLAVE, 5, b"\x00\x06\xff\x00"), rtu(SLAVE, 5, b"\x00\x05\x00\x00")]
    assert sim.slave.coils == {a: {5: 0, 6: 1}.get(a, coil(a)) for a in range(SIZE)}
    assert read(sim, "-0", "-t", "0", "-r", "5", "-c", "2") == {5: "0", 6: "1"}


def test_write_several_coils(sim: Sim) -> None:
    bits = ("1", "1", "1", "0", "1", "0", "0", "1", "1", "0", "1")
    write(sim, "-0", "-t", "0", "-r", "40", values=bits)
    # addresses 40..50, LSB first: 1,1,1,0,1,0,0,1 -> 0x97; 1,0,1 -> 0x05
    assert sim.bus.requests == [rtu(SLAVE, 15, b"\x00\x28\x00\x0b\x02\x97\x05")]
    written = {40 + offset: int(bit) for offset, bit in enumerate(bits)}
    assert sim.slave.coils == {a: written.get(a, coil(a)) for a in range(SIZE)}
    assert read(sim, "-0", "-t", "0", "-r", "40", "-c", "11") == {
        40 + offset: bit for offset, bit in enumerate(bits)
    }


def test_write_one_holding_register(sim: Sim) -> None:
    write(sim, "-t", "4", "-r", "21", values=("65535",))  # reference 21: address 20
    assert sim.bus.requests == [rtu(SLAVE, 6, b"\x00\x14\xff\xff")]
    assert sim.slave.holding_registers == {a: {20: 0xFFFF}.get(a, holding(a)) for a in range(SIZE)}


def test_write_several_holding_registers(sim: Sim) -> None:
    write(sim, "-0", "-t", "4", "-r", "30", values=("1", "0", "32768", "12345"))
    assert sim.bus.requests == [rtu(SLAVE, 16, struct.pack(">HHB4H", 30, 4, 8, 1, 0, 0x8000, 12345))]
    written = {30: 1, 31: 0, 32: 0x8000, 33: 12345}
    assert sim.slave.holding_registers == {a: written.get(a, holding(a)) for a in range(SIZE)}
    assert read(sim, "-0", "-t", "4", "-r", "30", "-c", "4") == {
        30: "1",
        31: "0",
        32: "32768 (-32768)",
        33: "12345",
    }


def test_write_hex_holding_registers(sim: Sim) -> None:
    write(sim, "-0", "-t", "4:hex", "-r", "50", values=("0xBEEF", "0x0102"))
    assert sim.bus.requests == [rtu(SLAVE, 16, struct.pack(">HHB2H", 50, 2, 4, 0xBEEF, 0x0102))]
    assert [sim.slave.holding_registers[a] for a in (50, 51)] == [0xBEEF, 0x0102]


def test_write_int32(sim: Sim) -> None:
    """Low word first, with fc 16 even for one value."""
    write(sim, "-0", "-t", "4:int", "-r", "40", values=("-5", "100000"))
    registers = [0xFFFB, 0xFFFF, 0x86A0, 0x0001]
    assert sim.bus.requests == [rtu(SLAVE, 16, struct.pack(">HHB4H", 40, 4, 8, *registers))]
    assert [sim.slave.holding_registers[a] for a in range(40, 44)] == registers
    assert (
        minimalmodbus.registers_to_long(
            registers[:2], signed=True, byteorder=minimalmodbus.BYTEORDER_LITTLE_SWAP
        )
        == -5
    )
    assert read(sim, "-0", "-t", "4:int", "-r", "40", "-c", "2") == {40: "-5", 42: "100000"}


def test_write_float_big_endian(sim: Sim) -> None:
    write(sim, "-0", "-B", "-t", "4:float", "-r", "44", values=("1.5",))
    assert sim.bus.requests == [rtu(SLAVE, 16, struct.pack(">HHB2H", 44, 2, 4, 0x3FC0, 0x0000))]
    assert [sim.slave.holding_registers[a] for a in (44, 45)] == [0x3FC0, 0x0000]


# ---------------------------------------------------------------------------
# fc 17, exception replies, no answer
# ---------------------------------------------------------------------------


def test_report_slave_id(sim: Sim) -> None:
    result = mbpoll(sim, "-u")
    assert result.returncode == 0, str(result)
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert "Length: 11" in lines  # slave id, run indicator, "simulated"
    assert "Id    : 0x2A" in lines
    assert "Status: On" in lines
    assert "Data  : simulated" in lines
    assert sim.bus.requests == [rtu(SLAVE, 17)]


@pytest.mark.parametrize(
    ("options", "values", "request_frame", "message"),
    [
        (
            ["-0", "-t", "4", "-r", "99", "-c", "2"],
            (),
            read_request(3, 99, 2),
            "Read output (holding) register failed: Illegal data address",
        ),
        (
            ["-0", "-t", "4", "-r", "1000"],
            (),
            read_request(3, 1000, 1),
            "Read output (holding) register failed: Illegal data address",
        ),
        (["-0", "-t", "3:float", "-r", "99"], (), read_request(4, 99, 2), "Illegal data address"),
        (["-0", "-t", "0", "-r", "90", "-c", "20"], (), read_request(1, 90, 20), "Illegal data address"),
        (["-0", "-t", "1", "-r", "100"], (), read_request(2, 100, 1), "Illegal data address"),
        (
            ["-0", "-t", "4", "-r", "100"],
            ("7",),
            rtu(SLAVE, 6, b"\x00\x64\x00\x07"),
            "Write output (holding) register failed: Illegal data address",
        ),
        (
            ["-0", "-t", "4", "-r", "99"],
            ("7", "8"),
            rtu(SLAVE, 16, b"\x00\x63\x00\x02\x04\x00\x07\x00\x08"),
            "Illegal data address",
        ),
        (
            ["-0", "-t", "0", "-r", "100"],
            ("1",),
            rtu(SLAVE, 5, b"\x00\x64\xff\x00"),
            "Write discrete output (coil) failed: Illegal data address",
        ),
        (
            ["-0", "-t", "0", "-r", "99"],
            ("1", "1"),
            rtu(SLAVE, 15, b"\x00\x63\x00\x02\x01\x03"),
            "Illegal data address",
        ),
    ],
    ids=[
        "fc3-beyond",
        "fc3-far",
        "fc4-float-beyond",
        "fc1-beyond",
        "fc2-beyond",
        "fc6-beyond",
        "fc16-beyond",
        "fc5-beyond",
        "fc15-beyond",
    ],
)
def test_exception_reply_illegal_data_address(
    sim: Sim, options: list[str], values: tuple[str, ...], request_frame: bytes, message: str
) -> None:
    result = mbpoll(sim, *options, values=values)
    assert result.returncode != 0, str(result)
    assert message in result.stderr, str(result)
    assert result.values == {}
    assert sim.bus.requests == [request_frame]  # one request, not retried
    # nothing changed
    assert sim.slave.holding_registers == {a: holding(a) for a in range(SIZE)}
    assert sim.slave.coils == {a: coil(a) for a in range(SIZE)}


def test_no_answer(sim: Sim) -> None:
    result = mbpoll(sim, "-t", "4", "-r", "1", slave=str(NOBODY), timeout=SHORT_TIMEOUT)
    assert result.returncode != 0, str(result)
    assert "timed out" in result.stderr, str(result)
    assert sim.bus.requests == [read_request(3, 0, 1, NOBODY)]
    # the line works afterwards
    assert read(sim, "-t", "4", "-r", "1") == {1: shown_16bit(holding(0))}


# ---------------------------------------------------------------------------
# Our command line and mbpoll agree (issue 12, item 5)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("word_order", [[], ["-B"]], ids=["default", "-B"])
def test_our_command_line_and_mbpoll_agree_on_32_bit_values(
    sim: Sim, capsys: pytest.CaptureFixture[str], word_order: list[str]
) -> None:
    """What ``python -m minimalmodbus write -t 4:float`` writes, mbpoll reads with the same options,
    and the other way round: the same default word order (low word first) and the same -B."""
    try:
        assert (
            minimalmodbus_cli.main(["write", sim.path, "-t", "4:float", "-r", "10", *word_order, "-12.75"])
            == 0
        )
        assert (
            minimalmodbus_cli.main(["write", sim.path, "-t", "4:int", "-r", "12", *word_order, "-100000"])
            == 0
        )
        assert read(sim, "-0", *word_order, "-t", "4:float", "-r", "10") == {10: "-12.75"}
        assert read(sim, "-0", *word_order, "-t", "4:int", "-r", "12") == {12: "-100000"}
        write(sim, "-0", *word_order, "-t", "4:float", "-r", "20", values=("6.5",))
        capsys.readouterr()
        assert (
            minimalmodbus_cli.main(["read", sim.path, "-t", "4:float", "-r", "20", *word_order, "--json"])
            == 0
        )
        assert '"value": 6.5}' in capsys.readouterr().out
    finally:
        forget_port(sim.path)
