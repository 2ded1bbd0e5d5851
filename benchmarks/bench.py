#!/usr/bin/env python3
"""Measure MinimalModbus RTU transactions over a real pseudo-terminal pair.

A simulated Modbus RTU slave (``minimalmodbus_simulator``, which has its
own CRC and imports nothing from ``minimalmodbus``) runs in a child process
on one end of a ``pty.openpty()`` pair; this script adds the line: frame
timing, wire-time emulation and counters. ``minimalmodbus.Instrument`` opens the other end by
name, exactly as it would open ``/dev/ttyUSB0``, so every call goes through
pyserial, termios and the kernel. With ``--baud`` the slave holds each reply
back until the moment its last byte would have arrived on a real line, so the
measured latency can be set beside the physical limit of the workload.

    python benchmarks/bench.py                  # zero-delay slave
    python benchmarks/bench.py --baud 19200     # emulate a 19200 baud line
    python benchmarks/bench.py --selftest       # check the slave on its own

See benchmarks/README.md for the options and the meaning of every column.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import pty
import select
import signal
import struct
import subprocess
import sys
import time
import tty
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any, NoReturn

SCRIPT = Path(__file__).resolve()
EXIT_USAGE = 2  # bad options, or minimalmodbus cannot be imported
REPO_ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(REPO_ROOT))  # this checkout's modules, not installed ones

import minimalmodbus_simulator as simulator  # noqa: E402  (needs the path above)

# ---------------------------------------------------------------------------
# Modbus facts (Serial Line V1.02, Application Protocol V1.1b3)
# ---------------------------------------------------------------------------

# Serial Line §2.5.1.1: 3.5 character times between frames, fixed at
# 1.75 ms above 19200 baud.
SILENT_CHARACTER_TIMES = 3.5
FIXED_SILENCE_ABOVE_BAUD = 19200
FIXED_SILENCE = 0.00175

BROADCAST_ADDRESS = 0
SLAVE_ADDRESS = 1  # the only slave address the responder answers
SILENT_SLAVE_ADDRESS = 2  # used by the "no reply" workload

# Application Protocol §7: the exception code of the "exception" workload.
ILLEGAL_DATA_ADDRESS = 2


def inter_frame_silence(baud: int, bits_per_char: int) -> float:
    """Seconds of silence the master must leave before a request."""
    if baud > FIXED_SILENCE_ABOVE_BAUD:
        return FIXED_SILENCE
    return SILENT_CHARACTER_TIMES * bits_per_char / baud


def wire_time(number_of_bytes: int, baud: int, bits_per_char: int) -> float:
    """Seconds that ``number_of_bytes`` characters take on the line."""
    return number_of_bytes * bits_per_char / baud


# ---------------------------------------------------------------------------
# The responder's slave: the simulator's, with this map
# ---------------------------------------------------------------------------

MAP_SIZE = 1000  # registers and coils 0..999 exist; from 1000 on: exception 2


def initial_register_value(registeraddress: int) -> int:
    """Holding and input register values at start: value = address."""
    return registeraddress


def initial_coil_value(coiladdress: int) -> int:
    """Coils and discrete inputs at start: alternating 1, 0, 1, 0 ..."""
    return 1 if coiladdress % 2 == 0 else 0


def make_bus() -> simulator.SimulatedBus:
    """Slave address 1 with the map above, on an RTU bus."""
    registers = {address: initial_register_value(address) for address in range(MAP_SIZE)}
    bits = {address: initial_coil_value(address) for address in range(MAP_SIZE)}
    slave = simulator.SimulatedSlave(
        coils=bits, discrete_inputs=bits, holding_registers=registers, input_registers=registers
    )
    return simulator.SimulatedBus({SLAVE_ADDRESS: slave}, simulator.MODE_RTU)


BAD_FRAMES = simulator.DiagnosticCounter.BUS_COMMUNICATION_ERROR  # frames with a bad CRC


def request_complete(buffer: bytes | bytearray) -> int | None:
    """The length of the complete request at the start of ``buffer``, else None."""
    length = simulator.rtu_request_length(bytes(buffer))
    return length if length is not None and len(buffer) >= length else None


def with_crc(message: bytes) -> bytes:
    """An RTU frame: slave address, function code and data, then the CRC."""
    return simulator.build_frame(simulator.MODE_RTU, message[0], message[1:])


# ---------------------------------------------------------------------------
# The responder process
# ---------------------------------------------------------------------------

CONTROL_FD = 0  # the parent sends commands ("stats", "quit") on stdin
FRAME_IDLE_TIMEOUT = 0.010  # a frame of unknown length ends after this silence
SPIN_MARGIN = 0.0003  # sleep until this long before a deadline, then spin
GAP_TOLERANCE = 0.00005  # gaps this much shorter than the silence still pass


def wait_until(deadline: float) -> None:
    """Return at ``deadline`` (perf_counter), without sleep overshoot."""
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return
        if remaining > SPIN_MARGIN:
            time.sleep(remaining - SPIN_MARGIN)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (as numpy's default)."""
    position = (len(sorted_values) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    weight = position - lower
    return sorted_values[lower] * (1 - weight) + sorted_values[upper] * weight


@dataclass
class ResponderConfig:
    """How the responder answers; passed to the child on its command line."""

    baud: int | None  # None: answer at once
    bits_per_char: int
    silence: float  # the master's expected inter-frame silence, for gap checks
    chunk_bytes: int  # 0: the whole reply at its end time; K: K bytes at a time

    def to_arguments(self) -> list[str]:
        baud = ["--baud", str(self.baud)] if self.baud else []
        return [
            *baud,
            "--bits-per-char",
            str(self.bits_per_char),
            "--responder-silence",
            repr(self.silence),
            "--chunk-bytes",
            str(self.chunk_bytes),
        ]


@dataclass
class ResponderStats:
    """What the responder saw since the last "stats" command."""

    requests: int = 0
    replies: int = 0
    ignored: int = 0  # other slave addresses
    bad_crc: int = 0
    dropped: int = 0  # incomplete frames discarded after silence
    lateness: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    short_gaps: int = 0

    def add_gap(self, gap: float, silence: float) -> None:
        self.gaps.append(gap)
        if gap < silence - GAP_TOLERANCE:
            self.short_gaps += 1

    def summary(self) -> dict[str, Any]:
        lateness = sorted(self.lateness)
        gaps = sorted(self.gaps)
        return {
            "requests": self.requests,
            "replies": self.replies,
            "ignored": self.ignored,
            "bad_crc": self.bad_crc,
            "dropped": self.dropped,
            "lateness_p50_ms": 1e3 * percentile(lateness, 0.5) if lateness else None,
            "lateness_p99_ms": 1e3 * percentile(lateness, 0.99) if lateness else None,
            "lateness_max_ms": 1e3 * lateness[-1] if lateness else None,
            "gap_min_ms": 1e3 * gaps[0] if gaps else None,
            "gap_p50_ms": 1e3 * percentile(gaps, 0.5) if gaps else None,
            "short_gaps": self.short_gaps,
        }


class Responder:
    """A Modbus RTU slave (address 1) on the master end of a pty."""

    def __init__(self, fd: int, config: ResponderConfig) -> None:
        self.fd = fd
        self.config = config
        self.bus = make_bus()
        self.stats = ResponderStats()
        self.pending = bytearray()
        self.first_byte_time = 0.0  # of the frame at the start of pending
        self.last_byte_time = 0.0
        self.last_frame_end: float | None = None
        self.control = bytearray()

    def run(self) -> None:
        _write_control_line("ready")
        while True:
            timeout = None
            if self.pending:
                timeout = max(0.0, self.last_byte_time + FRAME_IDLE_TIMEOUT - time.perf_counter())
            readable, _, _ = select.select([self.fd, CONTROL_FD], [], [], timeout)
            now = time.perf_counter()
            if CONTROL_FD in readable and not self.handle_control():
                return
            if self.fd in readable:
                self.receive(os.read(self.fd, 4096), now)
            elif not readable and self.pending:
                self.end_of_silence(now)

    def handle_control(self) -> bool:
        """Serve the commands on stdin; False when the parent wants us gone."""
        data = os.read(CONTROL_FD, 4096)
        if not data:
            return False
        self.control += data
        while b"\n" in self.control:
            line, _, rest = bytes(self.control).partition(b"\n")
            self.control = bytearray(rest)
            command = line.decode().strip()
            if command == "quit":
                return False
            if command == "stats":
                _write_control_line(json.dumps(self.stats.summary()))
                self.stats = ResponderStats()
        return True

    def receive(self, data: bytes, now: float) -> None:
        if not self.pending:
            self.first_byte_time = now
        self.pending += data
        self.last_byte_time = now
        while True:
            length = request_complete(self.pending)
            if length is None:
                return
            frame = bytes(self.pending[:length])
            del self.pending[:length]
            self.handle_frame(frame, self.first_byte_time, now)
            self.first_byte_time = now

    def end_of_silence(self, now: float) -> None:
        """A frame of unknown length is complete; an incomplete one is dropped."""
        if simulator.rtu_request_length(bytes(self.pending)) is None:
            self.handle_frame(bytes(self.pending), self.first_byte_time, now)
        else:
            self.stats.dropped += 1
        self.pending.clear()

    def handle_frame(self, frame: bytes, first_byte_time: float, request_end: float) -> None:
        self.stats.requests += 1
        if self.last_frame_end is not None:
            self.stats.add_gap(first_byte_time - self.last_frame_end, self.config.silence)
        self.last_frame_end = request_end
        counters = self.bus.slaves[SLAVE_ADDRESS].counters  # the slave counts bad frames too
        bad_frames = counters[BAD_FRAMES]
        reply = b"".join(data for _, data in self.bus(frame))  # no faults: one chunk or none
        self.bus.requests.clear()  # this script counts for itself
        if counters[BAD_FRAMES] > bad_frames:
            self.stats.bad_crc += 1
            return
        if frame[0] not in (SLAVE_ADDRESS, BROADCAST_ADDRESS):
            self.stats.ignored += 1
            return
        if not reply:  # a broadcast
            return
        self.last_frame_end = self.send_reply(reply, len(frame), request_end)
        self.stats.replies += 1

    def send_reply(self, reply: bytes, request_bytes: int, request_end: float) -> float:
        """Write the reply at once, or byte k at request_end + (q + k) characters.

        Returns the time just before the last write. Timestamps are taken
        before writing: writing wakes the master, which may preempt us right
        after the write, and a later timestamp would then make the following
        silence look shorter than it was.
        """
        baud = self.config.baud
        if not baud:
            written = time.perf_counter()
            _write_all(self.fd, reply)
            return written
        character = self.config.bits_per_char / baud
        step = self.config.chunk_bytes or len(reply)
        deadline = written = request_end
        for start in range(0, len(reply), step):
            end = min(start + step, len(reply))
            deadline = request_end + (request_bytes + end) * character
            wait_until(deadline)
            written = time.perf_counter()
            _write_all(self.fd, reply[start:end])
        self.stats.lateness.append(written - deadline)
        return written


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_control_line(text: str) -> None:
    _write_all(sys.stdout.fileno(), text.encode() + b"\n")


def responder_main(fd: int, config: ResponderConfig) -> int:
    """Entry point of the child process."""
    # Ctrl-C reaches the whole foreground process group; the parent decides
    # when we stop (it closes our stdin), so the child ignores SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        Responder(fd, config).run()
    except OSError as error:  # EIO: every process closed the other end
        print(f"bench responder: {error}", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------
# The parent's side: pty pair and child process
# ---------------------------------------------------------------------------


class PtyPair:
    """A raw pseudo-terminal pair; the Modbus master opens ``path``."""

    def __init__(self) -> None:
        self.master_fd, self.slave_fd = pty.openpty()
        self._open_fds = {self.master_fd, self.slave_fd}
        tty.setraw(self.slave_fd)
        self.path = os.ttyname(self.slave_fd)

    def close_master(self) -> None:
        self._close(self.master_fd)

    def close(self) -> None:
        self._close(self.master_fd)
        self._close(self.slave_fd)

    def _close(self, fd: int) -> None:
        if fd in self._open_fds:
            self._open_fds.discard(fd)
            os.close(fd)


class ResponderProcess:
    """The responder running in a child process, and its control channel."""

    START_TIMEOUT = 10.0
    COMMAND_TIMEOUT = 5.0

    def __init__(self, pair: PtyPair, config: ResponderConfig) -> None:
        command = [sys.executable, str(SCRIPT), "--responder-fd", str(pair.master_fd), *config.to_arguments()]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=(pair.master_fd,)
        )
        # The child holds the master end now; when it exits, the master's
        # port sees a hang-up instead of waiting for an answer forever.
        pair.close_master()
        self.lines = bytearray()
        try:
            ready = self._read_line(self.START_TIMEOUT)
        except RuntimeError:
            self.close()
            raise
        if ready != "ready":
            self.close()
            raise RuntimeError(f"the responder did not start (said {ready!r})")

    def command(self, name: str) -> dict[str, Any]:
        """Send "stats": the counters since the previous call (then reset)."""
        _write_all(self._stdin().fileno(), name.encode() + b"\n")
        stats: dict[str, Any] = json.loads(self._read_line(self.COMMAND_TIMEOUT))
        return stats

    def _stdin(self) -> IO[bytes]:
        if self.process.stdin is None:  # Popen with stdin=PIPE always has it
            raise RuntimeError("no pipe to the responder")
        return self.process.stdin

    def _read_line(self, timeout: float) -> str:
        if self.process.stdout is None:  # Popen with stdout=PIPE always has it
            raise RuntimeError("no pipe from the responder")
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.lines:
            remaining = deadline - time.monotonic()
            readable, _, _ = select.select([fd], [], [], max(0.0, remaining))
            data = os.read(fd, 4096) if readable else b""
            if not data:
                raise RuntimeError("the responder process stopped answering")
            self.lines += data
        line, _, rest = bytes(self.lines).partition(b"\n")
        self.lines = bytearray(rest)
        return line.decode().strip()

    def close(self) -> None:
        """Close stdin (the child exits on EOF), then terminate, then kill."""
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        for stop in (None, self.process.terminate, self.process.kill):
            if stop is not None:
                stop()
            try:
                self.process.wait(timeout=2.0)
                break
            except subprocess.TimeoutExpired:
                continue
        if self.process.stdout is not None:
            self.process.stdout.close()


# ---------------------------------------------------------------------------
# Self-check of the responder (no minimalmodbus needed)
# ---------------------------------------------------------------------------

# (description, request, expected response or None for silence), run in order
# against one zero-delay responder; later entries see earlier writes.
SELFTEST_EXCHANGES: list[tuple[str, str, str | None]] = [
    ("fc 3, 1 register at 0", "01 03 00 00 00 01 84 0A", "01 03 02 00 00 B8 44"),
    ("fc 3, 2 registers at 1", "01 03 00 01 00 02 95 CB", "01 03 04 00 01 00 02 2A 32"),
    ("fc 1, 10 coils at 0 (1,0,1,0...)", "01 01 00 00 00 0A BC 0D", "01 01 02 55 01 47 6C"),
    ("fc 4, input register 7", "01 04 00 07 00 01 80 0B", "01 04 02 00 07 F8 F2"),
    ("fc 16, write 0x1234 0xABCD at 10", "01 10 00 0A 00 02 04 12 34 AB CD 89 C3", "01 10 00 0A 00 02 61 CA"),
    ("fc 3, read them back", "01 03 00 0A 00 02 E4 09", "01 03 04 12 34 AB CD 00 20"),
    ("fc 5, coil 3 on", "01 05 00 03 FF 00 7C 3A", "01 05 00 03 FF 00 7C 3A"),
    ("fc 1, 8 coils: 1,0,1,1,1,0,1,0", "01 01 00 00 00 08 3D CC", "01 01 01 5D 90 71"),
    ("fc 15, 10 coils all on", "01 0F 00 00 00 0A 02 FF 03 E4 C9", "01 0F 00 00 00 0A D5 CC"),
    ("fc 1, read them back", "01 01 00 00 00 0A BC 0D", "01 01 02 FF 03 B8 0D"),
    ("fc 3 at 1000: illegal data address", "01 03 03 E8 00 01 04 7A", "01 83 02 C0 F1"),
    ("fc 3, 2 registers at 999: crosses 1000", "01 03 03 E7 00 02 74 78", "01 83 02 C0 F1"),
    ("fc 3, 126 registers: illegal value", "01 03 00 00 00 7E C5 EA", "01 83 03 01 31"),
    ("fc 9 (unsupported): illegal function", "01 09 C0 26", "01 89 01 86 50"),
    ("slave address 2: silence", "02 03 00 00 00 01 84 39", None),
    ("bad CRC: silence", "01 03 00 00 00 01 84 0B", None),
    ("garbage: silence", "FF FF FF", None),
    ("broadcast fc 6, 42 to register 5: silence", "00 06 00 05 00 2A 19 C5", None),
    ("fc 3, register 5 after the broadcast", "01 03 00 05 00 01 94 0B", "01 03 02 00 2A 39 9B"),
]

SILENCE_WAIT = 0.1  # how long a "no answer" check listens


def _hex(data: bytes) -> str:
    return data.hex(" ").upper() if data else "(nothing)"


def read_reply(fd: int, length: int, timeout: float) -> tuple[bytes, float, float]:
    """Read up to ``length`` bytes; returns them and the first/last byte times."""
    received = bytearray()
    first = last = 0.0
    deadline = time.perf_counter() + timeout
    while len(received) < length:
        remaining = deadline - time.perf_counter()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            break
        data = os.read(fd, length - len(received))
        last = time.perf_counter()
        if not received:
            first = last
        received += data
    return bytes(received), first, last


def selftest_exchanges(fd: int) -> list[str]:
    """Byte-exact checks; returns the failures."""
    failures = []
    for description, request, expected in SELFTEST_EXCHANGES:
        os.write(fd, bytes.fromhex(request))
        if expected is None:
            reply, _, _ = read_reply(fd, 1, SILENCE_WAIT)
            want = b""
        else:
            want = bytes.fromhex(expected)
            reply, _, _ = read_reply(fd, len(want) + 1, 0.1 + FRAME_IDLE_TIMEOUT)
        verdict = "ok  " if reply == want else "FAIL"
        print(f"  {verdict} {description}: {request} -> {_hex(reply)}")
        if reply != want:
            failures.append(f"{description}: expected {_hex(want)}, got {_hex(reply)}")
    # A request written in two pieces is still one frame.
    os.write(fd, bytes.fromhex("01 03 00"))
    time.sleep(0.002)
    os.write(fd, bytes.fromhex("00 00 01 84 0A"))
    reply, _, _ = read_reply(fd, 8, 0.1)
    ok = reply == bytes.fromhex("01 03 02 00 00 B8 44")
    print(f"  {'ok  ' if ok else 'FAIL'} request in two writes -> {_hex(reply)}")
    if not ok:
        failures.append(f"request in two writes: got {_hex(reply)}")
    return failures


# (request, response length) used to time the wire emulation
TIMING_FRAMES = [
    ("01 03 00 00 00 01 84 0A", 7),  # read 1 register
    ("01 03 00 00 00 64 44 21", 205),  # read 100 registers
    ("01 03 03 E8 00 01 04 7A", 5),  # exception
]
TIMING_REPEATS = 20
TIMING_EARLY_LIMIT = 0.00005  # a reply this much before its time is an error
TIMING_P50_LIMIT = 0.0005  # median lateness seen by the reader


def selftest_timing(fd: int, baud: int, bits_per_char: int, chunk_bytes: int) -> list[str]:
    """Reply times against (q + r) * bits / baud; returns the failures."""
    failures = []
    for request_hex, response_bytes in TIMING_FRAMES:
        request = bytes.fromhex(request_hex)
        character = bits_per_char / baud
        expected_last = (len(request) + response_bytes) * character
        expected_first = (len(request) + (chunk_bytes or response_bytes)) * character
        errors_last, errors_first = [], []
        for _ in range(TIMING_REPEATS):
            time.sleep(0.002)
            start = time.perf_counter()  # before the write: the responder may
            os.write(fd, request)  # see the request before write() returns here
            reply, first, last = read_reply(fd, response_bytes, 1.0)
            if len(reply) != response_bytes or simulator.crc16(reply) != 0:
                failures.append(f"{baud} baud: bad reply {_hex(reply)} to {request_hex}")
                break
            errors_last.append(last - start - expected_last)
            errors_first.append(first - start - expected_first)
        if not errors_last:
            continue
        for label, errors in (("last byte", errors_last), ("first chunk", errors_first)):
            errors.sort()
            p50 = percentile(errors, 0.5)
            print(
                f"  {baud} baud, {len(request)}+{response_bytes} bytes, {label}: expected "
                f"{1e3 * (expected_last if label == 'last byte' else expected_first):.3f} ms, "
                f"error min {1e3 * errors[0]:+.3f} p50 {1e3 * p50:+.3f} max {1e3 * errors[-1]:+.3f} ms"
            )
            if errors[0] < -TIMING_EARLY_LIMIT or p50 > TIMING_P50_LIMIT:
                failures.append(f"{baud} baud {request_hex} {label}: p50 {1e3 * p50:+.3f} ms")
            if not chunk_bytes:
                break  # first and last byte come together
    return failures


def selftest_gaps(fd: int, responder: ResponderProcess, silence: float) -> list[str]:
    """The responder counts a request sent too soon after its reply."""
    responder.command("stats")
    request = bytes.fromhex("01 03 00 00 00 01 84 0A")
    os.write(fd, request)
    read_reply(fd, 7, 1.0)
    os.write(fd, request)  # at once: a short gap
    read_reply(fd, 7, 1.0)
    time.sleep(silence + 0.001)
    os.write(fd, request)  # after the silence: fine
    read_reply(fd, 7, 1.0)
    stats = responder.command("stats")
    ok = stats["short_gaps"] == 1 and stats["replies"] == 3
    print(f"  {'ok  ' if ok else 'FAIL'} gap check: {stats['short_gaps']} short gap(s) of 2 counted")
    return [] if ok else [f"gap check: {stats}"]


def run_selftest(args: argparse.Namespace) -> int:
    failures: list[str] = []
    check_value = simulator.crc16(b"123456789")
    print(f"CRC-16/MODBUS of '123456789': 0x{check_value:04X} (expected 0x4B37)")
    if check_value != 0x4B37:
        failures.append("CRC check value")
    bauds = sorted({19200, 115200, *([args.baud] if args.baud else [])})
    settings = [(None, 0)] + [(baud, 0) for baud in bauds] + [(19200, 1)]
    if args.chunk_bytes:
        settings.append((args.baud or 19200, args.chunk_bytes))
    for baud, chunk_bytes in settings:
        silence = inter_frame_silence(baud or 19200, args.bits_per_char)
        config = ResponderConfig(baud, args.bits_per_char, silence, chunk_bytes)
        if baud is None:
            print("zero-delay responder, frames byte for byte:")
        else:
            chunks = f"{chunk_bytes} byte(s) at a time" if chunk_bytes else "whole reply at once"
            print(f"wire emulation, {baud} baud, {args.bits_per_char} bits/char, {chunks}:")
        pair = PtyPair()
        responder = None
        try:
            responder = ResponderProcess(pair, config)
            if baud is None:
                failures += selftest_exchanges(pair.slave_fd)
                failures += selftest_gaps(pair.slave_fd, responder, silence)
            else:
                failures += selftest_timing(pair.slave_fd, baud, args.bits_per_char, chunk_bytes)
                lateness = responder.command("stats")
                print(
                    f"  responder lateness against its deadline: p50 {lateness['lateness_p50_ms']:.3f} "
                    f"p99 {lateness['lateness_p99_ms']:.3f} max {lateness['lateness_max_ms']:.3f} ms"
                )
        finally:
            if responder is not None:
                responder.close()
            pair.close()
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    print("selftest " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


# ---------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    call_text: str
    request: bytes  # the frame the call writes (the bare master writes it too)
    response_bytes: int  # 0: no reply
    call: Callable[[Any, Any], Any]  # (instrument, silent_instrument) -> result
    expected_value: Any = None
    expected_exception: str | None = None  # name of a minimalmodbus class
    expected_exception_code: int | None = None
    max_iterations: int | None = None  # each call waits the timeout

    @property
    def request_bytes(self) -> int:
        """The length of the request frame."""
        return len(self.request)


def request_frame(slaveaddress: int, functioncode: int, *words: int, data: bytes = b"") -> bytes:
    """A request: slave address, function code, 16-bit words, data, CRC."""
    return with_crc(bytes((slaveaddress, functioncode)) + struct.pack(f">{len(words)}H", *words) + data)


FIRST_FLOAT = struct.unpack(">f", struct.pack(">HH", initial_register_value(0), initial_register_value(1)))[0]

WORKLOADS = [
    Workload(
        "read_register",
        "read_register(0)",
        request_frame(SLAVE_ADDRESS, 3, 0, 1),
        7,
        lambda i, s: i.read_register(0),
        expected_value=0,
    ),
    Workload(
        "read_registers",
        "read_registers(0, 100)",
        request_frame(SLAVE_ADDRESS, 3, 0, 100),
        5 + 2 * 100,
        lambda i, s: i.read_registers(0, 100),
        expected_value=[initial_register_value(a) for a in range(100)],
    ),
    Workload(
        "write_registers",
        "write_registers(0, list(range(50)))",
        request_frame(SLAVE_ADDRESS, 16, 0, 50, data=bytes((100,)) + struct.pack(">50H", *range(50))),
        8,
        lambda i, s: i.write_registers(0, list(range(50))),
    ),
    Workload(
        "read_bits",
        "read_bits(0, 100, functioncode=1)",
        request_frame(SLAVE_ADDRESS, 1, 0, 100),
        5 + 13,
        lambda i, s: i.read_bits(0, 100, functioncode=1),
        expected_value=[initial_coil_value(a) for a in range(100)],
    ),
    Workload(
        "read_float",
        "read_float(0)",
        request_frame(SLAVE_ADDRESS, 3, 0, 2),
        9,
        lambda i, s: i.read_float(0),
        expected_value=FIRST_FLOAT,
    ),
    Workload(
        "exception",
        "read_register(1000) -> IllegalRequestError",
        request_frame(SLAVE_ADDRESS, 3, 1000, 1),
        5,
        lambda i, s: i.read_register(1000),
        expected_exception="IllegalRequestError",
        expected_exception_code=ILLEGAL_DATA_ADDRESS,
    ),
    Workload(
        "no_reply",
        "slave 2: read_register(0) -> NoResponseError",
        request_frame(SILENT_SLAVE_ADDRESS, 3, 0, 1),
        0,
        lambda i, s: s.read_register(0),
        expected_exception="NoResponseError",
        max_iterations=20,
    ),
]
WORKLOADS_BY_NAME = {workload.name: workload for workload in WORKLOADS}


def physical_limit(
    workload: Workload, baud: int, bits_per_char: int, timeout: float, silence: float
) -> float:
    """Wire time + inter-frame silence (+ the timeout when nothing answers)."""
    wire = wire_time(workload.request_bytes + workload.response_bytes, baud, bits_per_char)
    return wire + silence + (timeout if workload.response_bytes == 0 else 0.0)


def check_outcome(workload: Workload, outcome: Any, minimalmodbus: ModuleType) -> str | None:
    """None if the call did what it should; else what went wrong."""
    if workload.expected_exception is not None:
        expected_class = getattr(minimalmodbus, workload.expected_exception)
        if not isinstance(outcome, expected_class):
            return f"expected {workload.expected_exception}, got {outcome!r}"
        code = getattr(outcome, "exception_code", None)
        if workload.expected_exception_code is not None and code not in (
            None,
            workload.expected_exception_code,
        ):
            return f"expected exception code {workload.expected_exception_code}, got {code!r}"
        return None
    if isinstance(outcome, BaseException):
        return f"raised {outcome!r}"
    if outcome != workload.expected_value:
        return f"returned {outcome!r}"
    return None


# ---------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------

PROGRESS_INTERVAL = 5.0  # seconds between progress lines on stderr


@dataclass
class Result:
    workload: str
    call: str
    iterations: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    tx_per_s: float
    cpu_ms_per_tx: float
    limit_ms: float | None
    p50_minus_limit_ms: float | None
    bare_p50_ms: float | None  # the same exchange by a master that costs nothing
    bare_minus_limit_ms: float | None
    p50_minus_bare_ms: float | None
    errors: int
    first_error: str | None
    responder: dict[str, Any]


@dataclass
class Setup:
    minimalmodbus: ModuleType
    instrument: Any
    silent_instrument: Any
    responder: ResponderProcess
    baud: int | None
    bits_per_char: int
    timeout: float
    silence: float  # the inter-frame silence the master keeps
    line_silence: float  # the silence the emulated line needs (for the limit)


BARE_ITERATIONS = 200  # at most, per workload
BARE_WARM_UP = 5


def measure_bare(workload: Workload, iterations: int, setup: Setup) -> list[float]:
    """Latencies of the workload's exchange done by a master that costs nothing.

    The same request through the same port, with plain os.write/os.read and
    no checks; it waits the inter-frame silence exactly (sleeping, then
    spinning its last 0.3 ms). What it sees above the limit is what the
    pseudo-terminal and the process wake-ups cost: the floor for the driver.
    Empty for a workload without a reply.
    """
    if not workload.response_bytes:
        return []
    fd = setup.instrument.serial.fd
    wire = 0.0
    if setup.baud:
        wire = wire_time(workload.request_bytes + workload.response_bytes, setup.baud, setup.bits_per_char)
    latencies = []
    reply_end = time.perf_counter()
    for index in range(BARE_WARM_UP + iterations):
        start = time.perf_counter()
        wait_until(reply_end + setup.silence)
        os.write(fd, workload.request)
        reply, _, reply_end = read_reply(fd, workload.response_bytes, wire + setup.timeout + 1.0)
        if len(reply) != workload.response_bytes:
            raise RuntimeError(f"the bare master got {_hex(reply)} in {workload.name}")
        if index >= BARE_WARM_UP:
            latencies.append(reply_end - start)
    return latencies


def measure(workload: Workload, iterations: int, setup: Setup) -> Result:
    instrument, silent = setup.instrument, setup.silent_instrument
    for _ in range(max(1, min(10, iterations // 10))):  # warm-up, not counted
        # Errors here show again in the measured calls, which report them.
        with contextlib.suppress(Exception):
            workload.call(instrument, silent)
    setup.responder.command("stats")  # reset the responder's counters
    latencies = []
    errors = 0
    first_error = None
    progress_time = time.perf_counter() + PROGRESS_INTERVAL
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    for index in range(iterations):
        start = time.perf_counter()
        try:
            outcome = workload.call(instrument, silent)
        except Exception as error:  # checked just below
            outcome = error
        end = time.perf_counter()
        latencies.append(end - start)
        problem = check_outcome(workload, outcome, setup.minimalmodbus)
        if problem is not None:
            errors += 1
            first_error = first_error or problem
        if end > progress_time:
            print(f"  {workload.name}: {index + 1}/{iterations}", file=sys.stderr, flush=True)
            progress_time = end + PROGRESS_INTERVAL
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start
    responder_stats = setup.responder.command("stats")
    bare = sorted(measure_bare(workload, min(iterations, BARE_ITERATIONS), setup))
    return summarize(workload, latencies, wall, cpu, errors, first_error, setup, responder_stats, bare)


def summarize(
    workload: Workload,
    latencies: list[float],
    wall: float,
    cpu: float,
    errors: int,
    first_error: str | None,
    setup: Setup,
    responder_stats: dict[str, Any],
    bare_latencies: list[float],
) -> Result:
    latencies.sort()
    count = len(latencies)
    p50 = percentile(latencies, 0.5)
    bare_p50 = percentile(bare_latencies, 0.5) if bare_latencies else None
    limit = None
    if setup.baud:
        limit = physical_limit(workload, setup.baud, setup.bits_per_char, setup.timeout, setup.line_silence)
    return Result(
        workload=workload.name,
        call=workload.call_text,
        iterations=count,
        p50_ms=1e3 * p50,
        p99_ms=1e3 * percentile(latencies, 0.99),
        mean_ms=1e3 * sum(latencies) / count,
        max_ms=1e3 * latencies[-1],
        tx_per_s=count / wall,
        cpu_ms_per_tx=1e3 * cpu / count,
        limit_ms=None if limit is None else 1e3 * limit,
        p50_minus_limit_ms=None if limit is None else 1e3 * (p50 - limit),
        bare_p50_ms=None if bare_p50 is None else 1e3 * bare_p50,
        bare_minus_limit_ms=None if bare_p50 is None or limit is None else 1e3 * (bare_p50 - limit),
        p50_minus_bare_ms=None if bare_p50 is None else 1e3 * (p50 - bare_p50),
        errors=errors,
        first_error=first_error,
        responder=responder_stats,
    )


def import_minimalmodbus() -> ModuleType:
    """Import minimalmodbus from the repository root, or exit with a message."""
    sys.path.insert(0, str(REPO_ROOT))
    try:
        import minimalmodbus
    except Exception as error:  # a half-written module may raise anything
        _fail(
            f"cannot import minimalmodbus from {REPO_ROOT}: {error!r}\n"
            "(run from a checkout with minimalmodbus.py at its root, with pyserial installed)"
        )
    missing = [
        name
        for name in ("Instrument", "IllegalRequestError", "NoResponseError")
        if not hasattr(minimalmodbus, name)
    ]
    if missing:
        _fail(f"{minimalmodbus.__file__} lacks {', '.join(missing)}")
    if Path(minimalmodbus.__file__ or "").resolve().parent != REPO_ROOT:
        print(f"bench.py: note: measuring {minimalmodbus.__file__}, not this checkout's", file=sys.stderr)
    return minimalmodbus


def _fail(message: str) -> NoReturn:
    print(f"bench.py: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def configure_port(port: Any, baud: int | None, timeout: float) -> None:
    """Timeout and baud rate. Parity stays: a pty rejects PARENB (EINVAL)."""
    port.timeout = timeout
    if baud:
        port.baudrate = baud


def port_bits_per_char(port: Any) -> int:
    """Start + data + parity + stop bits of the port's own settings."""
    parity_bits = 0 if getattr(port, "parity", "N") == "N" else 1
    return int(1 + getattr(port, "bytesize", 8) + parity_bits + getattr(port, "stopbits", 1))


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    minimalmodbus = import_minimalmodbus()
    workloads = [WORKLOADS_BY_NAME[name] for name in args.workloads]
    iterations = args.iterations or (300 if args.baud else 2000)
    pair = PtyPair()
    instruments: list[Any] = []
    responder = None
    try:
        instruments.append(minimalmodbus.Instrument(pair.path, SLAVE_ADDRESS))
        instruments.append(minimalmodbus.Instrument(pair.path, SILENT_SLAVE_ADDRESS))
        for instrument in instruments:
            configure_port(instrument.serial, args.baud, args.timeout)
            instrument.inter_frame_delay = args.inter_frame_delay
        master_baud = int(instruments[0].serial.baudrate)
        # The silence the driver should keep, by the port's own settings.
        silence = inter_frame_silence(master_baud, port_bits_per_char(instruments[0].serial))
        line_silence = inter_frame_silence(args.baud or master_baud, args.bits_per_char)
        if args.inter_frame_delay is not None:
            silence = line_silence = args.inter_frame_delay
        config = ResponderConfig(args.baud, args.bits_per_char, silence, args.chunk_bytes)
        responder = ResponderProcess(pair, config)
        setup = Setup(
            minimalmodbus,
            instruments[0],
            instruments[1],
            responder,
            args.baud,
            args.bits_per_char,
            args.timeout,
            silence,
            line_silence,
        )
        results = []
        recording = minimalmodbus.Recording(args.record) if args.record else contextlib.nullcontext()
        with recording:  # --record: every transaction measured is also written to a recording
            for workload in workloads:
                count = min(iterations, workload.max_iterations or iterations)
                results.append(measure(workload, count, setup))
    finally:
        for instrument in instruments:
            with contextlib.suppress(Exception):  # best effort while cleaning up
                instrument.serial.close()
        if responder is not None:
            responder.close()
        pair.close()
    return {
        "environment": {
            "minimalmodbus_version": getattr(minimalmodbus, "__version__", "?"),
            "minimalmodbus_file": minimalmodbus.__file__,
            "pyserial_version": getattr(sys.modules.get("serial"), "VERSION", "?"),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "pty": pair.path,
        },
        "config": {
            "baud": args.baud,
            "bits_per_char": args.bits_per_char,
            "timeout_s": args.timeout,
            "chunk_bytes": args.chunk_bytes,
            "master_baudrate": master_baud,
            "master_silence_ms": 1e3 * silence,
            "iterations": iterations,
        },
        "results": [asdict(result) for result in results],
    }


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------

# (heading, function of a result dict giving the cell text)
COLUMNS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("workload", lambda r: r["workload"]),
    ("N", lambda r: str(r["iterations"])),
    ("p50 ms", lambda r: f"{r['p50_ms']:.3f}"),
    ("p99 ms", lambda r: f"{r['p99_ms']:.3f}"),
    ("tx/s", lambda r: f"{r['tx_per_s']:.1f}"),
    ("CPU ms/tx", lambda r: f"{r['cpu_ms_per_tx']:.3f}"),
    ("limit ms", lambda r: _optional(r["limit_ms"])),
    ("p50-limit ms", lambda r: _optional(r["p50_minus_limit_ms"], "+.3f")),
    ("bare-limit ms", lambda r: _optional(r["bare_minus_limit_ms"], "+.3f")),
    ("p50-bare ms", lambda r: _optional(r["p50_minus_bare_ms"], "+.3f")),
    ("min gap ms", lambda r: _optional(r["responder"]["gap_min_ms"])),
    ("p50 gap ms", lambda r: _optional(r["responder"]["gap_p50_ms"])),
    ("short gaps", lambda r: str(r["responder"]["short_gaps"])),
    ("late p99 ms", lambda r: _optional(r["responder"]["lateness_p99_ms"])),
    ("errors", lambda r: str(r["errors"])),
]


def _optional(value: float | None, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def describe(report: dict[str, Any]) -> list[str]:
    env, config = report["environment"], report["config"]
    if config["baud"]:
        chunks = (
            f"{config['chunk_bytes']} byte(s) at a time" if config["chunk_bytes"] else "whole reply at once"
        )
        line = f"wire emulation at {config['baud']} baud, {config['bits_per_char']} bits/char ({chunks})"
    else:
        line = "zero-delay responder (limit n/a)"
    versions = (
        f"minimalmodbus {env['minimalmodbus_version']}, pyserial {env['pyserial_version']}, "
        f"Python {env['python']}, {env['platform']}"
    )
    settings = (
        f"{line}; master timeout {config['timeout_s'] * 1e3:g} ms, master baudrate "
        f"{config['master_baudrate']} (inter-frame silence {config['master_silence_ms']:.3f} ms)"
    )
    return [versions, settings]


def footnotes(report: dict[str, Any]) -> list[str]:
    config = report["config"]
    notes = []
    if config["baud"]:
        notes.append(
            "limit = (request + response bytes) x bits/char / baud + inter-frame silence; "
            "no_reply: request + silence + timeout"
        )
    notes.append(
        "bare: the same exchanges by a master that costs nothing (os.write/os.read, the silence "
        "waited exactly); bare-limit is the floor that the pseudo-terminal and process wake-ups set; "
        "p50-bare is the driver's own cost up to the reply's last byte (checks and decoding fall in the "
        "next call's silence: see CPU ms/tx)"
    )
    notes.append(
        "min gap / p50 gap / short gaps: silence the responder saw before a request, after the previous "
        f"frame; short = under {config['master_silence_ms']:.3f} ms; negative = sent while the "
        "slave was still busy with an earlier request"
    )
    lateness = [
        r["responder"]["lateness_max_ms"] for r in report["results"] if r["responder"]["lateness_max_ms"]
    ]
    if lateness:
        notes.append(
            "late p99: how late the responder began writing replies against their wire-time "
            f"deadline (worst single reply: {max(lateness):.3f} ms)"
        )
    for result in report["results"]:
        if result["errors"]:
            notes.append(f"{result['workload']}: {result['errors']} error(s), first: {result['first_error']}")
    return notes


def text_table(report: dict[str, Any]) -> str:
    rows = [[heading for heading, _ in COLUMNS]]
    rows += [[cell(result) for _, cell in COLUMNS] for result in report["results"]]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    lines = [*describe(report), ""]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [text.rjust(width) for text, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells))
    lines += ["", *footnotes(report)]
    return "\n".join(lines)


def markdown_table(report: dict[str, Any]) -> str:
    lines = [*(line + "  " for line in describe(report)), ""]
    lines.append("| " + " | ".join(heading for heading, _ in COLUMNS) + " |")
    lines.append("|---|" + "---:|" * (len(COLUMNS) - 1))
    for result in report["results"]:
        lines.append("| " + " | ".join(cell(result) for _, cell in COLUMNS) + " |")
    lines += ["", *(f"- {note}" for note in footnotes(report))]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def parse_workloads(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in WORKLOADS_BY_NAME]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown workload(s) {unknown!r}; choose from {', '.join(WORKLOADS_BY_NAME)}"
        )
    return names


def positive(kind: Callable[[str], Any], *, or_zero: bool = False) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        value = kind(text)
        if not math.isfinite(value) or value < 0 or (value == 0 and not or_zero):
            allowed = "0 or more" if or_zero else "positive"
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}")
        return value

    return convert


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Measure MinimalModbus RTU transactions against a responder on a pseudo-terminal.",
        epilog="workloads: "
        + "; ".join(f"{w.name} = {w.call_text}" for w in WORKLOADS)
        + ". Exit status: 0 ok, 1 some calls failed (or selftest failed), 2 bad usage or no minimalmodbus.",
    )
    parser.add_argument("--baud", type=positive(int), help="emulate the wire time of this baud rate")
    parser.add_argument(
        "--bits-per-char",
        type=int,
        default=10,
        choices=range(7, 13),
        metavar="{7..12}",
        help="bits per character on the emulated line (default 10, 8N1; e.g. 11 for 8E1)",
    )
    parser.add_argument(
        "--timeout",
        type=positive(float),
        default=0.05,
        help="instrument.serial.timeout in seconds (default 0.05)",
    )
    parser.add_argument(
        "--inter-frame-delay",
        type=positive(float, or_zero=True),
        metavar="S",
        help="instrument.inter_frame_delay in seconds (default: None, 3.5 characters); "
        "0 measures the driver without its silence",
    )
    parser.add_argument(
        "--iterations",
        type=positive(int),
        help="calls per workload (default 2000, 300 with --baud; no_reply at most 20)",
    )
    parser.add_argument(
        "--workloads",
        type=parse_workloads,
        default=list(WORKLOADS_BY_NAME),
        help="comma-separated subset of: " + ", ".join(WORKLOADS_BY_NAME),
    )
    parser.add_argument(
        "--chunk-bytes",
        type=int,
        default=0,
        metavar="K",
        help="with --baud, write replies K bytes at a time, each at its wire time "
        "(default 0: the whole reply when its last byte is due)",
    )
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="record every transaction to FILE (minimalmodbus.Recording), to measure what recording costs",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--markdown", action="store_true", help="print a Markdown table")
    output.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--selftest", action="store_true", help="check the responder alone (no minimalmodbus)"
    )
    parser.add_argument("--responder-fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--responder-silence", type=float, default=0.0, help=argparse.SUPPRESS)
    return parser


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.chunk_bytes < 0:
        build_parser().error("--chunk-bytes must be 0 or more")
    if args.responder_fd is not None:
        config = ResponderConfig(
            args.baud or None, args.bits_per_char, args.responder_silence, args.chunk_bytes
        )
        return responder_main(args.responder_fd, config)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        if args.selftest:
            return run_selftest(args)
        report = run_benchmark(args)
    except KeyboardInterrupt:
        print("bench.py: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as error:  # the responder (its traceback is above) or the bare master failed
        print(f"bench.py: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.markdown:
        print(markdown_table(report))
    else:
        print(text_table(report))
    return 1 if any(result["errors"] for result in report["results"]) else 0


if __name__ == "__main__":
    sys.exit(main())
