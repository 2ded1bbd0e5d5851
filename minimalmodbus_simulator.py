"""Simulated Modbus slaves: a slave in memory, a bus with faults, a pseudo-terminal server.

A :class:`SimulatedSlave` holds coils, discrete inputs, holding and input
registers, file records, FIFO queues and identification objects, and answers
function codes 1-8, 11, 12, 15-17, 20-24 and 43/14 as the Modbus
specification says, exception responses included. A :class:`SimulatedBus`
puts slaves on one line in RTU or ASCII: it checks the request's checksum,
lets the addressed slave answer, frames the answer, and can inject faults
(:class:`Fault`: no answer, bad checksum, delay, split answer, noise, local
echo, wrong slave address). A bus is a ``dummy_serial`` responder, so a
test double port can use it::

    import dummy_serial
    import minimalmodbus_simulator as simulator

    bus = simulator.SimulatedBus({1: simulator.SimulatedSlave(
        holding_registers=simulator.block(100))})
    port = dummy_serial.Serial(port="/dev/ttyUSB0", timeout=0.05)
    port.responder = bus

and so can every port that MinimalModbus creates itself::

    dummy_serial.RESPONDER = bus      # picked up by each new dummy_serial.Serial
    minimalmodbus.serial.Serial = dummy_serial.Serial
    instrument = minimalmodbus.Instrument("/dev/ttyUSB0", 1)
    instrument.write_register(5, 123)
    assert bus.slaves[1].holding_registers[5] == 123

Set ``dummy_serial.RESPONDER`` back to None to return to recorded answers.

A real line: :class:`PtyServer` serves a bus on a pseudo-terminal (POSIX
only), which any master, in any language, opens like a serial port. From a
shell, ``python -m minimalmodbus_simulator --pty`` does the same with
demonstration slaves (see ``python -m minimalmodbus_simulator --help``).

This module imports the standard library and ``dummy_serial`` (for the
responder's chunk type), never ``minimalmodbus``: it has its own checksums
and framing, so a simulated slave is a second opinion on the driver.
"""

from __future__ import annotations

import argparse
import binascii
import contextlib
import enum
import functools
import os
import random
import select
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from dummy_serial import Chunk

# ---------------------------------------------------------------------------
# Simulated slaves: protocol facts
# ---------------------------------------------------------------------------

MODE_RTU = "rtu"
"""RTU framing, binary with CRC-16/MODBUS (the value of ``minimalmodbus.MODE_RTU``)."""

MODE_ASCII = "ascii"
"""ASCII framing, ``:``, hex digits, LRC and CR LF (the value of ``minimalmodbus.MODE_ASCII``)."""

# Serial Line §2.2: 0 is broadcast, 1..247 are slaves, 248..255 reserved; simulated
# slaves may use those too, as real devices do (0xF8 on PZEM energy meters).
_BROADCAST_ADDRESS = 0
_MAX_SLAVE_ADDRESS = 255

# Application Protocol §4.4: 16-bit addresses and register values.
_MAX_ADDRESS = 0xFFFF
_MAX_REGISTER_VALUE = 0xFFFF

# Application Protocol §6.1-6.4, §6.11, §6.12, §6.17: quantities per request.
_MAX_BITS_READ = 2000
_MAX_BITS_WRITE = 1968
_MAX_REGISTERS_READ = 125
_MAX_REGISTERS_WRITE = 123
_MAX_REGISTERS_READ_WRITE = 121  # the write part of function code 23

# Application Protocol §6.5: the two legal values of a single coil.
_COIL_ON = 0xFF00
_COIL_OFF = 0x0000

# Application Protocol §6.8: diagnostics sub-functions handled one by one
# (the counters 11..18 are the values of DiagnosticCounter).
_DIAGNOSTIC_RETURN_QUERY_DATA = 0
_DIAGNOSTIC_RESTART = 1
_DIAGNOSTIC_REGISTER = 2
_DIAGNOSTIC_LISTEN_ONLY = 4
_DIAGNOSTIC_CLEAR_COUNTERS = 10
_DIAGNOSTIC_CLEAR_OVERRUN = 20
_RESTART_CLEARS_LOG = 0xFF00  # restart data that also clears the event log

# Application Protocol §6.9, §6.10: comm event counter and log. Event bytes:
# receive 1xxxxxxx (bit 5 listen only, bit 6 broadcast), send 01xxxxxx
# (bit 0 exception 1-3), 0x04 entered listen only, 0x00 restart.
_GET_COMM_EVENT_COUNTER = 11  # does not count itself
_STATUS_READY = 0x0000  # 0xFFFF would mean busy with a previous command
_MAX_COMM_EVENTS = 64
_EVENT_RECEIVED = 0x80
_EVENT_RECEIVED_IN_LISTEN_ONLY = 0x20
_EVENT_RECEIVED_BROADCAST = 0x40
_EVENT_SENT = 0x40
_EVENT_SENT_READ_EXCEPTION = 0x01
_EVENT_ENTERED_LISTEN_ONLY = 0x04
_EVENT_RESTART = 0x00

# Application Protocol §6.14, §6.15: file records of reference type 6,
# records 0..9999; request byte counts 0x07..0xF5 (read) and 0x09..0xFB
# (write); the read response holds at most 0xF5 data bytes.
_FILE_REFERENCE_TYPE = 6
_MAX_RECORD_NUMBER = 9999
_FILE_SUB_REQUEST_BYTES = 7  # reference type 1, file 2, record 2, length 2
_FILE_READ_BYTE_COUNTS = (0x07, 0xF5)
_FILE_WRITE_BYTE_COUNTS = (0x09, 0xFB)

# Application Protocol §6.18: at most 31 registers in a FIFO queue.
_MAX_FIFO_COUNT = 31

# Application Protocol §6.21: Read Device Identification. Per stream read
# code, the first object id beyond its objects (basic 0..2, regular up to
# 0x7F, extended up to 0xFF; each includes the ones before). Read code 4
# reads one object. Conformity levels 0x81..0x83: basic, regular, extended,
# with stream and individual access.
_MEI_DEVICE_IDENTIFICATION = 0x0E
_DEVICE_ID_STREAM_ENDS = {1: 0x03, 2: 0x80, 3: 0x100}
_DEVICE_ID_ONE_OBJECT = 4
_DEVICE_ID_HEADER_BYTES = 7  # function code, MEI, read code, conformity, more, next, count
_CONFORMITY_BASIC, _CONFORMITY_REGULAR, _CONFORMITY_EXTENDED = 0x81, 0x82, 0x83
_MORE_FOLLOWS = 0xFF

# Serial Line §2.5.1: a PDU (function code and data) has at most 253 bytes.
_MAX_PDU_BYTES = 253
_MAX_SLAVE_ID_BYTES = _MAX_PDU_BYTES - 2  # function code, byte count
_MAX_OBJECT_BYTES = _MAX_PDU_BYTES - _DEVICE_ID_HEADER_BYTES - 2  # id, length

# Application Protocol §7: an exception response sets bit 7 of the code.
_EXCEPTION_BIT = 0x80

# Serial Line §2.5.1.1: 3.5 character times of silence end an RTU frame,
# at least 1.75 ms; 11 bits per character (8E1, 8O1, 8N2).
_SILENT_CHARACTERS = 3.5
_BITS_PER_CHARACTER = 11
_MIN_SILENCE = 0.00175

# Serial Line §2.5.1, §2.5.2: frame limits and the ASCII frame markers.
# ASCII allows gaps up to 1 s between characters; the pty server also
# waits that long for the rest of an RTU frame of known length (a pty has
# no wire timing), then drops the partial frame.
_MAX_RTU_FRAME_BYTES = 256
_MAX_ASCII_FRAME_BYTES = 513
_ASCII_START = b":"
_ASCII_END = b"\r\n"
_PARTIAL_FRAME_TIMEOUT = 1.0


class ExceptionCode(enum.IntEnum):
    """The exception codes a :class:`SimulatedSlave` answers with (Application Protocol §7)."""

    ILLEGAL_FUNCTION = 1
    """The function code (or diagnostics sub-function, or MEI type) is not supported."""
    ILLEGAL_DATA_ADDRESS = 2
    """An address in the requested range is not in the slave's map."""
    ILLEGAL_DATA_VALUE = 3
    """A quantity out of range, a bad value, or a byte count that does not match."""


class DiagnosticCounter(enum.IntEnum):
    """The counters of a slave; each value is the diagnostics sub-function that returns it."""

    BUS_MESSAGE = 11
    """Frames with a good checksum seen on the line, for any slave address."""
    BUS_COMMUNICATION_ERROR = 12
    """Frames with a bad checksum seen on the line."""
    BUS_EXCEPTION_ERROR = 13
    """Exception responses sent."""
    SLAVE_MESSAGE = 14
    """Requests addressed to this slave, or broadcast."""
    SLAVE_NO_RESPONSE = 15
    """Requests addressed to this slave, or broadcast, that got no response."""
    SLAVE_NAK = 16
    """Negative acknowledge responses sent (never, here)."""
    SLAVE_BUSY = 17
    """Slave device busy responses sent (never, here)."""
    BUS_CHARACTER_OVERRUN = 18
    """Characters lost to overrun (never, here)."""


class _SlaveError(Exception):
    """Raised inside a slave to answer with an exception response."""

    def __init__(self, exception_code: ExceptionCode) -> None:
        super().__init__(f"exception code {int(exception_code)}")
        self.exception_code = exception_code


# ---------------------------------------------------------------------------
# Checksums and framing (pure)
# ---------------------------------------------------------------------------


