"""Transactions on the port: faults, wire time, retries, stale bytes, errors, threads.

Most tests run on dummy_serial with the fake clock of conftest.py. A
scripted slave (:class:`ScriptedSlave`) answers the n-th request with the
n-th planned answer, given as chunks ``(seconds after the write, bytes)``,
so late, split and noisy answers arrive at exact fake times; every time
asserted against the fake clock is exact up to float rounding. The first
request of a test never waits (the line has been silent forever), so a
call that takes 8 ms of fake time waited for nothing but its answer.

The tests at the end use the real clock: threads on dummy_serial, and a
real pseudo-terminal with simulated slaves (``minimalmodbus_simulator``)
on its other side. They keep real waiting short (timeouts of 0.1 s) and never assert
wall-clock speed beyond "well within a generous timeout".

The frames are in tables at the end of the module, checked by
:func:`test_frame_tables` with the tests' own CRC and LRC (frames.py).
"""

from __future__ import annotations

import gc
import logging
import os
import select
import struct
import termios  # this module tests on real pseudo-terminals: POSIX only
import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
import serial
from calls import count_calls
from conftest import FakeClock, Serve, as_dummy
from frames import crc_bytes as crc16
from frames import frame as wire  # a frame of a message (slave address, function code, data)

import dummy_serial
import minimalmodbus
from minimalmodbus import MODE_ASCII, MODE_RTU
from minimalmodbus_simulator import Fault, SimulatedBus, SimulatedSlave

PORT = "/dev/ttyUSB0"
TIMEOUT = 0.05  # the port timeout of an Instrument made from a port name
SILENCE = 3.5 * 10 / 19200  # Serial Line §2.5.1.1: 3.5 characters of 8N1 at 19200 baud
NOISE = b"\xff" * 8  # line noise: no frame start of slave 1 in either mode
GARBAGE = b"\x00\xff\xfe"  # bytes after a complete frame

Chunk = tuple[float, bytes]


def exact(seconds: float) -> Any:
    """Equal to ``seconds`` up to the float rounding of the fake clock."""
    return pytest.approx(seconds, abs=1e-9)


def hex_of(data: bytes) -> str:
    """Bytes as the driver shows them: ``01 03 02 00 05``."""
    return data.hex(" ").upper()


def pieces(data: bytes, first: float, gap: float, size: int = 2) -> list[Chunk]:
    """``data`` in pieces of ``size`` bytes, the first at ``first`` s, then every ``gap`` s."""
    return [
        (first + gap * index, data[start : start + size])
        for index, start in enumerate(range(0, len(data), size))
    ]


class ScriptedSlave:
    """A dummy_serial responder that plays planned answers, one per request.

    Attributes:
        plan: the answers still to come, each a list of chunks; a request
            beyond the plan gets no answer.
        write_times: the fake time of every request written.
    """

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.plan: list[list[Chunk]] = []
        self.write_times: list[float] = []

    def answer(self, *chunks: Chunk) -> None:
        """Plan the answer to the next request (no chunks: stay silent)."""
        self.plan.append(list(chunks))

    def __call__(self, request: bytes) -> list[Chunk]:
        self.write_times.append(self.clock.now())
        return self.plan.pop(0) if self.plan else []


@pytest.fixture(params=[MODE_RTU, MODE_ASCII])
def mode(request: pytest.FixtureRequest) -> str:
    """Run the test in RTU and in ASCII mode."""
    mode_name: str = request.param
    return mode_name


@pytest.fixture
def slave(dummy: dict[bytes, bytes], fake_clock: Any) -> ScriptedSlave:
    """A scripted slave for dummy_serial ports on the fake clock."""
    return ScriptedSlave(fake_clock)


def connect(slave: ScriptedSlave, slaveaddress: int = 1, mode: str = MODE_RTU) -> minimalmodbus.Instrument:
    """An instrument on the shared dummy port ``PORT``, answered by ``slave``."""
    instrument = minimalmodbus.Instrument(PORT, slaveaddress, mode)
    instrument.serial.responder = slave
    return instrument


def requests_of(instrument: minimalmodbus.Instrument) -> list[bytes]:
    """Every request written to the instrument's dummy port."""
    requests: list[bytes] = instrument.serial.requests
    return requests


# ---------------------------------------------------------------------------
# 1. Each fault, in both modes
# ---------------------------------------------------------------------------


def test_exception_response_raises_when_its_last_byte_arrives(
    mode: str, slave: ScriptedSlave, fake_clock: Any
) -> None:
    instrument = connect(slave, mode=mode)
    slave.answer((0.008, FRAMES[mode]["EXCEPTION_2"]))
    start = fake_clock.time
    with pytest.raises(minimalmodbus.IllegalRequestError) as caught:
        instrument.read_register(0)
    assert caught.value.exception_code == 2
    assert caught.value.function_code == 3
    assert "Illegal data address" in str(caught.value)
    assert fake_clock.time == exact(start + 0.008)
    assert fake_clock.sleeps == [exact(0.008)]  # the wait for the 5 bytes, no timeout
    assert instrument.roundtrip_time == exact(0.008)


@pytest.mark.parametrize(
    ("exception_code", "exception_class"),
    [
        (1, minimalmodbus.IllegalRequestError),
        (2, minimalmodbus.IllegalRequestError),
        (3, minimalmodbus.IllegalRequestError),
        (4, minimalmodbus.SlaveReportedException),
        (5, minimalmodbus.SlaveReportedException),  # Acknowledge is an exception like any other
        (6, minimalmodbus.SlaveDeviceBusyError),
        (7, minimalmodbus.NegativeAcknowledgeError),
        (8, minimalmodbus.SlaveReportedException),
        (10, minimalmodbus.GatewayPathUnavailableError),  # issue 14
        (11, minimalmodbus.GatewayTargetFailedError),
        (0x42, minimalmodbus.SlaveReportedException),  # not in the specification
    ],
)
def test_exception_codes_raise_their_class_at_once(
    mode: str, slave: ScriptedSlave, exception_code: int, exception_class: type[Exception]
) -> None:
    instrument = connect(slave, mode=mode)
    slave.answer((0.008, wire(mode, bytes((1, 0x83, exception_code)))))
    with pytest.raises(exception_class) as caught:
        instrument.read_register(0)
    assert type(caught.value) is exception_class
    assert caught.value.exception_code == exception_code  # type: ignore[attr-defined]
    assert caught.value.function_code == 3  # type: ignore[attr-defined]
    assert instrument.roundtrip_time == exact(0.008)


def test_exception_response_to_a_write(mode: str, slave: ScriptedSlave) -> None:
    instrument = connect(slave, mode=mode)
    slave.answer((0.008, FRAMES[mode]["WRITE_EXCEPTION_4"]))
    with pytest.raises(minimalmodbus.SlaveReportedException) as caught:
        instrument.write_register(0, 7)
    assert type(caught.value) is minimalmodbus.SlaveReportedException
    assert (caught.value.exception_code, caught.value.function_code) == (4, 16)
    assert instrument.roundtrip_time == exact(0.008)


@pytest.mark.parametrize(
    ("name", "timeouts_waited"),
    [
        ("BAD_CHECKSUM", 0),  # complete by its length: judged at its last byte
        # The rest never comes: the read that got the first part waits its
        # timeout, then one more whole timeout with nothing new ends the frame.
        ("TRUNCATED", 2),
        ("SLAVE_2_VALUE_7", 1),  # waits one timeout for ours, then reports what came
        ("OTHER_FUNCTION_CODE", 1),  # likewise
    ],
)
def test_invalid_answer(mode: str, slave: ScriptedSlave, name: str, timeouts_waited: int) -> None:
    instrument = connect(slave, mode=mode)
    answer = FRAMES[mode][name]
    slave.answer((0.008, answer))
    with pytest.raises(minimalmodbus.InvalidResponseError) as caught:
        instrument.read_register(0)
    assert caught.value.request == FRAMES[mode]["READ_0"]
    assert caught.value.response == answer
    assert hex_of(answer) in str(caught.value)
    assert instrument.roundtrip_time == exact(0.008 + timeouts_waited * TIMEOUT)


@pytest.mark.parametrize("name", ["SLAVE_2_VALUE_7", "OTHER_FUNCTION_CODE"])
def test_foreign_frame_before_ours_is_skipped(mode: str, slave: ScriptedSlave, name: str) -> None:
    instrument = connect(slave, mode=mode)
    slave.answer((0.004, FRAMES[mode][name]), (0.008, FRAMES[mode]["VALUE_5"]))
    assert instrument.read_register(0) == 5
    assert instrument.roundtrip_time == exact(0.008)


@pytest.mark.parametrize("clear_buffers", [True, False], ids=["clear buffers", "keep buffers"])
@pytest.mark.parametrize("garbage_delay", [0.008, 0.009], ids=["with the frame", "1 ms later"])
def test_trailing_garbage_is_ignored(
    mode: str, slave: ScriptedSlave, garbage_delay: float, clear_buffers: bool
) -> None:
    instrument = connect(slave, mode=mode)
    instrument.clear_buffers_before_each_transaction = clear_buffers
    slave.answer((0.008, FRAMES[mode]["VALUE_5"]), (garbage_delay, GARBAGE))
    slave.answer((0.008, FRAMES[mode]["VALUE_6"]))
    assert instrument.read_register(0) == 5
    assert instrument.roundtrip_time == exact(0.008)
    assert instrument.read_register(1) == 6
    assert instrument.roundtrip_time == exact(0.008)


def test_late_reply_is_not_the_answer_to_the_next_request(mode: str, slave: ScriptedSlave) -> None:
    instrument = connect(slave, mode=mode)
    slave.answer((1.6 * TIMEOUT, FRAMES[mode]["VALUE_5"]))  # after the timeout
    slave.answer((0.008, FRAMES[mode]["VALUE_6"]))
    with pytest.raises(minimalmodbus.NoResponseError):
        instrument.read_register(0)
    assert instrument.read_register(1) == 6


