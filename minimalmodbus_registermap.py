"""Register maps: a device described once, in a file, for reads, writes, the command line, the simulator.

A register map lists the values of a device as its manual does: per value a
name, a table (coil, discrete input, holding or input register), a register
address, a type, a byte order, decimals or a scale factor, a unit, whether it
may be written, and a description. :meth:`RegisterMap.load` reads it from a
CSV file (every supported Python) or a TOML file (Python 3.11+, ``tomllib``),
checks everything and reports every problem with its line. Then::

    regmap = RegisterMap.load("sdm120.csv")
    values = regmap.read(instrument)              # {"voltage": 230.1, ...}
    regmap.write(instrument, "demand_period", 15)

:meth:`RegisterMap.read` reads the values in as few requests as the planner
(:func:`plan_reads`) allows: values of one table are read together when no
undeclared register lies between them (unless ``max_gap`` allows some), so
holes in the map, which devices refuse with exception 2, are never read.
When a device still refuses a joined request, it is split, the refusal is
remembered, and the values are still returned.

The file format is described in doc/registermaps.rst. This module imports
the standard library and the public API of ``minimalmodbus``; the command
line imports it (``read --map``, ``write --map``, ``monitor --map``,
``simulate --map``).
"""

from __future__ import annotations

import csv
import decimal
import math
import re
import struct
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypedDict, Union

from minimalmodbus import (
    BYTEORDER_BIG,
    BYTEORDER_BIG_SWAP,
    BYTEORDER_LITTLE,
    BYTEORDER_LITTLE_SWAP,
    IllegalRequestError,
    Instrument,
    float_to_registers,
    long_to_registers,
    register_to_signed,
    registers_to_float,
    registers_to_long,
    registers_to_string,
    string_to_registers,
)

FORMAT_VERSION = 1
"""The version of the register-map format this module reads (``format = 1`` in a file)."""

Value = Union[int, float, str]
"""A value read or written by name: int or float (scaled), or str for strings."""

# ---------------------------------------------------------------------------
# Facts: tables, types, byte orders (Application Protocol §6.1-6.4: at most
# 2000 bits or 125 registers in one read request; §6.12: 123 in one write)
# ---------------------------------------------------------------------------

_MAX_BITS_READ = 2000
_MAX_REGISTERS_READ = 125
_MAX_REGISTERS_WRITE = 123
_MAX_REGISTER_ADDRESS = 0xFFFF
_MAX_DECIMALS = 10
_ILLEGAL_DATA_ADDRESS = 2
_ILLEGAL_DATA_VALUE = 3  # some devices answer this for a quantity they will not read at once

# Between two wanted values, the planner also reads up to this many registers
# of declared values nobody asked for: at 19200 baud one more request costs
# about 16 characters (8 request, 5 response overhead, 3.5 silence), the time
# of 8 registers.
_BRIDGE_REGISTERS = 8


class _Table(NamedTuple):
    read_code: int  # function code that reads it
    bits: bool
    writable: bool


_TABLES = {
    "coil": _Table(1, True, True),
    "discrete": _Table(2, True, False),
    "holding": _Table(3, False, True),
    "input": _Table(4, False, False),
}
_TABLE_ALIASES = {
    "coils": "coil",
    "discrete_input": "discrete",
    "holding_register": "holding",
    "input_register": "input",
}


class _Type(NamedTuple):
    registers: int  # 0: given with the type (string:N)
    kind: str  # "bit", "int", "float", "string"
    signed: bool = False


_TYPES = {
    "bit": _Type(1, "bit"),
    "uint16": _Type(1, "int"),
    "int16": _Type(1, "int", True),
    "uint32": _Type(2, "int"),
    "int32": _Type(2, "int", True),
    "uint64": _Type(4, "int"),
    "int64": _Type(4, "int", True),
    "float32": _Type(2, "float"),
    "float64": _Type(4, "float"),
    "string": _Type(0, "string"),
}

BYTEORDERS = {
    "big": BYTEORDER_BIG,
    "little": BYTEORDER_LITTLE,
    "bigswap": BYTEORDER_BIG_SWAP,
    "littleswap": BYTEORDER_LITTLE_SWAP,
}
"""Byte-order names of a map file -> the ``minimalmodbus.BYTEORDER_*`` constants."""

_ACCESS = {"r": False, "ro": False, "read-only": False, "rw": True, "read-write": True}
_SETTINGS = ("format", "slave_address", "byteorder", "base")
_REQUIRED_COLUMNS = ("name", "table", "register", "type")
_OPTIONAL_COLUMNS = ("byteorder", "decimals", "scale", "unit", "access", "default", "description")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")


