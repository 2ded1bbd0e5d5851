"""MinimalModbus: a Modbus RTU and Modbus ASCII master for serial lines.

Talk to instruments (temperature controllers, meters, drives, PLCs) from a
computer with a serial port or a USB-to-RS-485 adapter::

    import minimalmodbus
    instrument = minimalmodbus.Instrument("/dev/ttyUSB0", 10)
    temperature = instrument.read_register(4097, 1)

Every serial-line function code is one method: 1, 2, 3, 4, 5, 6, 15 and 16
through the value methods (``read_register``, ``write_float`` ...), 7, 8,
11, 12, 17, 20, 21, 22, 23, 24 and 43/14 through their own methods, and any
other (vendor) code through ``perform_command``. The call chain::

    read_register() etc.   check their own arguments, then hand off
    _generic_command()     turns a value into a request payload and back
    _perform_command()     builds the request (_Request: frame, expected answer), retries
    _transact()            under the port's lock: silence, write, echo, read, check
    _communicate()         2.x: raw frame out, raw frame in, through _transact

A request carries its slave address, function code and expected answer to
the frame reader and the checks; a frame format (RTU, ASCII) and the port
are the two sides of a transaction. Framing, response checks, checksums and
value codecs are pure functions of bytes and values.
"""

from __future__ import annotations

__author__ = "MinimalModbus maintainers"
__license__ = "Apache License, Version 2.0"
__url__ = "https://github.com/pyhys/minimalmodbus"
__version__ = "3.0.0.dev1"

import binascii
import contextlib
import decimal
import enum
import itertools
import json
import logging
import math
import os
import select
import socket
import struct
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TextIO, cast

import serial

try:  # POSIX: pyserial lets termios.error (not an OSError) escape
    from termios import error as _TermiosError

    _TERMIOS_ERRORS: tuple[type[BaseException], ...] = (_TermiosError,)
except ImportError:  # pragma: no cover (Windows)
    _TERMIOS_ERRORS = ()

if TYPE_CHECKING:  # only the type checker needs it; no run-time dependency
    from typing_extensions import Self

# ---------------------------------------------------------------------------
# Public constants
# ---------------------------------------------------------------------------

MODE_RTU = "rtu"
"""Modbus RTU, binary frames delimited by silence, with a CRC-16 checksum."""

MODE_ASCII = "ascii"
"""Modbus ASCII, hex characters between ``:`` and CR LF, with an LRC checksum."""

BYTEORDER_BIG = 0
"""Registers AB CD for the 32-bit value 0xABCD (most significant first)."""

BYTEORDER_LITTLE = 1
"""Registers DC BA for the 32-bit value 0xABCD."""

BYTEORDER_BIG_SWAP = 2
"""Registers BA DC for the 32-bit value 0xABCD (bytes swapped in each register)."""

BYTEORDER_LITTLE_SWAP = 3
"""Registers CD AB for the 32-bit value 0xABCD (registers in reverse order)."""

# ---------------------------------------------------------------------------
# Protocol constants
# ---------------------------------------------------------------------------

# Serial Line §2.2: 0 is broadcast, 1..247 are slaves, 248..255 are reserved.
# Accepted, as 2.x did, since devices use them (0xF8 is the general address of
# the PZEM-004T/016/017 energy meters).
_BROADCAST_ADDRESS = 0
_MAX_SLAVE_ADDRESS = 255

# Application Protocol §4.4: 16-bit addresses and register values.
_MAX_REGISTER_ADDRESS = 0xFFFF
_MAX_REGISTER_VALUE = 0xFFFF

# Application Protocol §6.1-6.4, 6.11, 6.12: quantities per request.
_MAX_BITS_READ = 2000
_MAX_BITS_WRITE = 1968
_MAX_REGISTERS_READ = 125
_MAX_REGISTERS_WRITE = 123

# Application Protocol §6.8: diagnostics sub-functions with special handling.
_DIAGNOSTIC_RETURN_QUERY_DATA = 0
_DIAGNOSTIC_FORCE_LISTEN_ONLY = 4

# Application Protocol §6.9: at most 64 events in the comm event log.
_MAX_COMM_EVENTS = 64

# Application Protocol §6.14, §6.15: file records, reference type 6,
# records 0..9999, response data length at most 0xF5, request 0xFB bytes.
_FILE_REFERENCE_TYPE = 6
_MAX_FILE_NUMBER = 0xFFFF
_MAX_RECORD_NUMBER = 9999
_MAX_FILE_RECORD_READ = 121
_MAX_FILE_RECORD_WRITE = 122

# Application Protocol §6.17: read 1..125 and write 1..121 registers.
_MAX_REGISTERS_READ_WRITE = 121

# Application Protocol §6.18: at most 31 registers in a FIFO queue.
_MAX_FIFO_COUNT = 31

# Application Protocol §6.21: Read Device Identification, MEI type 0x0E.
_MEI_DEVICE_IDENTIFICATION = 0x0E
_DEVICE_ID_READ_CODES = (1, 2, 3, 4)
_DEVICE_ID_ONE_OBJECT = 4
_MORE_FOLLOWS = 0xFF

# Serial Line §2.5.1: at most 252 data bytes after the function code.
_MAX_PAYLOAD_BYTES = 252

# Application Protocol §6.5: the two legal values of a single coil.
_COIL_ON = b"\xff\x00"
_COIL_OFF = b"\x00\x00"

# Application Protocol §7: an exception response sets bit 7 of the code.
_EXCEPTION_BIT = 0x80

# Serial Line §2.5.1.1: 3.5 character times of silence between frames,
# fixed at 1.75 ms above 19200 baud.
_SILENT_CHARACTERS = 3.5
_FIXED_SILENCE_BAUDRATE = 19200
_FIXED_SILENCE = 0.00175

# Serial Line §2.5.1 and §2.5.2: the largest frames.
_MAX_RTU_FRAME_BYTES = 256
_MAX_ASCII_FRAME_BYTES = 513

# What 2.x gave _communicate when it could not predict the response size.
_2X_UNKNOWN_SIZE = 1000

# Modbus Messaging on TCP/IP Implementation Guide §3.1.3, §4.1: MBAP header
# (transaction id, protocol id 0, length, unit id), length 2..254, port 502.
_MODE_TCP = "tcp"
_NETWORK_SCHEMES = ("tcp", "udp")
_MODBUS_TCP_PORT = 502
_MBAP_HEADER_BYTES = 7
_MAX_MBAP_LENGTH = 254
_MAX_MBAP_BYTES = _MBAP_HEADER_BYTES - 1 + _MAX_MBAP_LENGTH
_TRANSACTION_IDS = itertools.count(1)  # taken modulo 65536
_CONNECT_TIMEOUT = 3.0  # seconds; the port's connect_timeout
_NETWORK_TIMEOUT = 0.5  # seconds; the response timeout of a network port (as libmodbus's)

# Serial Line §2.5.2.1: ASCII frame start and end.
_ASCII_START = b":"
_ASCII_END = b"\r\n"

# The port settings of an Instrument given a port name (as in 2.x).
_PORT_SETTINGS: dict[str, Any] = {
    "baudrate": 19200,
    "bytesize": 8,
    "parity": "N",
    "stopbits": 1,
    "timeout": 0.05,
    "write_timeout": 2.0,
}

_MAX_DECIMALS = 10
_DEBUG_PREFIX = "MinimalModbus debug mode. "

_LOGGER = logging.getLogger("minimalmodbus")

# ---------------------------------------------------------------------------
# Exceptions
# ---------------------------------------------------------------------------


class ModbusException(IOError):
    """Base class for all Modbus communication errors."""


class SlaveReportedException(ModbusException):
    """The slave answered with an exception response.

    Attributes:
        exception_code: the exception code the slave sent (1..255), or None.
        function_code: the function code of the request, or None.
    """

    def __init__(
        self,
        message: str,
        exception_code: int | None = None,
        function_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.exception_code = exception_code
        self.function_code = function_code


class SlaveDeviceBusyError(SlaveReportedException):
    """The slave is busy (exception code 6); try again later."""


class NegativeAcknowledgeError(SlaveReportedException):
    """The slave cannot perform the request (exception code 7)."""


class IllegalRequestError(SlaveReportedException):
    """Illegal function, data address or data value (codes 1, 2, 3)."""


class GatewayPathUnavailableError(SlaveReportedException):
    """A gateway has no path to the unit addressed (exception code 10, Modbus TCP)."""


class GatewayTargetFailedError(SlaveReportedException):
    """The device behind a gateway did not answer it (exception code 11, Modbus TCP)."""


class MasterReportedException(ModbusException):
    """This side found the problem.

    Attributes:
        request: the frame written (bytes, possibly empty).
        response: the bytes read (possibly empty).
    """

    def __init__(self, message: str, request: bytes = b"", response: bytes = b"") -> None:
        super().__init__(message)
        self.request = request
        self.response = response


class NoResponseError(MasterReportedException):
    """Nothing came back before the timeout."""


class LocalEchoError(MasterReportedException):
    """The local echo of the request (``handle_local_echo``) was wrong."""


class InvalidResponseError(MasterReportedException):
    """Something came back, but it is not a valid answer to the request."""


class PortError(MasterReportedException, serial.SerialException):
    """The port cannot be opened, or failed during a transaction (its error is the cause).

    A ``MasterReportedException``, and also a ``serial.SerialException``, which
    2.x let through, so programs that catch that keep working.
    """


class PortTypeError(MasterReportedException, TypeError):
    """The ``port`` argument is neither a port name nor a serial port object.

    A ``MasterReportedException``, as in 2.x, and also a ``TypeError``, so
    code that catches caller mistakes as ``TypeError`` catches it too.
    """


class CommEventLog(NamedTuple):
    """The communication event log of a slave (function code 12)."""

    status: int
    """0xFFFF while the slave is busy with a previous command, else 0."""
    event_count: int
    """Successful message completions counted by the slave."""
    message_count: int
    """Messages processed by the slave since its last restart."""
    events: bytes
    """0..64 event bytes, the most recent first."""


# What pyserial raises when a port fails; these become MasterReportedException.
_PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, *_TERMIOS_ERRORS)
# ... and when it refuses a setting (pyserial checks some settings itself).
_PORT_OR_SETTING_ERRORS: tuple[type[BaseException], ...] = (*_PORT_ERRORS, ValueError)
# pyserial's write and read of a plain POSIX port (none elsewhere), which _write
# and _read_arrived may bypass.
_PYSERIAL_POSIX_MEMBERS: dict[str, Any] = {
    member: getattr(getattr(serial, "serialposix", None), "Serial", object).__dict__.get(member)
    for member in ("write", "read")
}
# How often a port that does not wait for input (timeout 0, no descriptor) is polled.
_POLL_INTERVAL = 0.001


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------

# Application Protocol §7: exception codes, their meaning and their class.
_EXCEPTION_CODES: dict[int, tuple[str, type[SlaveReportedException]]] = {
    1: ("Illegal function", IllegalRequestError),
    2: ("Illegal data address", IllegalRequestError),
    3: ("Illegal data value", IllegalRequestError),
    4: ("Slave device failure", SlaveReportedException),
    5: ("Acknowledge", SlaveReportedException),
    6: ("Slave device busy", SlaveDeviceBusyError),
    7: ("Negative acknowledge", NegativeAcknowledgeError),
    8: ("Memory parity error", SlaveReportedException),
    10: ("Gateway path unavailable", GatewayPathUnavailableError),
    11: ("Gateway target device failed to respond", GatewayTargetFailedError),
}


# Response layouts and checks that the fields of a _FunctionCode row cannot
# state; each is named in its row. (Payloads are the data after the function
# code; a layout function gets the frame so far, without checksum.)


def _device_identification_length(frame: bytes) -> int | None:
    """§6.21: after MEI type, read code, conformity, more follows, next object id
    and the number of objects, per object its id, its length and the value."""
    if len(frame) > 2 and frame[2] != _MEI_DEVICE_IDENTIFICATION:
        return None
    position = 8
    if len(frame) < position:
        return position
    for _ in range(frame[7]):
        if len(frame) < position + 2:
            return position + 2
        position += 2 + frame[position + 1]
    return position


def _check_device_identification_response(request: bytes, response: bytes) -> str | None:
    """§6.21: the same MEI type and read code; more follows only from a later object."""
    if response[:2] != request[:2]:
        return f"Wrong MEI type or read code: expected {_hex(request[:2])}, received {_hex(response[:2])}"
    more_follows, next_object_id = response[3], response[4]
    if more_follows == _MORE_FOLLOWS and next_object_id <= request[2]:
        return f"More follows, but the next object id {next_object_id} does not advance past {request[2]}"
    if request[1] == _DEVICE_ID_ONE_OBJECT and (response[5] != 1 or response[6] != request[2]):
        return f"Individual access to object {request[2]}: expected that one object, received {response[5]}"
    return None


def _check_diagnostics_response(request: bytes, response: bytes) -> str | None:
    """§6.8.1: return query data (sub-function 0) echoes the data."""
    if request[:2] == _pack_words(_DIAGNOSTIC_RETURN_QUERY_DATA) and response != request:
        return f"Return query data: expected the data {_hex(request[2:])} back"
    return None


def _is_force_listen_only(request: bytes) -> bool:
    """§6.8.1, sub-function 4: the slave does not answer."""
    return request[:2] == _pack_words(_DIAGNOSTIC_FORCE_LISTEN_ONLY)


def _check_comm_event_log_response(request: bytes, response: bytes) -> str | None:
    """§6.9: status, event count, message count and 0..64 events."""
    if not 6 <= response[0] <= 6 + _MAX_COMM_EVENTS:
        return f"Byte count {response[0]}: the event log holds 6..{6 + _MAX_COMM_EVENTS} bytes"
    return None


def _check_file_record_response(request: bytes, response: bytes) -> str | None:
    """§6.14: one sub-response, as long as the record length the request asked for."""
    registers = int.from_bytes(request[6:8], "big")
    expected = bytes((2 + 2 * registers, 1 + 2 * registers, _FILE_REFERENCE_TYPE))
    if response[:3] != expected:
        return (
            f"Wrong byte count or sub-response header (length, reference type): "
            f"expected {_hex(expected)}, received {_hex(response[:3])}"
        )
    return None


def _check_fifo_queue_response(request: bytes, response: bytes) -> str | None:
    """§6.18: the FIFO count agrees with the registers sent, at most 31."""
    fifo_count = int.from_bytes(response[2:4], "big")
    if fifo_count > _MAX_FIFO_COUNT or len(response) != 4 + 2 * fifo_count:
        return (
            f"FIFO count {fifo_count} does not fit {len(response) - 4} data bytes "
            f"(at most {_MAX_FIFO_COUNT} registers)"
        )
    return None


class _FunctionCode(NamedTuple):
    """What the module knows about one function code (Application Protocol §6).

    Response layout: either ``data_length`` fixed data bytes after the
    function code, or a byte count of ``count_size`` bytes that tells how many
    follow, or (``as_long_as_request``) as many data bytes as the request
    had, or a ``layout`` function. None of these: the length is unknown and
    the line's silence ends it.
    """

    name: str
    writes: bool  # changes the slave: retried only with retry_writes
    broadcast: bool  # may be sent to slave address 0
    data_length: int | None = None  # fixed response data bytes
    count_size: int = 0  # bytes of the byte count that starts the data
    echo: int = 0  # leading request payload bytes the response repeats
    bits_per_item: int = 0  # byte count = ceil(requested quantity * this / 8)
    as_long_as_request: bool = False  # the response data is as long as the request's
    layout: Callable[[bytes], int | None] | None = None  # frame length from the frame so far
    check: Callable[[bytes, bytes], str | None] | None = None  # (request, response payload) -> problem
    unanswered: Callable[[bytes], bool] | None = None  # requests (payloads) nothing answers


