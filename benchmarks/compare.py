#!/usr/bin/env python3
"""MinimalModbus side by side with its peers, on one port or on K ports polled from K threads.

Each run starts ``master.py`` (the measured process) with one master:

- ``ours``: this checkout's ``minimalmodbus.py``;
- ``bare``: plain ``os.write``/``select``/``os.read`` with the same
  inter-frame ``time.sleep``, no checks: the floor of this machine;
- ``mm211``: MinimalModbus 2.1.1, and ``pymodbus``: its synchronous
  ``ModbusSerialClient`` with the RTU framer. Both come from a virtualenv
  that this script creates (``~/.cache/minimalmodbus-bench/venv``); they are
  never dependencies of the package or its tests.

K pseudo-terminal pairs each get a zero-delay responder of ``bench.py`` (the
simulator's slave, in its own child process). The measured process opens
one port per thread and polls it for ``--duration`` seconds. Runs are
interleaved (every master and workload once per repetition, the order of the
masters rotating), and the tables give medians over the repetitions and
paired ratios (the median over repetitions of ours / that master).

    python benchmarks/compare.py                      # 1 port, all four masters
    python benchmarks/compare.py --ports 1,8,32       # and 8 and 32 ports, 8 and 32 threads
    python benchmarks/compare.py --strace 2000        # also system calls per transaction
    python benchmarks/compare.py --tcp                # Modbus TCP on loopback: bare, ours, pymodbus

With ``--tcp`` the line is Modbus TCP on the loopback interface: one
simulator server (``python -m minimalmodbus_simulator --tcp 127.0.0.1:0``, in
its own process, so its CPU and its GIL are not the measured process's)
serves every master in turn, over a connection of its own per run. The
masters are the bare one (a plain socket), ours (``Instrument("tcp://...",
1)``) and pymodbus' ``ModbusTcpClient``; MinimalModbus 2.1.1 has no TCP.

See benchmarks/README.md for the columns and the results on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import venv
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import bench  # the responder, the pty pair and the request frames (benchmarks/ is on sys.path)

BENCH_DIR = Path(__file__).resolve().parent
MASTER_SCRIPT = BENCH_DIR / "master.py"
# Outside the checkout: "graft benchmarks" would put a virtualenv in the source archive.
DEFAULT_PEERS_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "minimalmodbus-bench"
# The peers under test, pinned: change a pin and the virtualenv is rebuilt.
PEER_PINS = ("minimalmodbus==2.1.1", "pymodbus==3.16.1", "pyserial==3.5")
MASTERS = ("bare", "ours", "mm211", "pymodbus")
TCP_MASTERS = ("bare", "ours", "pymodbus")  # MinimalModbus 2.1.1 has no Modbus TCP
PEER_MASTERS = {"mm211", "pymodbus"}
# workload -> (registers read, reply bytes): thread k reads from register k
WORKLOADS = {"read_register": (1, 7), "read_registers": (100, 205)}
# Modbus TCP (the simulator's demo slaves): workload -> (first register, registers, answer bytes with MBAP)
TCP_WORKLOADS = {"read_register": (7, 1, 11), "read_registers": (0, 100, 209)}
TCP_SERVER_START_TIMEOUT = 30.0  # seconds for the simulator to print its URL
RUN_TIMEOUT_MARGIN = 120.0  # seconds a run may take beyond its duration


# ---------------------------------------------------------------------------
# The peers' virtualenv
# ---------------------------------------------------------------------------


def peer_python(directory: Path) -> Path:
    """The peers' interpreter: create the virtualenv, or rebuild it if a pin changed."""
    python = directory / "venv" / "bin" / "python"
    stamp = directory / "pins.txt"
    wanted = "\n".join(PEER_PINS) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"compare.py: creating {directory / 'venv'} with {' '.join(PEER_PINS)}", file=sys.stderr)
    shutil.rmtree(directory / "venv", ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    venv.create(directory / "venv", with_pip=True, clear=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *PEER_PINS], check=True)
    stamp.write_text(wanted)
    return python


# ---------------------------------------------------------------------------
# Lines: K pty pairs, each with its responder
# ---------------------------------------------------------------------------


