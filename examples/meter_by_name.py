"""Read an energy meter by name, from its register map (examples/maps/eastron_sdm120.csv).

The map says where each value is, its type, scale and unit; the planner
reads them all in as few requests as the map's holes allow, and never
reads a register the map does not declare.

    python examples/meter_by_name.py /dev/ttyUSB0

Without a port, it serves a simulated meter on a pseudo-terminal
(minimalmodbus_simulator, holding the map's default values; Linux, macOS)
and reads that.
"""

from __future__ import annotations

import sys
from pathlib import Path

import minimalmodbus
import minimalmodbus_simulator
from minimalmodbus_registermap import RegisterMap

METER_MAP = Path(__file__).resolve().parent / "maps" / "eastron_sdm120.csv"


def read_meter(port: str, regmap: RegisterMap) -> None:
    """Read every value of the map once; print them, and how many requests that took."""
    with minimalmodbus.Instrument(port, regmap.slaveaddress) as instrument:
        instrument.serial.timeout = 0.5
        values = regmap.read(instrument)
    for name, value in values.items():
        print(f"{name:28} {value:>12} {regmap.entries[name].unit}".rstrip())
    print(f"{len(values)} values in {len(regmap.plan())} requests")


if __name__ == "__main__":
    meter_map = RegisterMap.load(METER_MAP)
    if len(sys.argv) > 1:
        read_meter(sys.argv[1], meter_map)
    else:
        meter = minimalmodbus_simulator.SimulatedSlave(**meter_map.slave_tables())
        bus = minimalmodbus_simulator.SimulatedBus({meter_map.slaveaddress: meter})
        with minimalmodbus_simulator.PtyServer(bus) as server:
            read_meter(server.path, meter_map)
            minimalmodbus.forget_ports()  # close our port before the server stops
