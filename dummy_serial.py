"""A stand-in for pyserial's ``serial.Serial``, for testing without hardware.

``dummy_serial.Serial`` takes the same constructor keywords as
``serial.Serial`` and offers the members a Modbus master uses: ``open``,
``close``, ``read``, ``write``, ``flush``, ``reset_input_buffer``,
``reset_output_buffer``, ``in_waiting`` and ``is_open``. Nothing touches the
operating system: written bytes are answered from a table or by a function,
and every write is recorded in ``Serial.requests``.

This module imports only the standard library (never ``minimalmodbus`` nor
``serial``), so a bug in a driver can never hide behind the same bug in its
test double.

Recorded answers: put request -> response pairs in :data:`RESPONSES`. A
request that is not in the table is answered with :data:`DEFAULT_RESPONSE`.
A response equal to :data:`NO_DATA_PRESENT` means the slave stays silent.
Set :data:`VERBOSE` to True to print every call. On its own::

    import dummy_serial

    request = bytes.fromhex("0a03000000018571")  # slave 10, read register 0
    dummy_serial.RESPONSES[request] = bytes.fromhex("0a030207d01e29")  # 2000
    port = dummy_serial.Serial(port="/dev/ttyUSB0", timeout=0.05)
    port.write(request)
    assert port.read(7) == bytes.fromhex("0a030207d01e29")
    assert port.requests == [request]

or under MinimalModbus, which creates its ports with ``serial.Serial``::

    minimalmodbus.serial.Serial = dummy_serial.Serial
    instrument = minimalmodbus.Instrument("/dev/ttyUSB0", 10)
    assert instrument.read_register(0) == 2000

Time: incoming data is a schedule of ``(arrival_time, bytes)`` chunks. When
a request is written, its answer is scheduled relative to the moment of
writing (recorded answers arrive at once). :meth:`Serial.read` waits for
scheduled bytes as a real port would, within ``timeout``; see its docstring
for the exact rules. All timing goes through :func:`_now` and :func:`_sleep`,
so tests can replace those two with a fake clock and never really sleep.

Answers computed by a function: set ``port.responder`` to a callable that
takes the written request and returns ``(delay_seconds, bytes)`` chunks to
schedule, the delays counted from the moment of writing. For example a slave
that starts answering after 10 ms and pauses 1 ms within its answer::

    port.responder = lambda request: [
        (0.010, bytes.fromhex("0a0302")),
        (0.011, bytes.fromhex("07d01e29")),
    ]

When ``responder`` is None, :func:`recorded_responder` is used, which
looks the request up in :data:`RESPONSES`. Both go through the same
scheduling. A new port takes its ``responder`` from :data:`RESPONDER`, which
is None unless you set it: recorded answers are the default.

Simulated slaves, which compute their answers (a bus of them is a
responder), and a pseudo-terminal server live in their own module,
``minimalmodbus_simulator``; this module knows nothing of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

# ---------------------------------------------------------------------------
# Configuration, kept from MinimalModbus 2.x
# ---------------------------------------------------------------------------

RESPONSES: dict[bytes, bytes] = {}
"""Recorded answers, request bytes -> response bytes."""

DEFAULT_RESPONSE = b"NotFoundInResponseDictionary"
"""The answer to a request that is not in :data:`RESPONSES`."""

NO_DATA_PRESENT = b""
"""A response equal to this means no answer (the slave stays silent)."""

VERBOSE = False
"""When True, print every open, close, write and read."""

_VERBOSE_PREFIX = "Dummy_serial: "

Chunk = tuple[float, bytes]
"""A piece of an answer, (seconds after the write, the bytes that arrive)."""

Responder = Callable[[bytes], Iterable[Chunk]]
"""A function from the written request to the chunks that answer it."""

RESPONDER: Responder | None = None
"""The ``responder`` of each new :class:`Serial` (None means recorded answers).

