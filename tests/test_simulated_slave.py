"""Tests for minimalmodbus_simulator: slave, bus, faults, pseudo-terminal server, command line.

Frames are written out byte by byte in the tables at the end of this module,
each with the specification example it comes from (Modbus Application
Protocol V1.1b3 §6); :func:`spec_slave` holds the data of those examples.
Requests go to slave address 17 (0x11) and run in RTU and in ASCII: a table
entry holds the frame content and both checksums, and :func:`rtu` /
:func:`ascii_frame` (frames.py, given the LRC) only lay them out (a
self-check verifies every checksum with the tests' own CRC and the LRC sum).

Time: dummy ports run on a fake clock (``dummy_serial._now`` and ``_sleep``
replaced). Only the pseudo-terminal tests spend real time, a few
milliseconds each, and check that no thread or file descriptor is left.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from conftest import OUR_MODULES, FakeClock, module_imports
from frames import ascii_frame
from frames import crc16 as crc16_bitwise  # bit by bit, independent of the simulator's

import dummy_serial
import minimalmodbus
import minimalmodbus_simulator as simulator
from minimalmodbus_simulator import DiagnosticCounter, Fault, PtyServer, SimulatedBus, SimulatedSlave, block

SLAVE = 0x11  # the slave address of the table frames
MODES = [simulator.MODE_RTU, simulator.MODE_ASCII]
PORTNAME = "/dev/ttyUSB0"
TIMEOUT = 0.05  # seconds, MinimalModbus's default
PTY_WAIT = 2.0  # seconds a pty test waits at most for an answer that must come


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A fake clock behind dummy_serial, and its configuration as a fresh import has it."""
    fake = FakeClock(start=0.0, ignore_nonpositive=False)
    monkeypatch.setattr(dummy_serial, "_now", fake.now)
    monkeypatch.setattr(dummy_serial, "_sleep", fake.sleep)
    monkeypatch.setattr(dummy_serial, "RESPONDER", None)
    monkeypatch.setattr(dummy_serial, "RESPONSES", {})
    monkeypatch.setattr(dummy_serial, "VERBOSE", False)
    return fake


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize with the frame tables at the end of this module."""
    tables = {
        "exchange": EXCHANGES,
        "write_exchange": [entry for entry in EXCHANGES if entry.changes is not None],
        "exception_exchange": EXCEPTION_EXCHANGES,
    }
    for name, table in tables.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, table, ids=[entry.name for entry in table])


# ---------------------------------------------------------------------------
# Helpers: frames and the slave of the specification's examples
# ---------------------------------------------------------------------------


class Exchange(NamedTuple):
    """A request and its response: content (address, function code, data) and checksums.

    ``changes``: for a write, what to look at in the slave, its value before
    and its value after the request.
    """

    name: str
    request: bytes
    request_crc: bytes  # low byte first
    request_lrc: int
    response: bytes
    response_crc: bytes
    response_lrc: int
    changes: tuple[Callable[[SimulatedSlave], object], object, object] | None = None

    def request_frame(self, mode: str) -> bytes:
        if mode == simulator.MODE_RTU:
            return rtu(self.request, self.request_crc)
        return ascii_frame(self.request, self.request_lrc)

    def response_frame(self, mode: str) -> bytes:
        if mode == simulator.MODE_RTU:
            return rtu(self.response, self.response_crc)
        return ascii_frame(self.response, self.response_lrc)


def rtu(content: bytes, crc: bytes) -> bytes:
    """An RTU frame: the content, then its CRC."""
    return content + crc


def bits_at(start: int, packed: bytes, count: int) -> dict[int, int]:
    """Addresses from ``start`` -> the ``count`` bits of bytes packed LSB first."""
    return {start + index: (packed[index // 8] >> (index % 8)) & 1 for index in range(count)}


def spec_slave() -> SimulatedSlave:
    """A slave holding the data of the specification's examples (Application Protocol §6).

    Coils 0..199 (19..37 as in the fc 1 example), discrete inputs 0..255
    (196..217 as in the fc 2 example), holding registers 0..119 (107..109 as
    in the fc 3 example, 3..8 as in the fc 23 example, 20 = 0x12 for the fc
    22 example), input registers 0..9 (8 = 10), files 3 and 4 of the fc 20
    and 21 examples, the FIFO queue of the fc 24 example and one of 32
    values at 0x500, the objects of the fc 43 example. Event counter 0x108
    and bus message count 0x120, event log 20 00 (the fc 11, 12 examples).
    """
    coils = block(200)
    coils.update(bits_at(19, bytes.fromhex("CD 6B 05"), 19))
    discrete_inputs = block(256)
    discrete_inputs.update(bits_at(196, bytes.fromhex("AC DB 35"), 22))
    holding_registers = block(120)
    holding_registers.update({3: 0x00FE, 4: 0x0ACD, 5: 0x0001, 6: 0x0003, 7: 0x000D, 8: 0x00FF})
    holding_registers.update({20: 0x0012, 107: 0x022B, 108: 0x0000, 109: 0x0064})
    slave = SimulatedSlave(
        coils=coils,
        discrete_inputs=discrete_inputs,
        holding_registers=holding_registers,
        input_registers={**block(10), 8: 0x000A},
        exception_status=0x6D,
        slave_id=b"\x2a\xffSIM",
        file_records={3: {9: 0x33CD, 10: 0x0040}, 4: {1: 0x0DFE, 2: 0x0020, **block(3, start=7)}},
        fifo_queues={0x04DE: [0x01B8, 0x1284], 0x0500: list(range(32))},
        device_identification={0: b"Company identification", 1: b"Product code XX", 2: b"V2.11"},
    )
    slave.event_counter = 0x0108
    slave.counters[DiagnosticCounter.BUS_MESSAGE] = 0x0120
    slave.comm_events = [0x20, 0x00]
    return slave


def spec_bus(mode: str = simulator.MODE_RTU, **keywords: Any) -> SimulatedBus:
    """A bus with :func:`spec_slave` at address 17."""
    return SimulatedBus({SLAVE: spec_slave()}, mode, **keywords)


def exchange_named(name: str) -> Exchange:
    """The table entry with this name."""
    return next(entry for entry in EXCHANGES if entry.name == name)


# ---------------------------------------------------------------------------
# Checksums and the tables themselves
# ---------------------------------------------------------------------------


def test_crc_of_the_check_string_is_4b37() -> None:
    assert simulator.crc16(b"123456789") == 0x4B37
    assert crc16_bitwise(b"123456789") == 0x4B37


def test_lrc_is_the_negated_byte_sum() -> None:
    assert simulator.lrc(bytes.fromhex("11 03 00 6B 00 03")) == 0x7E
    assert simulator.lrc(b"") == 0
    assert simulator.lrc(b"\x01") == 0xFF


def test_every_table_frame_has_correct_checksums() -> None:
    for entry in EXCHANGES + EXCEPTION_EXCHANGES:
        for content, crc, lrc in (
            (entry.request, entry.request_crc, entry.request_lrc),
            (entry.response, entry.response_crc, entry.response_lrc),
        ):
            assert crc16_bitwise(content + crc) == 0, entry.name
            assert (sum(content) + lrc) & 0xFF == 0, entry.name


def test_the_function_code_table_lists_every_supported_code() -> None:
    supported = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43]
    assert sorted(simulator._FUNCTION_CODES) == supported


def test_the_request_length_of_each_table_request_is_known_from_its_header(exchange: Exchange) -> None:
    frame = exchange.request_frame(simulator.MODE_RTU)
    expected = None if frame[1] == 8 else len(frame)  # diagnostics: by silence
    for received in range(2, len(frame) + 1):  # as the bytes arrive
        length = simulator.rtu_request_length(frame[:received])
        assert length is None or length > received or length == expected


# ---------------------------------------------------------------------------
# SimulatedSlave through a bus: every function code, RTU and ASCII
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_each_function_code_is_answered_as_in_the_specification(exchange: Exchange, mode: str) -> None:
    bus = spec_bus(mode)
    assert bus(exchange.request_frame(mode)) == [(0.0, exchange.response_frame(mode))]


@pytest.mark.parametrize("mode", MODES)
def test_each_bad_request_gets_its_exception_code(exception_exchange: Exchange, mode: str) -> None:
    bus = spec_bus(mode)
    response = exception_exchange.response_frame(mode)
    assert bus(exception_exchange.request_frame(mode)) == [(0.0, response)]


def test_each_write_changes_the_map(write_exchange: Exchange) -> None:
    assert write_exchange.changes is not None
    look, before, after = write_exchange.changes
    bus = spec_bus()
    assert look(bus.slaves[SLAVE]) == before
    bus(write_exchange.request_frame(simulator.MODE_RTU))
    assert look(bus.slaves[SLAVE]) == after


def test_a_request_with_an_exception_changes_nothing() -> None:
    # fc 23 writing registers 14..16 but reading 118..120: 120 is missing.
    bus = spec_bus()
    request = bytes.fromhex("11 17 0076 0003 000E 0003 06 0001 0002 0003")
    request += simulator.crc16(request).to_bytes(2, "little")
    assert bus(request)[0][1][1:3] == b"\x97\x02"
    assert [bus.slaves[SLAVE].holding_registers[address] for address in (14, 15, 16)] == [0, 0, 0]


def test_ascii_frames_written_out_in_full() -> None:
    # fc 3, the specification's example, as ASCII text: LRC 7E and 55.
    bus = spec_bus(simulator.MODE_ASCII)
    assert bus(b":1103006B00037E\r\n") == [(0.0, b":110306022B0000006455\r\n")]
    # Lower-case hex digits are accepted too.
    assert bus(b":1103006b00037e\r\n") == [(0.0, b":110306022B0000006455\r\n")]


def test_handle_works_on_pdus() -> None:
    slave = SimulatedSlave(holding_registers={5: 0x1234})
    # fc 3, start 00 05, quantity 00 01 -> fc 3, byte count 2, 12 34
    assert slave.handle(bytes.fromhex("03 0005 0001")) == bytes.fromhex("03 02 1234")
    # fc 3 of a missing register -> 83 02
    assert slave.handle(bytes.fromhex("03 0006 0001")) == bytes.fromhex("83 02")
    with pytest.raises(ValueError, match="function code"):
        slave.handle(b"")


# ---------------------------------------------------------------------------
# Diagnostics, event counter and log
# ---------------------------------------------------------------------------


def test_diagnostic_register() -> None:
    slave = SimulatedSlave()
    slave.diagnostic_register = 0x1234
    # fc 8, sub-function 00 02, data 00 00 -> the register
    assert slave.handle(bytes.fromhex("08 0002 0000")) == bytes.fromhex("08 0002 1234")
    # Data other than 00 00 -> exception 3
    assert slave.handle(bytes.fromhex("08 0002 0001")) == bytes.fromhex("88 03")


def test_query_data_is_echoed_whatever_its_length() -> None:
    slave = SimulatedSlave()
    assert slave.handle(bytes.fromhex("08 0000 A537 1234")) == bytes.fromhex("08 0000 A537 1234")
    # An odd number of bytes -> exception 3
    assert slave.handle(bytes.fromhex("08 0000 A5")) == bytes.fromhex("88 03")


def test_listen_only_mode_until_restart() -> None:
    slave = SimulatedSlave(holding_registers={0: 7})
    # fc 8, sub-function 00 04 (force listen only): no response.
    assert slave.handle(bytes.fromhex("08 0004 0000")) is None
    assert slave.listen_only
    # Reads are not answered, writes not done, other sub-functions ignored.
    assert slave.handle(bytes.fromhex("03 0000 0001")) is None
    assert slave.handle(bytes.fromhex("06 0000 0063")) is None
    assert slave.handle(bytes.fromhex("08 000A 0000")) is None
    assert slave.holding_registers[0] == 7
    # fc 8, sub-function 00 01 (restart): acted on, not answered.
    assert slave.handle(bytes.fromhex("08 0001 0000")) is None
    assert not slave.listen_only
    assert slave.handle(bytes.fromhex("03 0000 0001")) == bytes.fromhex("03 02 0007")


def test_listen_only_events_are_logged() -> None:
    slave = SimulatedSlave()
    slave.handle(bytes.fromhex("08 0004 0000"))  # receive 80, entered listen only 04
    slave.handle(bytes.fromhex("07"))  # receive in listen only A0
    slave.handle(bytes.fromhex("08 0001 0000"))  # receive in listen only A0, restart 00
    assert slave.comm_events == [0x00, 0xA0, 0xA0, 0x04, 0x80]


def test_restart_with_ff00_clears_the_event_log() -> None:
    slave = SimulatedSlave()
    slave.comm_events = [0x40, 0x80]
    slave.event_counter = 5
    # Not in listen only mode: the restart is answered (echo).
    assert slave.handle(bytes.fromhex("08 0001 FF00")) == bytes.fromhex("08 0001 FF00")
    # Log cleared, then: restart 00, sent 40. Counters cleared, then this one completed.
    assert slave.comm_events == [0x40, 0x00]
    assert slave.event_counter == 1
    assert slave.handle(bytes.fromhex("08 0001 0000")) == bytes.fromhex("08 0001 0000")
    assert slave.comm_events == [0x40, 0x00, 0x80, 0x40, 0x00]


def test_clear_counters_and_diagnostic_register() -> None:
    slave = SimulatedSlave()
    slave.diagnostic_register = 0xFFFF
    slave.counters[DiagnosticCounter.BUS_EXCEPTION_ERROR] = 9
    slave.event_counter = 9
    assert slave.handle(bytes.fromhex("08 000A 0000")) == bytes.fromhex("08 000A 0000")
    assert slave.diagnostic_register == 0
    assert slave.counters[DiagnosticCounter.BUS_EXCEPTION_ERROR] == 0
    assert slave.event_counter == 1  # this request, completed after the clearing


def test_clear_overrun_counter() -> None:
    slave = SimulatedSlave()
    slave.counters[DiagnosticCounter.BUS_CHARACTER_OVERRUN] = 4
    assert slave.handle(bytes.fromhex("08 0014 0000")) == bytes.fromhex("08 0014 0000")
    assert slave.counters[DiagnosticCounter.BUS_CHARACTER_OVERRUN] == 0


@pytest.mark.parametrize("counter", list(DiagnosticCounter))
def test_each_counter_is_returned_by_its_sub_function(counter: DiagnosticCounter) -> None:
    slave = SimulatedSlave()
    slave.counters = {each: 0x100 + each for each in DiagnosticCounter}
    response = slave.handle(bytes((8, 0, counter, 0, 0)))
    # The request itself is a slave message, counted before the answer.
    expected = 0x100 + counter + (counter == DiagnosticCounter.SLAVE_MESSAGE)
    assert response == bytes((8, 0, counter)) + expected.to_bytes(2, "big")


def test_counters_follow_the_traffic_on_the_line() -> None:
    one, two = SimulatedSlave(holding_registers=block(2)), SimulatedSlave(holding_registers=block(2))
    bus = SimulatedBus({1: one, 2: two})
    bus(bytes.fromhex("01 03 0000 0001 840A"))  # read from slave 1
    bus(bytes.fromhex("02 03 0000 0001 8439"))  # read from slave 2
    bus(bytes.fromhex("01 03 0000 0001 840B"))  # bad CRC
    bus(bytes.fromhex("01 41 C010"))  # exception 1 from slave 1
    bus(bytes.fromhex("00 06 0001 002A 5804"))  # broadcast write
    bus(bytes.fromhex("03 03 0000 0001 85E8"))  # read from slave 3, not on the bus
    assert one.counters == {
        DiagnosticCounter.BUS_MESSAGE: 5,
        DiagnosticCounter.BUS_COMMUNICATION_ERROR: 1,
        DiagnosticCounter.BUS_EXCEPTION_ERROR: 1,
        DiagnosticCounter.SLAVE_MESSAGE: 3,
        DiagnosticCounter.SLAVE_NO_RESPONSE: 1,
        DiagnosticCounter.SLAVE_NAK: 0,
        DiagnosticCounter.SLAVE_BUSY: 0,
        DiagnosticCounter.BUS_CHARACTER_OVERRUN: 0,
    }


def test_event_counter_and_log() -> None:
    slave = SimulatedSlave(holding_registers=block(2))
    slave.handle(bytes.fromhex("03 0000 0001"))  # completed: counted
    slave.handle(bytes.fromhex("03 0005 0001"))  # exception 2: not counted
    # fc 11 -> status 00 00, event count 00 01 (fc 11 does not count itself)
    assert slave.handle(bytes.fromhex("0B")) == bytes.fromhex("0B 0000 0001")
    # fc 12 -> byte count 0D, status 0000, event count 0001, message count
    # 0000 (no bus here), events newest first: received 80 (this one), sent
    # 40 (fc 11), 80, sent exception 41, 80, sent 40, 80.
    assert slave.handle(bytes.fromhex("0C")) == bytes.fromhex("0C 0D 0000 0001 0000 80 40 80 41 80 40 80")


def test_the_event_log_keeps_the_newest_64_events() -> None:
    slave = SimulatedSlave()
    for _ in range(40):
        slave.handle(bytes.fromhex("07"))
    assert len(slave.comm_events) == 64
    response = slave.handle(bytes.fromhex("0C"))
    assert response is not None
    assert response[1] == 6 + 64


# ---------------------------------------------------------------------------
# Read device identification
# ---------------------------------------------------------------------------


def test_objects_that_do_not_fit_follow_in_the_next_response() -> None:
    objects = {0: b"A" * 100, 1: b"B" * 100, 2: b"C" * 100, 0x80: b"X"}
    slave = SimulatedSlave(device_identification=objects)
    # fc 43, MEI 0E, read code 3 (extended), object 00
    first = slave.handle(bytes.fromhex("2B 0E 03 00"))
    # MEI 0E, read code 03, conformity 83, more follows FF, next object 02,
    # 2 objects: 00 (100 bytes), 01 (100 bytes); 7 + 2 * 102 = 211 bytes,
    # the third would make 313, over 253.
    assert first == bytes.fromhex("2B 0E 03 83 FF 02 02 00 64") + b"A" * 100 + b"\x01\x64" + b"B" * 100
    second = slave.handle(bytes.fromhex("2B 0E 03 02"))
    assert second == bytes.fromhex("2B 0E 03 83 00 00 02 02 64") + b"C" * 100 + b"\x80\x01X"


def test_each_stream_read_code_reads_its_category_and_those_below() -> None:
    slave = SimulatedSlave(device_identification={0: b"V", 1: b"P", 2: b"R", 4: b"N", 0x80: b"E"})
    # read code 1 (basic): objects 0..2
    assert slave.handle(bytes.fromhex("2B 0E 01 00")) == bytes.fromhex(
        "2B 0E 01 83 00 00 03  00 01 56  01 01 50  02 01 52"
    )
    # read code 2 (regular): objects 0..0x7F
    assert slave.handle(bytes.fromhex("2B 0E 02 00")) == bytes.fromhex(
        "2B 0E 02 83 00 00 04  00 01 56  01 01 50  02 01 52  04 01 4E"
    )
    # read code 3 from object 4 (extended): 4 and 0x80
    assert slave.handle(bytes.fromhex("2B 0E 03 04")) == bytes.fromhex(
        "2B 0E 03 83 00 00 02  04 01 4E  80 01 45"
    )


def test_a_stream_from_an_unknown_object_starts_again_at_0() -> None:
    slave = SimulatedSlave(device_identification={0: b"V", 1: b"P", 2: b"R"})
    from_zero = slave.handle(bytes.fromhex("2B 0E 01 00"))
    assert slave.handle(bytes.fromhex("2B 0E 01 05")) == from_zero
    assert from_zero == bytes.fromhex("2B 0E 01 81 00 00 03  00 01 56  01 01 50  02 01 52")


def test_read_code_4_reads_one_object() -> None:
    slave = SimulatedSlave(device_identification={0: b"V", 1: b"P", 2: b"R", 5: b"Model"})
    # conformity 82 (regular objects present), one object: 05, 5 bytes, "Model"
    expected = bytes.fromhex("2B 0E 04 82 00 00 01 05 05") + b"Model"
    assert slave.handle(bytes.fromhex("2B 0E 04 05")) == expected


# ---------------------------------------------------------------------------
# SimulatedBus: addresses, broadcast, checksums, several slaves
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_requests_for_other_addresses_are_ignored(mode: str) -> None:
    bus = spec_bus(mode)
    bus.slaves[SLAVE].holding_registers[1] = 0
    # Slave 1 (not on the bus): write register 1 = 0x2A.
    request = bytes.fromhex("01 06 0001 002A")  # CRC 59 D5, LRC CE
    frame = Exchange("", request, bytes.fromhex("59 D5"), 0xCE, b"", b"", 0).request_frame(mode)
    assert bus(frame) == []
    assert bus.slaves[SLAVE].holding_registers[1] == 0


@pytest.mark.parametrize("mode", MODES)
def test_a_broadcast_write_acts_on_every_slave_without_answer(mode: str) -> None:
    bus = SimulatedBus({address: SimulatedSlave(holding_registers=block(2)) for address in (1, 2)}, mode)
    # Broadcast (address 00): fc 6, register 00 01, value 00 2A.
    request = bytes.fromhex("00 06 0001 002A")  # CRC 58 04, LRC CF
    frame = Exchange("", request, bytes.fromhex("58 04"), 0xCF, b"", b"", 0).request_frame(mode)
    assert bus(frame) == []
    assert [slave.holding_registers[1] for slave in bus.slaves.values()] == [0x2A, 0x2A]


def test_a_broadcast_read_is_ignored() -> None:
    slave = SimulatedSlave(holding_registers=block(2))
    bus = SimulatedBus({1: slave})
    # Broadcast fc 3: not a write, so nothing acts (but it is counted).
    request = bytes.fromhex("00 03 0000 0001")
    assert bus(request + simulator.crc16(request).to_bytes(2, "little")) == []
    assert slave.comm_events == [0xC0]  # received broadcast, nothing sent
    assert slave.event_counter == 0


@pytest.mark.parametrize(
    "frame",
    [
        bytes.fromhex("11 06 0001 002A 5B 46"),  # CRC 5B 45 with its high byte wrong
        bytes.fromhex("11 06 0001 002B 5B 45"),  # a data bit flipped
        bytes.fromhex("11 06 0001 002A 5B"),  # CRC cut short
        bytes.fromhex("11 06 45"),  # 3 bytes: shorter than any frame
        b"",
    ],
    ids=["bad-crc", "flipped-bit", "cut-short", "too-short", "empty"],
)
def test_rtu_frames_with_a_bad_checksum_are_ignored(frame: bytes) -> None:
    bus = spec_bus()
    assert bus(frame) == []
    assert bus.slaves[SLAVE].holding_registers[1] == 0
    assert bus.slaves[SLAVE].counters[DiagnosticCounter.BUS_COMMUNICATION_ERROR] == 1


@pytest.mark.parametrize(
    "frame",
    [
        b":11060001002ABF\r\n",  # LRC BE is right, BF is wrong
        b"11060001002ABE\r\n",  # no colon
        b":11060001002ABE\n",  # no CR
        b":11060001002AB\r\n",  # odd number of digits
        b":11060001002AXY\r\n",  # not hex
        b":11 06 00 01 00 2A BE\r\n",  # spaces
        b":11EF\r\n",  # 2 bytes: no function code
    ],
    ids=["bad-lrc", "no-colon", "no-cr", "odd-digits", "not-hex", "spaces", "too-short"],
)
def test_ascii_frames_with_a_bad_checksum_or_framing_are_ignored(frame: bytes) -> None:
    bus = spec_bus(simulator.MODE_ASCII)
    assert bus(frame) == []
    assert bus.slaves[SLAVE].holding_registers[1] == 0
    assert bus(b":11060001002ABE\r\n") == [(0.0, b":11060001002ABE\r\n")]  # the good one


def test_several_slaves_answer_for_themselves() -> None:
    bus = SimulatedBus({address: SimulatedSlave(holding_registers={7: 100 * address}) for address in (1, 2)})
    # Slave 1, fc 3, register 00 07, 1 register -> 00 64 (100)
    assert bus(bytes.fromhex("01 03 0007 0001 35CB")) == [(0.0, bytes.fromhex("01 03 02 0064 B9AF"))]
    # Slave 2, same request -> 00 C8 (200)
    assert bus(bytes.fromhex("02 03 0007 0001 35F8")) == [(0.0, bytes.fromhex("02 03 02 00C8 FDD2"))]


def test_slaves_can_be_added_later() -> None:
    bus = SimulatedBus()
    assert bus(bytes.fromhex("01 03 0007 0001 35CB")) == []
    bus.slaves[1] = SimulatedSlave(holding_registers={7: 100})
    assert bus(bytes.fromhex("01 03 0007 0001 35CB")) == [(0.0, bytes.fromhex("01 03 02 0064 B9AF"))]


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------

# The fc 3 exchange of the table, in RTU: slave 17, fc 3, start 00 6B, 3
# registers, CRC 76 87 -> byte count 06, 02 2B, 00 00, 00 64, CRC C8 BA.
READ_REQUEST = bytes.fromhex("11 03 006B 0003 7687")
READ_RESPONSE = bytes.fromhex("11 03 06 022B 0000 0064 C8BA")


def read_exchange() -> Exchange:
    """The fc 3 exchange of the table (READ_REQUEST and READ_RESPONSE in RTU)."""
    return exchange_named("fc03 read holding registers")


def test_the_read_frames_are_those_of_the_table() -> None:
    assert read_exchange().request_frame(simulator.MODE_RTU) == READ_REQUEST
    assert read_exchange().response_frame(simulator.MODE_RTU) == READ_RESPONSE


def test_no_answer_loses_only_the_answer() -> None:
    bus = spec_bus()
    bus.inject(Fault.NO_ANSWER)
    write = exchange_named("fc06 write single register")
    assert bus(write.request_frame(simulator.MODE_RTU)) == []
    assert bus.slaves[SLAVE].holding_registers[1] == 3  # the slave did act
    assert bus(READ_REQUEST) == [(0.0, READ_RESPONSE)]  # one request only


@pytest.mark.parametrize(
    ("mode", "corrupted"),
    [
        # CRC C8 BA with its high byte inverted: C8 45
        (simulator.MODE_RTU, bytes.fromhex("11 03 06 022B 0000 0064 C845")),
        # LRC 55 inverted: AA
        (simulator.MODE_ASCII, b":110306022B00000064AA\r\n"),
    ],
)
def test_bad_checksum(mode: str, corrupted: bytes) -> None:
    bus = spec_bus(mode)
    bus.inject(Fault.BAD_CHECKSUM)
    assert bus(read_exchange().request_frame(mode)) == [(0.0, corrupted)]


def test_delay() -> None:
    bus = spec_bus()
    bus.inject(Fault.DELAY, count=2)
    assert bus(READ_REQUEST) == [(0.1, READ_RESPONSE)]
    bus.delay_seconds = 1.5
    assert bus(READ_REQUEST) == [(1.5, READ_RESPONSE)]
    assert bus(READ_REQUEST) == [(0.0, READ_RESPONSE)]


def test_split() -> None:
    bus = spec_bus()
    bus.split_gap_seconds = 0.25
    bus.inject(Fault.SPLIT)
    assert bus(READ_REQUEST) == [
        (0.0, bytes.fromhex("11 03 06")),
        (0.25, bytes.fromhex("02 2B 00")),
        (0.5, bytes.fromhex("00 00 64")),
        (0.75, bytes.fromhex("C8 BA")),
    ]
    bus.split_bytes = 6
    bus.inject(Fault.SPLIT)
    assert bus(READ_REQUEST) == [(0.0, READ_RESPONSE[:6]), (0.25, READ_RESPONSE[6:])]


def test_noise() -> None:
    bus = spec_bus()
    bus.inject(Fault.NOISE, count=2)
    assert bus(READ_REQUEST) == [(0.0, b"\x00\xff" + READ_RESPONSE)]
    bus.noise_bytes = b"\x55"
    assert bus(READ_REQUEST) == [(0.0, b"\x55" + READ_RESPONSE)]


def test_local_echo() -> None:
    bus = spec_bus()
    bus.inject(Fault.LOCAL_ECHO, count=2)
    assert bus(READ_REQUEST) == [(0.0, READ_REQUEST), (0.0, READ_RESPONSE)]
    # The adapter echoes also what nobody answers: slave 1 is not on the bus.
    assert bus(bytes.fromhex("01 03 0007 0001 35CB")) == [(0.0, bytes.fromhex("01 03 0007 0001 35CB"))]


@pytest.mark.parametrize(
    ("mode", "wrong"),
    [
        # From slave 18 (0x12) instead of 17, with a valid CRC DC 4A.
        (simulator.MODE_RTU, bytes.fromhex("12 03 06 022B 0000 0064 DC4A")),
        # LRC 54
        (simulator.MODE_ASCII, b":120306022B0000006454\r\n"),
    ],
)
def test_wrong_address(mode: str, wrong: bytes) -> None:
    bus = spec_bus(mode)
    bus.inject(Fault.WRONG_ADDRESS)
    assert bus(read_exchange().request_frame(mode)) == [(0.0, wrong)]


def test_wrong_address_after_255_is_1() -> None:
    bus = SimulatedBus({255: SimulatedSlave(exception_status=1)})
    bus.inject(Fault.WRONG_ADDRESS)
    # Slave 255 (FF), fc 7
    (chunk,) = bus(bytes.fromhex("FF 07") + crc16_bitwise(bytes.fromhex("FF 07")).to_bytes(2, "little"))
    assert chunk[1][:3] == bytes.fromhex("01 07 01")
    assert crc16_bitwise(chunk[1]) == 0


def test_slave_at_a_reserved_address_answers() -> None:
    # 248..255 are reserved (Serial Line §2.2), but devices use them: 0xF8 on PZEM meters
    bus = SimulatedBus({0xF8: SimulatedSlave(exception_status=0x6D)})
    request = bytes.fromhex("F8 07") + crc16_bitwise(bytes.fromhex("F8 07")).to_bytes(2, "little")
    (chunk,) = bus(request)
    assert chunk[1][:3] == bytes.fromhex("F8 07 6D")
    assert crc16_bitwise(chunk[1]) == 0


def test_faults_add_up() -> None:
    bus = spec_bus()
    bus.split_bytes, bus.split_gap_seconds, bus.delay_seconds = 5, 0.25, 1.0
    for fault in (Fault.LOCAL_ECHO, Fault.DELAY, Fault.NOISE, Fault.SPLIT):
        bus.inject(fault)
    assert bus(READ_REQUEST) == [
        (0.0, READ_REQUEST),
        (1.0, bytes.fromhex("00 FF 11 03 06")),
        (1.25, bytes.fromhex("02 2B 00 00 00")),
        (1.5, bytes.fromhex("64 C8 BA")),
    ]


def test_injected_faults_are_taken_by_every_request_even_ignored_ones() -> None:
    bus = spec_bus()
    bus.inject(Fault.NO_ANSWER)
    assert bus(READ_REQUEST[:-1]) == []  # cut short: ignored, and takes the fault
    assert bus(READ_REQUEST) == [(0.0, READ_RESPONSE)]


def test_clear_faults() -> None:
    bus = spec_bus()
    bus.inject(Fault.NO_ANSWER, count=5)
    bus.fault_probability = {Fault.NOISE: 1.0}
    bus.clear_faults()
    assert bus(READ_REQUEST) == [(0.0, READ_RESPONSE)]
    assert bus.fault_probability == {}


def test_a_certain_fault_hits_every_request() -> None:
    bus = spec_bus()
    bus.fault_probability = {Fault.NO_ANSWER: 1.0}
    assert [bus(READ_REQUEST) for _ in range(3)] == [[], [], []]


def test_random_faults_repeat_with_the_same_seed() -> None:
    def outcomes(seed: int) -> list[bool]:
        bus = spec_bus(seed=seed)
        bus.fault_probability = {Fault.NO_ANSWER: 0.5, Fault.NOISE: 0.0}
        return [bus(READ_REQUEST) == [] for _ in range(100)]

    assert outcomes(7) == outcomes(7)
    assert 20 < sum(outcomes(7)) < 80
    assert outcomes(7) != outcomes(8)


def test_no_random_number_is_drawn_without_probabilities() -> None:
    bus = spec_bus(seed=1)
    state = bus.random.getstate()
    bus.fault_probability = {Fault.DELAY: 0}
    bus(READ_REQUEST)
    assert bus.random.getstate() == state


def test_fault_probability_is_checked_and_read_only() -> None:
    bus = spec_bus()
    with pytest.raises(ValueError, match=r"0\.\.1"):
        bus.fault_probability = {Fault.DELAY: 1.5}
    with pytest.raises(TypeError, match="Fault"):
        bus.fault_probability = {"delay": 0.5}  # type: ignore[dict-item]
    bus.fault_probability = {Fault.DELAY: 0.5}
    with pytest.raises(TypeError):
        bus.fault_probability[Fault.NOISE] = 1.0
    assert bus.fault_probability == {Fault.DELAY: 0.5}


def test_inject_checks_its_arguments() -> None:
    bus = spec_bus()
    with pytest.raises(TypeError, match="Fault"):
        bus.inject("no answer")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="count"):
        bus.inject(Fault.DELAY, count=0)


# ---------------------------------------------------------------------------
# dummy_serial.Serial backed by a bus
# ---------------------------------------------------------------------------


def test_a_port_answers_through_its_bus(clock: FakeClock) -> None:
    port = dummy_serial.Serial(port=PORTNAME, timeout=TIMEOUT)
    port.responder = spec_bus()
    port.write(READ_REQUEST)
    assert port.read(len(READ_RESPONSE)) == READ_RESPONSE
    assert port.requests == [READ_REQUEST]
    assert clock.sleeps == []


def test_a_delayed_answer_comes_after_the_timeout(clock: FakeClock) -> None:
    port = dummy_serial.Serial(port=PORTNAME, timeout=TIMEOUT)
    port.responder = bus = spec_bus()
    bus.inject(Fault.DELAY)
    port.write(READ_REQUEST)
    assert port.read(len(READ_RESPONSE)) == b""  # at 0.05 s
    assert port.read(len(READ_RESPONSE)) == READ_RESPONSE  # at 0.1 s
    assert clock.sleeps == [TIMEOUT, 0.1 - TIMEOUT]


def test_a_split_answer_is_read_as_it_arrives(clock: FakeClock) -> None:
    port = dummy_serial.Serial(port=PORTNAME, timeout=1.0)
    port.responder = bus = spec_bus()
    bus.split_gap_seconds = 0.25
    bus.inject(Fault.SPLIT)
    port.write(READ_REQUEST)
    assert port.read(4) == READ_RESPONSE[:4]  # the 4th byte comes at 0.25 s
    assert port.read(100) == READ_RESPONSE[4:]  # then waits out the timeout
    assert clock.sleeps == [0.25, 1.0]


def test_module_responder_is_taken_by_new_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    earlier = dummy_serial.Serial(port=PORTNAME, timeout=TIMEOUT)
    bus = spec_bus()
    monkeypatch.setattr(dummy_serial, "RESPONDER", bus)
    port = dummy_serial.Serial(port=PORTNAME, timeout=TIMEOUT)
    assert port.responder is bus
    assert earlier.responder is None
    port.write(READ_REQUEST)
    assert port.read(len(READ_RESPONSE)) == READ_RESPONSE


def test_without_responder_ports_answer_from_recordings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dummy_serial, "RESPONSES", {READ_REQUEST: b"recorded"})
    port = dummy_serial.Serial(port=PORTNAME, timeout=TIMEOUT)
    assert port.responder is None
    port.write(READ_REQUEST)
    assert port.read(8) == b"recorded"
    port.write(b"\x01\x02")
    assert port.read(100) == dummy_serial.DEFAULT_RESPONSE


# ---------------------------------------------------------------------------
# MinimalModbus's Instrument against simulated slaves (dummy ports, fake clock)
# ---------------------------------------------------------------------------


@pytest.fixture
def on_bus(dummy: dict[bytes, bytes], monkeypatch: pytest.MonkeyPatch) -> Callable[[SimulatedBus], None]:
    """Make new dummy ports answer through the given bus (dummy_serial installed, fake clock)."""

    def install(bus: SimulatedBus) -> None:
        monkeypatch.setattr(dummy_serial, "RESPONDER", bus)

    return install


@pytest.mark.parametrize("mode", MODES)
def test_every_instrument_method_works_with_a_simulated_slave(
    on_bus: Callable[[SimulatedBus], None], mode: str
) -> None:
    slave = simulator.demo_slave()
    on_bus(SimulatedBus({1: slave}, mode))
    instrument = minimalmodbus.Instrument(PORTNAME, 1, mode=mode)
    assert instrument.read_register(7) == 70
    instrument.write_register(7, 1234)
    assert slave.holding_registers[7] == 1234
    assert instrument.read_registers(0, 3) == [0, 10, 20]
    instrument.write_registers(10, [1, 2, 3])
    assert [slave.holding_registers[address] for address in (10, 11, 12)] == [1, 2, 3]
    assert instrument.read_bit(1, functioncode=1) == 1
    instrument.write_bit(0, 1)
    assert slave.coils[0] == 1
    assert instrument.read_bits(0, 4, functioncode=2) == [0, 1, 0, 1]
    instrument.write_bits(20, [1, 1, 0])
    assert [slave.coils[address] for address in (20, 21, 22)] == [1, 1, 0]
    instrument.write_long(30, 0x12345678)
    assert instrument.read_long(30) == 0x12345678
    instrument.write_float(40, 2.5)
    assert instrument.read_float(40) == 2.5
    instrument.write_string(50, "HELLO", 3)
    assert instrument.read_string(50, 3) == "HELLO "
    assert instrument.read_exception_status() == 0x55
    assert instrument.diagnostics(0, 0xA537) == 0xA537
    assert instrument.diagnostics(14) == slave.counters[DiagnosticCounter.SLAVE_MESSAGE]
    assert instrument.read_comm_event_counter() == (0, slave.event_counter)  # fc 11 not counted
    assert instrument.read_comm_event_log().message_count == slave.counters[DiagnosticCounter.BUS_MESSAGE]
    assert instrument.report_slave_id() == b"\x01\xffdummy_serial"
    instrument.write_file_record(1, 5, [7, 8])
    assert instrument.read_file_record(1, 5, 2) == [7, 8]
    instrument.mask_write_register(60, 0x00F2, 0x0025)  # (0x0258 AND 0x00F2) OR (0x0025 AND 0xFF0D)
    assert slave.holding_registers[60] == 0x0055
    assert instrument.read_write_registers(70, 2, 70, [9, 9]) == [9, 9]
    assert instrument.read_fifo_queue(0) == [1, 2, 3]
    assert instrument.read_device_identification(3) == slave.device_identification
    assert instrument.read_device_identification(4, 1) == {1: b"dummy_serial"}
    assert instrument.perform_command(3, bytes.fromhex("0009 0001")) == bytes.fromhex("02 005A")


def test_instrument_reads_identification_in_several_responses(on_bus: Callable[[SimulatedBus], None]) -> None:
    objects = {object_id: bytes([65 + object_id]) * 100 for object_id in range(7)}
    on_bus(SimulatedBus({1: SimulatedSlave(device_identification=objects)}))
    instrument = minimalmodbus.Instrument(PORTNAME, 1)
    assert instrument.read_device_identification(2) == objects


def test_instrument_reports_the_exception_codes(on_bus: Callable[[SimulatedBus], None]) -> None:
    on_bus(SimulatedBus({1: simulator.demo_slave()}))
    instrument = minimalmodbus.Instrument(PORTNAME, 1)
    with pytest.raises(minimalmodbus.IllegalRequestError, match="exception code 1"):
        instrument.perform_command(0x41, b"")
    with pytest.raises(minimalmodbus.IllegalRequestError, match="exception code 2"):
        instrument.read_register(100)
    with pytest.raises(minimalmodbus.IllegalRequestError, match="exception code 3"):
        instrument.perform_command(3, bytes.fromhex("0000 0000"))


def test_instrument_broadcast_reaches_every_slave(on_bus: Callable[[SimulatedBus], None]) -> None:
    bus = SimulatedBus({1: simulator.demo_slave(), 2: simulator.demo_slave()})
    on_bus(bus)
    minimalmodbus.Instrument(PORTNAME, 0).write_register(5, 555)
    assert [slave.holding_registers[5] for slave in bus.slaves.values()] == [555, 555]


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.NO_ANSWER, minimalmodbus.NoResponseError),
        (Fault.DELAY, minimalmodbus.NoResponseError),
        (Fault.BAD_CHECKSUM, minimalmodbus.InvalidResponseError),
        (Fault.WRONG_ADDRESS, minimalmodbus.InvalidResponseError),
    ],
)
def test_instrument_sees_faults_and_recovers(
    on_bus: Callable[[SimulatedBus], None], fault: Fault, error: type[Exception]
) -> None:
    bus = SimulatedBus({1: simulator.demo_slave()})
    on_bus(bus)
    instrument = minimalmodbus.Instrument(PORTNAME, 1)
    bus.inject(fault)
    with pytest.raises(error):
        instrument.read_register(7)
    assert instrument.read_register(7) == 70  # late bytes of a delayed answer are drained
    bus.inject(fault)
    instrument.retries = 1
    assert instrument.read_register(8) == 80


@pytest.mark.parametrize("fault", [Fault.NOISE, Fault.SPLIT])
def test_instrument_reads_through_noise_and_split_answers(
    on_bus: Callable[[SimulatedBus], None], fault: Fault
) -> None:
    bus = SimulatedBus({1: simulator.demo_slave()})
    on_bus(bus)
    bus.inject(fault)
    instrument = minimalmodbus.Instrument(PORTNAME, 1)
    assert instrument.read_registers(0, 10) == [10 * address for address in range(10)]


def test_instrument_handles_a_local_echo(on_bus: Callable[[SimulatedBus], None]) -> None:
    bus = SimulatedBus({1: simulator.demo_slave()})
    on_bus(bus)
    bus.fault_probability = {Fault.LOCAL_ECHO: 1.0}
    instrument = minimalmodbus.Instrument(PORTNAME, 1)
    instrument.handle_local_echo = True
    assert instrument.read_register(7) == 70


# ---------------------------------------------------------------------------
# Its room: the standard library and dummy_serial, never the driver
# ---------------------------------------------------------------------------


def test_imports_only_the_standard_library_and_dummy_serial() -> None:
    imported = module_imports(simulator.__file__)
    assert imported & OUR_MODULES == {"dummy_serial"}
    standard_library = getattr(sys, "stdlib_module_names", imported - OUR_MODULES)  # 3.10+
    assert imported - OUR_MODULES <= set(standard_library)


def test_importing_it_loads_neither_minimalmodbus_nor_serial() -> None:
    code = (
        "import sys, minimalmodbus_simulator; print(sorted({'minimalmodbus', 'serial'} & set(sys.modules)))"
    )
    directory = Path(simulator.__file__).parent
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=directory, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_dummy_serial_does_not_import_it() -> None:
    assert "minimalmodbus_simulator" not in module_imports(dummy_serial.__file__)


# ---------------------------------------------------------------------------
# Construction and validation
# ---------------------------------------------------------------------------


def test_block() -> None:
    assert block(3) == {0: 0, 1: 0, 2: 0}
    assert block(2, start=10, value=7) == {10: 7, 11: 7}
    assert block(0) == {}


def test_the_slave_copies_its_maps() -> None:
    registers = {0: 1}
    slave = SimulatedSlave(holding_registers=registers, coils={0: True})
    slave.holding_registers[0] = 2
    assert registers == {0: 1}
    assert slave.coils == {0: 1}


@pytest.mark.parametrize(
    ("keywords", "error"),
    [
        ({"coils": {0: 2}}, ValueError),
        ({"coils": {-1: 0}}, ValueError),
        ({"coils": {"0": 0}}, TypeError),
        ({"discrete_inputs": {65536: 0}}, ValueError),
        ({"holding_registers": {0: 65536}}, ValueError),
        ({"input_registers": {0: 1.5}}, TypeError),
        ({"exception_status": 256}, ValueError),
        ({"slave_id": "text"}, TypeError),
        ({"slave_id": b"x" * 252}, ValueError),
        ({"file_records": {0: {}}}, ValueError),
        ({"file_records": {1: {10000: 0}}}, ValueError),
        ({"fifo_queues": {0: [70000]}}, ValueError),
        ({"device_identification": {256: b""}}, ValueError),
        ({"device_identification": {0: b"x" * 245}}, ValueError),
        ({"device_identification": {0: "text"}}, TypeError),
    ],
)
def test_the_slave_checks_its_maps(keywords: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error, match="Simulator"):
        SimulatedSlave(**keywords)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (({0: SimulatedSlave()},), ValueError),
        (({256: SimulatedSlave()},), ValueError),
        (({1: "slave"},), TypeError),
        (({}, "tcp"), ValueError),
    ],
)
def test_the_bus_checks_its_arguments(arguments: tuple[Any, ...], error: type[Exception]) -> None:
    with pytest.raises(error, match="Simulator"):
        SimulatedBus(*arguments)


def test_the_bus_checks_its_mode_when_set() -> None:
    bus = SimulatedBus()
    bus.mode = simulator.MODE_ASCII
    with pytest.raises(ValueError, match="mode"):
        bus.mode = "RTU"
    assert bus.mode == simulator.MODE_ASCII


def test_the_pty_server_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="SimulatedBus"):
        PtyServer("bus")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="baudrate"):
        PtyServer(SimulatedBus(), baudrate=0)


def test_reprs() -> None:
    assert repr(SimulatedBus({2: SimulatedSlave(), 1: SimulatedSlave()})) == (
        "minimalmodbus_simulator.SimulatedBus<mode='rtu', slaves=[1, 2]>"
    )
    assert "holding_registers=100" in repr(SimulatedSlave(holding_registers=block(100)))
    assert repr(PtyServer(SimulatedBus())) == "minimalmodbus_simulator.PtyServer<path=None, running=False>"


# ---------------------------------------------------------------------------
# PtyServer: a real pseudo-terminal, with a plain os.read / os.write client
# ---------------------------------------------------------------------------

pty_only = pytest.mark.skipif(not hasattr(os, "openpty"), reason="pseudo-terminals are POSIX only")


def open_fds() -> set[str]:
    """This process's open file descriptors (Linux), or an empty set."""
    directory = Path("/proc/self/fd")
    return set(os.listdir(directory)) if directory.is_dir() else set()


