"""The MinimalModbus command line: ``python -m minimalmodbus`` and the ``minimalmodbus`` script.

Subcommands ``read``, ``write``, ``monitor`` and ``scan`` talk to slaves on a
serial port with mbpoll's options; ``simulate`` and ``demo`` serve
simulated slaves (``minimalmodbus_simulator``) on a pseudo-terminal. See
doc/cli.rst for every option, the output and the exit codes.

It uses only the public API of ``minimalmodbus``, like any other program.
It checks every argument itself before the port is opened, so each message
names the option the user typed, the value and what is allowed (exit 2):
one option at a time in the argparse types, options together and the
values to write in ``_selection``, ``_check_read`` and ``_prepare_write``.
Where mbpoll has the same option it means the same (``-B``: high word
first; without it, mbpoll's low word first); register addresses are
0-based (mbpoll's ``-0``).
"""

from __future__ import annotations

import argparse
import json
import os
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
    PortError,
    SlaveReportedException,
    float_to_registers,
    long_to_registers,
    register_to_value,
    registers_to_float,
    registers_to_long,
    string_to_registers,
    value_to_register,
)
from minimalmodbus_registermap import RegisterMap, RegisterMapError, Value

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
_MAX_REGISTER_ADDRESS = 65535
_MAX_DECIMALS = 10  # as Instrument.read_register
# Application Protocol §6.1-6.12: quantities in one request.
_MAX_READ_BITS = 2000
_MAX_WRITE_BITS = 1968
_MAX_READ_REGISTERS = 125
_MAX_WRITE_REGISTERS = 123
_BIT_TABLES = ("coil", "discrete")
_TABLE_WORDS = {
    "coil": "coils",
    "discrete": "discrete inputs",
    "input": "input registers",
    "holding": "holding registers",
}

# Whole-number values of each register format (16-bit ones before --decimals).
_INTEGER_RANGES = {
    "uint16": (0, 0xFFFF),
    "hex": (0, 0xFFFF),
    "int16": (-0x8000, 0x7FFF),
    "uint32": (0, 0xFFFF_FFFF),
    "int32": (-0x8000_0000, 0x7FFF_FFFF),
    "uint64": (0, 0xFFFF_FFFF_FFFF_FFFF),
    "int64": (-0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF),
}

# mbpoll's word order for 32-bit values is low word first (CD AB), high word
# first with -B; the library's default, BYTEORDER_BIG, is -B's.
_DEFAULT_BYTEORDER = "littleswap"

# Scan: a line of progress this often when stderr is not a terminal.
_PROGRESS_SECONDS = 5.0

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
_EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
_EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a tool whose reader went away


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
        return 1 if self.table in _BIT_TABLES else _FORMATS[self.valueformat]


class _UsageError(ValueError):
    """A bad argument found after parsing (exit code 2); the message names the option."""


# -- argument types: each message names the value and what is allowed -------
# (argparse puts the option the user typed in front: "argument -r/--register: ...")