@contextmanager
def lines(count: int, silence: float) -> Iterator[list[tuple[bench.PtyPair, bench.ResponderProcess]]]:
    """K pty pairs with a zero-delay responder each; everything closed on exit."""
    opened: list[tuple[bench.PtyPair, bench.ResponderProcess]] = []
    pairs: list[bench.PtyPair] = []
    try:
        for _ in range(count):
            pair = bench.PtyPair()
            pairs.append(pair)
            opened.append((pair, bench.ResponderProcess(pair, bench.ResponderConfig(None, 10, silence, 0))))
        yield opened
    finally:
        for _, responder in opened:
            responder.close()
        for pair in pairs:
            pair.close()


def short_gaps(opened: Sequence[tuple[bench.PtyPair, bench.ResponderProcess]]) -> int:
    """Requests sent sooner than the silence since the last call (and reset the counters)."""
    return sum(int(responder.command("stats")["short_gaps"]) for _, responder in opened)


# ---------------------------------------------------------------------------
# Modbus TCP: one simulator server in its own process
# ---------------------------------------------------------------------------


@contextmanager
def tcp_server() -> Iterator[str]:
    """``python -m minimalmodbus_simulator --tcp 127.0.0.1:0`` in a child process; its URL.

    The child serves the simulator's demo slaves (holding register n holds
    10 x n) on a free loopback port, one thread per connection. It is
    stopped with SIGINT (as Ctrl-C), killed if it does not stop.
    """
    command = [sys.executable, "-m", "minimalmodbus_simulator", "--tcp", "127.0.0.1:0"]
    process = subprocess.Popen(
        command, cwd=bench.REPO_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        ready = select.select([process.stdout], [], [], TCP_SERVER_START_TIMEOUT)[0]
        line = process.stdout.readline() if ready else ""
        match = re.search(r" on (tcp://\S+) \(Modbus TCP\)\. Press Ctrl-C to stop\.", line)
        if match is None:
            raise RuntimeError(f"the simulator's TCP server did not start: {line!r}")
        yield match.group(1)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


@contextmanager
def endpoints(count: int, settings: Settings) -> Iterator[tuple[list[str], Callable[[], int | None]]]:
    """The ports the masters open, and how to read (and reset) the short gaps since the last read.

    On pseudo-terminals: K pty pairs, a responder each. Over TCP: one
    server's URL (no silence on TCP, so no short gaps: None).
    """
    if settings.tcp:
        with tcp_server() as url:
            yield [url] * count, lambda: None
        return
    with lines(count, settings.silence) as opened:
        yield [pair.path for pair, _ in opened], lambda: short_gaps(opened)


# ---------------------------------------------------------------------------
# One run of the measured process
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What every run shares."""

    baudrate: int
    timeout: float
    silence: float
    duration: float
    pythons: dict[str, str]  # master -> interpreter
    tcp: bool = False  # Modbus TCP on loopback against one simulator server


def master_config(master: str, workload: str, ports: list[str], settings: Settings) -> dict[str, Any]:
    """The JSON argument of master.py."""
    if settings.tcp:
        first, registers, reply_bytes = TCP_WORKLOADS[workload]
        frames = [(tcp_request_frame(first, registers).hex(), reply_bytes) for _ in ports]
    else:
        registers, reply_bytes = WORKLOADS[workload]
        frames = [
            (bench.request_frame(bench.SLAVE_ADDRESS, 3, index, registers).hex(), reply_bytes)
            for index in range(len(ports))
        ]
    return {
        "driver": master,
        "ports": ports,
        "workload": workload,
        "baudrate": settings.baudrate,
        "timeout": settings.timeout,
        "silence": settings.silence,
        "duration": settings.duration,
        "repo_root": str(bench.REPO_ROOT) if master == "ours" else None,
        "bare_frames": frames,
        "tcp": settings.tcp,
    }


def tcp_request_frame(first: int, registers: int) -> bytes:
    """A Modbus TCP request (MBAP header, transaction id 1) reading holding registers."""
    return struct.pack(">HHHBBHH", 1, 0, 6, bench.SLAVE_ADDRESS, 3, first, registers)


def run_master(python: str, config: dict[str, Any], prefix: Sequence[str] = ()) -> dict[str, Any]:
    """Run master.py once; its JSON line, or RuntimeError with its stderr."""
    command = [*prefix, python, str(MASTER_SCRIPT), json.dumps(config)]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=config["duration"] + RUN_TIMEOUT_MARGIN
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{config['driver']} failed (status {completed.returncode}):\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def measure_ports(
    port_count: int, masters: Sequence[str], workloads: Sequence[str], repeat: int, settings: Settings
) -> list[dict[str, Any]]:
    """Every master and workload, ``repeat`` times interleaved, on K fresh lines."""
    records = []
    with endpoints(port_count, settings) as (ports, gaps):
        for repetition in range(repeat):
            order = [*masters[repetition % len(masters) :], *masters[: repetition % len(masters)]]
            for workload in workloads:
                for master in order:
                    gaps()  # reset the responders' counters
                    config = master_config(master, workload, ports, settings)
                    result = run_master(settings.pythons[master], config)
                    result.update(ports=port_count, workload=workload, master=master, repetition=repetition)
                    result["short_gaps"] = gaps()
                    records.append(result)
                    print(
                        f"  {port_count} port(s) {workload} {master} run {repetition + 1}/{repeat}: "
                        f"{result['tx_per_s']:.0f} tx/s",
                        file=sys.stderr,
                        flush=True,
                    )
    return records


# ---------------------------------------------------------------------------
# System calls per transaction (strace -c -f)
# ---------------------------------------------------------------------------


def strace_counts(python: str, config: dict[str, Any]) -> Counter[str]:
    """System calls of one run of master.py, by name, from ``strace -c -f``."""
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "strace.txt"
        run_master(python, config, prefix=("strace", "-c", "-f", "-o", str(output)))
        return parse_strace_summary(output.read_text())


def parse_strace_summary(text: str) -> Counter[str]:
    """The calls column of ``strace -c`` by system call name (the total row left out)."""
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or not fields[0][0].isdigit() or fields[-1] == "total":
            continue
        counts[fields[-1]] += int(fields[3])
    return counts


def measure_syscalls(
    port_count: int, masters: Sequence[str], workloads: Sequence[str], calls: int, settings: Settings
) -> list[dict[str, Any]]:
    """System calls per transaction: a run of ``calls`` (split over the threads) minus a run of 0."""
    records = []
    with endpoints(port_count, settings) as (ports, _):
        for workload in workloads:
            for master in masters:
                config = master_config(master, workload, ports, settings)
                python = settings.pythons[master]
                per_thread = max(1, calls // port_count)
                measured = strace_counts(python, {**config, "calls": per_thread})
                baseline = strace_counts(python, {**config, "calls": 0})
                transactions = per_thread * port_count
                per_tx = {
                    name: (measured[name] - baseline[name]) / transactions for name in measured | baseline
                }
                per_tx = {name: value for name, value in per_tx.items() if abs(value) >= 0.05}
                records.append(
                    {
                        "ports": port_count,
                        "workload": workload,
                        "master": master,
                        "calls": transactions,
                        "syscalls_per_tx": sum(per_tx.values()),
                        "by_name": dict(sorted(per_tx.items(), key=lambda item: -item[1])),
                    }
                )
                print(
                    f"  strace {port_count} port(s) {workload} {master}: "
                    f"{records[-1]['syscalls_per_tx']:.1f} per transaction",
                    file=sys.stderr,
                    flush=True,
                )
    return records


# ---------------------------------------------------------------------------
# Where ours spends its time (cProfile)
# ---------------------------------------------------------------------------


def profile_ours(
    port_count: int, workloads: Sequence[str], top: int, settings: Settings
) -> list[dict[str, Any]]:
    """One run of ours per workload under cProfile (thread CPU time): the ``top`` functions by own CPU."""
    records = []
    with endpoints(port_count, settings) as (ports, _), tempfile.TemporaryDirectory() as directory:
        for workload in workloads:
            path = str(Path(directory) / f"{workload}.pstats")
            config = {**master_config("ours", workload, ports, settings), "profile": path}
            transactions = run_master(settings.pythons["ours"], config)["transactions"]
            entries = pstats.Stats(path).stats  # type: ignore[attr-defined]  # (no stub for .stats)
            total = sum(entry[2] for entry in entries.values())
            ranked = sorted(entries.items(), key=lambda item: -item[1][2])[:top]
            for (filename, line, function), (_, calls, own, cumulative, _) in ranked:
                records.append(
                    {
                        "ports": port_count,
                        "workload": workload,
                        "function": f"{function} ({Path(filename).name}:{line})",
                        "calls_per_tx": calls / transactions,
                        "own_us_per_tx": 1e6 * own / transactions,
                        "cumulative_us_per_tx": 1e6 * cumulative / transactions,
                        "total_us_per_tx": 1e6 * total / transactions,
                    }
                )
    return records


# ---------------------------------------------------------------------------
# Medians and paired ratios
# ---------------------------------------------------------------------------

MEDIAN_FIELDS = (
    "tx_per_s",
    "p50_ms",
    "p99_ms",
    "cpu_ms_per_tx",
    "voluntary_cs_per_tx",
    "involuntary_cs_per_tx",
)
# ratio name -> the field divided, ours / this master
RATIOS = {"cpu_ratio": "cpu_ms_per_tx", "tx_ratio": "tx_per_s", "p50_ratio": "p50_ms"}


def paired_ratio(
    records: Sequence[dict[str, Any]], ours: Sequence[dict[str, Any]], field: str
) -> float | None:
    """The median over repetitions of ours / this master, run by run."""
    by_repetition = {record["repetition"]: record[field] for record in ours}
    ratios = [
        by_repetition[record["repetition"]] / record[field]
        for record in records
        if record["repetition"] in by_repetition and record[field]
    ]
    return statistics.median(ratios) if ratios else None


def aggregate(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (ports, workload, master): medians, sums and paired ratios."""
    groups: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault((record["ports"], record["workload"], record["master"]), []).append(record)
    rows = []
    for (port_count, workload, master), group in groups.items():
        row: dict[str, Any] = {"ports": port_count, "workload": workload, "master": master}
        row.update(version=group[0]["version"], runs=len(group))
        row.update({name: statistics.median(record[name] for record in group) for name in MEDIAN_FIELDS})
        gaps = [record["short_gaps"] for record in group if record["short_gaps"] is not None]
        row.update(wrong=sum(record["wrong"] for record in group), short_gaps=sum(gaps) if gaps else None)
        row["first_wrong"] = next((record["first_wrong"] for record in group if record["first_wrong"]), None)
        ours = groups.get((port_count, workload, "ours"), [])
        row.update({name: paired_ratio(group, ours, field) for name, field in RATIOS.items()})
        single = groups.get((1, workload, master))
        row["scaling"] = None
        if single and port_count > 1:
            row["scaling"] = row["tx_per_s"] / (port_count * statistics.median(r["tx_per_s"] for r in single))
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------


def _number(spec: str, key: str) -> Callable[[dict[str, Any]], str]:
    return lambda row: "-" if row.get(key) is None else format(row[key], spec)


COLUMNS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("master", lambda row: row["master"]),
    ("version", lambda row: str(row["version"])),
    ("tx/s", _number(".0f", "tx_per_s")),
    ("p50 ms", _number(".3f", "p50_ms")),
    ("p99 ms", _number(".3f", "p99_ms")),
    ("CPU ms/tx", _number(".3f", "cpu_ms_per_tx")),
    ("vol cs/tx", _number(".2f", "voluntary_cs_per_tx")),
    ("invol cs/tx", _number(".2f", "involuntary_cs_per_tx")),
    ("wrong", _number("d", "wrong")),
    ("short gaps", _number("d", "short_gaps")),
    ("ours/this CPU", _number(".2f", "cpu_ratio")),
    ("ours/this tx/s", _number(".2f", "tx_ratio")),
    ("ours/this p50", _number(".2f", "p50_ratio")),
    ("tx/s / (K x 1 port)", _number(".2f", "scaling")),
]
SYSCALL_COLUMNS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("ports", lambda row: str(row["ports"])),
    ("workload", lambda row: row["workload"]),
    ("master", lambda row: row["master"]),
    ("syscalls/tx", _number(".1f", "syscalls_per_tx")),
    ("by name", lambda row: ", ".join(f"{name} {value:.1f}" for name, value in row["by_name"].items())),
]


