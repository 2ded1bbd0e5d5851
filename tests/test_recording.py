"""Recording a session (minimalmodbus.Recording) and replaying it (dummy_serial, the simulator, mbpoll).

Order: the file a recording writes, byte for byte; the recording's own
behaviour (files, nesting, 2.x ``_communicate``); round trips through
``dummy_serial`` (every function code, exceptions, no answer, retries);
ordered and lookup replay, timing on the fake clock; bad recording files;
Modbus TCP; the simulator's ReplayBus and ``simulate --replay``; mbpoll
against a replayed recording; the command line's ``--record``.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import OUR_MODULES, FakeClock, Serve, forget_port, module_imports
from frames import rtu  # the tests' own CRC, not the driver's

import dummy_serial
import minimalmodbus
import minimalmodbus_cli
import minimalmodbus_replay
import minimalmodbus_simulator as simulator
from minimalmodbus_simulator import Fault

REPO = Path(__file__).resolve().parent.parent
PROCESS_SECONDS = 20.0  # a subprocess is killed if it takes longer than this
PORT = "/dev/ttyRECORDED"
HEADER = (
    f'{{"format": "minimalmodbus-recording", "version": 1, "minimalmodbus": "{minimalmodbus.__version__}"}}\n'
)

Outcome = tuple[str, object]
"""What a call gave: ("value", the value) or (the exception's class name, its message)."""


@pytest.fixture
def simulated(dummy: dict[bytes, bytes], monkeypatch: pytest.MonkeyPatch) -> simulator.SimulatedBus:
    """The demo slave as the responder of new dummy_serial ports (the fake clock runs)."""
    bus = simulator.SimulatedBus({1: simulator.demo_slave()})
    monkeypatch.setattr(dummy_serial, "RESPONDER", bus)
    return bus


@pytest.fixture
def replaying(dummy: dict[bytes, bytes], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Undo whatever RESPONDER a test's load_recording installs."""
    monkeypatch.setattr(dummy_serial, "RESPONDER", None)
    yield
    dummy_serial.reset()


def outcome(call: Callable[[], object]) -> Outcome:
    try:
        return ("value", call())
    except minimalmodbus.ModbusException as error:
        return (type(error).__name__, str(error))


def session(bus: simulator.SimulatedBus | None) -> list[Outcome]:
    """A bench session: every function code, an exception answer, a missing answer, a retry.

    ``bus``: the simulated slaves, to inject the faults; None while replaying.
    """
    instrument = minimalmodbus.Instrument(PORT, 1)
    calls: list[Callable[[], object]] = [
        lambda: instrument.read_bits(0, 8, functioncode=1),
        lambda: instrument.read_bit(3, functioncode=2),
        lambda: instrument.read_register(7),
        lambda: instrument.read_registers(0, 4, functioncode=4),
        lambda: instrument.write_bit(4, 1, functioncode=5),
        lambda: instrument.write_register(8, 1234, functioncode=6),
        lambda: instrument.read_exception_status(),
        lambda: instrument.diagnostics(0, 0x1234),
        lambda: instrument.read_comm_event_counter(),
        lambda: instrument.read_comm_event_log(),
        lambda: instrument.write_bits(10, [1, 0, 1]),
        lambda: instrument.write_float(20, 3.25),
        lambda: instrument.read_float(20),
        lambda: instrument.report_slave_id(),
        lambda: instrument.read_file_record(1, 2, 3),
        lambda: instrument.write_file_record(1, 2, [7, 8]),
        lambda: instrument.mask_write_register(8, 0x00F2, 0x0025),
        lambda: instrument.read_write_registers(0, 2, 30, [5, 6]),
        lambda: instrument.read_fifo_queue(0),
        lambda: instrument.read_device_identification(1),
        lambda: instrument.read_register(1000),  # exception code 2
    ]
    outcomes = [outcome(call) for call in calls]
    if bus:
        bus.inject(Fault.NO_ANSWER)
    outcomes.append(outcome(lambda: instrument.read_register(9)))  # no answer
    instrument.retries = 1
    if bus:
        bus.inject(Fault.BAD_CHECKSUM)
    outcomes.append(outcome(lambda: instrument.read_register(9)))  # a retry after a bad answer
    return outcomes


def recording_lines(text: str) -> list[dict[str, object]]:
    lines = text.splitlines()
    assert lines[0] + "\n" == HEADER
    return [json.loads(line) for line in lines[1:]]


def write_recording(path: Path, *entries: dict[str, object]) -> Path:
    path.write_text(HEADER + "".join(json.dumps(entry) + "\n" for entry in entries), encoding="utf-8")
    return path


def entry(
    request: bytes, response: bytes, mode: str = "rtu", slave: int = 1, rtt: float | None = 0.01
) -> dict[str, object]:
    """A recording line, as minimalmodbus.Recording writes it (its t is 0)."""
    return {
        "t": 0.0,
        "rtt": rtt,
        "port": PORT,
        "baudrate": 19200,
        "bytesize": 8,
        "parity": "N",
        "stopbits": 1,
        "timeout": 0.05,
        "mode": mode,
        "slave": slave,
        "functioncode": request[7 if mode == "tcp" else 1],
        "request": request.hex(" ").upper(),
        "response": response.hex(" ").upper(),
        "error": None,
        "message": None,
    }


# ---------------------------------------------------------------------------
# The file, byte for byte
# ---------------------------------------------------------------------------


def test_a_recorded_transaction_byte_for_byte(dummy: dict[bytes, bytes], fake_clock: FakeClock) -> None:
    request = rtu(1, 3, bytes.fromhex("0007 0001"))  # read register 7
    dummy[request] = rtu(1, 3, bytes.fromhex("02 0046"))  # 70
    file = io.StringIO()
    instrument = minimalmodbus.Instrument(PORT, 1)
    fake_clock.sleep(0.5)  # the recording's t counts from its start, not from the clock's
    with minimalmodbus.Recording(file) as recording:
        fake_clock.sleep(0.25)
        assert instrument.read_register(7) == 70
    assert recording.count == 1
    # The answer's last byte crosses the 19200 baud line 15 characters after the request starts.
    assert file.getvalue() == HEADER + (
        '{"t": 0.250000, "rtt": 0.007812, "port": "/dev/ttyRECORDED", "baudrate": 19200, '
        '"bytesize": 8, "parity": "N", "stopbits": 1, "timeout": 0.05, "mode": "rtu", "slave": 1, '
        '"functioncode": 3, "request": "01 03 00 07 00 01 35 CB", "response": "01 03 02 00 46 39 B6", '
        '"error": null, "message": null}\n'
    )


def test_recording_changes_nothing_on_the_line(
    simulated: simulator.SimulatedBus, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same session, with and without a recording: the same frames, the same sleeps, the same times."""
    plain = session(simulated)
    plain_sleeps = list(fake_clock.sleeps)
    minimalmodbus.forget_ports()
    fake_clock.sleeps.clear()
    fresh = simulator.SimulatedBus({1: simulator.demo_slave()})  # the session wrote to the first
    monkeypatch.setattr(dummy_serial, "RESPONDER", fresh)
    with minimalmodbus.Recording(io.StringIO()):
        recorded = session(fresh)
    assert recorded == plain
    assert fresh.requests == simulated.requests
    assert fake_clock.sleeps == plain_sleeps


def test_every_exchange_is_one_line_with_its_answer_or_error(simulated: simulator.SimulatedBus) -> None:
    file = io.StringIO()
    with minimalmodbus.Recording(file):
        outcomes = session(simulated)
    entries = recording_lines(file.getvalue())
    assert len(entries) == len(outcomes) + 1  # the retry is two attempts
    exception_entry, no_answer, bad_answer, retried = entries[-4:]
    assert exception_entry["response"] == "01 83 02 C0 F1"
    assert exception_entry["error"] == "IllegalRequestError"
    assert no_answer["response"] == "" and no_answer["error"] == "NoResponseError"
    assert no_answer["rtt"] == 0.05  # the timeout was waited out
    assert bad_answer["error"] == "InvalidResponseError" and bad_answer["response"] != ""
    assert retried["request"] == bad_answer["request"] and retried["error"] is None
    assert [item["functioncode"] for item in entries[:20]] == [
        1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 3, 17, 20, 21, 22, 23, 24, 43,
    ]  # fmt: skip
    assert all(item["mode"] == "rtu" and item["slave"] == 1 and item["port"] == PORT for item in entries)


def test_a_broadcast_is_recorded_without_answer_or_round_trip(dummy: dict[bytes, bytes]) -> None:
    file = io.StringIO()
    with minimalmodbus.Recording(file):
        minimalmodbus.Instrument(PORT, 0).write_register(1, 5, functioncode=6)
    (item,) = recording_lines(file.getvalue())
    assert item["slave"] == 0 and item["response"] == "" and item["rtt"] is None and item["error"] is None


def test_an_interrupted_transaction_is_recorded_as_interrupted(
    dummy: dict[bytes, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during a transaction (monitor until Ctrl-C): its line must not read as a clean exchange."""

    def interrupted(request: bytes) -> list[dummy_serial.Chunk]:
        raise KeyboardInterrupt

    monkeypatch.setattr(dummy_serial, "RESPONDER", interrupted)
    file = io.StringIO()
    with minimalmodbus.Recording(file), pytest.raises(KeyboardInterrupt):
        minimalmodbus.Instrument(PORT, 1).read_register(7)
    (item,) = recording_lines(file.getvalue())
    assert (item["response"], item["error"], item["rtt"]) == ("", "KeyboardInterrupt", None)


def test_nothing_is_recorded_after_the_recording_stops(dummy: dict[bytes, bytes]) -> None:
    dummy[rtu(1, 3, bytes.fromhex("0007 0001"))] = rtu(1, 3, bytes.fromhex("02 0046"))
    instrument = minimalmodbus.Instrument(PORT, 1)
    file = io.StringIO()
    with minimalmodbus.Recording(file):
        instrument.read_register(7)
    instrument.read_register(7)
    assert len(recording_lines(file.getvalue())) == 1
    assert not minimalmodbus._active_recordings
    assert not file.closed  # a file given open is left open


class _FullDisk(io.StringIO):
    """A file given open whose flush fails, as on a full disk."""

    def flush(self) -> None:
        raise OSError(28, "No space left on device")


def test_a_recording_whose_final_flush_fails_is_stopped_all_the_same() -> None:
    recording = minimalmodbus.Recording(_FullDisk())
    recording.start()
    with pytest.raises(OSError, match="No space left"):
        recording.stop()
    assert recording._stream is None and not minimalmodbus._active_recordings
    recording.stop()  # nothing left to flush: no second error


def test_a_path_is_written_and_closed(dummy: dict[bytes, bytes], tmp_path: Path) -> None:
    path = tmp_path / "bench.jsonl"
    with minimalmodbus.Recording(path) as recording:
        with pytest.raises(minimalmodbus.InvalidResponseError):  # dummy_serial.DEFAULT_RESPONSE
            minimalmodbus.Instrument(PORT, 1).read_register(7)
    assert recording._stream is None
    (item,) = recording_lines(path.read_text(encoding="utf-8"))
    assert item["error"] == "InvalidResponseError"
    assert item["response"] == dummy_serial.DEFAULT_RESPONSE.hex(" ").upper()  # the bad frame, as it came


def test_recording_arguments_and_state_are_checked(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="file must be a path or a text file open for writing, not 123"):
        minimalmodbus.Recording(123)  # type: ignore[arg-type]
    recording = minimalmodbus.Recording(io.StringIO())
    with recording, pytest.raises(ValueError, match="already recording"):
        recording.start()
    with pytest.raises(OSError):
        minimalmodbus.Recording(tmp_path / "no such folder" / "bench.jsonl").start()
    assert not minimalmodbus._active_recordings


def test_a_2x_communicate_override_is_recorded_once_per_transaction(dummy: dict[bytes, bytes]) -> None:
    request = rtu(1, 3, bytes.fromhex("0007 0001"))
    dummy[request] = rtu(1, 3, bytes.fromhex("02 0046"))
    seen: list[bytes] = []

    class VendorInstrument(minimalmodbus.Instrument):
        def _communicate(self, request: bytes, number_of_bytes_to_read: int) -> bytes:
            seen.append(request)
            return super()._communicate(request, number_of_bytes_to_read)

    file = io.StringIO()
    with minimalmodbus.Recording(file):
        assert VendorInstrument(PORT, 1).read_register(7) == 70
    (item,) = recording_lines(file.getvalue())
    assert seen == [request] and item["request"] == request.hex(" ").upper()


# ---------------------------------------------------------------------------
# Replay through dummy_serial
# ---------------------------------------------------------------------------


def test_round_trip_through_dummy_serial(
    simulated: simulator.SimulatedBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = io.StringIO()
    with minimalmodbus.Recording(file):
        recorded = session(simulated)
    minimalmodbus.forget_ports()
    file.seek(0)
    replay = minimalmodbus_replay.load_recording(file)
    assert dummy_serial.RESPONDER is replay
    assert session(None) == recorded  # the same values, the same exceptions and messages
    assert replay.unplayed == [] and replay.unexpected == []
    replay.check_complete()
    monkeypatch.setattr(dummy_serial, "RESPONDER", None)


def test_the_same_request_answered_three_ways_replays_in_order(replaying: None, tmp_path: Path) -> None:
    request = rtu(1, 4, bytes.fromhex("0000 0001"))  # a temperature, read three times
    answers = [rtu(1, 4, bytes.fromhex("02") + value.to_bytes(2, "big")) for value in (215, 216, 218)]
    path = write_recording(tmp_path / "temperature.jsonl", *(entry(request, answer) for answer in answers))
    replay = minimalmodbus_replay.load_recording(path)
    instrument = minimalmodbus.Instrument(PORT, 1)
    assert [instrument.read_register(0, 1, functioncode=4) for _ in range(3)] == [21.5, 21.6, 21.8]
    assert [exchange.line_number for exchange in replay.played] == [2, 3, 4]
    with pytest.raises(minimalmodbus.NoResponseError):  # nothing left: no answer, never a wrong one
        instrument.read_register(0, 1, functioncode=4)
    assert replay.unexpected == [request]
    with pytest.raises(AssertionError, match="unexpected request 01 04 00 00 00 01 31 CA"):
        replay.check_complete()


def test_lookup_answers_each_request_with_its_last_answer(replaying: None, tmp_path: Path) -> None:
    request = rtu(1, 3, bytes.fromhex("0000 0001"))
    other = rtu(1, 3, bytes.fromhex("0001 0001"))
    answers = [rtu(1, 3, bytes.fromhex("02") + value.to_bytes(2, "big")) for value in (1, 2)]
    path = write_recording(
        tmp_path / "lookup.jsonl",
        entry(request, answers[0]),
        entry(request, answers[1]),
        entry(other, answers[0]),
    )
    replay = minimalmodbus_replay.load_recording(path, ordered=False)
    instrument = minimalmodbus.Instrument(PORT, 1)
    assert [instrument.read_register(0) for _ in range(4)] == [2, 2, 2, 2]
    assert [exchange.line_number for exchange in replay.unplayed] == [4]  # register 1 was never read
    assert replay.unexpected == []


def test_unplayed_answers_are_reported_in_file_order(replaying: None, tmp_path: Path) -> None:
    requests = [rtu(1, 3, bytes.fromhex(f"000{number} 0001")) for number in range(3)]
    answer = rtu(1, 3, bytes.fromhex("02 0001"))
    path = write_recording(tmp_path / "three.jsonl", *(entry(request, answer) for request in requests))
    replay = minimalmodbus_replay.load_recording(path)
    minimalmodbus.Instrument(PORT, 1).read_register(1)
    assert [exchange.request for exchange in replay.unplayed] == [requests[0], requests[2]]
    with pytest.raises(AssertionError, match=r"unplayed line 2: 01 03 00 00 00 01 84 0A \(8 bytes\)"):
        replay.check_complete()


def test_timing_replays_the_round_trip_on_the_fake_clock(
    replaying: None, tmp_path: Path, fake_clock: FakeClock
) -> None:
    request = rtu(1, 3, bytes.fromhex("0000 0001"))
    path = write_recording(
        tmp_path / "slow.jsonl", entry(request, rtu(1, 3, bytes.fromhex("02 0007")), rtt=0.032)
    )
    minimalmodbus_replay.load_recording(path, timing=True)
    instrument = minimalmodbus.Instrument(PORT, 1)
    start = fake_clock.time
    assert instrument.read_register(0) == 7
    assert instrument.roundtrip_time == pytest.approx(0.032)
    assert fake_clock.time - start == pytest.approx(0.032, abs=0.003)  # plus the silence before writing


def test_without_timing_the_answer_is_there_at_once(replaying: None, tmp_path: Path) -> None:
    request = rtu(1, 3, bytes.fromhex("0000 0001"))
    path = write_recording(
        tmp_path / "slow.jsonl", entry(request, rtu(1, 3, bytes.fromhex("02 0007")), rtt=0.032)
    )
    replay = minimalmodbus_replay.load_recording(path, install=False)
    assert dummy_serial.RESPONDER is None
    assert replay(request) == [(0.0, rtu(1, 3, bytes.fromhex("02 0007")))]


def test_modbus_tcp_frames_match_without_their_transaction_id(tmp_path: Path) -> None:
    request = bytes.fromhex("0007 0000 0006 01 03 0000 0001")
    answer = bytes.fromhex("0007 0000 0005 01 03 02 002A")
    path = write_recording(tmp_path / "tcp.jsonl", entry(request, answer, mode="tcp"))
    replay = minimalmodbus_replay.load_recording(path, install=False)
    asked = bytes.fromhex("1234") + request[2:]
    assert replay(asked) == [(0.0, bytes.fromhex("1234") + answer[2:])]


def test_timing_replays_the_round_trip_of_modbus_tcp_answers(tmp_path: Path, fake_clock: FakeClock) -> None:
    """simulate --replay --timing on --tcp: the network server's answer waits its round-trip time too."""
    request = bytes.fromhex("0007 0000 0006 01 03 0000 0001")
    answer = bytes.fromhex("0007 0000 0005 01 03 02 002A")
    path = write_recording(tmp_path / "tcp.jsonl", entry(request, answer, mode="tcp", rtt=0.032))
    bus = minimalmodbus_replay.ReplayBus(
        minimalmodbus_replay.load_recording(path, timing=True, install=False)
    )
    start = fake_clock.time
    assert bus.answer_mbap(bytes.fromhex("1234") + request[2:]) == bytes.fromhex("1234") + answer[2:]
    assert fake_clock.time - start == pytest.approx(0.032)


def test_modbus_tcp_round_trip_through_the_network_server(tmp_path: Path) -> None:
    path = tmp_path / "tcp.jsonl"
    with simulator.NetworkServer(simulator.SimulatedBus({1: simulator.demo_slave()})) as server:
        with minimalmodbus.Recording(path), minimalmodbus.Instrument(server.url, 1) as instrument:
            recorded = [
                instrument.read_register(7),
                instrument.read_registers(0, 3),
                outcome(lambda: instrument.read_register(999)),
            ]
    forget_port(server.url)
    replay = minimalmodbus_replay.load_recording(path, install=False)
    assert {exchange.mode for exchange in replay.exchanges} == {"tcp"}
    with simulator.NetworkServer(minimalmodbus_replay.ReplayBus(replay)) as server:
        with minimalmodbus.Instrument(server.url, 1) as instrument:  # new transaction ids
            replayed = [
                instrument.read_register(7),
                instrument.read_registers(0, 3),
                outcome(lambda: instrument.read_register(999)),
            ]
    forget_port(server.url)
    assert replayed[:2] == recorded[:2]
    exception_classes = [item[0] for item in (replayed[2], recorded[2]) if isinstance(item, tuple)]
    assert exception_classes == ["IllegalRequestError"] * 2  # (the message shows the transaction id)
    replay.check_complete()


# ---------------------------------------------------------------------------
# Bad recordings: a clear error naming the line, never a wrong answer
# ---------------------------------------------------------------------------

GOOD_LINE = (
    json.dumps(entry(rtu(1, 3, bytes.fromhex("0000 0001")), rtu(1, 3, bytes.fromhex("02 0007")))) + "\n"
)


@pytest.mark.parametrize(
    ("text", "line_number", "problem"),
    [
        ("", 1, "the file is empty"),
        ('{"format": "something else", "version": 1}\n', 1, "not a recording"),
        (HEADER.replace('"version": 1', '"version": 2'), 1, "version 2; this module reads"),
        (GOOD_LINE, 1, "not a recording"),  # no header
        (HEADER + GOOD_LINE + GOOD_LINE[:50], 3, "no line end: the file is cut short"),  # truncated
        (HEADER + GOOD_LINE[:50] + "\n", 2, "not valid JSON"),
        (HEADER + "[1, 2]\n", 2, "expected a JSON object"),
        (HEADER + GOOD_LINE.replace('"request": "01 03', '"request": "0G 03'), 2, "request is not hex pairs"),
        (HEADER + GOOD_LINE.replace('"response": "01', '"response": "1'), 2, "response is not hex pairs"),
        (HEADER + GOOD_LINE.replace('"slave": 1', '"slave": 2'), 2, "is not a rtu frame to slave 2"),
        (HEADER + GOOD_LINE.replace('"mode": "rtu"', '"mode": "RTU"'), 2, "mode must be one of"),
        (HEADER + GOOD_LINE.replace('"t": 0.0', '"t": -1'), 2, "t must be a number of seconds"),
        (HEADER + GOOD_LINE.replace('"rtt": 0.01', '"rtt": "fast"'), 2, "rtt must be a number"),
        (HEADER + GOOD_LINE.replace('"error": null', '"error": 5'), 2, "error must be a string or null"),
        (HEADER + GOOD_LINE.replace('"slave": 1, ', ""), 2, "the field 'slave' is missing"),
        (HEADER + GOOD_LINE.replace('"rtt": 0.01', '"rtt": NaN'), 2, "rtt must be a number of seconds"),
        (HEADER + GOOD_LINE.replace('"t": 0.0', '"t": Infinity'), 2, "t must be a number of seconds"),
        (HEADER + GOOD_LINE.replace('"functioncode": 3', '"functioncode": true'), 2, "functioncode must be"),
    ],
)
def test_a_bad_recording_names_the_file_and_line(
    tmp_path: Path, text: str, line_number: int, problem: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(minimalmodbus_replay.RecordingError) as raised:
        minimalmodbus_replay.load_recording(path)
    assert f"{path}, line {line_number}: " in str(raised.value)
    assert problem in str(raised.value)
    assert isinstance(raised.value, ValueError)
    assert dummy_serial.RESPONDER is None  # nothing installed: no answer from a bad file


def test_bytes_that_are_not_utf8_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"  # a message edited in a Latin-1 editor: the degree sign is one byte
    path.write_bytes(
        (HEADER + GOOD_LINE + GOOD_LINE.replace('"message": null', '"message": "25 \xb0C"')).encode("latin-1")
    )
    with pytest.raises(minimalmodbus_replay.RecordingError) as raised:
        minimalmodbus_replay.load_recording(path)
    column = GOOD_LINE.index('"message": null') + len('"message": "25 ') + 1
    assert str(raised.value) == f"{path}, line 3: not UTF-8 text (byte 0xB0 at column {column})"
    assert dummy_serial.RESPONDER is None


def test_blank_lines_are_allowed_and_keep_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "edited.jsonl"
    path.write_text(HEADER + "\n" + GOOD_LINE, encoding="utf-8")
    (exchange,) = minimalmodbus_replay.read_recording(path)
    assert exchange.line_number == 3 and exchange.request == rtu(1, 3, bytes.fromhex("0000 0001"))


def test_read_recording_takes_a_text_file_not_other_things() -> None:
    assert minimalmodbus_replay.read_recording(io.StringIO(HEADER + GOOD_LINE))[0].rtt == 0.01
    with pytest.raises(TypeError, match="source must be a path or a text file, not 42"):
        minimalmodbus_replay.read_recording(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# The simulator: a replay on a pty, simulate --replay, mbpoll
# ---------------------------------------------------------------------------


def test_replay_bus_serves_a_recording_on_a_pty(serve: Serve, tmp_path: Path) -> None:
    path = tmp_path / "pty.jsonl"
    server = serve(simulator.SimulatedBus({1: simulator.demo_slave()}))
    with minimalmodbus.Recording(path):
        instrument = minimalmodbus.Instrument(server.path, 1)
        recorded = [
            instrument.read_register(7),
            instrument.read_bits(0, 5, 1),
            outcome(lambda: instrument.read_register(999)),
        ]
    forget_port(server.path)
    bus = minimalmodbus_replay.ReplayBus(minimalmodbus_replay.load_recording(path, install=False))
    replayed_server = serve(bus)
    instrument = minimalmodbus.Instrument(replayed_server.path, 1)
    replayed = [
        instrument.read_register(7),
        instrument.read_bits(0, 5, 1),
        outcome(lambda: instrument.read_register(999)),
    ]
    assert replayed == recorded
    assert bus.requests == [exchange.request for exchange in bus.replay.exchanges]
    assert "ReplayBus<mode='rtu'" in repr(bus)


def test_replay_bus_refuses_what_it_cannot_serve(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"replay must be a minimalmodbus_replay\.Replay"):
        minimalmodbus_replay.ReplayBus("bench.jsonl")  # type: ignore[arg-type]
    rtu_line = entry(rtu(1, 3, bytes.fromhex("0000 0001")), b"")
    ascii_line = entry(b":010300000001FB\r\n", b"", mode="ascii")
    path = write_recording(tmp_path / "mixed.jsonl", rtu_line, ascii_line)
    with pytest.raises(ValueError, match=r"one mode, not \['ascii', 'rtu'\]"):
        minimalmodbus_replay.ReplayBus(minimalmodbus_replay.load_recording(path, install=False))
    tcp_path = write_recording(
        tmp_path / "tcp.jsonl", entry(bytes.fromhex("0001 0000 0006 01 03 0000 0001"), b"", mode="tcp")
    )
    assert minimalmodbus_cli.main(["simulate", "--replay", str(tcp_path)]) == 2
    assert minimalmodbus_cli.main(["simulate", "--replay", str(tmp_path / "missing.jsonl")]) == 2


def test_python_m_simulate_replay_serves_until_sigint(tmp_path: Path) -> None:
    path = write_recording(
        tmp_path / "bench.jsonl",
        *(
            entry(
                rtu(1, 3, bytes.fromhex("0000 0001")),
                rtu(1, 3, bytes.fromhex("02") + value.to_bytes(2, "big")),
            )
            for value in (5, 6)
        ),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "minimalmodbus", "simulate", "--replay", str(path)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()
        match = re.fullmatch(
            rf"Replaying {re.escape(str(path))} \(2 exchanges\) on (/dev/\S+) \(rtu\)\. "
            r"Press Ctrl-C to stop\.\n",
            line,
        )
        assert match, line
        with minimalmodbus.Instrument(match.group(1), 1) as instrument:
            instrument.serial.timeout = 1.0
            assert [instrument.read_register(0), instrument.read_register(0)] == [5, 6]
        forget_port(match.group(1))
        process.send_signal(signal.SIGINT)
        assert process.wait(PROCESS_SECONDS) == 0
        assert process.stderr.read() == "Replayed 2 of 2 recorded answers; 0 unexpected requests.\n"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(PROCESS_SECONDS)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def run_mbpoll(path: str, *options: str) -> subprocess.CompletedProcess[str]:
    """mbpoll once, RTU 19200 8N1, 0-based references, on a pty."""
    command = [
        "mbpoll",
        "-m",
        "rtu",
        "-a",
        "1",
        "-b",
        "19200",
        "-P",
        "none",
        "-1",
        "-0",
        "-o",
        "1.0",
        *options,
        path,
    ]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=PROCESS_SECONDS,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def mbpoll_values(output: str) -> list[int]:
    """The values of mbpoll's ``[reference]: <TAB>value`` lines."""
    return [int(value) for value in re.findall(r"^\[\d+\]:\s+(-?\d+)", output, flags=re.MULTILINE)]


def test_mbpoll_against_a_replayed_recording(serve: Serve, tmp_path: Path) -> None:
    """Record our reads of the simulator, replay the recording on a pty to mbpoll: it prints those values."""
    if shutil.which("mbpoll") is None:
        pytest.skip("mbpoll not found; to run this test: apt-get install mbpoll (Debian package mbpoll)")
    server = serve(simulator.SimulatedBus({1: simulator.demo_slave()}))
    path = tmp_path / "bench.jsonl"
    with minimalmodbus.Recording(path):
        instrument = minimalmodbus.Instrument(server.path, 1)
        holding = instrument.read_registers(0, 5)
        coils = instrument.read_bits(0, 8, functioncode=1)
        inputs = instrument.read_registers(10, 3, functioncode=4)
        with pytest.raises(minimalmodbus.IllegalRequestError):
            instrument.read_register(1000)
    forget_port(server.path)
    replay = minimalmodbus_replay.load_recording(path, install=False)
    replayed = serve(minimalmodbus_replay.ReplayBus(replay))
    results = [
        run_mbpoll(replayed.path, "-t", "4", "-r", "0", "-c", "5"),
        run_mbpoll(replayed.path, "-t", "0", "-r", "0", "-c", "8"),
        run_mbpoll(replayed.path, "-t", "3", "-r", "10", "-c", "3"),
    ]
    assert [mbpoll_values(result.stdout) for result in results] == [holding, coils, inputs], results
    exception = run_mbpoll(replayed.path, "-t", "4", "-r", "1000")
    assert exception.returncode == 1 and "Illegal data address" in exception.stderr, exception
    assert replay.unexpected == [] and replay.unplayed == []


# ---------------------------------------------------------------------------
# The command line's --record
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        ["read", "-r", "7", "-c", "2"],
        ["write", "-r", "7", "99"],
        ["monitor", "-r", "7", "--iterations", "2", "--interval", "0"],
        ["scan", "--from", "1", "--to", "2"],
    ],
)
def test_record_option_of_every_command(
    serve: Serve, tmp_path: Path, arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    bus = simulator.SimulatedBus({1: simulator.demo_slave()})
    server = serve(bus)
    path = tmp_path / "cli.jsonl"
    command, *options = arguments
    status = minimalmodbus_cli.main([command, server.path, *options, "--record", str(path), "-o", "0.05"])
    forget_port(server.path)
    assert status == 0, capsys.readouterr()
    exchanges = minimalmodbus_replay.read_recording(path)
    assert [exchange.request for exchange in exchanges] == bus.requests
    assert {exchange.port for exchange in exchanges} == {server.path}


def test_record_option_reports_a_file_it_cannot_write(
    serve: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve(simulator.SimulatedBus({1: simulator.demo_slave()}))
    path = tmp_path / "no such folder" / "cli.jsonl"
    assert minimalmodbus_cli.main(["read", server.path, "--record", str(path)]) == 2
    assert f"minimalmodbus read: cannot record to {str(path)!r}" in capsys.readouterr().err
    assert not minimalmodbus._active_recordings


@pytest.mark.parametrize(
    "arguments",
    [
        ["read", "-r", "7"],  # the file fills up when the recording stops (flushes)
        ["monitor", "-r", "7", "--iterations", "60", "--interval", "0"],  # while recording
    ],
)
def test_record_option_reports_a_full_disk_without_a_traceback(
    serve: Serve, arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full (Linux), where every write fails with ENOSPC")
    server = serve(simulator.SimulatedBus({1: simulator.demo_slave()}))
    command, *options = arguments
    status = minimalmodbus_cli.main([command, server.path, *options, "--record", "/dev/full"])
    assert status == 2
    last_error_line = capsys.readouterr().err.splitlines()[-1]
    full = "[Errno 28] No space left on device"
    assert last_error_line == f"minimalmodbus {command}: cannot record to '/dev/full': {full}"
    assert not minimalmodbus._active_recordings


def test_demo_records_and_the_recording_replays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("termios", reason="needs pseudo-terminals (POSIX)")
    path = tmp_path / "demo.jsonl"
    assert minimalmodbus_cli.main(["demo", "--record", str(path)]) == 0
    capsys.readouterr()
    exchanges = minimalmodbus_replay.read_recording(path)
    assert [exchange.functioncode for exchange in exchanges] == [3, 16, 3, 3, 16, 3, 1, 3]
    assert exchanges[-1].error == "IllegalRequestError"
    assert os.path.getsize(path) < 4000


# ---------------------------------------------------------------------------
# The replay's room: above the driver, dummy_serial and the simulator
# ---------------------------------------------------------------------------


def test_the_replay_imports_the_driver_dummy_serial_and_the_simulator_only() -> None:
    imported = module_imports(minimalmodbus_replay.__file__)
    assert imported & OUR_MODULES == {"minimalmodbus", "dummy_serial", "minimalmodbus_simulator"}
    standard_library = getattr(sys, "stdlib_module_names", imported - OUR_MODULES)  # 3.10+
    assert imported - OUR_MODULES <= set(standard_library)


def test_only_the_command_line_imports_the_replay() -> None:
    importers = {
        module.__name__
        for module in (minimalmodbus, dummy_serial, simulator, minimalmodbus_cli)
        if "minimalmodbus_replay" in module_imports(module.__file__)
    }
    assert importers == {"minimalmodbus_cli"}


def test_a_replay_bus_reports_each_unexpected_request_as_it_comes(tmp_path: Path) -> None:
    request = rtu(1, 3, bytes.fromhex("0000 0001"))
    answer = rtu(1, 3, bytes.fromhex("02 0005"))
    path = write_recording(tmp_path / "one.jsonl", entry(request, answer))
    bus = minimalmodbus_replay.ReplayBus(minimalmodbus_replay.load_recording(path, install=False))
    reported: list[bytes] = []
    bus.report_unexpected = reported.append
    other = rtu(1, 3, bytes.fromhex("0001 0001"))
    assert [bus(request), bus(other), bus(request)] == [[(0.0, answer)], [], []]
    assert reported == [other, request]  # the second ask of the request has no answer left
    assert bus.replay.unexpected == reported


def test_network_servers_name_their_framing_after_the_url() -> None:
    bus = simulator.SimulatedBus({1: simulator.demo_slave()})
    servers = [
        simulator.NetworkServer(bus),
        simulator.NetworkServer(bus, datagrams=True),
        simulator.NetworkServer(bus, rtu_frames=True),
    ]
    names = []
    for server in servers:
        with server:
            names.append((server.url.split("://")[0], server.framing))
    assert names == [("tcp", "Modbus TCP"), ("udp", "Modbus UDP"), ("socket", "RTU over TCP")]
