"""The example programs in examples/ (issue 12, item 11), each run as a user runs it.

Each example runs in its own ``python`` process, against simulated slaves
that this test serves on a pseudo-terminal (fixture ``serve``, stopped by
it) or, for the recorded-response ones, against dummy_serial. The test
checks what the program printed or wrote and what the simulated slaves
received. The vendor driver's own tests (examples/test_vendor_driver.py)
run with pytest in a subprocess, as its docstring tells a user to.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Serve

import minimalmodbus
import minimalmodbus_simulator
from minimalmodbus_registermap import RegisterMap

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
PROCESS_SECONDS = 60.0  # a process is killed if it takes longer


def run_example(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` with the repository's modules importable (as after ``pip install .``)."""
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=PROCESS_SECONDS,
        check=False,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    return done


def demo_bus(*slaveaddresses: int) -> minimalmodbus_simulator.SimulatedBus:
    return minimalmodbus_simulator.SimulatedBus(
        {address: minimalmodbus_simulator.demo_slave() for address in slaveaddresses}
    )


def test_every_example_is_tested() -> None:
    tested = {
        "read_with_dummy_serial.py",
        "vendor_driver.py",
        "test_vendor_driver.py",
        "threads_one_port.py",
        "log_to_csv.py",
        "floats_and_strings.py",
        "meter_by_name.py",
        "record_and_replay.py",
    }
    assert {path.name for path in EXAMPLES.glob("*.py")} == tested


def test_read_with_dummy_serial() -> None:
    done = run_example("examples/read_with_dummy_serial.py")
    assert done.stdout.splitlines()[-1] == "Temperature read through minimalmodbus and dummy_serial: 200"


def test_vendor_driver_tests_pass_with_pytest() -> None:
    done = run_example("-m", "pytest", "-q", "-p", "no:cacheprovider", "examples/test_vendor_driver.py")
    assert "5 passed" in done.stdout


def test_vendor_driver_program_against_a_simulated_controller(serve: Serve) -> None:
    controller = minimalmodbus_simulator.SimulatedSlave(
        holding_registers={0x1001: 2000}, discrete_inputs={0x0814: 1}
    )
    bus = minimalmodbus_simulator.SimulatedBus({10: controller})
    path = serve(bus).path
    done = run_example("examples/vendor_driver.py", path)
    assert done.stdout == "Setpoint 200.0 degrees, running: True\n"
    assert [request[1] for request in bus.requests] == [3, 2]


@pytest.mark.skipif(sys.platform == "win32", reason="needs pseudo-terminals")
def test_threads_one_port(serve: Serve) -> None:
    bus = demo_bus(1, 2, 3)
    bus.slaves[2].holding_registers[3] = 1234
    path = serve(bus).path
    done = run_example("examples/threads_one_port.py", path, "1", "2", "3")
    assert done.stdout.splitlines() == [
        "slave 1: 5 polls, last [0, 10, 20, 30]",
        "slave 2: 5 polls, last [0, 10, 20, 1234]",
        "slave 3: 5 polls, last [0, 10, 20, 30]",
    ]
    assert sorted(request[0] for request in bus.requests) == [1] * 5 + [2] * 5 + [3] * 5


@pytest.mark.skipif(sys.platform == "win32", reason="needs pseudo-terminals")
def test_threads_one_port_alone_serves_its_own_slaves() -> None:
    done = run_example("examples/threads_one_port.py")
    assert done.stdout.splitlines() == [
        f"slave {address}: 5 polls, last [0, 10, 20, 30]" for address in (1, 2, 3)
    ]


def test_log_to_csv(serve: Serve, tmp_path: Path) -> None:
    path = serve(demo_bus(1)).path
    logfile = tmp_path / "log.csv"
    run_example(
        "examples/log_to_csv.py",
        path,
        str(logfile),
        "--register",
        "5",
        "--count",
        "2",
        "--polls",
        "3",
        "--interval",
        "0",
    )
    with open(logfile, newline="", encoding="utf-8") as opened:
        rows = list(csv.DictReader(opened))
    assert len(rows) == 3
    for row in rows:
        assert row.pop("time").endswith("+00:00")
        assert row == {"register 5": "50", "register 6": "60", "error": ""}


def test_log_to_csv_logs_a_failed_poll_as_an_error_row(serve: Serve, tmp_path: Path) -> None:
    path = serve(demo_bus(1)).path
    logfile = tmp_path / "log.csv"
    run_example(
        "examples/log_to_csv.py", path, str(logfile), "--register", "99", "--count", "2", "--polls", "1"
    )
    with open(logfile, newline="", encoding="utf-8") as opened:
        (row,) = list(csv.DictReader(opened))
    assert row["register 99"] == row["register 100"] == ""
    assert row["error"].startswith("IllegalRequestError: ")


def test_floats_and_strings(serve: Serve) -> None:
    bus = demo_bus(1)
    path = serve(bus).path
    done = run_example("examples/floats_and_strings.py", path, "1")
    assert done.stdout.splitlines() == [
        "float: 3.140000104904175",
        "double: 3.14",
        "long, low word first: -100000",
        "the same registers: [31072, 65534]",
        "string: 'Pump 7  '",
        "from one block: 3.140000104904175 'Pump 7  '",
    ]
    registers = bus.slaves[1].holding_registers
    assert [registers[address] for address in range(40, 44)] == minimalmodbus.string_to_registers("Pump 7", 4)


def test_floats_and_strings_alone_serves_its_own_slave() -> None:
    assert run_example("examples/floats_and_strings.py").stdout.startswith("float: 3.140000104904175\n")


METER_MAP = EXAMPLES / "maps" / "eastron_sdm120.csv"


@pytest.mark.skipif(sys.platform == "win32", reason="needs pseudo-terminals")
def test_meter_by_name_reads_the_map_in_its_runs(serve: Serve) -> None:
    regmap = RegisterMap.load(METER_MAP)
    bus = minimalmodbus_simulator.SimulatedBus(
        {regmap.slaveaddress: minimalmodbus_simulator.SimulatedSlave(**regmap.slave_tables())}
    )
    done = run_example("examples/meter_by_name.py", serve(bus).path)
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["voltage", "230.1", "V"]
    assert lines[-1] == f"{len(regmap.entries)} values in {len(regmap.plan())} requests"
    assert len(bus.requests) == len(regmap.plan())  # one request per run of declared registers
    assert len(lines) == len(regmap.entries) + 1


@pytest.mark.skipif(sys.platform == "win32", reason="needs pseudo-terminals")
def test_meter_by_name_alone_serves_its_own_meter() -> None:
    assert run_example("examples/meter_by_name.py").stdout.endswith(" values in 16 requests\n")


@pytest.mark.skipif(sys.platform == "win32", reason="needs pseudo-terminals")
def test_record_and_replay_gives_the_bench_values_without_the_device(tmp_path: Path) -> None:
    done = run_example(str(EXAMPLES / "record_and_replay.py"), cwd=tmp_path)
    values = "{'register 7': 7, 'registers 0..3': [0, 10, 20, 30], 'coils 0..3': [0, 1, 0, 1]}"
    assert done.stdout.splitlines() == [
        f"On the bench (3 transactions recorded to session.jsonl): {values}",
        f"Replayed through dummy_serial: {values}",
        "Same values: True",
    ]
    lines = (tmp_path / "session.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 3 and '"format": "minimalmodbus-recording"' in lines[0]