TEXT_COLUMNS = {"master", "version", "workload", "by name", "function"}  # left-aligned


def render(
    columns: Sequence[tuple[str, Callable[[dict[str, Any]], str]]],
    rows: Sequence[dict[str, Any]],
    markdown: bool,
) -> list[str]:
    """An aligned text table, or a Markdown one."""
    cells = [[heading for heading, _ in columns]] + [[cell(row) for _, cell in columns] for row in rows]
    if markdown:
        rule = "|" + "|".join("---" if heading in TEXT_COLUMNS else "---:" for heading in cells[0]) + "|"
        lines = ["| " + " | ".join(cells[0]) + " |", rule]
        return lines + ["| " + " | ".join(row) + " |" for row in cells[1:]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(columns))]
    return [
        "  ".join(
            text.ljust(width) if cells[0][column] in TEXT_COLUMNS else text.rjust(width)
            for column, (text, width) in enumerate(zip(row, widths))
        )
        for row in cells
    ]


PROFILE_COLUMNS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("ports", lambda row: str(row["ports"])),
    ("workload", lambda row: row["workload"]),
    ("function", lambda row: row["function"]),
    ("calls/tx", _number(".1f", "calls_per_tx")),
    ("own CPU us/tx", _number(".1f", "own_us_per_tx")),
    ("cumulative CPU us/tx", _number(".1f", "cumulative_us_per_tx")),
]


