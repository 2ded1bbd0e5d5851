"""Record a bench session to a file, then replay it to the same code without the device.

The session (what a vendor driver would do) runs once against the device
inside a ``minimalmodbus.Recording``; then ``minimalmodbus_replay`` makes the
recording the answer of every ``dummy_serial`` port, and the same session
gives the same values with no device at all: a test.

    python examples/record_and_replay.py /dev/ttyUSB0 session.jsonl

Without a port, the "device" is a simulated slave on a pseudo-terminal
(minimalmodbus_simulator; Linux, macOS), and the recording goes to
session.jsonl in the current folder.
"""

from __future__ import annotations

import sys

import dummy_serial
import minimalmodbus
import minimalmodbus_replay
import minimalmodbus_simulator


def bench_session(port: str) -> dict[str, object]:
    """What the driver under test does: a few reads of slave 1."""
    with minimalmodbus.Instrument(port, 1) as instrument:
        instrument.serial.timeout = 0.5
        return {
            "register 7": instrument.read_register(7, 1),
            "registers 0..3": instrument.read_registers(0, 4),
            "coils 0..3": instrument.read_bits(0, 4, functioncode=1),
        }


def record_then_replay(port: str, recording: str) -> None:
    """Record the session on ``port``, then replay the file to it through dummy_serial."""
    with minimalmodbus.Recording(recording) as recorder:
        on_the_bench = bench_session(port)
    print(f"On the bench ({recorder.count} transactions recorded to {recording}): {on_the_bench}")
    minimalmodbus.forget_ports()
    minimalmodbus.serial.Serial = dummy_serial.Serial  # as a test does: no device from here on
    replay = minimalmodbus_replay.load_recording(recording)
    replayed = bench_session(port)
    replay.check_complete()  # every recorded answer played, no unexpected request
    print(f"Replayed through dummy_serial: {replayed}")
    print("Same values:", replayed == on_the_bench)


if __name__ == "__main__":
    if len(sys.argv) > 2:
        record_then_replay(sys.argv[1], sys.argv[2])
    else:
        bus = minimalmodbus_simulator.SimulatedBus({1: minimalmodbus_simulator.demo_slave()})
        with minimalmodbus_simulator.PtyServer(bus) as server:
            record_then_replay(server.path, "session.jsonl")
            minimalmodbus.forget_ports()  # close our port before the server stops
