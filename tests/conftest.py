"""Shared fixtures: a fake clock, dummy_serial installed as the port class, simulated slaves on a pty.

Time is never spent for real in tests that use ``dummy``: both modules'
clock wrappers (``_now``/``_sleep``) are replaced by one fake clock that
moves only when somebody sleeps on it, and records every sleep.

``serve`` starts :class:`minimalmodbus_simulator.PtyServer` s for a test
(the one slave of every test on a real tty: command line, interoperability,
transactions) and stops and checks them afterwards.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import dummy_serial
import minimalmodbus
import minimalmodbus_simulator


class FakeClock:
    """A clock that only moves when somebody sleeps on it; it records the sleeps.

    Args:
        start: The time it shows first. The ``fake_clock`` fixture starts at
            1000.0; test_dummy_serial.py and test_simulated_slave.py start at
            0.0 (their expected times are the floats computed from 0.0).
        ignore_nonpositive: Whether a sleep of 0 or less is ignored (neither
            recorded nor moving the clock), as minimalmodbus's ``_sleep``
            ignores it. False: it is recorded and applied as it is, so a test
            can assert that dummy_serial, whose ``_sleep`` is ``time.sleep``,
            never asks for one.
    """

    def __init__(self, start: float = 1000.0, *, ignore_nonpositive: bool = True) -> None:
        self.time = start
        self.sleeps: list[float] = []
        self.ignore_nonpositive = ignore_nonpositive

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        if seconds > 0 or not self.ignore_nonpositive:
            self.sleeps.append(seconds)
            self.time += seconds


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """One fake clock behind minimalmodbus's and dummy_serial's clock wrappers."""
    clock = FakeClock()
    for module in (minimalmodbus, dummy_serial):
        monkeypatch.setattr(module, "_now", clock.now)
        monkeypatch.setattr(module, "_sleep", clock.sleep)
    monkeypatch.setattr(minimalmodbus, "_wake_lag", 0.0)  # learned from real sleeps elsewhere
    return clock


@pytest.fixture
def dummy(monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock) -> Iterator[dict[bytes, bytes]]:
    """Install dummy_serial as ``minimalmodbus.serial.Serial`` on a fake clock.

    Yields the (empty) RESPONSES dict to fill; forgets all shared ports
    before and after, so no test sees another's port.
    """
    responses: dict[bytes, bytes] = {}
    monkeypatch.setattr("minimalmodbus.serial.Serial", dummy_serial.Serial)
    monkeypatch.setattr(dummy_serial, "RESPONSES", responses)
    monkeypatch.setattr(dummy_serial, "VERBOSE", False)
    minimalmodbus.forget_ports()
    yield responses
    minimalmodbus.forget_ports()


def as_dummy(port: minimalmodbus.SerialPort) -> dummy_serial.Serial:
    """The port, checked to be a ``dummy_serial.Serial`` (as ``dummy`` makes them), to reach its records."""
    assert isinstance(port, dummy_serial.Serial), f"not a dummy_serial port: {port!r}"
    return port


def forget_port(name: str) -> None:
    """Close and forget the port minimalmodbus opened (and shares) by this name."""
    port = minimalmodbus._serialports.pop(name, None)
    if port is not None and port.is_open:
        port.close()


Serve = Callable[[minimalmodbus_simulator.SimulatedBus], minimalmodbus_simulator.PtyServer]
"""What the ``serve`` fixture gives: start serving a bus on a new pty."""


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start PtyServers; at the end close our ports to them, stop them, check them."""
    pytest.importorskip("termios", reason="needs pseudo-terminals (POSIX)")
    servers: list[minimalmodbus_simulator.PtyServer] = []

    def start(bus: minimalmodbus_simulator.SimulatedBus) -> minimalmodbus_simulator.PtyServer:
        server = minimalmodbus_simulator.PtyServer(bus)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        forget_port(server.path)
        server.stop()
        assert not server.is_running
        assert server.error is None, f"the PtyServer failed: {server.error!r}"


def module_imports(path: str | None) -> set[str]:
    """The top-level packages a module's source imports anywhere but in ``if __name__ == "__main__":``."""
    tree = ast.parse(Path(path or "").read_text(encoding="utf-8"))
    imported: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.If) and "__main__" in ast.unparse(statement.test):
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add((node.module or "").split(".")[0])
    return imported


def setup_modules() -> list[str]:
    """The modules setup.py installs: its ``MODULES`` list, read without running setup.py."""
    tree = ast.parse((Path(__file__).resolve().parent.parent / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [ast.unparse(target) for target in node.targets] == ["MODULES"]:
            modules: list[str] = ast.literal_eval(node.value)
            return modules
    raise AssertionError("setup.py has no MODULES = [...]")


OUR_MODULES = set(setup_modules())
"""The modules of this repository; imports among them point one way (doc/develop.rst)."""
