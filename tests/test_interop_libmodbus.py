"""Interoperability: minimalmodbus (RTU master) against a libmodbus RTU slave.

libmodbus (https://libmodbus.org, Debian package ``libmodbus-dev``) is an
independent C implementation of Modbus. The module fixture compiles
``tests/peers/libmodbus_slave.c`` with gcc and pkg-config, runs it on one end
of a pseudo-terminal "null-modem cable" (``tests/peers/ptypair.py``) and our
``Instrument`` talks to it through the other end by port name, at 19200 8N1.
Without gcc, pkg-config or libmodbus the tests are skipped.

The slave's data map (documented in libmodbus_slave.c):

- coils 0..1999: 1 where address % 3 == 0
- discrete inputs 0..1999: address % 2
- holding registers 0..124: address * 100 + 7, except 50..51 float 1234.5,
  52..53 long 0x12345678, 54..55 long -2, 60..64 "libmodbus" + NUL
- input registers 0..124: 1000 + address

Every test that writes restores the values it changed (fixture ``restore``),
so the tests can run in any order.

Set ``LIBMODBUS_SLAVE_DEBUG=1`` to let libmodbus print every frame (in the
slave's output files, named in failure messages).
"""

from __future__ import annotations

import os
import select
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from frames import rtu  # the tests' own CRC, not the driver's

import minimalmodbus

if TYPE_CHECKING:
    from peers.ptypair import PtyPair

SLAVE_ID = 7
TIMEOUT = 0.5  # generous, for slow CI machines; nothing here asserts speed
SHORT_TIMEOUT = 0.2  # for the few requests that get no answer on purpose
BITS = 2000  # coils and discrete inputs 0..1999
REGISTERS = 125  # holding and input registers 0..124
SOURCE = Path(__file__).parent / "peers" / "libmodbus_slave.c"
INSTALL_HINT = "apt-get install libmodbus-dev pkg-config gcc"
READY_SECONDS = 10.0
STOP_SECONDS = 5.0


# ---------------------------------------------------------------------------
# The slave's data map, as Python sees it
# ---------------------------------------------------------------------------

SPECIAL_HOLDING = {
    50: 0x449A,
    51: 0x5000,  # float 1234.5
    52: 0x1234,
    53: 0x5678,  # long 305419896
    54: 0xFFFF,
    55: 0xFFFE,  # long -2
    60: 0x6C69,
    61: 0x626D,
    62: 0x6F64,
    63: 0x6275,
    64: 0x7300,  # "libmodbus\0"
}


def coil(address: int) -> int:
    return int(address % 3 == 0)


def discrete_input(address: int) -> int:
    return address % 2


def holding(address: int) -> int:
    return SPECIAL_HOLDING.get(address, address * 100 + 7)


def input_register(address: int) -> int:
    return 1000 + address


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@dataclass
class Slave:
    """The running libmodbus slave and the cable to it."""

    pair: PtyPair
    process: subprocess.Popen[bytes]
    version: str
    stdout_path: Path
    stderr_path: Path

    @property
    def port(self) -> str:
        """The device path our Instrument opens."""
        return self.pair.port_b

    def output(self) -> str:
        """The slave's stdout and stderr so far, for failure messages."""
        return (
            f"slave stdout ({self.stdout_path}):\n{_read_text(self.stdout_path)}\n"
            f"slave stderr ({self.stderr_path}):\n{_read_text(self.stderr_path)}"
        )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError as error:
        return f"<{error}>"


def _build_slave(directory: Path) -> Path:
    """Compile libmodbus_slave.c; skip when the tools or libmodbus are missing."""
    if sys.platform == "win32":
        pytest.skip("needs pseudo-terminals (POSIX)")
    for tool in ("gcc", "pkg-config"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found; to run these tests: {INSTALL_HINT}")
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "libmodbus"], capture_output=True, text=True, check=False
    )
    if flags.returncode != 0:
        pytest.skip(f"libmodbus not found by pkg-config; to run these tests: {INSTALL_HINT}")
    executable = directory / "libmodbus_slave"
    command = ["gcc", "-Wall", "-Wextra", "-O1", "-o", str(executable), str(SOURCE), *flags.stdout.split()]
    built = subprocess.run(command, capture_output=True, text=True, check=False)
    if built.returncode != 0:
        pytest.fail(f"Building the libmodbus slave failed: {' '.join(command)}\n{built.stderr}")
    return executable


