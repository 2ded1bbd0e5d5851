"""A tiny Modbus RTU slave on a pseudo-terminal, for tests against a real tty.

The test opens ``slave.port`` (e.g. ``/dev/pts/7``) with pyserial, as it
would a USB adapter; this slave sits on the other side of the pty and
answers function codes 3 (read holding registers), 6 (write single
register) and 16 (write multiple registers) for the slave addresses it was
given. A request for a register it does not have gets exception code 2; a
request for another slave address gets nothing (as on a bus), and bytes
that do not make a request it knows are skipped.

Each answer can be spoiled by a planned :class:`Fault` (no answer, a late
answer, noise first, the answer in pieces with gaps). It stands on its own:
the tests' own CRC (frames.py), nothing imported from ``minimalmodbus`` or
``dummy_serial``.
Use it as a context manager, which starts the serving thread and, at the
end, stops it, joins it and closes both ends of the pty::

    with PtySlave({1: {0: 5, 1: 6}}) as slave:
        instrument = minimalmodbus.Instrument(slave.port, 1)
        assert instrument.read_register(1) == 6
"""

from __future__ import annotations

import collections
import os
import pty
import select
import struct
import threading
import tty
from dataclasses import dataclass
from typing import TYPE_CHECKING

from frames import crc_bytes as crc16

if TYPE_CHECKING:  # only for type checkers; not a run-time dependency
    from typing_extensions import Self

_POLL_SECONDS = 0.01  # how often the thread looks at its stop event
_EXCEPTION_BIT = 0x80
_ILLEGAL_DATA_ADDRESS = 2


@dataclass(frozen=True)
class Fault:
    """How to spoil the answer to one request (the default spoils nothing).

    Attributes:
        silent: send no answer at all.
        noise: bytes sent at once, before the delay and the answer.
        delay: extra seconds between the request and the answer.
        chunks: send the answer in this many pieces ...
        gap: ... with this many seconds between them.
    """

    silent: bool = False
    noise: bytes = b""
    delay: float = 0.0
    chunks: int = 1
    gap: float = 0.0


def request_length(received: bytes | bytearray) -> int | None:
    """The length of the request that starts ``received`` (at least 7 bytes).

    None: a function code this slave does not know, so no length.
    """
    functioncode = received[1]
    if functioncode in (3, 6):
        return 8
    if functioncode == 16:
        return 9 + received[6]
    return None


def split(data: bytes, chunks: int) -> list[bytes]:
    """``data`` in ``chunks`` nearly equal pieces (fewer if it is shorter)."""
    size = -(-len(data) // max(1, chunks))
    return [data[start : start + size] for start in range(0, len(data), size)]


class PtySlave:
    """A Modbus RTU slave serving registers on the far side of a pty.

    Args:
        registers: per slave address, the register values by register address.
        delay: seconds between a request and its answer (a slow device).

    Attributes:
        port: the name of the pty's slave side, to open with pyserial.
        registers: the live register values (writes change them).
        requests: every complete request received, in order.
    """

    def __init__(self, registers: dict[int, dict[int, int]], delay: float = 0.0) -> None:
        self.registers = {slaveaddress: dict(values) for slaveaddress, values in registers.items()}
        self.delay = delay
        self.requests: list[bytes] = []
        self._faults: collections.deque[Fault] = collections.deque()
        self._received = bytearray()
        self._stop = threading.Event()
        self._master_fd, self._slave_fd = pty.openpty()
        tty.setraw(self._master_fd)
        tty.setraw(self._slave_fd)
        self.port = os.ttyname(self._slave_fd)  # our fd stays open: no hang-up when a test closes
        self._thread = threading.Thread(target=self._serve, name=f"PtySlave {self.port}", daemon=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start answering in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, wait for it, and close both ends of the pty."""
        self._stop.set()
        self._thread.join(timeout=5)
        os.close(self._master_fd)
        os.close(self._slave_fd)

    def plan(self, *faults: Fault) -> None:
        """Spoil the next answers, one fault per request, in order."""
        self._faults.extend(faults)

    # -- the serving thread ------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master_fd], [], [], _POLL_SECONDS)
            if not readable:
                continue
            self._received += os.read(self._master_fd, 1024)
            for request in self._complete_requests():
                self.requests.append(request)
                self._answer(request, self._faults.popleft() if self._faults else Fault())

    def _complete_requests(self) -> list[bytes]:
        """Take the complete requests out of the bytes received; skip garbage."""
        requests = []
        while len(self._received) >= 7:
            length = request_length(self._received)
            if length is None:
                del self._received[0]  # resynchronise on the next byte
                continue
            if len(self._received) < length:
                break
            frame = bytes(self._received[:length])
            if crc16(frame[:-2]) != frame[-2:]:
                del self._received[0]
                continue
            del self._received[:length]
            requests.append(frame)
        return requests

    def _answer(self, request: bytes, fault: Fault) -> None:
        response = self._response(request)
        if fault.noise:
            os.write(self._master_fd, fault.noise)
        if response is None or fault.silent:
            return
        if self._stop.wait(self.delay + fault.delay):
            return
        for index, piece in enumerate(split(response, fault.chunks)):
            if index and self._stop.wait(fault.gap):
                return
            os.write(self._master_fd, piece)

    def _response(self, request: bytes) -> bytes | None:
        """The answer with its CRC, or None for another slave address."""
        slaveaddress, functioncode = request[0], request[1]
        registers = self.registers.get(slaveaddress)
        if registers is None:
            return None
        start, quantity = struct.unpack(">HH", request[2:6])  # fc 6: address, value
        addresses = range(start, start + (1 if functioncode == 6 else quantity))
        if any(address not in registers for address in addresses):
            return self._exception(slaveaddress, functioncode, _ILLEGAL_DATA_ADDRESS)
        if functioncode == 3:
            data = struct.pack(f">{quantity}H", *(registers[address] for address in addresses))
            return self._frame(bytes((slaveaddress, 3, len(data))) + data)
        if functioncode == 6:
            registers[start] = quantity
        else:
            registers.update(zip(addresses, struct.unpack(f">{quantity}H", request[7 : 7 + 2 * quantity])))
        return self._frame(request[:6])

    def _exception(self, slaveaddress: int, functioncode: int, code: int) -> bytes:
        return self._frame(bytes((slaveaddress, functioncode | _EXCEPTION_BIT, code)))

    @staticmethod
    def _frame(message: bytes) -> bytes:
        return message + crc16(message)