def test_no_reply(mode: str, slave: ScriptedSlave) -> None:
    instrument = connect(slave, mode=mode)
    with pytest.raises(minimalmodbus.NoResponseError) as caught:
        instrument.read_register(0)
    assert caught.value.request == FRAMES[mode]["READ_0"]
    assert caught.value.response == b""
    assert hex_of(FRAMES[mode]["READ_0"]) in str(caught.value)


def test_no_reply_waits_one_timeout(mode: str, slave: ScriptedSlave, fake_clock: Any) -> None:
    instrument = connect(slave, mode=mode)
    start = fake_clock.time
    with pytest.raises(minimalmodbus.NoResponseError):
        instrument.read_register(0)
    assert instrument.roundtrip_time == exact(TIMEOUT)
    assert fake_clock.time == exact(start + TIMEOUT)


def test_local_echo_is_consumed(mode: str, slave: ScriptedSlave) -> None:
    instrument = connect(slave, mode=mode)
    instrument.handle_local_echo = True
    slave.answer((0.0, FRAMES[mode]["READ_0"]), (0.008, FRAMES[mode]["VALUE_5"]))
    assert instrument.read_register(0) == 5
    assert instrument.roundtrip_time == exact(0.008)


@pytest.mark.parametrize("echo", [b"\x00\x00\x00", None], ids=["wrong echo", "no echo, then the answer"])
def test_wrong_local_echo(mode: str, slave: ScriptedSlave, echo: bytes | None) -> None:
    instrument = connect(slave, mode=mode)
    instrument.handle_local_echo = True
    request = FRAMES[mode]["READ_0"]
    answer = FRAMES[mode]["VALUE_5"]
    if echo is None:  # an adapter without echo: the answer is read as the echo
        slave.answer((0.008, answer))
        expected_echo = answer
    else:
        slave.answer((0.0, request[:-3] + echo), (0.008, answer))
        expected_echo = request[:-3] + echo
    with pytest.raises(minimalmodbus.LocalEchoError) as caught:
        instrument.read_register(0)
    assert caught.value.request == request
    assert caught.value.response == expected_echo


def test_answer_after_a_wrong_echo_is_not_the_next_answer(mode: str, slave: ScriptedSlave) -> None:
    """The slave got the request and answers although the echo was garbled."""
    instrument = connect(slave, mode=mode)
    instrument.handle_local_echo = True
    request = FRAMES[mode]["READ_0"]
    slave.answer((0.0, request[:-1] + b"\x00"), (0.008, FRAMES[mode]["VALUE_5"]))
    slave.answer((0.0, FRAMES[mode]["READ_1"]), (0.008, FRAMES[mode]["VALUE_6"]))
    with pytest.raises(minimalmodbus.LocalEchoError):
        instrument.read_register(0)
    assert instrument.read_register(1) == 6


def test_split_reply_returns_at_its_last_byte(mode: str, slave: ScriptedSlave) -> None:
    instrument = connect(slave, mode=mode)
    chunks = pieces(FRAMES[mode]["VALUE_5"], first=0.002, gap=0.001)
    slave.answer(*chunks)
    assert instrument.read_register(0) == 5
    assert instrument.roundtrip_time == exact(chunks[-1][0])


def test_gap_just_under_the_timeout_is_read_whole(mode: str, slave: ScriptedSlave) -> None:
    # Issue 13: no gap inside a frame may last a whole timeout; one just under it may
    answer = FRAMES[mode]["VALUE_5"]
    slave.answer((0.002, answer[:3]), (0.002 + TIMEOUT - 0.0005, answer[3:]))
    assert connect(slave, mode=mode).read_register(0) == 5


def test_stale_frame_during_the_silence_of_a_clean_line_is_never_the_answer(
    mode: str, slave: ScriptedSlave
) -> None:
    # Issue 13: the line is flushed only when a byte waits after the silence; a stray
    # copy of an answer (another value, valid checksum) that arrives during the
    # silence after a good exchange is found then, so it never answers the next request
    instrument = connect(slave, mode=mode)
    slave.answer((0.008, FRAMES[mode]["VALUE_5"]), (0.0085, FRAMES[mode]["VALUE_6"]))
    slave.answer((0.008, FRAMES[mode]["VALUE_5"]))
    assert instrument.read_register(0) == 5
    assert instrument.read_register(0) == 5


@pytest.mark.parametrize(
    "noise",
    [b"\x00", NOISE, b"\x01", b"\x01\x01", b":", b"::0", b"\r\n"],
    ids=["zero", "ff x 8", "our address", "our address twice", "a colon", "half a start", "cr lf"],
)
def test_noise_before_the_reply_is_skipped(mode: str, slave: ScriptedSlave, noise: bytes) -> None:
    instrument = connect(slave, mode=mode)
    slave.answer((0.002, noise), (0.008, FRAMES[mode]["VALUE_5"]))
    assert instrument.read_register(0) == 5
    assert instrument.roundtrip_time == exact(0.008)


def test_endless_noise_does_not_hang(mode: str, slave: ScriptedSlave, fake_clock: Any) -> None:
    instrument = connect(slave, mode=mode)
    slave.answer(*((0.001 * index, b"\xee") for index in range(1, 5000)))  # 5 s of babble
    start = fake_clock.time
    with pytest.raises(minimalmodbus.InvalidResponseError):
        instrument.read_register(0)
    assert fake_clock.time - start < 1.0


# ---------------------------------------------------------------------------
# 2. Wire time: a call returns when its frame is complete
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "args", "request_name", "answer_name", "result"),
    [
        ("read_register", (0,), "READ_0", "VALUE_5", 5),
        ("read_bits", (0, 3, 1), "READ_COILS", "COILS_1_0_1", [1, 0, 1]),
        ("write_register", (0, 7), "WRITE_7", "WRITE_7_ANSWER", None),
        ("write_register", (0, 7, 0, 6), "WRITE_7_FC6", "WRITE_7_FC6", None),
    ],
)
def test_reply_returns_when_its_last_byte_arrives(
    mode: str,
    slave: ScriptedSlave,
    fake_clock: Any,
    method: str,
    args: tuple[int, ...],
    request_name: str,
    answer_name: str,
    result: object,
) -> None:
    instrument = connect(slave, mode=mode)
    slave.answer((0.008, FRAMES[mode][answer_name]))
    assert getattr(instrument, method)(*args) == result
    assert requests_of(instrument) == [FRAMES[mode][request_name]]
    assert fake_clock.sleeps == [exact(0.008)]
    assert instrument.roundtrip_time == exact(0.008)


def test_custom_function_code_reads_until_the_line_is_silent(slave: ScriptedSlave) -> None:
    instrument = connect(slave)
    slave.answer((0.008, FRAMES[MODE_RTU]["CUSTOM_65_ANSWER"]))
    assert instrument._perform_command(65, b"\x01") == b"\x0a\x0b\x0c"
    assert requests_of(instrument) == [FRAMES[MODE_RTU]["CUSTOM_65"]]
    assert instrument.roundtrip_time == exact(0.008 + SILENCE)


def test_custom_function_code_in_pieces_reads_until_the_line_is_silent(slave: ScriptedSlave) -> None:
    instrument = connect(slave)
    answer = FRAMES[MODE_RTU]["CUSTOM_65_ANSWER"]
    slave.answer((0.004, answer[:3]), (0.005, answer[3:]))  # a gap shorter than the silence
    assert instrument._perform_command(65, b"\x01") == b"\x0a\x0b\x0c"
    assert instrument.roundtrip_time is not None
    # The driver looks at the line every SILENCE seconds: silent for SILENCE
    # after the last byte, and not a whole SILENCE later than that.
    assert 0.005 + SILENCE - 1e-9 <= instrument.roundtrip_time <= 0.005 + 2 * SILENCE + 1e-9


@pytest.mark.parametrize("split_at", [None, 7], ids=["in one piece", "with a 10 ms gap after the header"])
def test_ascii_custom_function_code_reads_to_cr_lf(slave: ScriptedSlave, split_at: int | None) -> None:
    """Serial Line §2.5.2.1: ASCII allows gaps of up to 1 s; the frame ends at CR LF."""
    instrument = connect(slave, mode=MODE_ASCII)
    answer = FRAMES[MODE_ASCII]["CUSTOM_65_ANSWER"]
    if split_at is None:
        chunks = [(0.008, answer)]
    else:
        chunks = [(0.004, answer[:split_at]), (0.014, answer[split_at:])]
    slave.answer(*chunks)
    assert instrument._perform_command(65, b"\x01") == b"\x0a\x0b\x0c"
    assert instrument.roundtrip_time == exact(chunks[-1][0])


def test_custom_function_code_exception_raises_at_once(mode: str, slave: ScriptedSlave) -> None:
    instrument = connect(slave, mode=mode)
    slave.answer((0.008, FRAMES[mode]["CUSTOM_65_EXCEPTION"]))
    with pytest.raises(minimalmodbus.IllegalRequestError) as caught:
        instrument._perform_command(65, b"\x01")
    assert (caught.value.exception_code, caught.value.function_code) == (1, 65)
    assert instrument.roundtrip_time == exact(0.008)


def test_communicate_reads_the_given_number_of_bytes(slave: ScriptedSlave) -> None:
    instrument = connect(slave)
    answer = FRAMES[MODE_RTU]["CUSTOM_65_ANSWER"]
    slave.answer((0.008, answer))
    assert instrument._communicate(FRAMES[MODE_RTU]["CUSTOM_65"], len(answer)) == answer
    assert instrument.roundtrip_time == exact(0.008)


def test_without_precalculated_size_the_timeout_is_waited(mode: str, slave: ScriptedSlave) -> None:
    instrument = connect(slave, mode=mode)
    instrument.precalculate_read_size = False
    slave.answer((0.008, FRAMES[mode]["VALUE_5"]))
    assert instrument.read_register(0) == 5
    assert instrument.roundtrip_time == exact(TIMEOUT)