def _wait_until_ready(process: subprocess.Popen[bytes], stdout_path: Path) -> str:
    """Wait for the "ready VERSION" line; return the libmodbus version."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        for line in _read_text(stdout_path).splitlines():
            if line.startswith("ready "):
                return line.split()[1]
        if process.poll() is not None:
            raise RuntimeError(f"the libmodbus slave exited with status {process.returncode}")
        time.sleep(0.01)
    raise RuntimeError(f"the libmodbus slave did not print 'ready' within {READY_SECONDS} s")


def _stop_process(process: subprocess.Popen[bytes]) -> int:
    """Terminate, wait, kill if needed; return the exit status."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_SECONDS)
    return process.returncode


def _forget_port(name: str) -> None:
    """Close and forget the port minimalmodbus opened (and shares) by this name."""
    port = minimalmodbus._serialports.pop(name, None)
    if port is not None and port.is_open:
        port.close()


@pytest.fixture(scope="module")
def slave(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slave]:
    """Build and start the libmodbus slave on a pty pair; stop everything afterwards."""
    pytest.importorskip("termios", reason="needs pseudo-terminals (POSIX)")
    from peers.ptypair import PtyPair

    directory = tmp_path_factory.mktemp("libmodbus")
    executable = _build_slave(directory)
    stdout_path, stderr_path = directory / "stdout.txt", directory / "stderr.txt"
    debug = ["-d"] if os.environ.get("LIBMODBUS_SLAVE_DEBUG") else []
    with PtyPair() as pair:
        with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(
                [str(executable), *debug, pair.port_a, str(SLAVE_ID)],
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        running: Slave | None = None
        try:
            try:
                version = _wait_until_ready(process, stdout_path)
            except RuntimeError as error:
                pytest.fail(f"{error}\n{_read_text(stdout_path)}\n{_read_text(stderr_path)}")
            running = Slave(pair, process, version, stdout_path, stderr_path)
            yield running
        finally:
            _forget_port(pair.port_b)
            status = _stop_process(process)
        assert pair.error is None, f"the pty relay failed: {pair.error!r}"
        if running is not None:
            assert status == 0, f"the libmodbus slave exited with status {status}\n{running.output()}"


def _instrument(slave: Slave, slaveaddress: int = SLAVE_ID) -> minimalmodbus.Instrument:
    instrument = minimalmodbus.Instrument(slave.port, slaveaddress)
    instrument.serial.timeout = TIMEOUT
    return instrument


@pytest.fixture
def instrument(slave: Slave) -> Iterator[minimalmodbus.Instrument]:
    """Our Instrument on the slave, by port name, RTU, 19200 8N1, timeout 0.5 s."""
    if slave.process.poll() is not None:
        pytest.fail(f"the libmodbus slave is gone (status {slave.process.returncode})\n{slave.output()}")
    slave.pair.clear_traffic()
    instrument = _instrument(slave)
    yield instrument
    instrument.serial.timeout = TIMEOUT


@pytest.fixture
def restore(slave: Slave) -> Iterator[Callable[[str, int, int], None]]:
    """Register ranges a test writes: ``restore("coils"|"holding", address, count)``.

    Afterwards the slave's original values are written back.
    """
    ranges: list[tuple[str, int, int]] = []

    def keep(table: str, address: int, count: int) -> None:
        assert table in ("coils", "holding")
        ranges.append((table, address, count))

    yield keep
    instrument = _instrument(slave)
    for table, address, count in ranges:
        addresses = range(address, address + count)
        if table == "coils":
            instrument.write_bits(address, [coil(a) for a in addresses])
        else:
            instrument.write_registers(address, [holding(a) for a in addresses])


# ---------------------------------------------------------------------------
# The line itself
# ---------------------------------------------------------------------------


def test_slave_runs_libmodbus(slave: Slave) -> None:
    major, minor, _micro = (int(part) for part in slave.version.split("."))
    assert (major, minor) >= (3, 1)


def test_frames_on_the_wire(slave: Slave, instrument: minimalmodbus.Instrument) -> None:
    """Our request and libmodbus's response, byte for byte (CRC computed independently)."""
    assert instrument.read_registers(1, 2) == [107, 207]
    assert slave.pair.sent("b->a") == rtu(SLAVE_ID, 3, b"\x00\x01\x00\x02")
    assert slave.pair.sent("a->b") == rtu(SLAVE_ID, 3, 4, b"\x00\x6b\x00\xcf")


# ---------------------------------------------------------------------------
# Function codes 1 and 2: bits
# ---------------------------------------------------------------------------


def test_fc1_read_bits(instrument: minimalmodbus.Instrument) -> None:
    assert instrument.read_bits(0, 100, functioncode=1) == [coil(a) for a in range(100)]
    assert instrument.read_bits(5, 11, functioncode=1) == [coil(a) for a in range(5, 16)]
    assert instrument.read_bits(1997, 3, functioncode=1) == [0, 1, 0]
    assert instrument.read_bits(0, BITS, functioncode=1) == [coil(a) for a in range(BITS)]  # 255-byte frame


def test_fc1_read_bit(instrument: minimalmodbus.Instrument) -> None:
    addresses = (0, 1, 2, 3, 98, 99, 1999)
    assert [instrument.read_bit(a, functioncode=1) for a in addresses] == [1, 0, 0, 1, 0, 1, 0]


def test_fc2_read_bits(instrument: minimalmodbus.Instrument) -> None:
    assert instrument.read_bits(0, BITS, functioncode=2) == [discrete_input(a) for a in range(BITS)]
    assert instrument.read_bits(3, 9) == [discrete_input(a) for a in range(3, 12)]  # fc 2 is the default


def test_fc2_read_bit(instrument: minimalmodbus.Instrument) -> None:
    assert [instrument.read_bit(a, functioncode=2) for a in (0, 1, 98, 99, 1999)] == [0, 1, 0, 1, 1]
    assert instrument.read_bit(7) == 1


# ---------------------------------------------------------------------------
# Function codes 3 and 4: registers
# ---------------------------------------------------------------------------


def test_fc3_read_register(instrument: minimalmodbus.Instrument) -> None:
    assert instrument.read_register(0) == 7
    assert instrument.read_register(124) == 12407
    assert instrument.read_register(1, number_of_decimals=1) == pytest.approx(10.7)
    assert instrument.read_register(54) == 0xFFFF
    assert instrument.read_register(54, signed=True) == -1


def test_fc3_read_registers(instrument: minimalmodbus.Instrument) -> None:
    assert instrument.read_registers(0, REGISTERS) == [holding(a) for a in range(REGISTERS)]  # 255-byte frame
    assert instrument.read_registers(54, 2, signed=True) == [-1, -2]


def test_fc3_read_long(instrument: minimalmodbus.Instrument) -> None:
    assert instrument.read_long(52) == 0x12345678
    assert instrument.read_long(54) == 0xFFFFFFFE
    assert instrument.read_long(54, signed=True) == -2
    # BIG_SWAP: bytes swapped within each register; LITTLE_SWAP: registers in reverse order
    assert instrument.read_long(52, byteorder=minimalmodbus.BYTEORDER_BIG_SWAP) == 0x34127856
    assert instrument.read_long(52, byteorder=minimalmodbus.BYTEORDER_LITTLE_SWAP) == 0x56781234
    assert instrument.read_long(52, byteorder=minimalmodbus.BYTEORDER_LITTLE) == 0x78563412
    assert instrument.read_long(52, number_of_registers=4) == 0x12345678FFFFFFFE


def test_fc3_read_float(instrument: minimalmodbus.Instrument) -> None:
    assert instrument.read_float(50) == 1234.5
    double = struct.unpack(">d", bytes.fromhex("449A5000 12345678"))[0]  # registers 50..53
    assert instrument.read_float(50, number_of_registers=4) == double


def test_fc3_read_string(instrument: minimalmodbus.Instrument) -> None:
    assert instrument.read_string(60, 5) == "libmodbus\x00"
    assert instrument.read_string(60, 2) == "libm"


def test_fc4_read_input_registers(instrument: minimalmodbus.Instrument) -> None:
    assert instrument.read_register(0, functioncode=4) == 1000
    assert instrument.read_register(124, functioncode=4) == 1124
    every = [input_register(a) for a in range(REGISTERS)]
    assert instrument.read_registers(0, REGISTERS, functioncode=4) == every
    assert instrument.read_long(10, functioncode=4) == (1010 << 16) | 1011
    assert instrument.read_string(0, 1, functioncode=4) == "\x03\xe8"


# ---------------------------------------------------------------------------
# Writes, read back
# ---------------------------------------------------------------------------


def test_fc5_write_bit(instrument: minimalmodbus.Instrument, restore: Callable[..., None]) -> None:
    restore("coils", 10, 2)
    assert instrument.read_bits(10, 2, functioncode=1) == [0, 0]
    instrument.write_bit(10, 1)  # fc 5 is the default
    assert instrument.read_bits(10, 2, functioncode=1) == [1, 0]
    instrument.write_bit(11, True, functioncode=5)
    assert instrument.read_bits(10, 2, functioncode=1) == [1, 1]
    instrument.write_bit(10, 0, functioncode=5)
    assert instrument.read_bits(9, 4, functioncode=1) == [1, 0, 1, 1]


def test_fc5_request_and_echo_on_the_wire(
    slave: Slave, instrument: minimalmodbus.Instrument, restore: Callable[..., None]
) -> None:
    restore("coils", 13, 1)
    instrument.write_bit(13, 1, functioncode=5)
    request = rtu(SLAVE_ID, 5, b"\x00\x0d\xff\x00")
    assert slave.pair.sent("b->a") == request
    assert slave.pair.sent("a->b") == request  # the response echoes the request


def test_fc6_write_register(instrument: minimalmodbus.Instrument, restore: Callable[..., None]) -> None:
    restore("holding", 11, 1)
    instrument.write_register(11, 4321, functioncode=6)
    assert instrument.read_register(11) == 4321
    instrument.write_register(11, -5, functioncode=6, signed=True)
    assert instrument.read_register(11) == 65531
    instrument.write_register(11, 12.3, number_of_decimals=1, functioncode=6)
    assert instrument.read_register(11) == 123
    assert instrument.read_registers(10, 3) == [1007, 123, 1207]


def test_fc15_write_bits(instrument: minimalmodbus.Instrument, restore: Callable[..., None]) -> None:
    restore("coils", 20, 19)
    pattern = [1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 1]  # 11 bits: two data bytes, the second partial
    instrument.write_bits(20, pattern)
    assert instrument.read_bits(20, 11, functioncode=1) == pattern
    assert instrument.read_bits(19, 13, functioncode=1) == [coil(19), *pattern, coil(31)]
    instrument.write_bit(35, 1, functioncode=15)
    instrument.write_bit(36, 1, functioncode=15)
    assert instrument.read_bits(34, 4, functioncode=1) == [0, 1, 1, 0]
    instrument.write_bit(36, 0, functioncode=15)
    assert instrument.read_bit(36, functioncode=1) == 0


def test_fc16_write_registers(instrument: minimalmodbus.Instrument, restore: Callable[..., None]) -> None:
    restore("holding", 12, 3)
    instrument.write_registers(12, [1, 0xFFFF, 32768])
    assert instrument.read_registers(11, 5) == [1107, 1, 0xFFFF, 32768, 1507]
    instrument.write_registers(12, [-1, -32768, 32767], signed=True)
    assert instrument.read_registers(12, 3) == [0xFFFF, 0x8000, 0x7FFF]


def test_fc16_write_register(instrument: minimalmodbus.Instrument, restore: Callable[..., None]) -> None:
    restore("holding", 15, 1)
    instrument.write_register(15, 77)  # fc 16 is the default
    assert instrument.read_register(15) == 77
    instrument.write_register(15, -2.5, number_of_decimals=2, functioncode=16, signed=True)
    assert instrument.read_register(15, number_of_decimals=2, signed=True) == -2.5
    assert instrument.read_register(15) == 65536 - 250


def test_fc16_write_long(instrument: minimalmodbus.Instrument, restore: Callable[..., None]) -> None:
    restore("holding", 16, 4)
    instrument.write_long(16, -123456789, signed=True)
    assert instrument.read_long(16, signed=True) == -123456789
    assert instrument.read_registers(16, 2) == [0xF8A4, 0x32EB]
    instrument.write_long(16, 0x0102030405060708, number_of_registers=4)
    assert instrument.read_registers(16, 4) == [0x0102, 0x0304, 0x0506, 0x0708]
    instrument.write_long(16, 0xA1B2C3D4, byteorder=minimalmodbus.BYTEORDER_LITTLE_SWAP)
    assert instrument.read_long(16, byteorder=minimalmodbus.BYTEORDER_LITTLE_SWAP) == 0xA1B2C3D4
    assert instrument.read_registers(16, 2) == [0xC3D4, 0xA1B2]


def test_fc16_write_float(instrument: minimalmodbus.Instrument, restore: Callable[..., None]) -> None:
    restore("holding", 20, 4)
    instrument.write_float(20, -0.15625)
    assert instrument.read_float(20) == -0.15625
    assert instrument.read_registers(20, 2) == [0xBE20, 0x0000]
    instrument.write_float(20, 1 / 3, number_of_registers=4)
    assert instrument.read_float(20, number_of_registers=4) == 1 / 3
    assert instrument.read_registers(20, 4) == list(struct.unpack(">4H", struct.pack(">d", 1 / 3)))


def test_fc16_write_string(instrument: minimalmodbus.Instrument, restore: Callable[..., None]) -> None:
    restore("holding", 70, 5)
    instrument.write_string(70, "hello", 5)
    assert instrument.read_string(70, 5) == "hello     "
    assert instrument.read_registers(70, 3) == [0x6865, 0x6C6C, 0x6F20]
    instrument.write_string(70, "abcdefghij", 5)
    assert instrument.read_string(70, 5) == "abcdefghij"


def test_largest_writes(instrument: minimalmodbus.Instrument, restore: Callable[..., None]) -> None:
    """fc 15 with 1968 coils and fc 16 with 123 registers: the largest requests (255 bytes)."""
    restore("coils", 0, 1968)
    restore("holding", 0, 123)
    bits = [1 - coil(a) for a in range(1968)]
    instrument.write_bits(0, bits)
    assert instrument.read_bits(0, BITS, functioncode=1) == bits + [coil(a) for a in range(1968, BITS)]
    values = [(a * 517 + 3) % 65536 for a in range(123)]
    instrument.write_registers(0, values)
    assert instrument.read_registers(0, REGISTERS) == [*values, holding(123), holding(124)]


# ---------------------------------------------------------------------------
# Function codes 17, 22, 23
# ---------------------------------------------------------------------------


def test_fc17_report_slave_id(slave: Slave, instrument: minimalmodbus.Instrument) -> None:
    """libmodbus answers: its own fixed "slave id" byte 0xB4 (180, not the slave
    address), the run indicator 0xFF (on), then "LMB" and its version string."""
    data = bytes((0xB4, 0xFF)) + b"LMB" + slave.version.encode("ascii")
    assert instrument.report_slave_id() == data
    assert slave.pair.sent("b->a") == rtu(SLAVE_ID, 17)
    assert slave.pair.sent("a->b") == rtu(SLAVE_ID, 17, len(data), data)


def test_fc17_report_slave_id_is_libmodbus_3_1_6(slave: Slave, instrument: minimalmodbus.Instrument) -> None:
    if slave.version != "3.1.6":
        pytest.skip(f"libmodbus {slave.version}, not 3.1.6")
    assert instrument.report_slave_id() == b"\xb4\xffLMB3.1.6"


@pytest.mark.parametrize(
    ("current", "and_mask", "or_mask", "result"),
    [
        (0x0012, 0x00F2, 0x0025, 0x0017),  # the example of the specification
        (0x5A5A, 0xFF00, 0x1234, 0x5A34),
        (0xFFFF, 0x0000, 0x0000, 0x0000),
        (0x0000, 0xFFFF, 0xFFFF, 0x0000),
        (0xA5C3, 0x0F0F, 0xF0F0, 0xF5F3),
    ],
)
def test_fc22_mask_write_register(
    slave: Slave,
    instrument: minimalmodbus.Instrument,
    restore: Callable[..., None],
    current: int,
    and_mask: int,
    or_mask: int,
    result: int,
) -> None:
    assert result == (current & and_mask) | (or_mask & ~and_mask & 0xFFFF)  # the formula
    restore("holding", 40, 1)
    instrument.write_register(40, current, functioncode=6)
    slave.pair.clear_traffic()
    instrument.mask_write_register(40, and_mask, or_mask)
    request = rtu(SLAVE_ID, 22, struct.pack(">HHH", 40, and_mask, or_mask))
    assert slave.pair.sent("b->a") == request
    assert slave.pair.sent("a->b") == request  # the response echoes the request
    assert instrument.read_register(40) == result


def test_fc23_read_write_registers_writes_before_reading(
    instrument: minimalmodbus.Instrument, restore: Callable[..., None]
) -> None:
    restore("holding", 31, 2)
    read = instrument.read_write_registers(30, 4, 31, [0xAAAA, 0x5555])
    assert read == [holding(30), 0xAAAA, 0x5555, holding(33)]
    assert instrument.read_registers(30, 4) == read


def test_fc23_read_write_registers_separate_ranges(
    instrument: minimalmodbus.Instrument, restore: Callable[..., None]
) -> None:
    restore("holding", 80, 3)
    read = instrument.read_write_registers(0, 3, 80, [1, 2, 3])
    assert read == [7, 107, 207]
    assert instrument.read_registers(80, 3) == [1, 2, 3]
    assert instrument.read_write_registers(0, 1, 80, [4, 5, 6]) == [7]
    assert instrument.read_write_registers(2, 2, 0, [7]) == [207, 307]  # writes 7 over 7
    assert instrument.read_registers(80, 3, functioncode=3) == [4, 5, 6]
    assert instrument.read_write_registers(10, 1, 10, [1007]) == [1007]
    assert instrument.read_write_registers(0, REGISTERS, 81, [holding(81)]) == [
        {80: 4, 82: 6}.get(a, holding(a)) for a in range(REGISTERS)
    ]


def test_fc23_largest_request(instrument: minimalmodbus.Instrument, restore: Callable[..., None]) -> None:
    """Read 125 registers and write 121 (written first) in one transaction."""
    restore("holding", 2, 121)
    values = [0xFFFF - a for a in range(121)]
    read = instrument.read_write_registers(0, REGISTERS, 2, values)
    assert read == [holding(0), holding(1), *values, holding(123), holding(124)]


# ---------------------------------------------------------------------------
# Broadcast and other slave addresses
# ---------------------------------------------------------------------------


def test_broadcast_write_is_done_and_not_answered(
    slave: Slave, instrument: minimalmodbus.Instrument, restore: Callable[..., None]
) -> None:
    restore("holding", 41, 3)
    broadcaster = _instrument(slave, 0)
    broadcaster.broadcast_delay = 0.05
    broadcaster.write_register(41, 999, functioncode=6)
    broadcaster.write_registers(42, [1, 2])
    assert slave.pair.sent("a->b") == b""  # no answer to a broadcast
    assert instrument.read_registers(41, 3) == [999, 1, 2]


def test_other_slave_address_is_ignored(slave: Slave, instrument: minimalmodbus.Instrument) -> None:
    """libmodbus does not answer a request for another slave address. On a real
    multi-drop line that slave answers next, and libmodbus 3.1.6 skips the next
    frame as that answer; here the answer is injected so the line stays in step."""
    other = _instrument(slave, SLAVE_ID + 1)
    other.serial.timeout = SHORT_TIMEOUT
    with pytest.raises(minimalmodbus.NoResponseError):
        other.read_register(0)
    assert slave.pair.sent("a->b") == b""
    slave.pair.inject("a", rtu(SLAVE_ID + 1, 3, 2, b"\x00\x00"))  # the other slave's answer
    instrument.serial.timeout = TIMEOUT
    assert instrument.read_register(0) == 7


def test_retries_recover_after_libmodbus_skips_a_request(
    slave: Slave, instrument: minimalmodbus.Instrument
) -> None:
    """Without the other slave's answer, libmodbus 3.1.6 takes our next request
    as that answer and drops it: our retries get the value anyway."""
    other = _instrument(slave, SLAVE_ID + 1)
    other.serial.timeout = SHORT_TIMEOUT
    with pytest.raises(minimalmodbus.NoResponseError):
        other.read_register(0)
    instrument.serial.timeout = SHORT_TIMEOUT  # the shared port's: keeps the lost attempt short
    instrument.retries = 3
    assert instrument.read_register(4) == 407
    requests = slave.pair.sent("b->a")
    assert requests.count(rtu(SLAVE_ID, 3, b"\x00\x04\x00\x01")) >= 2  # the first one was lost


# ---------------------------------------------------------------------------
# Exception responses
# ---------------------------------------------------------------------------

BEYOND_THE_MAP: list[tuple[str, int, Callable[[minimalmodbus.Instrument], Any]]] = [
    ("read_bits-fc-1", 1, lambda i: i.read_bits(1995, 6, functioncode=1)),
    ("read_bit-fc-1", 1, lambda i: i.read_bit(BITS, functioncode=1)),
    ("read_bits-fc-2", 2, lambda i: i.read_bits(1999, 2, functioncode=2)),
    ("read_register-fc-3", 3, lambda i: i.read_register(REGISTERS)),
    ("read_registers-fc-3", 3, lambda i: i.read_registers(1, REGISTERS)),
    ("read_long-fc-3", 3, lambda i: i.read_long(124)),
    ("read_registers-fc-4", 4, lambda i: i.read_registers(124, 2, functioncode=4)),
    ("write_bit-fc-5", 5, lambda i: i.write_bit(BITS, 1, functioncode=5)),
    ("write_register-fc-6", 6, lambda i: i.write_register(REGISTERS, 1, functioncode=6)),
    ("write_bits-fc-15", 15, lambda i: i.write_bits(1999, [0, 1])),
    ("write_registers-fc-16", 16, lambda i: i.write_registers(124, [1, 2])),
    ("write_float-fc-16", 16, lambda i: i.write_float(124, 1.0)),
    ("mask_write_register-fc-22", 22, lambda i: i.mask_write_register(REGISTERS, 0, 0)),
    ("read_write_registers-fc-23-read", 23, lambda i: i.read_write_registers(124, 2, 124, [1])),
    ("read_write_registers-fc-23-write", 23, lambda i: i.read_write_registers(0, 1, 124, [1, 2])),
]


@pytest.mark.parametrize(
    ("functioncode", "call"), [case[1:] for case in BEYOND_THE_MAP], ids=[case[0] for case in BEYOND_THE_MAP]
)
def test_illegal_data_address(
    slave: Slave,
    instrument: minimalmodbus.Instrument,
    functioncode: int,
    call: Callable[[minimalmodbus.Instrument], Any],
) -> None:
    with pytest.raises(minimalmodbus.IllegalRequestError) as caught:
        call(instrument)
    assert caught.value.exception_code == 2
    assert caught.value.function_code == functioncode
    assert slave.pair.sent("a->b") == rtu(SLAVE_ID, functioncode | 0x80, 2)
    # nothing was written
    assert instrument.read_registers(123, 2) == [holding(123), holding(124)]
    assert instrument.read_bits(1998, 2, functioncode=1) == [coil(1998), coil(1999)]


@pytest.mark.parametrize(
    ("functioncode", "payload"),
    [
        (3, b"\x00\x00\x00\x7e"),  # 126 registers: more than a response can hold
        (1, b"\x00\x00\x07\xd1"),  # 2001 coils
        (5, b"\x00\x0a\x12\x34"),  # a coil value other than 0xFF00 or 0x0000
    ],
    ids=["fc3-quantity-126", "fc1-quantity-2001", "fc5-value-0x1234"],
)
def test_illegal_data_value(
    slave: Slave, instrument: minimalmodbus.Instrument, functioncode: int, payload: bytes
) -> None:
    with pytest.raises(minimalmodbus.IllegalRequestError) as caught:
        instrument.perform_command(functioncode, payload)
    assert caught.value.exception_code == 3
    assert slave.pair.sent("a->b") == rtu(SLAVE_ID, functioncode | 0x80, 3)


@pytest.mark.parametrize(
    ("functioncode", "call"),
    [
        (11, lambda i: i.read_comm_event_counter()),
        (12, lambda i: i.read_comm_event_log()),
        (65, lambda i: i.perform_command(65, b"")),  # a user-defined function code
        (100, lambda i: i.perform_command(100, b"")),
    ],
    ids=["fc11", "fc12", "fc65", "fc100"],
)
def test_illegal_function(
    slave: Slave,
    instrument: minimalmodbus.Instrument,
    functioncode: int,
    call: Callable[[minimalmodbus.Instrument], Any],
) -> None:
    with pytest.raises(minimalmodbus.IllegalRequestError) as caught:
        call(instrument)
    assert caught.value.exception_code == 1
    assert caught.value.function_code == functioncode
    assert slave.pair.sent("a->b") == rtu(SLAVE_ID, functioncode | 0x80, 1)


def test_fc7_is_not_answered_by_libmodbus(slave: Slave, instrument: minimalmodbus.Instrument) -> None:
    """libmodbus 3.1.6's modbus_reply() neither serves fc 7 nor sends an exception
    (it returns -1, ENOPROTOOPT). We time out, and the next request works."""
    instrument.serial.timeout = SHORT_TIMEOUT
    with pytest.raises(minimalmodbus.NoResponseError):
        instrument.read_exception_status()
    assert slave.pair.sent("b->a") == rtu(SLAVE_ID, 7)
    assert slave.pair.sent("a->b") == b""
    # Before asking the same slave again the driver waits out one (short) timeout
    # after the failure, in case a late answer comes; then the line works.
    assert instrument.read_register(3) == 307


def test_no_answer_waits_one_timeout(
    slave: Slave, instrument: minimalmodbus.Instrument, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing answer should cost one port timeout: count the waits that timed out
    instead of measuring time: reads that returned fewer bytes than asked for, and
    the driver's own wait for the first byte of an answer (a select on the port)."""
    port = instrument.serial
    port.timeout = SHORT_TIMEOUT
    original_read = port.read
    original_select = select.select
    timed_out: list[object] = []

    def read(size: int = 1) -> bytes:
        data: bytes = original_read(size)
        if len(data) < size:
            timed_out.append(size)
        return data

    def select_(*args: Any) -> Any:
        ready = original_select(*args)
        if port.fd in args[0] and not ready[0]:
            timed_out.append("select")
        return ready

    monkeypatch.setattr(port, "read", read)
    monkeypatch.setattr(select, "select", select_)
    with pytest.raises(minimalmodbus.NoResponseError):
        instrument.read_exception_status()  # libmodbus 3.1.6 does not answer fc 7
    assert slave.pair.sent("a->b") == b""
    assert len(timed_out) == 1, f"reads that waited a whole timeout, by size asked: {timed_out}"