@dataclass
class Measurements:
    """Everything one invocation measured."""

    runs: list[dict[str, Any]]
    syscalls: list[dict[str, Any]]
    profile: list[dict[str, Any]]


def report(measurements: Measurements, rows: Sequence[dict[str, Any]], args: argparse.Namespace) -> str:
    """Tables per (ports, workload), then the system calls and the profile, then notes."""
    line = (
        "Modbus TCP on loopback, one simulator server (its own process); "
        if args.tcp
        else f"zero-delay responders; baudrate {args.baudrate}, "
    )
    lines = [
        f"Python {platform.python_version()}, {platform.platform()}, {os.cpu_count()} CPUs; {line}"
        f"timeout {args.timeout * 1e3:g} ms; medians of "
        f"{args.repeat} interleaved runs of {args.duration:g} s per master and workload",
    ]
    for port_count in args.ports:
        for workload in args.workloads:
            group = [row for row in rows if row["ports"] == port_count and row["workload"] == workload]
            what = (
                f"Modbus TCP, {TCP_WORKLOADS[workload][1]} register(s)"
                if args.tcp
                else f"{port_count} port(s), {port_count} thread(s)"
            )
            lines += ["", f"{what}, {workload}:", ""]
            lines += render(COLUMNS, group, args.markdown)
    if measurements.syscalls:
        lines += [
            "",
            "System calls per transaction (strace -c -f: N calls over all threads minus 0 calls):",
            "",
        ]
        lines += render(SYSCALL_COLUMNS, measurements.syscalls, args.markdown)
    if measurements.profile:
        totals = {(row["workload"], round(row["total_us_per_tx"], 1)) for row in measurements.profile}
        total_text = ", ".join(f"{workload} {total} us" for workload, total in sorted(totals))
        lines += [
            "",
            f"Where ours spends its CPU (cProfile, thread CPU time, inflated: {total_text} per transaction):",
            "",
        ]
        lines += render(PROFILE_COLUMNS, measurements.profile, args.markdown)
    lines += [
        "",
        "ours/this: median over runs of ours divided by this master (CPU or p50 below 1, "
        "tx/s above 1: ours is better); tx/s / (K x 1 port): against K times the single-port rate",
    ]
    lines += [
        f"{row['ports']} port(s) {row['workload']} {row['master']}: {row['wrong']} wrong, "
        f"first: {row['first_wrong']}"
        for row in rows
        if row["wrong"]
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _names(allowed: Sequence[str]) -> Callable[[str], list[str]]:
    def convert(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"unknown {unknown!r}; choose from {', '.join(allowed)}")
        return names

    return convert


def _port_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1 or max(counts) > bench.MAP_SIZE - 100:
        raise argparse.ArgumentTypeError(f"a comma-separated list of port counts 1..900, got {text!r}")
    return counts


# (option, metavar, type, default, help)
OPTIONS: list[tuple[str, str, Callable[[str], Any], Any, str]] = [
    ("--ports", "K,K", _port_counts, [1], "port counts, e.g. 1,8,32 (default 1)"),
    (
        "--masters",
        "M,M",
        _names(MASTERS),
        None,
        f"subset of {','.join(MASTERS)} (default: all; with --tcp {','.join(TCP_MASTERS)})",
    ),
    ("--workloads", "W,W", _names(list(WORKLOADS)), list(WORKLOADS), "subset of " + ",".join(WORKLOADS)),
    ("--repeat", "R", bench.positive(int), 3, "interleaved repetitions (default 3)"),
    ("--duration", "S", bench.positive(float), 2.0, "seconds per run (default 2)"),
    ("--baudrate", "B", bench.positive(int), 115200, "port baudrate, sets the silence (default 115200)"),
    ("--timeout", "S", bench.positive(float), 0.05, "port timeout in s (default 0.05)"),
    (
        "--strace",
        "N",
        bench.positive(int, or_zero=True),
        0,
        "also count system calls per transaction (strace -c -f, N calls in all)",
    ),
    (
        "--profile",
        "N",
        bench.positive(int, or_zero=True),
        0,
        "also profile ours (cProfile): the N functions with most own CPU",
    ),
    (
        "--peers-dir",
        "DIR",
        Path,
        DEFAULT_PEERS_DIR,
        "the peers' virtualenv (default ~/.cache/minimalmodbus-bench)",
    ),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="MinimalModbus (this checkout) side by side with a bare master, MinimalModbus 2.1.1 "
        "and pymodbus, on 1 or K pseudo-terminals polled from K threads, or (--tcp) over Modbus TCP "
        "on loopback.",
        epilog="Peers are installed in a virtualenv under --peers-dir (" + ", ".join(PEER_PINS) + "). "
        "Exit status: 0 ok, 1 wrong values or a master failed, 2 bad usage, 130 interrupted.",
    )
    for option, metavar, kind, default, text in OPTIONS:
        parser.add_argument(option, metavar=metavar, type=kind, default=default, help=text)
    parser.add_argument(
        "--tcp",
        action="store_true",
        help="Modbus TCP on loopback against one simulator server in its own process "
        "(masters bare, ours, pymodbus; one port)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--markdown", action="store_true", help="print Markdown tables")
    output.add_argument("--json", action="store_true", help="print every run and the medians as JSON")
    return parser


def settings_for(args: argparse.Namespace) -> Settings:
    """Interpreters per master (creating the peers' virtualenv if needed) and the shared settings."""
    pythons = {"ours": sys.executable, "bare": sys.executable}
    if PEER_MASTERS & set(args.masters):
        peers = str(peer_python(args.peers_dir))
        pythons.update(mm211=peers, pymodbus=peers)
    silence = bench.inter_frame_silence(args.baudrate, 10)
    return Settings(args.baudrate, args.timeout, silence, args.duration, pythons, args.tcp)


def measure_all(args: argparse.Namespace, settings: Settings) -> Measurements:
    """The runs for every port count, then the system calls and the profile if asked for."""
    runs, syscalls, profile = [], [], []
    for count in args.ports:
        runs += measure_ports(count, args.masters, args.workloads, args.repeat, settings)
    if args.strace:
        for count in args.ports:
            syscalls += measure_syscalls(count, args.masters, args.workloads, args.strace, settings)
    if args.profile:
        profile = profile_ours(min(args.ports), args.workloads, args.profile, settings)
    return Measurements(runs, syscalls, profile)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.strace and shutil.which("strace") is None:
        parser.error("--strace needs strace (e.g. apt-get install strace)")
    if args.masters is None:
        args.masters = list(TCP_MASTERS if args.tcp else MASTERS)
    if args.tcp and "mm211" in args.masters:
        parser.error(
            "--tcp: MinimalModbus 2.1.1 (mm211) has no Modbus TCP; choose from " + ",".join(TCP_MASTERS)
        )
    if args.tcp and args.ports != [1]:
        parser.error("--tcp measures one connection per master (--ports 1); ours shares one per host:port")
    try:
        measurements = measure_all(args, settings_for(args))
    except KeyboardInterrupt:
        print("compare.py: interrupted", file=sys.stderr)
        return 130
    except (RuntimeError, subprocess.SubprocessError, OSError) as error:
        print(f"compare.py: {error}", file=sys.stderr)
        return 1
    rows = aggregate(measurements.runs)
    if args.json:
        print(json.dumps({**asdict(measurements), "medians": rows}, indent=2))
    else:
        print(report(measurements, rows, args))
    return 1 if any(row["wrong"] for row in rows) else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, bench._stop_on_sigterm)  # stop as on Ctrl-C: children closed
    sys.exit(main())