def _whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in minimum..maximum (0x.. hex accepted)."""
    allowed = f"{minimum} or more" if maximum is None else f"{minimum}..{maximum}"

    def parse(text: str) -> int:
        try:
            number = int(text, 0)
        except ValueError:
            number = None
        if number is None or number < minimum or (maximum is not None and number > maximum):
            raise argparse.ArgumentTypeError(f"must be a whole number {allowed}, not {text!r}")
        return number

    return parse


def _seconds(allow_zero: bool) -> Callable[[str], float]:
    """An argparse type: seconds, above 0 (or 0 and above)."""

    def parse(text: str) -> float:
        try:
            seconds = float(text)
        except ValueError:
            seconds = float("nan")
        if not (seconds >= 0 if allow_zero else seconds > 0) or seconds == float("inf"):
            allowed = "0 or more" if allow_zero else "more than 0"
            raise argparse.ArgumentTypeError(f"must be a number of seconds, {allowed}, not {text!r}")
        return seconds

    return parse


def _baudrate_list(text: str) -> list[int]:
    """``--baudrates`` argument: comma-separated baud rates, e.g. ``9600,19200``."""
    parse = _whole_number(1, _MAX_BAUDRATE)
    baudrates: list[int] = []
    for part in text.split(","):
        try:
            baudrates.append(parse(part.strip()))
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"must be baud rates 1..{_MAX_BAUDRATE} separated by commas (e.g. 9600,19200); "
                f"{part!r} in {text!r} is not one"
            ) from None
    return baudrates


def _parse_type(text: str) -> tuple[str, str]:
    """``-t`` argument: TABLE[:FORMAT], e.g. ``4:float`` or ``holding:int16``."""
    table_text, _, format_text = text.lower().partition(":")
    table = _TABLES.get(table_text)
    valueformat = _FORMAT_ALIASES.get(format_text, format_text or "uint16")
    if table is None or valueformat not in _FORMATS:
        raise argparse.ArgumentTypeError(
            f"must be TABLE[:FORMAT] with TABLE one of 0|coil, 1|discrete, 3|input, "
            f"4|holding and FORMAT one of {', '.join(_FORMATS)}, int, float; not {text!r}"
        )
    if table in _BIT_TABLES and format_text:
        raise argparse.ArgumentTypeError(f"bits have no format: {text!r}; give -t 0 or -t 1")
    return table, valueformat


# -- the selection and its limits ------------------------------------------


def _selection(args: argparse.Namespace) -> _Selection:
    """The selection from parsed arguments, checked against what one request can carry."""
    table, valueformat = args.type
    selection = _Selection(
        table, valueformat, args.register, args.count, _BYTEORDERS[args.byteorder], args.decimals
    )
    if selection.decimals and (table in _BIT_TABLES or valueformat not in ("uint16", "int16")):
        shown = "bits" if table in _BIT_TABLES else valueformat
        raise _UsageError(
            f"--decimals {selection.decimals} applies to uint16 and int16 values only, not to {shown}"
        )
    return selection


def _check_span(selection: _Selection, registers: int, maximum: int, what: str) -> None:
    """One request carries at most ``maximum`` registers (or bits), inside the address space."""
    per_value = selection.registers_per_value
    shown = "bits" if selection.table in _BIT_TABLES else selection.valueformat
    if registers > maximum:
        unit = "bits" if selection.table in _BIT_TABLES else "registers"
        raise _UsageError(
            f"{what} of {shown} need {registers} {unit}, but one request carries at most {maximum} "
            f"{unit} (-c/--count at most {maximum // per_value} for {shown})"
        )
    last = selection.registeraddress + registers - 1
    if last > _MAX_REGISTER_ADDRESS:
        unit = "bits" if selection.table in _BIT_TABLES else "registers"
        raise _UsageError(
            f"-r/--register {selection.registeraddress} with {registers} {unit} ends at {last}, "
            f"beyond the last address {_MAX_REGISTER_ADDRESS}"
        )


def _check_read(selection: _Selection) -> None:
    """The read of the selection fits in one request."""
    if selection.table in _BIT_TABLES:
        maximum = _MAX_READ_BITS
    else:
        maximum = _MAX_READ_REGISTERS
    count = selection.quantity * (1 if selection.valueformat == "string" else selection.registers_per_value)
    _check_span(selection, count, maximum, f"-c/--count {selection.quantity}")


def _read_selection(instrument: Instrument, selection: _Selection) -> list[tuple[int, Any]]:
    """Read the selected values in one transaction; (register address, value) pairs."""
    first, count = selection.registeraddress, selection.quantity
    functioncode = _READ_CODES[selection.table]
    if selection.table in _BIT_TABLES:
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


def _parse_values(texts: Sequence[str], selection: _Selection) -> list[Any]:
    """The values typed after ``write``, as numbers (or one text); checked against the format."""
    if selection.table in _BIT_TABLES:
        for text in texts:
            if text not in ("0", "1"):
                raise _UsageError(f"value {text!r}: a coil is written with 0 or 1")
        return [int(text) for text in texts]
    if selection.valueformat == "string":
        return [_parse_text(" ".join(texts), selection.quantity)]
    return [_parse_number(text, selection) for text in texts]


def _parse_text(text: str, number_of_registers: int) -> str:
    """A text for ``-t 4:string``: ASCII, at most 2 characters per register of ``-c``."""
    if not text.isascii():
        raise _UsageError(f"value {text!r}: a string holds ASCII characters only")
    if len(text) > 2 * number_of_registers:
        raise _UsageError(
            f"value {text!r} has {len(text)} characters, but -c/--count {number_of_registers} "
            f"register(s) hold at most {2 * number_of_registers}"
        )
    return text


def _parse_number(text: str, selection: _Selection) -> int | float:
    """One number of the selected format, in its range (scaled by --decimals)."""
    valueformat, decimals = selection.valueformat, selection.decimals
    if valueformat.startswith("float"):
        try:
            number = float(text)
            float_to_registers(number, selection.registers_per_value, selection.byteorder)
        except (ValueError, OverflowError):
            raise _UsageError(f"value {text!r} is not a number that {valueformat} can hold") from None
        return number
    minimum, maximum = _INTEGER_RANGES[valueformat]
    try:
        value: int | float = float(text) if decimals else int(text, 0)
    except ValueError:
        hint = " (give --decimals N for decimals, or -t 4:float)" if not decimals else ""
        wanted = "a number" if decimals else "a whole number"
        raise _UsageError(f"value {text!r} is not {wanted}{hint}") from None
    scale = 10**decimals
    if not minimum <= value * scale <= maximum:
        scaled = f" with --decimals {decimals}" if decimals else ""
        low, high = (minimum / scale, maximum / scale) if decimals else (minimum, maximum)
        raise _UsageError(f"value {text!r} is out of range: {valueformat}{scaled} holds {low}..{high}")
    return value


def _encode_values(values: Sequence[Any], selection: _Selection) -> list[int]:
    """Register values (or bits) for checked values."""
    valueformat = selection.valueformat
    if selection.table in _BIT_TABLES:
        return list(values)
    if valueformat == "string":
        return string_to_registers(values[0], selection.quantity)
    registers: list[int] = []
    for value in values:
        if valueformat in ("uint16", "int16", "hex"):
            registers.append(value_to_register(value, selection.decimals, signed=valueformat == "int16"))
        elif valueformat.startswith("float"):
            registers += float_to_registers(value, selection.registers_per_value, selection.byteorder)
        else:
            registers += long_to_registers(
                value, valueformat.startswith("int"), selection.byteorder, selection.registers_per_value
            )
    return registers


def _prepare_write(selection: _Selection, texts: Sequence[str]) -> tuple[list[Any], list[int]]:
    """The checked values and the registers (or bits) that write them, before the port is opened."""
    if selection.table not in ("coil", "holding"):
        raise _UsageError(
            f"-t/--type {selection.table}: {_TABLE_WORDS[selection.table]} are read-only; "
            "write coils (0) or holding registers (4)"
        )
    values = _parse_values(texts, selection)
    registers = _encode_values(values, selection)
    maximum = _MAX_WRITE_BITS if selection.table == "coil" else _MAX_WRITE_REGISTERS
    _check_span(selection, len(registers), maximum, f"{len(values)} value(s)")
    return values, registers


def _write_selection(instrument: Instrument, selection: _Selection, registers: list[int]) -> None:
    """Write: coils with function code 15 (5 for one), registers with 16."""
    if selection.table == "coil":
        if len(registers) == 1:
            instrument.write_bit(selection.registeraddress, registers[0])
        else:
            instrument.write_bits(selection.registeraddress, registers)
    else:
        instrument.write_registers(selection.registeraddress, registers)


def _addressed(selection: _Selection, values: Sequence[Any]) -> list[tuple[int, Any]]:
    """(register address, value) pairs of values written from the selection's first address."""
    width = 1 if selection.valueformat == "string" else selection.registers_per_value
    return [(selection.registeraddress + index * width, value) for index, value in enumerate(values)]


