"""Sphinx configuration of the MinimalModbus manual.

Build the pages and run every example (from the repository root)::

    sphinx-build -W -b html doc doc/_build/html
    sphinx-build -W -b doctest doc doc/_build/doctest

Nothing is generated beforehand: autodoc imports ``minimalmodbus``,
``dummy_serial`` and ``minimalmodbus_simulator`` straight from the
repository root.
"""

import doctest
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import minimalmodbus  # noqa: E402  (needs the path above)

project = "MinimalModbus"
author = minimalmodbus.__author__
copyright = "MinimalModbus maintainers, Apache License, Version 2.0"
release = minimalmodbus.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
]

# viewcode: each documented name links to its own module's source. Following
# "imported members" would look up the module of a constant's value (a str's
# is builtins) and list a page "builtins" that is never written.
viewcode_follow_imported_members = False

root_doc = "index"
exclude_patterns = ["_build"]
language = "en"
pygments_style = "sphinx"

html_theme = "alabaster"
html_title = f"MinimalModbus {release}"
html_theme_options = {
    "description": "Modbus RTU and ASCII master for serial lines",
    "fixed_sidebar": True,
    "show_relbars": True,
    "page_width": "1240px",  # room for 100-character lines of the examples
    "sidebar_width": "250px",
    "body_max_width": "none",
}

# autodoc: members in source order, as the module reads top to bottom.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# Doctests: every example on the usage, subclassing and debugging pages runs
# against dummy_serial. Exception messages are compared too (no
# IGNORE_EXCEPTION_DETAIL); long expected lines may be wrapped.
doctest_default_flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.DONT_ACCEPT_TRUE_FOR_1
doctest_test_doctest_blocks = "default"

# Helpers for the hidden set-up blocks of the pages. Each page installs
# dummy_serial in its own ``testsetup`` and undoes it in ``testcleanup``;
# the global clean-up below makes sure nothing leaks into the next page.
doctest_global_setup = r'''
import sys

import serial as _pyserial

_REAL_SERIAL_CLASS = _pyserial.Serial  # the global clean-up puts it back


def rtu(slaveaddress, pdu_hex):
    """An RTU frame: slave address, the PDU given in hex, CRC (low byte first).

    Framed by the simulator, which has its own CRC: not by the driver under test.
    """
    import minimalmodbus_simulator
    return minimalmodbus_simulator.build_frame("rtu", slaveaddress, bytes.fromhex(pdu_hex))


def record(slaveaddress, request_pdu_hex, response_pdu_hex):
    """Put a recorded request -> response pair (RTU) in dummy_serial.RESPONSES."""
    import dummy_serial
    dummy_serial.RESPONSES[rtu(slaveaddress, request_pdu_hex)] = rtu(slaveaddress, response_pdu_hex)
'''

doctest_global_cleanup = r"""
import logging as _logging
import dummy_serial as _dummy_serial
import minimalmodbus as _minimalmodbus

_minimalmodbus.forget_ports()
_minimalmodbus.serial.Serial = _REAL_SERIAL_CLASS
_dummy_serial.reset()
_logging.getLogger("minimalmodbus").handlers.clear()
_logging.getLogger("minimalmodbus").setLevel(_logging.NOTSET)
"""
