"""Log values of an instrument to a CSV file: a time stamp and one column per register.

    python examples/log_to_csv.py /dev/ttyUSB0 log.csv --slave 1 --register 0 --count 4 --polls 10

A poll that fails is logged as a row with the error instead of the values,
and the logging goes on. Open the file in a spreadsheet, or read it back
with Python's csv module.
"""

from __future__ import annotations

import argparse
import csv
import time
from datetime import datetime, timezone

import minimalmodbus


def log(instrument: minimalmodbus.Instrument, writer: csv.DictWriter[str], register: int, count: int) -> None:
    """One poll: one row."""
    row: dict[str, object] = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds")}
    try:
        values = instrument.read_registers(register, count)
    except minimalmodbus.ModbusException as error:
        row["error"] = f"{type(error).__name__}: {error}"
    else:
        row.update({f"register {register + index}": value for index, value in enumerate(values)})
    writer.writerow(row)


def main() -> None:
    parser = argparse.ArgumentParser(description="Log registers of a Modbus slave to a CSV file.")
    parser.add_argument("port")
    parser.add_argument("csvfile")
    parser.add_argument("--slave", type=int, default=1)
    parser.add_argument("--register", type=int, default=0)
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--polls", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    args = parser.parse_args()
    columns = ["time", *(f"register {args.register + index}" for index in range(args.count)), "error"]
    with (
        minimalmodbus.Instrument(args.port, args.slave) as instrument,
        open(args.csvfile, "w", newline="", encoding="utf-8") as csvfile,
    ):
        instrument.serial.timeout = 0.5
        writer = csv.DictWriter(csvfile, fieldnames=columns)
        writer.writeheader()
        for poll in range(args.polls):
            if poll:
                time.sleep(args.interval)
            log(instrument, writer, args.register, args.count)
            csvfile.flush()  # each row is on disk as soon as it is read


if __name__ == "__main__":
    main()
