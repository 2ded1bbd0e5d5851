"""Packaging for MinimalModbus: driver, command line, test double, simulator; pyserial the only dependency."""

import re
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent
VERSION = re.search(r'^__version__ = "([^"]+)"', (HERE / "minimalmodbus.py").read_text(), re.M)

setup(
    name="minimalmodbus",
    version=VERSION.group(1) if VERSION else "0",
    description="Easy-to-use Modbus RTU and Modbus ASCII master for serial lines",
    long_description=(HERE / "README.txt").read_text(encoding="utf-8"),
    long_description_content_type="text/plain",
    author="MinimalModbus maintainers",
    license="Apache License, Version 2.0",
    url="https://github.com/pyhys/minimalmodbus",
    py_modules=["minimalmodbus", "minimalmodbus_cli", "dummy_serial", "minimalmodbus_simulator"],
    python_requires=">=3.9",
    install_requires=["pyserial>=3.0"],
    entry_points={"console_scripts": ["minimalmodbus = minimalmodbus_cli:main"]},
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6"],
        "lint": ["ruff>=0.5", "mypy>=1.10", "types-pyserial"],
        "doc": ["sphinx>=7"],
    },
    classifiers=[
        "Development Status :: 4 - Beta",
        "Intended Audience :: Developers",
        "Intended Audience :: Science/Research",
        "License :: OSI Approved :: Apache Software License",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Topic :: Scientific/Engineering",
        "Topic :: System :: Hardware :: Hardware Drivers",
        "Typing :: Typed",
    ],
)
