"""Helpers the Instrument test modules share: calls as data, a silent slave,
wrapped port methods, frames with one part replaced.

Nothing here imports minimalmodbus or dummy_serial; the tests stay a second
opinion on both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest


class Call(NamedTuple):
    """A method call on an Instrument, e.g. ``call("read_register", 4097, 1)``."""

    method: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]

    def run(self, instrument: Any) -> Any:
        """Make the call on an instrument."""
        return getattr(instrument, self.method)(*self.args, **dict(self.kwargs))

    def __str__(self) -> str:
        arguments = [repr(arg) for arg in self.args] + [f"{key}={value!r}" for key, value in self.kwargs]
        text = f"{self.method}({', '.join(arguments)})"
        return text if len(text) <= 100 else text[:97] + "..."


def call(method: str, *args: Any, **kwargs: Any) -> Call:
    """A Call, written as the call itself."""
    return Call(method, args, tuple(kwargs.items()))


def silent(request: bytes) -> list[tuple[float, bytes]]:
    """A dummy_serial responder for a slave that never answers."""
    return []


def instant(answer: bytes) -> Callable[[bytes], list[tuple[float, bytes]]]:
    """A dummy_serial responder that answers every request with ``answer`` at once (no wire time)."""
    return lambda request: [(0.0, answer)]


def count_calls(monkeypatch: pytest.MonkeyPatch, port: Any, name: str) -> list[tuple[Any, ...]]:
    """Wrap a method of a port object; return the list of the arguments of each call."""
    calls: list[tuple[Any, ...]] = []
    method = getattr(port, name)

    def wrapper(*args: Any) -> Any:
        calls.append(args)
        return method(*args)

    monkeypatch.setattr(port, name, wrapper)
    return calls


def splice(data: bytes, offset: int, old: bytes, new: bytes) -> bytes:
    """Replace ``old`` at ``offset`` by ``new`` (``old`` must be there)."""
    assert data[offset : offset + len(old)] == old, f"{old.hex()} is not at {offset} in {data.hex()}"
    return data[:offset] + new + data[offset + len(old) :]
