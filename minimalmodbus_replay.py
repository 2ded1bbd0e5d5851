"""Replaying recordings of :class:`minimalmodbus.Recording` to our driver and to any master.

A recording (doc/recording.rst) holds every request and answer of a bench
session. :func:`load_recording` reads it, checking every line, and makes it
the responder of :mod:`dummy_serial`: each request a test sends gets its
recorded answer, in order or as a lookup, and the test can ask what was
left unplayed or came unexpected. :class:`ReplayBus` serves a recording on
the simulator's pseudo-terminal or network server, for mbpoll or another
library (``python -m minimalmodbus simulate --replay FILE``).

This module sits above the driver (whose ``Recording`` writes the format),
:mod:`dummy_serial` and the simulator; none of them imports it.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import NamedTuple, TextIO

import dummy_serial
import minimalmodbus
import minimalmodbus_simulator as simulator
from dummy_serial import (
    Chunk,
    _describe,  # bytes as the double describes them: 0A 03 (2 bytes)
)

# ---------------------------------------------------------------------------
# Reading a recording and answering from it
# ---------------------------------------------------------------------------

RECORDING_VERSIONS = (minimalmodbus.RECORDING_VERSION,)
"""The versions of the recording format this module reads."""

_RECORDED_MODES = ("rtu", "ascii", "tcp")
_MBAP_TRANSACTION_ID_BYTES = 2  # Modbus TCP: a request's answer echoes its transaction id
_MBAP_UNIT_ID_INDEX = 6


class RecordingError(ValueError):
    """A recording that cannot be replayed; the message names the file and the line."""


class RecordedExchange(NamedTuple):
    """One transaction of a recording (one line of the file)."""

    line_number: int
    t: float
    """Seconds from the start of the recording to the start of the transaction."""
    rtt: float | None
    """Seconds from the end of writing to the end of reading (for no answer: the time waited);
    None when no answer was read for (see the manual's field list)."""
    port: str | None
    mode: str
    """``rtu``, ``ascii`` or ``tcp`` (an MBAP frame)."""
    slaveaddress: int
    functioncode: int
    request: bytes
    response: bytes
    """The raw answer; empty for no answer."""
    error: str | None
    """The class name of the exception the driver raised, or None."""


def _match_key(mode: str, request: bytes) -> bytes:
    """What a request is matched on: its bytes, without the transaction id of an MBAP frame."""
    if mode == "tcp":
        return bytes(_MBAP_TRANSACTION_ID_BYTES) + request[_MBAP_TRANSACTION_ID_BYTES:]
    return request


class Replay:
    """A responder that answers requests from a recording.

    Each request is matched on its bytes (for Modbus TCP, on all but its
    transaction id, which the answer takes from the request). Ordered
    (the default), a request answered differently over time gets its
    recorded answers one after another, each once; in a lookup
    (``ordered=False``) a request always gets the answer recorded last for
    it. A request without an answer left gets none (the slave stays silent:
    never a wrong answer), and is kept in :attr:`unexpected`.

    Attributes:
        exchanges: The recorded transactions, in file order.
        ordered: Whether answers are given in order, each once.
        timing: Whether an answer arrives after its recorded round-trip
            time (through dummy_serial's clock, so a fake clock stays instant);
            else at once.
        played: The recorded transactions answered so far, in order.
        unexpected: The requests no recorded answer was left for, in order.
    """

    def __init__(
        self, exchanges: Iterable[RecordedExchange], ordered: bool = True, timing: bool = False
    ) -> None:
        self.exchanges = list(exchanges)
        self.ordered = ordered
        self.timing = timing
        self.played: list[RecordedExchange] = []
        self.unexpected: list[bytes] = []
        self._waiting: dict[bytes, list[RecordedExchange]] = {}
        for exchange in self.exchanges:
            self._waiting.setdefault(_match_key(exchange.mode, exchange.request), []).append(exchange)
        self._asked: set[bytes] = set()  # the keys of the requests answered
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        """Return the counts of recorded, played and unexpected requests."""
        return (
            f"minimalmodbus_replay.Replay<{len(self.exchanges)} exchanges, ordered={self.ordered}, "
            f"played={len(self.played)}, unexpected={len(self.unexpected)}>"
        )

    def __call__(self, request: bytes) -> list[Chunk]:
        """The recorded answer to a request, as ``(delay, bytes)`` chunks (none: no answer)."""
        with self._lock:
            exchange = self._next_answer(request)
            if exchange is None:
                self.unexpected.append(request)
                return []
            self.played.append(exchange)
        response = exchange.response
        if exchange.mode == "tcp" and response:
            response = request[:_MBAP_TRANSACTION_ID_BYTES] + response[_MBAP_TRANSACTION_ID_BYTES:]
        delay = (exchange.rtt or 0.0) if self.timing else 0.0
        return [(delay, response)] if response else []

    def _next_answer(self, request: bytes) -> RecordedExchange | None:
        """The recorded transaction that answers this request (taken, when ordered), or None."""
        for key in (request, _match_key("tcp", request)):
            candidates = self._waiting.get(key)
            if candidates:
                self._asked.add(key)
                return candidates.pop(0) if self.ordered else candidates[-1]
        return None

    @property
    def unplayed(self) -> list[RecordedExchange]:
        """The recorded transactions not answered (in a lookup: those whose request never came)."""
        with self._lock:
            if self.ordered:
                left = [exchange for waiting in self._waiting.values() for exchange in waiting]
                return sorted(left, key=lambda exchange: exchange.line_number)
            return [
                exchange
                for exchange in self.exchanges
                if _match_key(exchange.mode, exchange.request) not in self._asked
            ]

    def check_complete(self) -> None:
        """Raise AssertionError, listing them, if any request was unexpected or any answer unplayed."""
        problems = [f"unexpected request {_describe(request)}" for request in self.unexpected]
        problems += [
            f"unplayed line {exchange.line_number}: {_describe(exchange.request)}"
            for exchange in self.unplayed
        ]
        if problems:
            raise AssertionError("The replay does not match the recording:\n" + "\n".join(problems))


def load_recording(
    source: str | os.PathLike[str] | TextIO,
    ordered: bool = True,
    timing: bool = False,
    install: bool = True,
) -> Replay:
    """Read a recording and (``install``) make it the ``dummy_serial.RESPONDER`` of the ports created next.

    Args:
        source: A path, or a text file open for reading.
        ordered: See :class:`Replay`: answers in order, each once (True), or a lookup.
        timing: Whether answers arrive after their recorded round-trip time.
        install: Whether to set ``dummy_serial.RESPONDER`` (undone by ``dummy_serial.reset()``).

    Returns:
        The :class:`Replay`, to ask what was played, unplayed or unexpected.

    Raises:
        RecordingError: A line is not a valid recording line (a ValueError
            that names the file and the line), or the header is missing or
            of an unknown version.
        OSError: The file cannot be read.
    """
    replay = Replay(read_recording(source), ordered=ordered, timing=timing)
    if install:
        dummy_serial.RESPONDER = replay
    return replay


def read_recording(source: str | os.PathLike[str] | TextIO) -> list[RecordedExchange]:
    """The transactions of a recording file, checked line by line (see :func:`load_recording`)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as stream:  # decoded line by line, so bad bytes name their line
            return _parse_recording(stream, os.fspath(source))
    if not callable(getattr(source, "read", None)):
        raise TypeError(f"source must be a path or a text file, not {source!r}")
    return _parse_recording(source, str(getattr(source, "name", "<recording>")))


def _parse_recording(lines: Iterable[str | bytes], file_name: str) -> list[RecordedExchange]:
    """Parse the header and every line; RecordingError naming the first bad line."""
    exchanges: list[RecordedExchange] = []
    line_number = 0
    for line_number, raw_line in enumerate(lines, start=1):
        try:
            line = _decoded(raw_line)
            if not line.endswith("\n"):
                raise ValueError("no line end: the file is cut short (add a line end if edited by hand)")
            if line_number == 1:
                _check_header(_json_object(line))
            elif line.strip():
                exchanges.append(_parse_exchange(_json_object(line), line_number))
        except KeyError as error:
            raise RecordingError(f"{file_name}, line {line_number}: the field {error} is missing") from error
        except (ValueError, TypeError) as error:
            raise RecordingError(f"{file_name}, line {line_number}: {error}") from error
    if line_number == 0:
        raise RecordingError(f"{file_name}, line 1: the file is empty (no header line)")
    return exchanges


def _decoded(line: str | bytes) -> str:
    """A line as text: bytes read from a file are UTF-8."""
    if isinstance(line, str):
        return line
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"not UTF-8 text (byte 0x{line[error.start]:02X} at column {error.start + 1})"
        ) from None


def _json_object(line: str) -> dict[str, object]:
    """A line parsed as a JSON object."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg} at column {error.pos + 1})") from None
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, not {line.strip()[:40]!r}")
    return value