def _document(args: argparse.Namespace, values: list[tuple[int, Any]]) -> dict[str, Any]:
    """The JSON document of values: slave, table, format and (register, value) pairs."""
    table, valueformat = args.type
    return {
        "slave": args.slave,
        "table": table,
        "format": "bits" if table in _BIT_TABLES else valueformat,
        "values": [{"register": address, "value": value} for address, value in values],
    }


def _shown(value: Any) -> str:
    """A value for people: a text without its NUL padding, other control characters escaped."""
    if not isinstance(value, str):
        return str(value)
    return "".join(
        character if character.isprintable() else character.encode("unicode_escape").decode("ascii")
        for character in value.rstrip("\x00")
    )


def _value_lines(values: list[tuple[int, Any]]) -> list[str]:
    """``  [register] value`` lines for people."""
    return [f"  [{address}] {_shown(value)}" for address, value in values]


def _print_values(args: argparse.Namespace, values: list[tuple[int, Any]]) -> None:
    """Values for people, or as JSON with --json."""
    if args.json:
        print(json.dumps(_document(args, values)))
        return
    table, valueformat = args.type
    print(f"Slave {args.slave}, {table}, {'bits' if table in _BIT_TABLES else valueformat}:")
    print(*_value_lines(values), sep="\n")


class _PortUnavailable(Exception):
    """The command line's port cannot be opened or set up (exit code 3)."""


def _open_instrument(args: argparse.Namespace, slaveaddress: int, default_timeout: float = 0.5) -> Instrument:
    """An instrument with the port settings of the command line."""
    try:
        instrument = Instrument(args.port, slaveaddress, mode=args.mode, debug=args.debug)
    except MasterReportedException as error:
        raise _PortUnavailable(str(error)) from error
    port = instrument.serial
    timeout = _timeout(args, default_timeout)
    settings: list[tuple[str, object, str, object]] = [("-o/--timeout", timeout, "timeout", timeout)]
    if not _on_network(args.port):  # a serial line's settings
        settings += [
            ("-b/--baudrate", args.baudrate, "baudrate", args.baudrate),
            ("-P/--parity", args.parity, "parity", _PARITIES[args.parity]),
            ("-s/--stopbits", args.stopbits, "stopbits", args.stopbits),
        ]
    for option, typed, setting, value in settings:
        try:
            if setting in ("timeout", "baudrate") or hasattr(port, setting):
                setattr(port, setting, value)
        except _PORT_OR_SETTING_ERRORS as error:
            instrument.close()
            raise _PortUnavailable(f"Port {args.port!r} refuses {option} {typed}: {error}") from error
    return instrument


def _on_network(port_name: str) -> bool:
    """Whether the port is a Modbus TCP or UDP server (no baud rate, no serial settings)."""
    return port_name.startswith(("tcp://", "udp://"))


def _timeout(args: argparse.Namespace, default_timeout: float) -> float:
    """The response timeout: ``--timeout`` or the command's default."""
    return default_timeout if args.timeout is None else float(args.timeout)


def _command_read(args: argparse.Namespace) -> int:
    """``read``: read values once."""
    if args.map is not None:
        return _command_read_map(args)
    selection = _selection(args)
    _check_read(selection)
    with _open_instrument(args, args.slave) as instrument:
        _print_values(args, _read_selection(instrument, selection))
    return 0


def _command_write(args: argparse.Namespace) -> int:
    """``write``: write values; say what was written (with --json as the document ``read`` prints)."""
    if args.map is not None:
        return _command_write_map(args)
    selection = _selection(args)
    values, registers = _prepare_write(selection, args.values)
    with _open_instrument(args, args.slave) as instrument:
        _write_selection(instrument, selection, registers)
    if args.json:
        print(json.dumps(_document(args, _addressed(selection, values))))
    else:
        print(f"Wrote {' '.join(args.values)} to slave {args.slave} at register {args.register}")
    return 0


def _command_monitor(args: argparse.Namespace) -> int:
    """``monitor``: poll values at an interval; redraw in place on a terminal."""
    if args.map is not None:
        return _command_monitor_map(args)
    selection = _selection(args)
    _check_read(selection)
    with _open_instrument(args, args.slave) as instrument:
        return _monitor(args, instrument, selection)