def server_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "minimalmodbus_simulator.PtyServer"]


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Check that a pty test leaves no serving thread and no open file descriptor."""
    fds_before = open_fds()
    yield
    assert server_threads() == []
    assert open_fds() == fds_before


@pytest.fixture
def client() -> Iterator[Callable[[str], int]]:
    """Open pty devices as a master would; close them afterwards."""
    fds: list[int] = []

    def open_device(path: str) -> int:
        fds.append(os.open(path, os.O_RDWR | os.O_NOCTTY))
        return fds[-1]

    yield open_device
    for fd in fds:
        os.close(fd)


def read_bytes(fd: int, count: int, timeout: float = PTY_WAIT) -> bytes:
    """Read up to ``count`` bytes, as they arrive, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    received = b""
    while len(received) < count:
        readable, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not readable:
            break
        received += os.read(fd, count - len(received))
    return received


@pty_only
@pytest.mark.usefixtures("no_leaks")
@pytest.mark.parametrize("mode", MODES)
def test_pty_round_trip(client: Callable[[str], int], mode: str) -> None:
    with PtyServer(spec_bus(mode)) as server:
        assert server.is_running
        assert len(server_threads()) == 1
        fd = client(server.path)
        for entry in (read_exchange(), exchange_named("fc16 write multiple registers"), read_exchange()):
            os.write(fd, entry.request_frame(mode))
            assert read_bytes(fd, len(entry.response_frame(mode))) == entry.response_frame(mode)
    assert not server.is_running


