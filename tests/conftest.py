"""Shared fixtures: a fake clock, and dummy_serial installed as the port class.

Time is never spent for real in tests that use ``dummy``: both modules'
clock wrappers (``_now``/``_sleep``) are replaced by one fake clock that
moves only when somebody sleeps on it, and records every sleep.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import dummy_serial
import minimalmodbus


class FakeClock:
    """A clock that only moves when somebody sleeps on it."""

    def __init__(self) -> None:
        self.time = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self.time += seconds


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """One fake clock behind minimalmodbus's and dummy_serial's clock wrappers."""
    clock = FakeClock()
    for module in (minimalmodbus, dummy_serial):
        monkeypatch.setattr(module, "_now", clock.now)
        monkeypatch.setattr(module, "_sleep", clock.sleep)
    return clock


@pytest.fixture
def dummy(monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock) -> Iterator[dict[bytes, bytes]]:
    """Install dummy_serial as ``minimalmodbus.serial.Serial`` on a fake clock.

    Yields the (empty) RESPONSES dict to fill; forgets all shared ports
    before and after, so no test sees another's port.
    """
    responses: dict[bytes, bytes] = {}
    monkeypatch.setattr(minimalmodbus.serial, "Serial", dummy_serial.Serial)
    monkeypatch.setattr(dummy_serial, "RESPONSES", responses)
    monkeypatch.setattr(dummy_serial, "VERBOSE", False)
    minimalmodbus._PORTS_BY_NAME.clear()
    yield responses
    minimalmodbus._PORTS_BY_NAME.clear()
