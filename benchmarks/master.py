#!/usr/bin/env python3
"""The measured process of ``compare.py``: one Modbus master, K ports, K threads.

``compare.py`` starts this script once per run, with the interpreter of the
master under test: this checkout's virtualenv for ``ours`` and ``bare``, the
benchmark's peer virtualenv for ``mm211`` (MinimalModbus 2.1.1) and
``pymodbus``. It imports only the standard library and the driver it
measures, so the same file runs in every environment; it never puts the
repository on ``sys.path`` unless told to (``ours``), so a peer cannot pick up
this checkout's ``minimalmodbus.py`` by accident.

The one argument is a JSON object (see ``RunConfig``). Thread k polls the
port ``ports[k]`` for register k (``read_register``) or registers k..k+99
(``read_registers``): the slave's map says value = address, so an answer
that came from another port or another request shows as a wrong value.
Prints one JSON line: counts, latency percentiles, process CPU time and
context switches over the measured window (``RUSAGE_SELF``: all threads).

With ``"tcp": true`` the ports are ``tcp://host:port`` URLs of one Modbus TCP
server (the simulator's demo slaves: holding register n holds 10 x n), and
the masters speak Modbus TCP: ours through ``Instrument(url, 1)``, pymodbus
through its synchronous ``ModbusTcpClient``, the bare master through a plain
socket (``sendall`` of a fixed MBAP request, ``recv`` of the answer's length,
no checks). ``read_register`` reads register 7 (70), ``read_registers``
registers 0..99.
"""

from __future__ import annotations

import contextlib
import cProfile
import importlib
import json
import os
import pstats
import resource
import select
import socket
import struct
import sys
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SLAVE_ADDRESS = 1
TCP_REGISTER = 7  # Modbus TCP, read_register: the demo slave's register 7 holds 70
TCP_SCALE = 10  # the demo slave's holding register n holds 10 x n
WARM_UP_CALLS = 5  # per thread, before the measured window (also under --calls)
REGISTERS = 100  # the read_registers workload
START_TIMEOUT = 60.0  # seconds the threads wait for each other (BrokenBarrierError after)


@dataclass
class RunConfig:
    """What ``compare.py`` asks for."""

    driver: str  # ours, mm211, pymodbus, bare
    ports: list[str]
    workload: str  # read_register, read_registers
    baudrate: int
    timeout: float
    silence: float  # bare only: the inter-frame silence it sleeps before each request
    duration: float  # seconds of polling, unless calls is set
    calls: int | None = None  # exactly this many calls per thread (strace runs)
    repo_root: str | None = None  # ours: import minimalmodbus from here
    bare_frames: list[tuple[str, int]] = field(default_factory=list)  # per port: request hex, reply bytes
    profile: str | None = None  # write cProfile statistics of the measured window here
    tcp: bool = False  # ports are tcp:// URLs of one Modbus TCP server (the simulator's demo slaves)


def first_register(config: RunConfig, index: int) -> int:
    """The first register thread ``index`` reads."""
    if config.tcp:
        return TCP_REGISTER if config.workload == "read_register" else 0
    return index


def expected_value(config: RunConfig, index: int) -> Any:
    """What thread ``index`` must read back (value = address on the pty responder, 10 x address on TCP)."""
    scale = TCP_SCALE if config.tcp else 1
    start = first_register(config, index)
    if config.workload == "read_register":
        return scale * start
    return [scale * address for address in range(start, start + REGISTERS)]


def minimalmodbus_call(config: RunConfig, port: str, index: int) -> Callable[[], Any]:
    """A call of MinimalModbus (this checkout's or 2.1.1) on its own port."""
    minimalmodbus: Any = importlib.import_module("minimalmodbus")
    instrument = minimalmodbus.Instrument(port, SLAVE_ADDRESS)
    if not config.tcp:
        instrument.serial.baudrate = config.baudrate
    instrument.serial.timeout = config.timeout  # over TCP: the response timeout
    start = first_register(config, index)
    if config.workload == "read_register":
        return lambda: instrument.read_register(start)
    return lambda: instrument.read_registers(start, REGISTERS)


def tcp_address(url: str) -> tuple[str, int]:
    """Host and port of ``tcp://host:port``."""
    host, _, port = url.removeprefix("tcp://").rpartition(":")
    return host.strip("[]"), int(port)