@pty_only
@pytest.mark.usefixtures("no_leaks")
def test_pty_frames_of_unknown_length_end_with_silence(client: Callable[[str], int]) -> None:
    with PtyServer(spec_bus()) as server:
        fd = client(server.path)
        # fc 0x41 (unknown): slave 17, 41, CRC CD D0 -> exception 1: 11 C1 01, CRC B1 95.
        os.write(fd, bytes.fromhex("11 41 CDD0"))
        assert read_bytes(fd, 5) == bytes.fromhex("11 C1 01 B195")
        # fc 8, sub-function 0 with 4 data bytes (varying length): echoed.
        request = bytes.fromhex("11 08 0000 A537 1234 977E")
        os.write(fd, request)
        assert read_bytes(fd, len(request)) == request


@pty_only
@pytest.mark.usefixtures("no_leaks")
def test_pty_frames_of_known_length_wait_for_their_last_byte(client: Callable[[str], int]) -> None:
    with PtyServer(spec_bus()) as server:
        fd = client(server.path)
        os.write(fd, READ_REQUEST[:3])
        time.sleep(0.01)  # longer than the 2 ms silence: the length is known
        os.write(fd, READ_REQUEST[3:])
        assert read_bytes(fd, len(READ_RESPONSE)) == READ_RESPONSE


