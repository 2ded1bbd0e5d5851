"""Tests for dummy_serial, the stand-in for pyserial's Serial.

Time is never spent for real: the autouse fixture ``clock`` replaces
``dummy_serial._now`` and ``dummy_serial._sleep`` with a fake clock that
records every sleep and advances by exactly that much. The clock starts at
0.0, so ``delay - elapsed`` below is the same float the module computes.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeClock
from frames import crc16 as _crc16_modbus
from hypothesis import given
from hypothesis import strategies as st

import dummy_serial

PORTNAME = "/dev/ttyUSB0"
TIMEOUT = 0.05


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Install a fake clock and a clean configuration; undo both afterwards."""
    fake = FakeClock(start=0.0, ignore_nonpositive=False)
    monkeypatch.setattr(dummy_serial, "_now", fake.now)
    monkeypatch.setattr(dummy_serial, "_sleep", fake.sleep)
    monkeypatch.setattr(dummy_serial, "RESPONSES", {REQUEST: RESPONSE})
    monkeypatch.setattr(dummy_serial, "DEFAULT_RESPONSE", dummy_serial.DEFAULT_RESPONSE)
    monkeypatch.setattr(dummy_serial, "NO_DATA_PRESENT", dummy_serial.NO_DATA_PRESENT)
    monkeypatch.setattr(dummy_serial, "VERBOSE", False)
    return fake


@pytest.fixture
def port() -> dummy_serial.Serial:
    """An open port with the usual MinimalModbus timeout."""
    return dummy_serial.Serial(port=PORTNAME, timeout=TIMEOUT)


def write_answered(port: dummy_serial.Serial, clock: FakeClock) -> None:
    """Write the recorded REQUEST and let the clock run until its whole answer has arrived."""
    port.write(REQUEST)
    clock.time += port.wire_time(len(REQUEST) + len(RESPONSE))


def sleeps_until(*moments: float) -> list[float]:
    """Return the sleeps of reads waking at ``moments``, as the fake clock adds.

    Each read sleeps ``moment - clock time``; the clock then adds that sleep,
    so the float sums here are the same as in the fake clock.
    """
    time = 0.0
    sleeps = []
    for moment in moments:
        sleeps.append(moment - time)
        time += moment - time
    return sleeps


def chunks_responder(
    *chunks: tuple[float, bytes],
) -> tuple[dummy_serial.Responder, list[bytes]]:
    """Return a responder answering every request with ``chunks``, and its log."""
    seen: list[bytes] = []

    def responder(request: bytes) -> list[tuple[float, bytes]]:
        seen.append(request)
        return list(chunks)

    return responder, seen


# ---------------------------------------------------------------------------
# Construction, opening and closing
# ---------------------------------------------------------------------------


def test_constructor_without_port_stays_closed() -> None:
    port = dummy_serial.Serial()
    assert port.port is None
    assert port.is_open is False
    assert port.timeout is None
    assert port.requests == []
    assert port.responder is None


def test_constructor_with_port_opens_it(port: dummy_serial.Serial) -> None:
    assert port.is_open is True
    assert port.port == PORTNAME
    assert port.timeout == TIMEOUT


def test_constructor_stores_every_keyword() -> None:
    settings: dict[str, Any] = {
        "port": "COM4",
        "baudrate": 19200,
        "bytesize": 7,
        "parity": "E",
        "stopbits": 2,
        "timeout": 0.2,
        "xonxoff": True,
        "rtscts": True,
        "write_timeout": 2.0,
        "dsrdtr": True,
        "inter_byte_timeout": 0.01,
        "exclusive": True,
    }
    port = dummy_serial.Serial(**settings)
    for name, value in settings.items():
        assert getattr(port, name) == value


def test_constructor_defaults_and_keywords_match_pyserial() -> None:
    serial = pytest.importorskip("serial")
    theirs = inspect.signature(serial.Serial.__init__).parameters
    ours = inspect.signature(dummy_serial.Serial.__init__).parameters
    # and fail_to_open, as 2.x's double had (issue 10, item 5)
    assert list(ours) == [*(name for name in theirs if name != "kwargs"), "fail_to_open"]
    for name, parameter in ours.items():
        if name != "fail_to_open":
            assert parameter.default == theirs[name].default, name