def pymodbus_call(config: RunConfig, port: str, index: int) -> Callable[[], Any]:
    """A call of pymodbus' synchronous serial client (RTU framer) or TCP client, no retries."""
    client_module: Any = importlib.import_module("pymodbus.client")
    if config.tcp:
        host, tcp_port = tcp_address(port)
        client = client_module.ModbusTcpClient(host, port=tcp_port, timeout=config.timeout, retries=0)
    else:
        framer: Any = importlib.import_module("pymodbus").FramerType.RTU
        client = client_module.ModbusSerialClient(
            port, framer=framer, baudrate=config.baudrate, timeout=config.timeout, retries=0
        )
    if not client.connect():
        raise RuntimeError(f"pymodbus cannot open {port}")
    count = 1 if config.workload == "read_register" else REGISTERS
    start = first_register(config, index)

    def call() -> Any:
        response = client.read_holding_registers(start, count=count, device_id=SLAVE_ADDRESS)
        if response.isError():
            return response
        return response.registers[0] if count == 1 else list(response.registers)

    return call


def bare_call(config: RunConfig, port: str, index: int) -> Callable[[], Any]:
    """A master that costs nothing: sleep the silence, os.write, select + os.read.

    No checks and no decoding: the expected value is taken to be met when
    the reply's length is right. After a short reply it waits a timeout and
    drops what came, so that one late reply does not shift all later ones.
    """
    if config.tcp:
        return bare_tcp_call(config, port, index)
    request_hex, reply_bytes = config.bare_frames[index]
    request = bytes.fromhex(request_hex)
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
    silence, timeout = config.silence, config.timeout

    def call() -> Any:
        time.sleep(silence)
        os.write(fd, request)
        received = 0
        while received < reply_bytes:
            if not select.select([fd], [], [], timeout)[0]:
                break
            received += len(os.read(fd, reply_bytes - received))
        if received == reply_bytes:
            return expected_value(config, index)
        time.sleep(timeout)  # a late reply would be taken for the next one: let it come, drop it
        termios.tcflush(fd, termios.TCIFLUSH)
        return f"{received} of {reply_bytes} bytes"

    return call


def bare_tcp_call(config: RunConfig, url: str, index: int) -> Callable[[], Any]:
    """The floor on Modbus TCP: ``sendall`` of one fixed MBAP request, ``recv`` until the answer's length.

    A blocking socket with ``SO_RCVTIMEO`` (the timeout), so that a call
    costs two system calls when the answer comes in one segment.

    No checks and no decoding (the transaction id never changes): the
    expected value is taken to be met when the answer's length is right.
    After a short answer it reconnects, so that a late answer is never
    taken for the next one.
    """
    request_hex, reply_bytes = config.bare_frames[index]
    request = bytes.fromhex(request_hex)
    address = tcp_address(url)

    def connect() -> socket.socket:
        connection = socket.create_connection(address, timeout=config.timeout)
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A blocking socket with a kernel receive timeout: one sendto and one recvfrom per call
        # (a Python socket timeout would add a poll before each).
        connection.settimeout(None)
        seconds = int(config.timeout)
        timeval = struct.pack("ll", seconds, int((config.timeout - seconds) * 1e6))
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        return connection

    connection = [connect()]

    def call() -> Any:
        sock = connection[0]
        sock.sendall(request)
        received = 0
        try:
            while received < reply_bytes:
                chunk = sock.recv(reply_bytes - received)
                if not chunk:
                    break
                received += len(chunk)
        except OSError:
            pass
        if received == reply_bytes:
            return expected_value(config, index)
        sock.close()
        connection[0] = connect()
        return f"{received} of {reply_bytes} bytes"

    return call


MAKERS: dict[str, Callable[[RunConfig, str, int], Callable[[], Any]]] = {
    "ours": minimalmodbus_call,
    "mm211": minimalmodbus_call,
    "pymodbus": pymodbus_call,
    "bare": bare_call,
}


@dataclass
class ThreadLog:
    """What one polling thread saw in the measured window."""

    latencies: list[float] = field(default_factory=list)
    wrong: int = 0
    first_wrong: str | None = None
    profiler: cProfile.Profile | None = None  # with RunConfig.profile: this thread's