# ---------------------------------------------------------------------------
# 3. Retries
# ---------------------------------------------------------------------------

READ_CALLS: dict[str, Callable[[minimalmodbus.Instrument], object]] = {
    "read_register": lambda instrument: instrument.read_register(0),
    "read_registers fc 4": lambda instrument: instrument.read_registers(0, 2, functioncode=4),
    "read_bits": lambda instrument: instrument.read_bits(0, 3),
    "read_float": lambda instrument: instrument.read_float(0),
    "read_string": lambda instrument: instrument.read_string(0, 2),
}

WRITE_CALLS: dict[str, Callable[[minimalmodbus.Instrument], object]] = {
    "write_register fc 16": lambda instrument: instrument.write_register(0, 7),
    "write_register fc 6": lambda instrument: instrument.write_register(0, 7, functioncode=6),
    "write_bit fc 5": lambda instrument: instrument.write_bit(0, 1),
    "write_bits": lambda instrument: instrument.write_bits(0, [1, 0, 1]),
    "write_long": lambda instrument: instrument.write_long(0, 70000),
    "custom function code 65": lambda instrument: instrument._perform_command(65, b"\x01"),
}


@pytest.mark.parametrize("call", WRITE_CALLS.values(), ids=WRITE_CALLS.keys())
def test_write_is_sent_once_without_retry_writes(slave: ScriptedSlave, call: Callable[..., object]) -> None:
    instrument = connect(slave)
    instrument.retries = 3
    with pytest.raises(minimalmodbus.NoResponseError):
        call(instrument)
    assert len(requests_of(instrument)) == 1


@pytest.mark.parametrize("call", WRITE_CALLS.values(), ids=WRITE_CALLS.keys())
def test_write_is_retried_with_retry_writes(slave: ScriptedSlave, call: Callable[..., object]) -> None:
    instrument = connect(slave)
    instrument.retries = 3
    instrument.retry_writes = True
    with pytest.raises(minimalmodbus.NoResponseError):
        call(instrument)
    requests = requests_of(instrument)
    assert len(requests) == 4
    assert requests == [requests[0]] * 4


@pytest.mark.parametrize("call", READ_CALLS.values(), ids=READ_CALLS.keys())
@pytest.mark.parametrize("retries", [0, 1, 3])
def test_read_is_retried_exactly_retries_times(
    slave: ScriptedSlave, call: Callable[..., object], retries: int
) -> None:
    instrument = connect(slave)
    instrument.retries = retries
    with pytest.raises(minimalmodbus.NoResponseError):
        call(instrument)
    requests = requests_of(instrument)
    assert requests == [requests[0]] * (1 + retries)


@pytest.mark.parametrize(
    "failed_answer",
    [[], [(0.008, "BAD_CHECKSUM")], [(0.008, "SLAVE_2_VALUE_7")], [(0.002, "TRUNCATED")]],
    ids=["no answer", "bad checksum", "other slave", "truncated"],
)
def test_read_succeeds_on_a_later_attempt(
    mode: str, slave: ScriptedSlave, failed_answer: list[tuple[float, str]]
) -> None:
    instrument = connect(slave, mode=mode)
    instrument.retries = 3
    for _ in range(2):
        slave.answer(*((delay, FRAMES[mode][name]) for delay, name in failed_answer))
    slave.answer((0.008, FRAMES[mode]["VALUE_5"]))
    assert instrument.read_register(0) == 5
    assert requests_of(instrument) == [FRAMES[mode]["READ_0"]] * 3


@pytest.mark.parametrize("exception_code", [2, 4, 6])
def test_slave_exception_is_never_retried(mode: str, slave: ScriptedSlave, exception_code: int) -> None:
    instrument = connect(slave, mode=mode)
    instrument.retries = 3
    instrument.retry_writes = True
    for _ in range(4):
        slave.answer((0.008, wire(mode, bytes((1, 0x83, exception_code)))))
    with pytest.raises(minimalmodbus.SlaveReportedException) as caught:
        instrument.read_register(0)
    assert caught.value.exception_code == exception_code
    assert len(requests_of(instrument)) == 1


# ---------------------------------------------------------------------------
# 4. No stale bytes; the drain window; inter-frame and broadcast delays
# ---------------------------------------------------------------------------


# Answers to read_register(0) that fail at 0.002 + TIMEOUT after the write,
# the rest of slave 1's answer arriving late, at 0.070.
def header_length(mode: str) -> int:
    """Wire bytes of slave address, function code and byte count."""
    return 3 if mode == "rtu" else 7


def wire_bytes_per_byte(mode: str) -> int:
    """Wire bytes that carry one frame byte."""
    return 1 if mode == "rtu" else 2


# Answers that fail, with the moment of the failure after the request.
LATE_AFTER_FAULT: dict[str, tuple[Callable[[str], list[Chunk]], float]] = {
    # Noise, then no start of our frame within one timeout of skipping.
    "noise, then the answer late": (
        lambda mode: [(0.002, NOISE), (0.070, FRAMES[mode]["VALUE_5"])],
        0.002 + TIMEOUT,
    ),
    # Slave address, function code and byte count, then a whole timeout with
    # nothing new.
    "the header, the rest late": (
        lambda mode: [
            (0.002, FRAMES[mode]["VALUE_5"][: header_length(mode)]),
            (0.070, FRAMES[mode]["VALUE_5"][header_length(mode) :]),
        ],
        0.002 + TIMEOUT,
    ),
    # The header and one data byte: the read that got the data byte waits its
    # own timeout, then one more whole timeout with nothing new ends the frame.
    "part of the data, the rest late": (
        lambda mode: [
            (0.002, FRAMES[mode]["VALUE_5"][: header_length(mode) + wire_bytes_per_byte(mode)]),
            (0.130, FRAMES[mode]["VALUE_5"][header_length(mode) + wire_bytes_per_byte(mode) :]),
        ],
        0.002 + 2 * TIMEOUT,
    ),
}


@pytest.mark.parametrize("late_answer", LATE_AFTER_FAULT.values(), ids=LATE_AFTER_FAULT.keys())
def test_late_bytes_of_a_failed_exchange_are_drained(
    mode: str,
    slave: ScriptedSlave,
    fake_clock: Any,
    late_answer: tuple[Callable[[str], list[Chunk]], float],
) -> None:
    instrument = connect(slave, mode=mode)
    chunks, failure_after = late_answer
    slave.answer(*chunks(mode))
    slave.answer((0.008, FRAMES[mode]["VALUE_6"]))
    with pytest.raises(minimalmodbus.InvalidResponseError):
        instrument.read_register(0)
    fault_time = fake_clock.time
    assert fault_time == exact(slave.write_times[0] + failure_after)
    assert instrument.read_register(1) == 6
    # The same slave is asked again one timeout after the fault, then the silence.
    assert slave.write_times[1] == exact(fault_time + TIMEOUT + SILENCE)


def test_fault_is_drained_only_once(mode: str, slave: ScriptedSlave, fake_clock: Any) -> None:
    instrument = connect(slave, mode=mode)
    slave.answer((0.002, NOISE))
    slave.answer((0.008, FRAMES[mode]["VALUE_6"]))
    slave.answer((0.008, FRAMES[mode]["VALUE_5"]))
    with pytest.raises(minimalmodbus.InvalidResponseError):
        instrument.read_register(0)
    assert instrument.read_register(1) == 6
    end_of_second = fake_clock.time
    assert instrument.read_register(0) == 5
    assert slave.write_times[2] == exact(end_of_second + SILENCE)


def test_other_slave_is_asked_after_the_silence_only(
    mode: str, slave: ScriptedSlave, fake_clock: Any
) -> None:
    first, second = connect(slave, 1, mode), connect(slave, 2, mode)
    slave.answer((0.002, NOISE), (0.060, FRAMES[mode]["VALUE_5"]))  # late, during the next call
    slave.answer((0.010, FRAMES[mode]["SLAVE_2_VALUE_7"]))
    with pytest.raises(minimalmodbus.InvalidResponseError):
        first.read_register(0)
    fault_time = fake_clock.time
    assert second.read_register(0) == 7  # slave 1's late frame is skipped
    assert slave.write_times[1] == exact(fault_time + SILENCE)
    assert second.roundtrip_time == exact(0.010)


def test_same_slave_waits_out_its_fault_even_after_another_slave(
    mode: str, slave: ScriptedSlave, fake_clock: Any
) -> None:
    first, second = connect(slave, 1, mode), connect(slave, 2, mode)
    slave.answer((0.002, NOISE), (0.080, FRAMES[mode]["VALUE_5"]))  # slave 1, register 0, late
    slave.answer((0.002, FRAMES[mode]["SLAVE_2_VALUE_7"]))
    slave.answer((0.030, FRAMES[mode]["VALUE_6"]))  # slave 1, register 1
    with pytest.raises(minimalmodbus.InvalidResponseError):
        first.read_register(0)
    fault_time = fake_clock.time
    assert second.read_register(0) == 7
    assert first.read_register(1) == 6
    assert slave.write_times[2] >= fault_time + TIMEOUT


def test_no_response_seen_by_communicate_is_remembered_too(slave: ScriptedSlave, fake_clock: Any) -> None:
    """Vendor drivers call ``_communicate`` directly (API part A); its timeout is a fault too."""
    instrument = connect(slave)
    slave.answer((1.6 * TIMEOUT, FRAMES[MODE_RTU]["VALUE_5"]))  # after the timeout
    slave.answer((0.040, FRAMES[MODE_RTU]["VALUE_6"]))  # a slow answer: the late one would come first
    with pytest.raises(minimalmodbus.NoResponseError):
        instrument._communicate(FRAMES[MODE_RTU]["READ_0"], len(FRAMES[MODE_RTU]["VALUE_5"]))
    fault_time = fake_clock.time
    assert instrument.read_register(1) == 6
    assert slave.write_times[1] == exact(fault_time + TIMEOUT + SILENCE)


