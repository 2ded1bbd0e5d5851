"""Every snippet of README.txt, run as a reader pastes it (issue 12, item 9).

README.txt's snippets are its indented blocks. Each is one of:

- Python: run alone in a fresh ``python`` process (nothing from another
  snippet), with ``/dev/ttyUSB0``, the README's stand-in for the reader's
  port, replaced by the pseudo-terminal of a ``python -m minimalmodbus
  simulate`` process that this test starts (with the README's own simulate
  line) and always stops;
- command lines of the tool: each ``python -m minimalmodbus ...`` line run
  against that simulate process, exit status 0;
- installing and developing: the two first commands, which CI runs as they
  stand on a fresh clone (tests/test_packaging.py covers the package they
  install), and the other pip, tox, bash and sphinx-build lines, which need
  the package index and are not run here; they are listed below, so a new
  snippet cannot slip in untested;
- the list of methods, which is prose.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("termios", reason="needs pseudo-terminals (POSIX)")

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.txt").read_text(encoding="utf-8")
PROCESS_SECONDS = 30.0  # a process is killed if it takes longer
STAND_IN_PORT = "/dev/ttyUSB0"

FIRST_COMMANDS = [
    "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/python -m minimalmodbus demo",
    'python3 -m venv .venv-test && .venv-test/bin/pip install ".[test]" && .venv-test/bin/python -m pytest',
]
NOT_RUN_HERE = (  # need the package index, or are what CI itself runs
    "python3 -m venv ",
    "tox ",
    "bash .ci/run ",
    ".venv/bin/python benchmarks/bench.py ",
)


def snippets() -> list[str]:
    """The indented blocks of README.txt (runs of indented and blank lines between text), dedented."""
    blocks: list[list[str]] = [[]]
    for line in README.splitlines():
        if line.startswith("    ") or not line.strip():
            blocks[-1].append(line[4:])
        elif blocks[-1]:
            blocks.append([])
    return [text for text in ("\n".join(block).strip("\n") for block in blocks) if text]


def kind(snippet: str) -> str:
    lines = [line for line in snippet.splitlines() if line.strip()]
    if any(line.startswith(("import ", "from ")) for line in lines):
        return "python"
    if all(line.startswith("python -m minimalmodbus ") for line in lines):
        return "tool"
    if all(line.startswith(NOT_RUN_HERE) for line in lines):
        return "install"
    if lines[0].startswith("read_bit, write_bit"):
        return "prose"
    return "unknown"


SNIPPETS = snippets()
PYTHON = [snippet for snippet in SNIPPETS if kind(snippet) == "python"]
TOOL_LINES = [line for snippet in SNIPPETS if kind(snippet) == "tool" for line in snippet.splitlines()]


def test_every_snippet_is_known() -> None:
    assert [kind(snippet) for snippet in SNIPPETS if kind(snippet) == "unknown"] == []
    assert len(PYTHON) == 3
    assert len(TOOL_LINES) == 8


def test_the_first_two_commands_stand_as_ci_runs_them() -> None:
    assert SNIPPETS[:2] == FIRST_COMMANDS


def environment() -> dict[str, str]:
    """The repository's modules importable from anywhere, as after ``pip install .``."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))


@pytest.fixture(scope="module")
def simulate() -> Iterator[str]:
    """The README's own simulate line, started here and always stopped here; yields its pty's path."""
    (line,) = [line for line in TOOL_LINES if " simulate " in line]
    argv = [sys.executable if word == "python" else word for word in shlex.split(line, comments=True)]
    process = subprocess.Popen(
        argv, cwd=REPO, env=environment(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        readable, _, _ = select.select([process.stdout], [], [], PROCESS_SECONDS)
        assert readable, "simulate printed nothing"
        found = re.fullmatch(
            r"Simulated slave\(s\) 1, 2 on (\S+) \(rtu\)\. Press Ctrl-C to stop\.\n",
            process.stdout.readline(),
        )
        assert found
        yield found.group(1)
        process.send_signal(signal.SIGINT)
        assert process.wait(PROCESS_SECONDS) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(PROCESS_SECONDS)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize("snippet", PYTHON, ids=[snippet.splitlines()[-1][:40] for snippet in PYTHON])
def test_python_snippet_runs_alone(simulate: str, snippet: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", snippet.replace(STAND_IN_PORT, simulate)],
        cwd=REPO,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=PROCESS_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("line", [line for line in TOOL_LINES if " simulate " not in line])
def test_command_line_runs_against_simulate(simulate: str, line: str) -> None:
    argv = [sys.executable if word == "python" else word for word in shlex.split(line, comments=True)]
    done = subprocess.run(
        [simulate if word == STAND_IN_PORT else word for word in argv],
        cwd=REPO,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=PROCESS_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout
