"""The package as users get it: its archives, its type stubs, and the stub generator.

Order: the stub generator on small sources and on our modules (fast, pure) →
what the wheel and the source archive hold → the source archive's own tests,
run from the unpacked archive → ``mypy --strict`` and pyright (strict) on a
user's program, and ``mypy.stubtest``, against the wheel installed in a
fresh virtual environment.

The tests marked ``packaging`` build the archives once per session with
``python -m build`` (the wheel is built from the source archive, so the
archive is proven to build) and install the wheel with mypy from the package
index into one fresh virtual environment; together about half a minute.
``pytest -m "not packaging"`` leaves them out. Without a package index they
skip, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import setup_modules

from tools import make_stubs

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 300  # seconds for one build, install or type check; a hang fails the test, not CI


MODULES = setup_modules()


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output as text, never raise on its exit code."""
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def needs_index(result: subprocess.CompletedProcess[str], what: str) -> None:
    """Fail (under CI) or skip (elsewhere) when a step that fetches from the package index failed."""
    if result.returncode != 0:
        message = (
            f"{what} failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


# ---------------------------------------------------------------------------
# The stub generator (pure: source text in, stub text out)
# ---------------------------------------------------------------------------

SAMPLE = '''
"""A module."""
from __future__ import annotations

__all__ = ["Device", "MODE"]

import json
import serial
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

MODE = "rtu"
"""The mode."""
LIMITS = (1, 2)
_TABLE: dict[int, str] = {1: "one"}
_CACHE = threading.Lock()
Pair = tuple[int, int]


def _make() -> list[int]:
    return [1]


_MADE = _make()


class Colour(enum.Enum):
    RED = "red"
    BLUE = 2


class Device:
    """A device."""

    kind: str = "meter"

    def __init__(self, port: str, values: Sequence[int], debug: bool = False) -> None:
        """Set it up."""
        self.port = port
        self.debug = debug
        self.count: int = len(values)
        self.lock = threading.Lock()
        self.extra = json.dumps(values)

    @property
    def name(self) -> str:
        return self.port

    def read(self, address: int, scale: float = 1.5, *, table: Any = _TABLE) -> float:
        return address * scale

    @staticmethod
    def configure(port: Any) -> None:
        port.rate = 9600  # not an attribute of Device


if __name__ == "__main__":
    print(Device("p", []).read(1))
'''


@pytest.fixture(scope="module")
def sample_stub() -> str:
    return make_stubs.make_stub(SAMPLE, "sample", reexports=["serial"])


def test_stub_is_valid_python_without_docstrings_or_bodies(sample_stub: str) -> None:
    tree = ast.parse(sample_stub)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert ast.unparse(node.body[0]) == "..." and len(node.body) == 1, node.name
    assert "A device" not in sample_stub and "The mode" not in sample_stub and "Set it up" not in sample_stub
    assert sample_stub.startswith("# Generated from sample.py by tools/make_stubs.py")


def test_stub_keeps_signatures_with_simple_defaults(sample_stub: str) -> None:
    assert "def read(self, address: int, scale: float=1.5, *, table: Any=...) -> float:" in sample_stub
    assert "def __init__(self, port: str, values: Sequence[int], debug: bool=False) -> None:" in sample_stub
    assert "@property\n    def name(self) -> str:" in sample_stub


def test_stub_types_module_constants(sample_stub: str) -> None:
    for line in (
        "__all__ = ['Device', 'MODE']",  # as it is: it names the public API
        "MODE: str",
        "LIMITS: tuple[int, ...]",
        "_TABLE: dict[int, str]",
        "_CACHE: threading.Lock",  # a class called, by PEP 8's capitalised name
        "Pair: TypeAlias = tuple[int, int]",
        "_MADE: list[int]",  # the return annotation of the function that made it
    ):
        assert f"\n{line}\n" in sample_stub, line


def test_stub_declares_attributes_set_on_self(sample_stub: str) -> None:
    declared = sample_stub.split("class Device:")[1]
    for line in ("port: str", "debug: bool", "count: int", "lock: threading.Lock", "extra: Incomplete"):
        assert f"\n    {line}\n" in declared, line
    assert "\n    kind: str = ...\n" in declared  # a class attribute keeps that it has a value
    assert "rate" not in declared  # set on a static method's argument, not on self


def test_stub_keeps_enum_members_as_assignments(sample_stub: str) -> None:
    assert "\n    RED = 'red'\n    BLUE = 2\n" in sample_stub


def test_stub_imports_only_what_it_uses_and_reexports_the_api(sample_stub: str) -> None:
    imports = [line for line in sample_stub.splitlines() if line.startswith(("import ", "from "))]
    assert imports == [
        "from _typeshed import Incomplete",
        "from typing_extensions import TypeAlias",
        "import serial as serial",  # named in reexports: part of the module's API
        "import threading",
        "from typing import Any",
        "from collections.abc import Sequence",  # from under TYPE_CHECKING
    ]


def test_stub_drops_the_main_block(sample_stub: str) -> None:
    assert "__main__" not in sample_stub and "print" not in sample_stub


@pytest.mark.parametrize("module", MODULES)
def test_stub_of_each_module_declares_its_names(module: str) -> None:
    source = ast.parse((ROOT / f"{module}.py").read_text(encoding="utf-8"))
    stub = ast.parse(make_stubs.make_stub((ROOT / f"{module}.py").read_text(encoding="utf-8"), module))
    assert top_level_names(source) <= top_level_names(stub) | {
        "termios"
    }  # termios: a fallback of a failed import


def top_level_names(tree: ast.Module) -> set[str]:
    """The names a module binds at top level (imports aside)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node in tree.body:
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {
                name.id for target in targets for name in ast.walk(target) if isinstance(name, ast.Name)
            }
    return names


# ---------------------------------------------------------------------------
# The archives (built once per session)
# ---------------------------------------------------------------------------


LEFT_BY_BUILDS = (
    ".git",
    "*.egg-info",
    "build",
    "dist",
    ".venv*",
    ".tox",
    "_build",
    "__pycache__",
    ".*_cache",
)
"""Left out of the copy the archives are built from (an old egg-info adds its file list to an archive)."""


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The source archive and the wheel, built by ``python -m build`` (the wheel from the archive)."""
    pytest.importorskip("build", reason="python -m build: pip install '.[test]'")
    source = tmp_path_factory.mktemp("source") / "minimalmodbus"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*LEFT_BY_BUILDS))
    outdir = tmp_path_factory.mktemp("dist")
    result = run([sys.executable, "-m", "build", "--outdir", str(outdir), str(source)], cwd=source)
    needs_index(result, "python -m build")
    (sdist,) = outdir.glob("*.tar.gz")
    (wheel,) = outdir.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