_FUNCTION_CODES: dict[int, _FunctionCode] = {
    1: _FunctionCode("Read Coils", False, False, count_size=1, bits_per_item=1),
    2: _FunctionCode("Read Discrete Inputs", False, False, count_size=1, bits_per_item=1),
    3: _FunctionCode("Read Holding Registers", False, False, count_size=1, bits_per_item=16),
    4: _FunctionCode("Read Input Registers", False, False, count_size=1, bits_per_item=16),
    5: _FunctionCode("Write Single Coil", True, True, data_length=4, echo=4),
    6: _FunctionCode("Write Single Register", True, True, data_length=4, echo=4),
    7: _FunctionCode("Read Exception Status", False, False, data_length=1),
    # Return query data (sub-function 0) echoes any number of data words.
    8: _FunctionCode(
        "Diagnostics",
        True,
        False,
        echo=2,
        as_long_as_request=True,
        check=_check_diagnostics_response,
        unanswered=_is_force_listen_only,
    ),
    11: _FunctionCode("Get Comm Event Counter", False, False, data_length=4),
    12: _FunctionCode("Get Comm Event Log", False, False, count_size=1, check=_check_comm_event_log_response),
    15: _FunctionCode("Write Multiple Coils", True, True, data_length=4, echo=4),
    16: _FunctionCode("Write Multiple Registers", True, True, data_length=4, echo=4),
    17: _FunctionCode("Report Slave ID", False, False, count_size=1),
    20: _FunctionCode("Read File Record", False, False, count_size=1, check=_check_file_record_response),
    # The response to fc 21 repeats the whole request (no payload is longer than this).
    21: _FunctionCode("Write File Record", True, True, count_size=1, echo=_MAX_RTU_FRAME_BYTES),
    22: _FunctionCode("Mask Write Register", True, True, data_length=6, echo=6),
    23: _FunctionCode("Read/Write Multiple Registers", True, False, count_size=1, bits_per_item=16),
    24: _FunctionCode("Read FIFO Queue", False, False, count_size=2, check=_check_fifo_queue_response),
    43: _FunctionCode(
        "Encapsulated Interface Transport",
        False,
        False,
        layout=_device_identification_length,
        check=_check_device_identification_response,
    ),
}

# Allowed function codes of the value methods (API part A).
_READ_BIT_CODES = (1, 2)
_WRITE_BIT_CODES = (5, 15)
_READ_REGISTER_CODES = (3, 4)
_WRITE_REGISTER_CODES = (6, 16)

# Per byte order: (reverse the register order, swap the bytes in each register),
# applied to the big-endian bytes of a value. Each step is its own inverse.
_BYTEORDERS: dict[int, tuple[bool, bool]] = {
    BYTEORDER_BIG: (False, False),
    BYTEORDER_LITTLE: (True, True),
    BYTEORDER_BIG_SWAP: (False, True),
    BYTEORDER_LITTLE_SWAP: (True, False),
}

# struct formats per (number of registers, signed) for integers, and per
# number of registers for floats (IEEE 754 single and double).
_LONG_FORMATS = {(2, False): ">I", (2, True): ">i", (4, False): ">Q", (4, True): ">q"}
_FLOAT_FORMATS = {2: ">f", 4: ">d"}
_LARGEST_FLOAT32 = 3.4028234663852886e38


class _Payloadformat(enum.Enum):
    """How ``_generic_command`` turns values into register or bit bytes (2.x)."""

    BIT = "bit"
    BITS = "bits"
    FLOAT = "float"
    LONG = "long"
    REGISTER = "register"
    REGISTERS = "registers"
    STRING = "string"


# The function codes _generic_command can use for each payload format.
_PAYLOADFORMAT_CODES: dict[_Payloadformat, tuple[int, ...]] = {
    _Payloadformat.BIT: (1, 2, 5, 15),
    _Payloadformat.BITS: (1, 2, 15),
    _Payloadformat.REGISTER: (3, 4, 6, 16),
    _Payloadformat.REGISTERS: (3, 4, 16),
    _Payloadformat.LONG: (3, 4, 16),
    _Payloadformat.FLOAT: (3, 4, 16),
    _Payloadformat.STRING: (3, 4, 16),
}


# ---------------------------------------------------------------------------
# Ports, their registry and the clock
# ---------------------------------------------------------------------------


class SerialPort(Protocol):
    """What this module needs of a serial port: pyserial's ``Serial`` meets it, and so does
    any object with these five members (2.x accepted such objects too).

    Other members are used when a port has them, all through the functions of
    "Optional members of a port" below: ``timeout``, ``baudrate``,
    ``bytesize``, ``parity``, ``stopbits``, ``in_waiting``,
    ``reset_input_buffer``, ``reset_output_buffer`` and ``port`` (its name).
    """

    @property
    def is_open(self) -> bool: ...

    def open(self) -> None: ...

    def close(self) -> None: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...


