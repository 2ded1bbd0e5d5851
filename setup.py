"""Packaging for MinimalModbus: single modules, their type stubs, pyserial the only dependency.

PEP 561 lets a type checker read a package's annotations (``py.typed``), but
not a single module's. So the build also writes a stub-only package
``<module>-stubs/__init__.pyi`` for every module in ``MODULES``, generated
from the module's source by tools/make_stubs.py: mypy and pyright prefer
``<module>-stubs`` to the module itself, and the stubs never drift from the
code. To install one more module, add its name to ``MODULES``; nothing else.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent

MODULES = [
    "minimalmodbus",
    "minimalmodbus_cli",
    "dummy_serial",
    "minimalmodbus_simulator",
    "minimalmodbus_registermap",
    "minimalmodbus_replay",
]
"""The modules installed, each with its stub-only package."""

STUB_REEXPORTS = {"minimalmodbus": ["serial"]}
"""Imported names that are API, re-exported by the stubs (API.md part A: ``minimalmodbus.serial``)."""

URL = "https://github.com/pyhys/minimalmodbus"


def module_attribute(name: str, module: str = "minimalmodbus") -> str:
    """A ``__dunder__ = "..."`` string from a module's source, read without importing it."""
    source = (HERE / f"{module}.py").read_text(encoding="utf-8")
    found = re.search(rf'^{name} = "([^"]+)"', source, re.MULTILINE)
    if found is None:
        raise RuntimeError(f'{module}.py has no line {name} = "..."')
    return found.group(1)


def load_stub_maker() -> ModuleType:
    """Import tools/make_stubs.py by its path (a PEP 517 build does not put this folder on sys.path)."""
    path = HERE / "tools" / "make_stubs.py"
    spec = importlib.util.spec_from_file_location("make_stubs", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load the stub generator {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithStubs(build_py):
    """``build_py`` that also writes ``<module>-stubs/__init__.pyi`` for every module it builds."""

    def run(self) -> None:
        """Build the modules as usual, then their stubs (not for an editable install)."""
        super().run()
        if not getattr(self, "editable_mode", False):
            make_stubs = load_stub_maker()
            for module, stub_file in self.stub_files().items():
                make_stubs.write_stub_package(
                    HERE / f"{module}.py", Path(self.build_lib), STUB_REEXPORTS.get(module, ())
                )
                self.announce(f"writing type stubs {stub_file}", level=2)

    def stub_files(self) -> dict[str, str]:
        """The stub file of each module, by module name."""
        return {
            module: str(Path(self.build_lib) / f"{module}-stubs" / "__init__.pyi")
            for module in self.py_modules or []
        }

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        """The files built, the stubs included (install's record of files)."""
        return [*super().get_outputs(include_bytecode), *self.stub_files().values()]


setup(
    name="minimalmodbus",
    version=module_attribute("__version__"),
    description="Easy-to-use Modbus RTU and Modbus ASCII master for serial lines",
    long_description=(HERE / "README.txt").read_text(encoding="utf-8"),
    long_description_content_type="text/plain",
    author=module_attribute("__author__"),
    license_expression="Apache-2.0",
    license_files=["LICENSE"],
    url=URL,
    project_urls={
        "Documentation": f"{URL}/tree/HEAD/doc",
        "Source": URL,
        "Changelog": f"{URL}/blob/HEAD/CHANGES.txt",
        "Issues": f"{URL}/issues",
    },
    py_modules=MODULES,
    cmdclass={"build_py": BuildPyWithStubs},
    python_requires=">=3.9",
    install_requires=["pyserial>=3.0"],
    entry_points={"console_scripts": ["minimalmodbus = minimalmodbus_cli:main"]},
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6", "build>=1"],
        "lint": ["ruff>=0.5", "mypy>=1.10", "types-pyserial", "types-setuptools"],
        "doc": ["sphinx>=7"],
    },
    classifiers=[
        "Development Status :: 4 - Beta",
        "Intended Audience :: Developers",
        "Intended Audience :: Science/Research",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Programming Language :: Python :: 3.14",
        "Topic :: Scientific/Engineering",
        "Topic :: System :: Hardware :: Hardware Drivers",
        "Typing :: Typed",
    ],
)
