"""Tests of examples/vendor_driver.py with frames recorded from a Delta DTB4824.

dummy_serial stands in for pyserial: each request the driver writes must be
one of RESPONSES, and it answers with the response recorded from the device
(debug mode printed both; see doc/debugging.rst). Run with
``python -m pytest examples/test_vendor_driver.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from vendor_driver import Dtb4824

import dummy_serial
import minimalmodbus

RECORDED = {
    # get_setpoint(): read_register(4097, 1) -> 2000 -> 200.0 degrees
    "0A 03 10 01 00 01 D0 71": "0A 03 02 07 D0 1E 29",
    # set_setpoint(325.8): write_register(4097, 325.8, 1) -> 3258 = 0x0CBA; the device echoes
    "0A 10 10 01 00 01 02 0C BA 41 C3": "0A 10 10 01 00 01 55 B2",
    # is_running(): read_bit(0x0814, functioncode=2) -> 0
    "0A 02 08 14 00 01 FA D5": "0A 02 01 00 A3 AC",
    # run(): write_bit(0x0814, 1) with function code 5; the device echoes the request
    "0A 05 08 14 FF 00 CF 25": "0A 05 08 14 FF 00 CF 25",
}


@pytest.fixture
def controller(monkeypatch: pytest.MonkeyPatch) -> Iterator[Dtb4824]:
    """The driver on a dummy_serial port that answers with the recorded frames."""
    monkeypatch.setattr(minimalmodbus.serial, "Serial", dummy_serial.Serial)
    monkeypatch.setattr(
        dummy_serial,
        "RESPONSES",
        {bytes.fromhex(request): bytes.fromhex(response) for request, response in RECORDED.items()},
    )
    minimalmodbus.forget_ports()
    yield Dtb4824("/dev/ttyUSB0")
    minimalmodbus.forget_ports()


def test_get_setpoint(controller: Dtb4824) -> None:
    assert controller.get_setpoint() == 200.0


def test_set_setpoint(controller: Dtb4824) -> None:
    controller.set_setpoint(325.8)  # any other request would get dummy_serial's DEFAULT_RESPONSE


def test_is_running(controller: Dtb4824) -> None:
    assert controller.is_running() is False


def test_run(controller: Dtb4824) -> None:
    controller.run()


def test_a_request_nobody_recorded_is_an_error(controller: Dtb4824) -> None:
    """dummy_serial answers a request it has no recording for with DEFAULT_RESPONSE, not a frame."""
    controller.address = 11
    with pytest.raises(minimalmodbus.InvalidResponseError):
        controller.get_setpoint()