def test_constructor_rejects_unknown_keyword() -> None:
    with pytest.raises(TypeError, match="baud"):
        dummy_serial.Serial(port=PORTNAME, baud=9600)  # type: ignore[call-arg]


def test_close_then_open_again(port: dummy_serial.Serial) -> None:
    port.close()
    assert port.is_open is False
    port.open()
    assert port.is_open is True


def test_open_an_open_port_raises(port: dummy_serial.Serial) -> None:
    with pytest.raises(OSError, match=r"the port '/dev/ttyUSB0' is already open"):
        port.open()
    assert port.is_open is True


def test_close_a_closed_port_raises(port: dummy_serial.Serial) -> None:
    port.close()
    with pytest.raises(IOError, match=r"the port '/dev/ttyUSB0' is already closed"):
        port.close()


def test_open_without_port_name_raises() -> None:
    port = dummy_serial.Serial()
    with pytest.raises(OSError, match="without a name"):
        port.open()
    assert port.is_open is False


def test_port_name_set_later_can_be_opened() -> None:
    port = dummy_serial.Serial(timeout=TIMEOUT)
    port.port = "COM4"
    port.open()
    assert port.is_open is True


@pytest.mark.parametrize(
    ("action", "call"),
    [
        ("read from", lambda port: port.read(1)),
        ("write to", lambda port: port.write(b"\x01")),
        ("flush", lambda port: port.flush()),
        ("reset the input buffer of", lambda port: port.reset_input_buffer()),
        ("reset the output buffer of", lambda port: port.reset_output_buffer()),
        ("count the waiting bytes of", lambda port: port.in_waiting),
    ],
)
def test_using_a_closed_port_raises(action: str, call: Callable[[dummy_serial.Serial], object]) -> None:
    port = dummy_serial.Serial(port=PORTNAME)
    port.close()
    message = f"cannot {action} the port '/dev/ttyUSB0': it is closed"
    with pytest.raises(OSError) as excinfo:
        call(port)
    assert str(excinfo.value) == "Dummy_serial: " + message
    assert port.requests == []


def test_close_discards_incoming_bytes(port: dummy_serial.Serial) -> None:
    port.responder, _ = chunks_responder((0.0, b"\x01\x02"), (1.0, b"\x03"))
    port.write(b"\x00")
    port.close()
    port.open()
    assert port.in_waiting == 0
    port.timeout = None
    assert port.read(3) == b""


def test_close_keeps_the_recorded_requests(port: dummy_serial.Serial) -> None:
    port.write(REQUEST)
    port.close()
    assert port.requests == [REQUEST]


# ---------------------------------------------------------------------------
# repr
# ---------------------------------------------------------------------------


def test_repr_of_an_open_port(port: dummy_serial.Serial) -> None:
    assert repr(port) == (
        f"dummy_serial.Serial<id={hex(id(port))}, open=True>"
        "(port='/dev/ttyUSB0', timeout=0.05, waiting_data=b'')"
    )


def test_repr_shows_the_bytes_that_have_arrived(port: dummy_serial.Serial, clock: FakeClock) -> None:
    write_answered(port, clock)
    port.read(3)
    assert repr(port) == (
        f"dummy_serial.Serial<id={hex(id(port))}, open=True>"
        "(port='/dev/ttyUSB0', timeout=0.05, waiting_data=b'\\x07\\xd0\\x1e)')"
    )


def test_repr_leaves_out_bytes_not_yet_arrived(port: dummy_serial.Serial) -> None:
    port.responder, _ = chunks_responder((0.0, b"\x01"), (0.5, b"\x02"))
    port.write(b"\x00")
    assert repr(port).endswith("waiting_data=b'\\x01')")


def test_repr_of_a_closed_port() -> None:
    port = dummy_serial.Serial()
    assert repr(port) == (
        f"dummy_serial.Serial<id={hex(id(port))}, open=False>(port=None, timeout=None, waiting_data=b'')"
    )