@pty_only
@pytest.mark.usefixtures("no_leaks")
def test_pty_ascii_skips_noise_before_the_colon(client: Callable[[str], int]) -> None:
    with PtyServer(spec_bus(simulator.MODE_ASCII)) as server:
        fd = client(server.path)
        os.write(fd, b"\x00noise\r\n" + b"xx" + read_exchange().request_frame(simulator.MODE_ASCII))
        expected = read_exchange().response_frame(simulator.MODE_ASCII)
        assert read_bytes(fd, len(expected)) == expected


@pty_only
@pytest.mark.usefixtures("no_leaks")
def test_pty_faults_delay_for_real(client: Callable[[str], int]) -> None:
    bus = spec_bus()
    bus.delay_seconds = 0.05
    with PtyServer(bus) as server:
        fd = client(server.path)
        bus.inject(Fault.DELAY)
        bus.inject(Fault.NOISE)
        start = time.monotonic()
        os.write(fd, READ_REQUEST)
        assert read_bytes(fd, 2 + len(READ_RESPONSE)) == b"\x00\xff" + READ_RESPONSE
        assert time.monotonic() - start >= 0.05


@pty_only
@pytest.mark.usefixtures("no_leaks")
def test_pty_stop_does_not_wait_for_a_delayed_answer(client: Callable[[str], int]) -> None:
    bus = spec_bus()
    bus.delay_seconds = 60.0
    server = PtyServer(bus)
    server.start()
    fd = client(server.path)
    bus.inject(Fault.DELAY)
    os.write(fd, READ_REQUEST)
    time.sleep(0.01)
    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < 1.0


