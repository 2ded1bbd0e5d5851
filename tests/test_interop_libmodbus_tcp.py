"""Interoperability over Modbus TCP: our Instrument against a libmodbus TCP server (issue 14).

The module fixture compiles ``tests/peers/libmodbus_tcp_server.c`` (the data
map of the RTU peer, ``libmodbus_map.h``; see test_interop_libmodbus.py) and
runs it on 127.0.0.1 at a free port; our Instrument talks to it by
``tcp://`` URL. Every function code that libmodbus serves, exception replies,
values checked. Without gcc, pkg-config or libmodbus the tests are skipped.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_interop_libmodbus import (
    INSTALL_HINT,
    _stop_process,
    coil,
    discrete_input,
    holding,
    input_register,
)

import minimalmodbus

SOURCE = Path(__file__).parent / "peers" / "libmodbus_tcp_server.c"
TIMEOUT = 0.5


def build(directory: Path) -> Path:
    for tool in ("gcc", "pkg-config"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found; to run these tests: {INSTALL_HINT}")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmodbus"], capture_output=True, text=True)
    if flags.returncode != 0:
        pytest.skip(f"libmodbus not found by pkg-config; to run these tests: {INSTALL_HINT}")
    executable = directory / "libmodbus_tcp_server"
    command = ["gcc", "-Wall", "-Wextra", "-O1", "-o", str(executable), str(SOURCE), *flags.stdout.split()]
    built = subprocess.run(command, capture_output=True, text=True)
    if built.returncode != 0:
        pytest.fail(f"Building the libmodbus TCP server failed: {' '.join(command)}\n{built.stderr}")
    return executable


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Build and start the libmodbus TCP server; stop it afterwards."""
    directory = tmp_path_factory.mktemp("libmodbus_tcp")
    executable = build(directory)
    port = free_port()
    process = subprocess.Popen([str(executable), str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert line.startswith("ready "), f"the libmodbus TCP server printed {line!r}"
        yield f"tcp://127.0.0.1:{port}"
    finally:
        minimalmodbus.forget_ports()
        _stop_process(process)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def instrument(server_url: str) -> minimalmodbus.Instrument:
    made = minimalmodbus.Instrument(server_url, 1)
    made.serial.timeout = TIMEOUT
    return made


def test_reads_of_every_table(instrument: minimalmodbus.Instrument) -> None:
    assert instrument.read_bits(0, 2000, functioncode=1) == [coil(a) for a in range(2000)]  # fc 1
    assert instrument.read_bits(0, 2000, functioncode=2) == [discrete_input(a) for a in range(2000)]  # fc 2
    assert instrument.read_registers(0, 125) == [holding(a) for a in range(125)]  # fc 3
    assert instrument.read_registers(0, 125, functioncode=4) == [
        input_register(a) for a in range(125)
    ]  # fc 4
    assert instrument.read_float(50) == 1234.5
    assert instrument.read_long(52) == 0x12345678
    assert instrument.read_long(54, signed=True) == -2
    assert instrument.read_string(60, 5) == "libmodbus\x00"


def test_writes_of_every_kind(instrument: minimalmodbus.Instrument) -> None:
    # (puts every value back at the end, so the reads above hold in any order)
    instrument.write_bit(1, 1, functioncode=5)  # fc 5
    instrument.write_bits(10, [1, 0, 1])  # fc 15
    assert instrument.read_bits(10, 3, functioncode=1) == [1, 0, 1]
    assert instrument.read_bit(1, functioncode=1) == 1
    instrument.write_register(100, 4321, functioncode=6)  # fc 6
    instrument.write_registers(101, [1, 2, 3])  # fc 16
    assert instrument.read_registers(100, 4) == [4321, 1, 2, 3]
    instrument.mask_write_register(100, 0x00F0, 0x0005)  # fc 22
    assert instrument.read_register(100) == (4321 & 0x00F0) | (0x0005 & ~0x00F0 & 0xFFFF)
    assert instrument.read_write_registers(110, 2, 111, [9]) == [holding(110), 9]  # fc 23
    instrument.write_bits(0, [coil(a) for a in range(13)])
    instrument.write_registers(100, [holding(a) for a in range(100, 112)])


def test_report_slave_id(instrument: minimalmodbus.Instrument) -> None:
    answer = instrument.report_slave_id()  # fc 17: libmodbus's fixed id 0xB4, run indicator, "LMB" + version
    assert answer[:2] == b"\xb4\xff"
    assert answer[2:5] == b"LMB"


@pytest.mark.parametrize(
    "call, exception_class, code",
    [
        (lambda i: i.read_registers(124, 2), minimalmodbus.IllegalRequestError, 2),  # beyond the map
        (lambda i: i.write_register(200, 1), minimalmodbus.IllegalRequestError, 2),
        (lambda i: i.read_comm_event_counter(), minimalmodbus.IllegalRequestError, 1),  # fc 11: not served
    ],
)
def test_exception_replies(
    instrument: minimalmodbus.Instrument,
    call: Callable[[minimalmodbus.Instrument], object],
    exception_class: type[minimalmodbus.SlaveReportedException],
    code: int,
) -> None:
    with pytest.raises(exception_class) as caught:
        call(instrument)
    assert caught.value.exception_code == code