def _check_header(header: dict[str, object]) -> None:
    """The first line: the format's name and a version this module reads."""
    if header.get("format") != minimalmodbus.RECORDING_FORMAT:
        raise ValueError(
            f"not a recording: the header's format must be {minimalmodbus.RECORDING_FORMAT!r}, "
            f"not {header.get('format')!r}"
        )
    if header.get("version") not in RECORDING_VERSIONS:
        raise ValueError(
            f"recording format version {header.get('version')!r}; this module reads {RECORDING_VERSIONS}"
        )


def _parse_exchange(fields: dict[str, object], line_number: int) -> RecordedExchange:
    """One transaction line, each field checked; the request must name the recorded slave."""
    mode = fields["mode"]
    if not isinstance(mode, str) or mode not in _RECORDED_MODES:
        raise ValueError(f"mode must be one of {_RECORDED_MODES}, not {mode!r}")
    exchange = RecordedExchange(
        line_number,
        _number_field(fields, "t"),
        None if fields.get("rtt") is None else _number_field(fields, "rtt"),
        _text_field(fields, "port", optional=True),
        mode,
        _int_field(fields, "slave", 255),
        _int_field(fields, "functioncode", 255),
        _hex_field(fields, "request"),
        _hex_field(fields, "response"),
        _text_field(fields, "error", optional=True),
    )
    if _addressed_slave(mode, exchange.request) != exchange.slaveaddress:
        raise ValueError(
            f"the request {_describe(exchange.request)} is not a {mode} frame "
            f"to slave {exchange.slaveaddress}"
        )
    return exchange