@pty_only
@pytest.mark.usefixtures("no_leaks")
def test_pty_server_lifecycle(client: Callable[[str], int]) -> None:
    server = PtyServer(spec_bus())
    with pytest.raises(RuntimeError, match="not started"):
        server.path  # noqa: B018
    server.stop()  # not started: nothing to do
    server.start()
    with pytest.raises(RuntimeError, match="already started"):
        server.start()
    server.stop()
    server.stop()
    server.start()  # again, on a new pseudo-terminal
    fd = client(server.path)
    os.write(fd, READ_REQUEST)
    assert read_bytes(fd, len(READ_RESPONSE)) == READ_RESPONSE
    server.stop()
    assert server.error is None


@pty_only
@pytest.mark.usefixtures("no_leaks")
def test_pty_server_that_fails_to_start_closes_what_it_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_name(fd: int) -> str:
        raise OSError("no name")

    monkeypatch.setattr(os, "ttyname", no_name)
    server = PtyServer(spec_bus())
    with pytest.raises(OSError, match="no name"):
        server.start()
    assert not server.is_running


def test_pty_server_needs_pseudo_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "openpty", raising=False)
    with pytest.raises(OSError, match="POSIX"):
        PtyServer(spec_bus()).start()


@pty_only
@pytest.mark.usefixtures("no_leaks")
def test_pty_serves_minimalmodbus_through_pyserial() -> None:
    with PtyServer(SimulatedBus({1: simulator.demo_slave()})) as server:
        instrument = minimalmodbus.Instrument(server.path, 1)
        try:
            assert instrument.read_register(7) == 70
            instrument.write_registers(0, [5, 6])
            assert instrument.read_registers(0, 2) == [5, 6]
        finally:
            instrument.serial.close()
            minimalmodbus.forget_ports()


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


