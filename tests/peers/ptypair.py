"""Two pseudo-terminals joined like a null-modem cable, for interoperability tests.

A peer program opens one end by its device path (``pair.port_a``), our
Instrument opens the other (``pair.port_b``); a background thread copies
every byte written to one end to the other::

    peer  <->  pts A  |  master A  <-- relay thread -->  master B  |  pts B  <->  Instrument

Each pty's slave side is put in raw mode (no echo, no line editing, no
CR/LF translation) before anybody opens it, and stays open here until
:meth:`PtyPair.stop`, so a peer opening and closing the device never makes
the master side hang up. Whoever opens the device may set its own termios
(baud rate, parity): on a pty they change nothing on the "wire".

POSIX only (the ``pty`` and ``tty`` modules).

Usage::

    with PtyPair() as pair:
        start_peer(pair.port_a)
        instrument = minimalmodbus.Instrument(pair.port_b, 1)

``pair.traffic`` records what went through, as ``(direction, bytes)`` chunks
(direction ``"a->b"`` or ``"b->a"``; chunk boundaries are arbitrary).
"""

from __future__ import annotations

import os
import select
import threading
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self

_CHUNK = 4096
_POLL_SECONDS = 0.1


class PtyPair:
    """Two pty pairs whose master sides are relayed into each other."""

    def __init__(self, record_traffic: bool = True) -> None:
        self.record_traffic = record_traffic
        self.traffic: list[tuple[str, bytes]] = []
        self._traffic_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._master_a = self._slave_a = self._master_b = self._slave_b = -1
        self._wake_read = self._wake_write = -1
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.port_a = ""
        self.port_b = ""
        self.error: BaseException | None = None
        """An unexpected exception that ended the relay thread, if any."""

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> Self:
        """Open both ptys, set them raw, start the relay thread."""
        if self._thread is not None:
            raise RuntimeError("PtyPair already started")
        import pty  # POSIX only; imported here so the module imports anywhere
        import tty

        try:
            self._master_a, self._slave_a = pty.openpty()
            self._master_b, self._slave_b = pty.openpty()
            for fd in (self._slave_a, self._slave_b):
                tty.setraw(fd)
            self.port_a = os.ttyname(self._slave_a)
            self.port_b = os.ttyname(self._slave_b)
            self._wake_read, self._wake_write = os.pipe()
            for fd in (self._master_a, self._master_b, self._wake_read, self._wake_write):
                os.set_blocking(fd, False)
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="ptypair-relay", daemon=True)
            self._thread.start()
        except BaseException:
            self._close_fds()
            raise
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the relay thread and close every file descriptor. Idempotent."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            try:
                os.write(self._wake_write, b"x")
            except OSError:
                pass
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError("PtyPair relay thread did not stop")
        self._close_fds()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True while the relay thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # -- traffic ------------------------------------------------------------

    def clear_traffic(self) -> None:
        """Forget the recorded traffic."""
        with self._traffic_lock:
            self.traffic.clear()

    def sent(self, direction: str) -> bytes:
        """All bytes recorded in one direction (``"a->b"`` or ``"b->a"``), joined."""
        with self._traffic_lock:
            return b"".join(data for way, data in self.traffic if way == direction)

    def inject(self, end: str, data: bytes) -> None:
        """Make ``data`` arrive at one end (``"a"`` or ``"b"``) as if sent from the other.

        Models a third device on a multi-drop line (another slave answering),
        heard only by that end. Recorded as ``"inject->a"`` / ``"inject->b"``.
        """
        if not self.running:
            raise RuntimeError("PtyPair is not running")
        fd = {"a": self._master_a, "b": self._master_b}[end]
        if self.record_traffic:
            with self._traffic_lock:
                self.traffic.append((f"inject->{end}", data))
        self._write_all(fd, data)

    # -- internals ----------------------------------------------------------

    def _close_fds(self) -> None:
        for name in ("_master_a", "_slave_a", "_master_b", "_slave_b", "_wake_read", "_wake_write"):
            fd = getattr(self, name)
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, -1)

    def _run(self) -> None:
        route = {self._master_a: (self._master_b, "a->b"), self._master_b: (self._master_a, "b->a")}
        try:
            while not self._stopping.is_set():
                readable, _, _ = select.select([*route, self._wake_read], [], [], _POLL_SECONDS)
                for fd in readable:
                    if fd == self._wake_read:
                        return
                    try:
                        data = os.read(fd, _CHUNK)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        # EIO: no process has the slave side open (cannot happen
                        # while we hold it, but do not spin if it does).
                        continue
                    if not data:
                        continue
                    target, direction = route[fd]
                    if self.record_traffic:
                        with self._traffic_lock:
                            self.traffic.append((direction, data))
                    self._write_all(target, data)
        except BaseException as error:  # pragma: no cover - reported through .error
            self.error = error

    def _write_all(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        with self._write_lock:
            while view and not self._stopping.is_set():
                try:
                    written = os.write(fd, view)
                except BlockingIOError:
                    select.select([], [fd], [], _POLL_SECONDS)
                    continue
                view = view[written:]