def _crc_shift(crc: int, _bit: int) -> int:
    """One bit of CRC-16/MODBUS: shift right, XOR the reflected polynomial 0xA001 if a 1 fell out."""
    return (crc >> 1) ^ (0xA001 if crc & 1 else 0)


# The CRC of each byte value: its eight bits shifted through the polynomial.
_CRC_OF_BYTE = tuple(functools.reduce(_crc_shift, range(8), byte) for byte in range(256))


def crc16(data: bytes) -> int:
    """CRC-16/MODBUS of ``data``: initial value 0xFFFF, no final XOR (Serial Line §2.5.1.2).

    Sent low byte first; 0 for a frame that ends with its own CRC; 0x4B37
    for ``b"123456789"``.
    """
    crc = 0xFFFF
    for byte in data:
        crc = _CRC_OF_BYTE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def lrc(data: bytes) -> int:
    """LRC (Serial Line §2.5.2.2): the two's complement of the 8-bit sum of the bytes."""
    return -sum(data) & 0xFF


def build_frame(mode: str, slaveaddress: int, pdu: bytes) -> bytes:
    """A frame around a PDU: RTU with its CRC (low byte first), or ASCII with its LRC.

    Args:
        mode: :data:`MODE_RTU` or :data:`MODE_ASCII`.
        slaveaddress: 0..255.
        pdu: Function code and data.

    Returns:
        The frame as it goes on the line.
    """
    frame = bytes((slaveaddress,)) + pdu
    if mode == MODE_RTU:
        return frame + crc16(frame).to_bytes(2, "little")
    return _ASCII_START + (frame + bytes((lrc(frame),))).hex().upper().encode() + _ASCII_END


def unwrap_frame(mode: str, frame: bytes) -> bytes | None:
    """The content of a frame: slave address, function code and data.

    Args:
        mode: :data:`MODE_RTU` or :data:`MODE_ASCII`.
        frame: The bytes from the line.

    Returns:
        The content without checksum (and without ASCII framing), or None if
        the checksum or the framing is wrong.
    """
    if mode == MODE_RTU:
        return frame[:-2] if len(frame) >= 4 and crc16(frame) == 0 else None
    if not frame.startswith(_ASCII_START) or not frame.endswith(_ASCII_END):
        return None
    try:
        content = binascii.unhexlify(frame[len(_ASCII_START) : -len(_ASCII_END)])
    except binascii.Error:
        return None
    return content[:-1] if len(content) >= 3 and lrc(content) == 0 else None


def _corrupt_checksum(mode: str, frame: bytes) -> bytes:
    """The frame with its CRC or LRC inverted, so the checksum is wrong."""
    if mode == MODE_RTU:
        return frame[:-1] + bytes((frame[-1] ^ 0xFF,))
    lrc_digits = slice(-len(_ASCII_END) - 2, -len(_ASCII_END))
    wrong_lrc = int(frame[lrc_digits], 16) ^ 0xFF
    return frame[: lrc_digits.start] + f"{wrong_lrc:02X}".encode() + _ASCII_END


def _pack_registers(values: Iterable[int]) -> bytes:
    """Register values as big-endian 16-bit words."""
    words = list(values)
    return struct.pack(f">{len(words)}H", *words)


def _unpack_registers(data: bytes) -> list[int]:
    """Big-endian 16-bit words as register values."""
    count = len(data) // 2
    return list(struct.unpack(f">{count}H", data[: 2 * count]))


