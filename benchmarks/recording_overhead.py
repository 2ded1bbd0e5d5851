"""What recording costs: bench.py with and without ``--record``, interleaved; median ratios.

Runs ``bench.py --json`` REPEAT times without and REPEAT times with
``--record FILE`` (a new file each run, in a temporary folder), alternating
which goes first, and prints per workload the median CPU per transaction of
each and the median of the paired ratios (with / without), and the same for
the median latency::

    .venv/bin/python benchmarks/recording_overhead.py                # 5 pairs, 2000 calls per workload
    .venv/bin/python benchmarks/recording_overhead.py --repeat 9 --iterations 5000
    .venv/bin/python benchmarks/recording_overhead.py --in-process   # the driver alone, no kernel

``--in-process`` measures the driver alone, without the pseudo-terminal's
noise: ``read_register`` against a ``dummy_serial`` port whose answer is
there at once, CPU time (``time.process_time``) per call without and with a
``Recording`` to an in-memory file, interleaved; it prints the medians, their
ratio and their difference.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent / "bench.py"
WORKLOADS = "read_register,read_registers,write_registers,read_bits,exception"


def run_bench(iterations: int, record: Path | None) -> dict[str, dict[str, Any]]:
    """One bench.py run: workload -> its result."""
    command = [
        sys.executable,
        str(BENCH),
        "--json",
        "--iterations",
        str(iterations),
        "--workloads",
        WORKLOADS,
    ]
    if record is not None:
        command += ["--record", str(record)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    return {result["workload"]: result for result in json.loads(done.stdout)["results"]}


def in_process(repeat: int, iterations: int) -> None:
    """The driver's own CPU per read_register, without and with a Recording (see the docstring)."""
    sys.path.insert(0, str(BENCH.parent.parent))
    import io

    import dummy_serial
    import minimalmodbus
    from minimalmodbus_simulator import build_frame

    answer = build_frame("rtu", 1, bytes.fromhex("030207d0"))
    port = dummy_serial.Serial("/dev/bench", baudrate=10**9)  # no wire time
    port.responder = lambda request: [(0.0, answer)]
    instrument = minimalmodbus.Instrument(port, 1)
    instrument.inter_frame_delay = 0

    def microseconds_per_call() -> float:
        start = time.process_time()
        for _ in range(iterations):
            instrument.read_register(0)
        return (time.process_time() - start) / iterations * 1e6

    without: list[float] = []
    with_recording: list[float] = []
    for _ in range(repeat):
        without.append(microseconds_per_call())
        with minimalmodbus.Recording(io.StringIO()):
            with_recording.append(microseconds_per_call())
    low, high = statistics.median(without), statistics.median(with_recording)
    print(
        f"read_register, in process: {low:.1f} us without, {high:.1f} us with a Recording "
        f"(medians of {repeat} interleaved runs of {iterations}): {high / low:.2f} x, +{high - low:.1f} us"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="pairs of runs (default 5)")
    parser.add_argument(
        "--iterations", type=int, default=2000, help="calls per workload and run (default 2000)"
    )
    parser.add_argument("--in-process", action="store_true", help="the driver alone (see above)")
    args = parser.parse_args()
    if args.in_process:
        in_process(args.repeat, args.iterations)
        return 0
    pairs: list[tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]] = []
    with tempfile.TemporaryDirectory() as folder:
        for number in range(args.repeat):
            record = Path(folder) / f"run{number}.jsonl"
            if number % 2:
                with_recording, without = run_bench(args.iterations, record), run_bench(args.iterations, None)
            else:
                without, with_recording = run_bench(args.iterations, None), run_bench(args.iterations, record)
            pairs.append((without, with_recording))
            lines = record.read_text(encoding="utf-8").count("\n") - 1
            print(f"pair {number + 1}: recorded {lines} transactions", file=sys.stderr)
    print(
        "| workload | CPU ms/tx without | CPU ms/tx with | CPU with/without "
        "| p50 ms without | p50 ms with | p50 with/without |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for workload in WORKLOADS.split(","):
        cpu = [(a[workload]["cpu_ms_per_tx"], b[workload]["cpu_ms_per_tx"]) for a, b in pairs]
        p50 = [(a[workload]["p50_ms"], b[workload]["p50_ms"]) for a, b in pairs]
        columns = [
            statistics.median(x for x, _ in cpu),
            statistics.median(y for _, y in cpu),
            statistics.median(y / x for x, y in cpu),
            statistics.median(x for x, _ in p50),
            statistics.median(y for _, y in p50),
            statistics.median(y / x for x, y in p50),
        ]
        print(f"| {workload} | " + " | ".join(f"{value:.4f}" for value in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
