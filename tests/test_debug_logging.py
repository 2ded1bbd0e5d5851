"""Debug mode and logging together (issue 12, item 10): each line shows once.

The rule (doc/debugging.rst): ``debug=True`` prints every step to standard
output, unless a handler that the ``minimalmodbus`` logger reaches (its own
or an ancestor's, following ``propagate``) takes DEBUG records and writes
them to ``sys.stdout`` or ``sys.stderr``: then logging already shows the
line on the console, and debug mode does not print it a second time. A
handler writing to a file (or anywhere else) does not silence debug mode.
The first line, ``Using port ...``, is debug mode's own and always printed.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest
from frames import rtu  # the tests' own CRC, not the driver's

import minimalmodbus

PORT = "/dev/ttyUSB0"
READ_REQUEST = rtu(1, 3, bytes.fromhex("00 05 00 01"))  # read_register(5): slave 1, fc 3, register 5
READ_RESPONSE = rtu(1, 3, bytes.fromhex("02 00 2A"))  # 42
PREFIX = "MinimalModbus debug mode. "
LOGGER = logging.getLogger("minimalmodbus")


@pytest.fixture
def clean_loggers() -> Iterator[None]:
    """Leave the minimalmodbus and root loggers as they were."""
    saved = [
        (logger, logger.level, list(logger.handlers), logger.propagate) for logger in (LOGGER, logging.root)
    ]
    yield
    for logger, level, handlers, propagate in saved:
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


def read_in_debug_mode(dummy: dict[bytes, bytes]) -> None:
    dummy[READ_REQUEST] = READ_RESPONSE
    assert minimalmodbus.Instrument(PORT, 1, debug=True).read_register(5) == 42


def frame_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "instrument:" in line]


def test_debug_without_logging_prints_each_line(
    dummy: dict[bytes, bytes], capsys: pytest.CaptureFixture[str], clean_loggers: None
) -> None:
    read_in_debug_mode(dummy)
    out = capsys.readouterr().out
    assert out.startswith(f"{PREFIX}Using port '{PORT}'\n")
    assert len(frame_lines(out)) == 2


@pytest.mark.parametrize("stream_name", ["stdout", "stderr"])
@pytest.mark.parametrize("on_root", [True, False])
def test_debug_with_console_logging_shows_each_line_once(
    dummy: dict[bytes, bytes],
    capsys: pytest.CaptureFixture[str],
    clean_loggers: None,
    stream_name: str,
    on_root: bool,
) -> None:
    """As after ``logging.basicConfig(level=logging.DEBUG)`` (root, stderr) or a handler of our own."""
    handler = logging.StreamHandler(getattr(sys, stream_name))
    handler.setFormatter(logging.Formatter("LOG %(message)s"))
    logger = logging.root if on_root else LOGGER
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    read_in_debug_mode(dummy)
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert len(frame_lines(shown)) == 2, shown
    assert all(line.startswith("LOG ") for line in frame_lines(shown))
    assert captured.out.startswith(f"{PREFIX}Using port '{PORT}'\n")


def test_debug_prints_when_logging_goes_to_a_file_only(
    dummy: dict[bytes, bytes], capsys: pytest.CaptureFixture[str], clean_loggers: None
) -> None:
    logfile = io.StringIO()
    LOGGER.addHandler(logging.StreamHandler(logfile))
    LOGGER.setLevel(logging.DEBUG)
    read_in_debug_mode(dummy)
    assert len(frame_lines(capsys.readouterr().out)) == 2
    assert len(frame_lines(logfile.getvalue())) == 2


@pytest.mark.parametrize("reason", ["logger level", "handler level", "no propagation"])
def test_debug_prints_when_the_console_handler_would_not_show_debug(
    dummy: dict[bytes, bytes], capsys: pytest.CaptureFixture[str], clean_loggers: None, reason: str
) -> None:
    handler = logging.StreamHandler(sys.stderr)
    logging.root.addHandler(handler)
    LOGGER.setLevel(logging.DEBUG)
    if reason == "logger level":
        LOGGER.setLevel(logging.INFO)
    elif reason == "handler level":
        handler.setLevel(logging.INFO)
    else:
        LOGGER.propagate = False
    read_in_debug_mode(dummy)
    captured = capsys.readouterr()
    assert len(frame_lines(captured.out)) == 2
    assert frame_lines(captured.err) == []


def test_console_logging_without_debug_mode_prints_nothing_of_debug_mode(
    dummy: dict[bytes, bytes], capsys: pytest.CaptureFixture[str], clean_loggers: None
) -> None:
    LOGGER.addHandler(logging.StreamHandler(sys.stderr))
    LOGGER.setLevel(logging.DEBUG)
    dummy[READ_REQUEST] = READ_RESPONSE
    minimalmodbus.Instrument(PORT, 1).read_register(5)
    captured = capsys.readouterr()
    assert PREFIX not in captured.out + captured.err
    assert len(frame_lines(captured.err)) == 2
