"""The MinimalModbus command line: ``python -m minimalmodbus`` and the ``minimalmodbus`` script.

Subcommands ``read``, ``write``, ``monitor`` and ``scan`` talk to slaves on a
serial port with mbpoll's options; ``simulate`` and ``demo`` serve
simulated slaves (``minimalmodbus_simulator``) on a pseudo-terminal. See
doc/cli.rst for every option, the output and the exit codes.

It uses only the public API of ``minimalmodbus``, like any other program:
its own checks name the option the user typed (``--baudrate``), and the
driver checks the rest.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import serial

import minimalmodbus
from minimalmodbus import (
    BYTEORDER_BIG,
    BYTEORDER_BIG_SWAP,
    BYTEORDER_LITTLE,
    BYTEORDER_LITTLE_SWAP,
    MODE_ASCII,
    MODE_RTU,
    Instrument,
    InvalidResponseError,
    MasterReportedException,
    ModbusException,
    NoResponseError,
    SlaveReportedException,
    float_to_registers,
    long_to_registers,
    register_to_value,
    registers_to_float,
    registers_to_long,
    string_to_registers,
    value_to_register,
)

try:  # POSIX: pyserial lets termios.error (not an OSError) escape
    from termios import error as _TermiosError

    _TERMIOS_ERRORS: tuple[type[BaseException], ...] = (_TermiosError,)
except ImportError:  # pragma: no cover (Windows)
    _TERMIOS_ERRORS = ()


# Register tables on the command line: mbpoll's numbers and names.
_TABLES = {
    "0": "coil",
    "coil": "coil",
    "1": "discrete",
    "discrete": "discrete",
    "3": "input",
    "input": "input",
    "4": "holding",
    "holding": "holding",
}
_READ_CODES = {"coil": 1, "discrete": 2, "input": 4, "holding": 3}

# Value formats of registers: registers per value (string: the count is in registers).
_FORMATS = {
    "uint16": 1,
    "int16": 1,
    "hex": 1,
    "uint32": 2,
    "int32": 2,
    "uint64": 4,
    "int64": 4,
    "float32": 2,
    "float64": 4,
    "string": 1,
}
_FORMAT_ALIASES = {"int": "int32", "float": "float32"}  # mbpoll's 4:int, 4:float
_BYTEORDERS = {
    "big": BYTEORDER_BIG,
    "little": BYTEORDER_LITTLE,
    "bigswap": BYTEORDER_BIG_SWAP,
    "littleswap": BYTEORDER_LITTLE_SWAP,
}
_PARITIES = {"none": "N", "even": "E", "odd": "O", "n": "N", "e": "E", "o": "O"}

# Slave addresses: -a takes any address a frame can carry (0 broadcasts;
# 248..255 are reserved, but some devices use them); scan tries 1..247 by
# default (Serial Line §2.2: the slave addresses) and up to 255 if asked.
_MAX_SLAVE_ADDRESS = 255
_MAX_BAUDRATE = 100_000_000

# What pyserial raises when a port fails or refuses a setting.
_PORT_OR_SETTING_ERRORS: tuple[type[BaseException], ...] = (
    serial.SerialException,
    OSError,
    ValueError,
    *_TERMIOS_ERRORS,
)

_EXIT_MODBUS_ERROR = 1  # no response, invalid response, slave exception
_EXIT_USAGE = 2  # bad arguments (argparse uses 2 as well)
_EXIT_PORT = 3  # the port cannot be opened
_EXIT_INTERRUPTED = 130


class _Selection(NamedTuple):
    """What the command line selects: table, format, first register, count."""

    table: str
    valueformat: str
    registeraddress: int
    quantity: int
    byteorder: int
    decimals: int

    @property
    def registers_per_value(self) -> int:
        """Registers one value occupies (1 for bits and strings)."""
        return 1 if self.table in ("coil", "discrete") else _FORMATS[self.valueformat]


def _parse_type(text: str) -> tuple[str, str]:
    """``-t`` argument: TABLE[:FORMAT], e.g. ``4:float`` or ``holding:int16``."""
    table_text, _, format_text = text.lower().partition(":")
    table = _TABLES.get(table_text)
    valueformat = _FORMAT_ALIASES.get(format_text, format_text or "uint16")
    if table is None or valueformat not in _FORMATS:
        raise argparse.ArgumentTypeError(
            f"type must be TABLE[:FORMAT] with TABLE one of 0|coil, 1|discrete, 3|input, "
            f"4|holding and FORMAT one of {', '.join(_FORMATS)}, int, float; not {text!r}"
        )
    if table in ("coil", "discrete") and format_text:
        raise argparse.ArgumentTypeError(f"bits have no format: {text!r}")
    return table, valueformat


def _selection(args: argparse.Namespace) -> _Selection:
    """The selection from parsed arguments."""
    table, valueformat = args.type
    return _Selection(
        table, valueformat, args.register, args.count, _BYTEORDERS[args.byteorder], args.decimals
    )


def _read_selection(instrument: Instrument, selection: _Selection) -> list[tuple[int, Any]]:
    """Read the selected values in one transaction; (register address, value) pairs."""
    first, count = selection.registeraddress, selection.quantity
    functioncode = _READ_CODES[selection.table]
    if selection.table in ("coil", "discrete"):
        bits = instrument.read_bits(first, count, functioncode)
        return list(enumerate(bits, start=first))
    if selection.valueformat == "string":
        return [(first, instrument.read_string(first, count, functioncode))]
    width = selection.registers_per_value
    registers = instrument.read_registers(first, count * width, functioncode)
    return [
        (first + index * width, _decode_value(registers[index * width : (index + 1) * width], selection))
        for index in range(count)
    ]


def _decode_value(registers: list[int], selection: _Selection) -> Any:
    """One value of the selected format, decoded with the block-decoding functions."""
    valueformat = selection.valueformat
    if valueformat == "hex":
        return f"0x{registers[0]:04X}"
    if valueformat in ("uint16", "int16"):
        return register_to_value(registers[0], selection.decimals, signed=valueformat == "int16")
    if valueformat.startswith("float"):
        return registers_to_float(registers, selection.byteorder)
    return registers_to_long(registers, valueformat.startswith("int"), selection.byteorder)


def _encode_values(texts: Sequence[str], selection: _Selection) -> list[int]:
    """Register values (or bits) for the values given on the command line."""
    valueformat = selection.valueformat
    if selection.table in ("coil", "discrete"):
        return [int(text, 0) for text in texts]
    if valueformat == "string":
        return string_to_registers(" ".join(texts), selection.quantity)
    registers: list[int] = []
    for text in texts:
        if valueformat in ("uint16", "int16", "hex"):
            value = float(text) if selection.decimals else int(text, 0)
            registers.append(value_to_register(value, selection.decimals, signed=valueformat == "int16"))
        elif valueformat.startswith("float"):
            registers += float_to_registers(float(text), selection.registers_per_value, selection.byteorder)
        else:
            registers += long_to_registers(
                int(text, 0),
                valueformat.startswith("int"),
                selection.byteorder,
                selection.registers_per_value,
            )
    return registers


def _write_selection(instrument: Instrument, selection: _Selection, texts: Sequence[str]) -> None:
    """Write values: coils with function code 15 (5 for one), registers with 16."""
    values = _encode_values(texts, selection)
    if selection.table == "coil":
        if len(values) == 1:
            instrument.write_bit(selection.registeraddress, values[0])
        else:
            instrument.write_bits(selection.registeraddress, values)
    elif selection.table == "holding":
        instrument.write_registers(selection.registeraddress, values)
    else:
        raise ValueError(
            f"{selection.table} registers are read-only; write coils (0) or holding registers (4)"
        )


def _print_values(args: argparse.Namespace, values: list[tuple[int, Any]]) -> None:
    """Values for people, or as JSON with --json."""
    table, valueformat = args.type
    if args.json:
        print(
            json.dumps(
                {
                    "slave": args.slave,
                    "table": table,
                    "format": valueformat if table in ("input", "holding") else "bits",
                    "values": [{"register": address, "value": value} for address, value in values],
                }
            )
        )
        return
    print(f"Slave {args.slave}, {table}, {valueformat if table in ('input', 'holding') else 'bits'}:")
    for address, value in values:
        print(f"  [{address}] {value}")


class _PortUnavailable(Exception):
    """The command line's port cannot be opened or set up (exit code 3)."""