def _monitor(args: argparse.Namespace, instrument: Instrument, selection: _Selection) -> int:
    """Poll and show until ``--iterations`` polls are done (or Ctrl-C); 1 if the last poll failed."""
    in_place = sys.stdout.isatty() and not args.json
    lines_drawn = 0
    poll = 0
    last_failed = False
    while args.iterations == 0 or poll < args.iterations:
        poll += 1
        try:
            values = _read_selection(instrument, selection)
            error: ModbusException | None = None
        except ModbusException as caught:
            values, error = [], caught
        last_failed = error is not None
        if args.json:
            print(json.dumps(_poll_document(args, poll, values, error)), flush=True)
        else:
            lines = _value_lines(values) if error is None else [f"  {type(error).__name__}: {error}"]
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
    return _EXIT_MODBUS_ERROR if last_failed else 0


def _poll_document(
    args: argparse.Namespace, poll: int, values: list[tuple[int, Any]], error: ModbusException | None
) -> dict[str, Any]:
    """One poll as JSON: the values as ``read --json`` prints them, or the error as an object."""
    document: dict[str, Any] = {"poll": poll, **_document(args, values)}
    if error is None:
        return document
    del document["values"]
    described: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, SlaveReportedException):
        described["exception_code"] = error.exception_code
    document["error"] = described
    return document


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
    if args.last < args.first:
        raise _UsageError(f"--to {args.last} is below --from {args.first}; give --to {args.first} or more")
    with _open_instrument(args, args.first, default_timeout=0.05) as instrument:
        return _scan(args, instrument)


def _scan(args: argparse.Namespace, instrument: Instrument) -> int:
    """Probe each candidate (baud rate, slave address); progress on stderr, then the summary.

    On a network port there is no baud rate: the unit ids are scanned once (shown as baud rate ``-``).
    """
    baudrates = [0] if _on_network(args.port) else args.baudrates or [args.baudrate]
    candidates = [
        (baudrate, address) for baudrate in baudrates for address in range(args.first, args.last + 1)
    ]
    _print_scan_plan(args, baudrates, len(candidates), _timeout(args, 0.05))
    found: list[tuple[int, int, str]] = []
    progress = _Progress(len(candidates), sys.stderr.isatty())
    interrupted = False
    try:
        for done, (baudrate, slaveaddress) in enumerate(candidates, start=1):
            if baudrate:
                instrument.serial.baudrate = baudrate
            instrument.address = slaveaddress
            answer = _probe(instrument, args.register)
            if answer is not None:
                found.append((slaveaddress, baudrate, answer))
            where = f" at {baudrate} baud" if baudrate else ""
            progress.show(done, f"slave {slaveaddress}{where}, found {len(found)}")
    except KeyboardInterrupt:
        interrupted = True
    progress.finish()
    _print_scan_summary(args, found, interrupted)
    if interrupted:
        return _EXIT_INTERRUPTED
    return 0 if found else _EXIT_MODBUS_ERROR


def _print_scan_plan(args: argparse.Namespace, baudrates: list[int], probes: int, timeout: float) -> None:
    """Before a scan, on stderr: what it tries and about how long it takes (every probe unanswered)."""
    seconds = sum(
        (args.last - args.first + 1) * (timeout + _frame_seconds(baudrate, 8) + _silence_seconds(baudrate))
        for baudrate in baudrates
    )
    rates = ", ".join(str(baudrate) for baudrate in baudrates)
    where = "" if baudrates == [0] else f" at {rates} baud"
    print(
        f"Scanning slaves {args.first}..{args.last}{where} on {args.port}: {probes} probe(s), "
        f"up to {seconds:.1f} s (a {timeout} s timeout for each address that does not answer)",
        file=sys.stderr,
        flush=True,
    )


def _frame_seconds(baudrate: int, number_of_bytes: int) -> float:
    """Time on the line of a frame: 11 bits per character (Serial Line §2.5.1); 0 on a network."""
    return number_of_bytes * 11 / baudrate if baudrate else 0.0


def _silence_seconds(baudrate: int) -> float:
    """The silence before each request: 3.5 characters, at least 1.75 ms (Serial Line §2.5.1.1)."""
    return max(_frame_seconds(baudrate, 1) * 3.5, 0.00175) if baudrate else 0.0


class _Progress:
    """Scan progress on stderr: a bar redrawn in place on a terminal, else a line every few seconds."""

    def __init__(self, total: int, on_terminal: bool) -> None:
        self.total = total
        self.on_terminal = on_terminal
        self.next_line = _now() + _PROGRESS_SECONDS

    def show(self, done: int, text: str) -> None:
        """Progress after ``done`` probes."""
        if self.on_terminal:
            width = 30
            filled = width * done // self.total
            bar = f"[{'#' * filled}{'.' * (width - filled)}]"
            print(f"\r{bar} {done}/{self.total} {text}\x1b[K", end="", file=sys.stderr, flush=True)
            return
        now = _now()
        if now >= self.next_line and done < self.total:
            self.next_line = now + _PROGRESS_SECONDS
            print(f"Scanned {done}/{self.total}: {text}", file=sys.stderr, flush=True)

    def finish(self) -> None:
        """End the bar's line."""
        if self.on_terminal:
            print(file=sys.stderr)


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
                        {"slave": slave, "baudrate": baud or None, "answer": answer}  # None: a network
                        for slave, baud, answer in found
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
            print(f"  {slave:>5}  {baudrate or '-':>8}  {answer}")  # '-': a network, no baud rate


def _build_parser() -> argparse.ArgumentParser:
    """The command line: subcommands read, write, monitor, scan, simulate, demo."""
    parser = argparse.ArgumentParser(
        prog="minimalmodbus",
        description="Talk to Modbus RTU/ASCII slaves on a serial port, or Modbus TCP/UDP servers "
        "(options as in mbpoll). "
        "Register addresses are 0-based, as in the protocol and in minimalmodbus.Instrument.",
    )
    parser.add_argument("--version", action="version", version=f"minimalmodbus {minimalmodbus.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    port = _port_options()
    values = _value_options()
    read = commands.add_parser("read", parents=[port, values], help="read values once")
    _add_map_option(read, with_names=True)
    read.set_defaults(handler=_command_read)
    write = commands.add_parser("write", parents=[port, values], help="write values")
    write.add_argument("values", nargs="+", help="values to write (a text for string)")
    _add_map_option(write)
    write.set_defaults(handler=_command_write)
    _add_monitor_command(commands, port, values)
    _add_scan_command(commands, port)
    _add_simulator_commands(commands)
    return parser


def _add_monitor_command(
    commands: Any, port: argparse.ArgumentParser, values: argparse.ArgumentParser
) -> None:
    """``monitor``: poll values at an interval."""
    monitor = commands.add_parser("monitor", parents=[port, values], help="poll values at an interval")
    monitor.add_argument(
        "--interval", type=_seconds(allow_zero=True), default=1.0, help="seconds between polls (default 1)"
    )
    monitor.add_argument(
        "--iterations",
        type=_whole_number(0),
        default=0,
        help="polls to make (default 0: until Ctrl-C); exit status 1 if the last poll failed",
    )
    _add_map_option(monitor, with_names=True)
    monitor.set_defaults(handler=_command_monitor)


def _add_scan_command(commands: Any, port: argparse.ArgumentParser) -> None:
    """``scan``: find the slaves that answer (unit ids on a network port)."""
    scan = commands.add_parser("scan", parents=[port], help="find the slaves that answer")
    scan.add_argument(
        "--from",
        dest="first",
        type=_whole_number(1, _MAX_SLAVE_ADDRESS),
        default=1,
        help="first slave address (default 1)",
    )
    scan.add_argument(
        "--to",
        dest="last",
        type=_whole_number(1, _MAX_SLAVE_ADDRESS),
        default=247,
        help="last slave address (default 247)",
    )
    scan.add_argument(
        "--baudrates", type=_baudrate_list, help="comma-separated baud rates to try, e.g. 9600,19200"
    )
    scan.add_argument(
        "-r",
        "--register",
        type=_whole_number(0, _MAX_REGISTER_ADDRESS),
        default=0,
        help="holding register to probe (default 0)",
    )
    scan.set_defaults(handler=_command_scan)


def _add_simulator_commands(commands: Any) -> None:
    """``simulate`` and ``demo``: a simulated slave on a pseudo-terminal (minimalmodbus_simulator)."""
    simulate = commands.add_parser(
        "simulate",
        help="serve simulated slaves on a pseudo-terminal until Ctrl-C",
        description="Serve simulated slaves (minimalmodbus_simulator.demo_slave: holding register n "
        "holds 10*n) on a new pseudo-terminal and print its path, for any Modbus master to open.",
    )
    simulate.add_argument(
        "-a",
        "--slave",
        type=_whole_number(1, _MAX_SLAVE_ADDRESS),
        action="append",
        help="slave address (repeatable; default 1)",
    )
    simulate.add_argument(
        "--mode", choices=(MODE_RTU, MODE_ASCII), default=MODE_RTU, action=_GivenOption, help="default rtu"
    )
    simulate.add_argument(
        "-b",
        "--baudrate",
        type=_whole_number(1, _MAX_BAUDRATE),
        default=19200,
        help="sets the silence (default 19200)",
    )
    _add_network_options(simulate)
    _add_replay_options(simulate)
    _add_map_option(simulate)
    simulate.set_defaults(handler=_command_simulate)
    demo = commands.add_parser(
        "demo",
        help="read and write a simulated slave through a real serial port path (no hardware)",
        description="Start a simulated slave on a pseudo-terminal, then read and write it with debug output.",
    )
    _add_record_option(demo)
    demo.set_defaults(handler=_command_demo)


def _add_network_options(simulate: argparse.ArgumentParser) -> None:
    """``simulate --tcp HOST:PORT`` or ``--udp HOST:PORT``: serve on the network instead of a pty."""
    network = simulate.add_mutually_exclusive_group()
    network.add_argument(
        "--tcp",
        type=_host_and_port,
        metavar="HOST:PORT",
        help="serve Modbus TCP instead, e.g. 127.0.0.1:1502 (loopback unless told)",
    )
    network.add_argument("--udp", type=_host_and_port, metavar="HOST:PORT", help="serve Modbus UDP instead")


def _add_replay_options(simulate: argparse.ArgumentParser) -> None:
    """``simulate --replay FILE``: answer from a recording instead of the demo slaves."""
    simulate.add_argument(
        "--replay", metavar="FILE", help="answer from a recording (--record) instead of simulated slaves"
    )
    simulate.add_argument(
        "--lookup",
        action="store_true",
        help="with --replay: each request gets its last recorded answer (default: the answers in order)",
    )
    simulate.add_argument(
        "--timing", action="store_true", help="with --replay: answer after the recorded round-trip time"
    )


def _host_and_port(text: str) -> str:
    """An argparse type: HOST:PORT for ``simulate --tcp/--udp``, checked by the simulator's own rule."""
    import minimalmodbus_simulator  # only simulate needs it

    minimalmodbus_simulator.host_and_port(text)
    return text


def _command_simulate(args: argparse.Namespace) -> int:
    """``simulate``: demonstration slaves, a map's slave or a recording, on a pty or as a TCP/UDP server."""
    import minimalmodbus_simulator as simulator  # only simulate and demo need it

    _check_simulate_options(args)
    tcp = simulator.host_and_port(args.tcp) if args.tcp else None
    udp = simulator.host_and_port(args.udp) if args.udp else None
    try:
        if args.map is not None:
            return _command_simulate_map(args, tcp, udp)
        if args.replay is not None:
            return _command_simulate_replay(args, tcp, udp)
        slaveaddresses = sorted(set(args.slave or [1]))
        bus = simulator.SimulatedBus(
            {address: simulator.demo_slave() for address in slaveaddresses}, args.mode
        )
        return simulator.serve(bus, baudrate=args.baudrate, tcp=tcp, udp=udp)
    except BrokenPipeError:  # no reader for the banner (| head): main stops quietly
        raise
    except OSError as error:  # the address is taken, or not ours; no pseudo-terminal left
        where = f"--tcp {args.tcp}" if args.tcp else f"--udp {args.udp}" if args.udp else "a pseudo-terminal"
        raise _UsageError(f"{where}: cannot serve there: {error.strerror or error}") from None


def _check_simulate_options(args: argparse.Namespace) -> None:
    """Options of ``simulate`` that exclude each other, or need another one."""
    if args.map is not None and args.replay is not None:
        raise _UsageError("--map and --replay: give one; a map's slave or a recording answers, not both")
    if args.replay is not None and args.slave:
        raise _UsageError(f"--replay {args.replay}: the recording has its slaves; give no -a/--slave")
    if args.replay is not None and getattr(args, "given_mode", False):
        raise _UsageError(
            f"--mode {args.mode}: not with --replay, where the recording's frames have their mode"
        )
    for option, given in (("--lookup", args.lookup), ("--timing", args.timing)):
        if given and args.replay is None:
            raise _UsageError(f"{option}: only with --replay FILE")


def _command_simulate_replay(
    args: argparse.Namespace, tcp: tuple[str, int] | None, udp: tuple[str, int] | None
) -> int:
    """``simulate --replay FILE``: a recording answers, on a pseudo-terminal or as a TCP/UDP server."""
    import minimalmodbus_replay  # only this command needs it

    try:
        replay = minimalmodbus_replay.load_recording(
            args.replay, ordered=not args.lookup, timing=args.timing, install=False
        )
    except OSError as error:
        raise _UsageError(f"--replay {args.replay}: cannot read it: {error.strerror or error}") from None
    except ValueError as error:
        raise _UsageError(f"--replay {error}") from None
    try:
        return minimalmodbus_replay.serve_recording(
            replay, source=args.replay, baudrate=args.baudrate, tcp=tcp, udp=udp
        )
    except ValueError as error:
        raise _UsageError(f"--replay {args.replay}: {error}") from None


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
    options.add_argument(
        "port",
        help="serial port name or URL: /dev/ttyUSB0, COM4, socket://host:port, tcp://host:502, udp://host",
    )
    options.add_argument(
        "-b",
        "--baudrate",
        type=_whole_number(1, _MAX_BAUDRATE),
        default=19200,
        help="baud rate (default 19200)",
    )
    options.add_argument(
        "-P", "--parity", choices=sorted(_PARITIES), default="none", help="parity (default none)"
    )
    options.add_argument(
        "-s", "--stopbits", type=int, choices=(1, 2), default=1, help="stop bits (default 1)"
    )
    options.add_argument("-m", "--mode", choices=(MODE_RTU, MODE_ASCII), default=MODE_RTU, help="default rtu")
    options.add_argument(
        "-o",
        "--timeout",
        type=_seconds(allow_zero=False),
        help="seconds to wait for an answer, more than 0 (default 0.5; scan 0.05)",
    )
    options.add_argument("--debug", action="store_true", help="print every frame written and read")
    options.add_argument("--json", action="store_true", help="print JSON for scripts")
    _add_record_option(options)
    return options


def _add_record_option(parser: argparse.ArgumentParser) -> None:
    """``--record FILE``: every transaction of the command to a recording (minimalmodbus.Recording)."""
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="record every request and answer to FILE (JSON lines; replay with simulate --replay FILE)",
    )


