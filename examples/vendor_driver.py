"""A vendor driver: the Delta DTB4824 process controller as a class of its own.

Subclass minimalmodbus.Instrument and give each register of the device's
manual a method with a name from that manual. The program using it then
reads like the manual: ``controller.get_setpoint()``.

test_vendor_driver.py, next to this file, tests the driver without the
device, with frames recorded from it; run it with
``python -m pytest examples/test_vendor_driver.py``.

Run this file with the controller's port: ``python examples/vendor_driver.py /dev/ttyUSB0``.
"""

from __future__ import annotations

import sys

import minimalmodbus

SETPOINT = 0x1001  # register 4097: the setpoint, 0.1 degree per unit
RUN = 0x0814  # bit 2068: 1 while the controller runs (read with function code 2, written with 5)


class Dtb4824(minimalmodbus.Instrument):
    """Delta DTB4824 process controller (slave address 10 unless set otherwise on the device)."""

    def __init__(self, port: str, slaveaddress: int = 10) -> None:
        super().__init__(port, slaveaddress)
        self.serial.baudrate = 19200  # the device's factory setting, 8N1

    def get_setpoint(self) -> float:
        """The setpoint in degrees."""
        return float(self.read_register(SETPOINT, number_of_decimals=1))

    def set_setpoint(self, degrees: float) -> None:
        """Set the setpoint, in degrees (0.1 degree resolution)."""
        self.write_register(SETPOINT, degrees, number_of_decimals=1)

    def is_running(self) -> bool:
        """True while the controller runs."""
        return self.read_bit(RUN, functioncode=2) == 1

    def run(self) -> None:
        """Start the controller."""
        self.write_bit(RUN, 1)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python examples/vendor_driver.py PORT")
    controller = Dtb4824(sys.argv[1])
    print(f"Setpoint {controller.get_setpoint()} degrees, running: {controller.is_running()}")