def _open_instrument(args: argparse.Namespace, slaveaddress: int, default_timeout: float = 0.5) -> Instrument:
    """An instrument with the port settings of the command line."""
    _check_option(args.baudrate, "--baudrate", 1, _MAX_BAUDRATE)
    try:
        instrument = Instrument(args.port, slaveaddress, mode=args.mode, debug=args.debug)
    except MasterReportedException as error:
        raise _PortUnavailable(str(error)) from error
    port = instrument.serial
    try:
        port.baudrate = args.baudrate
        port.timeout = default_timeout if args.timeout is None else args.timeout
        for setting, value in (("parity", _PARITIES[args.parity]), ("stopbits", args.stopbits)):
            if hasattr(port, setting):
                setattr(port, setting, value)
    except _PORT_OR_SETTING_ERRORS as error:
        instrument.close()
        raise _PortUnavailable(f"Port {args.port!r} refuses the settings: {error}") from error
    return instrument


def _open_selected_slave(args: argparse.Namespace) -> Instrument:
    """The instrument of ``-a/--slave`` (read, write, monitor)."""
    _check_option(args.slave, "-a/--slave", 0, _MAX_SLAVE_ADDRESS)
    return _open_instrument(args, args.slave)


def _command_read(args: argparse.Namespace) -> int:
    """``read``: read values once."""
    with _open_selected_slave(args) as instrument:
        _print_values(args, _read_selection(instrument, _selection(args)))
    return 0