Set it (e.g. to a ``minimalmodbus_simulator.SimulatedBus``) before a program creates its ports,
such as ``minimalmodbus.Instrument("/dev/ttyUSB0", 1)`` does. Ports created
earlier keep the responder they had.
"""


_CONFIGURATION_AT_IMPORT = (DEFAULT_RESPONSE, NO_DATA_PRESENT, VERBOSE)  # what reset() puts back


def reset() -> None:
    """Put the configuration back as it is at import: call it between tests.

    :data:`RESPONSES` becomes a new empty dict (a dict a test bound to it is
    left alone), :data:`DEFAULT_RESPONSE`, :data:`NO_DATA_PRESENT`,
    :data:`VERBOSE` and :data:`RESPONDER` get their defaults. Ports that
    exist keep their own ``responder``.
    """
    global RESPONSES, DEFAULT_RESPONSE, NO_DATA_PRESENT, VERBOSE, RESPONDER
    RESPONSES = {}
    DEFAULT_RESPONSE, NO_DATA_PRESENT, VERBOSE = _CONFIGURATION_AT_IMPORT
    RESPONDER = None


# ---------------------------------------------------------------------------
# Clock: the only way this module looks at or spends time
# ---------------------------------------------------------------------------


def _now() -> float:
    """Return the current time in seconds, on a monotonic clock."""
    return time.monotonic()


def _sleep(seconds: float) -> None:
    """Wait for ``seconds`` seconds."""
    time.sleep(seconds)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def recorded_responder(request: bytes) -> list[Chunk]:
    """Answer a request from the recorded table, at once.

    This is what a :class:`Serial` uses when its ``responder`` is None. It
    reads the module configuration at every call, so changes to
    :data:`RESPONSES` take effect immediately.

    Args:
        request: The bytes written to the port.

    Returns:
        ``[(0.0, response)]`` with the response from :data:`RESPONSES`, or
        :data:`DEFAULT_RESPONSE` when the request is not there; an empty list
        when the response equals :data:`NO_DATA_PRESENT`.
    """
    response = RESPONSES.get(request, DEFAULT_RESPONSE)
    if response == NO_DATA_PRESENT:
        return []
    return [(0.0, response)]


def _describe(data: bytes) -> str:
    """Return bytes as hex with their count, like ``0A 03 (2 bytes)``."""
    if not data:
        return "(0 bytes)"
    return f"{data.hex(' ').upper()} ({len(data)} bytes)"


def _check_chunk(delay: float, data: bytes) -> None:
    """Raise if a chunk from a responder is not ``(delay >= 0, bytes)``."""
    if not isinstance(data, bytes):
        raise TypeError(f"Dummy_serial: responder data must be bytes, not {data!r}")
    if delay < 0:
        raise ValueError(f"Dummy_serial: responder delay must be >= 0, not {delay!r}")


def _print_verbose(message: str) -> None:
    """Print a message with the module prefix, if :data:`VERBOSE` is set."""
    if VERBOSE:
        print(_VERBOSE_PREFIX + message)


# ---------------------------------------------------------------------------
# The port
# ---------------------------------------------------------------------------


class Serial:
    """A serial port that answers from a table or a function, without hardware.

    The constructor takes the same keywords as pyserial's ``serial.Serial``
    and stores them as attributes of the same names; only ``port`` and
    ``timeout`` change the behaviour. Like pyserial, the port is opened by
    the constructor when ``port`` is not None.

    Attributes:
        port: The port name, e.g. ``"/dev/ttyUSB0"``.
        baudrate: Stored only.
        bytesize: Stored only.
        parity: Stored only.
        stopbits: Stored only.
        timeout: Seconds a read waits for its bytes; None waits as long as
            bytes are still scheduled to arrive; 0 never waits.
        xonxoff: Stored only.
        rtscts: Stored only.
        write_timeout: Stored only (writing never blocks).
        dsrdtr: Stored only.
        inter_byte_timeout: Stored only.
        exclusive: Stored only.
        fail_to_open: As in 2.x's double: the port never opens (the
            constructor leaves it closed; :meth:`open` raises ``OSError``).
        responder: None to answer from :data:`RESPONSES` (see
            :func:`recorded_responder`), or a callable that takes the written
            request and returns ``(delay_seconds, bytes)`` chunks, which
            arrive that many seconds after the write, such as a
            ``minimalmodbus_simulator.SimulatedBus``. Starts as :data:`RESPONDER`.
        requests: Every request written, in order (kept when the port is
            closed).

    Errors of the port (opening an open port, reading a closed one, ...)
    raise ``OSError``, which is the same class as ``IOError``.

    All members may be used from several threads: a lock guards the internal
    state. A read holds the lock while it waits, so it is one atomic step.
    """

    def __init__(
        self,
        port: str | None = None,
        baudrate: int = 9600,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: float = 1,
        timeout: float | None = None,
        xonxoff: bool = False,
        rtscts: bool = False,
        write_timeout: float | None = None,
        dsrdtr: bool = False,
        inter_byte_timeout: float | None = None,
        exclusive: bool | None = None,
        fail_to_open: bool = False,
    ) -> None:
        """Store the settings and open the port if ``port`` is given.

        Args:
            port: Port name, or None to create a closed port.
            baudrate: Baud rate.
            bytesize: Data bits per character.
            parity: Parity, ``"N"``, ``"E"``, ``"O"``, ``"M"`` or ``"S"``.
            stopbits: Stop bits.
            timeout: Read timeout in seconds (see :meth:`read`).
            xonxoff: Software flow control.
            rtscts: RTS/CTS flow control.
            write_timeout: Write timeout in seconds.
            dsrdtr: DSR/DTR flow control.
            inter_byte_timeout: Inter-character timeout in seconds.
            exclusive: Exclusive access mode.
            fail_to_open: Never open (for tests of a port that cannot be opened).
        """
        self.port = port
        self.baudrate = baudrate
        self.bytesize = bytesize
        self.parity = parity
        self.stopbits = stopbits
        self.timeout = timeout
        self.xonxoff = xonxoff
        self.rtscts = rtscts
        self.write_timeout = write_timeout
        self.dsrdtr = dsrdtr
        self.inter_byte_timeout = inter_byte_timeout
        self.exclusive = exclusive
        self.fail_to_open = fail_to_open
        self.responder: Responder | None = RESPONDER
        self.requests: list[bytes] = []
        self._is_open = False
        self._schedule: list[Chunk] = []  # (arrival time, bytes), in time order
        self._lock = threading.RLock()
        if port is not None and not fail_to_open:
            self.open()

    def __repr__(self) -> str:
        """Return the id, state, port, timeout and the bytes arrived by now."""
        with self._lock:
            waiting_data = self._arrived(_now())
            return (
                f"dummy_serial.Serial<id={hex(id(self))}, open={self._is_open}>"
                f"(port={self.port!r}, timeout={self.timeout!r}, "
                f"waiting_data={waiting_data!r})"
            )

    # -- Opening and closing ------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True while the port is open."""
        return self._is_open

    def open(self) -> None:
        """Open the port.

        Raises:
            OSError: The port is already open, or ``port`` is None.
        """
        with self._lock:
            if self._is_open:
                raise OSError(f"Dummy_serial: the port {self.port!r} is already open")
            if self.port is None:
                raise OSError("Dummy_serial: cannot open a port without a name")
            if self.fail_to_open:
                raise OSError(f"Dummy_serial: the port {self.port!r} fails to open (fail_to_open)")
            _print_verbose(f"Opening port {self.port!r}")
            self._is_open = True

    def close(self) -> None:
        """Close the port, discarding all incoming bytes (arrived or scheduled).

        Raises:
            OSError: The port is already closed.
        """
        with self._lock:
            if not self._is_open:
                raise OSError(f"Dummy_serial: the port {self.port!r} is already closed")
            _print_verbose(f"Closing port {self.port!r}")
            self._is_open = False
            self._schedule.clear()

    # -- Writing ------------------------------------------------------------

    def write(self, data: bytes) -> int:
        """Write a request, record it and schedule its answer.

        The answer comes from ``responder`` if set; its chunks are scheduled
        relative to ``_now()`` at the moment of writing. Otherwise it comes
        from :func:`recorded_responder` and arrives byte by byte as it
        crosses the line after the request at ``baudrate`` (see
        :meth:`wire_time`), as a real slave's would. Writing takes no time.

        Args:
            data: The request.

        Returns:
            The number of bytes written, ``len(data)``.

        Raises:
            TypeError: ``data`` is not ``bytes``, or the responder gave data
                that is not ``bytes``.
            OSError: The port is closed.
            ValueError: The responder gave a negative delay.
        """
        if not isinstance(data, bytes):
            raise TypeError(
                f"Dummy_serial: the data to write must be bytes, not {type(data).__name__}: {data!r}"
            )
        with self._lock:
            self._check_open("write to")
            write_time = _now()
            self.requests.append(data)
            _print_verbose(f"Writing {_describe(data)}")
            if self.responder is not None:
                answer = list(self.responder(data))
            else:
                answer = self._on_the_wire(
                    len(data), b"".join(chunk for _, chunk in recorded_responder(data))
                )
            self._schedule_answer(write_time, answer)
            return len(data)

    def _on_the_wire(self, request_length: int, response: bytes) -> list[Chunk]:
        """A recorded answer byte by byte, each when it has crossed the line after the request."""
        return [
            (self.wire_time(request_length + index + 1), response[index : index + 1])
            for index in range(len(response))
        ]

    def wire_time(self, number_of_bytes: int) -> float:
        """Seconds that bytes take on the line at ``baudrate``, ``bytesize``, ``parity`` and ``stopbits``.

        A character is a start bit, the data bits, a parity bit unless
        ``parity`` is ``"N"``, and the stop bits. 0 when ``baudrate`` is not
        a positive number.
        """
        if not isinstance(self.baudrate, (int, float)) or self.baudrate <= 0:
            return 0.0
        parity_bits = 0 if self.parity == "N" else 1
        return number_of_bytes * (1 + self.bytesize + parity_bits + self.stopbits) / self.baudrate

    def flush(self) -> None:
        """Wait until all written data is sent: nothing to do, writing is instant.

        Raises:
            OSError: The port is closed.
        """
        with self._lock:
            self._check_open("flush")

    def reset_output_buffer(self) -> None:
        """Discard data not yet sent: nothing to do, writing is instant.

        Raises:
            OSError: The port is closed.
        """
        with self._lock:
            self._check_open("reset the output buffer of")

    # -- Reading ------------------------------------------------------------

    def read(self, size: int = 1) -> bytes:
        """Read up to ``size`` bytes, waiting for them as the timeout allows.

        Let *now* be ``_now()`` at the call. Exactly:

        - ``size`` bytes have arrived by *now*: return them at once, without
          sleeping. Bytes beyond ``size`` stay for later reads.
        - ``timeout`` is a number and the ``size``-th byte is scheduled to
          arrive by *now* + ``timeout`` (inclusive): ``_sleep`` until exactly
          the moment it arrives, and return ``size`` bytes.
        - ``timeout`` is a number otherwise: ``_sleep(timeout)`` and return
          whatever has arrived by *now* + ``timeout`` (possibly ``b""``).
          With ``timeout=0`` there is no sleep.
        - ``timeout`` is None: if the schedule will ever deliver ``size``
          bytes, ``_sleep`` until the moment it does and return them; if it
          never will, return what has arrived by *now* at once (never hang).

        Bytes scheduled after the moment the read returns stay scheduled and
        are delivered by later reads (a late reply). ``size=0`` returns
        ``b""`` at once.

        Args:
            size: The number of bytes wanted (0 or more).

        Returns:
            At most ``size`` bytes, oldest first.

        Raises:
            OSError: The port is closed.
            ValueError: ``size`` is negative.
        """
        if size < 0:
            raise ValueError(f"Dummy_serial: the size to read must be 0 or more, not {size!r}")
        with self._lock:
            self._check_open("read from")
            start_time = _now()
            until = self._read_deadline(size, start_time)
            if until > start_time:
                _sleep(until - start_time)
            data = self._take(size, until)
            _print_verbose(
                f"Read {_describe(data)}, {size} requested, "
                f"timeout={self.timeout!r}, waited {until - start_time:.6f} s"
            )
            return data

    @property
    def in_waiting(self) -> int:
        """The number of bytes that have arrived by now and are not yet read.

        Raises:
            OSError: The port is closed.
        """
        with self._lock:
            self._check_open("count the waiting bytes of")
            return len(self._arrived(_now()))

    def reset_input_buffer(self) -> None:
        """Discard the bytes that have arrived by now.

        Bytes still scheduled to arrive later are kept.

        Raises:
            OSError: The port is closed.
        """
        with self._lock:
            self._check_open("reset the input buffer of")
            now = _now()
            self._schedule = [chunk for chunk in self._schedule if chunk[0] > now]

    # -- Internals (called with the lock held) ------------------------------

    def _check_open(self, action: str) -> None:
        """Raise OSError naming ``action`` if the port is closed."""
        if not self._is_open:
            raise OSError(f"Dummy_serial: cannot {action} the port {self.port!r}: it is closed")

    def _schedule_answer(self, write_time: float, chunks: Iterable[Chunk]) -> None:
        """Add answer chunks, each ``delay`` seconds after ``write_time``.

        All chunks are checked before any is scheduled; empty ones are skipped.
        """
        answer = list(chunks)
        for delay, data in answer:
            _check_chunk(delay, data)
        answer = [(delay, data) for delay, data in answer if data]
        if not answer:
            _print_verbose("No answer scheduled")
        elif len(answer) == 1:
            _print_verbose(f"Answer scheduled in {answer[0][0]:.6f} s: {_describe(answer[0][1])}")
        else:
            _print_verbose(
                f"Answer scheduled in {len(answer)} pieces from {answer[0][0]:.6f} s to "
                f"{answer[-1][0]:.6f} s: {_describe(b''.join(data for _, data in answer))}"
            )
        for delay, data in answer:
            self._schedule.append((write_time + delay, data))
        self._schedule.sort(key=lambda chunk: chunk[0])  # stable: ties keep order

    def _arrival_of(self, size: int) -> float | None:
        """Return when ``size`` unread bytes will have arrived, or None if never."""
        total = 0
        for arrival_time, data in self._schedule:
            total += len(data)
            if total >= size:
                return arrival_time
        return None

    def _read_deadline(self, size: int, start_time: float) -> float:
        """Return the moment a read starting at ``start_time`` returns (see read)."""
        if size == 0:
            return start_time
        ready_time = self._arrival_of(size)
        if ready_time is not None and ready_time <= start_time:
            return start_time
        if self.timeout is None:
            return start_time if ready_time is None else ready_time
        if ready_time is not None and ready_time <= start_time + self.timeout:
            return ready_time
        return start_time + self.timeout

    def _arrived(self, until: float) -> bytes:
        """Return the unread bytes that have arrived by ``until``, keeping them."""
        return b"".join(data for arrival, data in self._schedule if arrival <= until)

    def _take(self, size: int, until: float) -> bytes:
        """Remove and return up to ``size`` bytes that have arrived by ``until``."""
        taken = bytearray()
        while self._schedule and len(taken) < size and self._schedule[0][0] <= until:
            arrival_time, data = self._schedule.pop(0)
            room = size - len(taken)
            taken += data[:room]
            if len(data) > room:
                self._schedule.insert(0, (arrival_time, data[room:]))
        return bytes(taken)


if __name__ == "__main__":  # the pseudo-terminal server moved with the simulated slaves
    raise SystemExit("dummy_serial serves nothing: use python -m minimalmodbus_simulator --pty")