def _value_options() -> argparse.ArgumentParser:
    """Options that select values: slave, table and format, register, count, word order."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "-a",
        "--slave",
        type=_whole_number(0, _MAX_SLAVE_ADDRESS),
        default=1,
        action=_GivenOption,
        help="slave address 0..255 (default 1, or the map's; 0 broadcasts a write)",
    )
    options.add_argument(
        "-t",
        "--type",
        type=_parse_type,
        default=("holding", "uint16"),
        action=_GivenOption,
        help="TABLE[:FORMAT]: 0|coil, 1|discrete, 3|input, 4|holding (default); "
        "FORMAT: uint16 (default), int16, hex, uint32, int32, uint64, int64, "
        "float32, float64, string; int and float as in mbpoll (32 bit)",
    )
    options.add_argument(
        "-r",
        "--register",
        type=_whole_number(0, _MAX_REGISTER_ADDRESS),
        default=0,
        action=_GivenOption,
        help="first register address, 0-based (unlike mbpoll, which counts from 1 unless given -0)",
    )
    options.add_argument(
        "-c",
        "--count",
        type=_whole_number(1, _MAX_READ_BITS),
        default=1,
        action=_GivenOption,
        help="number of values (registers for a string; default 1)",
    )
    _add_format_options(options)
    return options


def _add_format_options(options: argparse.ArgumentParser) -> None:
    """Options that say how values sit in registers: word order and decimals."""
    options.add_argument(
        "-B",
        dest="byteorder",
        action=_GivenOption,
        nargs=0,
        const="big",
        help="high word first for 32/64-bit values, as mbpoll's -B (same as --byteorder big)",
    )
    options.add_argument(
        "--byteorder",
        choices=list(_BYTEORDERS),
        action=_GivenOption,
        help=f"order of 32/64-bit values (default {_DEFAULT_BYTEORDER}: low word first, as mbpoll)",
    )
    options.set_defaults(byteorder=_DEFAULT_BYTEORDER)
    options.add_argument(
        "--decimals",
        type=_whole_number(0, _MAX_DECIMALS),
        default=0,
        action=_GivenOption,
        help="decimals of uint16 and int16 values, 0..10 (default 0)",
    )


# -- register maps: read, write, monitor and simulate by name (--map FILE) ----


_NOT_WITH_MAP = (
    ("-t/--type", "type"),
    ("-r/--register", "register"),
    ("-c/--count", "count"),
    ("--decimals", "decimals"),
    ("-B/--byteorder", "byteorder"),
)
"""Options that select values, which a register map gives instead (the ``dest`` notes they were typed)."""


class _GivenOption(argparse.Action):
    """Store an option's value and note that the user gave it (``args.given_<dest>``)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)  # nargs 0: a flag
        setattr(namespace, f"given_{self.dest}", True)