# ---------------------------------------------------------------------------
# Writing and the recorded answers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "typename"),
    [
        ("\x0a\x03", "str"),
        (bytearray(b"\x0a\x03"), "bytearray"),
        (memoryview(b"\x0a\x03"), "memoryview"),
        ([10, 3], "list"),
        (10, "int"),
        (None, "NoneType"),
    ],
)
def test_write_rejects_anything_but_bytes(port: dummy_serial.Serial, data: object, typename: str) -> None:
    with pytest.raises(TypeError, match=f"must be bytes, not {typename}: "):
        port.write(data)  # type: ignore[arg-type]
    assert port.requests == []
    assert port.in_waiting == 0


def test_write_returns_the_number_of_bytes(port: dummy_serial.Serial) -> None:
    assert port.write(REQUEST) == 8
    assert port.write(b"") == 0


def test_recorded_response_is_read_back(port: dummy_serial.Serial) -> None:
    port.write(REQUEST)
    assert port.read(7) == RESPONSE
    assert port.in_waiting == 0


def test_unknown_request_gets_the_default_response(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.write(b"\x0b\x03\x00\x00\x00\x01")
    assert port.read(100) == b"NotFoundInResponseDictionary"
    assert clock.sleeps == [TIMEOUT]


def test_default_response_is_read_at_each_write(
    port: dummy_serial.Serial, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dummy_serial, "DEFAULT_RESPONSE", b"\xee")
    port.write(b"\x0b")
    assert port.read(1) == b"\xee"


def test_no_data_present_means_silence(port: dummy_serial.Serial, clock: FakeClock) -> None:
    dummy_serial.RESPONSES[WRITE_REQUEST] = dummy_serial.NO_DATA_PRESENT
    port.write(WRITE_REQUEST)
    assert port.in_waiting == 0
    assert port.read(8) == b""
    assert clock.sleeps == [TIMEOUT]
    assert port.requests == [WRITE_REQUEST]


def test_default_response_may_be_silence(port: dummy_serial.Serial, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dummy_serial, "DEFAULT_RESPONSE", dummy_serial.NO_DATA_PRESENT)
    port.write(b"\x0b")
    assert port.in_waiting == 0


def test_responses_table_may_be_replaced(port: dummy_serial.Serial, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dummy_serial, "RESPONSES", {b"\x01": b"\x02\x03"})
    port.write(b"\x01")
    assert port.read(2) == b"\x02\x03"


def test_recorded_responder_gives_one_immediate_chunk() -> None:
    assert dummy_serial.recorded_responder(REQUEST) == [(0.0, RESPONSE)]
    assert dummy_serial.recorded_responder(b"\x00") == [(0.0, b"NotFoundInResponseDictionary")]
    dummy_serial.RESPONSES[WRITE_REQUEST] = b""
    assert dummy_serial.recorded_responder(WRITE_REQUEST) == []


def test_requests_are_recorded_in_order(port: dummy_serial.Serial) -> None:
    dummy_serial.RESPONSES[WRITE_REQUEST] = dummy_serial.NO_DATA_PRESENT
    port.write(REQUEST)
    port.write(WRITE_REQUEST)
    port.write(b"\x0b")
    port.write(REQUEST)
    assert port.requests == [REQUEST, WRITE_REQUEST, b"\x0b", REQUEST]


def test_answers_to_several_writes_queue_up(port: dummy_serial.Serial, clock: FakeClock) -> None:
    write_answered(port, clock)
    write_answered(port, clock)
    assert port.in_waiting == 14
    assert port.read(14) == RESPONSE + RESPONSE


def test_flush_and_reset_output_buffer_change_nothing(port: dummy_serial.Serial, clock: FakeClock) -> None:
    write_answered(port, clock)
    port.flush()
    port.reset_output_buffer()
    assert port.read(7) == RESPONSE
    assert clock.sleeps == []


# ---------------------------------------------------------------------------
# Reading: sizes
# ---------------------------------------------------------------------------


def test_read_exact_size_does_not_sleep(port: dummy_serial.Serial, clock: FakeClock) -> None:
    write_answered(port, clock)
    assert port.read(7) == RESPONSE
    assert clock.sleeps == []


def test_read_partial_sizes_keep_the_rest(port: dummy_serial.Serial, clock: FakeClock) -> None:
    write_answered(port, clock)
    assert port.read(2) == b"\x0a\x03"
    assert port.in_waiting == 5
    assert port.read() == b"\x02"
    assert port.read(4) == b"\x07\xd0\x1e\x29"
    assert clock.sleeps == []


def test_read_excess_size_waits_out_the_timeout(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.write(REQUEST)
    assert port.read(20) == RESPONSE
    assert clock.sleeps == [TIMEOUT]
    assert clock.time == TIMEOUT


def test_read_zero_bytes(port: dummy_serial.Serial, clock: FakeClock) -> None:
    write_answered(port, clock)
    assert port.read(0) == b""
    assert port.in_waiting == 7
    assert clock.sleeps == []


def test_read_negative_size_raises(port: dummy_serial.Serial) -> None:
    with pytest.raises(ValueError, match="must be 0 or more, not -1"):
        port.read(-1)


def test_read_from_silent_port_waits_out_the_timeout(port: dummy_serial.Serial, clock: FakeClock) -> None:
    assert port.read(5) == b""
    assert clock.sleeps == [TIMEOUT]


# ---------------------------------------------------------------------------
# Reading: waiting on the schedule
# ---------------------------------------------------------------------------


def test_read_sleeps_until_the_last_byte_arrives(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.responder, _ = chunks_responder((0.01, RESPONSE))
    port.write(REQUEST)
    assert port.read(7) == RESPONSE
    assert clock.sleeps == [0.01]


def test_read_returns_when_its_size_is_reached_not_the_whole_answer(
    port: dummy_serial.Serial, clock: FakeClock
) -> None:
    port.responder, _ = chunks_responder((0.01, RESPONSE[:3]), (0.02, RESPONSE[3:]))
    port.write(REQUEST)
    assert port.read(2) == RESPONSE[:2]
    assert clock.sleeps == [0.01]
    assert port.read(5) == RESPONSE[2:]
    assert clock.sleeps == sleeps_until(0.01, 0.02)


def test_read_with_part_arrived_in_time_returns_the_part(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.responder, _ = chunks_responder((0.01, RESPONSE[:3]), (0.1, RESPONSE[3:]))
    port.write(REQUEST)
    assert port.read(7) == RESPONSE[:3]
    assert clock.sleeps == [TIMEOUT]
    assert port.read(4) == RESPONSE[3:]
    assert clock.sleeps == sleeps_until(TIMEOUT, 0.1)


def test_late_answer_is_delivered_to_a_later_read(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.responder, _ = chunks_responder((0.08, RESPONSE))
    port.write(REQUEST)
    assert port.read(7) == b""
    assert clock.sleeps == [TIMEOUT]
    assert port.in_waiting == 0
    assert port.read(7) == RESPONSE
    assert clock.sleeps == sleeps_until(TIMEOUT, 0.08)


def test_late_answer_arrives_after_the_next_request(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.responder, _ = chunks_responder((0.08, b"\x01\x02"))
    port.write(b"\xa1")
    assert port.read(2) == b""
    port.write(b"\xa2")  # at 0.05: first answer due at 0.08, second at 0.13
    assert port.read(2) == b"\x01\x02"  # the stale answer to the first request
    assert port.read(2) == b"\x01\x02"
    assert clock.sleeps == sleeps_until(TIMEOUT, 0.08, TIMEOUT + 0.08)


def test_byte_arriving_exactly_at_the_timeout_is_read(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.responder, _ = chunks_responder((TIMEOUT, RESPONSE))
    port.write(REQUEST)
    assert port.read(7) == RESPONSE
    assert clock.sleeps == [TIMEOUT]


def test_clock_time_passed_before_the_read_counts(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.responder, _ = chunks_responder((0.03, RESPONSE))
    port.write(REQUEST)
    clock.time = 0.02
    assert port.read(7) == RESPONSE
    assert clock.sleeps == [0.03 - 0.02]


def test_timeout_none_waits_as_long_as_needed(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.timeout = None
    port.responder, _ = chunks_responder((0.5, RESPONSE[:3]), (3.0, RESPONSE[3:]))
    port.write(REQUEST)
    assert port.read(7) == RESPONSE
    assert clock.sleeps == [3.0]


def test_timeout_none_never_hangs_when_bytes_will_not_come(
    port: dummy_serial.Serial, clock: FakeClock
) -> None:
    port.timeout = None
    port.responder, _ = chunks_responder((0.0, RESPONSE[:3]), (0.5, RESPONSE[3:]))
    port.write(REQUEST)
    assert port.read(8) == RESPONSE[:3]  # what has arrived now, no sleep
    assert clock.sleeps == []
    assert port.read(4) == RESPONSE[3:]  # the rest is still scheduled
    assert clock.sleeps == [0.5]


def test_timeout_none_on_a_silent_port_returns_nothing_at_once(
    port: dummy_serial.Serial, clock: FakeClock
) -> None:
    port.timeout = None
    assert port.read(1) == b""
    assert clock.sleeps == []


def test_timeout_zero_returns_what_has_arrived(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.timeout = 0
    port.responder, _ = chunks_responder((0.0, RESPONSE[:3]), (0.01, RESPONSE[3:]))
    port.write(REQUEST)
    assert port.read(7) == RESPONSE[:3]
    assert port.read(7) == b""
    clock.time = 0.01
    assert port.read(7) == RESPONSE[3:]
    assert clock.sleeps == []


# ---------------------------------------------------------------------------
# in_waiting and reset_input_buffer
# ---------------------------------------------------------------------------


def test_in_waiting_counts_bytes_arrived_by_now(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.responder, _ = chunks_responder((0.0, b"\x01\x02"), (0.02, b"\x03\x04\x05"))
    assert port.in_waiting == 0
    port.write(b"\x00")
    assert port.in_waiting == 2
    clock.time = 0.019
    assert port.in_waiting == 2
    clock.time = 0.02
    assert port.in_waiting == 5
    port.read(1)
    assert port.in_waiting == 4


def test_reset_input_buffer_discards_what_has_arrived(port: dummy_serial.Serial, clock: FakeClock) -> None:
    write_answered(port, clock)
    port.reset_input_buffer()
    assert port.in_waiting == 0
    assert port.read(7) == b""
    assert clock.sleeps == [TIMEOUT]


def test_reset_input_buffer_keeps_what_arrives_later(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.responder, _ = chunks_responder((0.0, b"\x01\x02"), (0.03, b"\x03\x04"))
    port.write(b"\x00")
    port.read(1)
    clock.time = 0.01
    port.reset_input_buffer()
    assert port.read(4) == b"\x03\x04"
    assert clock.sleeps == [TIMEOUT]


# ---------------------------------------------------------------------------
# The responder hook
# ---------------------------------------------------------------------------


def test_responder_gets_the_request_and_replaces_the_table(
    port: dummy_serial.Serial,
) -> None:
    port.responder, seen = chunks_responder((0.0, b"\x99"))
    port.write(REQUEST)
    assert seen == [REQUEST]
    assert port.read(7) == b"\x99"
    assert port.requests == [REQUEST]


def test_responder_chunks_arrive_at_their_delays(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.timeout = 1.0
    port.responder, _ = chunks_responder(
        (0.010, b"\x0a\x03\x02"),  # address, function code, byte count
        (0.012, b"\x07\xd0"),  # register value 2000
        (0.015, b"\x1e\x29"),  # CRC
    )
    port.write(REQUEST)
    assert port.read(3) == b"\x0a\x03\x02"
    assert port.read(2) == b"\x07\xd0"
    assert port.read(2) == b"\x1e\x29"
    assert clock.sleeps == sleeps_until(0.010, 0.012, 0.015)


def test_responder_delays_count_from_the_write(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.responder, _ = chunks_responder((0.01, b"\x01"))
    clock.time = 5.0
    port.write(b"\x00")
    assert port.in_waiting == 0
    assert port.read(1) == b"\x01"
    assert clock.sleeps == [(5.0 + 0.01) - 5.0]


def test_responder_chunks_out_of_order_are_sorted_by_time(
    port: dummy_serial.Serial,
) -> None:
    port.timeout = None
    port.responder, _ = chunks_responder((0.02, b"\x03"), (0.01, b"\x01"), (0.01, b"\x02"), (0.0, b""))
    port.write(b"\x00")
    assert port.read(3) == b"\x01\x02\x03"


def test_responder_may_return_any_iterable(port: dummy_serial.Serial) -> None:
    port.responder = lambda request: iter([(0.0, request[::-1])])
    port.write(b"\x01\x02")
    assert port.read(2) == b"\x02\x01"


def test_responder_returning_nothing_means_silence(port: dummy_serial.Serial, clock: FakeClock) -> None:
    port.responder, _ = chunks_responder()
    port.write(REQUEST)
    assert port.read(7) == b""
    assert clock.sleeps == [TIMEOUT]


def test_responder_negative_delay_raises_and_schedules_nothing(
    port: dummy_serial.Serial,
) -> None:
    port.responder, _ = chunks_responder((0.0, b"\x01"), (-0.1, b"\x02"))
    with pytest.raises(ValueError, match=r"delay must be >= 0, not -0\.1"):
        port.write(b"\x00")
    assert port.in_waiting == 0


def test_responder_non_bytes_data_raises(port: dummy_serial.Serial) -> None:
    port.responder = lambda request: [(0.0, "text")]  # type: ignore[list-item]
    with pytest.raises(TypeError, match="data must be bytes, not 'text'"):
        port.write(b"\x00")
    assert port.in_waiting == 0


def test_responder_set_back_to_none_uses_the_table(
    port: dummy_serial.Serial,
) -> None:
    port.responder, _ = chunks_responder((0.0, b"\x99"))
    port.responder = None
    port.write(REQUEST)
    assert port.read(7) == RESPONSE


@given(
    delays_and_data=st.lists(
        st.tuples(st.integers(min_value=0, max_value=1000), st.binary(min_size=0, max_size=9)),
        max_size=8,
    ),
    read_size=st.integers(min_value=1, max_value=12),
)
def test_reads_deliver_every_byte_once_in_time_order(
    delays_and_data: list[tuple[int, bytes]], read_size: int
) -> None:
    fake = FakeClock(start=0.0, ignore_nonpositive=False)
    chunks = [(milliseconds / 1000, data) for milliseconds, data in delays_and_data]
    expected = b"".join(data for _, data in sorted(chunks, key=lambda c: c[0]))
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(dummy_serial, "_now", fake.now)
        monkeypatch.setattr(dummy_serial, "_sleep", fake.sleep)
        port = dummy_serial.Serial(port=PORTNAME, timeout=None)
        port.responder = lambda request: chunks
        port.write(b"\x00")
        received = b""
        while len(received) < len(expected):
            wanted = min(read_size, len(expected) - len(received))
            data = port.read(wanted)
            assert len(data) == wanted
            received += data
        assert port.read(1) == b""
    assert received == expected
    assert all(seconds > 0 for seconds in fake.sleeps)
    last_arrival = max((delay for delay, data in chunks if data), default=0.0)
    assert fake.time == pytest.approx(last_arrival)


# ---------------------------------------------------------------------------
# VERBOSE
# ---------------------------------------------------------------------------


def test_verbose_prints_every_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(dummy_serial, "VERBOSE", True)
    port = dummy_serial.Serial(port=PORTNAME, timeout=TIMEOUT)
    port.write(REQUEST)
    port.read(7)
    port.read(1)
    port.write(b"")
    port.close()
    assert capsys.readouterr().out.splitlines() == [
        "Dummy_serial: Opening port '/dev/ttyUSB0'",
        "Dummy_serial: Writing 0A 03 00 00 00 01 85 71 (8 bytes)",
        # A recorded answer crosses the line after the request, 10 bits a byte at 9600 baud
        (
            "Dummy_serial: Answer scheduled in 7 pieces from 0.009375 s to 0.015625 s: "
            "0A 03 02 07 D0 1E 29 (7 bytes)"
        ),
        ("Dummy_serial: Read 0A 03 02 07 D0 1E 29 (7 bytes), 7 requested, timeout=0.05, waited 0.015625 s"),
        "Dummy_serial: Read (0 bytes), 1 requested, timeout=0.05, waited 0.050000 s",
        "Dummy_serial: Writing (0 bytes)",
        (
            "Dummy_serial: Answer scheduled in 28 pieces from 0.001042 s to 0.029167 s: 4E 6F 74 46 "
            "6F 75 6E 64 49 6E 52 65 73 70 6F 6E 73 65 44 69 63 74 69 6F 6E 61 72 79 (28 bytes)"
        ),
        "Dummy_serial: Closing port '/dev/ttyUSB0'",
    ]


def test_verbose_reports_silence(
    port: dummy_serial.Serial,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dummy_serial.RESPONSES[WRITE_REQUEST] = dummy_serial.NO_DATA_PRESENT
    monkeypatch.setattr(dummy_serial, "VERBOSE", True)
    port.write(WRITE_REQUEST)
    assert capsys.readouterr().out.splitlines() == [
        "Dummy_serial: Writing 0A 06 00 01 00 64 D8 9A (8 bytes)",
        "Dummy_serial: No answer scheduled",
    ]


def test_quiet_by_default(port: dummy_serial.Serial, capsys: pytest.CaptureFixture[str]) -> None:
    port.write(REQUEST)
    port.read(7)
    port.close()
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------


def test_several_threads_may_share_one_port(port: dummy_serial.Serial) -> None:
    port.timeout = 0
    port.responder = lambda request: [(0.0, request)]
    received: list[bytes] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        for count in range(200):
            port.write(bytes([number, count]))
            data = port.read(1)
            with lock:
                received.append(data)

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(port.requests) == 8 * 200
    assert sorted(port.requests) == sorted(
        bytes([number, count]) for number in range(8) for count in range(200)
    )
    assert sum(len(data) for data in received) + port.in_waiting == 2 * 8 * 200


# ---------------------------------------------------------------------------
# Independence from minimalmodbus and pyserial
# ---------------------------------------------------------------------------


def test_source_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(dummy_serial.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert "minimalmodbus" not in imported
    assert "serial" not in imported
    standard_library = getattr(sys, "stdlib_module_names", imported)  # 3.10+
    assert imported <= set(standard_library)


def test_importing_it_loads_neither_minimalmodbus_nor_serial() -> None:
    code = "import sys, dummy_serial; print(sorted({'minimalmodbus', 'serial'} & set(sys.modules)))"
    directory = Path(dummy_serial.__file__).parent
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_python_m_points_to_the_simulator() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dummy_serial", "--pty"],
        cwd=Path(dummy_serial.__file__).parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert "python -m minimalmodbus_simulator --pty" in result.stderr


# ---------------------------------------------------------------------------
# Frames (RTU, slave 10), each with a valid CRC
# ---------------------------------------------------------------------------

# read_register(0) on slave 10: address 0A, function 03, register 00 00,
# count 00 01, CRC 85 71.
REQUEST = b"\x0a\x03\x00\x00\x00\x01\x85\x71"

# Its answer: address 0A, function 03, byte count 02, value 07 D0 (2000),
# CRC 1E 29.
RESPONSE = b"\x0a\x03\x02\x07\xd0\x1e\x29"

# write_register(1, 100, functioncode=6) on slave 10: address 0A, function 06,
# register 00 01, value 00 64, CRC D8 9A.
WRITE_REQUEST = b"\x0a\x06\x00\x01\x00\x64\xd8\x9a"


@pytest.mark.parametrize("frame", [REQUEST, RESPONSE, WRITE_REQUEST])
def test_fixture_frames_have_valid_crc(frame: bytes) -> None:
    assert _crc16_modbus(frame) == 0