def poll(
    call: Callable[[], Any],
    expected: Any,
    config: RunConfig,
    start: threading.Barrier,
    deadline: list[float],
    log: ThreadLog,
) -> None:
    """Warm up, wait for the others, then call until the deadline (or ``calls`` times)."""
    for _ in range(WARM_UP_CALLS):
        with contextlib.suppress(Exception):  # a failing call fails again in the window, and counts there
            call()
    start.wait(START_TIMEOUT)
    if log.profiler is not None:
        log.profiler.enable()
    count = 0
    clock = time.perf_counter
    while (count < config.calls) if config.calls is not None else (clock() < deadline[0]):
        began = clock()
        try:
            outcome = call()
        except Exception as error:  # counted as a wrong value just below
            outcome = error
        log.latencies.append(clock() - began)
        count += 1
        if outcome != expected:
            log.wrong += 1
            log.first_wrong = log.first_wrong or repr(outcome)[:200]
    if log.profiler is not None:
        log.profiler.disable()


def save_profile(profilers: list[cProfile.Profile], path: str) -> None:
    """All threads' statistics in one pstats file."""
    statistics = pstats.Stats(profilers[0])
    for profiler in profilers[1:]:
        statistics.add(profiler)
    statistics.dump_stats(path)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (as numpy's default)."""
    position = (len(sorted_values) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    weight = position - lower
    return sorted_values[lower] * (1 - weight) + sorted_values[upper] * weight


def run(config: RunConfig) -> dict[str, Any]:
    """Start one thread per port, measure the window in which they poll."""
    if config.repo_root:
        sys.path.insert(0, config.repo_root)
    make = MAKERS[config.driver]
    calls = [make(config, port, index) for index, port in enumerate(config.ports)]
    # Thread CPU time, not wall time: where the CPU goes, not where the thread waits.
    logs = [ThreadLog(profiler=cProfile.Profile(time.thread_time) if config.profile else None) for _ in calls]
    start = threading.Barrier(len(calls) + 1)
    deadline = [time.perf_counter() + 3600.0]  # set for real once all are warm
    threads = [
        threading.Thread(
            target=poll, args=(call, expected_value(config, index), config, start, deadline, log)
        )
        for index, (call, log) in enumerate(zip(calls, logs))
    ]
    for thread in threads:
        thread.start()
    start.wait(START_TIMEOUT)  # every thread has warmed up; the window opens
    usage_before, cpu_before = resource.getrusage(resource.RUSAGE_SELF), time.process_time()
    wall_before = time.perf_counter()
    deadline[0] = wall_before + config.duration
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall_before
    cpu = time.process_time() - cpu_before
    usage = resource.getrusage(resource.RUSAGE_SELF)
    if config.profile:
        save_profile([log.profiler for log in logs if log.profiler is not None], config.profile)
    return summarize(
        config,
        logs,
        wall,
        cpu,
        usage.ru_nvcsw - usage_before.ru_nvcsw,
        usage.ru_nivcsw - usage_before.ru_nivcsw,
    )


def summarize(
    config: RunConfig, logs: list[ThreadLog], wall: float, cpu: float, voluntary: int, involuntary: int
) -> dict[str, Any]:
    """The run's JSON line."""
    latencies = sorted(latency for log in logs for latency in log.latencies)
    transactions = len(latencies)
    per_tx = 1.0 / transactions if transactions else 0.0
    module = sys.modules.get("pymodbus" if config.driver == "pymodbus" else "minimalmodbus")
    return {
        "driver": config.driver,
        "version": getattr(module, "__version__", "-"),
        "file": getattr(module, "__file__", None),
        "python": sys.version.split()[0],
        "threads": len(logs),
        "transactions": transactions,
        "wall_s": wall,
        "tx_per_s": transactions / wall if wall else 0.0,
        "p50_ms": 1e3 * percentile(latencies, 0.5) if latencies else None,
        "p99_ms": 1e3 * percentile(latencies, 0.99) if latencies else None,
        "cpu_ms_per_tx": 1e3 * cpu * per_tx,
        "voluntary_cs_per_tx": voluntary * per_tx,
        "involuntary_cs_per_tx": involuntary * per_tx,
        "wrong": sum(log.wrong for log in logs),
        "first_wrong": next((log.first_wrong for log in logs if log.first_wrong), None),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print(
            __doc__.split("\n\n")[0] + "\nusage: master.py CONFIG_JSON (started by compare.py)",
            file=sys.stderr,
        )
        return 2
    config = RunConfig(**json.loads(argv[0]))
    if config.driver not in MAKERS:
        print(
            f"master.py: unknown driver {config.driver!r}; choose from {', '.join(MAKERS)}", file=sys.stderr
        )
        return 2
    print(json.dumps(run(config)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