def _add_map_option(parser: argparse.ArgumentParser, with_names: bool = False) -> None:
    """``--map FILE`` (read, monitor: ``--map FILE [NAME ...]``): a register map (doc/registermaps.rst)."""
    if with_names:
        parser.add_argument(
            "--map",
            nargs="+",
            metavar=("FILE", "NAME"),
            help="read values by name from this register map (CSV, or TOML on Python 3.11+); default: all. "
            "Put the port before --map: the words after FILE are names",
        )
    else:
        parser.add_argument("--map", metavar="FILE", help="a register map (CSV, or TOML on Python 3.11+)")


def _map_file(args: argparse.Namespace) -> str:
    """The FILE of ``--map``."""
    return str(args.map[0] if isinstance(args.map, list) else args.map)


def _load_map(args: argparse.Namespace) -> RegisterMap:
    """The map of ``--map``; a problem with it is a usage error naming the option."""
    for option, dest in _NOT_WITH_MAP:
        if getattr(args, f"given_{dest}", False):
            raise _UsageError(
                f"{option}: not with --map, where the map says where each value is and how it is held"
            )
    path = _map_file(args)
    try:
        return RegisterMap.load(path)
    except RegisterMapError as error:
        raise _UsageError(f"--map {path}: {error}") from None
    except OSError as error:
        raise _UsageError(f"--map {path}: cannot read it: {error.strerror or error}") from None


def _map_slave(args: argparse.Namespace, regmap: RegisterMap) -> int:
    """The slave address: ``-a`` if given, else the map's."""
    return int(args.slave) if getattr(args, "given_slave", False) else regmap.slaveaddress


def _checked_names(args: argparse.Namespace, regmap: RegisterMap) -> list[str] | None:
    """The names after ``--map FILE`` (None: all), each known to the map."""
    names: list[str] = args.map[1:]
    for name in names:
        if name not in regmap.entries:
            raise _UsageError(
                f"--map NAME {name!r}: no such value in {regmap.source} (it has: {', '.join(regmap.entries)})"
            )
    return names or None


def _map_lines(regmap: RegisterMap, values: dict[str, Value]) -> list[str]:
    """``  name  value  unit`` lines, aligned."""
    width = max(len(name) for name in values)
    shown = {name: _shown(value) for name, value in values.items()}
    value_width = max(len(text) for text in shown.values())
    return [
        f"  {name:<{width}}  {shown[name]:>{value_width}}  {regmap.entries[name].unit}".rstrip()
        for name in values
    ]


def _map_document(slaveaddress: int, regmap: RegisterMap, values: dict[str, Value]) -> dict[str, Any]:
    """The JSON document of values read by name: slave, map, values and units by name."""
    return {
        "slave": slaveaddress,
        "map": regmap.source,
        "values": values,
        "units": {name: regmap.entries[name].unit for name in values},
    }


def _command_read_map(args: argparse.Namespace) -> int:
    """``read --map FILE [NAME...]``: values by name, in as few requests as the planner allows."""
    regmap = _load_map(args)
    names = _checked_names(args, regmap)
    slaveaddress = _map_slave(args, regmap)
    with _open_instrument(args, slaveaddress) as instrument:
        values = regmap.read(instrument, names)
    if args.json:
        print(json.dumps(_map_document(slaveaddress, regmap, values)))
    else:
        print(f"Slave {slaveaddress}, {regmap.source}:", *_map_lines(regmap, values), sep="\n")
    return 0


def _command_write_map(args: argparse.Namespace) -> int:
    """``write --map FILE NAME VALUE``: one value by name, checked before the port is opened."""
    regmap = _load_map(args)
    if len(args.values) < 2:
        raise _UsageError("with --map, write takes NAME VALUE")
    name, texts = args.values[0], args.values[1:]
    if name not in regmap.entries:
        raise _UsageError(
            f"NAME {name!r}: no such value in {regmap.source} (it has: {', '.join(regmap.entries)})"
        )
    entry = regmap.entries[name]
    if not entry.writable:
        raise _UsageError(f"NAME {name!r}: read-only in {regmap.source} (access r, line {entry.line})")
    if len(texts) > 1 and entry.valuetype != "string":
        raise _UsageError(f"VALUE: {name!r} takes one value, not {' '.join(texts)!r}")
    try:
        value = entry.parse(" ".join(texts))
        written = entry.decode(regmap.encode(name, value))  # as the device holds it, as read shows it
    except (TypeError, ValueError) as error:
        raise _UsageError(f"VALUE {' '.join(texts)!r}: {error}") from None
    slaveaddress = _map_slave(args, regmap)
    with _open_instrument(args, slaveaddress) as instrument:
        regmap.write(instrument, name, value)
    if args.json:
        print(json.dumps(_map_document(slaveaddress, regmap, {name: written})))
    else:
        print(f"Wrote {name} = {_shown(written)} {entry.unit}".rstrip() + f" to slave {slaveaddress}")
    return 0


