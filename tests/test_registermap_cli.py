"""Register maps on the command line and in the simulator: ``read``, ``write``, ``monitor``, ``simulate``.

The example maps of ``examples/maps/`` are served by ``python -m
minimalmodbus simulate --map FILE`` (a subprocess, stopped by the test with
SIGINT), and read from it by the library and by the command line: both
must give the values written in the file. The other tests serve the map's
slave in-process on a pseudo-terminal (fixture ``serve``) and run
``minimalmodbus_cli.main`` with ``capsys``.
"""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Serve, forget_port
from frames import rtu

pytest.importorskip("termios", reason="needs pseudo-terminals (POSIX)")

import minimalmodbus
import minimalmodbus_cli
import minimalmodbus_simulator as simulator
from minimalmodbus_registermap import RegisterMap, Value

REPO = Path(__file__).resolve().parent.parent
TOML_MAPS = sys.version_info >= (3, 11)  # tomllib
MAPS = sorted((REPO / "examples" / "maps").glob("*.csv" if not TOML_MAPS else "*.*"))
SDM120 = REPO / "examples" / "maps" / "eastron_sdm120.csv"
CN7500 = REPO / "examples" / "maps" / "omega_cn7500.toml"
PROCESS_SECONDS = 20.0


def file_defaults(path: Path) -> dict[str, Value]:
    """The ``default`` values of an example map, read with csv or tomllib alone (not the map's codecs)."""
    if path.suffix == ".toml":
        import tomllib  # 3.11+: MAPS has TOML maps only there

        return {entry["name"]: entry["default"] for entry in tomllib.loads(path.read_text("utf-8"))["entry"]}
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    defaults: dict[str, Value] = {}
    for row in csv.DictReader(lines):
        text = row["default"]
        if row["type"].startswith("string"):
            defaults[row["name"]] = text
        elif re.fullmatch(r"-?(0x[0-9A-Fa-f]+|\d+)", text):
            defaults[row["name"]] = int(text, 0)
        else:
            defaults[row["name"]] = float(text)
    return defaults


def run(argv: list[str]) -> int:
    try:
        return minimalmodbus_cli.main(argv)
    except SystemExit as exit_:
        assert isinstance(exit_.code, int)
        return exit_.code


@pytest.fixture
def simulate_map() -> Iterator[object]:
    """Start ``python -m minimalmodbus simulate --map FILE``; yields a starter returning the pty path."""
    processes: list[subprocess.Popen[str]] = []
    paths: list[str] = []

    def start(path: Path) -> str:
        process = subprocess.Popen(
            [sys.executable, "-m", "minimalmodbus", "simulate", "--map", str(path)],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"Simulated slave\(s\) 1 on (/dev/\S+) \(rtu\)\. Press Ctrl-C to stop\.\n", line)
        assert match, line + (process.stderr.read() if process.stderr else "")
        paths.append(match.group(1))
        return match.group(1)

    yield start
    for path in paths:
        forget_port(path)
    for process in processes:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(PROCESS_SECONDS) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(PROCESS_SECONDS)
            assert process.stderr is not None and process.stdout is not None
            assert "Traceback" not in process.stderr.read()
            process.stdout.close()
            process.stderr.close()