def _command_write(args: argparse.Namespace) -> int:
    """``write``: write values."""
    with _open_selected_slave(args) as instrument:
        _write_selection(instrument, _selection(args), args.values)
    if not args.json:
        print(f"Wrote {' '.join(args.values)} to slave {args.slave} at register {args.register}")
    return 0


def _command_monitor(args: argparse.Namespace) -> int:
    """``monitor``: poll values at an interval; redraw in place on a terminal."""
    with _open_selected_slave(args) as instrument:
        return _monitor(args, instrument)


def _monitor(args: argparse.Namespace, instrument: Instrument) -> int:
    """Poll and redraw until ``--iterations`` polls are done (or Ctrl-C)."""
    selection = _selection(args)
    in_place = sys.stdout.isatty() and not args.json
    lines_drawn = 0
    poll = 0
    while args.iterations == 0 or poll < args.iterations:
        poll += 1
        try:
            lines = [f"  [{address}] {value}" for address, value in _read_selection(instrument, selection)]
        except ModbusException as error:
            lines = [f"  {type(error).__name__}: {error}"]
        if args.json:
            print(json.dumps({"poll": poll, "lines": lines}), flush=True)
        else:
            if in_place and lines_drawn:
                print(f"\x1b[{lines_drawn}F\x1b[J", end="")
            print(
                f"Slave {args.slave}, {selection.table}, poll {poll} every {args.interval} s",
                *lines,
                sep="\n",
            )
            lines_drawn = 1 + len(lines)
            sys.stdout.flush()
        if args.iterations == 0 or poll < args.iterations:
            _sleep(args.interval)
    return 0


def _probe(instrument: Instrument, registeraddress: int) -> str | None:
    """What a slave answers to a holding register read, or None if nobody answers."""
    try:
        return f"register {registeraddress} = {instrument.read_register(registeraddress)}"
    except SlaveReportedException as error:
        return f"exception code {error.exception_code} ({_meaning(error)})"
    except (NoResponseError, InvalidResponseError):
        return None