def _command_monitor_map(args: argparse.Namespace) -> int:
    """``monitor --map FILE [NAME...]``: poll values by name at an interval."""
    regmap = _load_map(args)
    names = _checked_names(args, regmap)
    slaveaddress = _map_slave(args, regmap)
    last_failed = False
    with _open_instrument(args, slaveaddress) as instrument:
        poll = 0
        while args.iterations == 0 or poll < args.iterations:
            poll += 1
            if poll > 1:
                _sleep(args.interval)
            try:
                values, error = regmap.read(instrument, names), None
            except ModbusException as caught:
                values, error = {}, caught
            last_failed = error is not None
            _print_map_poll(args, regmap, slaveaddress, poll, values, error)
    return _EXIT_MODBUS_ERROR if last_failed else 0


def _print_map_poll(
    args: argparse.Namespace,
    regmap: RegisterMap,
    slaveaddress: int,
    poll: int,
    values: dict[str, Value],
    error: ModbusException | None,
) -> None:
    """One poll of ``monitor --map``: a JSON line, or a block of lines."""
    if args.json:
        document: dict[str, Any] = {"poll": poll, **_map_document(slaveaddress, regmap, values)}
        if error is not None:
            del document["values"], document["units"]
            document["error"] = {"type": type(error).__name__, "message": str(error)}
        print(json.dumps(document), flush=True)
        return
    lines = _map_lines(regmap, values) if error is None else [f"  {type(error).__name__}: {error}"]
    print(f"Slave {slaveaddress}, {regmap.source}, poll {poll} every {args.interval} s", *lines, sep="\n")
    sys.stdout.flush()


def _command_simulate_map(
    args: argparse.Namespace, tcp: tuple[str, int] | None, udp: tuple[str, int] | None
) -> int:
    """``simulate --map FILE``: slaves serving exactly the map's registers, with its default values."""
    import minimalmodbus_simulator as simulator  # only simulate needs it

    regmap = _load_map(args)
    slaveaddresses = sorted(set(args.slave or [regmap.slaveaddress]))
    bus = simulator.SimulatedBus(
        {address: simulator.SimulatedSlave(**regmap.slave_tables()) for address in slaveaddresses}, args.mode
    )
    return simulator.serve(bus, baudrate=args.baudrate, tcp=tcp, udp=udp)


def _sleep(seconds: float) -> None:
    """Wait between polls (tests replace this)."""
    if seconds > 0:
        time.sleep(seconds)


def _now() -> float:
    """The monotonic clock of scan progress (tests replace this)."""
    return time.monotonic()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command-line tool; returns the exit code.

    Exit codes: 0 success, 1 a Modbus error (no response, invalid response,
    slave exception; for scan: nobody answered; for monitor: the last poll
    failed), 2 bad arguments, 3 the port cannot be opened, 130 interrupted,
    141 standard output closed early (``| head``): the tool stops quietly.
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        status = _run_recorded(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:
        _discard_standard_output()
        return _EXIT_BROKEN_PIPE
    return status


def _run_recorded(args: argparse.Namespace) -> int:
    """The command, inside a ``minimalmodbus.Recording`` when ``--record FILE`` was given."""
    record_file = getattr(args, "record", None)
    if record_file is None:
        return _run(args)
    recording = minimalmodbus.Recording(record_file)
    try:
        recording.start()
        try:
            return _run(args)
        finally:
            recording.stop()
    except OSError as error:  # _run turns the port's errors into messages: this is the file's (disk full)
        print(f"minimalmodbus {args.command}: cannot record to {record_file!r}: {error}", file=sys.stderr)
        return _EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    """The command's handler; errors become messages on stderr and exit codes."""
    try:
        return int(args.handler(args))
    except _UsageError as error:
        print(f"minimalmodbus {args.command}: bad argument: {error}", file=sys.stderr)
        return _EXIT_USAGE
    except _PortUnavailable as error:
        print(f"minimalmodbus: {error}", file=sys.stderr)
        return _EXIT_PORT
    except PortError as error:  # the port failed in use, or a TCP server refused the connection
        print(f"minimalmodbus: {type(error).__name__}: {error}", file=sys.stderr)
        return _EXIT_PORT
    except ModbusException as error:
        print(f"minimalmodbus: {type(error).__name__}: {error}", file=sys.stderr)
        return _EXIT_MODBUS_ERROR
    except (TypeError, ValueError) as error:  # the driver's own checks, should ours miss one
        print(f"minimalmodbus {args.command}: bad argument: {error}", file=sys.stderr)
        return _EXIT_USAGE
    except KeyboardInterrupt:
        print("minimalmodbus: interrupted", file=sys.stderr)
        return _EXIT_INTERRUPTED


def _discard_standard_output() -> None:
    """After the reader of stdout went away: send what is left to /dev/null, so exit is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor (stdout replaced in-process)
        pass


if __name__ == "__main__":
    sys.exit(main())