@pytest.mark.parametrize("path", MAPS, ids=[path.name for path in MAPS])
def test_library_command_line_and_simulator_agree_on_every_example_value(
    simulate_map: object, capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    regmap = RegisterMap.load(path)
    port = simulate_map(path)  # type: ignore[operator]
    with minimalmodbus.Instrument(port, regmap.slaveaddress) as instrument:
        instrument.serial.timeout = 1.0
        library = regmap.read(instrument)
    assert run(["read", port, "--map", str(path), "--json", "--timeout", "1"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert library == file_defaults(path)  # float32 values read back as the decimal the file wrote
    assert document["values"] == library
    assert document["units"] == {name: entry.unit for name, entry in regmap.entries.items()}


@pytest.fixture
def meter(serve: Serve) -> tuple[str, simulator.SimulatedBus]:
    """The SDM120 map's slave on a pty: (path, bus)."""
    bus = simulator.SimulatedBus({1: simulator.SimulatedSlave(**RegisterMap.load(SDM120).slave_tables())})
    return serve(bus).path, bus


def test_read_by_name_prints_a_table(
    meter: tuple[str, simulator.SimulatedBus], capsys: pytest.CaptureFixture[str]
) -> None:
    path, bus = meter
    assert run(["read", path, "--map", str(SDM120), "voltage", "frequency", "power_factor"]) == 0
    assert capsys.readouterr().out == (
        f"Slave 1, {SDM120}:\n  voltage       230.1  V\n  frequency     50.02  Hz\n  power_factor  0.977\n"
    )
    assert bus.requests == [
        rtu(1, 4, b"\x00\x00\x00\x02"),
        rtu(1, 4, b"\x00\x1e\x00\x02"),
        rtu(1, 4, b"\x00\x46\x00\x02"),
    ]


def test_write_by_name(meter: tuple[str, simulator.SimulatedBus], capsys: pytest.CaptureFixture[str]) -> None:
    path, bus = meter
    assert run(["write", path, "--map", str(SDM120), "relay_pulse_width", "60"]) == 0
    assert capsys.readouterr().out == "Wrote relay_pulse_width = 60.0 ms to slave 1\n"
    assert bus.requests == [rtu(1, 16, b"\x00\x0c\x00\x02\x04\x42\x70\x00\x00")]  # 60.0 as float32
    assert run(["write", path, "--map", str(SDM120), "meter_id", "7", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["values"] == {"meter_id": 7.0}


def test_monitor_by_name(
    meter: tuple[str, simulator.SimulatedBus],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, _ = meter
    sleeps: list[float] = []
    monkeypatch.setattr(minimalmodbus_cli, "_sleep", sleeps.append)
    argv = [
        "monitor",
        path,
        "--map",
        str(SDM120),
        "voltage",
        "--iterations",
        "2",
        "--interval",
        "5",
        "--json",
    ]
    assert run(argv) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["poll"], line["values"]) for line in lines] == [
        (1, {"voltage": 230.1}),
        (2, {"voltage": 230.1}),
    ]
    assert sleeps == [5.0]


def test_the_map_slave_address_unless_given(
    serve: Serve, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = SDM120.read_text(encoding="utf-8").replace("#! slave_address = 1", "#! slave_address = 9")
    path = tmp_path / "meter9.csv"
    path.write_text(text, encoding="utf-8")
    slave = simulator.SimulatedSlave(**RegisterMap.load(path).slave_tables())
    bus = simulator.SimulatedBus({9: slave, 2: slave})
    port = serve(bus).path
    assert run(["read", port, "--map", str(path), "voltage"]) == 0
    assert run(["read", port, "--map", str(path), "voltage", "-a", "2"]) == 0
    assert [request[0] for request in bus.requests] == [9, 2]
    assert capsys.readouterr().out.startswith("Slave 9, ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["read", "PORT", "--map", "MAP", "nosuch"],
            "minimalmodbus read: bad argument: --map NAME 'nosuch': no such value in ",
        ),
        (
            ["write", "PORT", "--map", "MAP", "voltage", "3"],
            "minimalmodbus write: bad argument: NAME 'voltage': read-only in ",
        ),
        (
            ["write", "PORT", "--map", "MAP", "meter_id", "x"],
            "minimalmodbus write: bad argument: VALUE 'x': 'meter_id' (float32) takes a number, not 'x'",
        ),
        (
            ["write", "PORT", "--map", "MAP", "meter_id"],
            "minimalmodbus write: bad argument: with --map, write takes NAME VALUE",
        ),
        (
            ["write", "PORT", "--map", "MAP", "meter_id", "1", "2"],
            "minimalmodbus write: bad argument: VALUE: 'meter_id' takes one value, not '1 2'",
        ),
        (
            ["read", "PORT", "--map", "/no/such/map.csv"],
            "minimalmodbus read: bad argument: --map /no/such/map.csv: cannot read it: No such file",
        ),
    ],
)
def test_bad_map_arguments_exit_2_before_any_request(
    meter: tuple[str, simulator.SimulatedBus],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    path, bus = meter
    replaced = [path if part == "PORT" else str(SDM120) if part == "MAP" else part for part in argv]
    assert run(replaced) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(message), captured.err
    assert "Traceback" not in captured.err
    assert bus.requests == []


def test_a_whole_number_too_large_for_a_float_exits_2_without_a_traceback(
    meter: tuple[str, simulator.SimulatedBus], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, bus = meter
    counter = tmp_path / "counter.csv"
    counter.write_text(
        "#! format = 1\nname,table,register,type,access\ncounter,holding,0,uint16,rw\n", encoding="utf-8"
    )
    huge = "1" + "0" * 400
    assert run(["write", path, "--map", str(counter), "counter", huge]) == 2
    assert capsys.readouterr().err == (
        f"minimalmodbus write: bad argument: VALUE '{huge}': {huge} is out of range for 'counter' (uint16): "
        "0..65535\n"
    )
    assert bus.requests == []


def test_a_bad_map_file_lists_its_problems(
    meter: tuple[str, simulator.SimulatedBus], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, bus = meter
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "#! format = 1\nname,table,register,type\na,holding,0,uint8\na,holding,0,uint16\n", encoding="utf-8"
    )
    assert run(["read", path, "--map", str(bad)]) == 2
    assert capsys.readouterr().err == (
        f"minimalmodbus read: bad argument: --map {bad}: Register map {bad} has 1 problem(s):\n"
        f"  {bad}:3: unknown type 'uint8'; types are bit, uint16, int16, uint32, int32, uint64, int64, "
        "float32, float64, string:N\n"
    )
    assert bus.requests == []


@pytest.mark.skipif(not TOML_MAPS, reason="the CN7500 example map is TOML (tomllib: Python 3.11+)")
def test_simulate_map_answers_exception_2_for_undeclared_registers(
    simulate_map: object,
) -> None:
    port = simulate_map(CN7500)  # type: ignore[operator]
    with minimalmodbus.Instrument(port, 1) as instrument:
        instrument.serial.timeout = 1.0
        assert instrument.read_register(0x1001, 1, signed=True) == 80
        with pytest.raises(minimalmodbus.IllegalRequestError):
            instrument.read_registers(0x100B, 2)  # 0x100C is a hole of the map
        instrument.write_register(0x1001, 95.5, 1)  # writes are stored
        assert RegisterMap.load(CN7500).read(instrument, ["setpoint"]) == {"setpoint": 95.5}


SETPOINT_MAP = (
    "#! format = 1\nname,table,register,type,decimals,unit,access\nsetpoint,holding,5,int16,1,degC,rw\n"
)


@pytest.mark.parametrize(
    ("typed", "shown", "register"),
    [("80", "80", 800), ("21.57", "21.5", 215), ("-3.25", "-3.2", -32 & 0xFFFF)],  # truncated as written
)
def test_write_by_name_shows_the_value_as_read_shows_it(
    serve: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str], typed: str, shown: str, register: int
) -> None:
    path = tmp_path / "setpoint.csv"
    path.write_text(SETPOINT_MAP, encoding="utf-8")
    slave = simulator.SimulatedSlave(**RegisterMap.load(path).slave_tables())
    port = serve(simulator.SimulatedBus({1: slave})).path
    assert run(["write", port, "--map", str(path), "setpoint", typed]) == 0
    assert capsys.readouterr().out == f"Wrote setpoint = {shown} degC to slave 1\n"
    assert slave.holding_registers[5] == register
    assert run(["read", port, "--map", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == ["setpoint", shown, "degC"]


@pytest.mark.parametrize(
    "option",
    [
        ["-r", "3"],
        ["-c", "2"],
        ["-t", "3"],
        ["-t", "holding", "-r", "0"],
        ["--decimals", "1"],
        ["-B"],
        ["--byteorder", "big"],
    ],
)
def test_value_options_are_refused_with_a_map(
    meter: tuple[str, simulator.SimulatedBus], capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    path, bus = meter
    assert run(["read", path, "--map", str(SDM120), *option]) == 2
    names = {"-r": "-r/--register", "-c": "-c/--count", "-t": "-t/--type", "--decimals": "--decimals"}
    name = names.get(option[0], "-B/--byteorder")
    assert capsys.readouterr().err == (
        f"minimalmodbus read: bad argument: {name}: not with --map, "
        "where the map says where each value is and how it is held\n"
    )
    assert bus.requests == []