class SlaveTables(TypedDict):
    """A map's bits and registers for ``minimalmodbus_simulator.SimulatedSlave(**tables)``."""

    coils: dict[int, int]
    discrete_inputs: dict[int, int]
    holding_registers: dict[int, int]
    input_registers: dict[int, int]


class RegisterMapError(ValueError):
    """A register map that did not load: every problem found, each with its file and line.

    Attributes:
        problems: One ``"FILE:LINE: what is wrong"`` text per problem.
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        listing = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"Register map {source} has {len(self.problems)} problem(s):\n{listing}")


# ---------------------------------------------------------------------------
# Entries: one value of a device, and its codec
# ---------------------------------------------------------------------------


class Entry(NamedTuple):
    """One value of a map: where it is, how it is coded, what it means."""

    name: str
    """The name to read and write it by."""
    table: str
    """``"coil"``, ``"discrete"``, ``"holding"`` or ``"input"``."""
    registeraddress: int
    """The 0-based register (or bit) address of its first register."""
    valuetype: str
    """``"bit"``, ``"uint16"``, ``"int16"`` ... ``"float64"``, or ``"string"``."""
    number_of_registers: int
    """Registers it takes (1 for a bit)."""
    byteorder: int = BYTEORDER_BIG
    """A ``minimalmodbus.BYTEORDER_*`` constant (32- and 64-bit values)."""
    decimals: int = 0
    """The value is the integer divided by 10**decimals."""
    scale: float | None = None
    """Or: the value is the number times this factor; None: no scale."""
    unit: str = ""
    """For people, e.g. ``"V"``."""
    writable: bool = False
    """Whether :meth:`RegisterMap.write` may write it (access ``rw``)."""
    description: str = ""
    """For people."""
    default: Value | None = None
    """The value the simulator starts with (None: 0, or an empty string)."""
    line: int = 0
    """The line of the file that declares it."""

    @property
    def end(self) -> int:
        """The register address after its last register."""
        return self.registeraddress + self.number_of_registers

    @property
    def functioncode(self) -> int:
        """The function code that reads it."""
        return _TABLES[self.table].read_code

    def decode(self, words: Sequence[int]) -> Value:
        """The value held in its registers (or its bit), scaled."""
        kind = _TYPES[self.valuetype]
        if kind.kind == "bit":
            return words[0]
        if kind.kind == "string":
            return registers_to_string(words).rstrip("\x00 ")
        if kind.kind == "float":
            number = registers_to_float(words, self.byteorder)
            if self.number_of_registers == 2:
                number = _shortest_float32(number)
            return number if self.scale is None else float(_decimal(number) * _decimal(self.scale))
        return _whole_as_int(self._scaled(self._integer(words, kind.signed)))

    def encode(self, value: object) -> list[int]:
        """Its register values (or bit) for a value; ValueError or TypeError if it cannot hold it."""
        kind = _TYPES[self.valuetype].kind
        if kind == "bit":
            if value not in (0, 1) or not isinstance(value, int):
                raise ValueError(f"{self.name!r} is a bit: give 0 or 1, not {value!r}")
            return [int(value)]
        if kind == "string":
            return self._encode_string(value)
        number = _checked_number(self.name, value)
        if kind == "float":
            scaled = number if self.scale is None else float(_decimal(number) / _decimal(self.scale))
            try:
                if not math.isfinite(scaled):  # unscaling made it too large: float_to_registers gives inf
                    raise OverflowError
                return float_to_registers(scaled, self.number_of_registers, self.byteorder)
            except (ValueError, OverflowError):
                raise ValueError(f"{self.name!r} ({self.valuetype}) cannot hold {value!r}") from None
        return self._encode_integer(number)

    def parse(self, text: str) -> Value:
        """A value typed by a person (command line, ``default`` column) for this entry."""
        kind = _TYPES[self.valuetype].kind
        if kind == "string":
            return text
        whole = kind == "bit" or (kind == "int" and not self.decimals and self.scale is None)
        try:
            return int(text, 0) if whole else float(text)
        except ValueError:
            wanted = "a whole number" if whole else "a number"
            raise ValueError(f"{self.name!r} ({self.valuetype}) takes {wanted}, not {text!r}") from None

    def range_text(self) -> str:
        """The values it holds, in its units, for messages."""
        low, high = _integer_range(self.valuetype)
        return f"{self._scaled(low)}..{self._scaled(high)}"

    def _integer(self, words: Sequence[int], signed: bool) -> int:
        if self.number_of_registers == 1:
            return register_to_signed(words[0]) if signed else words[0]
        return registers_to_long(words, signed, self.byteorder)

    def _scaled(self, raw: int) -> decimal.Decimal:
        if self.scale is not None:
            return decimal.Decimal(raw) * _decimal(self.scale)
        return decimal.Decimal(raw).scaleb(-self.decimals)

    def _encode_string(self, value: object) -> list[int]:
        if not isinstance(value, str):
            raise TypeError(f"{self.name!r} is a string: give a str, not {value!r}")
        try:
            return string_to_registers(value, self.number_of_registers)
        except ValueError:
            raise ValueError(
                f"{self.name!r} holds at most {2 * self.number_of_registers} ASCII characters, not {value!r}"
            ) from None

    def _encode_integer(self, number: float) -> list[int]:
        """Unscale (truncate toward zero for decimals, as write_register; round for a scale)."""
        exact = _decimal(number)
        if self.scale is not None:
            raw = int((exact / _decimal(self.scale)).to_integral_value(decimal.ROUND_HALF_EVEN))
        else:
            if not self.decimals and exact != exact.to_integral_value():  # before scaleb rounds to 28 digits
                raise ValueError(f"{self.name!r} ({self.valuetype}) takes a whole number, not {number!r}")
            raw = int(exact.scaleb(self.decimals).to_integral_value(decimal.ROUND_DOWN))
        low, high = _integer_range(self.valuetype)
        if not low <= raw <= high:
            raise ValueError(
                f"{number!r} is out of range for {self.name!r} ({self.valuetype}{self._scale_text()}): "
                f"{self.range_text()}"
            )
        if self.number_of_registers == 1:
            return [raw & 0xFFFF]
        return long_to_registers(raw, low < 0, self.byteorder, self.number_of_registers)

    def _scale_text(self) -> str:
        if self.scale is not None:
            return f", scale {self.scale}"
        return f", decimals {self.decimals}" if self.decimals else ""


def _integer_range(valuetype: str) -> tuple[int, int]:
    bits = 16 * _TYPES[valuetype].registers
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if _TYPES[valuetype].signed else (0, (1 << bits) - 1)


def _decimal(number: float) -> decimal.Decimal:
    """The decimal a person means by a float: its shortest text (0.1, not 0.1000000000000000055)."""
    return decimal.Decimal(repr(number))


def _whole_as_int(number: decimal.Decimal) -> int | float:
    """As read_register: an int when whole, else a float."""
    return int(number) if number == number.to_integral_value() else float(number)


def _shortest_float32(number: float) -> float:
    """The shortest decimal that is the same float32 (230.1, not 230.10000610351562)."""
    if not math.isfinite(number):
        return number
    packed = struct.pack(">f", number)
    for digits in range(1, 10):
        candidate = float(f"{number:.{digits}g}")
        if struct.pack(">f", candidate) == packed:
            return candidate
    return number


def _checked_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name!r} takes a number, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value):  # an int may be too large for a float
        raise ValueError(f"{name!r} takes a finite number, not {value!r}")
    return value


# ---------------------------------------------------------------------------
# The planner (pure)
# ---------------------------------------------------------------------------


class ReadRequest(NamedTuple):
    """One read request of a plan: a table, its first register (or bit) address, how many, the values."""

    table: str
    """``"coil"``, ``"discrete"``, ``"holding"`` or ``"input"``."""
    registeraddress: int
    """The first register (or bit) read."""
    number_of_registers: int
    """Registers (or bits) read."""
    entries: tuple[Entry, ...]
    """The values it reads, by register address."""

    @property
    def functioncode(self) -> int:
        """The function code of the request: 1, 2, 3 or 4."""
        return _TABLES[self.table].read_code


def plan_reads(
    wanted: Iterable[Entry],
    declared: Mapping[str, Iterable[int]],
    max_gap: int = 0,
    refused: Iterable[tuple[str, int]] = (),
) -> list[ReadRequest]:
    """Group values into read requests: few, within the limits, never over an undeclared hole.

    Per table, by register address, each value joins the request before it
    when (1) the request stays within 125 registers (2000 bits), (2) at
    most ``max_gap`` registers between them are undeclared, (3) at most
    ``max(max_gap, 8)`` registers between them are declared values not
    wanted (worth reading rather than starting another request), and (4)
    the device has not refused that join before (``refused``). Greedy
    joining is optimal here: a request is a contiguous span, so closing one
    later never needs more requests.

    Args:
        wanted: The values to read (their registers must not overlap).
        declared: Table -> the register (or bit) addresses the map declares.
        max_gap: The most undeclared registers that one join may read, 0 or more.
        refused: (table, register address) of values the device refused to
            read together with the value before them.

    Returns:
        The requests, in table order (coil, discrete, holding, input), each by address.
    """
    cuts = set(refused)
    requests: list[ReadRequest] = []
    by_table: dict[str, list[Entry]] = {table: [] for table in _TABLES}
    for entry in wanted:
        by_table[entry.table].append(entry)
    for table, entries in by_table.items():
        present = set(declared.get(table, ()))
        group: list[Entry] = []
        for entry in sorted(entries, key=lambda entry: entry.registeraddress):
            if group and not _joins(group, entry, present, max_gap, cuts):
                requests.append(_request(group))
                group = []
            group.append(entry)
        if group:
            requests.append(_request(group))
    return requests


def _joins(
    group: list[Entry], entry: Entry, declared: set[int], max_gap: int, cuts: set[tuple[str, int]]
) -> bool:
    """Whether the value may be read in the same request as the group before it."""
    limit = _MAX_BITS_READ if _TABLES[entry.table].bits else _MAX_REGISTERS_READ
    start, end = group[0].registeraddress, group[-1].end
    if (entry.table, entry.registeraddress) in cuts or entry.end - start > limit:
        return False
    holes = sum(1 for registeraddress in range(end, entry.registeraddress) if registeraddress not in declared)
    unwanted = entry.registeraddress - end - holes
    return holes <= max_gap and unwanted <= max(max_gap, _BRIDGE_REGISTERS)


def _request(entries: Sequence[Entry]) -> ReadRequest:
    first = entries[0].registeraddress
    return ReadRequest(entries[0].table, first, entries[-1].end - first, tuple(entries))


def _split(request: ReadRequest) -> list[ReadRequest]:
    """A refused request in smaller ones: its runs of adjacent values, or else (one run) its two halves.

    Halving finds a boundary the map does not show (a device whose memory
    is in blocks) in a few requests, and learns one cut for it, not one per value.
    """
    runs: list[list[Entry]] = []
    for entry in request.entries:
        if runs and runs[-1][-1].end == entry.registeraddress:
            runs[-1].append(entry)
        else:
            runs.append([entry])
    if len(runs) == 1:
        middle = len(request.entries) // 2
        runs = [list(request.entries[:middle]), list(request.entries[middle:])]
    return [_request(run) for run in runs if run]


# ---------------------------------------------------------------------------
# The map
# ---------------------------------------------------------------------------


class RegisterMap:
    """The values of a device, loaded and checked; reads and writes them by name.

    Attributes:
        entries: Name -> :class:`Entry`, in the file's order.
        slaveaddress: The file's slave address (default 1): the command line
            and the simulator use it unless told otherwise.
        source: The file it came from.
        refused_joins: Slave address -> the (table, register address) of
            values a refused request was cut before (its runs, its halves);
            learned by :meth:`read`, used by its planner.
    """

    def __init__(self, entries: Iterable[Entry], slaveaddress: int = 1, source: str = "<map>") -> None:
        """A map of entries already checked (use :meth:`load` or :meth:`loads` for files)."""
        self.entries = {entry.name: entry for entry in entries}
        self.slaveaddress = slaveaddress
        self.source = source
        self.refused_joins: dict[int, set[tuple[str, int]]] = {}
        self._declared: dict[str, set[int]] = {table: set() for table in _TABLES}
        for entry in self.entries.values():
            self._declared[entry.table].update(range(entry.registeraddress, entry.end))

    def __repr__(self) -> str:
        """Return the source, the slave address and the number of entries."""
        return (
            f"minimalmodbus_registermap.RegisterMap<source={self.source!r}, "
            f"slaveaddress={self.slaveaddress}, entries={len(self.entries)}>"
        )

    @classmethod
    def load(cls, path: str | Path) -> RegisterMap:
        """Load and check a map file: ``.csv``, or ``.toml`` (Python 3.11+).

        Raises:
            RegisterMapError: Every problem of the file, each with its line.
            OSError: The file cannot be read.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".toml"):
            raise RegisterMapError(str(path), [f"{path}: a map file ends in .csv or .toml, not {suffix!r}"])
        return cls.loads(path.read_text(encoding="utf-8"), suffix[1:], str(path))

    @classmethod
    def loads(cls, text: str, fileformat: str = "csv", source: str = "<text>") -> RegisterMap:
        """Load and check a map from its text; ``fileformat`` ``"csv"`` or ``"toml"``."""
        if fileformat == "csv":
            settings, rows, problems = _read_csv(text, source)
        elif fileformat == "toml":
            settings, rows, problems = _read_toml(text, source)
        else:
            raise ValueError(f"fileformat must be 'csv' or 'toml', not {fileformat!r}")
        if problems and not settings and not rows:  # not read at all
            raise RegisterMapError(source, problems)
        return _build(settings, rows, problems, source)

    def entry(self, name: str) -> Entry:
        """The entry of a name; ValueError naming the known ones if there is none."""
        try:
            return self.entries[name]
        except KeyError:
            known = ", ".join(self.entries)
            raise ValueError(
                f"No value {name!r} in the register map {self.source} (it has: {known})"
            ) from None

    def plan(
        self, names: Iterable[str] | None = None, max_gap: int = 0, slaveaddress: int | None = None
    ) -> list[ReadRequest]:
        """The read requests for some values (None: all); see :func:`plan_reads`.

        ``slaveaddress``: use what that slave refused before (``refused_joins``).
        """
        if isinstance(max_gap, bool) or not isinstance(max_gap, int) or max_gap < 0:
            raise ValueError(f"max_gap must be a whole number 0 or more, not {max_gap!r}")
        refused = self.refused_joins.get(slaveaddress, set()) if slaveaddress is not None else set()
        return plan_reads(self._wanted(names), self._declared, max_gap, refused)

    def read(
        self, instrument: Instrument, names: Iterable[str] | None = None, max_gap: int = 0
    ) -> dict[str, Value]:
        """Read values by name, in as few requests as the planner allows.

        Args:
            instrument: The instrument to read (its slave address is used).
            names: The values to read; None: all, in the file's order.
            max_gap: The most undeclared registers one request may read
                between two values (0: never read a register the map does
                not declare).

        Returns:
            Name -> value (scaled; int, float or str), in the order asked.

        Raises:
            ValueError: An unknown name or a bad ``max_gap`` (before anything is sent).
            minimalmodbus.ModbusException: As the instrument's reads; a
            joined request refused with exception 2 or 3 is read in parts
            instead (and the refusal remembered in ``refused_joins``).
        """
        wanted = self._wanted(names)
        refused = self.refused_joins.setdefault(instrument.address, set())
        plan = self.plan([entry.name for entry in wanted], max_gap, instrument.address)
        values: dict[str, Value] = {}
        for request in plan:
            self._read_request(instrument, request, values, refused)
        return {entry.name: values[entry.name] for entry in wanted}

    def write(self, instrument: Instrument, name: str, value: Value) -> None:
        """Write one value by name: a coil with function code 5, registers with 16.

        Raises:
            ValueError, TypeError: An unknown name, a read-only value, or a
                value its type cannot hold (before anything is sent).
            minimalmodbus.ModbusException: As the instrument's writes.
        """
        entry = self.entry(name)
        words = self.encode(name, value)
        if entry.table == "coil":
            instrument.write_bit(entry.registeraddress, words[0], functioncode=5)
        else:
            instrument.write_registers(entry.registeraddress, words)

    def encode(self, name: str, value: Value) -> list[int]:
        """The register values (or bit) that :meth:`write` would write, checked; nothing is sent.

        Raises:
            ValueError, TypeError: An unknown name, a read-only value, or a
                value its type cannot hold.
        """
        entry = self.entry(name)
        if not entry.writable:
            raise ValueError(
                f"{name!r} is read-only in the register map {self.source} (access r, line {entry.line})"
            )
        return entry.encode(value)

    def slave_tables(self) -> SlaveTables:
        """The declared bits and registers with their default values (0 or empty when none).

        ``SimulatedSlave(**regmap.slave_tables())`` (of ``minimalmodbus_simulator``)
        serves exactly the declared addresses and answers exception 2 for every other one.
        """
        tables: dict[str, dict[int, int]] = {table: {} for table in _TABLES}
        for entry in self.entries.values():
            words = entry.encode(_empty_value(entry) if entry.default is None else entry.default)
            tables[entry.table].update(enumerate(words, start=entry.registeraddress))
        return SlaveTables(
            coils=tables["coil"],
            discrete_inputs=tables["discrete"],
            holding_registers=tables["holding"],
            input_registers=tables["input"],
        )

    def _wanted(self, names: Iterable[str] | None) -> list[Entry]:
        if names is None:
            return list(self.entries.values())
        if isinstance(names, str):
            raise TypeError(f"names must be a list of names, not the text {names!r}")
        return [self.entry(name) for name in dict.fromkeys(names)]

    def _read_request(
        self,
        instrument: Instrument,
        request: ReadRequest,
        values: dict[str, Value],
        refused: set[tuple[str, int]],
    ) -> None:
        """Read one request into ``values``; a refused joined one is read in parts, and remembered."""
        try:
            words = _fetch(instrument, request)
        except IllegalRequestError as error:
            parts = _split(request)
            if len(parts) == 1 or error.exception_code not in (_ILLEGAL_DATA_ADDRESS, _ILLEGAL_DATA_VALUE):
                raise
            refused.update((part.table, part.registeraddress) for part in parts[1:])  # kept if a part fails
            for part in parts:
                self._read_request(instrument, part, values, refused)
            return
        for entry in request.entries:
            offset = entry.registeraddress - request.registeraddress
            values[entry.name] = entry.decode(words[offset : offset + entry.number_of_registers])


