"""Poll several instruments on one serial port (an RS-485 bus) from threads.

Instruments made with the same port name share one port, and every
transaction on a port holds that port's lock: threads take turns on the
bus, and each answer goes to the thread that asked. Each thread reads
holding registers 0..3 of its slave a few times.

    python examples/threads_one_port.py /dev/ttyUSB0 1 2 3

Without a port, it serves simulated slaves 1, 2 and 3 on a pseudo-terminal
(minimalmodbus_simulator; Linux, macOS) and polls those.
"""

from __future__ import annotations

import sys
import threading

import minimalmodbus
import minimalmodbus_simulator

POLLS = 5


def poll(port: str, slaveaddress: int, results: dict[int, list[list[int]]]) -> None:
    """Read registers 0..3 of one slave POLLS times."""
    instrument = minimalmodbus.Instrument(port, slaveaddress)
    instrument.serial.timeout = 0.5
    results[slaveaddress] = [instrument.read_registers(0, 4) for _ in range(POLLS)]


def poll_all(port: str, slaveaddresses: list[int]) -> None:
    """One thread per slave; print what each read."""
    results: dict[int, list[list[int]]] = {}
    threads = [threading.Thread(target=poll, args=(port, address, results)) for address in slaveaddresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for slaveaddress in slaveaddresses:
        print(f"slave {slaveaddress}: {len(results[slaveaddress])} polls, last {results[slaveaddress][-1]}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        poll_all(sys.argv[1], [int(address) for address in sys.argv[2:]] or [1])
    else:
        slaves = {address: minimalmodbus_simulator.demo_slave() for address in (1, 2, 3)}
        with minimalmodbus_simulator.PtyServer(minimalmodbus_simulator.SimulatedBus(slaves)) as server:
            poll_all(server.path, [1, 2, 3])
            minimalmodbus.forget_ports()  # close our port before the server stops
