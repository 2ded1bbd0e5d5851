"""Floats, 32-bit integers and strings: one value in two (or four) registers.

    python examples/floats_and_strings.py /dev/ttyUSB0 1

Devices differ in the order of the registers of a value: most put the high
word first (BYTEORDER_BIG, the default), some the low word first
(BYTEORDER_LITTLE_SWAP). The manual's "Byte orders" section lists all four.
A string holds two characters per register.

Without a port, it serves a simulated slave on a pseudo-terminal
(minimalmodbus_simulator; Linux, macOS) and uses that.
"""

from __future__ import annotations

import sys

import minimalmodbus
import minimalmodbus_simulator


def show(port: str, slaveaddress: int) -> None:
    instrument = minimalmodbus.Instrument(port, slaveaddress)
    instrument.serial.timeout = 0.5

    instrument.write_float(20, 3.14)  # registers 20 and 21
    print("float:", instrument.read_float(20))  # 3.140000104904175: the nearest 32-bit float
    instrument.write_float(22, 3.14, number_of_registers=4)  # a 64-bit double in 22..25
    print("double:", instrument.read_float(22, number_of_registers=4))

    instrument.write_long(30, -100000, signed=True, byteorder=minimalmodbus.BYTEORDER_LITTLE_SWAP)
    print(
        "long, low word first:",
        instrument.read_long(30, signed=True, byteorder=minimalmodbus.BYTEORDER_LITTLE_SWAP),
    )
    print("the same registers:", instrument.read_registers(30, 2))

    instrument.write_string(40, "Pump 7", number_of_registers=4)  # padded with spaces to 8 characters
    print("string:", repr(instrument.read_string(40, number_of_registers=4)))

    # Many values in one transaction: read the block, then decode it.
    registers = instrument.read_registers(20, 24)  # registers 20..43
    print("from one block:", minimalmodbus.registers_to_float(registers[0:2]), end=" ")
    print(repr(minimalmodbus.registers_to_string(registers[20:24])))  # registers 40..43


if __name__ == "__main__":
    if len(sys.argv) > 1:
        show(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    else:
        bus = minimalmodbus_simulator.SimulatedBus({1: minimalmodbus_simulator.demo_slave()})
        with minimalmodbus_simulator.PtyServer(bus) as server:
            show(server.path, 1)
            minimalmodbus.forget_ports()  # close our port before the server stops
