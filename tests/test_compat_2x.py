"""Programs written for MinimalModbus 2.x run unchanged (issue 10).

Each numbered item of the issue has its tests here, with the values and
frames that published 2.x programs met. Each runs against two port kinds:

- ``dummy_serial``: our own test double (recorded answers arrive at wire
  time, it has ``in_waiting``);
- ``2.x double``: :class:`Legacy2xSerial`, a port object that behaves like
  2.x's own ``dummy_serial`` (no ``in_waiting``, a millisecond per read and
  per write, a read of more than is waiting sleeps the whole timeout).

Both answer from ``dummy_serial.RESPONSES`` and spend time only on the fake
clock of conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import serial
from conftest import FakeClock, as_dummy
from frames import frame, rtu, wire_time

import dummy_serial
import minimalmodbus
from minimalmodbus import Instrument, MasterReportedException, NoResponseError, SlaveReportedException

PORT = "/dev/ttyUSB0"
LEGACY_SLEEP = 0.001  # 2.x's double: SLEEPTIME_READ and SLEEPTIME_WRITE


def h(text: str) -> bytes:
    """Bytes from hex with any spaces."""
    return bytes.fromhex(text)


class Legacy2xSerial:
    """A port object that behaves like MinimalModbus 2.x's ``dummy_serial.Serial``.

    Looks up ``dummy_serial.RESPONSES`` when written to; ``read(size)`` returns
    ``size`` bytes if that many wait, else sleeps the timeout and returns
    what waits; every read and write sleeps a millisecond. No ``in_waiting``.
    Time passes on the clock given to :meth:`use_clock`.
    """

    sleep: Any = staticmethod(lambda seconds: None)

    def __init__(
        self,
        port: str | None = None,
        timeout: float | None = None,
        fail_to_open: bool = False,
        **settings: Any,
    ) -> None:
        self.port = port
        self.timeout = 0.01 if timeout is None else timeout
        self.baudrate = settings.get("baudrate", 19200)
        self._fail_to_open = fail_to_open
        self._is_open = not fail_to_open
        self._waiting = b""
        self.reads = 0
        self.writes: list[bytes] = []

    @property
    def is_open(self) -> bool:
        return self._is_open

    def open(self) -> None:
        if self._is_open:
            raise OSError("Dummy_serial: The port is already open")
        if not self._fail_to_open:  # 2.x: fails silently, the port stays closed
            self._is_open = True

    def close(self) -> None:
        if not self._is_open:
            raise OSError("Dummy_serial: The port is already closed")
        self._is_open = False

    def reset_input_buffer(self) -> None:
        pass

    def reset_output_buffer(self) -> None:
        pass

    def write(self, data: bytes) -> int:
        self.writes.append(data)
        self._waiting = dummy_serial.RESPONSES.get(data, dummy_serial.DEFAULT_RESPONSE)
        self.sleep(LEGACY_SLEEP)
        return len(data)

    def read(self, size: int) -> bytes:
        self.reads += 1
        if self._waiting == dummy_serial.DEFAULT_RESPONSE:
            data = self._waiting
        elif size <= len(self._waiting):
            data, self._waiting = self._waiting[:size], self._waiting[size:]
        else:
            self.sleep(self.timeout)
            data, self._waiting = self._waiting, b""
        self.sleep(LEGACY_SLEEP)
        return data


def as_legacy(port: minimalmodbus.SerialPort) -> Legacy2xSerial:
    """The port, checked to be a :class:`Legacy2xSerial`, to reach its records."""
    assert isinstance(port, Legacy2xSerial), f"not a 2.x double: {port!r}"
    return port


PORT_KINDS = ["dummy_serial", "2.x double"]


@pytest.fixture(params=PORT_KINDS)
def kind(
    request: pytest.FixtureRequest,
    dummy: dict[bytes, bytes],
    fake_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """The port class behind ``minimalmodbus.serial.Serial``: ours or a 2.x-like double."""
    if request.param == "2.x double":
        monkeypatch.setattr("minimalmodbus.serial.Serial", Legacy2xSerial)
        monkeypatch.setattr(Legacy2xSerial, "sleep", staticmethod(fake_clock.sleep))
    yield request.param


# ---------------------------------------------------------------------------
# 1. read_register with decimals: an int when the value is whole (2.x)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "register, decimals, value",
    [
        ("0096", 1, 15),  # 150 with one decimal: 15, not 15.0
        ("0097", 1, 15.1),
        ("04b0", 1, 120),  # a PZEM-style energy value: "120Wh", not "120.0Wh"
        ("04b0", 2, 12),
        ("0000", 3, 0),
        ("ff9c", 2, -1),  # signed: -100 with two decimals
        ("ff9b", 2, -1.01),
    ],
)
def test_1_read_register_is_an_int_when_whole(
    kind: str, dummy: dict[bytes, bytes], register: str, decimals: int, value: float
) -> None:
    dummy[rtu(h("0a 03 1001 0001"))] = rtu(h(f"0a 03 02 {register}"))
    result = Instrument(PORT, 10).read_register(4097, decimals, signed=True)
    assert result == value
    assert type(result) is type(value)
    assert f"{result}Wh" == f"{value}Wh"


# ---------------------------------------------------------------------------
# 2. Slave addresses 0..255: 248..255 are reserved, but devices use them
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("slaveaddress", [0xF8, 0xFF, 248, 1, 247])
def test_2_slave_addresses_up_to_255(kind: str, dummy: dict[bytes, bytes], slaveaddress: int) -> None:
    # PZEM-004T/016/017: 0xF8 is the general address; read input register 0 (voltage, 0.1 V)
    request = rtu(slaveaddress, h("04 0000 0001"))
    dummy[request] = rtu(slaveaddress, h("04 02 08 fc"))  # 2300 -> 230 V
    instrument = Instrument(PORT, slaveaddress)
    assert instrument.read_register(0, 1, functioncode=4) == 230
    assert instrument.address == slaveaddress


@pytest.mark.parametrize("slaveaddress", [256, -1])
def test_2_slave_addresses_beyond_255_are_refused(kind: str, slaveaddress: int) -> None:
    with pytest.raises(ValueError, match=rf"slaveaddress must be in the range 0\.\.255, not {slaveaddress}"):
        Instrument(PORT, slaveaddress)


# ---------------------------------------------------------------------------
# 3. Written values are truncated toward zero, on the decimal value written
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, decimals, signed, register",
    [
        (12.7, 0, False, "000c"),  # 2.x sends 12 (rounding would send 13)
        (95.56, 1, False, "03bb"),  # 955 (rounding: 956)
        (-1.5, 0, True, "ffff"),  # -1 (rounding half away from zero: -2)
        (2.55, 2, False, "00ff"),  # 255: 2.x's int(2.55 * 100) sent 254, a bug not kept
        (325.8, 1, False, "0cba"),  # DTB4824 recording: 3258
        (0.29, 2, False, "001d"),  # 29, though 0.29 * 100 = 28.999999999999996
        (-0.07, 1, True, "0000"),  # toward zero: 0
    ],
)
def test_3_written_value_truncated_as_2x(
    kind: str, dummy: dict[bytes, bytes], value: float, decimals: int, signed: bool, register: str
) -> None:
    request = rtu(h(f"0a 10 1001 0001 02 {register}"))
    dummy[request] = rtu(h("0a 10 1001 0001"))
    instrument = Instrument(PORT, 10)
    instrument.write_register(4097, value, decimals, signed=signed)
    written = (
        as_dummy(instrument.serial).requests
        if kind == "dummy_serial"
        else as_legacy(instrument.serial).writes
    )
    assert written == [request]


# ---------------------------------------------------------------------------
# 4. 2.x private helpers that published drivers call
# ---------------------------------------------------------------------------


class PowerSupply(minimalmodbus.Instrument):
    """Like a published HM310P tool: its constructor checks with 2.x's private helpers."""

    def __init__(self, port: str, slaveaddress: int, channel: int, voltage: float) -> None:
        minimalmodbus._check_int(channel, minvalue=0, maxvalue=3, description="channel")
        minimalmodbus._check_numerical(voltage, minvalue=0, maxvalue=32.0, description="voltage")
        super().__init__(port, slaveaddress)