def _pack_bits(bits: Sequence[int]) -> bytes:
    """Bits packed LSB first; unused high bits of the last byte are 0."""
    packed = bytearray((len(bits) + 7) // 8)
    for index, bit in enumerate(bits):
        if bit:
            packed[index // 8] |= 1 << (index % 8)
    return bytes(packed)


def _unpack_bits(data: bytes, quantity: int) -> list[int]:
    """The first ``quantity`` bits of bytes packed LSB first."""
    return [(data[index // 8] >> (index % 8)) & 1 for index in range(quantity)]


# ---------------------------------------------------------------------------
# Simulated slaves: the map helpers (pure, but for the exceptions they raise)
# ---------------------------------------------------------------------------


def block(count: int, start: int = 0, value: int = 0) -> dict[int, int]:
    """A contiguous block of addresses, all holding the same value.

    For the maps of a :class:`SimulatedSlave`, e.g.
    ``SimulatedSlave(holding_registers=block(100))`` gives holding
    registers 0..99, all 0.

    Args:
        count: The number of addresses, 0 or more.
        start: The first address.
        value: The value at every address.

    Returns:
        ``{start: value, start + 1: value, ..., start + count - 1: value}``.
    """
    _check_int(count, "count", 0, _MAX_ADDRESS + 1)
    return dict.fromkeys(range(start, start + count), value)


def _check_quantity(quantity: int, maximum: int) -> None:
    """Answer exception 3 unless 1 <= quantity <= maximum."""
    if not 1 <= quantity <= maximum:
        raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)


def _check_addresses(table: Mapping[int, int], start: int, quantity: int) -> None:
    """Answer exception 2 unless every address of the range is in the map."""
    _values(table, start, quantity)


def _values(table: Mapping[int, int], start: int, quantity: int) -> list[int]:
    """The values of a range of addresses (exception 2 if one is missing)."""
    try:
        return [table[address] for address in range(start, start + quantity)]
    except KeyError:
        raise _SlaveError(ExceptionCode.ILLEGAL_DATA_ADDRESS) from None


def _store(table: dict[int, int], start: int, values: Sequence[int]) -> None:
    """Write values to consecutive addresses (already checked)."""
    table.update(zip(range(start, start + len(values)), values))


def _read_bits(table: Mapping[int, int], data: bytes) -> bytes:
    """Function codes 1, 2: start 2, quantity 2 -> byte count 1, bits."""
    start, quantity = _unpack_registers(data)
    _check_quantity(quantity, _MAX_BITS_READ)
    packed = _pack_bits(_values(table, start, quantity))
    return bytes((len(packed),)) + packed


def _read_registers(table: Mapping[int, int], data: bytes) -> bytes:
    """Function codes 3, 4: start 2, quantity 2 -> byte count 1, registers."""
    start, quantity = _unpack_registers(data)
    _check_quantity(quantity, _MAX_REGISTERS_READ)
    registers = _pack_registers(_values(table, start, quantity))
    return bytes((len(registers),)) + registers


def _receive_event(listen_only: bool, broadcast: bool) -> int:
    """The comm event log byte for a request received."""
    event = _EVENT_RECEIVED
    if listen_only:
        event |= _EVENT_RECEIVED_IN_LISTEN_ONLY
    if broadcast:
        event |= _EVENT_RECEIVED_BROADCAST
    return event


def _check_int(value: object, name: str, minimum: int, maximum: int) -> None:
    """Raise TypeError or ValueError unless ``value`` is an int in minimum..maximum."""
    if not isinstance(value, int):
        raise TypeError(f"Simulator: {name} must be an integer, not {value!r}")
    if not minimum <= value <= maximum:
        raise ValueError(f"Simulator: {name} must be {minimum}..{maximum}, not {value!r}")


def _checked_map(
    values: Mapping[int, int] | None, name: str, maximum_value: int, maximum_address: int = _MAX_ADDRESS
) -> dict[int, int]:
    """A checked copy of an address -> value map (bools become 0 and 1)."""
    checked = {}
    for address, value in (values or {}).items():
        _check_int(address, f"an address of {name}", 0, maximum_address)
        _check_int(value, f"{name}[{address}]", 0, maximum_value)
        checked[address] = int(value)
    return checked


def _checked_bytes(value: object, name: str, maximum_length: int) -> bytes:
    """``value`` if it is bytes of at most ``maximum_length``; else raise."""
    if not isinstance(value, bytes):
        raise TypeError(f"Simulator: {name} must be bytes, not {value!r}")
    if len(value) > maximum_length:
        raise ValueError(f"Simulator: {name} must have at most {maximum_length} bytes, not {len(value)}")
    return value


# ---------------------------------------------------------------------------
# Simulated slaves: the slave
# ---------------------------------------------------------------------------


class SimulatedSlave:
    """A Modbus slave in memory: it acts on request PDUs and returns response PDUs.

    It works on the PDU (function code and data), so it serves RTU and
    ASCII alike; a :class:`SimulatedBus` gives it its slave address and
    frames. Its maps are sparse: an address exists if it is a key. A request
    touching any missing address gets exception 2.

    ===========  ===================================  ===================================
    fc           request                              what the slave does
    ===========  ===================================  ===================================
    1, 2         read 1..2000 bits                    from ``coils``, ``discrete_inputs``
    3, 4         read 1..125 registers                from ``holding_registers``,
                                                      ``input_registers``
    5            write coil, value 0xFF00 or 0x0000   sets ``coils`` (else exception 3)
    6            write register                       sets ``holding_registers``
    7            read exception status                returns ``exception_status``
    8            diagnostics                          see below
    11           get comm event counter               status 0, ``event_counter``
    12           get comm event log                   status 0, ``event_counter``, bus
                                                      message count, ``comm_events``
    15, 16       write 1..1968 coils, 1..123          byte count must match (else 3)
                 registers
    17           report slave id                      returns ``slave_id``
    20, 21       read, write file records             ``file_records``, reference type 6
    22           mask write register                  (current AND and_mask) OR
                                                      (or_mask AND NOT and_mask)
    23           write 1..121, then read 1..125       ``holding_registers``
                 registers
    24           read FIFO queue                      ``fifo_queues`` (more than 31: 3)
    43 / 14      read device identification           ``device_identification``
    other        --                                   exception 1
    ===========  ===================================  ===================================

    Checks in the specification's order: function code supported (else
    exception 1), request length and quantity (else 3), addresses (else 2).

    Diagnostics (fc 8) sub-functions: 0 echo the data; 1 restart
    communications (data 0x0000, or 0xFF00 to also clear the event log):
    clears the counters, leaves listen only mode, and is the only request
    acted on in that mode, without a response; 2 return
    ``diagnostic_register``; 4 force listen only mode (no response, and none
    to anything until sub-function 1); 10 clear the counters and the
    diagnostic register; 11..18 return a :class:`DiagnosticCounter`; 20 clear
    the overrun counter. Others: exception 1.

    Read device identification (fc 43, MEI type 14): read codes 1, 2, 3 give
    the objects of ids 0..2, 0..0x7F, 0..0xFF from the requested object id
    on (from 0 if no object has that id), as many as fit in one response,
    with "more follows" and the next object id if some are left; read code
    4 gives one object (exception 2 if it does not exist). Conformity level
    0x81, 0x82 or 0x83 from the highest object id present.

    Broadcasts (slave address 0, see :meth:`handle`): function codes 5, 6,
    15, 16, 21 and 22 act; nothing answers.

    Counters and the event log follow Application Protocol §6.8-6.10: the
    event counter counts requests completed without exception (but not
    function code 11); the event log holds up to 64 event bytes, newest
    first: receive events (0x80, +0x20 in listen only mode, +0x40 broadcast)
    stored before acting, send events (0x40, +0x01 for exceptions 1-3),
    0x04 on entering listen only mode, 0x00 on restart.

    All attributes may be read and changed between requests; keep values in
    the ranges the constructor checks.

    Attributes:
        coils: Coil address -> 0 or 1.
        discrete_inputs: Discrete input address -> 0 or 1.
        holding_registers: Register address -> value 0..65535.
        input_registers: Register address -> value 0..65535.
        exception_status: The byte function code 7 returns.
        slave_id: Function code 17's data after the byte count: slave id,
            run indicator (0x00 off, 0xFF on), device specific bytes.
        file_records: File number -> (record number -> value 0..65535).
        fifo_queues: FIFO pointer address -> the queued register values.
        device_identification: Object id -> value (object 0 VendorName,
            1 ProductCode, 2 MajorMinorRevision, 3 VendorUrl, 4 ProductName,
            5 ModelName, 6 UserApplicationName, 0x80.. extended).
        listen_only: True in listen only mode (diagnostics sub-function 4).
        diagnostic_register: The word diagnostics sub-function 2 returns.
        event_counter: The comm event counter (function codes 11, 12).
        comm_events: The comm event log, newest first, at most 64 bytes.
        counters: Each :class:`DiagnosticCounter`'s count.
    """

    def __init__(
        self,
        *,
        coils: Mapping[int, int] | None = None,
        discrete_inputs: Mapping[int, int] | None = None,
        holding_registers: Mapping[int, int] | None = None,
        input_registers: Mapping[int, int] | None = None,
        exception_status: int = 0,
        slave_id: bytes = b"\x01\xff",
        file_records: Mapping[int, Mapping[int, int]] | None = None,
        fifo_queues: Mapping[int, Sequence[int]] | None = None,
        device_identification: Mapping[int, bytes] | None = None,
    ) -> None:
        """Check and copy the maps; counters start at 0, the event log empty.

        Args:
            coils: Address 0..65535 -> 0 or 1 (or bool). Default: none.
            discrete_inputs: Address 0..65535 -> 0 or 1. Default: none.
            holding_registers: Address 0..65535 -> 0..65535. Default: none.
            input_registers: Address 0..65535 -> 0..65535. Default: none.
            exception_status: 0..255.
            slave_id: At most 251 bytes. Default: slave id 1, running.
            file_records: File 1..65535 -> (record 0..9999 -> 0..65535).
            fifo_queues: Pointer address 0..65535 -> values 0..65535 (more
                than 31 values are allowed: read, they give exception 3).
            device_identification: Object id 0..255 -> at most 244 bytes.

        Raises:
            TypeError, ValueError: A key or value of the wrong type or range.
        """
        self.coils = _checked_map(coils, "coils", 1)
        self.discrete_inputs = _checked_map(discrete_inputs, "discrete_inputs", 1)
        self.holding_registers = _checked_map(holding_registers, "holding_registers", _MAX_REGISTER_VALUE)
        self.input_registers = _checked_map(input_registers, "input_registers", _MAX_REGISTER_VALUE)
        _check_int(exception_status, "exception_status", 0, 0xFF)
        self.exception_status = exception_status
        self.slave_id = _checked_bytes(slave_id, "slave_id", _MAX_SLAVE_ID_BYTES)
        self.file_records = _checked_files(file_records)
        self.fifo_queues = _checked_queues(fifo_queues)
        self.device_identification = _checked_objects(device_identification)
        self.listen_only = False
        self.diagnostic_register = 0
        self.event_counter = 0
        self.comm_events: list[int] = []
        self.counters = dict.fromkeys(DiagnosticCounter, 0)

    def __repr__(self) -> str:
        """Return how many items each map holds."""
        return (
            f"minimalmodbus_simulator.SimulatedSlave<coils={len(self.coils)}, "
            f"discrete_inputs={len(self.discrete_inputs)}, "
            f"holding_registers={len(self.holding_registers)}, "
            f"input_registers={len(self.input_registers)}, files={len(self.file_records)}, "
            f"fifo_queues={len(self.fifo_queues)}, objects={len(self.device_identification)}>"
        )

    # -- What a bus calls -----------------------------------------------------

    def handle(self, pdu: bytes, broadcast: bool = False) -> bytes | None:
        """Act on a request addressed to this slave and return its response.

        Args:
            pdu: Function code and data of the request (no address, no checksum).
            broadcast: True for a request to slave address 0: only the write
                function codes act, and nothing answers.

        Returns:
            The response PDU (function code and data, or ``fc | 0x80`` and
            the exception code), or None when the slave does not answer: a
            broadcast, listen only mode, or diagnostics sub-function 4.

        Raises:
            ValueError: ``pdu`` is empty.
        """
        if not pdu:
            raise ValueError("Simulator: a request PDU has at least a function code")
        self._count(DiagnosticCounter.SLAVE_MESSAGE)
        silent = self.listen_only or broadcast
        self._log_event(_receive_event(self.listen_only, broadcast))
        response = self._respond(pdu) if self._acts_on(pdu, broadcast) else None
        if response is not None and not response[0] & _EXCEPTION_BIT and pdu[0] != _GET_COMM_EVENT_COUNTER:
            self.event_counter = (self.event_counter + 1) & 0xFFFF
        if silent or response is None:
            self._count(DiagnosticCounter.SLAVE_NO_RESPONSE)
            return None
        self._note_sent(response)
        return response

    def count_bus_frame(self, valid: bool) -> None:
        """Count a frame seen on the line, whatever its slave address.

        A :class:`SimulatedBus` calls this for every request, for each of
        its slaves, before any slave acts on it.

        Args:
            valid: False if the frame's checksum (or ASCII framing) is wrong.
        """
        self._count(DiagnosticCounter.BUS_MESSAGE if valid else DiagnosticCounter.BUS_COMMUNICATION_ERROR)

    # -- Dispatch ---------------------------------------------------------------

    def _acts_on(self, pdu: bytes, broadcast: bool) -> bool:
        """Whether to act: in listen only mode only on a restart, in a broadcast only on writes."""
        if self.listen_only:
            return pdu[0] == 8 and pdu[1:3] == _DIAGNOSTIC_RESTART.to_bytes(2, "big")
        if broadcast:
            info = _FUNCTION_CODES.get(pdu[0])
            return info is not None and info.broadcast
        return True

    def _respond(self, pdu: bytes) -> bytes | None:
        """The response PDU, an exception response, or None (no response)."""
        functioncode, data = pdu[0], pdu[1:]
        try:
            answer = self._run(functioncode, data)
        except _SlaveError as error:
            return bytes((functioncode | _EXCEPTION_BIT, error.exception_code))
        return None if answer is None else bytes((functioncode,)) + answer

    def _run(self, functioncode: int, data: bytes) -> bytes | None:
        """Check the function code and request length, then run the handler."""
        info = _FUNCTION_CODES.get(functioncode)
        if info is None:
            raise _SlaveError(ExceptionCode.ILLEGAL_FUNCTION)
        expected_length = _request_data_length(functioncode, data)
        if expected_length is not None and len(data) != expected_length:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        return info.handler(self, data)

    def _count(self, counter: DiagnosticCounter) -> None:
        """Add one to a 16-bit counter."""
        self.counters[counter] = (self.counters[counter] + 1) & 0xFFFF

    def _log_event(self, event: int) -> None:
        """Put an event first in the log, keeping the newest 64."""
        self.comm_events.insert(0, event)
        del self.comm_events[_MAX_COMM_EVENTS:]

    def _note_sent(self, response: bytes) -> None:
        """Log a send event; count an exception response."""
        if not response[0] & _EXCEPTION_BIT:
            self._log_event(_EVENT_SENT)
            return
        self._count(DiagnosticCounter.BUS_EXCEPTION_ERROR)
        self._log_event(_EVENT_SENT | _EVENT_SENT_READ_EXCEPTION)

    def _clear_counters(self) -> None:
        """Zero every counter and the event counter."""
        self.counters = dict.fromkeys(DiagnosticCounter, 0)
        self.event_counter = 0

    # -- Bits and registers (fc 1-6, 15, 16, 22, 23) ----------------------------

    def _read_coils(self, data: bytes) -> bytes:
        """Function code 1."""
        return _read_bits(self.coils, data)

    def _read_discrete_inputs(self, data: bytes) -> bytes:
        """Function code 2."""
        return _read_bits(self.discrete_inputs, data)

    def _read_holding_registers(self, data: bytes) -> bytes:
        """Function code 3."""
        return _read_registers(self.holding_registers, data)

    def _read_input_registers(self, data: bytes) -> bytes:
        """Function code 4."""
        return _read_registers(self.input_registers, data)

    def _write_single_coil(self, data: bytes) -> bytes:
        """Function code 5: address 2, 0xFF00 or 0x0000; echo."""
        coiladdress, value = _unpack_registers(data)
        if value not in (_COIL_ON, _COIL_OFF):
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        _check_addresses(self.coils, coiladdress, 1)
        self.coils[coiladdress] = int(value == _COIL_ON)
        return data

    def _write_single_register(self, data: bytes) -> bytes:
        """Function code 6: address 2, value 2; echo."""
        registeraddress, value = _unpack_registers(data)
        _check_addresses(self.holding_registers, registeraddress, 1)
        self.holding_registers[registeraddress] = value
        return data

    def _write_multiple_coils(self, data: bytes) -> bytes:
        """Function code 15: start 2, quantity 2, byte count 1, bits -> start, quantity."""
        start, quantity, byte_count = struct.unpack(">HHB", data[:5])
        _check_quantity(quantity, _MAX_BITS_WRITE)
        if byte_count != (quantity + 7) // 8:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        _check_addresses(self.coils, start, quantity)
        _store(self.coils, start, _unpack_bits(data[5:], quantity))
        return data[:4]

    def _write_multiple_registers(self, data: bytes) -> bytes:
        """Function code 16: start 2, quantity 2, byte count 1, registers -> start, quantity."""
        start, quantity, byte_count = struct.unpack(">HHB", data[:5])
        _check_quantity(quantity, _MAX_REGISTERS_WRITE)
        if byte_count != 2 * quantity:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        _check_addresses(self.holding_registers, start, quantity)
        _store(self.holding_registers, start, _unpack_registers(data[5:]))
        return data[:4]

    def _mask_write_register(self, data: bytes) -> bytes:
        """Function code 22: address 2, AND mask 2, OR mask 2; echo."""
        registeraddress, and_mask, or_mask = _unpack_registers(data)
        _check_addresses(self.holding_registers, registeraddress, 1)
        current = self.holding_registers[registeraddress]
        result = (current & and_mask) | (or_mask & ~and_mask & _MAX_REGISTER_VALUE)
        self.holding_registers[registeraddress] = result
        return data

    def _read_write_registers(self, data: bytes) -> bytes:
        """Function code 23: write first, then read; byte count 1, registers read."""
        read_start, read_quantity, write_start, write_quantity, byte_count = struct.unpack(">HHHHB", data[:9])
        _check_quantity(read_quantity, _MAX_REGISTERS_READ)
        _check_quantity(write_quantity, _MAX_REGISTERS_READ_WRITE)
        if byte_count != 2 * write_quantity:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        _check_addresses(self.holding_registers, write_start, write_quantity)
        _check_addresses(self.holding_registers, read_start, read_quantity)
        _store(self.holding_registers, write_start, _unpack_registers(data[9:]))
        registers = _pack_registers(_values(self.holding_registers, read_start, read_quantity))
        return bytes((len(registers),)) + registers

    # -- Serial line status (fc 7, 8, 11, 12, 17) --------------------------------

    def _read_exception_status(self, data: bytes) -> bytes:
        """Function code 7: one status byte."""
        return bytes((self.exception_status,))

    def _diagnostics(self, data: bytes) -> bytes | None:
        """Function code 8: sub-function 2, data 2 (2·n for sub-function 0)."""
        if len(data) < 2 or len(data) % 2:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        subfunction = int.from_bytes(data[:2], "big")
        if subfunction == _DIAGNOSTIC_RETURN_QUERY_DATA:
            return data
        if subfunction not in _DIAGNOSTIC_SUBFUNCTIONS:
            raise _SlaveError(ExceptionCode.ILLEGAL_FUNCTION)
        if len(data) != 4:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        result = self._diagnostic(subfunction, int.from_bytes(data[2:], "big"))
        return None if result is None else data[:2] + result.to_bytes(2, "big")

    def _diagnostic(self, subfunction: int, value: int) -> int | None:
        """Run a diagnostics sub-function other than 0; its data word, or None."""
        if subfunction == _DIAGNOSTIC_RESTART:
            return self._restart(value)
        if value != 0:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        if subfunction == _DIAGNOSTIC_LISTEN_ONLY:
            self.listen_only = True
            self._log_event(_EVENT_ENTERED_LISTEN_ONLY)
            return None
        if subfunction == _DIAGNOSTIC_REGISTER:
            return self.diagnostic_register
        if subfunction == _DIAGNOSTIC_CLEAR_COUNTERS:
            self._clear_counters()
            self.diagnostic_register = 0
            return value
        if subfunction == _DIAGNOSTIC_CLEAR_OVERRUN:
            self.counters[DiagnosticCounter.BUS_CHARACTER_OVERRUN] = 0
            return value
        return self.counters[DiagnosticCounter(subfunction)]

    def _restart(self, value: int) -> int:
        """Restart communications: leave listen only mode, clear counters (and the log)."""
        if value not in (0, _RESTART_CLEARS_LOG):
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        self.listen_only = False
        self._clear_counters()
        if value == _RESTART_CLEARS_LOG:
            self.comm_events.clear()
        self._log_event(_EVENT_RESTART)
        return value

    def _get_comm_event_counter(self, data: bytes) -> bytes:
        """Function code 11: status 2, event count 2."""
        return struct.pack(">HH", _STATUS_READY, self.event_counter)

    def _get_comm_event_log(self, data: bytes) -> bytes:
        """Function code 12: byte count, status, event count, message count, events."""
        message_count = self.counters[DiagnosticCounter.BUS_MESSAGE]
        body = struct.pack(">HHH", _STATUS_READY, self.event_counter, message_count) + bytes(self.comm_events)
        return bytes((len(body),)) + body

    def _report_slave_id(self, data: bytes) -> bytes:
        """Function code 17: byte count, slave id bytes."""
        return bytes((len(self.slave_id),)) + self.slave_id

    # -- Files, FIFO queues, identification (fc 20, 21, 24, 43) ------------------

    def _read_file_record(self, data: bytes) -> bytes:
        """Function code 20: sub-requests of 7 bytes -> per sub-request length, type 6, registers."""
        byte_count, sub_requests = data[0], data[1:]
        minimum, maximum = _FILE_READ_BYTE_COUNTS
        if not minimum <= byte_count <= maximum or byte_count % _FILE_SUB_REQUEST_BYTES:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        pieces = []
        for offset in range(0, byte_count, _FILE_SUB_REQUEST_BYTES):
            header = sub_requests[offset : offset + _FILE_SUB_REQUEST_BYTES]
            reference_type, file_number, record_number, record_length = struct.unpack(">BHHH", header)
            records = self._file(reference_type, file_number, record_number, record_length)
            registers = _pack_registers(_values(records, record_number, record_length))
            pieces.append(bytes((1 + len(registers), _FILE_REFERENCE_TYPE)) + registers)
        response = b"".join(pieces)
        if len(response) > maximum:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        return bytes((len(response),)) + response

    def _write_file_record(self, data: bytes) -> bytes:
        """Function code 21: sub-requests with their registers, all checked first; echo."""
        minimum, maximum = _FILE_WRITE_BYTE_COUNTS
        if not minimum <= data[0] <= maximum:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        for records, record_number, values in self._file_writes(data[1:]):
            _store(records, record_number, values)
        return data

    def _file_writes(self, sub_requests: bytes) -> list[tuple[dict[int, int], int, list[int]]]:
        """The checked writes of function code 21: (records, record number, values)."""
        writes = []
        position = 0
        while position < len(sub_requests):
            header = sub_requests[position : position + _FILE_SUB_REQUEST_BYTES]
            if len(header) < _FILE_SUB_REQUEST_BYTES:
                raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
            reference_type, file_number, record_number, record_length = struct.unpack(">BHHH", header)
            start = position + _FILE_SUB_REQUEST_BYTES
            position = start + 2 * record_length
            if position > len(sub_requests):
                raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
            records = self._file(reference_type, file_number, record_number, record_length)
            writes.append((records, record_number, _unpack_registers(sub_requests[start:position])))
        return writes

    def _file(
        self, reference_type: int, file_number: int, record_number: int, record_length: int
    ) -> dict[int, int]:
        """The records of a file, if the sub-request's whole range is there."""
        if record_length == 0:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        records = self.file_records.get(file_number)
        if reference_type != _FILE_REFERENCE_TYPE or records is None:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_ADDRESS)
        _check_addresses(records, record_number, record_length)
        return records

    def _read_fifo_queue(self, data: bytes) -> bytes:
        """Function code 24: pointer 2 -> byte count 2, FIFO count 2, registers."""
        (pointer_address,) = _unpack_registers(data)
        queue = self.fifo_queues.get(pointer_address)
        if queue is None:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_ADDRESS)
        if len(queue) > _MAX_FIFO_COUNT:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        return struct.pack(">HH", 2 + 2 * len(queue), len(queue)) + _pack_registers(queue)

    def _read_device_identification(self, data: bytes) -> bytes:
        """Function code 43, MEI type 14: MEI, read code, object id -> header and objects."""
        mei_type, read_code, object_id = data
        if mei_type != _MEI_DEVICE_IDENTIFICATION:
            raise _SlaveError(ExceptionCode.ILLEGAL_FUNCTION)
        if read_code == _DEVICE_ID_ONE_OBJECT:
            if object_id not in self.device_identification:
                raise _SlaveError(ExceptionCode.ILLEGAL_DATA_ADDRESS)
            object_ids, next_object_id = [object_id], None
        elif read_code in _DEVICE_ID_STREAM_ENDS:
            object_ids, next_object_id = self._object_stream(read_code, object_id)
        else:
            raise _SlaveError(ExceptionCode.ILLEGAL_DATA_VALUE)
        more_follows = 0 if next_object_id is None else _MORE_FOLLOWS
        header = bytes((mei_type, read_code, self._conformity_level(), more_follows))
        header += bytes((next_object_id or 0, len(object_ids)))
        objects = (self.device_identification[object_id] for object_id in object_ids)
        return header + b"".join(bytes((i, len(value))) + value for i, value in zip(object_ids, objects))

    def _object_stream(self, read_code: int, object_id: int) -> tuple[list[int], int | None]:
        """The object ids that fit in one response from ``object_id`` on, and the next id (None: all sent)."""
        available = sorted(i for i in self.device_identification if i < _DEVICE_ID_STREAM_ENDS[read_code])
        if object_id in available:
            available = available[available.index(object_id) :]
        room = _MAX_PDU_BYTES - _DEVICE_ID_HEADER_BYTES
        chosen: list[int] = []
        for candidate in available:
            size = 2 + len(self.device_identification[candidate])
            if chosen and size > room:
                return chosen, candidate
            chosen.append(candidate)
            room -= size
        return chosen, None

    def _conformity_level(self) -> int:
        """Basic, regular or extended identification, from the highest object id."""
        highest = max(self.device_identification, default=0)
        if highest >= _DEVICE_ID_STREAM_ENDS[2]:
            return _CONFORMITY_EXTENDED
        if highest >= _DEVICE_ID_STREAM_ENDS[1]:
            return _CONFORMITY_REGULAR
        return _CONFORMITY_BASIC


def _checked_files(files: Mapping[int, Mapping[int, int]] | None) -> dict[int, dict[int, int]]:
    """A checked copy of file number -> (record number -> value)."""
    checked = {}
    for file_number, records in (files or {}).items():
        _check_int(file_number, "a file number of file_records", 1, _MAX_ADDRESS)
        name = f"file_records[{file_number}]"
        checked[file_number] = _checked_map(records, name, _MAX_REGISTER_VALUE, _MAX_RECORD_NUMBER)
    return checked


def _checked_queues(queues: Mapping[int, Sequence[int]] | None) -> dict[int, list[int]]:
    """A checked copy of FIFO pointer address -> values."""
    checked = {}
    for pointer_address, values in (queues or {}).items():
        _check_int(pointer_address, "a pointer address of fifo_queues", 0, _MAX_ADDRESS)
        for value in values:
            _check_int(value, f"a value of fifo_queues[{pointer_address}]", 0, _MAX_REGISTER_VALUE)
        checked[pointer_address] = list(values)
    return checked


def _checked_objects(objects: Mapping[int, bytes] | None) -> dict[int, bytes]:
    """A checked copy of object id -> value, each small enough for one response."""
    checked = {}
    for object_id, value in (objects or {}).items():
        _check_int(object_id, "an object id of device_identification", 0, 0xFF)
        checked[object_id] = _checked_bytes(value, f"device_identification[{object_id}]", _MAX_OBJECT_BYTES)
    return checked


# ---------------------------------------------------------------------------
# Simulated slaves: the function code table
# ---------------------------------------------------------------------------


class _FunctionCode(NamedTuple):
    """What a simulated slave knows of one function code (Application Protocol §6).

    Request layout: ``request_length`` data bytes after the function code,
    then, if ``byte_count``, one byte telling how many more follow. None:
    the length varies (diagnostics sub-function 0 echoes any even number of
    bytes), so a reader must wait for the line to fall silent.
    """

    name: str
    handler: Callable[[SimulatedSlave, bytes], bytes | None]
    request_length: int | None
    byte_count: bool = False
    broadcast: bool = False  # a write that slave address 0 may carry


_FUNCTION_CODES: dict[int, _FunctionCode] = {
    1: _FunctionCode("Read Coils", SimulatedSlave._read_coils, 4),
    2: _FunctionCode("Read Discrete Inputs", SimulatedSlave._read_discrete_inputs, 4),
    3: _FunctionCode("Read Holding Registers", SimulatedSlave._read_holding_registers, 4),
    4: _FunctionCode("Read Input Registers", SimulatedSlave._read_input_registers, 4),
    5: _FunctionCode("Write Single Coil", SimulatedSlave._write_single_coil, 4, broadcast=True),
    6: _FunctionCode("Write Single Register", SimulatedSlave._write_single_register, 4, broadcast=True),
    7: _FunctionCode("Read Exception Status", SimulatedSlave._read_exception_status, 0),
    8: _FunctionCode("Diagnostics", SimulatedSlave._diagnostics, None),
    11: _FunctionCode("Get Comm Event Counter", SimulatedSlave._get_comm_event_counter, 0),
    12: _FunctionCode("Get Comm Event Log", SimulatedSlave._get_comm_event_log, 0),
    15: _FunctionCode("Write Multiple Coils", SimulatedSlave._write_multiple_coils, 4, True, True),
    16: _FunctionCode("Write Multiple Registers", SimulatedSlave._write_multiple_registers, 4, True, True),
    17: _FunctionCode("Report Slave ID", SimulatedSlave._report_slave_id, 0),
    20: _FunctionCode("Read File Record", SimulatedSlave._read_file_record, 0, True),
    21: _FunctionCode("Write File Record", SimulatedSlave._write_file_record, 0, True, True),
    22: _FunctionCode("Mask Write Register", SimulatedSlave._mask_write_register, 6, broadcast=True),
    23: _FunctionCode("Read/Write Multiple Registers", SimulatedSlave._read_write_registers, 8, True),
    24: _FunctionCode("Read FIFO Queue", SimulatedSlave._read_fifo_queue, 2),
    # Only MEI type 14 (3 bytes); another MEI type is answered with exception 1.
    43: _FunctionCode("Read Device Identification", SimulatedSlave._read_device_identification, 3),
}

# Diagnostics sub-functions other than 0 that a simulated slave supports.
_DIAGNOSTIC_SUBFUNCTIONS = frozenset(
    {_DIAGNOSTIC_RESTART, _DIAGNOSTIC_REGISTER, _DIAGNOSTIC_LISTEN_ONLY, _DIAGNOSTIC_CLEAR_COUNTERS}
    | {_DIAGNOSTIC_CLEAR_OVERRUN}
    | set(DiagnosticCounter)
)


def _request_data_length(functioncode: int, data: bytes) -> int | None:
    """The data bytes of a request (after the function code), from its first data bytes.

    None: an unknown function code, or one of varying length. For a layout
    with a byte count that has not arrived yet, the length up to and
    including the byte count: call again once that much is there.
    """
    info = _FUNCTION_CODES.get(functioncode)
    if info is None or info.request_length is None:
        return None
    if not info.byte_count:
        return info.request_length
    if len(data) <= info.request_length:
        return info.request_length + 1
    return info.request_length + 1 + data[info.request_length]


def rtu_request_length(received: bytes) -> int | None:
    """The length of the RTU request frame that starts ``received``, as far as its bytes tell.

    Args:
        received: The first bytes of a request frame (any number).

    Returns:
        None for a function code of unknown or varying length (the frame
        ends when the line falls silent). Otherwise a length: the whole
        frame's once ``received`` holds that many bytes; before that,
        possibly only how many bytes are needed to learn more (call again).
    """
    if len(received) < 2:
        return 2
    data_length = _request_data_length(received[1], received[2:])
    return None if data_length is None else 2 + data_length + 2


# ---------------------------------------------------------------------------
# Simulated slaves: the bus and its faults
# ---------------------------------------------------------------------------


class Fault(enum.Enum):
    """Something that goes wrong with one answer on a :class:`SimulatedBus`.

    ``NO_ANSWER``: the answer is lost (the slave has still acted on the
    request). ``BAD_CHECKSUM``: the answer's CRC or LRC is wrong.
    ``DELAY``: the answer starts ``bus.delay_seconds`` late.
    ``SPLIT``: the answer arrives in pieces of ``bus.split_bytes`` bytes,
    ``bus.split_gap_seconds`` apart. ``NOISE``: ``bus.noise_bytes`` arrive
    just before the answer. ``LOCAL_ECHO``: the request comes back first, at
    once, as from an RS-485 adapter that hears itself (also when nothing
    answers). ``WRONG_ADDRESS``: the answer carries the next slave address
    (255 is followed by 1), with a valid checksum.
    """

    NO_ANSWER = "no answer"
    BAD_CHECKSUM = "bad checksum"
    DELAY = "delay"
    SPLIT = "split"
    NOISE = "noise"
    LOCAL_ECHO = "local echo"
    WRONG_ADDRESS = "wrong address"


class SimulatedBus:
    """Simulated slaves on one serial line: a responder for ``dummy_serial.Serial`` and :class:`PtyServer`.

    Called with a request frame, it answers as the slaves on a real line
    would: a frame with a bad checksum (or bad ASCII framing) is ignored; a
    broadcast (slave address 0) goes to every slave, which acts on writes
    and does not answer; a request for a slave address no slave has is
    ignored; otherwise the addressed slave's response is framed in the
    bus's mode. Then the faults of the request change the answer.

    Faults, per request or by chance::

        bus.inject(Fault.NO_ANSWER)              # the next request only
        bus.inject(Fault.SPLIT, count=3)         # each of the next three
        bus.fault_probability = {Fault.BAD_CHECKSUM: 0.1, Fault.DELAY: 0.05}

    Each request written to the bus (valid, ignored or not) takes the faults
    injected for it, plus each fault of ``fault_probability`` that
    ``random`` draws: one ``random.random()`` per fault with a probability
    above 0, in the order of :class:`Fault`. So a seeded bus fails the same
    way every run. What a fault does is described in :class:`Fault`; its
    size is set by the attributes below.

    One lock guards the bus, so a :class:`PtyServer` thread and a test may
    share it.

    Attributes:
        slaves: Slave address 1..255 -> :class:`SimulatedSlave`; add or
            remove slaves at any time.
        random: The ``random.Random`` that draws the faults.
        delay_seconds: How late ``Fault.DELAY`` makes the answer (0.1 s,
            twice MinimalModbus's default timeout).
        split_bytes: The bytes in each piece of ``Fault.SPLIT`` (3).
        split_gap_seconds: The time between pieces of ``Fault.SPLIT`` (2 ms).
        noise_bytes: What ``Fault.NOISE`` puts before the answer (00 FF).
        requests: Every request frame written to the bus, in order (valid,
            ignored or not), so a test can check what a master sent, also
            through a :class:`PtyServer`.
    """

    def __init__(
        self,
        slaves: Mapping[int, SimulatedSlave] | None = None,
        mode: str = MODE_RTU,
        *,
        seed: int | None = None,
    ) -> None:
        """Put the slaves on the line.

        Args:
            slaves: Slave address 1..255 -> slave. Default: no slave.
            mode: :data:`MODE_RTU` or :data:`MODE_ASCII`.
            seed: The seed of ``random``, for repeatable faults; None: random.

        Raises:
            TypeError, ValueError: A bad slave address, slave or mode.
        """
        self.slaves: dict[int, SimulatedSlave] = {}
        for slaveaddress, slave in (slaves or {}).items():
            _check_int(slaveaddress, "slaveaddress", 1, _MAX_SLAVE_ADDRESS)
            if not isinstance(slave, SimulatedSlave):
                raise TypeError(f"Simulator: slave {slaveaddress} must be a SimulatedSlave, not {slave!r}")
            self.slaves[slaveaddress] = slave
        self.mode = mode
        self.random = random.Random(seed)
        self.delay_seconds = 0.1
        self.split_bytes = 3
        self.split_gap_seconds = 0.002
        self.noise_bytes = b"\x00\xff"
        self.requests: list[bytes] = []
        self._fault_probability: dict[Fault, float] = {}
        self._injected: list[set[Fault]] = []  # per coming request, in order
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        """Return the mode and the slave addresses."""
        return f"minimalmodbus_simulator.SimulatedBus<mode={self.mode!r}, slaves={sorted(self.slaves)}>"

    @property
    def mode(self) -> str:
        """The framing, :data:`MODE_RTU` or :data:`MODE_ASCII` (checked when set)."""
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in (MODE_RTU, MODE_ASCII):
            raise ValueError(f"Simulator: mode must be {MODE_RTU!r} or {MODE_ASCII!r}, not {mode!r}")
        self._mode = mode

    @property
    def fault_probability(self) -> Mapping[Fault, float]:
        """The chance 0..1 that each Fault hits each request (read only; assign a new dict to change it).

        Raises:
            TypeError, ValueError: (when set) a key that is not a
                :class:`Fault`, or a probability outside 0..1.
        """
        return types.MappingProxyType(self._fault_probability)

    @fault_probability.setter
    def fault_probability(self, probabilities: Mapping[Fault, float]) -> None:
        for fault, probability in probabilities.items():
            if not isinstance(fault, Fault):
                raise TypeError(f"Simulator: a fault must be a minimalmodbus_simulator.Fault, not {fault!r}")
            if not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
                raise ValueError(f"Simulator: the probability of {fault} must be 0..1, not {probability!r}")
        with self._lock:
            self._fault_probability = dict(probabilities)

    def inject(self, fault: Fault, count: int = 1) -> None:
        """Put a fault on each of the next ``count`` requests.

        Faults injected for the same request add up: inject
        ``Fault.NOISE`` and ``Fault.SPLIT`` for noisy pieces.

        Args:
            fault: What goes wrong.
            count: How many of the coming requests it hits, 1 or more.

        Raises:
            TypeError, ValueError: ``fault`` is not a :class:`Fault`, or a bad ``count``.
        """
        if not isinstance(fault, Fault):
            raise TypeError(f"Simulator: fault must be a minimalmodbus_simulator.Fault, not {fault!r}")
        _check_int(count, "count", 1, sys.maxsize)
        with self._lock:
            while len(self._injected) < count:
                self._injected.append(set())
            for faults in self._injected[:count]:
                faults.add(fault)

    def clear_faults(self) -> None:
        """Forget the injected faults and the fault probabilities."""
        with self._lock:
            self._injected.clear()
            self._fault_probability = {}

    def __call__(self, request: bytes) -> list[Chunk]:
        """Answer a request frame written to the line.

        Args:
            request: The frame, in the bus's mode.

        Returns:
            ``(delay_seconds, bytes)`` chunks, as a ``dummy_serial.Responder`` returns:
            the answer at once, or nothing; faults change that.
        """
        with self._lock:
            self.requests.append(request)
            faults = self._faults_for_next_request()
            answer = self._answer(request)
            return self._deliver(request, answer, faults)

    def answer_mbap(self, adu: bytes) -> bytes | None:
        """The answer to one Modbus TCP request (MBAP header, PDU), or None (see NetworkServer)."""
        return _answer_adu(self, adu)

    def _faults_for_next_request(self) -> set[Fault]:
        """The injected faults of this request, plus those drawn by chance."""
        faults = self._injected.pop(0) if self._injected else set()
        if not self._fault_probability:
            return faults
        for fault in Fault:
            probability = self._fault_probability.get(fault, 0.0)
            if probability > 0 and self.random.random() < probability:
                faults.add(fault)
        return faults

    def _answer(self, request: bytes) -> tuple[int, bytes] | None:
        """The slave address and response PDU of the slave that answers, or None."""
        frame = unwrap_frame(self.mode, request)
        for slave in self.slaves.values():
            slave.count_bus_frame(frame is not None)
        if frame is None:
            return None
        slaveaddress, pdu = frame[0], frame[1:]
        if slaveaddress == _BROADCAST_ADDRESS:
            for slave in self.slaves.values():
                slave.handle(pdu, broadcast=True)
            return None
        addressed = self.slaves.get(slaveaddress)
        response = None if addressed is None else addressed.handle(pdu)
        return None if response is None else (slaveaddress, response)

    def _deliver(self, request: bytes, answer: tuple[int, bytes] | None, faults: set[Fault]) -> list[Chunk]:
        """The chunks that reach the master: the answer framed, with the faults applied."""
        chunks: list[Chunk] = [(0.0, request)] if Fault.LOCAL_ECHO in faults else []
        if answer is None or Fault.NO_ANSWER in faults:
            return chunks
        slaveaddress, pdu = answer
        if Fault.WRONG_ADDRESS in faults:
            slaveaddress = slaveaddress % _MAX_SLAVE_ADDRESS + 1
        frame = build_frame(self.mode, slaveaddress, pdu)
        if Fault.BAD_CHECKSUM in faults:
            frame = _corrupt_checksum(self.mode, frame)
        if Fault.NOISE in faults:
            frame = self.noise_bytes + frame
        start = self.delay_seconds if Fault.DELAY in faults else 0.0
        if Fault.SPLIT not in faults:
            return [*chunks, (start, frame)]
        size = max(1, self.split_bytes)
        pieces = [frame[index : index + size] for index in range(0, len(frame), size)]
        gap = self.split_gap_seconds
        return chunks + [(start + number * gap, piece) for number, piece in enumerate(pieces)]


# ---------------------------------------------------------------------------
# Simulated slaves on a pseudo-terminal
# ---------------------------------------------------------------------------


class _Stopped(Exception):
    """Raised in the serving thread when :meth:`PtyServer.stop` is called."""


class PtyServer:
    """Serve a :class:`SimulatedBus` on a pseudo-terminal (POSIX only).

    :meth:`start` creates a pseudo-terminal pair in raw mode and serves it
    from a daemon thread; a master opens :attr:`path` like a serial port::

        with minimalmodbus_simulator.PtyServer(bus) as server:
            instrument = minimalmodbus.Instrument(server.path, 1)
            print(instrument.read_register(0))

    The thread reads each request frame as it arrives: in RTU, as long as
    its function code says (or, for an unknown function code or
    diagnostics, until the line is silent for 3.5 character times at
    ``baudrate``, at least 1.75 ms); in ASCII, from ``:`` to CR LF. It hands
    the frame to the bus and writes the chunks of the answer, sleeping for
    real until each is due, so the bus's faults act here as on a
    ``dummy_serial.Serial``. A partial frame is dropped after 1 s without bytes.

    Real time: the server uses ``time.monotonic`` and real waits, never the
    replaceable ``dummy_serial._now`` and ``_sleep``.

    Attributes:
        bus: The slaves served (may be changed while serving).
        baudrate: The baud rate that sets the RTU inter-frame silence.
        silence: That silence, in seconds.
        error: The ``OSError`` that ended the serving thread, or None.
    """

    def __init__(self, bus: SimulatedBus, baudrate: int = 19200) -> None:
        """Prepare a server; nothing is opened until :meth:`start`.

        Args:
            bus: The slaves to serve.
            baudrate: Baud rate, 1 or more (a pty has none; this only sets
                the silence that ends an RTU frame of unknown length).

        Raises:
            TypeError, ValueError: A bad ``bus`` or ``baudrate``.
        """
        if not isinstance(bus, SimulatedBus):
            raise TypeError(f"Simulator: bus must be a SimulatedBus, not {bus!r}")
        _check_int(baudrate, "baudrate", 1, sys.maxsize)
        self.bus = bus
        self.baudrate = baudrate
        self.silence = max(_SILENT_CHARACTERS * _BITS_PER_CHARACTER / baudrate, _MIN_SILENCE)
        self.error: OSError | None = None
        self._path: str | None = None
        self._fds: list[int] = []  # pty master, pty slave, wake-up pipe read end, write end
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._pending = b""  # bytes received after the last frame

    def __repr__(self) -> str:
        """Return the path and whether the server is running."""
        return f"minimalmodbus_simulator.PtyServer<path={self._path!r}, running={self.is_running}>"

    # typing.Self is 3.11+ and typing_extensions is not in the standard library.
    def __enter__(self) -> PtyServer:  # noqa: PYI034
        """Start serving."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop serving and close the pseudo-terminal."""
        self.stop()

    @property
    def path(self) -> str:
        """The device a master opens, e.g. ``/dev/pts/5``.

        Raises:
            RuntimeError: The server is not started.
        """
        if self._path is None:
            raise RuntimeError("Simulator: the PtyServer is not started, so it has no path")
        return self._path

    @property
    def is_running(self) -> bool:
        """True while the serving thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Create the pseudo-terminal pair (raw mode) and start the serving thread.

        Raises:
            RuntimeError: The server is already started.
            OSError: No pseudo-terminal could be created (or the system has none).
        """
        if self._thread is not None:
            raise RuntimeError("Simulator: the PtyServer is already started")
        if not hasattr(os, "openpty"):
            raise OSError("Simulator: this system has no pseudo-terminals (POSIX only)")
        try:
            self._path = self._open_pty()
        except BaseException:
            self._close_fds()
            raise
        self._pending = b""
        self.error = None
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._serve, name="minimalmodbus_simulator.PtyServer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the serving thread, wait for it, and close every file descriptor.

        Doing nothing if the server is not started. A delayed answer still
        waiting is not sent.
        """
        if self._thread is None:
            return
        self._stopping.set()
        os.write(self._fds[3], b"\x00")
        self._thread.join()
        self._thread = None
        self._close_fds()

    def _open_pty(self) -> str:
        """Open the pty pair in raw mode and the wake-up pipe; return the pty's path."""
        import tty  # POSIX only: imported here, so this module imports everywhere

        master_fd, slave_fd = os.openpty()
        self._fds = [master_fd, slave_fd]
        self._fds.extend(os.pipe())
        for fd in (master_fd, slave_fd):
            tty.setraw(fd)
        os.set_blocking(master_fd, False)
        return os.ttyname(slave_fd)

    def _close_fds(self) -> None:
        """Close every file descriptor the server opened; forget the path."""
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        self._path = None

    # -- The serving thread -----------------------------------------------------

    def _serve(self) -> None:
        """Read a request, answer it, again, until stopped."""
        try:
            while True:
                if self.bus.mode == MODE_RTU:
                    request = self._read_rtu_request()
                else:
                    request = self._read_ascii_request()
                self._send(self.bus(request))
        except _Stopped:
            pass
        except OSError as error:
            self.error = error

    def _read_rtu_request(self) -> bytes:
        """Read one RTU frame: its known length, or until the line is silent."""
        received, self._pending = self._pending, b""
        while True:
            length = rtu_request_length(received)
            if length is not None and len(received) >= length:
                self._pending = received[length:]
                return received[:length]
            if length is None and len(received) >= _MAX_RTU_FRAME_BYTES:
                return received
            if not received:
                timeout = None
            else:
                timeout = self.silence if length is None else _PARTIAL_FRAME_TIMEOUT
            more = self._receive(timeout)
            if not more:
                return received  # silent: the frame ends (a partial one fails its CRC)
            received += more

    def _read_ascii_request(self) -> bytes:
        """Read one ASCII frame, from its last ``:`` to CR LF; skip anything else."""
        received, self._pending = self._pending, b""
        while True:
            end = received.find(_ASCII_END)
            if end >= 0:
                start = received.rfind(_ASCII_START, 0, end)
                frame_end = end + len(_ASCII_END)
                if start >= 0:
                    self._pending = received[frame_end:]
                    return received[start:frame_end]
                received = received[frame_end:]  # a line without ':' is noise
                continue
            if len(received) > _MAX_ASCII_FRAME_BYTES:
                received = received[received.rfind(_ASCII_START) :] if _ASCII_START in received else b""
            more = self._receive(_PARTIAL_FRAME_TIMEOUT if received else None)
            received = received + more if more else b""  # silent too long: drop the partial frame

    def _receive(self, timeout: float | None) -> bytes:
        """The bytes that arrive within ``timeout`` seconds (None: wait), b"" if none.

        Raises:
            _Stopped: :meth:`stop` was called.
        """
        master_fd, wake_fd = self._fds[0], self._fds[2]
        readable, _, _ = select.select([master_fd, wake_fd], [], [], timeout)
        if wake_fd in readable or self._stopping.is_set():
            raise _Stopped
        if not readable:
            return b""
        try:
            return os.read(master_fd, _MAX_ASCII_FRAME_BYTES)
        except BlockingIOError:
            return b""

    def _send(self, chunks: Iterable[Chunk]) -> None:
        """Write each chunk when it is due, counted from now."""
        start = time.monotonic()
        for delay, data in sorted(chunks, key=lambda chunk: chunk[0]):
            if self._stopping.wait(max(0.0, start + delay - time.monotonic())):
                raise _Stopped
            self._write_all(data)

    def _write_all(self, data: bytes) -> None:
        """Write all of ``data`` to the pty, waiting while its buffer is full."""
        master_fd, wake_fd = self._fds[0], self._fds[2]
        while data:
            readable, _, _ = select.select([wake_fd], [master_fd], [], None)
            if readable:
                raise _Stopped
            data = data[os.write(master_fd, data) :]


# ---------------------------------------------------------------------------
# Modbus TCP and UDP server (Messaging on TCP/IP Implementation Guide §3.1.3)
# ---------------------------------------------------------------------------

_MBAP_HEADER = struct.Struct(">HHHB")  # transaction id, protocol id 0, length, unit id


def _answer_adu(bus: SimulatedBus, adu: bytes) -> bytes | None:
    """The answer to one MBAP request: the addressed slave's, in an MBAP header.

    Unit 0 is a broadcast (every slave acts, none answers); a unit nobody
    has, or a malformed header, gets no answer.
    """
    if len(adu) < _MBAP_HEADER.size + 1:
        return None
    transaction_id, protocol_id, length, unit_id = _MBAP_HEADER.unpack_from(adu)
    if protocol_id != 0 or length != len(adu) - 6:
        return None
    pdu = adu[_MBAP_HEADER.size :]
    if unit_id == 0:
        for each in bus.slaves.values():
            each.handle(pdu, broadcast=True)
        return None
    addressed = bus.slaves.get(unit_id)
    response = addressed.handle(pdu) if addressed is not None else None
    if response is None:
        return None
    return _MBAP_HEADER.pack(transaction_id, 0, len(response) + 1, unit_id) + response


class NetworkServer:
    """Serve a :class:`SimulatedBus` as a Modbus TCP (or UDP) server, on the loopback address.

    Each request is answered by the slave whose address is the request's
    unit id (``bus.slaves``); the bus's mode and faults do not apply here.
    Binds to ``host``, 127.0.0.1 unless another address is given on
    purpose; port 0 picks a free port (see :attr:`address`)::

        with minimalmodbus_simulator.NetworkServer(bus) as server:
            instrument = minimalmodbus.Instrument(server.url, 1)

    Attributes:
        bus: The slaves served (may be changed while serving).
        requests: Every request received, in order.
    """

    def __init__(
        self,
        bus: SimulatedBus,
        host: str = "127.0.0.1",
        port: int = 0,
        datagrams: bool = False,
        rtu_frames: bool = False,
    ):
        if not isinstance(bus, SimulatedBus):
            raise TypeError(f"Simulator: bus must be a SimulatedBus, not {bus!r}")
        _check_int(port, "port", 0, 65535)
        if rtu_frames and (datagrams or bus.mode != MODE_RTU):
            raise ValueError("Simulator: RTU frames are served over TCP, from a bus in RTU mode")
        self.bus = bus
        self.requests: list[bytes] = []
        self.datagrams = datagrams
        self.rtu_frames = rtu_frames
        self._server = (_UdpServer if datagrams else _TcpServer)((host, port), self)
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        """Return the URL and whether the server is running."""
        return f"minimalmodbus_simulator.NetworkServer<{self.url}, running={self.is_running}>"

    def __enter__(self) -> NetworkServer:  # noqa: PYI034 (typing.Self is 3.11+)
        """Start serving."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop serving."""
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        """The host and port served."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def framing(self) -> str:
        """What the server speaks: ``Modbus TCP``, ``Modbus UDP`` or ``RTU over TCP``."""
        return "RTU over TCP" if self.rtu_frames else "Modbus UDP" if self.datagrams else "Modbus TCP"

    @property
    def url(self) -> str:
        """The port name a master opens: ``tcp://127.0.0.1:1502``, ``udp://...``, ``socket://...`` (RTU)."""
        host, port = self.address
        scheme = "socket" if self.rtu_frames else "udp" if self.datagrams else "tcp"
        return f"{scheme}://{host}:{port}"

    @property
    def is_running(self) -> bool:
        """Whether the serving thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Serve from a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="Simulator network", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close every connection and the listening socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.close_connections()

    def answer(self, adu: bytes) -> bytes | None:
        """Record a request and compute its answer (called by the connection handlers)."""
        self.requests.append(adu)
        return self.bus.answer_mbap(adu)


class _TcpHandler(socketserver.BaseRequestHandler):
    """One TCP connection: read MBAP requests one after another, answer each."""

    server: _TcpServer

    def handle(self) -> None:
        connection: socket.socket = self.request
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.connections.add(connection)
        try:
            if self.server.simulator.rtu_frames:
                self._serve_rtu_frames(connection)
                return
            while True:
                header = _receive_exactly(connection, _MBAP_HEADER.size - 1)
                if header is None:
                    return
                length = int.from_bytes(header[4:6], "big")
                body = _receive_exactly(connection, length) if 1 <= length <= 254 else None
                if body is None:
                    return  # out of step, or closed: drop the connection
                answer = self.server.simulator.answer(header + body)
                if answer is not None:
                    connection.sendall(answer)
        except OSError:
            return
        finally:
            self.server.connections.discard(connection)

    def _serve_rtu_frames(self, connection: socket.socket) -> None:
        """RTU frames over TCP (pyserial's ``socket://``): each request to the bus, its answer in time."""
        simulator = self.server.simulator
        received = b""
        while True:
            length = rtu_request_length(received)
            while (length is not None and len(received) < length) or not received:
                more = connection.recv(_MAX_RTU_FRAME_BYTES)
                if not more:
                    return
                received += more
                length = rtu_request_length(received)
            cut = len(received) if length is None else length  # unknown layout: what came in one piece
            frame, received = received[:cut], received[cut:]
            simulator.requests.append(frame)
            start = time.monotonic()
            for delay, data in simulator.bus(frame):
                time.sleep(max(0.0, start + delay - time.monotonic()))
                connection.sendall(data)


def _receive_exactly(connection: socket.socket, size: int) -> bytes | None:
    """``size`` bytes from a stream, or None when it ends first."""
    data = b""
    while len(data) < size:
        more = connection.recv(size - len(data))
        if not more:
            return None
        data += more
    return data


class _TcpServer(socketserver.ThreadingTCPServer):
    """The listening socket; knows its simulator and its open connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: NetworkServer) -> None:
        self.simulator = simulator
        self.connections: set[socket.socket] = set()
        super().__init__(address, _TcpHandler)

    def close_connections(self) -> None:
        """Close the listening socket and every connection."""
        self.server_close()
        for connection in list(self.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


class _UdpHandler(socketserver.BaseRequestHandler):
    """One datagram: one MBAP request, answered with one datagram."""

    server: _UdpServer

    def handle(self) -> None:
        adu, sock = self.request
        answer = self.server.simulator.answer(adu)
        if answer is not None:
            sock.sendto(answer, self.client_address)


class _UdpServer(socketserver.UDPServer):
    """The UDP socket; knows its simulator."""

    def __init__(self, address: tuple[str, int], simulator: NetworkServer) -> None:
        self.simulator = simulator
        super().__init__(address, _UdpHandler)

    def close_connections(self) -> None:
        """Close the socket."""
        self.server_close()


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def demo_slave() -> SimulatedSlave:
    """A slave with a small map for demonstrations (the command line's slaves).

    Holding registers 0..99 hold 10 x the address (register 7 holds 70);
    input registers 0..99 hold the address; coils 0..99 and discrete
    inputs 0..99: odd addresses on, even ones off. Exception status 0x55.
    Slave id: 1, running, "dummy_serial". File 1: records 0..99, all 0.
    FIFO queue at pointer address 0: 1, 2, 3. Identification: vendor
    "MinimalModbus", product code "dummy_serial", revision "1.0",
    product name "Simulated slave".
    """
    return SimulatedSlave(
        coils={address: address % 2 for address in range(100)},
        discrete_inputs={address: address % 2 for address in range(100)},
        holding_registers={address: 10 * address for address in range(100)},
        input_registers={address: address for address in range(100)},
        exception_status=0x55,
        slave_id=b"\x01\xffdummy_serial",
        file_records={1: block(100)},
        fifo_queues={0: [1, 2, 3]},
        device_identification={0: b"MinimalModbus", 1: b"dummy_serial", 2: b"1.0", 4: b"Simulated slave"},
    )


def _demo_map_description() -> str:
    """The map of :func:`demo_slave`, from its docstring, on one line (for --help)."""
    paragraphs = (demo_slave.__doc__ or "").split("\n\n")
    if len(paragraphs) < 2:  # docstrings stripped (python -OO)
        return "see minimalmodbus_simulator.demo_slave."
    return " ".join(paragraphs[1].split())


def _slaveaddress_argument(text: str) -> int:
    """A slave address 1..255 from the command line."""
    try:
        slaveaddress = int(text)
    except ValueError:
        slaveaddress = -1
    if not 1 <= slaveaddress <= _MAX_SLAVE_ADDRESS:
        raise argparse.ArgumentTypeError(f"a slave address is 1..{_MAX_SLAVE_ADDRESS}, not {text!r}")
    return slaveaddress


def _baudrate_argument(text: str) -> int:
    """A baud rate, 1 or more, from the command line."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a baud rate is a whole number above 0, not {text!r}")
    return int(text)


def _parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line's options (exits with a message if they are wrong)."""
    parser = argparse.ArgumentParser(
        prog="python -m minimalmodbus_simulator",
        description=(
            "Serve simulated Modbus slaves on a new pseudo-terminal, which a master opens "
            "like a serial port, or (--tcp, --udp) as a Modbus TCP or UDP server. Prints "
            "what to open, then serves until Ctrl-C. Without --tcp or --udp it opens no "
            "network socket."
        ),
        epilog="Each slave's map: " + _demo_map_description(),
    )
    parser.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal")
    parser.add_argument(
        "--tcp", type=host_and_port, metavar="HOST:PORT", help="serve Modbus TCP, e.g. 127.0.0.1:1502"
    )
    parser.add_argument("--udp", type=host_and_port, metavar="HOST:PORT", help="serve Modbus UDP")
    parser.add_argument(
        "--slave",
        type=_slaveaddress_argument,
        action="append",
        metavar="ADDRESS",
        help="a slave address 1..255 to simulate; repeat for more slaves (default: 1)",
    )
    parser.add_argument(
        "--mode", choices=(MODE_RTU, MODE_ASCII), default=MODE_RTU, help="framing (default: rtu)"
    )
    parser.add_argument(
        "--baudrate",
        type=_baudrate_argument,
        default=19200,
        help="sets the silence that ends an RTU frame of unknown length (default: 19200)",
    )
    arguments = parser.parse_args(argv)
    if sum(map(bool, (arguments.pty, arguments.tcp, arguments.udp))) != 1:
        parser.error("give one of --pty, --tcp HOST:PORT or --udp HOST:PORT: where to serve")
    return arguments


def host_and_port(text: str) -> tuple[str, int]:
    """HOST:PORT from a command line (a port 0..65535; 0 picks a free one); ArgumentTypeError if not."""
    host, _, number = text.rpartition(":")
    if not host or not number.isdigit() or int(number) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT such as 127.0.0.1:1502, not {text!r}")
    return host.strip("[]"), int(number)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve demonstration slaves on a pseudo-terminal until Ctrl-C (``python -m minimalmodbus_simulator``).

    Args:
        argv: The arguments, without the program name; None: ``sys.argv[1:]``.

    Returns:
        The exit status: 0, or 2 when it cannot serve where asked (an address in use).
    """
    arguments = _parse_arguments(argv)
    slaveaddresses = sorted(set(arguments.slave or [1]))
    bus = SimulatedBus({slaveaddress: demo_slave() for slaveaddress in slaveaddresses}, arguments.mode)
    try:
        return serve(bus, baudrate=arguments.baudrate, tcp=arguments.tcp, udp=arguments.udp)
    except OSError as error:
        address = arguments.tcp or arguments.udp
        where = f"{address[0]}:{address[1]}" if address else "a pseudo-terminal"
        print(f"minimalmodbus_simulator: cannot serve on {where}: {error.strerror or error}", file=sys.stderr)
        return 2


def serve(
    bus: SimulatedBus,
    *,
    baudrate: int = 19200,
    tcp: tuple[str, int] | None = None,
    udp: tuple[str, int] | None = None,
    rtu_frames: bool = False,
    title: str | None = None,
) -> int:
    """Serve a bus on a new pseudo-terminal (or as a Modbus TCP or UDP server) until Ctrl-C.

    Prints one line naming the slaves (or ``title``) and what to open, then serves.

    Args:
        bus: The slaves to serve.
        baudrate: Sets the RTU silence of the pseudo-terminal server.
        tcp: (host, port) to serve Modbus TCP instead.
        udp: (host, port) to serve Modbus UDP instead.
        rtu_frames: With ``tcp``: RTU frames over TCP (see :class:`NetworkServer`).
        title: What the line calls the bus (default: its slave addresses).

    Returns:
        The exit status, 0.
    """
    server: PtyServer | NetworkServer
    if tcp is None and udp is None:
        server = PtyServer(bus, baudrate=baudrate)
    else:
        host, port = tcp or udp or ("", 0)
        server = NetworkServer(bus, host, port, datagrams=udp is not None, rtu_frames=rtu_frames)
    # Ctrl-C must stop us even if the shell started us with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        server.start()
        names = ", ".join(str(slaveaddress) for slaveaddress in sorted(bus.slaves))
        # The name to open, then its framing in parentheses: a full stop would stick to a URL copied.
        where = (
            f"{server.path} ({bus.mode})"
            if isinstance(server, PtyServer)
            else f"{server.url} ({server.framing})"
        )
        print(f"{title or 'Simulated slave(s) ' + names} on {where}. Press Ctrl-C to stop.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