@pty_only
def test_command_line_serves_until_ctrl_c() -> None:
    command = [sys.executable, "-m", "minimalmodbus_simulator", "--pty", "--slave", "1", "--slave", "2"]
    process = subprocess.Popen(
        command,
        cwd=Path(simulator.__file__).parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 10.0)
        assert ready, "no path printed"
        line = process.stdout.readline().decode()
        match = re.fullmatch(r"Simulated slave\(s\) 1, 2 on (\S+) \(rtu\)\. Press Ctrl-C to stop\.\n", line)
        assert match, line
        fd = os.open(match.group(1), os.O_RDWR | os.O_NOCTTY)
        try:
            # Slave 2, fc 3, register 00 07, 1 register -> 00 46 (70)
            os.write(fd, bytes.fromhex("02 03 0007 0001 35F8"))
            assert read_bytes(fd, 7) == bytes.fromhex("02 03 02 0046 7DB6")
        finally:
            os.close(fd)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert process.stderr is not None
        assert process.stderr.read() == b""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_command_line_help_describes_the_slaves(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        simulator.main(["--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--slave ADDRESS" in help_text
    assert "Holding registers 0..99 hold 10 x the address" in help_text
    assert "it opens no network socket" in " ".join(help_text.split())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "give one of --pty"),
        (["--pty", "--tcp", "127.0.0.1:0"], "give one of --pty"),
        (["--tcp", "1502"], "HOST:PORT"),
        (["--pty", "--slave", "256"], "1..255"),
        (["--pty", "--slave", "one"], "1..255"),
        (["--pty", "--mode", "tcp"], "invalid choice"),
        (["--pty", "--baudrate", "0"], "baud rate"),
    ],
)
def test_command_line_rejects_bad_arguments(
    capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        simulator.main(arguments)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Frames: one exchange per function code, slave 17 (0x11), the data of the
# specification's examples (Application Protocol V1.1b3 §6). Content is
# slave address, function code, data; then CRC (low byte first) and LRC.
# ---------------------------------------------------------------------------

EXCHANGES = [
    Exchange(
        "fc01 read coils",
        # §6.1 example: read coils 20..38, i.e. start 00 13, quantity 00 13 (19).
        bytes.fromhex("11 01 0013 0013"),
        bytes.fromhex("8E92"),
        0xC8,
        # Byte count 03; coils 27..20 = CD, 35..28 = 6B, 38..36 = 05.
        bytes.fromhex("11 01 03 CD 6B 05"),
        bytes.fromhex("4012"),
        0xAE,
    ),
    Exchange(
        "fc02 read discrete inputs",
        # §6.2 example: start 00 C4 (196), quantity 00 16 (22).
        bytes.fromhex("11 02 00C4 0016"),
        bytes.fromhex("BAA9"),
        0x13,
        # Byte count 03; inputs AC, DB, 35 (the last 2 high bits 0).
        bytes.fromhex("11 02 03 AC DB 35"),
        bytes.fromhex("2018"),
        0x2E,
    ),
    Exchange(
        "fc03 read holding registers",
        # §6.3 example: start 00 6B (107), quantity 00 03.
        bytes.fromhex("11 03 006B 0003"),
        bytes.fromhex("7687"),
        0x7E,
        # Byte count 06; registers 02 2B, 00 00, 00 64.
        bytes.fromhex("11 03 06 022B 0000 0064"),
        bytes.fromhex("C8BA"),
        0x55,
    ),
    Exchange(
        "fc04 read input registers",
        # §6.4 example: start 00 08, quantity 00 01.
        bytes.fromhex("11 04 0008 0001"),
        bytes.fromhex("B298"),
        0xE2,
        # Byte count 02; register 00 0A.
        bytes.fromhex("11 04 02 000A"),
        bytes.fromhex("F8F4"),
        0xDF,
    ),
    Exchange(
        "fc05 write single coil",
        # §6.5 example: coil 00 AC (172), value FF 00 (on).
        bytes.fromhex("11 05 00AC FF00"),
        bytes.fromhex("4E8B"),
        0x3F,
        # Echo.
        bytes.fromhex("11 05 00AC FF00"),
        bytes.fromhex("4E8B"),
        0x3F,
        (lambda slave: slave.coils[172], 0, 1),
    ),
    Exchange(
        "fc06 write single register",
        # §6.6 example: register 00 01, value 00 03.
        bytes.fromhex("11 06 0001 0003"),
        bytes.fromhex("9A9B"),
        0xE5,
        # Echo.
        bytes.fromhex("11 06 0001 0003"),
        bytes.fromhex("9A9B"),
        0xE5,
        (lambda slave: slave.holding_registers[1], 0, 3),
    ),
    Exchange(
        "fc07 read exception status",
        # §6.7 example: no data.
        bytes.fromhex("11 07"),
        bytes.fromhex("4C22"),
        0xE8,
        # Status 6D.
        bytes.fromhex("11 07 6D"),
        bytes.fromhex("E218"),
        0x7B,
    ),
    Exchange(
        "fc08 diagnostics return query data",
        # §6.8 example: sub-function 00 00, data A5 37.
        bytes.fromhex("11 08 0000 A537"),
        bytes.fromhex("D81D"),
        0x0B,
        # Echo.
        bytes.fromhex("11 08 0000 A537"),
        bytes.fromhex("D81D"),
        0x0B,
    ),
    Exchange(
        "fc11 get comm event counter",
        # §6.9: no data.
        bytes.fromhex("11 0B"),
        bytes.fromhex("4C27"),
        0xE4,
        # Status 00 00 (ready; the example's FF FF is busy), event count 01 08.
        bytes.fromhex("11 0B 0000 0108"),
        bytes.fromhex("A6CD"),
        0xDB,
    ),
    Exchange(
        "fc12 get comm event log",
        # §6.10: no data.
        bytes.fromhex("11 0C"),
        bytes.fromhex("0DE5"),
        0xE3,
        # Byte count 09, status 00 00, event count 01 08, message count 01 21
        # (0x120 + this request), events: 80 (this request received), 20 00.
        bytes.fromhex("11 0C 09 0000 0108 0121 80 20 00"),
        bytes.fromhex("891D"),
        0x0F,
    ),
    Exchange(
        "fc15 write multiple coils",
        # §6.11 example: start 00 13 (20th coil), quantity 00 0A, byte count 02, CD 01.
        bytes.fromhex("11 0F 0013 000A 02 CD01"),
        bytes.fromhex("BF0B"),
        0xF3,
        # Start 00 13, quantity 00 0A.
        bytes.fromhex("11 0F 0013 000A"),
        bytes.fromhex("2699"),
        0xC3,
        (
            lambda slave: [slave.coils[address] for address in range(19, 29)],
            [1, 0, 1, 1, 0, 0, 1, 1, 1, 1],  # CD, then 6B's first two bits
            [1, 0, 1, 1, 0, 0, 1, 1, 1, 0],  # CD, then 01's first two bits
        ),
    ),
    Exchange(
        "fc16 write multiple registers",
        # §6.12 example: start 00 01, quantity 00 02, byte count 04, 00 0A, 01 02.
        bytes.fromhex("11 10 0001 0002 04 000A 0102"),
        bytes.fromhex("C6F0"),
        0xCB,
        # Start 00 01, quantity 00 02.
        bytes.fromhex("11 10 0001 0002"),
        bytes.fromhex("1298"),
        0xDC,
        (lambda slave: [slave.holding_registers[1], slave.holding_registers[2]], [0, 0], [0x000A, 0x0102]),
    ),
    Exchange(
        "fc17 report slave id",
        # §6.13: no data.
        bytes.fromhex("11 11"),
        bytes.fromhex("CDEC"),
        0xDE,
        # Byte count 05, slave id 2A, run indicator FF (on), "SIM".
        bytes.fromhex("11 11 05 2A FF 53494D"),
        bytes.fromhex("AFF9"),
        0xC7,
    ),
    Exchange(
        "fc20 read file record",
        # §6.14 example: byte count 0E; reference type 06, file 00 04, record
        # 00 01, length 00 02; reference type 06, file 00 03, record 00 09,
        # length 00 02.
        bytes.fromhex("11 14 0E 06 0004 0001 0002 06 0003 0009 0002"),
        bytes.fromhex("F938"),
        0xAC,
        # Data length 0C; sub-response length 05, type 06, 0D FE, 00 20;
        # sub-response length 05, type 06, 33 CD, 00 40.
        bytes.fromhex("11 14 0C 05 06 0DFE 0020 05 06 33CD 0040"),
        bytes.fromhex("69AD"),
        0x4E,
    ),
    Exchange(
        "fc21 write file record",
        # §6.15 example: data length 0D; reference type 06, file 00 04,
        # record 00 07, length 00 03, data 06 AF, 04 BE, 10 0D.
        bytes.fromhex("11 15 0D 06 0004 0007 0003 06AF 04BE 100D"),
        bytes.fromhex("DBC7"),
        0x25,
        # Echo.
        bytes.fromhex("11 15 0D 06 0004 0007 0003 06AF 04BE 100D"),
        bytes.fromhex("DBC7"),
        0x25,
        (
            lambda slave: [slave.file_records[4][record] for record in (7, 8, 9)],
            [0, 0, 0],
            [0x06AF, 0x04BE, 0x100D],
        ),
    ),
    Exchange(
        "fc22 mask write register",
        # §6.16 example's masks (AND 00 F2, OR 00 25) and value 0x12, at register 00 14 (20).
        bytes.fromhex("11 16 0014 00F2 0025"),
        bytes.fromhex("A721"),
        0xAE,
        # Echo.
        bytes.fromhex("11 16 0014 00F2 0025"),
        bytes.fromhex("A721"),
        0xAE,
        (lambda slave: slave.holding_registers[20], 0x12, 0x17),  # (12 AND F2) OR (25 AND NOT F2)
    ),
    Exchange(
        "fc23 read write registers",
        # §6.17 example: read start 00 03, quantity 00 06; write start 00 0E,
        # quantity 00 03, byte count 06, 00 FF, 00 FF, 00 FF.
        bytes.fromhex("11 17 0003 0006 000E 0003 06 00FF 00FF 00FF"),
        bytes.fromhex("4B54"),
        0xBB,
        # Byte count 0C; registers 00 FE, 0A CD, 00 01, 00 03, 00 0D, 00 FF.
        bytes.fromhex("11 17 0C 00FE 0ACD 0001 0003 000D 00FF"),
        bytes.fromhex("0D75"),
        0xE7,
        (lambda slave: [slave.holding_registers[address] for address in (14, 15, 16)], [0, 0, 0], [0xFF] * 3),
    ),
    Exchange(
        "fc24 read fifo queue",
        # §6.18 example: FIFO pointer address 04 DE.
        bytes.fromhex("11 18 04DE"),
        bytes.fromhex("0787"),
        0xF5,
        # Byte count 00 06, FIFO count 00 02, 01 B8, 12 84.
        bytes.fromhex("11 18 0006 0002 01B8 1284"),
        bytes.fromhex("188D"),
        0x80,
    ),
    Exchange(
        "fc43 read device identification",
        # §6.21 example: MEI type 0E, read code 01 (basic), object 00.
        bytes.fromhex("11 2B 0E 01 00"),
        bytes.fromhex("B1B4"),
        0xB5,
        # MEI 0E, read code 01, conformity 81, more follows 00, next object
        # 00, 3 objects: 00 (22 bytes), 01 (15 bytes), 02 (5 bytes).
        bytes.fromhex("11 2B 0E 01 81 00 00 03")
        + b"\x00\x16Company identification"
        + b"\x01\x0fProduct code XX"
        + b"\x02\x05V2.11",
        bytes.fromhex("A9D8"),
        0xBF,
    ),
]

EXCEPTION_EXCHANGES = [
    Exchange(
        "fc65 unknown function code: 1",
        bytes.fromhex("11 41"),
        bytes.fromhex("CDD0"),
        0xAE,
        bytes.fromhex("11 C1 01"),
        bytes.fromhex("B195"),
        0x2D,
    ),
    Exchange(
        "fc01 quantity 2001: 3",
        bytes.fromhex("11 01 0000 07D1"),
        bytes.fromhex("FCF6"),
        0x16,
        bytes.fromhex("11 81 03"),
        bytes.fromhex("0194"),
        0x6B,
    ),
    Exchange(
        "fc02 missing input 256: 2",
        bytes.fromhex("11 02 0100 0001"),
        bytes.fromhex("BAA6"),
        0xEB,
        bytes.fromhex("11 82 02"),
        bytes.fromhex("C0A4"),
        0x6B,
    ),
    Exchange(
        "fc03 missing register 120: 2",
        bytes.fromhex("11 03 0078 0001"),
        bytes.fromhex("0683"),
        0x73,
        bytes.fromhex("11 83 02"),
        bytes.fromhex("C134"),
        0x6A,
    ),
    Exchange(
        "fc03 range 118..120 partly missing: 2",
        bytes.fromhex("11 03 0076 0003"),
        bytes.fromhex("E681"),
        0x73,
        bytes.fromhex("11 83 02"),
        bytes.fromhex("C134"),
        0x6A,
    ),
    Exchange(
        "fc03 quantity 0: 3",
        bytes.fromhex("11 03 0000 0000"),
        bytes.fromhex("475A"),
        0xEC,
        bytes.fromhex("11 83 03"),
        bytes.fromhex("00F4"),
        0x69,
    ),
    Exchange(
        "fc03 quantity 126: 3",
        bytes.fromhex("11 03 0000 007E"),
        bytes.fromhex("C77A"),
        0x6E,
        bytes.fromhex("11 83 03"),
        bytes.fromhex("00F4"),
        0x69,
    ),
    Exchange(
        "fc04 missing input register 10: 2",
        bytes.fromhex("11 04 000A 0001"),
        bytes.fromhex("1358"),
        0xE0,
        bytes.fromhex("11 84 02"),
        bytes.fromhex("C304"),
        0x69,
    ),
    Exchange(
        "fc05 value 12 34: 3",
        bytes.fromhex("11 05 00AC 1234"),
        bytes.fromhex("020C"),
        0xF8,
        bytes.fromhex("11 85 03"),
        bytes.fromhex("0354"),
        0x67,
    ),
    Exchange(
        "fc05 missing coil 200: 2",
        bytes.fromhex("11 05 00C8 FF00"),
        bytes.fromhex("0F54"),
        0x23,
        bytes.fromhex("11 85 02"),
        bytes.fromhex("C294"),
        0x68,
    ),
    Exchange(
        "fc06 missing register 120: 2",
        bytes.fromhex("11 06 0078 0001"),
        bytes.fromhex("CA83"),
        0x70,
        bytes.fromhex("11 86 02"),
        bytes.fromhex("C264"),
        0x67,
    ),
    Exchange(
        "fc07 with a data byte: 3",
        bytes.fromhex("11 07 00"),
        bytes.fromhex("23F5"),
        0xE8,
        bytes.fromhex("11 87 03"),
        bytes.fromhex("0234"),
        0x65,
    ),
    Exchange(
        "fc08 unknown sub-function 3: 1",
        bytes.fromhex("11 08 0003 0000"),
        bytes.fromhex("129B"),
        0xE4,
        bytes.fromhex("11 88 01"),
        bytes.fromhex("8605"),
        0x66,
    ),
    Exchange(
        "fc08 restart with data 12 34: 3",
        bytes.fromhex("11 08 0001 1234"),
        bytes.fromhex("BE2C"),
        0xA0,
        bytes.fromhex("11 88 03"),
        bytes.fromhex("07C4"),
        0x64,
    ),
    Exchange(
        "fc15 byte count 1 for 10 coils: 3",
        bytes.fromhex("11 0F 0013 000A 01 CD"),
        bytes.fromhex("1A0F"),
        0xF5,
        bytes.fromhex("11 8F 03"),
        bytes.fromhex("05F4"),
        0x5D,
    ),
    Exchange(
        "fc16 byte count 3 for 2 registers: 3",
        bytes.fromhex("11 10 0001 0002 03 000A01"),
        bytes.fromhex("43B3"),
        0xCE,
        bytes.fromhex("11 90 03"),
        bytes.fromhex("0DC4"),
        0x5C,
    ),
    Exchange(
        "fc16 fewer bytes than the byte count: 3",
        bytes.fromhex("11 10 0001 0002 04 000A"),
        bytes.fromhex("0A03"),
        0xCE,
        bytes.fromhex("11 90 03"),
        bytes.fromhex("0DC4"),
        0x5C,
    ),
    Exchange(
        "fc20 byte count 8: 3",
        bytes.fromhex("11 14 08 06 0004 0001 0001 00"),
        bytes.fromhex("F09A"),
        0xC7,
        bytes.fromhex("11 94 03"),
        bytes.fromhex("0F04"),
        0x58,
    ),
    Exchange(
        "fc20 missing file 5: 2",
        bytes.fromhex("11 14 07 06 0005 0000 0001"),
        bytes.fromhex("F571"),
        0xC8,
        bytes.fromhex("11 94 02"),
        bytes.fromhex("CEC4"),
        0x59,
    ),
    Exchange(
        "fc20 reference type 5: 2",
        bytes.fromhex("11 14 07 05 0004 0001 0001"),
        bytes.fromhex("AA71"),
        0xC9,
        bytes.fromhex("11 94 02"),
        bytes.fromhex("CEC4"),
        0x59,
    ),
    Exchange(
        "fc21 missing record 10: 2",
        bytes.fromhex("11 15 09 06 0004 000A 0001 0000"),
        bytes.fromhex("6ABC"),
        0xBC,
        bytes.fromhex("11 95 02"),
        bytes.fromhex("CF54"),
        0x58,
    ),
    Exchange(
        "fc22 missing register 120: 2",
        bytes.fromhex("11 16 0078 00F2 0025"),
        bytes.fromhex("3728"),
        0x4A,
        bytes.fromhex("11 96 02"),
        bytes.fromhex("CFA4"),
        0x57,
    ),
    Exchange(
        "fc23 write quantity 122: 3",
        bytes.fromhex("11 17 0003 0006 000E 007A 00"),
        bytes.fromhex("876C"),
        0x47,
        bytes.fromhex("11 97 03"),
        bytes.fromhex("0FF4"),
        0x55,
    ),
    Exchange(
        "fc24 missing queue 05 01: 2",
        bytes.fromhex("11 18 0501"),
        bytes.fromhex("478F"),
        0xD1,
        bytes.fromhex("11 98 02"),
        bytes.fromhex("CBC4"),
        0x55,
    ),
    Exchange(
        "fc24 queue of 32: 3",
        bytes.fromhex("11 18 0500"),
        bytes.fromhex("864F"),
        0xD2,
        bytes.fromhex("11 98 03"),
        bytes.fromhex("0A04"),
        0x54,
    ),
    Exchange(
        "fc43 MEI type 0D: 1",
        bytes.fromhex("11 2B 0D 01 00"),
        bytes.fromhex("41B4"),
        0xB6,
        bytes.fromhex("11 AB 01"),
        bytes.fromhex("9F35"),
        0x43,
    ),
    Exchange(
        "fc43 read code 5: 3",
        bytes.fromhex("11 2B 0E 05 00"),
        bytes.fromhex("B374"),
        0xB1,
        bytes.fromhex("11 AB 03"),
        bytes.fromhex("1EF4"),
        0x41,
    ),
    Exchange(
        "fc43 read code 4 of missing object 5: 2",
        bytes.fromhex("11 2B 0E 04 05"),
        bytes.fromhex("72E7"),
        0xAD,
        bytes.fromhex("11 AB 02"),
        bytes.fromhex("DF34"),
        0x42,
    ),
]