def test_4_check_int_and_check_numerical_with_2x_signatures(kind: str) -> None:
    supply = PowerSupply(PORT, 1, channel=3, voltage=12.5)
    assert supply.address == 1
    with pytest.raises(ValueError, match="channel is too large: 4"):
        PowerSupply(PORT, 1, channel=4, voltage=1.0)
    with pytest.raises(TypeError, match="channel must be an integer"):
        PowerSupply(PORT, 1, channel=1.0, voltage=1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="voltage is too small: -1"):
        PowerSupply(PORT, 1, channel=0, voltage=-1)
    with pytest.raises(TypeError, match="voltage must be numerical"):
        PowerSupply(PORT, 1, channel=0, voltage="5")  # type: ignore[arg-type]
    minimalmodbus._check_int(7)  # no limits: any int
    minimalmodbus._check_numerical(-1e9, maxvalue=0)


def test_4_rebinding_serialports_forgets_the_shared_ports(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    first = Instrument(PORT, 1)
    assert list(minimalmodbus._serialports.values()) == [first.serial]
    monkeypatch.setattr(minimalmodbus, "_serialports", {})  # sensor scripts: minimalmodbus._serialports = {}
    second = Instrument(PORT, 1)
    assert second.serial is not first.serial
    assert list(minimalmodbus._serialports.values()) == [second.serial]


def test_4_embed_payload_and_diagnostic_string() -> None:
    assert minimalmodbus._embed_payload(1, minimalmodbus.MODE_RTU, 3, h("0000 0001")) == frame(
        "rtu", "01 03 0000 0001"
    )
    assert minimalmodbus._embed_payload(10, minimalmodbus.MODE_ASCII, 3, h("1001 0001")) == frame(
        "ascii", "0a 03 1001 0001"
    )
    text = minimalmodbus._get_diagnostic_string()
    assert minimalmodbus.__version__ in text
    assert "pySerial version" in text


# ---------------------------------------------------------------------------
# 5. A port object that is not open is opened by the constructor, or fails it
# ---------------------------------------------------------------------------


def test_5_port_object_that_fails_to_open(kind: str) -> None:
    port_class = dummy_serial.Serial if kind == "dummy_serial" else Legacy2xSerial
    port = port_class("DUMMYPORTNAME", fail_to_open=True)
    with pytest.raises(MasterReportedException, match="Failed to open serial port") as info:
        Instrument(port, 1)  # type: ignore[arg-type]  # the 2.x double lacks in_waiting, on purpose
    if kind == "dummy_serial":  # it raises, and the cause is chained
        assert isinstance(info.value.__cause__, OSError)


def test_5_port_name_that_fails_to_open(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    port_class = dummy_serial.Serial if kind == "dummy_serial" else Legacy2xSerial

    def failing(**settings: Any) -> Any:
        return port_class(fail_to_open=True, **settings)

    monkeypatch.setattr("minimalmodbus.serial.Serial", failing)
    with pytest.raises(MasterReportedException, match="Failed to open serial port '/dev/ttyUSB0'"):
        Instrument(PORT, 1)


def test_5_closed_port_object_is_opened(kind: str, dummy: dict[bytes, bytes]) -> None:
    port: Any = dummy_serial.Serial(timeout=0.05) if kind == "dummy_serial" else Legacy2xSerial("COM9")
    if kind == "dummy_serial":
        port.port = "COM9"
    else:
        port.close()
    assert not port.is_open
    instrument = Instrument(port, 1)
    assert instrument.serial is port
    assert port.is_open


@pytest.mark.parametrize("port", [None, 123, 4.5, b"/dev/ttyUSB0"])
def test_5_port_of_a_wrong_type_is_both_master_reported_and_type_error(port: Any) -> None:
    with pytest.raises(MasterReportedException, match="port must be a port name"):
        Instrument(port, 1)
    with pytest.raises(TypeError, match=repr(port).replace("(", r"\(").replace(".", r"\.")):
        Instrument(port, 1)


# ---------------------------------------------------------------------------
# 6. An exception-flagged answer of the normal length (2.x read the whole length)
# ---------------------------------------------------------------------------

# A recorded answer to write_register(56, 1) (function code 16), as in 2.x test
# suites: function code 0x90 and a valid CRC over all 8 bytes.
EXCEPTION_OF_NORMAL_LENGTH = h("01 90 00 38 00 01 81 DA")


def test_6_exception_flag_in_an_answer_of_the_normal_length(kind: str, dummy: dict[bytes, bytes]) -> None:
    request = rtu(h("01 10 0038 0001 02 0001"))
    dummy[request] = EXCEPTION_OF_NORMAL_LENGTH
    with pytest.raises(SlaveReportedException) as info:
        Instrument(PORT, 1).write_register(56, 1)
    assert type(info.value) is SlaveReportedException
    assert (info.value.exception_code, info.value.function_code) == (0, 16)
    assert "01 90 00 38 00 01 81 DA" in str(info.value)


def test_6_a_genuine_exception_answer_waits_no_longer(
    dummy: dict[bytes, bytes], fake_clock: FakeClock
) -> None:
    request = rtu(h("01 10 0038 0001 02 0001"))
    dummy[request] = rtu(h("01 90 02"))  # illegal data address, 5 bytes
    with pytest.raises(SlaveReportedException) as info:
        Instrument(PORT, 1).write_register(56, 1)
    assert info.value.exception_code == 2
    # exactly until its fifth byte arrived, not one read more
    assert sum(fake_clock.sleeps) == pytest.approx(wire_time(request, dummy[request]), abs=1e-12)


def test_6_a_corrupt_exception_answer_is_still_invalid(dummy: dict[bytes, bytes]) -> None:
    request = rtu(h("01 10 0038 0001 02 0001"))
    dummy[request] = h("01 90 00 38 00 01 81 DB")  # the last CRC byte is wrong
    with pytest.raises(minimalmodbus.InvalidResponseError, match="Checksum error"):
        Instrument(PORT, 1).write_register(56, 1)


# ---------------------------------------------------------------------------
# 7. roundtrip_time through dummy_serial is realistic
# ---------------------------------------------------------------------------


def test_7_roundtrip_time_is_the_wire_time(dummy: dict[bytes, bytes], fake_clock: FakeClock) -> None:
    request = rtu(h("0a 03 1001 0001"))
    dummy[request] = rtu(h("0a 03 02 07 d0"))  # DTB4824 recording
    instrument = Instrument(PORT, 10)
    start = fake_clock.time
    assert instrument.read_register(4097, 1) == 200
    roundtrip_time = instrument.roundtrip_time
    assert roundtrip_time is not None
    assert roundtrip_time > 0.001  # a 2.x test may assert this
    # 8 + 7 bytes of 10 bits at 19200 baud: 7.8 ms, spent on the fake clock only
    assert roundtrip_time == pytest.approx(15 * 10 / 19200, abs=1e-12)
    assert fake_clock.time - start == pytest.approx(roundtrip_time, abs=1e-12)


def test_7_roundtrip_time_follows_the_baud_rate(dummy: dict[bytes, bytes]) -> None:
    request = rtu(h("0a 03 1001 0001"))
    dummy[request] = rtu(h("0a 03 02 07 d0"))
    instrument = Instrument(PORT, 10)
    instrument.serial.baudrate = 9600
    instrument.read_register(4097, 1)
    assert instrument.roundtrip_time == pytest.approx(15 * 10 / 9600, abs=1e-12)


# ---------------------------------------------------------------------------
# 8. Ports without in_waiting: a failed exchange costs no more than with it
# ---------------------------------------------------------------------------


def ten_unanswered_reads(fake_clock: FakeClock) -> float:
    """Seconds on the fake clock for ten reads that get no answer, at timeout 0.1 s."""
    instrument = Instrument(PORT, 1)
    instrument.serial.timeout = 0.1
    start = fake_clock.time
    for _ in range(10):
        with pytest.raises(NoResponseError):
            instrument.read_register(0)
    return fake_clock.time - start


def test_8_no_in_waiting_costs_no_more(
    dummy: dict[bytes, bytes], fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    dummy[rtu(h("01 03 0000 0001"))] = b""  # NO_DATA_PRESENT: the slave stays silent
    ours = ten_unanswered_reads(fake_clock)
    minimalmodbus.forget_ports()
    monkeypatch.setattr("minimalmodbus.serial.Serial", Legacy2xSerial)
    monkeypatch.setattr(Legacy2xSerial, "sleep", staticmethod(fake_clock.sleep))
    legacy = ten_unanswered_reads(fake_clock)
    port = minimalmodbus._serialports[PORT]
    assert isinstance(port, Legacy2xSerial)
    own_costs = LEGACY_SLEEP * (port.reads + len(port.writes))  # 2.x's double: 1 ms a call
    # One timeout each, and before each later one a wait of one timeout for late
    # bytes of the failed one and a silence (by design): 1.92 s, as the issue measured
    assert ours == pytest.approx(0.1 + 9 * (0.1 + 0.1 + 3.5 * 10 / 19200), abs=1e-9)
    assert legacy <= ours + own_costs + 1e-9, (legacy, ours, own_costs)
    assert port.timeout == 0.1  # the drain gave the port its own timeout back


# ---------------------------------------------------------------------------
# 9. Ports shared between tests: one public way to forget them
# ---------------------------------------------------------------------------


def test_9_forget_ports_gives_the_next_instrument_a_new_port(kind: str) -> None:
    first = Instrument(PORT, 1)
    assert Instrument(PORT, 2).serial is first.serial  # shared by name, as in 2.x
    minimalmodbus.forget_ports()
    assert not first.serial.is_open  # the forgotten port is closed
    second = Instrument(PORT, 1)
    assert second.serial is not first.serial
    assert second.serial.is_open
    assert minimalmodbus._serialports == {PORT: second.serial}


def test_9_dummy_serial_reset_restores_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    own_table = {b"a": b"b"}
    monkeypatch.setattr(dummy_serial, "RESPONSES", own_table)
    monkeypatch.setattr(dummy_serial, "DEFAULT_RESPONSE", b"other")
    monkeypatch.setattr(dummy_serial, "NO_DATA_PRESENT", b"x")
    monkeypatch.setattr(dummy_serial, "VERBOSE", True)
    monkeypatch.setattr(dummy_serial, "RESPONDER", lambda request: [])
    dummy_serial.reset()
    assert dummy_serial.RESPONSES == {}
    assert own_table == {b"a": b"b"}  # a table the test bound is left alone
    assert dummy_serial.DEFAULT_RESPONSE == b"NotFoundInResponseDictionary"
    assert dummy_serial.NO_DATA_PRESENT == b""
    assert dummy_serial.VERBOSE is False
    assert dummy_serial.RESPONDER is None


# ---------------------------------------------------------------------------
# What a review against 2.1.1 found (issue 10's promise: 2.x programs run unchanged)
# ---------------------------------------------------------------------------


def test_communicate_patched_on_an_instance_is_used(dummy: dict[bytes, bytes]) -> None:
    # mock.patch.object(instrument, "_communicate", ...) as 2.x test suites do
    instrument = Instrument(PORT, 1)
    answer = rtu(h("01 03 02 00 2a"))
    calls: list[tuple[bytes, int]] = []

    def fake(request: bytes, number_of_bytes_to_read: int) -> bytes:
        calls.append((request, number_of_bytes_to_read))
        return answer

    instrument._communicate = fake  # type: ignore[method-assign]
    assert instrument.read_register(5) == 42
    assert calls == [(rtu(h("01 03 0005 0001")), 7)]


class SizeLogger(Instrument):
    """A 2.x vendor driver's _communicate that reads what it is told to."""

    def __init__(self, port: str) -> None:
        super().__init__(port, 1)
        self.sizes: list[int] = []

    def _communicate(self, request: bytes, number_of_bytes_to_read: int) -> bytes:
        self.sizes.append(number_of_bytes_to_read)
        return super()._communicate(request, number_of_bytes_to_read)


def test_overridden_communicate_gets_the_sizes_2x_gave(dummy: dict[bytes, bytes]) -> None:
    dummy[rtu(h("01 41 0001"))] = rtu(h("01 41 02 abcd"))  # a vendor function code
    dummy[rtu(h("01 03 0005 0001"))] = rtu(h("01 03 02 002a"))
    dummy[rtu(h("00 06 0001 0003"))] = b""
    driver = SizeLogger(PORT)
    assert driver._perform_command(0x41, h("0001")) == h("02 abcd")  # unknown length: 1000
    assert driver.read_register(5) == 42  # predicted: 7
    driver.precalculate_read_size = False
    assert driver.read_register(5) == 42  # not predicted: 1000
    driver.address = 0
    driver.broadcast_delay = 0
    driver.write_register(1, 3, functioncode=6)  # broadcast: 0
    assert driver.sizes == [1000, 7, 1000, 0]


def test_overridden_communicate_still_never_takes_a_late_answer(
    dummy: dict[bytes, bytes], fake_clock: FakeClock
) -> None:
    # A corrupt answer to the first request, then that request's good answer 10 ms
    # late (100); the second request's own answer (200) comes 30 ms after it
    driver = SizeLogger(PORT)
    answers = iter(
        [
            [(0.0, h("01 03 02 00 64 00 00")), (0.010, rtu(h("01 03 02 0064")))],
            [(0.030, rtu(h("01 03 02 00c8")))],
        ]
    )
    driver.serial.responder = lambda request: next(answers)
    with pytest.raises(minimalmodbus.InvalidResponseError):
        driver.read_register(0)
    assert driver.read_register(1) == 200


def test_port_errors_are_also_serial_exceptions() -> None:
    # 2.x let pyserial's SerialException through; programs catch it to reconnect
    with pytest.raises(serial.SerialException) as caught:
        Instrument("/dev/ttyNOSUCHPORT", 1)
    assert isinstance(caught.value, minimalmodbus.MasterReportedException)


def test_write_only_exchange_waits_for_the_frame_to_leave(
    dummy: dict[bytes, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2.x called serial.flush() when nothing is read, before the broadcast delay
    everyone = Instrument(PORT, 0)
    everyone.broadcast_delay = 0
    port = everyone.serial
    calls: list[str] = []

    def recording(member: str) -> Any:
        original = getattr(port, member)

        def call(*args: Any) -> Any:
            calls.append(member)
            return original(*args)

        return call

    for member in ("write", "flush", "read"):
        monkeypatch.setattr(port, member, recording(member))
    everyone.write_register(1, 5)
    assert calls == ["write", "flush"]


def test_communicate_with_2x_size_1000_waits_one_timeout(
    dummy: dict[bytes, bytes], fake_clock: FakeClock
) -> None:
    # 2.x vendors pass 1000 ("read what comes"); a silent slave costs one timeout,
    # not the wire time of 1000 bytes (at 9600 baud: over a second)
    instrument = Instrument(PORT, 1)
    instrument.serial.baudrate = 9600
    request = rtu(h("01 03 0000 0001"))
    dummy[request] = b""
    start = fake_clock.time
    with pytest.raises(NoResponseError):
        instrument._communicate(request, 1000)
    assert fake_clock.time - start == pytest.approx(0.05, abs=0.005)


def test_long_answer_without_precalculated_size(dummy: dict[bytes, bytes]) -> None:
    # 2.x tests read 60 registers with precalculate_read_size False: the 125-byte
    # answer takes longer than the 0.05 s timeout to cross a 19200 baud line
    request = rtu(h("01 03 0000 003c"))
    dummy[request] = rtu(bytes.fromhex("01 03 78") + bytes.fromhex("0007") * 60)
    instrument = Instrument(PORT, 1)
    instrument.precalculate_read_size = False
    assert instrument.read_registers(0, 60) == [7] * 60


def test_generic_command_returns_2x_floats_with_decimals(dummy: dict[bytes, bytes]) -> None:
    dummy[rtu(h("01 03 0100 0001"))] = rtu(h("01 03 02 0064"))
    instrument = Instrument(PORT, 1)
    value = instrument._generic_command(
        3,
        0x100,
        number_of_decimals=1,
        number_of_registers=1,
        payloadformat=minimalmodbus._Payloadformat.REGISTER,
    )
    assert value == 10.0 and type(value) is float  # 2.x: only read_register makes it an int
    assert instrument.read_register(0x100, 1) == 10 and type(instrument.read_register(0x100, 1)) is int


def test_legacy_helpers_as_2x() -> None:
    # _embed_payload frames any slave address (2.x did not refuse reads to 0)
    assert minimalmodbus._embed_payload(0, "rtu", 3, h("0000 0001")) == rtu(h("00 03 0000 0001"))
    with pytest.raises(TypeError, match="The maxvalue must be numeric or None"):
        minimalmodbus._check_numerical(1, 0, "3")  # type: ignore[arg-type]