def _meaning(error: SlaveReportedException) -> str:
    """The meaning of the exception code, as the driver's message names it."""
    found = re.search(r"exception code \d+: ([^,.]+)", str(error))
    return found.group(1) if found else "unknown"


def _command_scan(args: argparse.Namespace) -> int:
    """``scan``: try slave addresses (and baud rates); report who answers."""
    _check_scan_options(args)
    with _open_instrument(args, args.first, default_timeout=0.05) as instrument:
        return _scan(args, instrument)


def _scan(args: argparse.Namespace, instrument: Instrument) -> int:
    """Probe each candidate (baud rate, slave address); print the summary."""
    baudrates = args.baudrates or [args.baudrate]
    candidates = [
        (baudrate, address) for baudrate in baudrates for address in range(args.first, args.last + 1)
    ]
    found: list[tuple[int, int, str]] = []
    show_progress = sys.stderr.isatty()
    interrupted = False
    try:
        for done, (baudrate, slaveaddress) in enumerate(candidates, start=1):
            instrument.serial.baudrate = baudrate
            instrument.address = slaveaddress
            answer = _probe(instrument, args.register)
            if answer is not None:
                found.append((slaveaddress, baudrate, answer))
            if show_progress:
                _draw_progress(
                    done, len(candidates), f"slave {slaveaddress} at {baudrate} baud, found {len(found)}"
                )
    except KeyboardInterrupt:
        interrupted = True
    if show_progress:
        print(file=sys.stderr)
    _print_scan_summary(args, found, interrupted)
    if interrupted:
        return _EXIT_INTERRUPTED
    return 0 if found else _EXIT_MODBUS_ERROR


def _check_scan_options(args: argparse.Namespace) -> None:
    """The slave addresses and baud rates to scan, before the port is opened."""
    _check_option(args.first, "--from", 1, _MAX_SLAVE_ADDRESS)
    _check_option(args.last, "--to", args.first, _MAX_SLAVE_ADDRESS)
    for baudrate in args.baudrates or []:
        _check_option(baudrate, "--baudrates", 1, _MAX_BAUDRATE)


