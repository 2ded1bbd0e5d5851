#!/usr/bin/env python3
"""Read a register map planned versus one request per value, over a pseudo-terminal with wire emulation.

The slave is the simulator's, built from the map file itself
(``SimulatedSlave(**regmap.slave_tables())``: exactly the declared
registers, exception 2 for the holes), served by
``minimalmodbus_simulator.PtyServer`` on a real pseudo-terminal. Each
answer is held back until its last byte would have arrived on a line of
``--baud`` baud (request and response, 10 bits per character, as
benchmarks/bench.py emulates it), and the driver's inter-frame silence is
set by the same baud rate. Each cycle reads every value of the map:

* ``planned``: ``regmap.read(instrument)``, the planner's requests (max_gap 0);
* ``per value``: ``regmap.read(instrument, [name])`` for each name, one request each.

    python benchmarks/registermap.py                        # examples/maps/eastron_sdm630.csv, 19200 baud
    python benchmarks/registermap.py --map FILE --baud 9600 --cycles 20 --turnaround 10

Prints, per way of reading: requests per cycle, the median and fastest
cycle, and the wire time alone (bytes on the line plus the silences, not
the turnaround) as the physical floor. POSIX only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # this checkout's modules, not installed ones

import minimalmodbus  # noqa: E402  (needs the path above)
import minimalmodbus_simulator as simulator  # noqa: E402
from minimalmodbus_registermap import RegisterMap  # noqa: E402

BITS_PER_CHARACTER = 10  # 8N1, as benchmarks/bench.py
SILENT_CHARACTERS = 3.5  # Serial Line §2.5.1.1 (1.75 ms above 19200 baud)


class WireBus(simulator.SimulatedBus):
    """A bus whose answers arrive when their last byte would have crossed the line."""

    baud = 19200
    turnaround = 0.0  # the slave's own time to answer, seconds

    def __call__(self, request: bytes) -> list[tuple[float, bytes]]:
        answer = b"".join(chunk for _, chunk in super().__call__(request))
        if not answer:
            return []
        return [((len(request) + len(answer)) * BITS_PER_CHARACTER / self.baud + self.turnaround, answer)]


def wire_seconds(frames: list[bytes], answers: list[int], baud: int) -> float:
    """Bytes of requests and answers on the line, plus the silence before each request."""
    character = BITS_PER_CHARACTER / baud
    silence = max(SILENT_CHARACTERS * 11 / baud, 0.00175)  # the driver counts 11 bits per character
    return sum((len(frame) + answer) * character + silence for frame, answer in zip(frames, answers))


def measure(read: Callable[[], object], bus: WireBus, cycles: int) -> tuple[int, list[float], list[bytes]]:
    """Requests per cycle, the seconds of each cycle, the requests of the last cycle."""
    seconds: list[float] = []
    for _ in range(cycles):
        bus.requests.clear()
        start = time.perf_counter()
        read()
        seconds.append(time.perf_counter() - start)
    return len(bus.requests), seconds, list(bus.requests)


def answer_lengths(requests: list[bytes]) -> list[int]:
    """RTU answer lengths of register reads: address, code, count, 2 per register, CRC."""
    return [5 + 2 * int.from_bytes(request[4:6], "big") for request in requests]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--map", default=str(REPO_ROOT / "examples" / "maps" / "eastron_sdm630.csv"))
    parser.add_argument("--baud", type=int, default=19200)
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument(
        "--turnaround", type=float, default=0.0, help="milliseconds a slave takes to answer (default 0)"
    )
    args = parser.parse_args()
    regmap = RegisterMap.load(args.map)
    WireBus.baud = args.baud
    WireBus.turnaround = args.turnaround / 1000
    bus = WireBus({regmap.slaveaddress: simulator.SimulatedSlave(**regmap.slave_tables())})
    names = list(regmap.entries)
    print(
        f"{args.map}: {len(names)} values, {args.baud} baud wire emulation, "
        f"slave turnaround {args.turnaround} ms, {args.cycles} cycles each"
    )
    print(f"{'way':<10} {'requests':>8} {'median s':>9} {'fastest s':>9} {'wire s':>7}")
    with simulator.PtyServer(bus, baudrate=args.baud) as server:
        instrument = minimalmodbus.Instrument(server.path, regmap.slaveaddress)
        instrument.serial.baudrate = args.baud
        instrument.serial.timeout = 1.0
        ways: dict[str, Callable[[], object]] = {
            "planned": lambda: regmap.read(instrument),
            "per value": lambda: [regmap.read(instrument, [name]) for name in names],
        }
        medians = {}
        for way, read in ways.items():
            count, seconds, requests = measure(read, bus, args.cycles)
            medians[way] = statistics.median(seconds)
            wire = wire_seconds(requests, answer_lengths(requests), args.baud)
            print(f"{way:<10} {count:>8} {medians[way]:>9.3f} {min(seconds):>9.3f} {wire:>7.3f}")
        instrument.close()
    print(f"per value / planned: {medians['per value'] / medians['planned']:.1f} x the time per cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