def _fetch(instrument: Instrument, request: ReadRequest) -> list[int]:
    if _TABLES[request.table].bits:
        return instrument.read_bits(
            request.registeraddress, request.number_of_registers, request.functioncode
        )
    return instrument.read_registers(
        request.registeraddress, request.number_of_registers, request.functioncode
    )


def _empty_value(entry: Entry) -> Value:
    return "" if entry.valuetype == "string" else 0


# ---------------------------------------------------------------------------
# Reading files: settings and rows, each with its line; every problem collected
# ---------------------------------------------------------------------------


class _Row(NamedTuple):
    line: int
    fields: dict[str, Any]


_Parsed = tuple[dict[str, tuple[int, Any]], list[_Row], list[str]]


def _read_csv(text: str, source: str) -> _Parsed:
    """Settings (``#! key = value`` lines), rows by column name, problems."""
    settings: dict[str, tuple[int, Any]] = {}
    rows: list[_Row] = []
    problems: list[str] = []
    header: list[str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#!"):
            key, equals, value = stripped[2:].partition("=")
            if not equals:
                problems.append(f"{source}:{number}: a setting is '#! key = value', not {stripped!r}")
            settings[key.strip()] = (number, value.strip())
        elif not stripped or stripped.startswith("#"):
            continue
        elif header is None:
            header = [column.strip().lower() for column in next(csv.reader([line]))]
            problems += _header_problems(header, source, number)
        else:
            fields = [field.strip() for field in next(csv.reader([line]))]
            if len(fields) > len(header):
                problems.append(
                    f"{source}:{number}: {len(fields)} fields, but the header has {len(header)} columns"
                )
            row = {column: field for column, field in zip(header, fields) if field != ""}
            rows.append(_Row(number, row))
    if header is None:
        problems.append(f"{source}: no header line (name,table,register,type,...)")
    return settings, rows, problems


def _header_problems(header: list[str], source: str, line: int) -> list[str]:
    known = _REQUIRED_COLUMNS + _OPTIONAL_COLUMNS
    problems = [
        f"{source}:{line}: unknown column {column!r}; columns are {', '.join(known)}"
        for column in header
        if column not in known
    ]
    problems += [
        f"{source}:{line}: no column {column!r}" for column in _REQUIRED_COLUMNS if column not in header
    ]
    return problems


def _read_toml(text: str, source: str) -> _Parsed:
    """Settings (top-level keys) and ``[[entry]]`` tables, each with the line of its header."""
    if sys.version_info < (3, 11):
        problem = f"{source}: TOML maps need Python 3.11 or later (tomllib); use a CSV map on this Python"
        return {}, [], [problem]
    import tomllib

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return {}, [], [f"{source}: not valid TOML: {error}"]
    header_lines = [
        number for number, line in enumerate(text.splitlines(), start=1) if line.strip() == "[[entry]]"
    ]
    entries = document.pop("entry", [])
    problems: list[str] = []
    if not isinstance(entries, list) or len(header_lines) != len(entries):
        problems.append(f"{source}: write the values as [[entry]] tables, each header on its own line")
        entries = []
    settings = {key: (1, value) for key, value in document.items()}
    rows = []
    for line, fields in zip(header_lines, entries):
        unknown = sorted(set(fields) - set(_REQUIRED_COLUMNS + _OPTIONAL_COLUMNS))
        problems += [f"{source}:{line}: unknown key {key!r}" for key in unknown]
        rows.append(_Row(line, {key: value for key, value in fields.items() if key not in unknown}))
    return settings, rows, problems


# ---------------------------------------------------------------------------
# Checking: settings, each row, then the rows together
# ---------------------------------------------------------------------------


class _Defaults(NamedTuple):
    slaveaddress: int
    byteorder: int
    base: int


class _Problem(Exception):
    """One problem of one field (collected, never raised to the user)."""


def _build(
    settings: dict[str, tuple[int, Any]], rows: list[_Row], problems: list[str], source: str
) -> RegisterMap:
    defaults = _check_settings(settings, source, problems)
    entries: list[Entry] = []
    for row in rows:
        try:
            entries.append(_entry(row, defaults))
        except _Problem as problem:
            problems.append(f"{source}:{row.line}: {problem}")
    problems += _duplicates(entries, source) + _overlaps(entries, source, defaults.base)
    if not rows and not problems:
        problems.append(f"{source}: no values: the map is empty")
    if problems:
        raise RegisterMapError(source, problems)
    return RegisterMap(entries, defaults.slaveaddress, source)


def _check_settings(settings: dict[str, tuple[int, Any]], source: str, problems: list[str]) -> _Defaults:
    parsed = {"slave_address": 1, "byteorder": BYTEORDER_BIG, "base": 0}
    for key, (line, value) in settings.items():
        if key not in _SETTINGS:
            problems.append(f"{source}:{line}: unknown setting {key!r}; settings are {', '.join(_SETTINGS)}")
            continue
        try:
            parsed[key] = _setting(key, value)
        except _Problem as problem:
            problems.append(f"{source}:{line}: {problem}")
    if "format" not in settings:
        problems.append(
            f"{source}: no format version: put '#! format = {FORMAT_VERSION}' first (TOML: format = 1)"
        )
    return _Defaults(parsed["slave_address"], parsed["byteorder"], parsed["base"])


def _setting(key: str, value: Any) -> int:
    """One setting's value, checked."""
    if key == "slave_address":
        return _integer(value, "slave_address", 1, 255)
    if key == "byteorder":
        return int(_choice(value, BYTEORDERS, "byteorder"))
    choices = {str(FORMAT_VERSION): FORMAT_VERSION} if key == "format" else {"0": 0, "1": 1}
    return int(_choice(str(value), choices, key))


def _entry(row: _Row, defaults: _Defaults) -> Entry:
    """An entry from one row; _Problem at its first problem."""
    fields = row.fields
    missing = [column for column in _REQUIRED_COLUMNS if column not in fields]
    if missing:
        raise _Problem(f"no {', '.join(missing)}")
    name = str(fields["name"])
    if not _NAME.match(name):
        raise _Problem(f"bad name {name!r}: letters, digits, '_', '.', '-', starting with a letter or '_'")
    table = _table(fields["table"])
    valuetype, number_of_registers = _valuetype(fields["type"], table)
    registeraddress = _registeraddress(fields["register"], defaults.base, number_of_registers, table)
    access = _access(fields, table, number_of_registers)
    byteorder = _choice(fields.get("byteorder", _byteorder_name(defaults.byteorder)), BYTEORDERS, "byteorder")
    decimals, scale = _scaling(fields, valuetype)
    entry = Entry(
        name,
        table,
        registeraddress,
        valuetype,
        number_of_registers,
        byteorder,
        decimals,
        scale,
        str(fields.get("unit", "")),
        access,
        str(fields.get("description", "")),
        None,
        row.line,
    )
    return entry._replace(default=_default(entry, fields.get("default")))


def _access(fields: dict[str, Any], table: str, number_of_registers: int) -> bool:
    """Whether the value may be written: its table allows it, and one request can write it."""
    access = bool(_choice(str(fields.get("access", "r")).lower(), _ACCESS, "access"))
    if access and not _TABLES[table].writable:
        raise _Problem(f"access rw: {table} {'bits' if _TABLES[table].bits else 'registers'} are read-only")
    if access and number_of_registers > _MAX_REGISTERS_WRITE:
        raise _Problem(
            f"a string does not fit one write: {fields['type']!r} with access rw; "
            f"give string:N with N 1..{_MAX_REGISTERS_WRITE} registers"
        )
    return access


def _table(value: Any) -> str:
    text = str(value).strip().lower().replace(" ", "_")
    table = _TABLE_ALIASES.get(text, text)
    if table not in _TABLES:
        raise _Problem(f"unknown table {value!r}; tables are coil, discrete, holding, input")
    return table


def _valuetype(value: Any, table: str) -> tuple[str, int]:
    text = str(value).strip().lower()
    name, colon, count = text.partition(":")
    if name not in _TYPES or (name == "string") != bool(colon):
        raise _Problem(
            f"unknown type {value!r}; types are {', '.join(t for t in _TYPES if t != 'string')}, string:N"
        )
    if _TABLES[table].bits != (name == "bit"):
        allowed = "bit" if _TABLES[table].bits else "a register type, not bit"
        raise _Problem(f"type {name} in a {table} table: it holds {allowed}")
    if name != "string":
        return name, _TYPES[name].registers
    if not count.isdigit() or not 1 <= int(count) <= _MAX_REGISTERS_READ:
        raise _Problem(
            f"a string does not fit: {value!r}; give string:N with N 1..{_MAX_REGISTERS_READ} registers"
        )
    return name, int(count)


def _registeraddress(value: Any, base: int, number_of_registers: int, table: str) -> int:
    registeraddress = _integer(value, "register", base, _MAX_REGISTER_ADDRESS + base) - base
    last = registeraddress + number_of_registers - 1
    if last > _MAX_REGISTER_ADDRESS:
        unit = "bits" if _TABLES[table].bits else "registers"
        raise _Problem(
            f"bad register address {value!r}: its {number_of_registers} {unit} "
            f"end beyond {_MAX_REGISTER_ADDRESS + base}"
        )
    return registeraddress


def _scaling(fields: dict[str, Any], valuetype: str) -> tuple[int, float | None]:
    if "decimals" in fields and "scale" in fields:
        raise _Problem("give decimals or scale, not both")
    kind = _TYPES[valuetype].kind
    if "decimals" in fields:
        if kind != "int":
            raise _Problem(f"decimals apply to integer types, not {valuetype} (use scale for floats)")
        return _integer(fields["decimals"], "decimals", 0, _MAX_DECIMALS), None
    if "scale" not in fields:
        return 0, None
    if kind not in ("int", "float"):
        raise _Problem(f"scale applies to numbers, not {valuetype}")
    try:
        scale = float(fields["scale"])
    except (TypeError, ValueError):
        scale = math.nan
    if not math.isfinite(scale) or scale == 0 or isinstance(fields["scale"], bool):
        raise _Problem(f"bad scale {fields['scale']!r}: a number other than 0, e.g. 0.1")
    return 0, scale


def _default(entry: Entry, value: Any) -> Value | None:
    if value is None:
        return None
    try:
        parsed = entry.parse(value) if isinstance(value, str) else value
        entry.encode(parsed)
    except (TypeError, ValueError) as error:
        raise _Problem(f"bad default {value!r}: {error}") from None
    return parsed


def _integer(value: Any, what: str, minimum: int, maximum: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number: int | None = value
    else:
        try:
            number = int(str(value), 0)
        except ValueError:
            number = None
    if number is None or not minimum <= number <= maximum:
        prefix = "bad register address" if what == "register" else f"bad {what}"
        raise _Problem(f"{prefix} {value!r}: a whole number {minimum}..{maximum}")
    return number


def _choice(value: Any, choices: Mapping[str, Any], what: str) -> Any:
    if not isinstance(value, str) or value not in choices:
        raise _Problem(f"bad {what} {value!r}; one of {', '.join(choices)}")
    return choices[value]


def _byteorder_name(byteorder: int) -> str:
    return next(name for name, value in BYTEORDERS.items() if value == byteorder)


def _duplicates(entries: list[Entry], source: str) -> list[str]:
    first: dict[str, Entry] = {}
    problems = []
    for entry in entries:
        if entry.name in first:
            problems.append(
                f"{source}:{entry.line}: duplicate name {entry.name!r} "
                f"(first on line {first[entry.name].line})"
            )
        else:
            first[entry.name] = entry
    return problems


def _overlaps(entries: list[Entry], source: str, base: int) -> list[str]:
    problems = []
    ordered = sorted(entries, key=lambda entry: (entry.table, entry.registeraddress, entry.line))
    widest: Entry | None = None  # of the entries so far in this table, the one that ends last
    for entry in ordered:
        if widest is not None and widest.table == entry.table and entry.registeraddress < widest.end:
            problems.append(
                f"{source}:{entry.line}: {entry.name!r} overlaps {widest.name!r} (line {widest.line}): "
                f"{entry.table} register {entry.registeraddress + base} is inside "
                f"{widest.registeraddress + base}..{widest.end - 1 + base}"
            )
        if widest is None or widest.table != entry.table or entry.end > widest.end:
            widest = entry
    return problems