def _draw_progress(done: int, total: int, text: str) -> None:
    """A progress bar on stderr, redrawn in place."""
    width = 30
    filled = width * done // total
    print(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {text}\x1b[K",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _print_scan_summary(
    args: argparse.Namespace, found: list[tuple[int, int, str]], interrupted: bool
) -> None:
    """The slaves that answered, as a table or JSON."""
    if args.json:
        print(
            json.dumps(
                {
                    "port": args.port,
                    "interrupted": interrupted,
                    "found": [
                        {"slave": slave, "baudrate": baud, "answer": answer} for slave, baud, answer in found
                    ],
                }
            )
        )
        return
    status = " (interrupted)" if interrupted else ""
    print(f"Scan of {args.port}{status}: {len(found)} slave(s) answered")
    if found:
        print(f"  {'slave':>5}  {'baudrate':>8}  answer")
        for slave, baudrate, answer in found:
            print(f"  {slave:>5}  {baudrate:>8}  {answer}")


def _build_parser() -> argparse.ArgumentParser:
    """The command line: subcommands read, write, monitor, scan, simulate, demo."""
    parser = argparse.ArgumentParser(
        prog="minimalmodbus",
        description="Talk to Modbus RTU/ASCII slaves on a serial port (options as in mbpoll). "
        "Register addresses are 0-based, as in the protocol and in minimalmodbus.Instrument.",
    )
    parser.add_argument("--version", action="version", version=f"minimalmodbus {minimalmodbus.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    port = _port_options()
    values = _value_options()
    read = commands.add_parser("read", parents=[port, values], help="read values once")
    read.set_defaults(handler=_command_read)
    write = commands.add_parser("write", parents=[port, values], help="write values")
    write.add_argument("values", nargs="+", help="values to write (a text for string)")
    write.set_defaults(handler=_command_write)
    monitor = commands.add_parser("monitor", parents=[port, values], help="poll values at an interval")
    monitor.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default 1)")
    monitor.add_argument("--iterations", type=int, default=0, help="polls to make (default 0: until Ctrl-C)")
    monitor.set_defaults(handler=_command_monitor)
    scan = commands.add_parser("scan", parents=[port], help="find the slaves that answer")
    scan.add_argument("--from", dest="first", type=int, default=1, help="first slave address (default 1)")
    scan.add_argument("--to", dest="last", type=int, default=247, help="last slave address (default 247)")
    scan.add_argument(
        "--baudrates",
        type=lambda text: [int(part) for part in text.split(",")],
        help="comma-separated baud rates to try, e.g. 9600,19200",
    )
    scan.add_argument("-r", "--register", type=int, default=0, help="holding register to probe (default 0)")
    scan.set_defaults(handler=_command_scan)
    _add_simulator_commands(commands)
    return parser


def _add_simulator_commands(commands: Any) -> None:
    """``simulate`` and ``demo``: a simulated slave on a pseudo-terminal (minimalmodbus_simulator)."""
    simulate = commands.add_parser(
        "simulate",
        help="serve simulated slaves on a pseudo-terminal until Ctrl-C",
        description="Serve simulated slaves (minimalmodbus_simulator.demo_slave: holding register n "
        "holds 10*n) on a new pseudo-terminal and print its path, for any Modbus master to open.",
    )
    simulate.add_argument(
        "-a", "--slave", type=int, action="append", help="slave address (repeatable; default 1)"
    )
    simulate.add_argument("--mode", choices=(MODE_RTU, MODE_ASCII), default=MODE_RTU, help="default rtu")
    simulate.add_argument(
        "-b", "--baudrate", type=int, default=19200, help="sets the silence (default 19200)"
    )
    simulate.set_defaults(handler=_command_simulate)
    demo = commands.add_parser(
        "demo",
        help="read and write a simulated slave through a real serial port path (no hardware)",
        description="Start a simulated slave on a pseudo-terminal, then read and write it with debug output.",
    )
    demo.set_defaults(handler=_command_demo)


def _command_simulate(args: argparse.Namespace) -> int:
    """``simulate``: the simulator's pseudo-terminal server (POSIX)."""
    import minimalmodbus_simulator  # only this command needs it

    argv = ["--pty", "--mode", args.mode, "--baudrate", str(args.baudrate)]
    for slaveaddress in args.slave or [1]:
        argv += ["--slave", str(slaveaddress)]
    return minimalmodbus_simulator.main(argv)


def _command_demo(args: argparse.Namespace) -> int:
    """``demo``: a simulated slave on a pseudo-terminal, read and written with debug output."""
    import minimalmodbus_simulator as simulator  # only this command needs it

    bus = simulator.SimulatedBus({1: simulator.demo_slave()})
    with simulator.PtyServer(bus) as server:
        print(f"A simulated slave (address 1) serves the pseudo-terminal {server.path}.\n")
        with Instrument(server.path, 1, debug=True) as instrument:
            instrument.serial.timeout = 1.0
            _demo_step("instrument.read_register(7)", lambda: instrument.read_register(7))
            _demo_step("instrument.write_register(7, 1234)", lambda: instrument.write_register(7, 1234))
            _demo_step("instrument.read_register(7)", lambda: instrument.read_register(7))
            _demo_step(
                "instrument.read_register(7, number_of_decimals=1)", lambda: instrument.read_register(7, 1)
            )
            _demo_step("instrument.write_float(20, 3.14)", lambda: instrument.write_float(20, 3.14))
            _demo_step("instrument.read_float(20)", lambda: instrument.read_float(20))
            _demo_step("instrument.read_bits(0, 8, functioncode=1)", lambda: instrument.read_bits(0, 8, 1))
            _demo_step("instrument.read_register(1000)", lambda: instrument.read_register(1000))
    print("Done: the driver talked to the simulated slave through a real serial port path.")
    return 0


def _demo_step(call: str, action: Callable[[], Any]) -> None:
    """Run and show one call of the demo; a slave exception is shown, not raised."""
    print(f">>> {call}")
    try:
        result = action()
    except SlaveReportedException as error:
        print(f"{type(error).__name__}: {error}\n")
        return
    print(f"{result!r}\n" if result is not None else "")


def _port_options() -> argparse.ArgumentParser:
    """Options of the port and the protocol, shared by the commands that use a port."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("port", help="serial port name or URL: /dev/ttyUSB0, COM4, socket://host:port")
    options.add_argument("-b", "--baudrate", type=int, default=19200, help="baud rate (default 19200)")
    options.add_argument(
        "-P", "--parity", choices=sorted(_PARITIES), default="none", help="parity (default none)"
    )
    options.add_argument(
        "-s", "--stopbits", type=int, choices=(1, 2), default=1, help="stop bits (default 1)"
    )
    options.add_argument("--mode", choices=(MODE_RTU, MODE_ASCII), default=MODE_RTU, help="default rtu")
    options.add_argument(
        "--timeout", type=float, help="seconds to wait for an answer (default 0.5; scan 0.05)"
    )
    options.add_argument("--debug", action="store_true", help="print every frame written and read")
    options.add_argument("--json", action="store_true", help="print JSON for scripts")
    return options


def _value_options() -> argparse.ArgumentParser:
    """Options that select values: slave, table and format, register, count."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("-a", "--slave", type=int, default=1, help="slave address (default 1)")
    options.add_argument(
        "-t",
        "--type",
        type=_parse_type,
        default=("holding", "uint16"),
        help="TABLE[:FORMAT]: 0|coil, 1|discrete, 3|input, 4|holding (default); "
        "FORMAT: uint16 (default), int16, hex, uint32, int32, uint64, int64, "
        "float32, float64, string; int and float as in mbpoll (32 bit)",
    )
    options.add_argument("-r", "--register", type=int, default=0, help="first register address, 0-based")
    options.add_argument(
        "-c", "--count", type=int, default=1, help="number of values (registers for a string; default 1)"
    )
    options.add_argument(
        "-B",
        "--byteorder",
        choices=list(_BYTEORDERS),
        default="big",
        help="byte order of 32/64-bit values (default big)",
    )
    options.add_argument("--decimals", type=int, default=0, help="decimals of 16-bit values (default 0)")
    return options


def _check_option(value: int, option: str, minimum: int, maximum: int) -> None:
    """An option's whole number in minimum..maximum; the message names the option."""
    if not minimum <= value <= maximum:
        raise ValueError(f"{option} must be in the range {minimum}..{maximum}, not {value!r}")


def _sleep(seconds: float) -> None:
    """Wait between polls (tests replace this)."""
    if seconds > 0:
        time.sleep(seconds)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command-line tool; returns the exit code.

    Exit codes: 0 success, 1 a Modbus error (no response, invalid response,
    slave exception; for scan: nobody answered), 2 bad arguments, 3 the
    port cannot be opened, 130 interrupted.
    """
    args = _build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except _PortUnavailable as error:
        print(f"minimalmodbus: {error}", file=sys.stderr)
        return _EXIT_PORT
    except ModbusException as error:
        print(f"minimalmodbus: {type(error).__name__}: {error}", file=sys.stderr)
        return _EXIT_MODBUS_ERROR
    except (TypeError, ValueError) as error:
        print(f"minimalmodbus: bad argument: {error}", file=sys.stderr)
        return _EXIT_USAGE
    except KeyboardInterrupt:
        print("minimalmodbus: interrupted", file=sys.stderr)
        return _EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