def _number_field(fields: dict[str, object], name: str) -> float:
    """A field that holds a number of seconds, 0 or more."""
    value = fields[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise ValueError(f"{name} must be a number of seconds, 0 or more, not {value!r}")
    return float(value)


def _int_field(fields: dict[str, object], name: str, maximum: int) -> int:
    """A field that holds a whole number 0..maximum."""
    value = fields[name]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ValueError(f"{name} must be a whole number 0..{maximum}, not {value!r}")
    return value


def _text_field(fields: dict[str, object], name: str, optional: bool) -> str | None:
    """A field that holds a string (or null, when optional)."""
    value = fields[name]
    if isinstance(value, str) or (optional and value is None):
        return value
    raise ValueError(f"{name} must be a string{' or null' if optional else ''}, not {value!r}")


def _hex_field(fields: dict[str, object], name: str) -> bytes:
    """A field that holds bytes as hex pairs, spaced or not."""
    value = fields[name]
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string of hex pairs, not {value!r}")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"{name} is not hex pairs: {value!r}") from None


def _addressed_slave(mode: str, request: bytes) -> int | None:
    """The slave address a request frame names, or None if it is too short to name one."""
    if mode == "tcp":
        return request[_MBAP_UNIT_ID_INDEX] if len(request) > _MBAP_UNIT_ID_INDEX else None
    if mode == "ascii":
        try:
            return int(request[1:3], 16) if request[:1] == b":" else None
        except ValueError:
            return None
    return request[0] if request else None


# ---------------------------------------------------------------------------
# Serving a recording to any master
# ---------------------------------------------------------------------------


class ReplayBus(simulator.SimulatedBus):
    """A recording served as a bus: each request gets its recorded answer (a :class:`Replay`).

    Serve it like any bus, on the simulator's ``PtyServer`` (an RTU or ASCII
    recording) or ``NetworkServer`` (a Modbus TCP recording; an RTU one with
    ``rtu_frames=True``), so another master can be tested against a device
    that is not there::

        replay = minimalmodbus_replay.load_recording("bench.jsonl", install=False)
        with minimalmodbus_simulator.PtyServer(ReplayBus(replay)) as server:
            ...  # mbpoll server.path

    Faults and slaves do not apply: the recording decides every answer.

    Attributes:
        replay: The recording, which tells what was played and unexpected.
        report_unexpected: Called with each request the recording has no
            answer for, as it comes (``serve_recording`` prints it), or None.
    """

    def __init__(self, replay: Replay) -> None:
        """Serve a replay; the bus's mode is the recording's serial mode (RTU if it has none).

        Raises:
            TypeError: ``replay`` is not a :class:`Replay`.
            ValueError: The recording mixes RTU and ASCII.
        """
        if not isinstance(replay, Replay):
            raise TypeError(f"replay must be a minimalmodbus_replay.Replay, not {replay!r}")
        serial_modes = {exchange.mode for exchange in replay.exchanges} - {"tcp"}
        if len(serial_modes) > 1:
            raise ValueError(f"a recording served on one line has one mode, not {sorted(serial_modes)}")
        super().__init__({}, serial_modes.pop() if serial_modes else simulator.MODE_RTU)
        self.replay = replay
        self.report_unexpected: Callable[[bytes], None] | None = None

    def __repr__(self) -> str:
        """Return the mode and the replay."""
        return f"minimalmodbus_replay.ReplayBus<mode={self.mode!r}, {self.replay!r}>"

    def __call__(self, request: bytes) -> list[Chunk]:
        """The recorded answer to a request frame."""
        with self._lock:
            self.requests.append(request)
        return self._replayed(request)

    def answer_mbap(self, adu: bytes) -> bytes | None:
        """The recorded answer to a Modbus TCP request (with the request's transaction id), or None.

        With timing, it comes after its recorded round-trip time (the
        server's thread waits, on dummy_serial's clock).
        """
        chunks = self._replayed(adu)
        for delay, _ in chunks[:1]:  # a recorded answer is one chunk
            dummy_serial._sleep(delay)
        return b"".join(data for _, data in chunks) or None

    def _replayed(self, request: bytes) -> list[Chunk]:
        """The replay's chunks for a request; one it has no answer for is reported."""
        chunks = self.replay(request)
        if not chunks and self.report_unexpected and request in self.replay.unexpected:
            self.report_unexpected(request)
        return chunks


def serve_recording(
    replay: Replay,
    *,
    source: str = "a recording",
    baudrate: int = 19200,
    tcp: tuple[str, int] | None = None,
    udp: tuple[str, int] | None = None,
) -> int:
    """Serve a recording until Ctrl-C, where its frames can go; then say what was played.

    An RTU or ASCII recording goes on a pseudo-terminal, an RTU one also on
    ``tcp`` (RTU frames over TCP, as ``socket://``); a Modbus TCP one on
    ``tcp`` or ``udp``. ``source`` names the recording in the line printed.

    Returns:
        The exit status, 0.

    Raises:
        ValueError: The recording's frames cannot be served where asked.
    """
    bus = ReplayBus(replay)
    bus.report_unexpected = lambda request: print(
        f"Unexpected request, no recorded answer left: {_describe(request)}", file=sys.stderr, flush=True
    )
    network_frames = any(exchange.mode == "tcp" for exchange in replay.exchanges)
    serial_frames = bool(replay.exchanges) and not network_frames
    if tcp is None and udp is None and network_frames:
        raise ValueError("the recording holds Modbus TCP frames: serve it with --tcp or --udp")
    if serial_frames and (udp is not None or (tcp is not None and bus.mode != simulator.MODE_RTU)):
        raise ValueError(f"the recording holds {bus.mode} frames: serve it with --pty (RTU also with --tcp)")
    count = len(replay.exchanges)
    title = f"Replaying {source} ({count} exchange{'' if count == 1 else 's'})"
    status = simulator.serve(bus, baudrate=baudrate, tcp=tcp, udp=udp, rtu_frames=serial_frames, title=title)
    played, recorded = len(replay.played), len(replay.exchanges)
    given = f"{played} of {recorded} recorded answers" if replay.ordered else f"{played} answers (lookup)"
    print(
        f"Replayed {given}; "
        f"{len(replay.unexpected)} unexpected request{'' if len(replay.unexpected) == 1 else 's'}.",
        file=sys.stderr,
    )
    return status
