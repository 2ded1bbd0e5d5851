"""Read a temperature through the whole MinimalModbus stack, without hardware.

dummy_serial stands in for pyserial and answers with a frame recorded from a
Delta DTB4824 process controller (slave address 10, RTU): register 4097 holds
2000, which with one decimal is 200.0 degrees.
"""

import dummy_serial
import minimalmodbus

# Recorded with debug mode from the DTB4824 (doc/debugging.rst shows how to record):
# read_register(4097, 1) -> 0x07D0 = 2000 -> 200.0
dummy_serial.RESPONSES[bytes.fromhex("0A 03 10 01 00 01 D0 71")] = bytes.fromhex("0A 03 02 07 D0 1E 29")
minimalmodbus.serial.Serial = dummy_serial.Serial

instrument = minimalmodbus.Instrument("/dev/ttyUSB0", 10, debug=True)
temperature = instrument.read_register(4097, 1)
print(f"Temperature read through minimalmodbus and dummy_serial: {temperature}")