class _PortState:
    """The lock of one port and what happened last on its line."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.last_activity = -math.inf  # when the line last carried a frame
        self.faults: dict[int, float] = {}  # slave address -> when an exchange with it failed
        self.may_hold_late_bytes = False  # a failed exchange may still send bytes

    def remember_fault(self, slaveaddress: int) -> None:
        """Note a failed exchange: its late bytes must not answer a later request."""
        self.faults[slaveaddress] = _now()
        self.may_hold_late_bytes = True


_REGISTRY_LOCK = threading.Lock()
_serialports: dict[str, Any] = {}  # instruments share ports by name (its 2.x name)
_PORT_STATES: weakref.WeakKeyDictionary[Any, _PortState] = weakref.WeakKeyDictionary()
_UNWEAKABLE_PORT_STATES: dict[int, tuple[Any, _PortState]] = {}  # ports without weak references
_MAX_UNWEAKABLE_PORTS = 64  # the oldest is forgotten beyond this (ports made anew per call)


def _port_state(port: SerialPort) -> _PortState:
    """The state of a port object, shared by all instruments using it."""
    try:
        state = _PORT_STATES.get(port)
        if state is None:
            with _REGISTRY_LOCK:
                state = _PORT_STATES.setdefault(port, _PortState())
        return state
    except TypeError:  # the port object cannot be weakly referenced
        with _REGISTRY_LOCK:
            entry = _UNWEAKABLE_PORT_STATES.get(id(port))
            if entry is None or entry[0] is not port:
                if len(_UNWEAKABLE_PORT_STATES) >= _MAX_UNWEAKABLE_PORTS:
                    del _UNWEAKABLE_PORT_STATES[next(iter(_UNWEAKABLE_PORT_STATES))]
                entry = _UNWEAKABLE_PORT_STATES[id(port)] = (port, _PortState())
            return entry[1]


def _shared_port(name: str) -> SerialPort:
    """The port with this name (a network port's: by host and port), created or reopened as needed."""
    network_port = _network_port(name)
    key = network_port.port if network_port else name
    try:
        with _REGISTRY_LOCK:
            port = _serialports.get(key)
            if port is None:
                port = _serialports[key] = network_port or _create_port(name)
    except _PORT_OR_SETTING_ERRORS as error:
        raise PortError(f"Could not open port {name!r}: {error}") from error
    return port if isinstance(port, _NetworkPort) else _opened(port, repr(name))


def _create_port(name: str) -> SerialPort:
    """Open a new port: ``serial.Serial`` looked up now (tests replace it), or a URL."""
    if "://" in name:
        return serial.serial_for_url(name, **_PORT_SETTINGS)
    return serial.Serial(port=name, **_PORT_SETTINGS)


def _port_from_argument(port: str | SerialPort) -> SerialPort:
    """The port object for the ``port`` argument of an Instrument, open."""
    if isinstance(port, str):
        return _shared_port(port)
    if all(hasattr(port, name) for name in ("open", "close", "read", "write", "is_open")):
        return _opened(port, repr(port))
    raise PortTypeError(f"port must be a port name (str) or a serial port object, not {port!r}")


def _opened(port: SerialPort, description: str) -> SerialPort:
    """The port, opened (under its lock) if it is not open: a port that will not open is an error."""
    try:
        with _port_state(port).lock:
            if not port.is_open:
                port.open()
    except _PORT_OR_SETTING_ERRORS as error:
        raise PortError(f"Failed to open serial port {description}: {error}") from error
    if not port.is_open:
        raise PortError(f"Failed to open serial port {description}: it stays closed")
    return port


def forget_ports() -> None:
    """Forget every shared port and what was learnt about the lines.

    Instruments created with the same port name share one port object; after
    this call, the next Instrument given a port name opens a new one. The
    forgotten ports are closed (instruments still holding one reopen it on
    their next call). Test suites call it between tests, so that no test
    gets another's port::

        @pytest.fixture(autouse=True)
        def fresh_ports():
            minimalmodbus.forget_ports()
            yield
            minimalmodbus.forget_ports()

    Call it while no transaction is in progress.
    """
    global _wake_lag
    with _REGISTRY_LOCK:
        ports = list(_serialports.values())
        _serialports.clear()
        _UNWEAKABLE_PORT_STATES.clear()
        _wake_lag = 0.0
    for port in ports:
        _close_quietly(port)


# -- Optional members of a port: every use of them is here ------------------


def _silent_period(port: SerialPort) -> float:
    """Serial Line §2.5.1.1: 3.5 character times, fixed at 1.75 ms above 19200 baud."""
    baudrate = getattr(port, "baudrate", None)
    if baudrate is None or baudrate > _FIXED_SILENCE_BAUDRATE:
        return _FIXED_SILENCE
    return _SILENT_CHARACTERS * _character_time(port)


def _character_time(port: SerialPort) -> float:
    """Seconds one character takes on the line (start, data, parity, stop bits); 0 without a baud rate."""
    baudrate = getattr(port, "baudrate", None)
    if baudrate is None:
        return 0.0
    if baudrate <= 0:
        raise ValueError(f"serial.baudrate must be positive, not {baudrate!r}")
    bytesize = getattr(port, "bytesize", 8)
    parity_bits = 0 if getattr(port, "parity", "N") == "N" else 1
    stopbits = getattr(port, "stopbits", 1)
    return float((1 + bytesize + parity_bits + stopbits) / baudrate)


def _port_timeout(port: SerialPort) -> float | None:
    """The port's read timeout in seconds (None: it waits as long as it takes)."""
    return cast("float | None", getattr(port, "timeout", None))


def _bytes_waiting(port: SerialPort) -> int | None:
    """Bytes the port has received and not yet delivered; None if it cannot tell."""
    waiting = getattr(port, "in_waiting", None)
    return None if waiting is None else int(waiting)


def _call_optional(port: SerialPort, *members: str) -> None:
    """Call those of these methods (``flush``, the buffer resets) that the port has."""
    for member in members:
        method = getattr(port, member, None)
        if method is not None:
            method()


def _read_with_timeout(port: SerialPort, timeout: float, limit: int) -> bytes:
    """Read until ``timeout`` passes with nothing new, the port's own timeout set back after."""
    if not hasattr(port, "timeout"):
        return _read_to(port, b"", limit)
    own_timeout = _port_timeout(port)
    setattr(port, "timeout", timeout)  # noqa: B010 (an optional member of the protocol)
    try:
        return _read_to(port, b"", limit)
    finally:
        setattr(port, "timeout", own_timeout)  # noqa: B010


def _plain_fd(port: SerialPort, member: str) -> int | None:
    """The descriptor of a plain POSIX pyserial port whose ``member`` is pyserial's own, else None.

    Only such a port is read and written straight through its descriptor
    (not pyserial's RS-485 class, which switches RTS around its write, nor
    a port with an inter-byte timeout).
    """
    fd = getattr(port, "fd", None)
    own = getattr(type(port), member, None) is _PYSERIAL_POSIX_MEMBERS.get(member)
    if own and isinstance(fd, int) and not getattr(port, "inter_byte_timeout", None):
        return fd
    return None


def _write(port: SerialPort, frame: bytes) -> None:
    """Write a frame: straight to the descriptor of a plain POSIX pyserial port, else ``port.write``.

    pyserial's own write waits in a ``select`` after every ``os.write``, one
    system call more for a frame that fits the driver's buffer at once. What
    ``os.write`` leaves, ``port.write`` writes.
    """
    fd = _plain_fd(port, "write")
    if fd is not None:
        try:
            written = os.write(fd, frame)
        except BlockingIOError:  # the driver's buffer is full: let pyserial wait for it
            written = 0
        if written == len(frame):
            return
        frame = frame[written:]
    port.write(frame)


def _read_arrived(port: SerialPort, count: int, wanted: int) -> bytes:
    """``port.read(count)``; from a plain POSIX pyserial port, all that has arrived, up to ``wanted``.

    There one ``select`` waits (up to the timeout) for the first byte and one
    ``os.read`` takes what is there: a whole answer that came at once costs
    two system calls instead of four. The caller keeps only the frame.
    """
    fd = _plain_fd(port, "read")
    if fd is None or wanted <= count:
        return port.read(count)
    abort = getattr(port, "pipe_abort_read_r", None)  # pyserial's cancel_read() writes to it
    ready, _, _ = select.select([fd] if abort is None else [fd, abort], [], [], _port_timeout(port))
    if abort is not None and abort in ready:
        os.read(abort, 1000)
        return b""
    if not ready:
        return b""
    data = os.read(fd, wanted)
    if not data:  # as pyserial says it
        raise serial.SerialException("device reports readiness to read but returned no data")
    return data


def _wait_for_input(port: SerialPort, until: float) -> None:
    """Wait, without using the CPU, until input arrives or ``until`` (a port that does not wait itself)."""
    remaining = until - _now()
    fd = getattr(port, "fd", None)
    if isinstance(fd, int):
        select.select([fd], [], [], max(remaining, 0.0))
    else:
        _sleep(min(remaining, _POLL_INTERVAL))


def _port_name(port: SerialPort) -> str | None:
    """The name of a port object, if it has one."""
    return cast("str | None", getattr(port, "port", None))


def _now() -> float:
    """Seconds on a monotonic clock (tests replace this, together with ``_sleep``)."""
    return time.monotonic()


def _sleep(seconds: float) -> None:
    """Wait without using the CPU (tests replace this)."""
    if seconds > 0:
        time.sleep(seconds)


# How much later than asked a timed sleep wakes here: a low percentile of the
# lags seen, learned as sleeps happen (0 on a fake clock).
_wake_lag = 0.0
_WAKE_LAG_PERCENTILE = 0.1
_WAKE_LAG_STEP = 2e-5  # seconds; it settles within about a hundred sleeps
_SHORTEST_SLEEP = 1e-5


def _sleep_until(deadline: float) -> None:
    """Sleep until ``_now()`` reaches ``deadline``: never earlier, and little later.

    Asks to wake the learned lag early, so that it wakes close to the
    deadline; after an early wake (about one in ten) it sleeps again for
    the rest. Every pass blocks in a sleep: nothing spins. When the clock
    did not move during a sleep (too coarse a clock, or a test's ``_now``
    without its ``_sleep``), it sleeps the rest of the time asked and ends.
    """
    global _wake_lag
    now = _now()
    while now < deadline:
        remaining = deadline - now
        asked = max(remaining - _wake_lag, min(remaining, _SHORTEST_SLEEP))
        _sleep(asked)
        woke = _now()
        if woke <= now:
            if remaining > asked:
                _sleep(remaining - asked)
            return
        if woke - now - asked <= _wake_lag:
            _wake_lag = max(0.0, _wake_lag - _WAKE_LAG_STEP * (1 - _WAKE_LAG_PERCENTILE))
        else:
            _wake_lag += _WAKE_LAG_STEP * _WAKE_LAG_PERCENTILE
        now = woke


# ---------------------------------------------------------------------------
# Instrument
# ---------------------------------------------------------------------------


class Instrument:
    """A slave on a serial line, seen from the master.

    Args:
        port: a port name (``"/dev/ttyUSB0"``, ``"COM4"``, or a URL such as
            ``"socket://192.0.2.7:502"`` or ``"rfc2217://..."``), or a serial
            port object made by the caller (used as it is). A name opens the
            port at 19200 baud, 8N1, timeout 0.05 s; instruments given the
            same name share one port object.
        slaveaddress: 1..247, or 0 for broadcast (writes only); 248..255
            are reserved by the specification but accepted, as devices use them.
        mode: ``MODE_RTU`` or ``MODE_ASCII``.
        close_port_after_each_call: close the port after every call.
        debug: print every step with the prefix ``MinimalModbus debug mode.``.

    Raises:
        MasterReportedException: the port cannot be opened, or ``port`` is
            neither a name nor a port object.
        TypeError, ValueError: a bad ``slaveaddress`` or ``mode``.
    """

    def __init__(
        self,
        port: str | SerialPort,
        slaveaddress: int,
        mode: str = MODE_RTU,
        close_port_after_each_call: bool = False,
        debug: bool = False,
    ) -> None:
        self.address = slaveaddress
        self.mode = mode
        self.debug = debug
        """Print every frame, timing and decision."""
        self.precalculate_read_size = True
        """Follow the frame as it arrives and stop at its last byte (False: read to the timeout, 2.x)."""
        self.clear_buffers_before_each_transaction = True
        """Discard bytes waiting in the port's buffers before each request (flushed only if any wait)."""
        self.close_port_after_each_call = close_port_after_each_call
        """Close the port after every call, also when the call raised."""
        self.handle_local_echo = False
        """Read back and check the echo of each request (some RS-485 adapters)."""
        self.retries = 0
        self.retry_writes = False
        """Also retry function codes that change the slave (may repeat a write)."""
        self.inter_frame_delay = None
        self.broadcast_delay = 0.2
        self._roundtrip_time: float | None = None
        self.serial: Any = _port_from_argument(port)
        """The port (pyserial's ``Serial``, or the object given); set ``instrument.serial.baudrate`` etc."""
        self._print_debug(f"Using port {_port_name(self.serial)!r}")
        if close_port_after_each_call:
            self.close()

    # -- settings, validated when set -------------------------------------

    @property
    def address(self) -> int:
        """Slave address 0..255 (0 is broadcast, writes only; 248..255 are reserved)."""
        return self._slaveaddress

    @address.setter
    def address(self, slaveaddress: int) -> None:
        _checked_int(slaveaddress, "slaveaddress", _BROADCAST_ADDRESS, _MAX_SLAVE_ADDRESS)
        self._slaveaddress = slaveaddress

    @property
    def mode(self) -> str:
        """``MODE_RTU`` or ``MODE_ASCII``."""
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        _check_choice(mode, "mode", (MODE_RTU, MODE_ASCII))
        self._mode = mode

    @property
    def retries(self) -> int:
        """Extra attempts after NoResponseError or InvalidResponseError (0..100)."""
        return self._retries

    @retries.setter
    def retries(self, retries: int) -> None:
        _checked_int(retries, "retries", 0, 100)
        self._retries = retries

    @property
    def inter_frame_delay(self) -> float | None:
        """Silence before each request in seconds (None means 3.5 characters, as the specification says)."""
        return self._inter_frame_delay

    @inter_frame_delay.setter
    def inter_frame_delay(self, seconds: float | None) -> None:
        if seconds is not None:
            _check_seconds(seconds, "inter_frame_delay")
        self._inter_frame_delay = seconds

    @property
    def broadcast_delay(self) -> float:
        """Seconds to wait after a broadcast, so every slave is done (default 0.2)."""
        return self._broadcast_delay

    @broadcast_delay.setter
    def broadcast_delay(self, seconds: float) -> None:
        _check_seconds(seconds, "broadcast_delay")
        self._broadcast_delay = seconds

    @property
    def roundtrip_time(self) -> float | None:
        """Seconds from the end of writing to the end of reading, latest call."""
        return self._roundtrip_time

    def __repr__(self) -> str:
        """Give the settings and the port."""
        return (
            f"{self.__module__}.{self.__class__.__name__}<id={hex(id(self))}, "
            f"address={self.address}, mode={self.mode}, "
            f"close_port_after_each_call={self.close_port_after_each_call}, "
            f"precalculate_read_size={self.precalculate_read_size}, "
            f"clear_buffers_before_each_transaction={self.clear_buffers_before_each_transaction}, "
            f"handle_local_echo={self.handle_local_echo}, "
            f"debug={self.debug}, serial={self.serial!r}>"
        )

    # -- lifecycle ---------------------------------------------------------

    def close(self) -> None:
        """Close the port (shared ports reopen on their next use)."""
        with _port_state(self.serial).lock:
            if self.serial.is_open:
                self.serial.close()

    def __enter__(self) -> Self:
        """Use as ``with Instrument(...) as instrument:``; the port closes at the end."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the port."""
        self.close()

    # -- bits ---------------------------------------------------------------

    def read_bit(self, registeraddress: int, functioncode: int = 2) -> int:
        """Read one bit: a discrete input (function code 2) or a coil (1).

        Args:
            registeraddress: 0..65535.
            functioncode: 2 (default) or 1.

        Returns:
            0 or 1.
        """
        _check_choice(functioncode, "functioncode", _READ_BIT_CODES)
        return int(
            self._generic_command(
                functioncode, registeraddress, number_of_bits=1, payloadformat=_Payloadformat.BIT
            )
        )

    def write_bit(self, registeraddress: int, value: int, functioncode: int = 5) -> None:
        """Write one coil with function code 5 (default) or 15.

        Args:
            registeraddress: 0..65535.
            value: 0 or 1 (False or True).
            functioncode: 5 or 15.
        """
        _checked_int(value, "value", 0, 1)
        _check_choice(functioncode, "functioncode", _WRITE_BIT_CODES)
        self._generic_command(
            functioncode, registeraddress, value, number_of_bits=1, payloadformat=_Payloadformat.BIT
        )

    def read_bits(self, registeraddress: int, number_of_bits: int, functioncode: int = 2) -> list[int]:
        """Read 1..2000 discrete inputs (function code 2) or coils (1).

        Returns:
            A list of 0/1, the bit at ``registeraddress`` first.
        """
        _check_choice(functioncode, "functioncode", _READ_BIT_CODES)
        bits: list[int] = self._generic_command(
            functioncode,
            registeraddress,
            number_of_bits=number_of_bits,
            payloadformat=_Payloadformat.BITS,
        )
        return bits

    def write_bits(self, registeraddress: int, values: Sequence[int]) -> None:
        """Write 1..1968 coils with function code 15.

        Args:
            registeraddress: 0..65535, the first coil.
            values: a list of 0/1 (or False/True).
        """
        _checked_list(values, "values", 1, _MAX_BITS_WRITE)
        for value in values:
            _checked_int(value, "each of values", 0, 1)
        self._generic_command(
            15, registeraddress, values, number_of_bits=len(values), payloadformat=_Payloadformat.BITS
        )

    # -- 16-bit registers ---------------------------------------------------

    def read_register(
        self,
        registeraddress: int,
        number_of_decimals: int = 0,
        functioncode: int = 3,
        signed: bool = False,
    ) -> int | float:
        """Read one 16-bit register (holding: function code 3, input: 4).

        Args:
            registeraddress: 0..65535.
            number_of_decimals: 0..10; the register value is divided by
                10**number_of_decimals (2001 with 1 decimal gives 200.1).
            functioncode: 3 or 4.
            signed: read two's complement (-32768..32767) instead of 0..65535.

        Returns:
            An int when the scaled value is whole (2000 with 1 decimal gives
            200, as in 2.x), else a float.
        """
        _checked_int(number_of_decimals, "number_of_decimals", 0, _MAX_DECIMALS)
        _check_choice(functioncode, "functioncode", _READ_REGISTER_CODES)
        _check_bool(signed, "signed")
        value: int | float = self._generic_command(
            functioncode,
            registeraddress,
            number_of_decimals=number_of_decimals,
            number_of_registers=1,
            signed=signed,
            payloadformat=_Payloadformat.REGISTER,
        )
        return _whole_as_int(value)

    def write_register(
        self,
        registeraddress: int,
        value: float,
        number_of_decimals: int = 0,
        functioncode: int = 16,
        signed: bool = False,
    ) -> None:
        """Write one 16-bit register with function code 16 (default) or 6.

        Args:
            registeraddress: 0..65535.
            value: the value; it is multiplied by 10**number_of_decimals and
                truncated toward zero, as 2.x does, and the result must be
                0..65535 (-32768..32767 when ``signed``). The decimal value
                written is scaled, not its binary float: 12.7 writes 12,
                95.56 with 1 decimal 955, -1.5 (signed) -1, and 2.55 with 2
                decimals 255 (2.x wrote 254).
            number_of_decimals: 0..10.
            functioncode: 16 or 6.
            signed: write two's complement.
        """
        _checked_int(number_of_decimals, "number_of_decimals", 0, _MAX_DECIMALS)
        _check_choice(functioncode, "functioncode", _WRITE_REGISTER_CODES)
        _check_bool(signed, "signed")
        _check_register_value(value, number_of_decimals, signed)
        self._generic_command(
            functioncode,
            registeraddress,
            value,
            number_of_decimals=number_of_decimals,
            number_of_registers=1,
            signed=signed,
            payloadformat=_Payloadformat.REGISTER,
        )

    def read_registers(
        self,
        registeraddress: int,
        number_of_registers: int,
        functioncode: int = 3,
        signed: bool = False,
    ) -> list[int]:
        """Read 1..125 consecutive 16-bit registers (function code 3 or 4).

        Args:
            registeraddress: 0..65535, the first register.
            number_of_registers: 1..125.
            functioncode: 3 or 4.
            signed: values -32768..32767 (two's complement) instead of 0..65535.

        Returns:
            A list of register values, the one at ``registeraddress`` first.
        """
        _check_choice(functioncode, "functioncode", _READ_REGISTER_CODES)
        _check_bool(signed, "signed")
        registers: list[int] = self._generic_command(
            functioncode,
            registeraddress,
            number_of_registers=number_of_registers,
            signed=signed,
            payloadformat=_Payloadformat.REGISTERS,
        )
        return registers

    def write_registers(self, registeraddress: int, values: Sequence[int], signed: bool = False) -> None:
        """Write 1..123 consecutive registers with function code 16.

        Args:
            registeraddress: 0..65535, the first register.
            values: a list of register values 0..65535 (-32768..32767 when signed).
            signed: write two's complement.
        """
        _check_bool(signed, "signed")
        _checked_register_values(values, _MAX_REGISTERS_WRITE, signed)
        self._generic_command(
            16,
            registeraddress,
            values,
            number_of_registers=len(values),
            signed=signed,
            payloadformat=_Payloadformat.REGISTERS,
        )

    # -- values spanning several registers ----------------------------------

    def read_long(
        self,
        registeraddress: int,
        functioncode: int = 3,
        signed: bool = False,
        byteorder: int = BYTEORDER_BIG,
        number_of_registers: int = 2,
    ) -> int:
        """Read an integer from 2 registers (32 bit) or 4 registers (64 bit).

        Args:
            registeraddress: 0..65535, the first register.
            functioncode: 3 or 4.
            signed: two's complement.
            byteorder: one of the ``BYTEORDER_*`` constants:

                ===================== ======================== ==============
                byteorder             registers for 0xABCD     4 registers
                ===================== ======================== ==============
                BYTEORDER_BIG         AB CD                    AB CD EF GH
                BYTEORDER_LITTLE      DC BA                    HG FE DC BA
                BYTEORDER_BIG_SWAP    BA DC                    BA DC FE HG
                BYTEORDER_LITTLE_SWAP CD AB                    GH EF CD AB
                ===================== ======================== ==============

            number_of_registers: 2 or 4.

        Returns:
            0..2**32-1 (unsigned, 2 registers), -2**31..2**31-1 (signed), and
            the 64-bit ranges for 4 registers.
        """
        _check_long_format(signed, byteorder, number_of_registers)
        _check_choice(functioncode, "functioncode", _READ_REGISTER_CODES)
        value: int = self._generic_command(
            functioncode,
            registeraddress,
            number_of_registers=number_of_registers,
            signed=signed,
            byteorder=byteorder,
            payloadformat=_Payloadformat.LONG,
        )
        return value

    def write_long(
        self,
        registeraddress: int,
        value: int,
        signed: bool = False,
        byteorder: int = BYTEORDER_BIG,
        number_of_registers: int = 2,
    ) -> None:
        """Write an integer to 2 or 4 registers with function code 16.

        Arguments as for :meth:`read_long`; ``value`` must fit the register
        count and signedness (e.g. 0..4294967295 unsigned in 2 registers).
        """
        _check_long_format(signed, byteorder, number_of_registers)
        _check_long_value(value, signed, number_of_registers)
        self._generic_command(
            16,
            registeraddress,
            value,
            number_of_registers=number_of_registers,
            signed=signed,
            byteorder=byteorder,
            payloadformat=_Payloadformat.LONG,
        )

    def read_float(
        self,
        registeraddress: int,
        functioncode: int = 3,
        number_of_registers: int = 2,
        byteorder: int = BYTEORDER_BIG,
    ) -> float:
        """Read an IEEE 754 float: single (2 registers) or double (4).

        Args:
            registeraddress: 0..65535, the first register.
            functioncode: 3 or 4.
            number_of_registers: 2 or 4.
            byteorder: a ``BYTEORDER_*`` constant (see :meth:`read_long`).
        """
        _check_float_format(number_of_registers, byteorder)
        _check_choice(functioncode, "functioncode", _READ_REGISTER_CODES)
        value: float = self._generic_command(
            functioncode,
            registeraddress,
            number_of_registers=number_of_registers,
            byteorder=byteorder,
            payloadformat=_Payloadformat.FLOAT,
        )
        return value

    def write_float(
        self,
        registeraddress: int,
        value: float,
        number_of_registers: int = 2,
        byteorder: int = BYTEORDER_BIG,
    ) -> None:
        """Write an IEEE 754 float to 2 or 4 registers with function code 16.

        A finite ``value`` must be within +-3.4e38 for 2 registers.
        """
        _check_float_format(number_of_registers, byteorder)
        _check_float_value(value, number_of_registers)
        self._generic_command(
            16,
            registeraddress,
            value,
            number_of_registers=number_of_registers,
            byteorder=byteorder,
            payloadformat=_Payloadformat.FLOAT,
        )

    def read_string(self, registeraddress: int, number_of_registers: int = 16, functioncode: int = 3) -> str:
        """Read a string stored 2 characters per register (first in the high byte).

        Args:
            registeraddress: 0..65535, the first register.
            number_of_registers: 1..125.
            functioncode: 3 or 4.

        Returns:
            ``2 * number_of_registers`` characters (Latin-1), nothing stripped.
        """
        _check_choice(functioncode, "functioncode", _READ_REGISTER_CODES)
        text: str = self._generic_command(
            functioncode,
            registeraddress,
            number_of_registers=number_of_registers,
            payloadformat=_Payloadformat.STRING,
        )
        return text

    def write_string(self, registeraddress: int, textstring: str, number_of_registers: int = 16) -> None:
        """Write an ASCII string, padded with spaces to fill the registers.

        Args:
            registeraddress: 0..65535, the first register.
            textstring: at most ``2 * number_of_registers`` ASCII characters.
            number_of_registers: 1..123.
        """
        _checked_int(number_of_registers, "number_of_registers", 1, _MAX_REGISTERS_WRITE)
        _check_string(textstring, number_of_registers)
        self._generic_command(
            16,
            registeraddress,
            textstring,
            number_of_registers=number_of_registers,
            payloadformat=_Payloadformat.STRING,
        )

    # -- the other serial-line function codes -------------------------------

    def read_exception_status(self) -> int:
        """Read the eight exception status outputs (function code 7, serial line only).

        Request: no data. Response: one status byte.

        Returns:
            The status byte 0..255; what each bit means is up to the device.
        """
        return self._perform_command(7, b"")[0]

    def diagnostics(self, subfunction: int, data: int = 0) -> int | None:
        """Run a diagnostic (function code 8, serial line only).

        Request and response: sub-function (2 bytes), data (2 bytes).
        Sub-functions: 0 return query data (the response must echo
        ``data``), 1 restart communications option, 2 return diagnostic
        register, 4 force listen only mode (the slave does not answer),
        10 clear counters and diagnostic register, 11 bus message count,
        12 bus communication error count, 13 bus exception error count,
        14 slave message count, 15 slave no response count, 16 slave NAK
        count, 17 slave busy count, 18 bus character overrun count,
        20 clear overrun counter and flag.

        Args:
            subfunction: 0..65535.
            data: 0..65535, the data word of the request.

        Returns:
            The data word of the response (for counters, the count); None for
            sub-function 4, which nothing answers.
        """
        _checked_int(subfunction, "subfunction", 0, _MAX_REGISTER_VALUE)
        _checked_int(data, "data", 0, _MAX_REGISTER_VALUE)
        response = self._perform_command(8, _pack_words(subfunction, data))
        if subfunction == _DIAGNOSTIC_FORCE_LISTEN_ONLY:
            return None
        return int.from_bytes(response[2:4], "big")

    def read_comm_event_counter(self) -> tuple[int, int]:
        """Read the status word and the event counter (function code 11, serial line only).

        Returns:
            A tuple ``(status, event_count)``; status is 0xFFFF while the
            slave is busy with a previous command, else 0.
        """
        status, event_count = struct.unpack(">HH", self._perform_command(11, b""))
        return status, event_count

    def read_comm_event_log(self) -> CommEventLog:
        """Read the communication event log (function code 12, serial line only).

        Response: byte count, status 2, event count 2, message count 2, and
        0..64 event bytes (most recent first).

        Returns:
            A :class:`CommEventLog` (status, event_count, message_count, events).
        """
        response = self._perform_command(12, b"")
        status, event_count, message_count = struct.unpack(">HHH", response[1:7])
        return CommEventLog(status, event_count, message_count, response[7:])

    def report_slave_id(self) -> bytes:
        """Report the slave's identity (function code 17, serial line only).

        Returns:
            The bytes after the byte count (slave id, run indicator 0x00 off
            or 0xFF on, device specific data).
        """
        return self._perform_command(17, b"")[1:]

    def read_file_record(self, file_number: int, record_number: int, number_of_registers: int) -> list[int]:
        """Read registers of a file record (function code 20, one sub-request).

        Sub-request: reference type 6, file number 2, record number 2,
        record length 2. Sub-response: length 1, reference type 6, registers.

        Args:
            file_number: 1..65535.
            record_number: 0..9999, the first record (register) in the file.
            number_of_registers: 1..121 (record_number + count at most 10000).

        Returns:
            The register values 0..65535.
        """
        _check_file_record(file_number, record_number, number_of_registers, _MAX_FILE_RECORD_READ)
        sub_request = bytes((_FILE_REFERENCE_TYPE,)) + _pack_words(
            file_number, record_number, number_of_registers
        )
        response = self._perform_command(20, bytes((len(sub_request),)) + sub_request)
        return _decode_registers(response[3:], False)

    def write_file_record(self, file_number: int, record_number: int, values: Sequence[int]) -> None:
        """Write registers of a file record (function code 21, one sub-request).

        Sub-request: reference type 6, file number 2, record number 2,
        record length 2, registers. The response echoes the request.

        Args:
            file_number: 1..65535.
            record_number: 0..9999.
            values: 1..122 register values 0..65535.
        """
        _checked_register_values(values, _MAX_FILE_RECORD_WRITE, False)
        _check_file_record(file_number, record_number, len(values), _MAX_FILE_RECORD_WRITE)
        sub_request = (
            bytes((_FILE_REFERENCE_TYPE,))
            + _pack_words(file_number, record_number, len(values))
            + _encode_registers(values, False)
        )
        self._perform_command(21, bytes((len(sub_request),)) + sub_request)

    def mask_write_register(self, registeraddress: int, and_mask: int, or_mask: int) -> None:
        """Change bits of a holding register (function code 22).

        The slave sets ``(current AND and_mask) OR (or_mask AND NOT and_mask)``.
        The response echoes the request.

        Args:
            registeraddress: 0..65535.
            and_mask: 0..65535.
            or_mask: 0..65535.
        """
        _check_registeraddress(registeraddress)
        _checked_int(and_mask, "and_mask", 0, _MAX_REGISTER_VALUE)
        _checked_int(or_mask, "or_mask", 0, _MAX_REGISTER_VALUE)
        self._perform_command(22, _pack_words(registeraddress, and_mask, or_mask))

    def read_write_registers(
        self,
        read_registeraddress: int,
        number_of_registers: int,
        write_registeraddress: int,
        values: Sequence[int],
    ) -> list[int]:
        """Write registers, then read registers, in one transaction (function code 23).

        Request: read start 2, read quantity 2, write start 2, write quantity
        2, byte count 1, registers. Response: byte count 1, registers read.

        Args:
            read_registeraddress: 0..65535.
            number_of_registers: 1..125, to read.
            write_registeraddress: 0..65535.
            values: 1..121 register values 0..65535 to write (written first).

        Returns:
            The register values read.
        """
        _checked_int(number_of_registers, "number_of_registers", 1, _MAX_REGISTERS_READ)
        _check_registeraddress(read_registeraddress, number_of_registers, "read_registeraddress")
        _checked_register_values(values, _MAX_REGISTERS_READ_WRITE, False)
        _check_registeraddress(write_registeraddress, len(values), "write_registeraddress")
        data = _encode_registers(values, False)
        payload = _pack_words(read_registeraddress, number_of_registers, write_registeraddress, len(values))
        response = self._perform_command(23, payload + bytes((len(data),)) + data)
        return _decode_registers(response[1:], False)

    def read_fifo_queue(self, registeraddress: int) -> list[int]:
        """Read a first-in-first-out queue of registers (function code 24).

        Response: byte count 2, FIFO count 2, up to 31 registers.

        Args:
            registeraddress: 0..65535, the FIFO pointer address.

        Returns:
            The 0..31 register values in the queue.
        """
        _check_registeraddress(registeraddress)
        response = self._perform_command(24, _pack_words(registeraddress))
        return _decode_registers(response[4:], False)

    def read_device_identification(self, read_code: int = 1, object_id: int = 0) -> dict[int, bytes]:
        """Read identification objects (function code 43, MEI type 14).

        Request: MEI type 0x0E, read code, object id. Response: MEI type,
        read code, conformity level, more follows (0x00/0xFF), next object
        id, number of objects, then per object: id, length, value. While the
        slave says more follows, further requests continue from its next
        object id.

        Args:
            read_code: 1 basic (objects 0..2), 2 regular, 3 extended, 4 one
                object (``object_id``).
            object_id: 0..255, the first object (the only one for read code 4).
                Objects: 0 VendorName, 1 ProductCode, 2 MajorMinorRevision,
                3 VendorUrl, 4 ProductName, 5 ModelName, 6 UserApplicationName.

        Returns:
            Object id -> value bytes.
        """
        _check_choice(read_code, "read_code", _DEVICE_ID_READ_CODES)
        _checked_int(object_id, "object_id", 0, 255)
        objects: dict[int, bytes] = {}
        for _ in range(256):
            response = self._perform_command(43, bytes((_MEI_DEVICE_IDENTIFICATION, read_code, object_id)))
            objects.update(_device_identification_objects(response))
            more_follows, next_object_id = response[3], response[4]
            if read_code == _DEVICE_ID_ONE_OBJECT or more_follows != _MORE_FOLLOWS:
                break
            object_id = next_object_id
        return objects

    def perform_command(self, functioncode: int, payload: bytes) -> bytes:
        """Send any function code, such as a vendor's, and return the response payload.

        The request is framed (slave address, CRC or LRC) and the response is
        checked: checksum, slave address, function code or exception code, and
        for standard function codes the layout. The length of a response of
        an unknown function code is learnt by reading until the line is silent.

        Args:
            functioncode: 1..127.
            payload: the request data after the function code, at most 252 bytes.

        Returns:
            The response data after the function code, checksum removed.
        """
        return self._perform_command(functioncode, payload)

    # -- transaction engine -------------------------------------------------

    def _generic_command(
        self,
        functioncode: int,
        registeraddress: int,
        value: Any = None,
        number_of_decimals: int = 0,
        number_of_registers: int = 0,
        number_of_bits: int = 0,
        signed: bool = False,
        byteorder: int = BYTEORDER_BIG,
        payloadformat: _Payloadformat = _Payloadformat.REGISTER,
    ) -> Any:
        """Read or write a value through function code 1, 2, 3, 4, 5, 6, 15 or 16.

        Builds the request payload from the register address, quantity and
        value, performs the command and decodes the response. This is where
        the register address and quantity are checked, for the public methods
        and for vendor drivers alike; the function code must suit the payload
        format, and a value that cannot be encoded is a ValueError. The public
        methods check the rest of their arguments themselves.

        Returns:
            The value read (reads), or None (writes).
        """
        bitwise = payloadformat in (_Payloadformat.BIT, _Payloadformat.BITS)
        quantity = number_of_bits if bitwise else number_of_registers
        _check_generic_command(functioncode, registeraddress, quantity, bitwise, payloadformat)
        if functioncode in _READ_BIT_CODES + _READ_REGISTER_CODES:
            response = self._perform_command(functioncode, _pack_words(registeraddress, quantity))
            return _decode_value(payloadformat, response[1:], quantity, number_of_decimals, signed, byteorder)
        if functioncode == 5:
            self._perform_command(5, _pack_words(registeraddress) + (_COIL_ON if value else _COIL_OFF))
            return None
        try:
            data = _encode_value(
                payloadformat, value, number_of_registers, number_of_decimals, signed, byteorder
            )
        except (struct.error, OverflowError, TypeError, ValueError, KeyError) as error:
            raise ValueError(
                f"value {value!r} cannot be written as {payloadformat.value} with number_of_registers="
                f"{number_of_registers}, signed={signed!r}, byteorder={byteorder!r}: {error}"
            ) from error
        if functioncode == 6:
            self._perform_command(6, _pack_words(registeraddress) + data)
        else:
            header = _pack_words(registeraddress, quantity) + bytes((len(data),))
            self._perform_command(functioncode, header + data)
        return None

    def _perform_command(self, functioncode: int, payload_to_slave: bytes) -> bytes:
        """Send one request and return the response payload, checked.

        Frames the payload (slave address, CRC or LRC), does the transaction
        (retrying read-only function codes ``retries`` times, writes only with
        ``retry_writes``), and checks the response against the request:
        checksum, slave address, function code, length, byte count, echo.

        Args:
            functioncode: 1..127.
            payload_to_slave: the request data after the function code, at most 252 bytes.

        Returns:
            The response data after the function code, checksum removed
            (b"" when nothing is read: a broadcast, or a request nothing answers).

        Raises:
            SlaveReportedException: the slave answered with an exception code.
            NoResponseError, InvalidResponseError, LocalEchoError: see their docs.
            ValueError: a function code that cannot be broadcast, for slave address 0.
        """
        _checked_int(functioncode, "functioncode", 1, 127)
        request = _new_request(
            self._framing(), self.address, functioncode, _checked_payload(payload_to_slave)
        )
        info = request.info
        attempts = 1 + (self.retries if self.retry_writes or (info and not info.writes) else 0)
        with _port_state(self.serial).lock:
            for attempt in range(1, attempts):
                try:
                    return self._attempt(request)
                except (NoResponseError, InvalidResponseError) as error:
                    if not request.response_size:
                        raise
                    self._note(f"Attempt {attempt} of {attempts} failed, trying again: {error}")
            return self._attempt(request)

    def _attempt(self, request: _Request) -> bytes:
        """One transaction of a request, through a ``_communicate`` of a 2.x subclass (or patch) if any.

        Such a ``_communicate`` is given what 2.x gave it: 0 when nothing is
        read, else the predicted size, or 1000 when 2.x could not predict it.
        """
        if getattr(self._communicate, "__func__", None) is Instrument._communicate:
            return self._transact(request, checked=True)
        size = request.response_size
        if size < 0 or (size and not self.precalculate_read_size):
            size = _2X_UNKNOWN_SIZE
        return self._transact(
            request, checked=True, communicate=lambda: self._communicate(request.frame, size)
        )

    def _communicate(self, request: bytes, number_of_bytes_to_read: int) -> bytes:
        """Write a request frame and read the response frame: raw bytes out and in (2.x).

        For vendor drivers that build their own frames; the response is not
        checked. Holds the port's lock, keeps the silence, discards late bytes
        of a failed exchange and the local echo, like every transaction.

        Args:
            request: a complete frame in the instrument's mode.
            number_of_bytes_to_read: the expected response length: it extends
                the time allowed for the answer by its wire time, and gives
                the length when the function code of the response has no
                known layout; -1: unknown (read such a frame until the line
                is silent); 0: no response is expected (write only).

        Returns:
            The bytes read (b"" after a broadcast, or when none are expected).

        Raises:
            NoResponseError: nothing came back before the timeout.
            LocalEchoError: the echo of the request was wrong.
            MasterReportedException: the port failed.
        """
        framing = self._framing()
        _checked_bytes(request, "request")
        _checked_int(number_of_bytes_to_read, "number_of_bytes_to_read", -1, 2**31)
        slaveaddress, functioncode = _FORMATS[framing].header(request)  # a frame we did not build
        if number_of_bytes_to_read > _FORMATS[framing].max_frame_bytes:  # 2.x's 1000: "read what comes"
            number_of_bytes_to_read = -1
        return self._transact(
            _Request(framing, slaveaddress, functioncode, b"", request, number_of_bytes_to_read, None),
            checked=False,
        )

    def _framing(self) -> str:
        """The frame format of this instrument's line: its mode, or Modbus TCP on a network port."""
        return _MODE_TCP if isinstance(self.serial, _NetworkPort) else self.mode

    def _transact(
        self, request: _Request, checked: bool, communicate: Callable[[], bytes] | None = None
    ) -> bytes:
        """One transaction under the port's lock; the one place where a failure is remembered.

        Returns the checked response payload, or (``checked`` False) the raw
        response. Port errors become a ``PortError``. ``communicate``: a 2.x
        subclass's own ``_communicate``, to use instead of the steps here.
        """
        if _active_recordings and not _recording_thread.busy:
            return _record_transaction(self, request, checked, communicate)  # comes back here, busy
        port: SerialPort = self.serial
        state = _port_state(port)
        with state.lock:
            try:
                response = communicate() if communicate else self._exchange(port, state, request)
                if checked and request.response_size:
                    return _check_response(request, response)
                return response
            except MasterReportedException:
                state.remember_fault(request.slaveaddress)
                raise
            except ModbusException:
                raise
            except _PORT_ERRORS as error:
                state.remember_fault(request.slaveaddress)
                _close_quietly(port)
                message = f"Port error on {_port_name(port)!r}: {error}"
                raise PortError(message, request.frame) from error
            finally:
                if self.close_port_after_each_call:
                    _close_quietly(port)

    def _exchange(self, port: SerialPort, state: _PortState, request: _Request) -> bytes:
        """The steps of one transaction, in order (the caller holds the lock)."""
        if not port.is_open:
            port.open()
        serial_line = _FORMATS[request.mode].serial_line
        silence = self._silence(port, serial_line)
        self._prepare_line(port, state, request.slaveaddress, silence)
        self._note_bytes("Writing to instrument", request.frame)
        try:
            _write(port, request.frame)
            write_end = _now()
            if self.handle_local_echo and serial_line:
                self._discard_echo(port, request.frame)
            if request.slaveaddress == _BROADCAST_ADDRESS or not request.response_size:
                # Nothing to read: let the frame leave the port before the delay counts (2.x).
                _call_optional(port, "flush")
                if request.slaveaddress == _BROADCAST_ADDRESS:
                    self._note(f"Broadcast: waiting {self.broadcast_delay * 1000:.1f} ms")
                    _sleep(self.broadcast_delay)
                return b""
            return self._read_response(port, request, silence, write_end)
        finally:
            state.last_activity = _now()

    def _read_response(self, port: SerialPort, request: _Request, silence: float, write_end: float) -> bytes:
        """Read the answer: as it arrives (or, 2.x, until the timeout); no answer is an error."""
        frame_format = _FORMATS[request.mode]
        if self.precalculate_read_size:
            # The answer cannot be complete before both frames have crossed the line.
            wire_bytes = len(request.frame) + max(request.response_size, 0)
            wire_end = write_end + wire_bytes * _character_time(port)
            response = frame_format.read_frame(port, request, silence, wire_end)
        else:
            response = _completed(
                port, frame_format, port.read(frame_format.max_frame_bytes), request, silence
            )
        self._roundtrip_time = _now() - write_end
        self._note_bytes("Response from instrument", response, self._roundtrip_time)
        if not response:
            raise NoResponseError(
                f"No communication with the instrument (no answer) within {_port_timeout(port)} s. "
                f"Request: {_hex(request.frame)}",
                request.frame,
            )
        return response

    def _prepare_line(self, port: SerialPort, state: _PortState, slaveaddress: int, silence: float) -> None:
        """Drain failed exchanges, wait for the silence, then clear the buffers of a line that is not clean.

        A line is clean when no byte waits in the port after the silence (one
        ``in_waiting`` look, no flush); a port that cannot tell is flushed
        every time. Looking after the silence also catches bytes that came
        during it. Bytes that arrive after the request still never become an
        answer: the reader skips what does not start like the answer, and
        the checks refuse the rest.
        """
        if state.may_hold_late_bytes or slaveaddress in state.faults:
            self._drain(port, state, slaveaddress, silence)
        _sleep_until(state.last_activity + silence)
        if self.clear_buffers_before_each_transaction and _bytes_waiting(port) != 0:
            _call_optional(port, "reset_input_buffer", "reset_output_buffer")

    def _drain(self, port: SerialPort, state: _PortState, slaveaddress: int, silence: float) -> None:
        """Discard late bytes of failed exchanges before the next request.

        Bytes already there, and any that keep coming until the line has been
        silent for ``silence``. Before asking a slave again whose exchange
        failed, first wait until one timeout has passed since the failure,
        since that slave may still answer the failed request.
        """
        frame_format = _FORMATS[self._framing()]
        fault_time = state.faults.pop(slaveaddress, None)
        timeout = _port_timeout(port)
        if fault_time is not None and timeout and frame_format.serial_line:  # (TCP: transaction ids)
            _sleep(fault_time + timeout - _now())
        state.may_hold_late_bytes = False
        discarded = _read_until_silence(port, silence, frame_format.max_frame_bytes)
        if discarded:
            self._note_bytes("Discarded late bytes of the failed exchange", discarded)

    def _discard_echo(self, port: SerialPort, request: bytes) -> None:
        """Read back our own request from an adapter that echoes it."""
        echo = port.read(len(request))
        if echo != request:
            raise LocalEchoError(
                f"The local echo of the request was wrong: expected {_hex(request)}, "
                f"received {_hex(echo)}. Is handle_local_echo right for this adapter?",
                request,
                echo,
            )

    def _silence(self, port: SerialPort, serial_line: bool) -> float:
        """The inter-frame silence for this port's settings, in seconds (none on a network)."""
        if self.inter_frame_delay is not None:
            return self.inter_frame_delay
        return _silent_period(port) if serial_line else 0.0

    # -- debug output -------------------------------------------------------

    def _note(self, text: str) -> None:
        """Log a step at DEBUG level, and print it in debug mode unless logging shows it on the console."""
        _LOGGER.debug("%s", text)
        if not self._logging_shows_debug():
            self._print_debug(text)

    @staticmethod
    def _logging_shows_debug() -> bool:
        """True when a handler the ``minimalmodbus`` logger reaches writes its DEBUG records to
        sys.stdout or sys.stderr; then debug mode does not print the same line a second time."""
        if not _LOGGER.isEnabledFor(logging.DEBUG):
            return False
        logger: logging.Logger | None = _LOGGER
        while logger is not None:
            for handler in logger.handlers:
                stream = getattr(handler, "stream", None)
                if handler.level <= logging.DEBUG and stream in (sys.stdout, sys.stderr):
                    return True
            logger = logger.parent if logger.propagate else None
        return False

    def _note_bytes(self, what: str, data: bytes, seconds: float | None = None) -> None:
        """Note a frame in hex (pasteable with ``bytes.fromhex``), with timing."""
        if not (self.debug or _LOGGER.isEnabledFor(logging.DEBUG)):
            return
        timing = "" if seconds is None else f" after {seconds * 1000:.2f} ms"
        self._note(f"{what}: {_hex(data)}{timing} (port {_port_name(self.serial)!r}, {self._framing()})")

    def _print_debug(self, text: str) -> None:
        """Print with the debug prefix when ``debug`` is True (2.x)."""
        if self.debug:
            print(_DEBUG_PREFIX + text)


def _close_quietly(port: SerialPort) -> None:
    """Close a port after a failure, so the next call opens it afresh."""
    try:
        if port.is_open:
            port.close()
    except _PORT_ERRORS as error:
        _LOGGER.debug("Closing port %r failed: %s", _port_name(port), error)


# ---------------------------------------------------------------------------
# Requests and response checks (pure)
# ---------------------------------------------------------------------------


class _Request(NamedTuple):
    """A request as the transaction, the frame reader and the checks see it, built once."""

    mode: str
    slaveaddress: int
    functioncode: int
    payload: bytes  # the data after the function code
    frame: bytes  # as written to the line
    response_size: int  # wire bytes of the normal answer; -1: the answer tells; 0: nothing is read
    info: _FunctionCode | None  # what is known of the function code

    def invalid(self, problem: str, response: bytes) -> InvalidResponseError:
        """The error for a problem with the response, with both frames in hex."""
        return InvalidResponseError(
            f"{problem}. Response: {_hex(response)}; request: {_hex(self.frame)} ({self.mode.upper()} mode)",
            self.frame,
            response,
        )


def _new_request(mode: str, slaveaddress: int, functioncode: int, payload: bytes) -> _Request:
    """The request of a command: framed, with its expected answer (a broadcast gets none)."""
    info = _FUNCTION_CODES.get(functioncode)
    if slaveaddress == _BROADCAST_ADDRESS and info is not None and not info.broadcast:
        raise ValueError(
            f"Function code {functioncode} ({info.name}) cannot be broadcast: slave "
            f"address 0 is only for writes (function codes {_broadcast_codes()})"
        )
    frame = _FORMATS[mode].build(bytes((slaveaddress, functioncode)) + payload)
    unanswered = slaveaddress == _BROADCAST_ADDRESS or bool(
        info and info.unanswered and info.unanswered(payload)
    )
    response_size = 0 if unanswered else _predict_response_size(mode, functioncode, payload)
    return _Request(mode, slaveaddress, functioncode, payload, frame, response_size, info)


def _broadcast_codes() -> str:
    """The function codes that may be broadcast, as text."""
    return ", ".join(str(code) for code, info in _FUNCTION_CODES.items() if info.broadcast)


def _check_response(request: _Request, response: bytes) -> bytes:
    """Check a response completely against its request; return its payload.

    The checksum first, before anything in the frame is trusted; then the
    slave address, an exception code, the function code, the length and byte
    count, the echoed address, quantity or value, and the function code's own check.
    """
    try:
        frame = _FORMATS[request.mode].unwrap(response)
    except _BadFrame as error:
        raise request.invalid(str(error), response) from None
    if frame[0] != request.slaveaddress:
        raise request.invalid(
            f"Wrong slave address: expected {request.slaveaddress}, received {frame[0]}", response
        )
    if frame[1] == request.functioncode | _EXCEPTION_BIT:
        if len(frame) < 3:
            raise request.invalid("An exception response without an exception code", response)
        # Its data is one byte; as in 2.x, one of the normal length counts too (see _read_frame).
        raise _slave_exception(request, frame[2], response)
    if frame[1] != request.functioncode:
        raise request.invalid(
            f"Wrong function code: expected {request.functioncode}, received {frame[1]}", response
        )
    expected_length = _response_length(frame)
    if expected_length is not None and expected_length != len(frame):
        raise request.invalid(
            f"Wrong length: function code {frame[1]} with these header bytes needs "
            f"{expected_length - 2} data bytes, received {len(frame) - 2}",
            response,
        )
    problem = _problem_against_request(request, frame[2:])
    if problem:
        raise request.invalid(problem, response)
    return frame[2:]


def _problem_against_request(request: _Request, payload: bytes) -> str | None:
    """What is wrong with a response payload given the request: byte count, echo, own check."""
    info = request.info
    if info is None:
        return None
    if info.bits_per_item and payload[0] != _byte_count(info, request.payload):
        return f"Wrong byte count: expected {_byte_count(info, request.payload)}, received {payload[0]}"
    if info.as_long_as_request and len(payload) != len(request.payload):
        return (
            f"Wrong length: expected {len(request.payload)} data bytes, as in the "
            f"request, received {len(payload)}"
        )
    echo = request.payload[: info.echo]
    if payload[: info.echo] != echo:
        return f"Wrong echo of the request: expected {_hex(echo)}, received {_hex(payload[: info.echo])}"
    return info.check(request.payload, payload) if info.check else None


def _slave_exception(request: _Request, exception_code: int, response: bytes) -> SlaveReportedException:
    """The exception for an exception response, naming the code's meaning."""
    meaning, exception_class = _EXCEPTION_CODES.get(
        exception_code, ("Unknown exception code", SlaveReportedException)
    )
    return exception_class(
        f"The slave (address {request.slaveaddress}) reported exception code "
        f"{exception_code}: {meaning}, for function code {request.functioncode}. "
        f"Response: {_hex(response)}",
        exception_code,
        request.functioncode,
    )


def _byte_count(info: _FunctionCode, request_payload: bytes) -> int:
    """The byte count of the response to a read of the requested quantity."""
    quantity = int.from_bytes(request_payload[2:4], "big")
    return (quantity * info.bits_per_item + 7) // 8


def _response_length(frame: bytes) -> int | None:
    """Length of a response frame (without checksum), from its first bytes.

    Needs the slave address and function code; for a byte-count layout the
    answer may be the length of the header holding the count: call again
    once that much is there. None: the function code has no known layout.
    """
    functioncode = frame[1]
    if functioncode & _EXCEPTION_BIT:
        return 3
    info = _FUNCTION_CODES.get(functioncode)
    if info is None:
        return None
    if info.layout is not None:
        return info.layout(frame)
    if info.data_length is not None:
        return 2 + info.data_length
    if not info.count_size:
        return None
    count_end = 2 + info.count_size
    if len(frame) < count_end:
        return count_end
    return count_end + int.from_bytes(frame[2:count_end], "big")


def _predict_response_size(mode: str, functioncode: int, payload_to_slave: bytes) -> int:
    """Bytes of the normal response to a request, or -1 if the response must tell."""
    info = _FUNCTION_CODES.get(functioncode)
    if info is None:
        return -1
    if info.data_length is not None:
        data_length = info.data_length
    elif info.as_long_as_request:
        data_length = len(payload_to_slave)
    elif info.bits_per_item:
        data_length = 1 + _byte_count(info, payload_to_slave)
    else:
        return -1
    return _FORMATS[mode].wire_length(2 + data_length, complete=True)


def _device_identification_objects(response: bytes) -> dict[int, bytes]:
    """The objects of a device identification response (layout checked)."""
    objects = {}
    position = 6
    for _ in range(response[5]):
        object_id, length = response[position], response[position + 1]
        objects[object_id] = response[position + 2 : position + 2 + length]
        position += 2 + length
    return objects


# ---------------------------------------------------------------------------
# Frame formats (pure) and the frame reader
# ---------------------------------------------------------------------------


class _BadFrame(Exception):
    """A response that is not a well-formed frame of its format (the message says why)."""


class _FrameFormat:
    """Serial Line §2.5.1: RTU, binary frames ended by the line's silence, CRC-16 low byte first.

    A frame format builds a request frame from its content (slave address,
    function code, data), tells how many wire bytes the first content bytes
    take, decodes the content received so far, and checks and strips a
    response. The transaction never asks which format it has.
    """

    mode = MODE_RTU
    max_frame_bytes = _MAX_RTU_FRAME_BYTES
    end = b""  # what ends a frame of unknown length (RTU: the line's silence)
    serial_line = True  # a shared line: silence between frames, local echo, late answers waited out

    def read_frame(self, port: SerialPort, request: _Request, silence: float, wire_end: float) -> bytes:
        """Read the answer as it arrives (see :func:`_read_frame`)."""
        return _read_frame(port, self, request, silence, wire_end)

    def build(self, content: bytes) -> bytes:
        """The frame on the wire."""
        return content + _crc16(content).to_bytes(2, "little")

    def wire_length(self, frame_length: int, complete: bool = False) -> int:
        """Wire bytes of the first ``frame_length`` content bytes (and the checksum and end)."""
        return frame_length + (2 if complete else 0)

    def content(self, received: bytes) -> bytes:
        """The content bytes that the wire bytes so far hold (b"" if they cannot be decoded)."""
        return received

    def prefix(self, content: bytes) -> bytes:
        """How a frame with this content begins on the wire."""
        return content

    def unwrap(self, response: bytes) -> bytes:
        """The content of a whole response frame, its checksum checked (else _BadFrame)."""
        if len(response) < 4:
            raise _BadFrame(f"Too short: an RTU frame has at least 4 bytes, received {len(response)}")
        expected = _crc16(response[:-2]).to_bytes(2, "little")
        if expected != response[-2:]:
            raise _BadFrame(
                f"Checksum error: expected CRC {_hex(expected, False)}, received {_hex(response[-2:], False)}"
            )
        return response[:-2]

    def checksum_ok(self, response: bytes) -> bool:
        """Whether a whole frame is well formed with a right checksum."""
        try:
            self.unwrap(response)
        except _BadFrame:
            return False
        return True

    def header(self, request: bytes) -> tuple[int, int]:
        """Slave address and function code of a request frame given as bytes (``_communicate``)."""
        content = self.content(request[: self.wire_length(2)])
        if len(content) < 2:
            raise ValueError(f"request is not a {self.mode} request frame: {request!r}")
        return content[0], content[1]


class _AsciiFormat(_FrameFormat):
    """Serial Line §2.5.2: ASCII, upper-case hex between ``:`` and CR LF, with an LRC."""

    mode = MODE_ASCII
    max_frame_bytes = _MAX_ASCII_FRAME_BYTES
    end = _ASCII_END

    def build(self, content: bytes) -> bytes:
        """The frame on the wire."""
        return _ASCII_START + (content + bytes((_lrc(content),))).hex().upper().encode() + _ASCII_END

    def wire_length(self, frame_length: int, complete: bool = False) -> int:
        """Wire bytes of the first ``frame_length`` content bytes (and the LRC and CR LF)."""
        return 1 + 2 * frame_length + (4 if complete else 0)

    def content(self, received: bytes) -> bytes:
        """The content bytes that the wire bytes so far hold (b"" if not hex digits)."""
        digits = received[1:].rstrip(_ASCII_END)
        try:
            return binascii.unhexlify(digits[: len(digits) // 2 * 2])
        except binascii.Error:
            return b""

    def prefix(self, content: bytes) -> bytes:
        """How a frame with this content begins on the wire."""
        return _ASCII_START + content.hex().upper().encode()

    def unwrap(self, response: bytes) -> bytes:
        """The content of a whole response frame: colon, hex digits, LRC, CR LF checked."""
        if not response.startswith(_ASCII_START) or not response.endswith(_ASCII_END):
            raise _BadFrame("An ASCII frame starts with ':' and ends with CR LF")
        digits = response[1:-2]
        if len(digits) < 6 or len(digits) % 2:
            raise _BadFrame(
                f"An ASCII frame has an even number (at least 6) of hex digits, received {len(digits)}"
            )
        try:
            frame = binascii.unhexlify(digits)
        except binascii.Error as error:
            raise _BadFrame(f"Not hex digits between ':' and CR LF ({error})") from None
        if sum(frame) & 0xFF:
            raise _BadFrame(f"Checksum error: expected LRC {_lrc(frame[:-1]):02X}, received {frame[-1]:02X}")
        return frame[:-1]


class _MbapFormat(_FrameFormat):
    """Modbus TCP/UDP (Implementation Guide §3.1.3): an MBAP header, then unit id and PDU.

    The header is the transaction id (2 bytes, new for every request), the
    protocol id 0 (2), and the length of what follows it (2); the unit id
    takes the place of the slave address. No checksum: the network has its
    own. The reader trusts a header only after checking protocol id and
    length, and skips answers to earlier requests (another transaction id).
    """

    mode = _MODE_TCP
    max_frame_bytes = _MAX_MBAP_BYTES
    serial_line = False

    def build(self, content: bytes) -> bytes:
        """The frame on the wire, with the next transaction id."""
        return struct.pack(">HHH", next(_TRANSACTION_IDS) & 0xFFFF, 0, len(content)) + content

    def wire_length(self, frame_length: int, complete: bool = False) -> int:
        """Bytes of the first ``frame_length`` content bytes (unit id, PDU) with the header before them."""
        return _MBAP_HEADER_BYTES - 1 + frame_length

    def content(self, received: bytes) -> bytes:
        """The unit id and PDU bytes so far."""
        return received[_MBAP_HEADER_BYTES - 1 :]

    def unwrap(self, response: bytes) -> bytes:
        """The unit id and PDU of a whole frame, its header checked (else _BadFrame)."""
        problem = _mbap_header_problem(response)
        if problem:
            raise _BadFrame(problem)
        declared = int.from_bytes(response[4:6], "big")
        if len(response) != _MBAP_HEADER_BYTES - 1 + declared:
            raise _BadFrame(
                f"The MBAP header announces {declared} bytes after it, received {len(response) - 6}"
            )
        return response[_MBAP_HEADER_BYTES - 1 :]

    def header(self, request: bytes) -> tuple[int, int]:
        """Unit id and function code of a request frame given as bytes (``_communicate``)."""
        if len(request) < _MBAP_HEADER_BYTES + 1:
            raise ValueError(f"request is not a Modbus TCP request frame: {request!r}")
        return request[6], request[7]

    def read_frame(self, port: SerialPort, request: _Request, silence: float, wire_end: float) -> bytes:
        """Read the answer to ``request``: skip answers to earlier requests until the timeout."""
        timeout = _port_timeout(port)
        deadline = math.inf if timeout is None else _now() + timeout
        while True:
            header = _read_to(port, b"", _MBAP_HEADER_BYTES)
            if len(header) < _MBAP_HEADER_BYTES:
                return header
            problem = _mbap_header_problem(header)
            if problem:  # the stream is out of step: start afresh on a new connection
                _close_quietly(port)
                raise request.invalid(f"{problem}; the connection is closed", header)
            expected = _MBAP_HEADER_BYTES - 1 + int.from_bytes(header[4:6], "big")
            received = _read_to(port, header, expected)
            if len(received) < expected or received[:2] == request.frame[:2]:
                return received
            _LOGGER.debug("Skipped the answer to an earlier request: %s", _hex(received))
            if _now() >= deadline:
                return b""


def _mbap_header_problem(header: bytes) -> str | None:
    """What makes an MBAP header untrustworthy (§3.1.3): protocol id not 0, length out of 2..254."""
    if len(header) < _MBAP_HEADER_BYTES:
        return f"Too short: a Modbus TCP frame has at least 8 bytes, received {len(header)}"
    protocol_id, length = int.from_bytes(header[2:4], "big"), int.from_bytes(header[4:6], "big")
    if protocol_id != 0:
        return f"Wrong MBAP protocol id: expected 0, received {protocol_id}"
    if not 2 <= length <= _MAX_MBAP_LENGTH:
        return f"Wrong MBAP length: expected 2..{_MAX_MBAP_LENGTH}, received {length}"
    return None


_FORMATS: dict[str, _FrameFormat] = {
    MODE_RTU: _FrameFormat(),
    MODE_ASCII: _AsciiFormat(),
    _MODE_TCP: _MbapFormat(),
}


def _read_frame(
    port: SerialPort, frame_format: _FrameFormat, request: _Request, silence: float, wire_end: float
) -> bytes:
    """Read one response frame as it arrives and return the moment it is complete.

    Reads the first three frame bytes (every response has at least four),
    skips noise before the expected start, then learns the rest of the
    length from the header (:func:`_response_length`): 3 more bytes for an
    exception in RTU, a fixed length, or a byte count; a frame of unknown
    layout is read to the expected size if given, else (RTU) until the line
    is silent or (ASCII) to CR LF.

    The timeout is the slave's allowance: the answer must begin within one
    timeout after ``wire_end`` (when request and answer could have crossed
    the line), and no gap inside it may last a timeout. When the timeout
    passes, what came is returned and the response checks report it.
    """
    first = frame_format.wire_length(3)
    received = _read_first_bytes(port, first, request.response_size, wire_end)
    if len(received) < first:
        return received
    normal = frame_format.prefix(bytes((request.slaveaddress, request.functioncode)))
    exception = frame_format.prefix(bytes((request.slaveaddress, request.functioncode | _EXCEPTION_BIT)))
    received = _find_frame_start(port, received, (normal, exception))
    if not received.startswith((normal, exception)):
        return received
    received, end = _read_by_layout(port, frame_format, _read_to(port, received, first), request, silence)
    if received.startswith(exception) and not frame_format.checksum_ok(received[:end]):
        # 2.x read the predicted length before looking at the function code, so
        # recorded answers include exception-flagged frames of the normal length.
        # A genuine exception frame has a good checksum and returns at once.
        return _read_to(port, received, request.response_size)
    return received[:end]  # bytes read past the end of a frame (see _read_arrived) are not its own


def _completed(
    port: SerialPort, frame_format: _FrameFormat, received: bytes, request: _Request, silence: float
) -> bytes:
    """What a read to the timeout (2.x) got, read on to the end its header tells if it is short.

    On a slow line a long answer may still be arriving when the timeout ends
    the first read. A frame of unknown layout is left as it came.
    """
    content = frame_format.content(received)
    if len(content) < 3 or _response_length(content) is None:
        return received
    return _read_by_layout(port, frame_format, received, request, silence)[0]


def _read_by_layout(
    port: SerialPort, frame_format: _FrameFormat, received: bytes, request: _Request, silence: float
) -> tuple[bytes, int | None]:
    """Read the rest of a frame whose first three content bytes are in, as its header tells.

    Returns the bytes and where the frame ends in them, if its layout says
    (None: an unknown layout, or not hex digits; all of it is the frame).
    """
    length = 3  # content bytes known to be there
    while True:
        content = frame_format.content(received)
        if len(content) < length:  # not hex digits
            return received, None
        next_length = _response_length(content)
        if next_length is None:
            return _read_unknown_layout(port, frame_format, received, request.response_size, silence), None
        target = frame_format.wire_length(next_length, complete=True)
        if next_length <= length and len(received) >= target:
            return received, target
        # The frame has at least next_length bytes and a checksum: read them at once.
        received = _read_to(port, received, target)
        if len(received) < target:
            return received, None
        length = next_length


def _read_first_bytes(port: SerialPort, count: int, wanted: int, wire_end: float) -> bytes:
    """The first ``count`` bytes of the answer (more, up to ``wanted``, if they have arrived).

    The answer may begin up to a timeout after ``wire_end``.
    """
    received = _read_arrived(port, count, wanted)
    while not received and _now() < wire_end:
        if _port_timeout(port) == 0:  # a read that does not wait: wait on the line, never spin
            _wait_for_input(port, wire_end)
        received = _read_arrived(port, count, wanted)
    return _read_to(port, received, count) if received else received


def _read_unknown_layout(
    port: SerialPort, frame_format: _FrameFormat, received: bytes, response_size: int, silence: float
) -> bytes:
    """The rest of a frame whose function code has no known layout."""
    if response_size > len(received):
        return _read_to(port, received, response_size)
    if frame_format.end:
        return _read_to_end(port, received, frame_format.end, frame_format.max_frame_bytes)
    return received + _read_until_silence(port, silence, frame_format.max_frame_bytes)


def _read_to_end(port: SerialPort, received: bytes, end: bytes, limit: int) -> bytes:
    """Read a frame of unknown length up to its end marker (or the timeout)."""
    while not received.endswith(end) and len(received) < limit:
        more = port.read(1)
        if not more:
            break
        received += more
    return received


def _read_to(port: SerialPort, received: bytes, total: int) -> bytes:
    """Read until ``total`` bytes are in, or a whole timeout passes with nothing new."""
    while len(received) < total:
        more = port.read(total - len(received))
        if not more:
            break
        received += more
    return received


def _find_frame_start(port: SerialPort, received: bytes, prefixes: tuple[bytes, bytes]) -> bytes:
    """Skip bytes before the expected frame start: line noise, or a late frame of another slave.

    Returns the bytes from the frame start on, or everything received if
    no start came within one timeout (the checks then say what is wrong).
    """
    if received.startswith(prefixes):
        return received
    timeout = _port_timeout(port)
    deadline = _now() + timeout if timeout is not None else math.inf
    while True:
        starts = [start for start in map(received.find, prefixes) if start >= 0]
        if starts:
            _LOGGER.debug("Skipped bytes before the frame: %s", _hex(received[: min(starts)]))
            return received[min(starts) :]
        if len(received) >= _MAX_ASCII_FRAME_BYTES or _now() >= deadline:
            return received
        more = port.read(1)
        if not more:
            return received
        received += more


def _read_until_silence(port: SerialPort, silence: float, limit: int) -> bytes:
    """Read what is waiting and what follows, until the line is silent for ``silence``.

    A port object that cannot tell how many bytes wait (no ``in_waiting``) is
    read with its timeout shortened to ``silence`` meanwhile, so that waiting
    for the silence costs no more than with ``in_waiting``.
    """
    if _bytes_waiting(port) is None:
        return _read_with_timeout(port, silence, limit)
    received = b""
    while len(received) < limit:
        waiting = _bytes_waiting(port)
        if waiting:
            received += port.read(min(waiting, limit - len(received)))
            continue
        _sleep(silence)
        if not _bytes_waiting(port):
            break
    return received


def _hex(data: bytes, with_length: bool = True) -> str:
    """Bytes as upper-case hex pairs, e.g. ``01 03 02 00 BA 39 F7 (7 bytes)``."""
    text = data.hex(" ").upper() if data else "(nothing)"
    return f"{text} ({len(data)} bytes)" if with_length and data else text


# ---------------------------------------------------------------------------
# Network lines: Modbus TCP and UDP (Messaging on TCP/IP Implementation Guide)
# ---------------------------------------------------------------------------


class _NetworkPort:
    """A Modbus TCP connection (or UDP socket) that a transaction uses like a serial port.

    Made for a ``tcp://host[:port]`` or ``udp://host[:port]`` name and shared,
    like a serial port, by every instrument with that host and port. It
    connects when first used (``connect_timeout`` seconds at most), and again
    on the next call after the server closed or reset the connection or a
    send failed. ``timeout`` is the response timeout, as a serial port's.
    ``read(size)`` waits up to ``timeout`` for ``size`` bytes and returns
    what came; the end of a TCP stream is an error (``ConnectionResetError``).
    """

    def __init__(self, name: str, host: str, port_number: int, datagrams: bool) -> None:
        self.port = name
        self.host = host
        self.port_number = port_number
        self.datagrams = datagrams
        self.timeout: float | None = _NETWORK_TIMEOUT
        self.connect_timeout = _CONNECT_TIMEOUT
        self._socket: socket.socket | None = None
        self._received = bytearray()

    def __repr__(self) -> str:
        """Give the name, whether connected and the timeouts."""
        return (
            f"minimalmodbus.NetworkPort<{self.port!r}, open={self.is_open}, timeout={self.timeout!r}, "
            f"connect_timeout={self.connect_timeout!r}>"
        )

    @property
    def is_open(self) -> bool:
        """Whether connected."""
        return self._socket is not None

    def open(self) -> None:
        """Connect (TCP with TCP_NODELAY), or bind a UDP socket to the server's address."""
        address = (self.host, self.port_number)
        if self.datagrams:
            family, kind, protocol, _, server = socket.getaddrinfo(*address, type=socket.SOCK_DGRAM)[0]
            connection = socket.socket(family, kind, protocol)
            connection.connect(server)
        else:
            connection = socket.create_connection(address, timeout=self.connect_timeout)
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.setblocking(False)
        self._socket = connection
        self._received.clear()

    def close(self) -> None:
        """Close the connection (the next call connects again)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._received.clear()

    def write(self, data: bytes, /) -> int:
        """Send a request whole (waiting up to ``connect_timeout`` while the socket's buffer is full)."""
        connection = self._connected()
        rest = memoryview(data)
        while rest:
            try:
                rest = rest[connection.send(rest) :]
            except BlockingIOError:
                _, writable, _ = select.select([], [connection], [], self.connect_timeout)
                if not writable:
                    raise TimeoutError(f"{self.port!r} takes no data") from None
        return len(data)

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes: those there, and more as they arrive, within ``timeout``."""
        deadline = None if self.timeout is None else _now() + self.timeout
        while len(self._received) < size:
            remaining = None if deadline is None else deadline - _now()
            if (remaining is not None and remaining <= 0) or not self._receive(remaining):
                break
        data = bytes(self._received[:size])
        del self._received[:size]
        return data

    @property
    def in_waiting(self) -> int:
        """Bytes received and not yet read (taking in what the socket holds now).

        Asked between transactions: a connection that the server closed or
        reset meanwhile is opened again here, since no request is in flight.
        """
        try:
            while self._receive(0):
                pass
        except ConnectionError:
            self.close()
            self.open()
        return len(self._received)

    def reset_input_buffer(self) -> None:
        """Discard what has been received."""
        self.in_waiting  # noqa: B018 (takes in what the socket holds)
        self._received.clear()

    def fileno(self) -> int:
        """The socket's descriptor (for ``select``)."""
        return self._connected().fileno()

    def _receive(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` for data and take it in; False if none came."""
        connection = self._connected()
        ready, _, _ = select.select([connection], [], [], timeout)
        if not ready:
            return False
        data = connection.recv(_MAX_MBAP_BYTES if self.datagrams else 4096)
        if not data and not self.datagrams:
            raise ConnectionResetError(f"the server {self.port!r} closed the connection")
        self._received += data
        return True

    def _connected(self) -> socket.socket:
        """The socket (OSError when not connected: a port error, like a closed serial port's)."""
        if self._socket is None:
            raise OSError(f"{self.port!r} is not connected")
        return self._socket


def _network_port(name: str) -> _NetworkPort | None:
    """A network port for a ``tcp://`` or ``udp://`` name (port 502 by default), else None."""
    scheme, _, rest = name.partition("://")
    if scheme not in _NETWORK_SCHEMES:
        return None
    rest = rest.rstrip("/")
    if rest.startswith("["):  # [IPv6 address]:port
        host, _, tail = rest[1:].partition("]")
        number = tail[1:] if tail.startswith(":") else str(_MODBUS_TCP_PORT)
    elif rest.count(":") == 1:
        host, _, number = rest.partition(":")
    else:
        host, number = rest, str(_MODBUS_TCP_PORT)
    if not host or not number.isdigit() or not 0 < int(number) < 65536:
        raise ValueError(f"port must be {scheme}://host or {scheme}://host:port (1..65535), not {name!r}")
    return _NetworkPort(f"{scheme}://{host}:{int(number)}", host, int(number), scheme == "udp")


# ---------------------------------------------------------------------------
# Checksums (pure)
# ---------------------------------------------------------------------------


def _make_crc_table() -> tuple[int, ...]:
    """CRC-16/MODBUS of each byte value: reflected polynomial 0xA001."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _make_crc_table()


def _crc16(data: bytes) -> int:
    """CRC-16/MODBUS (initial 0xFFFF, no final XOR); sent low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def _lrc(data: bytes) -> int:
    """Serial Line §2.5.2.2: two's complement of the 8-bit sum."""
    return -sum(data) & 0xFF


# ---------------------------------------------------------------------------
# Value codecs (pure)
# ---------------------------------------------------------------------------


def _pack_words(*words: int) -> bytes:
    """16-bit values big-endian, as every quantity in a PDU."""
    return struct.pack(f">{len(words)}H", *words)


def _encode_value(
    payloadformat: _Payloadformat,
    value: Any,
    number_of_registers: int,
    number_of_decimals: int,
    signed: bool,
    byteorder: int,
) -> bytes:
    """The data bytes that carry a value of a format in a write request."""
    if payloadformat == _Payloadformat.BIT:
        return _bits_to_bytes([value])
    if payloadformat == _Payloadformat.BITS:
        return _bits_to_bytes(value)
    if payloadformat == _Payloadformat.REGISTER:
        register = _scale_up(value, number_of_decimals)
        return register.to_bytes(2, "big", signed=signed)
    if payloadformat == _Payloadformat.REGISTERS:
        return _encode_registers(value, signed)
    if payloadformat == _Payloadformat.LONG:
        return _encode_long(value, signed, byteorder, number_of_registers)
    if payloadformat == _Payloadformat.FLOAT:
        return _encode_float(value, byteorder, number_of_registers)
    return _encode_string(value, number_of_registers)


def _decode_value(
    payloadformat: _Payloadformat,
    data: bytes,
    quantity: int,
    number_of_decimals: int,
    signed: bool,
    byteorder: int,
) -> Any:
    """The value of a format that the data bytes of a read response carry."""
    if payloadformat == _Payloadformat.BIT:
        return _bytes_to_bits(data, 1)[0]
    if payloadformat == _Payloadformat.BITS:
        return _bytes_to_bits(data, quantity)
    if payloadformat == _Payloadformat.REGISTER:
        return _scale_down(int.from_bytes(data, "big", signed=signed), number_of_decimals)
    if payloadformat == _Payloadformat.REGISTERS:
        return _decode_registers(data, signed)
    if payloadformat == _Payloadformat.LONG:
        return _decode_long(data, signed, byteorder)
    if payloadformat == _Payloadformat.FLOAT:
        return _decode_float(data, byteorder)
    return _decode_string(data)


def _scale_up(value: float, number_of_decimals: int) -> int:
    """Times 10**decimals, truncated toward zero as 2.x does, but computed on the decimal value
    written, not its binary float (see write_register: 2.55 at 2 decimals is 255; 2.x gave 254)."""
    exact = decimal.Decimal(value) if isinstance(value, int) else decimal.Decimal(repr(float(value)))
    return int(exact.scaleb(number_of_decimals))


def _scale_down(register: int, number_of_decimals: int) -> int | float:
    """A register value divided by 10**decimals (a float when decimals > 0, as 2.x's _generic_command)."""
    return register / 10**number_of_decimals if number_of_decimals else register


def _whole_as_int(value: float) -> float:
    """An int when the value is whole, as 2.x's read_register returns it."""
    return int(value) if value == int(value) else value


def _encode_registers(values: Sequence[int], signed: bool) -> bytes:
    """16-bit register values, big-endian (two's complement when signed)."""
    return struct.pack(f">{len(values)}{'h' if signed else 'H'}", *values)


def _decode_registers(data: bytes, signed: bool) -> list[int]:
    """Register bytes to 16-bit values (two's complement when signed)."""
    return list(struct.unpack(f">{len(data) // 2}{'h' if signed else 'H'}", data))


def _bytes_to_bits(data: bytes, number_of_bits: int) -> list[int]:
    """Bits packed LSB first (Application Protocol §6.1) to a list of 0/1."""
    return [(data[index >> 3] >> (index & 7)) & 1 for index in range(number_of_bits)]


def _bits_to_bytes(bits: Sequence[int]) -> bytes:
    """A list of 0/1 packed LSB first; unused high bits of the last byte are 0."""
    packed = bytearray((len(bits) + 7) // 8)
    for index, bit in enumerate(bits):
        if bit:
            packed[index >> 3] |= 1 << (index & 7)
    return bytes(packed)


def _reorder(data: bytes, byteorder: int) -> bytes:
    """The big-endian bytes of a value in their register order, or (it is its own inverse) back."""
    reverse_registers, swap_bytes = _BYTEORDERS[byteorder]
    if reverse_registers:
        data = b"".join(data[index : index + 2] for index in range(len(data) - 2, -1, -2))
    if swap_bytes:
        data = bytes(data[index ^ 1] for index in range(len(data)))
    return data


def _encode_long(value: int, signed: bool, byteorder: int, number_of_registers: int) -> bytes:
    """An integer in 2 or 4 registers."""
    packed = struct.pack(_LONG_FORMATS[number_of_registers, signed], value)
    return _reorder(packed, byteorder)


def _decode_long(data: bytes, signed: bool, byteorder: int) -> int:
    """The integer in 4 or 8 register bytes."""
    return int(struct.unpack(_LONG_FORMATS[len(data) // 2, signed], _reorder(data, byteorder))[0])


def _encode_float(value: float, byteorder: int, number_of_registers: int) -> bytes:
    """An IEEE 754 float in 2 (single) or 4 (double) registers."""
    return _reorder(struct.pack(_FLOAT_FORMATS[number_of_registers], value), byteorder)


def _decode_float(data: bytes, byteorder: int) -> float:
    """The float in 4 or 8 register bytes."""
    return float(struct.unpack(_FLOAT_FORMATS[len(data) // 2], _reorder(data, byteorder))[0])


def _encode_string(textstring: str, number_of_registers: int) -> bytes:
    """ASCII text padded with spaces to fill the registers, 2 characters each."""
    return textstring.ljust(2 * number_of_registers).encode("latin1")


def _decode_string(data: bytes) -> str:
    """Register bytes as Latin-1 text (every byte value is a character)."""
    return data.decode("latin1")


# ---------------------------------------------------------------------------
# Block decoding: public conversions between register lists and values.
# They use the same private codecs as the Instrument methods, and the same
# argument checks, so a block read can be decoded value by value.
# ---------------------------------------------------------------------------


def registers_to_long(registers: Sequence[int], signed: bool = False, byteorder: int = BYTEORDER_BIG) -> int:
    """The integer held in 2 registers (32 bit) or 4 registers (64 bit).

    Example: ``registers_to_long(instrument.read_registers(0, 40)[6:8])``.

    Args:
        registers: 2 or 4 register values 0..65535.
        signed: two's complement.
        byteorder: a ``BYTEORDER_*`` constant (see :meth:`Instrument.read_long`).
    """
    _check_long_format(signed, byteorder, _count_of(registers, (2, 4)))
    return _decode_long(_encode_registers(registers, False), signed, byteorder)


def long_to_registers(
    value: int, signed: bool = False, byteorder: int = BYTEORDER_BIG, number_of_registers: int = 2
) -> list[int]:
    """The 2 or 4 register values that hold an integer (as ``write_long`` writes them)."""
    _check_long_format(signed, byteorder, number_of_registers)
    _check_long_value(value, signed, number_of_registers)
    return _decode_registers(_encode_long(value, signed, byteorder, number_of_registers), False)


def registers_to_float(registers: Sequence[int], byteorder: int = BYTEORDER_BIG) -> float:
    """The IEEE 754 float held in 2 registers (single) or 4 registers (double)."""
    _check_float_format(_count_of(registers, (2, 4)), byteorder)
    return _decode_float(_encode_registers(registers, False), byteorder)


def float_to_registers(
    value: float, number_of_registers: int = 2, byteorder: int = BYTEORDER_BIG
) -> list[int]:
    """The 2 or 4 register values that hold a float (as ``write_float`` writes them)."""
    _check_float_format(number_of_registers, byteorder)
    _check_float_value(value, number_of_registers)
    return _decode_registers(_encode_float(value, byteorder, number_of_registers), False)


def registers_to_string(registers: Sequence[int]) -> str:
    """The text held in registers, 2 Latin-1 characters each (high byte first)."""
    _checked_register_values(registers, _MAX_REGISTERS_READ, False, "registers")
    return _decode_string(_encode_registers(registers, False))


def string_to_registers(textstring: str, number_of_registers: int) -> list[int]:
    """The register values for ASCII text, padded with spaces (as ``write_string``)."""
    _checked_int(number_of_registers, "number_of_registers", 1, _MAX_REGISTERS_READ)
    _check_string(textstring, number_of_registers)
    return _decode_registers(_encode_string(textstring, number_of_registers), False)


def register_to_signed(register: int) -> int:
    """A register value 0..65535 read as two's complement: -32768..32767."""
    _checked_int(register, "register", 0, _MAX_REGISTER_VALUE)
    return _decode_registers(_encode_registers([register], False), True)[0]


def signed_to_register(value: int) -> int:
    """The register value 0..65535 for a signed value -32768..32767."""
    _checked_int(value, "value", -32768, 32767)
    return _decode_registers(_encode_registers([value], True), False)[0]


def value_to_register(value: float, number_of_decimals: int = 0, signed: bool = False) -> int:
    """The register value 0..65535 that ``write_register`` writes for a value.

    Example: ``value_to_register(-1.23, 2, signed=True)`` is 0xFF85 (-123);
    ``value_to_register(2.39, 1)`` is 23 (truncated toward zero, as 2.x).

    Args:
        value: An int or float, scaled by 10**number_of_decimals as
            ``write_register`` scales it.
        number_of_decimals: 0..10.
        signed: two's complement (-32768..32767 after scaling).
    """
    _checked_int(number_of_decimals, "number_of_decimals", 0, _MAX_DECIMALS)
    _check_bool(signed, "signed")
    _check_register_value(value, number_of_decimals, signed)
    register = _scale_up(value, number_of_decimals)
    return _decode_registers(_encode_registers([register], signed), False)[0]


def register_to_value(register: int, number_of_decimals: int = 0, signed: bool = False) -> int | float:
    """The value that ``read_register`` returns for a register value 0..65535.

    Example: ``register_to_value(0xFF85, 2, signed=True)`` is -1.23, and
    ``register_to_value(2000, 1)`` is 200, an int (whole values are ints, as 2.x).
    """
    _checked_int(register, "register", 0, _MAX_REGISTER_VALUE)
    _checked_int(number_of_decimals, "number_of_decimals", 0, _MAX_DECIMALS)
    _check_bool(signed, "signed")
    return _whole_as_int(
        _scale_down(register_to_signed(register) if signed else register, number_of_decimals)
    )


def _count_of(registers: object, counts: tuple[int, ...]) -> int:
    """The number of register values, checked: a list of allowed length and range."""
    count = len(_checked_register_values(registers, max(counts), False, "registers"))
    _check_choice(count, "the number of registers", counts)
    return count


# ---------------------------------------------------------------------------
# Validation: TypeError for a wrong type, ValueError for a wrong value,
# both naming the argument, showing the value and saying what is allowed.
# ---------------------------------------------------------------------------


def _checked_int(value: object, name: str, minimum: int, maximum: int) -> int:
    """An int (bool counts) in minimum..maximum, returned."""
    if not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}: {value!r}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be in the range {minimum}..{maximum}, not {value!r}")
    return value


def _check_choice(value: object, name: str, choices: Sequence[Any]) -> None:
    """One of a few allowed values (of the choices' type; bool counts as int)."""
    if isinstance(value, type(choices[0])) and value in choices:
        return
    allowed = ", ".join(repr(choice) for choice in choices)
    if not isinstance(value, type(choices[0])):
        raise TypeError(f"{name} must be one of {allowed}, not {type(value).__name__}: {value!r}")
    raise ValueError(f"{name} must be one of {allowed}, not {value!r}")


def _check_bool(value: object, name: str) -> None:
    """A real bool."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {type(value).__name__}: {value!r}")


def _checked_number(value: object, name: str) -> float:
    """A finite int or float, returned."""
    if not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be an int or a float, not {type(value).__name__}: {value!r}")
    if not _is_finite(value):
        raise ValueError(f"{name} must be a finite number of at most about 1e308, not {value!r}")
    return value


def _is_finite(value: float) -> bool:
    """Finite, and (for an int) small enough to become a float."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _check_seconds(value: object, name: str) -> None:
    """A number of seconds, 0 or more."""
    if _checked_number(value, name) < 0:
        raise ValueError(f"{name} must be 0 or more seconds, not {value!r}")


def _checked_bytes(value: object, name: str) -> bytes:
    """Bytes, returned."""
    if not isinstance(value, bytes):
        raise TypeError(f"{name} must be bytes, not {type(value).__name__}: {value!r}")
    return value


def _checked_payload(payload: object) -> bytes:
    """The bytes after the function code: at most 252 of them."""
    data = _checked_bytes(payload, "payload")
    if len(data) > _MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload must have at most {_MAX_PAYLOAD_BYTES} bytes, not {len(data)}")
    return data


def _checked_list(values: object, name: str, minimum: int, maximum: int) -> list[Any] | tuple[Any, ...]:
    """A list or tuple of minimum..maximum items, returned."""
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list, not {type(values).__name__}: {values!r}")
    if not minimum <= len(values) <= maximum:
        raise ValueError(f"{name} must have {minimum}..{maximum} items, not {len(values)}: {values!r}")
    return values


def _check_registeraddress(registeraddress: object, quantity: int = 1, name: str = "registeraddress") -> None:
    """A register address 0..65535 such that the quantity fits below 65536."""
    last = _checked_int(registeraddress, name, 0, _MAX_REGISTER_ADDRESS) + quantity - 1
    if last > _MAX_REGISTER_ADDRESS:
        raise ValueError(
            f"{name} {registeraddress!r} with {quantity} items reaches address "
            f"{last}, beyond the last address {_MAX_REGISTER_ADDRESS}"
        )


def _check_generic_command(
    functioncode: object, registeraddress: object, quantity: object, bitwise: bool, payloadformat: object
) -> None:
    """What _generic_command needs: a function code of the format, an address, a quantity."""
    if not isinstance(payloadformat, _Payloadformat):
        raise TypeError(f"payloadformat must be a _Payloadformat, not {payloadformat!r}")
    _check_choice(functioncode, "functioncode", _PAYLOADFORMAT_CODES[payloadformat])
    reading = functioncode in _READ_BIT_CODES + _READ_REGISTER_CODES
    if bitwise:
        count = _checked_int(quantity, "number_of_bits", 1, _MAX_BITS_READ if reading else _MAX_BITS_WRITE)
    else:
        maximum = _MAX_REGISTERS_READ if reading else _MAX_REGISTERS_WRITE
        count = _checked_int(quantity, "number_of_registers", 1, maximum)
    _check_registeraddress(registeraddress, count)


def _check_file_record(
    file_number: object, record_number: object, number_of_registers: object, maximum_count: int
) -> None:
    """A file number, a record number and a register count that stays in the file."""
    _checked_int(file_number, "file_number", 1, _MAX_FILE_NUMBER)
    first = _checked_int(record_number, "record_number", 0, _MAX_RECORD_NUMBER)
    last = first + _checked_int(number_of_registers, "number_of_registers", 1, maximum_count) - 1
    if last > _MAX_RECORD_NUMBER:
        raise ValueError(
            f"record_number {record_number!r} with {number_of_registers} registers reaches "
            f"record {last}, beyond the last record {_MAX_RECORD_NUMBER}"
        )


def _checked_register_values(
    values: object, maximum_count: int, signed: bool, name: str = "values"
) -> list[int] | tuple[int, ...]:
    """A list of 1..maximum_count 16-bit register values, returned."""
    minimum, maximum = _register_range(signed)
    checked = _checked_list(values, name, 1, maximum_count)
    for value in checked:
        _checked_int(value, f"each of {name}", minimum, maximum)
    return checked


def _register_range(signed: bool) -> tuple[int, int]:
    """The values a 16-bit register holds."""
    return (-32768, 32767) if signed else (0, _MAX_REGISTER_VALUE)


def _check_register_value(value: object, number_of_decimals: int, signed: bool) -> None:
    """A value that scales to a 16-bit register value."""
    minimum, maximum = _register_range(signed)
    register = _scale_up(_checked_number(value, "value"), number_of_decimals)
    if not minimum <= register <= maximum:
        scaled = f" (times 10**{number_of_decimals}: {register})" if number_of_decimals else ""
        kind = "a signed" if signed else "an unsigned"
        raise ValueError(
            f"value {value!r}{scaled} does not fit {kind} register: allowed {minimum}..{maximum}"
        )


def _check_long_format(signed: object, byteorder: object, number_of_registers: object) -> None:
    """signed, byteorder and number_of_registers of a long."""
    _check_bool(signed, "signed")
    _check_choice(byteorder, "byteorder", tuple(_BYTEORDERS))
    _check_choice(number_of_registers, "number_of_registers", (2, 4))


def _check_long_value(value: object, signed: bool, number_of_registers: int) -> None:
    """An integer that fits the registers."""
    bits = 16 * number_of_registers
    minimum, maximum = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    _checked_int(value, "value", minimum, maximum)


def _check_float_format(number_of_registers: object, byteorder: object) -> None:
    """number_of_registers and byteorder of a float."""
    _check_choice(number_of_registers, "number_of_registers", (2, 4))
    _check_choice(byteorder, "byteorder", tuple(_BYTEORDERS))


def _check_float_value(value: object, number_of_registers: int) -> None:
    """An int or float that a single (2 registers) or double (4) can hold."""
    if not isinstance(value, (int, float)):
        raise TypeError(f"value must be an int or a float, not {type(value).__name__}: {value!r}")
    if isinstance(value, int) and not _is_finite(value):
        raise ValueError(f"value {value!r} is too large for a float: allowed magnitude up to about 1e308")
    if number_of_registers == 2 and math.isfinite(value) and abs(value) > _LARGEST_FLOAT32:
        raise ValueError(
            f"value {value!r} is too large for a single-precision float (2 registers): "
            f"allowed magnitude up to {_LARGEST_FLOAT32}; use number_of_registers=4"
        )


def _check_string(textstring: object, number_of_registers: int) -> None:
    """ASCII text of at most 2 characters per register."""
    if not isinstance(textstring, str):
        raise TypeError(f"textstring must be a str, not {type(textstring).__name__}: {textstring!r}")
    if not textstring.isascii():
        raise ValueError(f"textstring must be ASCII, not {textstring!r}")
    if len(textstring) > 2 * number_of_registers:
        raise ValueError(
            f"textstring must have at most {2 * number_of_registers} characters for "
            f"{number_of_registers} registers, not {len(textstring)}: {textstring!r}"
        )


# ---------------------------------------------------------------------------
# Recording every transaction to a file (doc/recording.rst; read back by
# minimalmodbus_replay.load_recording)
# ---------------------------------------------------------------------------

RECORDING_FORMAT = "minimalmodbus-recording"
"""The ``format`` of a recording's header line."""

RECORDING_VERSION = 1
"""The ``version`` of the recording format written here."""

_active_recordings: list[Recording] = []  # empty: _transact pays one truthiness check


class _RecordingThread(threading.local):
    """Per thread: whether its transaction is being recorded (it comes back to ``_transact`` then)."""

    busy = False


_recording_thread = _RecordingThread()
_RECORDED_SETTINGS = ("baudrate", "bytesize", "parity", "stopbits", "timeout")  # those a port has
_RECORDED_PORT_FIELDS: dict[tuple[object, ...], str] = {}  # port name and settings -> their fields
_MAX_RECORDED_PORT_FIELDS = 64


class Recording:
    """Record every transaction of every Instrument to a file, while active.

    The program under test needs no change: it creates its instruments as
    usual, and everything they send and receive is written to the file, one
    JSON line per attempt (a retry is two lines)::

        with minimalmodbus.Recording("bench.jsonl"):
            vendor_code()

    The format (version :data:`RECORDING_VERSION`) is described in the
    manual's page on recording; ``minimalmodbus_replay.load_recording`` replays it.
    Recording changes nothing on the line: each entry is formatted after
    its transaction is over, and written to a buffered file.

    Args:
        file: A path, or a text file open for writing (left open at the end).

    Attributes:
        count: The number of transactions recorded so far.

    Raises:
        TypeError: ``file`` is neither a path nor a text file.
    """

    def __init__(self, file: str | os.PathLike[str] | TextIO) -> None:
        if not isinstance(file, (str, os.PathLike)) and not callable(getattr(file, "write", None)):
            raise TypeError(f"file must be a path or a text file open for writing, not {file!r}")
        self.file = file
        self.count = 0
        self._stream: TextIO | None = None
        self._start_time = 0.0
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        """Start recording."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop recording."""
        self.stop()

    def start(self) -> None:
        """Write the header line and record from now on (OSError if the file cannot be opened)."""
        if self in _active_recordings:
            raise ValueError(f"this Recording of {self.file!r} is already recording")
        if isinstance(self.file, (str, os.PathLike)):
            self._stream = open(self.file, "w", encoding="utf-8", newline="\n")  # closed by stop()
        else:
            self._stream = self.file
        self._start_time = _now()
        header = {"format": RECORDING_FORMAT, "version": RECORDING_VERSION, "minimalmodbus": __version__}
        self._stream.write(json.dumps(header) + "\n")
        with _REGISTRY_LOCK:
            _active_recordings.append(self)

    def stop(self) -> None:
        """Stop recording; flush the file, and close it if this Recording opened it."""
        with _REGISTRY_LOCK:
            if self in _active_recordings:
                _active_recordings.remove(self)
        with self._lock:
            stream, self._stream = self._stream, None  # stopped, even if the flush fails
            if stream is not None and stream is not self.file:
                stream.close()
            elif stream is not None:
                stream.flush()

    def _write(self, entry: str, transaction_start: float, roundtrip: float | None) -> None:
        """Write one transaction's line: ``t`` (from this recording's start) and ``rtt`` in
        microsecond steps without exponents (a diff shows them digit by digit), then the entry."""
        rtt = "null" if roundtrip is None else f"{roundtrip:.6f}"
        line = f'{{"t": {transaction_start - self._start_time:.6f}, "rtt": {rtt}, {entry}}}\n'
        with self._lock:
            if self._stream is not None:
                self._stream.write(line)
                self.count += 1


def _record_transaction(
    instrument: Instrument, request: _Request, checked: bool, communicate: Callable[[], bytes] | None
) -> bytes:
    """Do one transaction through ``_transact``, keeping its raw answer, then write its entry."""
    raw_responses: list[bytes] = []

    def exchange() -> bytes:
        port = instrument.serial
        response = communicate() if communicate else instrument._exchange(port, _port_state(port), request)
        raw_responses.append(response)
        return response

    roundtrip_before = instrument._roundtrip_time
    transaction_start = _now()
    _recording_thread.busy = True
    error: BaseException | None = None
    try:
        return instrument._transact(request, checked, exchange)
    except BaseException as raised:  # also Ctrl-C: the line must not read as a clean exchange
        error = raised
        raise
    finally:
        _recording_thread.busy = False
        # Reading an answer sets a new float object; the same object means nothing was read.
        roundtrip = instrument._roundtrip_time
        entry = _recording_entry(instrument.serial, request, raw_responses, error)
        for recording in list(_active_recordings):
            recording._write(entry, transaction_start, None if roundtrip is roundtrip_before else roundtrip)


def _recording_entry(
    port: SerialPort, request: _Request, raw_responses: list[bytes], error: BaseException | None
) -> str:
    """One transaction's JSON fields after ``t`` and ``rtt``, in the order written.

    Formatted field by field, not with ``json.dumps`` of a dict, and the
    port's fields once per port and settings: recording should cost little
    per transaction (benchmarks/README.md).
    """
    response = raw_responses[0] if raw_responses else getattr(error, "response", b"")
    return (
        f'{_port_fields(port)}"mode": "{request.mode}", "slave": {request.slaveaddress}, '
        f'"functioncode": {request.functioncode}, "request": "{request.frame.hex(" ").upper()}", '
        f'"response": "{response.hex(" ").upper() if isinstance(response, bytes) else ""}", '
        + ('"error": null, "message": null' if error is None else _error_fields(error))
    )


def _port_fields(port: SerialPort) -> str:
    """The port's JSON fields of an entry, with the separator after them; formatted once per settings."""
    values = (_port_name(port), *[getattr(port, name, None) for name in _RECORDED_SETTINGS])
    try:
        return _RECORDED_PORT_FIELDS[values]
    except (KeyError, TypeError):  # new settings, or a setting that cannot be a key (an odd port)
        pass
    names = ("port", *_RECORDED_SETTINGS)
    fields = ", ".join(f'"{name}": {_json_scalar(value)}' for name, value in zip(names, values)) + ", "
    if len(_RECORDED_PORT_FIELDS) >= _MAX_RECORDED_PORT_FIELDS:
        _RECORDED_PORT_FIELDS.clear()
    with contextlib.suppress(TypeError):
        _RECORDED_PORT_FIELDS[values] = fields
    return fields


def _error_fields(error: BaseException) -> str:
    """The ``error`` and ``message`` fields of an entry whose transaction raised."""
    return f'"error": {_json_scalar(type(error).__name__)}, "message": {_json_scalar(str(error))}'


def _json_scalar(value: object) -> str:
    """A setting or name as a JSON value: a number, a string, or null (anything else as its text)."""
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return repr(value)
    return json.dumps(value if isinstance(value, str) else str(value))


# ---------------------------------------------------------------------------
# Legacy names: private helpers of MinimalModbus 2.x that published programs
# call, kept with their 2.x signatures and behaviour (not documented API).
# The shared-port dict keeps its 2.x name too: ``_serialports`` (rebinding it
# to ``{}`` forgets the shared ports, as in 2.x; forget_ports() is the API).
# ---------------------------------------------------------------------------


def _check_numerical(
    inputvalue: float,
    minvalue: float | None = None,
    maxvalue: float | None = None,
    description: str = "inputvalue",
) -> None:
    """2.x: TypeError unless an int or float, ValueError outside minvalue..maxvalue."""
    if not isinstance(inputvalue, (int, float)):
        raise TypeError(f"The {description} must be numerical. Given: {inputvalue!r}")
    for limit, name in ((minvalue, "minvalue"), (maxvalue, "maxvalue")):
        if not isinstance(limit, (int, float, type(None))):
            raise TypeError(f"The {name} must be numeric or None. Given: {limit!r}")
    if minvalue is not None and inputvalue < minvalue:
        raise ValueError(f"The {description} is too small: {inputvalue}, but minimum value is {minvalue}.")
    if maxvalue is not None and inputvalue > maxvalue:
        raise ValueError(f"The {description} is too large: {inputvalue}, but maximum value is {maxvalue}.")


def _check_int(
    inputvalue: int, minvalue: int | None = None, maxvalue: int | None = None, description: str = "inputvalue"
) -> None:
    """2.x: TypeError unless an int, ValueError outside minvalue..maxvalue."""
    if not isinstance(inputvalue, int):
        raise TypeError(f"The {description} must be an integer. Given: {inputvalue!r}")
    _check_numerical(inputvalue, minvalue, maxvalue, description)


def _embed_payload(slaveaddress: int, mode: str, functioncode: int, payloaddata: bytes) -> bytes:
    """2.x: the request frame (RTU with CRC, ASCII with LRC) around a payload."""
    _checked_int(slaveaddress, "slaveaddress", _BROADCAST_ADDRESS, _MAX_SLAVE_ADDRESS)
    _check_choice(mode, "mode", (MODE_RTU, MODE_ASCII))
    _checked_int(functioncode, "functioncode", 1, 127)
    return _FORMATS[mode].build(bytes((slaveaddress, functioncode)) + _checked_payload(payloaddata))


def _get_diagnostic_string() -> str:
    """2.x: the versions of this module, pyserial and Python, for bug reports."""
    lines = [
        f"MinimalModbus version: {__version__} ({os.path.abspath(__file__)})",
        f"pySerial version: {getattr(serial, '__version__', '?')} ({serial.__file__})",
        f"Platform: {sys.platform}",
        f"Python version: {sys.version}",
        f"Python executable: {sys.executable}",
    ]
    return "\n## Diagnostic output from minimalmodbus ##\n\n" + "\n".join(lines) + "\n\n## End ##\n"


if __name__ == "__main__":  # python -m minimalmodbus: run the command line, minimalmodbus_cli.py
    import runpy

    runpy.run_module("minimalmodbus_cli", run_name="__main__", alter_sys=True)