@pytest.mark.packaging
def test_wheel_holds_modules_stubs_and_licence(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = set(wheel.namelist())
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        fields = wheel.read(metadata).decode()
        licence = wheel.read(metadata.replace("METADATA", "licenses/LICENSE")).decode()
    for module in MODULES:
        assert f"{module}.py" in names
        assert f"{module}-stubs/__init__.pyi" in names
    assert licence == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "License-Expression: Apache-2.0" in fields.splitlines()
    assert "Classifier: License ::" not in fields  # superseded by the expression (PEP 639)
    assert "Classifier: Programming Language :: Python :: 3.14" in fields.splitlines()
    for label in ("Documentation", "Source", "Changelog"):
        assert f"Project-URL: {label}, https://github.com/pyhys/minimalmodbus" in fields


@pytest.mark.packaging
def test_sdist_holds_tests_docs_and_licence(dists: dict[str, Path]) -> None:
    with tarfile.open(dists["sdist"]) as archive:
        top = archive.getnames()[0].split("/")[0]
        names = {name.partition("/")[2] for name in archive.getnames()}
    expected = {
        "LICENSE",
        "README.txt",
        "CHANGES.txt",
        "tox.ini",
        "pyproject.toml",
        "setup.py",
        "MANIFEST.in",
    }
    for pattern in (
        "tests/**/*.py",
        "doc/*.rst",
        "doc/conf.py",
        "examples/*.py",
        "examples/maps/*",
        "benchmarks/*",
        "tools/*.py",
    ):
        expected |= {
            str(path.relative_to(ROOT)) for path in ROOT.glob(pattern) if "__pycache__" not in path.parts
        }
    expected |= {f"{module}.py" for module in MODULES}
    assert expected <= names, (top, sorted(expected - names))


WHERE_PLUGIN = """
import os, sys

def pytest_sessionfinish(session):
    with open(os.environ["WHERE_IMPORTED"], "w") as where:
        where.write(sys.modules["minimalmodbus"].__file__ + "\\n" + sys.modules["dummy_serial"].__file__)
"""
"""A pytest plugin that writes where the tests took the modules from."""


@pytest.mark.packaging
def test_sdist_runs_its_own_tests(dists: dict[str, Path], tmp_path: Path) -> None:
    with tarfile.open(dists["sdist"]) as archive:
        if hasattr(tarfile, "data_filter"):  # Python 3.12+, and security releases of 3.9 to 3.11
            archive.extractall(tmp_path, filter="data")
        else:  # pragma: no cover
            archive.extractall(tmp_path)
    (unpacked,) = tmp_path.glob("minimalmodbus-*")
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    (plugin_dir / "where_imported.py").write_text(WHERE_PLUGIN, encoding="utf-8")
    where = tmp_path / "where_imported.txt"
    env = {
        **os.environ,
        "PYTHONPATH": str(plugin_dir),
        "PYTHONDONTWRITEBYTECODE": "1",
        "WHERE_IMPORTED": str(where),
    }
    # All test modules are collected (a missing helper module fails here); those of one run.
    command = [sys.executable, "-m", "pytest", "-q", "-p", "where_imported", "-k", "test_minimalmodbus"]
    result = run(command, cwd=unpacked, env=env)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert re.search(r"^\d+ passed, \d+ deselected", result.stdout.splitlines()[-1]), result.stdout[-500:]
    assert where.read_text().splitlines() == [
        str(unpacked / "minimalmodbus.py"),
        str(unpacked / "dummy_serial.py"),
    ]


# ---------------------------------------------------------------------------
# Type checkers see our signatures in the installed wheel
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def wheel_venv(dists: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel, mypy and pyserial's stubs; returns its python."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    python = home / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    install = [str(python), "-m", "pip", "install", "--quiet", str(dists["wheel"]), "mypy", "types-pyserial"]
    needs_index(run(install, cwd=home), "pip install the wheel and mypy")
    return python


USER_PROGRAM = """
import dummy_serial
import minimalmodbus

dummy_serial.RESPONSES[bytes.fromhex("0A 03 10 01 00 01 D0 71")] = bytes.fromhex("0A 03 02 07 D0 1E 29")
instrument = minimalmodbus.Instrument(dummy_serial.Serial("/dev/ttyUSB0"), 10, mode=minimalmodbus.MODE_RTU)
instrument.serial.timeout = 0.05
instrument.retries = 2
temperature: float = instrument.read_register(4097, 1)
value: float = instrument.read_float(100, number_of_registers=2, byteorder=minimalmodbus.BYTEORDER_BIG)
registers: list[int] = instrument.read_registers(0, 4)
try:
    instrument.write_long(0, 2**31, signed=False)
except minimalmodbus.NoResponseError as error:
    response: bytes = error.response
reveal_type(instrument.read_float)
reveal_type(instrument.serial)
reveal_type(dummy_serial.Serial)
"""


@pytest.mark.packaging
def test_mypy_strict_sees_the_signatures(wheel_venv: Path, tmp_path: Path) -> None:
    (tmp_path / "user.py").write_text(USER_PROGRAM, encoding="utf-8")
    command = [str(wheel_venv), "-m", "mypy", "--strict", "--no-incremental", "user.py"]
    result = run(command, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    revealed = [
        text.replace("builtins.", "") for text in re.findall(r'Revealed type is "(.*)"', result.stdout)
    ]
    read_float = (
        "def (registeraddress: int, functioncode: int =, number_of_registers: int =, byteorder: int =)"
    )
    assert revealed[0] == f"{read_float} -> float"
    assert revealed[1] == "Any"  # the port: pyserial's Serial or any port object, settings set freely
    assert revealed[2].startswith("def (port: ") and revealed[2].endswith("-> dummy_serial.Serial")
    assert "baudrate: int =" in revealed[2] and "Any" not in revealed[2]


@pytest.mark.packaging
def test_stubs_agree_with_the_modules(wheel_venv: Path, tmp_path: Path) -> None:
    result = run([str(wheel_venv), "-m", "mypy.stubtest", *MODULES], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Success: no issues found in {len(MODULES)} modules" in result.stdout


@pytest.mark.packaging
def test_pyright_strict_sees_the_signatures(wheel_venv: Path, tmp_path: Path) -> None:
    """Pyright (from the package index; it runs on Node.js and fetches itself from npm) agrees."""
    needs_index(
        run([str(wheel_venv), "-m", "pip", "install", "--quiet", "pyright"], cwd=tmp_path),
        "pip install pyright",
    )
    (tmp_path / "user.py").write_text(USER_PROGRAM, encoding="utf-8")
    (tmp_path / "pyrightconfig.json").write_text('{"typeCheckingMode": "strict"}', encoding="utf-8")
    command = [str(wheel_venv), "-m", "pyright", "--pythonpath", str(wheel_venv), "--outputjson", "user.py"]
    result = run(command, cwd=tmp_path)
    if not result.stdout.startswith("{"):  # no report: pyright could not start (no Node.js, no npm)
        needs_index(result, "pyright")
    report = json.loads(result.stdout)
    messages = [(item["severity"], item["message"]) for item in report["generalDiagnostics"]]
    assert report["summary"]["errorCount"] == 0, messages
    revealed = [message for severity, message in messages if severity == "information"]
    assert revealed[0].startswith(
        'Type of "instrument.read_float" is "(registeraddress: int, functioncode: int = 3'
    )
    assert revealed[0].endswith(') -> float"')
    assert revealed[1] == 'Type of "instrument.serial" is "Any"'