def test_drain_lasts_until_the_line_is_quiet(mode: str, slave: ScriptedSlave, fake_clock: Any) -> None:
    instrument = connect(slave, mode=mode)
    # After the fault (at 0.052) the line chatters every 1 ms from 0.1015 to 0.1115.
    chatter = [(0.1015 + 0.001 * index, b"\xee") for index in range(11)]
    slave.answer((0.002, NOISE), *chatter)
    slave.answer((0.008, FRAMES[mode]["VALUE_6"]))
    with pytest.raises(minimalmodbus.InvalidResponseError):
        instrument.read_register(0)
    assert instrument.read_register(1) == 6
    last_chatter = slave.write_times[0] + chatter[-1][0]
    assert last_chatter + SILENCE - 1e-9 <= slave.write_times[1] <= last_chatter + 2 * SILENCE + 1e-9


def test_next_request_waits_only_the_inter_frame_silence(
    mode: str, slave: ScriptedSlave, fake_clock: Any
) -> None:
    instrument = connect(slave, mode=mode)
    slave.answer((0.008, FRAMES[mode]["VALUE_5"]))
    slave.answer((0.008, FRAMES[mode]["VALUE_6"]))
    assert instrument.read_register(0) == 5
    end_of_first = fake_clock.time
    assert instrument.read_register(1) == 6
    assert slave.write_times[1] == exact(end_of_first + SILENCE)
    assert fake_clock.sleeps == [exact(0.008), exact(SILENCE), exact(0.008)]


@pytest.mark.parametrize(
    ("baudrate", "parity", "stopbits", "inter_frame_delay", "silence"),
    [
        (19200, "N", 1, None, 3.5 * 10 / 19200),
        (9600, "E", 1, None, 3.5 * 11 / 9600),
        (9600, "N", 2, None, 3.5 * 11 / 9600),
        (38400, "N", 1, None, 0.00175),  # fixed above 19200 baud
        (115200, "E", 1, None, 0.00175),
        (19200, "N", 1, 0.010, 0.010),
        (19200, "N", 1, 0.0, 0.0),
    ],
)
def test_inter_frame_delay(
    slave: ScriptedSlave,
    fake_clock: Any,
    baudrate: int,
    parity: str,
    stopbits: int,
    inter_frame_delay: float | None,
    silence: float,
) -> None:
    instrument = connect(slave)
    instrument.serial.baudrate = baudrate
    instrument.serial.parity = parity
    instrument.serial.stopbits = stopbits
    instrument.inter_frame_delay = inter_frame_delay
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_5"]))
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_6"]))
    instrument.read_register(0)
    end_of_first = fake_clock.time
    instrument.read_register(1)
    assert slave.write_times[1] == exact(end_of_first + silence)


class LaggingClock(FakeClock):
    """A fake clock whose sleeps wake later than asked, by the lags given in turn.

    A negative lag wakes early, but never before half the time asked has
    passed, so the clock always moves. ``asked`` records what was asked.
    """

    def __init__(self, lags: list[float]) -> None:
        super().__init__()
        self.lags = lags
        self.asked: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.asked.append(seconds)
        lag = self.lags[len(self.asked) % len(self.lags)]
        super().sleep(max(seconds / 2, seconds + lag))


def test_silence_wait_asks_for_the_exact_time_on_a_clock_without_lag(fake_clock: FakeClock) -> None:
    minimalmodbus._sleep_until(fake_clock.time + SILENCE)
    assert fake_clock.sleeps == [exact(SILENCE)]
    assert minimalmodbus._wake_lag == 0.0


def sleep_until_on(monkeypatch: pytest.MonkeyPatch, clock: LaggingClock, waits: int) -> list[float]:
    """How late each of ``waits`` silence waits ended, on ``clock``, learning from scratch.

    Every sleep asked for is a real one (more than 0), so nothing spins.
    """
    monkeypatch.setattr(minimalmodbus, "_now", clock.now)
    monkeypatch.setattr(minimalmodbus, "_sleep", clock.sleep)
    monkeypatch.setattr(minimalmodbus, "_wake_lag", 0.0)
    overshoots = []
    for _ in range(waits):
        deadline = clock.time + SILENCE
        minimalmodbus._sleep_until(deadline)
        overshoots.append(clock.time - deadline)
    assert min(clock.asked) > 0
    return overshoots


@pytest.mark.parametrize(
    ("lags", "settled_median_at_most"),
    [([100e-6], 25e-6), ([80e-6, 100e-6, 120e-6, 150e-6, 90e-6], 50e-6)],
    ids=["constant", "spread"],
)
def test_silence_wait_learns_the_wake_lag(
    monkeypatch: pytest.MonkeyPatch, lags: list[float], settled_median_at_most: float
) -> None:
    clock = LaggingClock(lags)
    overshoots = sleep_until_on(monkeypatch, clock, 500)
    assert min(overshoots) >= 0
    # Not learning, the median wait would end the median lag (100 us) late.
    settled = sorted(overshoots[200:])
    assert settled[len(settled) // 2] <= settled_median_at_most
    assert len(clock.asked) <= 1.2 * 500  # a second sleep is the exception
    assert 50e-6 < minimalmodbus._wake_lag < 130e-6


@pytest.mark.parametrize("lags", [[0.0, 300e-6], [-50e-6, 100e-6]], ids=["sometimes none", "sometimes early"])
def test_silence_wait_never_ends_early(monkeypatch: pytest.MonkeyPatch, lags: list[float]) -> None:
    clock = LaggingClock(lags)
    assert min(sleep_until_on(monkeypatch, clock, 300)) >= 0
    assert len(clock.asked) <= 3 * 300  # an early wake asks for the rest, which is soon slept


@pytest.mark.parametrize("wake_lag", [0.0, 100e-6])
def test_silence_wait_ends_on_a_clock_that_does_not_move(
    monkeypatch: pytest.MonkeyPatch, wake_lag: float
) -> None:
    """A coarse clock (or a test's frozen one): the whole silence is asked for, once."""
    sleeps: list[float] = []
    monkeypatch.setattr(minimalmodbus, "_wake_lag", wake_lag)
    monkeypatch.setattr(minimalmodbus, "_now", lambda: 1000.0)
    monkeypatch.setattr(minimalmodbus, "_sleep", sleeps.append)
    minimalmodbus._sleep_until(1000.0 + SILENCE)
    assert sum(sleeps) == exact(SILENCE)
    assert len(sleeps) == (2 if wake_lag else 1)


@pytest.mark.parametrize("broadcast_delay", [None, 0.05, 0.0])
def test_broadcast_waits_the_broadcast_delay_and_reads_nothing(
    mode: str, slave: ScriptedSlave, fake_clock: Any, broadcast_delay: float | None
) -> None:
    broadcaster = connect(slave, 0, mode)
    if broadcast_delay is None:
        broadcast_delay = 0.2  # the default
    else:
        broadcaster.broadcast_delay = broadcast_delay
    instrument = connect(slave, 1, mode)
    slave.answer((0.001, GARBAGE))  # nobody answers a broadcast; if something does, it is not read
    slave.answer((0.008, FRAMES[mode]["VALUE_5"]))
    start = fake_clock.time
    broadcaster.write_register(0, 7)
    assert fake_clock.time == exact(start + broadcast_delay)
    assert requests_of(broadcaster) == [FRAMES[mode]["BROADCAST_WRITE_7"]]
    assert instrument.read_register(0) == 5
    assert slave.write_times[1] == exact(start + broadcast_delay + SILENCE)


def test_broadcast_read_is_refused_before_writing(slave: ScriptedSlave) -> None:
    broadcaster = connect(slave, 0)
    with pytest.raises(ValueError, match="broadcast"):
        broadcaster.read_register(0)
    assert requests_of(broadcaster) == []


# ---------------------------------------------------------------------------
# 5. Port errors
# ---------------------------------------------------------------------------


class FailingPort(dummy_serial.Serial):
    """A dummy port whose chosen member raises the chosen error, once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.failures: dict[str, BaseException] = {}
        super().__init__(*args, **kwargs)

    def fail(self, member: str, error: BaseException) -> None:
        """Make the next use of ``member`` raise ``error``."""
        self.failures[member] = error

    def _use(self, member: str) -> None:
        error = self.failures.pop(member, None)
        if error is not None:
            raise error

    def open(self) -> None:
        self._use("open")
        super().open()

    def write(self, data: bytes) -> int:
        self._use("write")
        return super().write(data)

    def read(self, size: int = 1) -> bytes:
        self._use("read")
        return super().read(size)

    def reset_input_buffer(self) -> None:
        self._use("reset_input_buffer")
        super().reset_input_buffer()

    @property
    def in_waiting(self) -> int:
        self._use("in_waiting")
        count: int = super().in_waiting
        return count


PORT_ERRORS = {
    "SerialException": lambda: serial.SerialException("device disconnected or multiple access on port?"),
    "OSError": lambda: OSError(5, "Input/output error"),
    # pyserial lets termios.error (not an OSError) escape from tcflush/tcsetattr,
    # e.g. reset_input_buffer on an unplugged USB adapter.
    "termios.error": lambda: termios.error(5, "Input/output error"),
}


@pytest.fixture
def failing_port(slave: ScriptedSlave) -> FailingPort:
    """An open FailingPort answered by the scripted slave."""
    port = FailingPort(port="/dev/ttyFAIL0", baudrate=19200, timeout=TIMEOUT)
    port.responder = slave
    return port


@pytest.mark.parametrize("make_error", PORT_ERRORS.values(), ids=PORT_ERRORS.keys())
@pytest.mark.parametrize("member", ["write", "read", "in_waiting", "reset_input_buffer"])
def test_port_error_becomes_master_reported_exception(
    slave: ScriptedSlave, failing_port: FailingPort, member: str, make_error: Callable[[], Exception]
) -> None:
    instrument = minimalmodbus.Instrument(failing_port, 1)
    # A first exchange whose answer a stray byte follows (during the silence), so that
    # the buffers are flushed before the next request (reset_input_buffer is called)
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_5"]), (0.009, b"\x00"))
    assert instrument.read_register(0) == 5
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_5"]))
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_5"]))
    error = make_error()
    failing_port.fail(member, error)
    with pytest.raises(minimalmodbus.MasterReportedException) as caught:
        instrument.read_register(0)
    assert type(caught.value) is minimalmodbus.PortError  # a MasterReportedException
    assert isinstance(caught.value, serial.SerialException)  # as 2.x let through
    assert caught.value.__cause__ is error
    assert caught.value.request == FRAMES[MODE_RTU]["READ_0"]
    assert not failing_port.is_open
    assert instrument.read_register(0) == 5
    assert failing_port.is_open


@pytest.mark.parametrize("make_error", PORT_ERRORS.values(), ids=PORT_ERRORS.keys())
def test_port_error_while_draining(
    slave: ScriptedSlave, failing_port: FailingPort, make_error: Callable[[], Exception]
) -> None:
    instrument = minimalmodbus.Instrument(failing_port, 1)
    slave.answer((0.002, NOISE))
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_5"]))
    with pytest.raises(minimalmodbus.InvalidResponseError):
        instrument.read_register(0)
    error = make_error()
    failing_port.fail("in_waiting", error)
    with pytest.raises(minimalmodbus.MasterReportedException) as caught:
        instrument.read_register(0)
    assert caught.value.__cause__ is error
    assert not failing_port.is_open
    assert instrument.read_register(0) == 5


@pytest.mark.parametrize("make_error", PORT_ERRORS.values(), ids=PORT_ERRORS.keys())
def test_port_that_cannot_be_reopened(
    slave: ScriptedSlave, failing_port: FailingPort, make_error: Callable[[], Exception]
) -> None:
    instrument = minimalmodbus.Instrument(failing_port, 1)
    instrument.close()
    error = make_error()
    failing_port.fail("open", error)
    with pytest.raises(minimalmodbus.MasterReportedException) as caught:
        instrument.read_register(0)
    assert caught.value.__cause__ is error
    assert requests_of(instrument) == []
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_5"]))
    assert instrument.read_register(0) == 5


def test_port_error_is_not_retried(slave: ScriptedSlave, failing_port: FailingPort) -> None:
    instrument = minimalmodbus.Instrument(failing_port, 1)
    instrument.retries = 3
    failing_port.fail("read", OSError(5, "Input/output error"))
    with pytest.raises(minimalmodbus.MasterReportedException):
        instrument.read_register(0)
    assert len(requests_of(instrument)) == 1


# ---------------------------------------------------------------------------
# 6. Lifecycle: close, context manager, shared ports, URLs, file descriptors
# ---------------------------------------------------------------------------


def test_close_closes_the_port_and_the_next_call_reopens_it(slave: ScriptedSlave) -> None:
    instrument = connect(slave)
    assert instrument.serial.is_open
    instrument.close()
    assert not instrument.serial.is_open
    instrument.close()  # closing twice is harmless
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_5"]))
    assert instrument.read_register(0) == 5
    assert instrument.serial.is_open


def test_context_manager_closes_the_port(slave: ScriptedSlave) -> None:
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_5"]))
    with minimalmodbus.Instrument(PORT, 1) as instrument:
        instrument.serial.responder = slave
        assert instrument.read_register(0) == 5
        assert instrument.serial.is_open
    assert not instrument.serial.is_open


def test_context_manager_closes_the_port_when_the_call_raises(slave: ScriptedSlave) -> None:
    with pytest.raises(minimalmodbus.NoResponseError):
        with minimalmodbus.Instrument(PORT, 1) as instrument:
            instrument.serial.responder = slave
            instrument.read_register(0)
    assert not instrument.serial.is_open


def test_close_port_after_each_call_also_after_a_fault(slave: ScriptedSlave) -> None:
    instrument = connect(slave)
    instrument.close_port_after_each_call = True
    with pytest.raises(minimalmodbus.NoResponseError):
        instrument.read_register(0)
    assert not instrument.serial.is_open
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_5"]))
    assert instrument.read_register(0) == 5
    assert not instrument.serial.is_open


def test_many_instruments_on_one_name_make_one_port(
    dummy: dict[bytes, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[dummy_serial.Serial] = []

    class CountingSerial(dummy_serial.Serial):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr("minimalmodbus.serial.Serial", CountingSerial)
    for index in range(200):
        instrument = minimalmodbus.Instrument(PORT, 1 + index % 247)
        if index % 50 == 25:
            instrument.close()
        del instrument
    gc.collect()
    assert len(created) == 1
    assert list(minimalmodbus._serialports) == [PORT]
    assert minimalmodbus._serialports[PORT] is created[0]
    assert created[0].is_open  # reopened by the instrument made after the close


@pytest.fixture
def clean_ports() -> Iterator[None]:
    """Forget shared ports before the test; close and forget them after it."""
    minimalmodbus.forget_ports()
    yield
    close_shared_ports()


def close_shared_ports() -> None:
    """Close every shared port and forget them all."""
    for port in minimalmodbus._serialports.values():
        if port.is_open:
            port.close()
    minimalmodbus.forget_ports()


def test_loop_url_with_local_echo_has_no_answer(clean_ports: None) -> None:
    instrument = minimalmodbus.Instrument("loop://", 1)
    assert type(instrument.serial).__module__ == "serial.urlhandler.protocol_loop"
    assert minimalmodbus.Instrument("loop://", 2).serial is instrument.serial
    instrument.serial.timeout = 0.02
    instrument.handle_local_echo = True
    with pytest.raises(minimalmodbus.NoResponseError) as caught:
        instrument.read_register(0)
    assert caught.value.request == FRAMES[MODE_RTU]["READ_0"]
    assert caught.value.response == b""


def test_loop_url_without_local_echo_reads_the_request_back(clean_ports: None) -> None:
    instrument = minimalmodbus.Instrument("loop://", 1)
    instrument.serial.timeout = 0.02
    with pytest.raises(minimalmodbus.InvalidResponseError) as caught:
        instrument.read_register(0)
    assert caught.value.response
    assert FRAMES[MODE_RTU]["READ_0"].startswith(caught.value.response)


def count_file_descriptors() -> int:
    """The number of file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_pty_ports_leak_no_file_descriptors(pty_slave: PtySlaves) -> None:
    def read_once(**settings: Any) -> None:
        with minimalmodbus.Instrument(pty_slave.port, 1, **settings) as instrument:
            instrument.serial.timeout = 0.1
            assert instrument.read_register(0) == REGISTERS[1][0]

    read_once()  # the first opening may load modules; count after it
    before = count_file_descriptors()
    for _ in range(20):
        read_once()
    for _ in range(20):
        minimalmodbus.forget_ports()  # a new port object each time
        read_once()
    for _ in range(20):
        read_once(close_port_after_each_call=True)
    gc.collect()
    assert count_file_descriptors() == before


# ---------------------------------------------------------------------------
# 7. Logging
# ---------------------------------------------------------------------------


def minimalmodbus_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages logged to the logger "minimalmodbus"."""
    return [record.getMessage() for record in caplog.records if record.name == "minimalmodbus"]


def test_frames_are_logged_in_hex(mode: str, slave: ScriptedSlave, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="minimalmodbus")
    instrument = connect(slave, mode=mode)
    slave.answer((0.008, FRAMES[mode]["VALUE_5"]))
    instrument.read_register(0)
    messages = minimalmodbus_messages(caplog)
    assert all(record.levelno == logging.DEBUG for record in caplog.records if record.name == "minimalmodbus")
    assert any(hex_of(FRAMES[mode]["READ_0"]) in message for message in messages)
    assert any(hex_of(FRAMES[mode]["VALUE_5"]) in message and "8.00 ms" in message for message in messages)


def test_faults_and_retries_are_logged(slave: ScriptedSlave, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="minimalmodbus")
    instrument = connect(slave)
    instrument.retries = 1
    slave.answer((0.002, NOISE), (0.070, FRAMES[MODE_RTU]["VALUE_5"]))
    slave.answer((0.002, b"\x00"), (0.008, FRAMES[MODE_RTU]["VALUE_6"]))
    assert instrument.read_register(0) == 6
    messages = minimalmodbus_messages(caplog)
    assert any(hex_of(NOISE) in message for message in messages)  # the bad answer
    assert any(  # the retry, in some words
        any(word in message.lower() for word in ("retry", "again", "attempt")) for message in messages
    )
    assert any(  # the late answer, drained
        hex_of(FRAMES[MODE_RTU]["VALUE_5"]) in message and "discard" in message.lower()
        for message in messages
    )
    assert any("skip" in message.lower() and "00" in message for message in messages)  # the noise


def test_nothing_is_logged_above_debug(slave: ScriptedSlave, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="minimalmodbus")
    instrument = connect(slave)
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_5"]))
    instrument.read_register(0)
    with pytest.raises(minimalmodbus.NoResponseError):
        instrument.read_register(0)
    assert minimalmodbus_messages(caplog) == []


# ---------------------------------------------------------------------------
# 8. One lock per port; threads
# ---------------------------------------------------------------------------


def port_lock(instrument: minimalmodbus.Instrument) -> Any:
    """The lock of the instrument's port."""
    return minimalmodbus._port_state(instrument.serial).lock


def held_by_another_thread(lock: Any) -> bool:
    """True if some other thread holds ``lock`` now."""
    acquired: list[bool] = []

    def try_lock() -> None:
        acquired.append(lock.acquire(blocking=False))
        if acquired[0]:
            lock.release()

    thread = threading.Thread(target=try_lock)
    thread.start()
    thread.join()
    return not acquired[0]


def test_instruments_on_one_port_share_one_lock(dummy: dict[bytes, bytes]) -> None:
    by_name = [minimalmodbus.Instrument(PORT, 1), minimalmodbus.Instrument(PORT, 2, MODE_ASCII)]
    port_object = dummy_serial.Serial(port="/dev/ttyS9", timeout=TIMEOUT)
    by_object = [minimalmodbus.Instrument(port_object, 1), minimalmodbus.Instrument(port_object, 3)]
    by_both = minimalmodbus.Instrument(by_name[0].serial, 4)
    other = minimalmodbus.Instrument("/dev/ttyUSB1", 1)
    assert port_lock(by_name[0]) is port_lock(by_name[1]) is port_lock(by_both)
    assert port_lock(by_object[0]) is port_lock(by_object[1])
    locks = {id(port_lock(instrument)) for instrument in (by_name[0], by_object[0], other)}
    assert len(locks) == 3


def test_shared_port_is_opened_and_closed_only_under_its_lock(
    slave: ScriptedSlave, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Otherwise a new instrument can close or reopen the port in another thread's transaction."""
    unlocked: list[str] = []

    class LockCheckingSerial(dummy_serial.Serial):
        checking = False  # from when the port is shared

        def open(self) -> None:
            if self.checking and not held_by_another_thread(minimalmodbus._port_state(self).lock):
                unlocked.append("open")
            super().open()

        def close(self) -> None:
            if self.checking and not held_by_another_thread(minimalmodbus._port_state(self).lock):
                unlocked.append("close")
            super().close()

    monkeypatch.setattr("minimalmodbus.serial.Serial", LockCheckingSerial)
    first = connect(slave)
    first.serial.checking = True
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_5"]))
    first.close()
    minimalmodbus.Instrument(PORT, 2)  # reopens the shared port
    closing = minimalmodbus.Instrument(PORT, 1, close_port_after_each_call=True)  # closes it
    assert closing.read_register(0) == 5  # opens and closes it again
    assert unlocked == []


def test_every_step_of_a_transaction_holds_the_port_lock(
    slave: ScriptedSlave, fake_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    instrument = connect(slave)
    broadcaster = connect(slave, 0)
    lock = port_lock(instrument)
    held: list[tuple[str, bool]] = []

    def checking_sleep(seconds: float) -> None:
        held.append((f"sleep {seconds:.4f}", held_by_another_thread(lock)))
        fake_clock.sleep(seconds)

    def checking_responder(request: bytes) -> list[Chunk]:
        held.append(("write", held_by_another_thread(lock)))
        return slave(request)

    monkeypatch.setattr(minimalmodbus, "_sleep", checking_sleep)
    monkeypatch.setattr(dummy_serial, "_sleep", checking_sleep)
    instrument.serial.responder = checking_responder
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_5"]))
    slave.answer((0.002, NOISE))
    slave.answer()
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_6"]))
    assert instrument.read_register(0) == 5  # read wait
    with pytest.raises(minimalmodbus.InvalidResponseError):
        instrument.read_register(0)  # silence, read waits
    broadcaster.write_register(0, 7)  # drain, silence, broadcast delay
    assert instrument.read_register(1) == 6
    steps = [step for step, _ in held]
    assert "sleep 0.2000" in steps
    assert steps.count("write") == 4
    assert all(is_held for _, is_held in held), held
    assert not held_by_another_thread(lock)


def register_value(slaveaddress: int, registeraddress: int) -> int:
    """What the thread tests' slaves hold: slave 2, register 13 holds 2013."""
    return 1000 * slaveaddress + registeraddress


def computing_responder(request: bytes) -> list[Chunk]:
    """Answer function code 3 at once, computed from the request (own CRC)."""
    if len(request) != 8 or crc16(request[:-2]) != request[-2:] or request[1] != 3:
        return []
    slaveaddress, _, start, quantity = struct.unpack(">BBHH", request[:6])
    values = [register_value(slaveaddress, start + offset) for offset in range(quantity)]
    message = bytes((slaveaddress, 3, 2 * quantity)) + struct.pack(f">{quantity}H", *values)
    return [(0.0, message + crc16(message))]


def read_from_threads(
    make_instrument: Callable[[int], minimalmodbus.Instrument], threads: int, reads: int
) -> list[str]:
    """Each thread reads ``reads`` times from slave 1 and slave 2; return the problems."""
    problems: list[str] = []
    start = threading.Barrier(threads)

    def work(thread_index: int) -> None:
        instruments = [make_instrument(1), make_instrument(2)]
        start.wait()
        for read_index in range(reads):
            for instrument in instruments:
                registeraddress = (thread_index * 13 + read_index) % 50
                expected = register_value(instrument.address, registeraddress)
                try:
                    value = instrument.read_register(registeraddress)
                except Exception as error:  # any failure is a problem to report, not a crash
                    problems.append(f"{instrument.address}/{registeraddress}: {error!r}")
                    continue
                if value != expected:
                    problems.append(f"{instrument.address}/{registeraddress}: {value} != {expected}")

    workers = [threading.Thread(target=work, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return problems


def test_threads_on_one_dummy_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("minimalmodbus.serial.Serial", dummy_serial.Serial)
    minimalmodbus.forget_ports()
    try:

        def make_instrument(slaveaddress: int) -> minimalmodbus.Instrument:
            instrument = minimalmodbus.Instrument(PORT, slaveaddress)
            instrument.serial.responder = computing_responder
            instrument.inter_frame_delay = 0  # no real sleeping
            return instrument

        problems = read_from_threads(make_instrument, threads=4, reads=500)
        assert problems == []
        assert len(minimalmodbus._serialports[PORT].requests) == 4 * 2 * 500
    finally:
        minimalmodbus.forget_ports()


def test_threads_on_one_pty(pty_slave: PtySlaves) -> None:
    def make_instrument(slaveaddress: int) -> minimalmodbus.Instrument:
        instrument = minimalmodbus.Instrument(pty_slave.port, slaveaddress)
        instrument.serial.timeout = 0.2
        instrument.inter_frame_delay = 0
        return instrument

    problems = read_from_threads(make_instrument, threads=4, reads=100)
    assert problems == []
    assert len(pty_slave.bus.requests) == 4 * 2 * 100


# ---------------------------------------------------------------------------
# 9. A real pseudo-terminal, with simulated slaves on its far side
# ---------------------------------------------------------------------------

REGISTERS = {
    slaveaddress: {address: register_value(slaveaddress, address) for address in range(50)}
    for slaveaddress in (1, 2)
}


class NoiseFirstBus(SimulatedBus):
    """A bus whose ``noise_first`` bytes (if any) arrive at once, ahead of a delayed answer."""

    noise_first = b""

    def __call__(self, request: bytes) -> list[Chunk]:
        chunks = super().__call__(request)
        noise, self.noise_first = self.noise_first, b""
        return [(0.0, noise), *chunks] if noise else chunks


class PtySlaves(NamedTuple):
    """Slaves 1 and 2 (REGISTERS) served on a pty: the path to open and the bus."""

    port: str
    bus: NoiseFirstBus


@pytest.fixture
def pty_slave(clean_ports: None, serve: Serve) -> Iterator[PtySlaves]:
    """Slaves 1 and 2 on a pty; afterwards ports closed (then conftest's serve stops the server)."""
    bus = NoiseFirstBus({address: SimulatedSlave(holding_registers=REGISTERS[address]) for address in (1, 2)})
    yield PtySlaves(serve(bus).path, bus)
    close_shared_ports()


def pty_instrument(
    pty_slave: PtySlaves, slaveaddress: int = 1, timeout: float = 0.1
) -> minimalmodbus.Instrument:
    """An instrument on the pty, with a short timeout."""
    instrument = minimalmodbus.Instrument(pty_slave.port, slaveaddress)
    instrument.serial.timeout = timeout
    return instrument


def test_pty_reads_and_writes(pty_slave: PtySlaves) -> None:
    first, second = pty_instrument(pty_slave, 1), pty_instrument(pty_slave, 2)
    assert type(first.serial) is serial.Serial
    assert first.read_register(7) == 1007
    assert second.read_register(7) == 2007
    assert first.read_registers(10, 3) == [1010, 1011, 1012]
    first.write_register(10, 4321)
    second.write_register(10, 1234, functioncode=6)
    first.write_registers(20, [1, 2, 3])
    assert first.read_registers(10, 1) == [4321]
    assert second.read_register(10) == 1234
    assert first.read_registers(19, 5) == [1019, 1, 2, 3, 1023]


def test_pty_write_goes_straight_to_the_descriptor(
    pty_slave: PtySlaves, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 13: a plain pyserial port is written with one os.write, without
    # pyserial's select after it; the frame on the line is the same
    instrument = pty_instrument(pty_slave, 1)
    writes = count_calls(monkeypatch, instrument.serial, "write")
    assert instrument.read_register(7) == 1007
    assert writes == []


def test_pty_write_falls_back_to_pyserial_when_the_buffer_is_full(
    pty_slave: PtySlaves, monkeypatch: pytest.MonkeyPatch
) -> None:
    instrument = pty_instrument(pty_slave, 1)
    writes = count_calls(monkeypatch, instrument.serial, "write")
    real_write = os.write

    def full_once(fd: int, data: bytes) -> int:
        if fd == instrument.serial.fd and not writes:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_once)
    assert instrument.read_register(7) == 1007
    assert writes == [(minimalmodbus._new_request(MODE_RTU, 1, 3, b"\x00\x07\x00\x01").frame,)]


def test_pty_port_of_a_subclass_with_its_own_write_is_written_through_it(
    pty_slave: PtySlaves, monkeypatch: pytest.MonkeyPatch
) -> None:
    # e.g. pyserial's RS-485 class switches RTS around its write: never bypassed
    written: list[bytes] = []

    class OwnWrite(serial.Serial):
        def write(self, data: bytes) -> int | None:  # type: ignore[override]
            written.append(bytes(data))
            return super().write(data)

    port = OwnWrite(port=pty_slave.port, baudrate=19200, timeout=0.5)
    try:
        assert minimalmodbus.Instrument(port, 1).read_register(7) == 1007
        assert len(written) == 1
    finally:
        port.close()


def test_pty_exception_reply_returns_well_before_the_timeout(pty_slave: PtySlaves) -> None:
    instrument = pty_instrument(pty_slave, timeout=1.0)
    with pytest.raises(minimalmodbus.IllegalRequestError) as caught:
        instrument.read_register(99)
    assert (caught.value.exception_code, caught.value.function_code) == (2, 3)
    assert instrument.roundtrip_time is not None
    assert instrument.roundtrip_time < 0.5
    assert instrument.read_register(1) == 1001
    assert instrument.roundtrip_time < 0.5


def test_pty_late_reply_then_a_good_transaction(pty_slave: PtySlaves) -> None:
    instrument = pty_instrument(pty_slave, timeout=0.1)
    pty_slave.bus.delay_seconds = 0.15  # answers 1.5 timeouts late
    pty_slave.bus.inject(Fault.DELAY)
    with pytest.raises(minimalmodbus.NoResponseError):
        instrument.read_register(1)
    assert instrument.read_register(2) == 1002


def test_pty_noise_then_late_answer_is_drained(pty_slave: PtySlaves) -> None:
    instrument = pty_instrument(pty_slave, timeout=0.1)
    pty_slave.bus.noise_first = NOISE  # fault after ~0.1 s, answer at 0.15 s
    pty_slave.bus.delay_seconds = 0.15
    pty_slave.bus.inject(Fault.DELAY)
    with pytest.raises(minimalmodbus.InvalidResponseError) as caught:
        instrument.read_register(1)
    assert caught.value.response == NOISE
    assert instrument.read_register(2) == 1002


def test_pty_noise_and_a_reply_in_pieces(pty_slave: PtySlaves) -> None:
    instrument = pty_instrument(pty_slave, timeout=0.1)
    pty_slave.bus.noise_bytes = b"\x00\xff\x01"
    pty_slave.bus.split_gap_seconds = 0.003
    pty_slave.bus.inject(Fault.NOISE)
    pty_slave.bus.inject(Fault.SPLIT)
    assert instrument.read_registers(3, 2) == [1003, 1004]


def test_pty_silent_slave_and_retry(pty_slave: PtySlaves) -> None:
    instrument = pty_instrument(pty_slave, timeout=0.05)
    pty_slave.bus.inject(Fault.NO_ANSWER)
    with pytest.raises(minimalmodbus.NoResponseError):
        instrument.read_register(4)
    assert instrument.read_register(5) == 1005
    instrument.retries = 1
    pty_slave.bus.inject(Fault.NO_ANSWER)
    assert instrument.read_register(6) == 1006
    assert len(pty_slave.bus.requests) == 4


# ---------------------------------------------------------------------------
# Frame tables and their self-check
# ---------------------------------------------------------------------------


def frame_start_length(mode: str) -> int:
    """Wire bytes of slave address and function code: 2 in RTU, 5 in ASCII (with the colon)."""
    return 2 if mode == MODE_RTU else 5


def checksum_length(mode: str) -> int:
    """Wire bytes after the message: CRC in RTU, LRC and CR LF in ASCII."""
    return 2 if mode == MODE_RTU else 4


def message_of(mode: str, frame: bytes) -> bytes:
    """Slave address, function code and data of a good frame."""
    if mode == MODE_RTU:
        return frame[:-2]
    return bytes.fromhex(frame[1:-4].decode())


def test_frame_tables() -> None:
    """Good frames carry a valid checksum; each bad frame has exactly its defect."""
    assert crc16(b"123456789") == (0x4B37).to_bytes(2, "little")  # the CRC check value
    assert FRAMES[MODE_RTU]["EXCEPTION_2"] == bytes.fromhex("01 83 02 C0 F1")  # a well-known frame
    assert FRAMES[MODE_RTU].keys() == FRAMES[MODE_ASCII].keys()
    for name in FRAMES[MODE_RTU].keys() - BAD_FRAMES:
        rtu, ascii_frame = FRAMES[MODE_RTU][name], FRAMES[MODE_ASCII][name]
        assert wire(MODE_RTU, message_of(MODE_RTU, rtu)) == rtu, name
        assert wire(MODE_ASCII, message_of(MODE_ASCII, ascii_frame)) == ascii_frame, name
        assert message_of(MODE_RTU, rtu) == message_of(MODE_ASCII, ascii_frame), name
    for mode, frames in FRAMES.items():
        good, bad = frames["VALUE_5"], frames["BAD_CHECKSUM"]
        last_checksum_byte = len(good) - 1 if mode == MODE_RTU else len(good) - 3
        assert [index for index, pair in enumerate(zip(good, bad)) if len(set(pair)) == 2] == [
            last_checksum_byte
        ]
        assert len(bad) == len(good)
        assert frames["TRUNCATED"] == good[: -checksum_length(mode)]
        our_starts = [frames[name][: frame_start_length(mode)] for name in ("READ_0", "EXCEPTION_2")]
        for name in ("SLAVE_2_VALUE_7", "OTHER_FUNCTION_CODE"):  # no false start of our frame
            assert not any(start in frames[name] for start in our_starts), name
        assert not any(start in NOISE for start in our_starts)
        assert not any(start in GARBAGE + frames["VALUE_6"] for start in our_starts[1:])


BAD_FRAMES = {"BAD_CHECKSUM", "TRUNCATED"}

FRAMES: dict[str, dict[str, bytes]] = {
    MODE_RTU: {
        # Requests: slave address, function code, data, CRC (low byte first).
        "READ_0": bytes.fromhex("01 03 0000 0001 840A"),  # read_register(0): fc 3, register 0, 1 register
        "READ_1": bytes.fromhex("01 03 0001 0001 D5CA"),  # read_register(1)
        "READ_COILS": bytes.fromhex("01 01 0000 0003 7C0B"),  # read_bits(0, 3, 1): 3 coils
        "WRITE_7": bytes.fromhex("01 10 0000 0001 02 0007 E792"),  # write_register(0, 7): fc 16
        "WRITE_7_FC6": bytes.fromhex("01 06 0000 0007 C808"),  # write_register(0, 7, functioncode=6)
        "BROADCAST_WRITE_7": bytes.fromhex("00 10 0000 0001 02 0007 EA02"),  # slave 0, write_register(0, 7)
        "CUSTOM_65": bytes.fromhex("01 41 01 D190"),  # _perform_command(65, b"\x01")
        # Answers of slave 1 unless said otherwise.
        "VALUE_5": bytes.fromhex("01 03 02 0005 7847"),  # byte count 2, register value 5
        "VALUE_6": bytes.fromhex("01 03 02 0006 3846"),  # register value 6
        "COILS_1_0_1": bytes.fromhex("01 01 01 05 918B"),  # 1 byte: coils 1, 0, 1 (LSB first)
        "WRITE_7_ANSWER": bytes.fromhex("01 10 0000 0001 01C9"),  # fc 16 echoes address and quantity
        "EXCEPTION_2": bytes.fromhex("01 83 02 C0F1"),  # fc 3 | 0x80, Illegal data address
        "WRITE_EXCEPTION_4": bytes.fromhex("01 90 04 4DC3"),  # fc 16 | 0x80, Slave device failure
        "CUSTOM_65_ANSWER": bytes.fromhex("01 41 0A0B0C 2ACB"),  # fc 65, 3 data bytes
        "CUSTOM_65_EXCEPTION": bytes.fromhex("01 C1 01 B050"),  # fc 65 | 0x80, Illegal function
        "SLAVE_2_VALUE_7": bytes.fromhex("02 03 02 0007 BD86"),  # slave 2's answer: register value 7
        "OTHER_FUNCTION_CODE": bytes.fromhex("01 04 02 0005 7933"),  # fc 4 instead of 3
        "BAD_CHECKSUM": bytes.fromhex("01 03 02 0005 7848"),  # VALUE_5, CRC high byte off by one
        "TRUNCATED": bytes.fromhex("01 03 02 0005"),  # VALUE_5 without its CRC
    },
    MODE_ASCII: {
        # Requests: colon, hex of slave address, function code, data, LRC, CR LF.
        "READ_0": b":010300000001FB\r\n",
        "READ_1": b":010300010001FA\r\n",
        "READ_COILS": b":010100000003FB\r\n",
        "WRITE_7": b":011000000001020007E5\r\n",
        "WRITE_7_FC6": b":010600000007F2\r\n",
        "BROADCAST_WRITE_7": b":001000000001020007E6\r\n",
        "CUSTOM_65": b":014101BD\r\n",
        # Answers: the same messages as in RTU.
        "VALUE_5": b":0103020005F5\r\n",
        "VALUE_6": b":0103020006F4\r\n",
        "COILS_1_0_1": b":01010105F8\r\n",
        "WRITE_7_ANSWER": b":011000000001EE\r\n",
        "EXCEPTION_2": b":0183027A\r\n",
        "WRITE_EXCEPTION_4": b":0190046B\r\n",
        "CUSTOM_65_ANSWER": b":01410A0B0C9D\r\n",
        "CUSTOM_65_EXCEPTION": b":01C1013D\r\n",
        "SLAVE_2_VALUE_7": b":0203020007F2\r\n",
        "OTHER_FUNCTION_CODE": b":0104020005F4\r\n",
        "BAD_CHECKSUM": b":0103020005F6\r\n",  # VALUE_5, LRC off by one
        "TRUNCATED": b":0103020005",  # VALUE_5 without LRC and CR LF
    },
}


# ---------------------------------------------------------------------------
# Port objects that are not pyserial's
# ---------------------------------------------------------------------------


class MinimalPort:
    """A port object with only what API.md part A promises: open, close, read, write, is_open."""

    def __init__(self, inner: dummy_serial.Serial) -> None:
        self._inner = inner

    @property
    def is_open(self) -> bool:
        return self._inner.is_open

    def open(self) -> None:
        self._inner.open()

    def close(self) -> None:
        self._inner.close()

    def read(self, size: int = 1) -> bytes:
        return self._inner.read(size)

    def write(self, data: bytes) -> int:
        return self._inner.write(data)


def test_minimal_port_object_is_used_as_given(mode: str, slave: ScriptedSlave, fake_clock: Any) -> None:
    inner = dummy_serial.Serial(port="minimal", timeout=TIMEOUT)
    inner.responder = slave
    port = MinimalPort(inner)
    instrument = minimalmodbus.Instrument(port, 1, mode)
    assert instrument.serial is port  # a port below SerialPort, on purpose
    slave.answer((0.008, FRAMES[mode]["VALUE_5"]))
    assert instrument.read_register(0) == 5
    assert inner.requests == [FRAMES[mode]["READ_0"]]
    # Without a baud rate the silence is the specification's fixed 1.75 ms.
    slave.answer((0.008, FRAMES[mode]["VALUE_6"]))
    assert instrument.read_register(1) == 6
    assert slave.write_times[1] - slave.write_times[0] == exact(0.008 + 0.00175)


class TrickleCountPort(dummy_serial.Serial):
    """Reports at most one waiting byte, as pyserial's socket:// ports do."""

    @property
    def in_waiting(self) -> int:
        return min(1, super().in_waiting)


def test_draining_reads_on_while_bytes_wait(slave: ScriptedSlave, fake_clock: Any) -> None:
    """Late bytes are drained without a silence-long sleep per byte."""
    port = TrickleCountPort(port="socket-like", timeout=TIMEOUT)
    port.responder = slave
    instrument = minimalmodbus.Instrument(port, 1)
    slave.answer((0.002, NOISE * 10))  # garbage only: the exchange fails
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_6"]))
    with pytest.raises(minimalmodbus.InvalidResponseError):
        instrument.read_register(0)
    sleeps_before = len(fake_clock.sleeps)
    assert instrument.read_register(1) == 6
    # One wait for the fault's timeout, one silence to see the line quiet, the
    # inter-frame silence, and the answer's own arrival: not one per byte.
    assert len(fake_clock.sleeps) - sleeps_before <= 4


def test_minimal_port_late_answer_is_drained(slave: ScriptedSlave, fake_clock: Any) -> None:
    """Without in_waiting the drain reads until a timeout brings nothing: no stale answer."""
    inner = dummy_serial.Serial(port="minimal", timeout=TIMEOUT)
    inner.responder = slave
    instrument = minimalmodbus.Instrument(MinimalPort(inner), 1)
    slave.answer((0.070, FRAMES[MODE_RTU]["VALUE_5"]))  # after the timeout
    slave.answer((0.008, FRAMES[MODE_RTU]["VALUE_6"]))
    with pytest.raises(minimalmodbus.NoResponseError):
        instrument.read_register(0)
    assert instrument.read_register(1) == 6


def test_minimal_port_unknown_layout_is_read_to_the_timeout(slave: ScriptedSlave, fake_clock: Any) -> None:
    inner = dummy_serial.Serial(port="minimal", timeout=TIMEOUT)
    inner.responder = slave
    instrument = minimalmodbus.Instrument(MinimalPort(inner), 1)
    answer = wire(MODE_RTU, "01 41 01 02 03 04")  # vendor function code 65, 4 data bytes
    slave.answer((0.008, answer))
    assert instrument.perform_command(65, b"\x01") == bytes.fromhex("01 02 03 04")
    # The read that gets the rest waits its timeout, then one more brings nothing.
    assert instrument.roundtrip_time == exact(0.008 + 2 * TIMEOUT)


class _UnweakablePort:
    """A minimal port object that cannot be weakly referenced (no __weakref__ slot)."""

    __slots__ = ()
    is_open = True

    def open(self) -> None: ...

    def close(self) -> None: ...

    def read(self, size: int = 1) -> bytes:
        return b""

    def write(self, data: bytes, /) -> int:
        return len(data)


def test_state_of_unweakable_ports_is_bounded() -> None:
    # Issue 11: per-port state does not grow without bound when a program makes
    # such port objects anew; the same object keeps its state (and its lock).
    minimalmodbus.forget_ports()
    ports = [_UnweakablePort() for _ in range(100)]
    states = [minimalmodbus._port_state(port) for port in ports]
    assert len(minimalmodbus._UNWEAKABLE_PORT_STATES) == minimalmodbus._MAX_UNWEAKABLE_PORTS
    assert minimalmodbus._port_state(ports[-1]) is states[-1]
    minimalmodbus.forget_ports()
    assert minimalmodbus._UNWEAKABLE_PORT_STATES == {}


# ---------------------------------------------------------------------------
# The lean read of a plain pyserial port (issue 13): one select and one read
# take all that has arrived, and only the frame is kept
# ---------------------------------------------------------------------------


@pytest.fixture
def raw_pty(clean_ports: None) -> Iterator[Callable[[bytes], minimalmodbus.Instrument]]:
    """An instrument on a pty whose other end answers the first request with given bytes, at once."""
    import pty
    import tty

    pairs: list[tuple[int, int, threading.Thread]] = []

    def make(answer: bytes) -> minimalmodbus.Instrument:
        master_fd, slave_fd = pty.openpty()
        tty.setraw(slave_fd)

        def answer_once() -> None:
            os.read(master_fd, 256)  # the request
            os.write(master_fd, answer)

        thread = threading.Thread(target=answer_once, daemon=True)
        thread.start()
        pairs.append((master_fd, slave_fd, thread))
        instrument = minimalmodbus.Instrument(os.ttyname(slave_fd), 1)
        instrument.serial.timeout = 0.2
        return instrument

    yield make
    close_shared_ports()
    for master_fd, slave_fd, thread in pairs:
        thread.join(timeout=1)
        os.close(master_fd)
        os.close(slave_fd)


def test_lean_read_keeps_only_the_frame(raw_pty: Callable[[bytes], minimalmodbus.Instrument]) -> None:
    # An exception answer and two bytes of noise after it, in one piece: the
    # read takes up to the 7 bytes of a normal answer, the frame is the first 5
    instrument = raw_pty(wire(MODE_RTU, "01 83 02") + b"\xee\xee")
    with pytest.raises(minimalmodbus.IllegalRequestError):
        instrument.read_register(0)


def test_lean_read_of_an_exception_flagged_answer_of_the_normal_length(
    raw_pty: Callable[[bytes], minimalmodbus.Instrument],
) -> None:
    # As 2.x recordings have them (issue 10, item 6): fc 0x83, valid CRC over all 7 bytes
    instrument = raw_pty(wire(MODE_RTU, "01 83 02 00 05"))
    with pytest.raises(minimalmodbus.SlaveReportedException) as caught:
        instrument.read_register(0)
    assert caught.value.exception_code == 2


def test_lean_read_of_a_normal_answer(raw_pty: Callable[[bytes], minimalmodbus.Instrument]) -> None:
    instrument = raw_pty(FRAMES[MODE_RTU]["VALUE_5"])
    assert instrument.read_register(0) == 5


def test_non_blocking_port_waits_on_the_line_without_spinning(
    slave: ScriptedSlave, fake_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 13 (found by fuzzing): with serial.timeout = 0 a read returns at once;
    # the answer may still come until both frames could have crossed the line
    # (8 + 7 bytes at 1200 baud: 125 ms). Wait in short sleeps, not a busy loop.
    instrument = connect(slave)
    port = as_dummy(instrument.serial)
    port.timeout = 0
    port.baudrate = 1200
    reads: list[int] = []
    real_read = port.read

    def counting_read(size: int = 1) -> bytes:
        reads.append(size)
        assert len(reads) < 1000, "a busy loop: the fake clock never moves"
        return real_read(size)

    monkeypatch.setattr(port, "read", counting_read)
    slave.answer((0.050, FRAMES[MODE_RTU]["VALUE_5"]))
    assert instrument.read_register(0) == 5
    assert len(reads) <= 0.050 / minimalmodbus._POLL_INTERVAL + 5
    assert all(sleep <= minimalmodbus._POLL_INTERVAL + 1e-12 for sleep in fake_clock.sleeps[1:])


def test_non_blocking_pty_port_waits_in_select(pty_slave: PtySlaves, monkeypatch: pytest.MonkeyPatch) -> None:
    instrument = pty_instrument(pty_slave, 1, timeout=0)
    instrument.serial.baudrate = 1200  # the answer may come until 125 ms after the request
    waits: list[Any] = []
    real_select = select.select

    def counting_select(*args: Any) -> Any:
        waits.append(args[3])
        return real_select(*args)

    monkeypatch.setattr(select, "select", counting_select)
    assert instrument.read_register(7) == 1007
    assert len(waits) <= 10, waits


def test_cancel_read_ends_the_wait_for_an_answer(pty_slave: PtySlaves) -> None:
    # pyserial's cancel_read() from another thread ends a waiting read (2.x:
    # NoResponseError at once), also the lean read's select
    instrument = pty_instrument(pty_slave, 9, timeout=30.0)  # slave 9: nobody answers
    port = instrument.serial
    cancelled = threading.Event()

    def cancel_once_waiting() -> None:
        while not cancelled.is_set():
            port.cancel_read()
            cancelled.wait(0.05)

    canceller = threading.Thread(target=cancel_once_waiting, daemon=True)
    canceller.start()
    try:
        with pytest.raises(minimalmodbus.NoResponseError):
            instrument.read_register(0)  # would wait 30 s without the cancel
    finally:
        cancelled.set()
        canceller.join()
