"""Modbus TCP and UDP through the same Instrument (issue 14).

Against the simulator's NetworkServer (TCP and UDP, loopback only) for
every method, and against a scripted TCP server for each fault: the server
plays one planned action per request it receives. Every server a test
starts is stopped by it; nothing binds beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import minimalmodbus
import minimalmodbus_simulator as simulator
from minimalmodbus import Instrument

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 0.2  # seconds; a loopback server answers in well under a millisecond


def adu(transaction_id: int, unit_id: int, pdu_hex: str, protocol_id: int = 0) -> bytes:
    """An MBAP frame (Implementation Guide §3.1.3): header, unit id, PDU."""
    pdu = bytes.fromhex(pdu_hex)
    return struct.pack(">HHHB", transaction_id, protocol_id, len(pdu) + 1, unit_id) + pdu


def slaves() -> simulator.SimulatedBus:
    """Unit 1 (holding registers 0..99 = 10 x address, coils alternate) and unit 255."""
    return simulator.SimulatedBus(
        {
            1: simulator.SimulatedSlave(
                holding_registers={address: 10 * address for address in range(100)},
                input_registers=simulator.block(100, value=3),
                coils={address: address % 2 for address in range(100)},
                discrete_inputs={address: 1 for address in range(100)},
            ),
            255: simulator.SimulatedSlave(holding_registers={0: 4242}),
        }
    )


@pytest.fixture(autouse=True)
def fresh_ports() -> Iterator[None]:
    minimalmodbus.forget_ports()
    yield
    minimalmodbus.forget_ports()


@pytest.fixture(params=[False, True], ids=["tcp", "udp"])
def served(request: pytest.FixtureRequest) -> Iterator[simulator.NetworkServer]:
    with simulator.NetworkServer(slaves(), datagrams=request.param) as server:
        yield server
    assert not server.is_running


def instrument_on(url: str, unit_id: int = 1) -> Instrument:
    instrument = Instrument(url, unit_id)
    instrument.serial.timeout = TIMEOUT
    return instrument


# ---------------------------------------------------------------------------
# Every method through the simulator, over TCP and UDP
# ---------------------------------------------------------------------------


def test_values_over_the_network(served: simulator.NetworkServer) -> None:
    instrument = instrument_on(served.url)
    assert instrument.read_register(7) == 70
    assert instrument.read_register(7, 1) == 7
    assert instrument.read_registers(0, 4) == [0, 10, 20, 30]
    assert instrument.read_register(5, functioncode=4) == 3
    assert instrument.read_bits(0, 4, functioncode=1) == [0, 1, 0, 1]
    assert instrument.read_bit(3) == 1
    instrument.write_register(10, 325.8, 1)
    assert instrument.read_register(10, 1) == 325.8
    instrument.write_registers(20, [1, 2, 3])
    assert instrument.read_registers(20, 3) == [1, 2, 3]
    instrument.write_bit(0, 1)
    instrument.write_bits(1, [0, 0])
    assert instrument.read_bits(0, 3, functioncode=1) == [1, 0, 0]
    instrument.write_long(30, 123456789)
    assert instrument.read_long(30) == 123456789
    instrument.write_float(40, 1.5)
    assert instrument.read_float(40) == 1.5
    instrument.write_string(50, "PUMP 7", 4)
    assert instrument.read_string(50, 4) == "PUMP 7  "
    instrument.mask_write_register(60, 0x00F2, 0x0025)
    # Application Protocol §6.16: (current AND and_mask) OR (or_mask AND NOT and_mask)
    assert instrument.read_write_registers(60, 1, 61, [5]) == [(600 & 0x00F2) | (0x0025 & ~0x00F2 & 0xFFFF)]
    assert instrument.perform_command(3, bytes.fromhex("0007 0001")) == bytes.fromhex("02 0046")
    assert served.requests[0] == adu(served.requests[0][0] << 8 | served.requests[0][1], 1, "03 0007 0001")


def test_unit_ids_and_gateway_broadcast(served: simulator.NetworkServer) -> None:
    assert instrument_on(served.url, 255).read_register(0) == 4242
    everyone = instrument_on(served.url, 0)  # unit 0: a broadcast through a gateway
    everyone.broadcast_delay = 0
    everyone.write_register(2, 777)  # nothing answers, nothing is awaited
    assert instrument_on(served.url).read_register(2) == 777
    with pytest.raises(ValueError, match="cannot be broadcast"):
        everyone.read_register(2)


def test_slave_exception_over_the_network(served: simulator.NetworkServer) -> None:
    with pytest.raises(minimalmodbus.IllegalRequestError) as caught:
        instrument_on(served.url).read_register(500)
    assert caught.value.exception_code == 2
    assert "00 00 00 03 01 83 02 (9 bytes)" in str(caught.value)


def test_instruments_of_one_host_share_one_connection(served: simulator.NetworkServer) -> None:
    first = instrument_on(f"{served.url}")
    second = instrument_on(f"{served.url}/", 255)
    assert first.serial is second.serial
    assert first.read_register(1) == 10 and second.read_register(0) == 4242
    assert list(minimalmodbus._serialports) == [served.url]


def test_no_silence_and_no_echo_on_the_network(
    served: simulator.NetworkServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    instrument = instrument_on(served.url)
    instrument.handle_local_echo = True  # a serial-line setting: nothing to read back here
    sleeps: list[float] = []
    monkeypatch.setattr(minimalmodbus, "_sleep", sleeps.append)
    for _ in range(3):
        assert instrument.read_register(1) == 10
    assert sleeps == []


# ---------------------------------------------------------------------------
# URLs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, key",
    [
        ("tcp://192.0.2.7", "tcp://192.0.2.7:502"),
        ("tcp://192.0.2.7:1502", "tcp://192.0.2.7:1502"),
        ("udp://localhost", "udp://localhost:502"),
        ("tcp://[::1]:1502", "tcp://::1:1502"),
    ],
)
def test_network_urls(name: str, key: str) -> None:
    instrument = Instrument(name, 1)  # connects on its first call, not here
    assert not instrument.serial.is_open
    assert list(minimalmodbus._serialports) == [key]


@pytest.mark.parametrize("name", ["tcp://host:0", "tcp://host:70000", "tcp://host:abc", "udp://"])
def test_bad_network_urls(name: str) -> None:
    with pytest.raises(ValueError, match="port must be"):
        Instrument(name, 1)


def test_socket_url_stays_raw_rtu() -> None:
    # socket:// is pyserial's RTU (or ASCII) over TCP, never MBAP
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        instrument = Instrument(f"socket://127.0.0.1:{listener.getsockname()[1]}", 1)
        assert not isinstance(instrument.serial, minimalmodbus._NetworkPort)
        assert instrument._framing() == minimalmodbus.MODE_RTU
        instrument.close()
    finally:
        listener.close()


# ---------------------------------------------------------------------------
# Faults, with a scripted server: one planned action per request
# ---------------------------------------------------------------------------

Action = Callable[[socket.socket, bytes], None]


class ScriptedServer:
    """A TCP server on 127.0.0.1 that answers each request with the next planned action."""

    def __init__(self, port: int = 0) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.url = f"tcp://127.0.0.1:{self.port}"
        self.plan: list[Action] = []
        self.requests: list[bytes] = []
        self.connections = 0
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(connection)
            threading.Thread(target=self._talk, args=(connection,), daemon=True).start()

    def _talk(self, connection: socket.socket) -> None:
        try:
            while True:
                header = connection.recv(7, socket.MSG_WAITALL)
                if len(header) < 7:
                    return
                request = header + connection.recv(int.from_bytes(header[4:6], "big") - 1, socket.MSG_WAITALL)
                self.requests.append(request)
                if self.plan:
                    self.plan.pop(0)(connection, request)
        except OSError:
            return

    def stop(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept
        self.listener.close()
        for connection in self._open:
            try:
                connection.shutdown(socket.SHUT_RDWR)  # wakes its thread; the client sees the end
            except OSError:
                pass  # already closed by a planned action
            connection.close()
        self._thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.stop()


def answer(pdu_hex: str, unit_id: int = 1, transaction_id: int | None = None, protocol_id: int = 0) -> Action:
    """Answer with a PDU, echoing the request's transaction id unless one is given."""

    def act(connection: socket.socket, request: bytes) -> None:
        tid = int.from_bytes(request[:2], "big") if transaction_id is None else transaction_id
        connection.sendall(adu(tid, unit_id, pdu_hex, protocol_id))

    return act


def in_segments(action_bytes: Callable[[bytes], bytes], size: int) -> Action:
    def act(connection: socket.socket, request: bytes) -> None:
        data = action_bytes(request)
        for start in range(0, len(data), size):
            connection.sendall(data[start : start + size])

    return act


def silent(connection: socket.socket, request: bytes) -> None:
    pass


def close(connection: socket.socket, request: bytes) -> None:
    connection.shutdown(socket.SHUT_RDWR)
    connection.close()


def tid_of(request: bytes) -> int:
    return int.from_bytes(request[:2], "big")


def test_connection_refused() -> None:
    free = socket.create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    instrument = instrument_on(f"tcp://127.0.0.1:{port}")
    with pytest.raises(minimalmodbus.MasterReportedException) as caught:
        instrument.read_register(0)
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_answer_in_one_byte_segments(server: ScriptedServer) -> None:
    server.plan.append(in_segments(lambda request: adu(tid_of(request), 1, "03 02 0007"), 1))
    assert instrument_on(server.url).read_register(0) == 7


def test_stale_answer_then_the_right_one_in_one_segment(server: ScriptedServer) -> None:
    # A late answer to an earlier request (another transaction id) is skipped
    def two(connection: socket.socket, request: bytes) -> None:
        tid = tid_of(request)
        connection.sendall(adu(tid - 1, 1, "03 02 0099") + adu(tid, 1, "03 02 0007"))

    server.plan.append(two)
    assert instrument_on(server.url).read_register(0) == 7


def test_only_stale_answers_is_no_answer(server: ScriptedServer) -> None:
    server.plan.append(answer("03 02 0099", transaction_id=0xFFFF))
    with pytest.raises(minimalmodbus.NoResponseError):
        instrument_on(server.url).read_register(0)


def test_wrong_unit_id(server: ScriptedServer) -> None:
    server.plan.append(answer("03 02 0007", unit_id=2))
    with pytest.raises(
        minimalmodbus.InvalidResponseError, match="Wrong slave address: expected 1, received 2"
    ):
        instrument_on(server.url).read_register(0)


@pytest.mark.parametrize("protocol_id, pdu, problem", [(1, "03 02 0007", "protocol id"), (0, "", "length")])
def test_untrusted_header_closes_the_connection(
    server: ScriptedServer, protocol_id: int, pdu: str, problem: str
) -> None:
    def bad(connection: socket.socket, request: bytes) -> None:
        if pdu:
            connection.sendall(adu(tid_of(request), 1, pdu, protocol_id))
        else:  # length 1: out of 2..254
            connection.sendall(struct.pack(">HHHB", tid_of(request), 0, 1, 1))

    server.plan += [bad, answer("03 02 0007")]
    instrument = instrument_on(server.url)
    with pytest.raises(minimalmodbus.InvalidResponseError, match=problem):
        instrument.read_register(0)
    assert not instrument.serial.is_open
    assert instrument.read_register(0) == 7  # a new connection
    assert server.connections == 2


def test_server_closes_mid_frame(server: ScriptedServer) -> None:
    def half(connection: socket.socket, request: bytes) -> None:
        connection.sendall(adu(tid_of(request), 1, "03 02 0007")[:5])
        close(connection, request)

    server.plan += [half, answer("03 02 0008")]
    instrument = instrument_on(server.url)
    with pytest.raises(minimalmodbus.MasterReportedException) as caught:
        instrument.read_register(0)
    assert isinstance(caught.value.__cause__, ConnectionResetError)
    assert instrument.read_register(0) == 8  # reconnected


def test_server_that_never_answers_costs_one_timeout(server: ScriptedServer) -> None:
    server.plan += [silent, answer("03 02 0007")]
    instrument = instrument_on(server.url)
    with pytest.raises(minimalmodbus.NoResponseError):
        instrument.read_register(0)
    assert instrument.read_register(0) == 7
    assert server.connections == 1


def test_server_restarted_between_calls() -> None:
    # The connection the old server closed is found before the next request is
    # sent (nothing in flight), so the next call connects again and succeeds
    first = ScriptedServer()
    first.plan.append(answer("03 02 0007"))
    instrument = instrument_on(first.url)
    assert instrument.read_register(0) == 7
    first.stop()
    select.select([instrument.serial.fileno()], [], [], 5)  # until its close has reached us
    restarted = ScriptedServer(first.port)
    try:
        restarted.plan.append(answer("03 02 0008"))
        assert instrument.read_register(0) == 8
        assert restarted.connections == 1
    finally:
        restarted.stop()


@pytest.mark.parametrize(
    "code, error_class", [(10, "GatewayPathUnavailableError"), (11, "GatewayTargetFailedError")]
)
def test_gateway_exceptions(server: ScriptedServer, code: int, error_class: str) -> None:
    server.plan.append(answer(f"83 {code:02x}"))
    with pytest.raises(getattr(minimalmodbus, error_class)) as caught:
        instrument_on(server.url).read_register(0)
    assert caught.value.exception_code == code
    assert isinstance(caught.value, minimalmodbus.SlaveReportedException)


def test_close_port_after_each_call_closes_the_connection(served: simulator.NetworkServer) -> None:
    instrument = Instrument(served.url, 1, close_port_after_each_call=True)
    for _ in range(3):
        assert instrument.read_register(1) == 10
        assert not instrument.serial.is_open
    with Instrument(served.url, 1) as other:
        assert other.read_register(1) == 10
    assert not other.serial.is_open


def test_many_threads_on_one_connection(served: simulator.NetworkServer) -> None:
    wrong: list[Any] = []

    def poll(unit_id: int, register: int, expected: int) -> None:
        instrument = instrument_on(served.url, unit_id)
        for _ in range(50):
            value = instrument.read_register(register)
            if value != expected:
                wrong.append((unit_id, register, value))

    threads = [threading.Thread(target=poll, args=(1, index, 10 * index)) for index in range(8)]
    threads.append(threading.Thread(target=poll, args=(255, 0, 4242)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert len(served.requests) == 9 * 50


# ---------------------------------------------------------------------------
# The command line and mbpoll (a libmodbus master) over Modbus TCP
# ---------------------------------------------------------------------------


def run_cli(argv: list[str]) -> int:
    import minimalmodbus_cli

    try:
        return minimalmodbus_cli.main(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


def test_command_line_reads_writes_and_scans_over_tcp(capsys: pytest.CaptureFixture[str]) -> None:
    with simulator.NetworkServer(slaves()) as server:
        assert run_cli(["read", server.url, "-a", "1", "-r", "0", "-c", "4", "--json"]) == 0
        document = json.loads(capsys.readouterr().out)
        assert [entry["value"] for entry in document["values"]] == [0, 10, 20, 30]
        assert run_cli(["write", server.url, "-a", "1", "-r", "3", "1234"]) == 0
        assert server.bus.slaves[1].holding_registers[3] == 1234
        capsys.readouterr()
        assert run_cli(["scan", server.url, "--from", "250", "--to", "255", "--json"]) == 0
        found = json.loads(capsys.readouterr().out)["found"]
        assert [(entry["slave"], entry["baudrate"]) for entry in found] == [(255, None)]  # unit ids, no baud
        assert run_cli(["scan", server.url, "--from", "255", "--to", "255"]) == 0
        assert capsys.readouterr().out.splitlines()[-1].split()[:2] == ["255", "-"]


def mbpoll(*arguments: str) -> str:
    if shutil.which("mbpoll") is None:
        pytest.skip("mbpoll is not installed (Debian package mbpoll)")
    result = subprocess.run(
        ["mbpoll", "-m", "tcp", "-1", "-o", "2", *arguments], capture_output=True, text=True, timeout=20
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def mbpoll_values(output: str) -> list[int]:
    """The values mbpoll prints, one ``[n]: value`` line each."""
    return [int(line.split(":", 1)[1]) for line in output.splitlines() if line.startswith("[")]


def test_mbpoll_reads_and_writes_every_table_of_our_tcp_server() -> None:
    # mbpoll numbers registers from 1 (-r 1 is address 0); -t 0 coils, 1 discrete
    # inputs, 3 input registers, 4 holding registers (mbpoll -h)
    with simulator.NetworkServer(slaves()) as server:
        host, port = server.address
        where = ["-p", str(port), "-a", "1"]
        assert mbpoll_values(mbpoll(*where, "-t", "4", "-r", "1", "-c", "4", host)) == [0, 10, 20, 30]
        assert mbpoll_values(mbpoll(*where, "-t", "3", "-r", "1", "-c", "2", host)) == [3, 3]
        assert mbpoll_values(mbpoll(*where, "-t", "0", "-r", "1", "-c", "4", host)) == [0, 1, 0, 1]
        assert mbpoll_values(mbpoll(*where, "-t", "1", "-r", "1", "-c", "2", host)) == [1, 1]
        mbpoll(*where, "-t", "4", "-r", "6", host, "555", "556")
        mbpoll(*where, "-t", "0", "-r", "1", host, "1")
        assert [server.bus.slaves[1].holding_registers[a] for a in (5, 6)] == [555, 556]
        assert server.bus.slaves[1].coils[0] == 1


def test_simulate_tcp_process_with_our_command_line_and_mbpoll() -> None:
    # The acceptance of issue 14: the simulator in one process, our command line
    # and mbpoll in others, printing the same values
    process = subprocess.Popen(
        [sys.executable, "-m", "minimalmodbus", "simulate", "--tcp", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = next(word for word in line.split() if word.startswith("tcp://")).rstrip(".")
        ours = subprocess.run(
            [sys.executable, "-m", "minimalmodbus", "read", url, "-a", "1", "-r", "0", "-c", "4", "--json"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert ours.returncode == 0, ours.stderr
        values = [entry["value"] for entry in json.loads(ours.stdout)["values"]]
        port = url.rsplit(":", 1)[1]
        assert mbpoll_values(mbpoll("-p", port, "-a", "1", "-r", "1", "-c", "4", "127.0.0.1")) == values
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_the_tcp_benchmark_finds_the_simulator_url_in_its_banner() -> None:
    # benchmarks/compare.py --tcp reads the URL from the simulator's first line
    code = (
        "import sys; sys.path[:0] = ['benchmarks', '.']; import compare\n"
        "with compare.tcp_server() as url: print(url)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"tcp://127\.0\.0\.1:\d+\n", done.stdout)


# ---------------------------------------------------------------------------
# RTU over TCP (pyserial's socket://): the simulator serves it too
# ---------------------------------------------------------------------------


def test_rtu_over_tcp_through_socket_urls() -> None:
    bus = slaves()
    with simulator.NetworkServer(bus, rtu_frames=True) as server:
        assert server.url.startswith("socket://127.0.0.1:")
        instrument = instrument_on(server.url)
        assert instrument._framing() == minimalmodbus.MODE_RTU  # CRC and all, not MBAP
        assert instrument.read_registers(0, 3) == [0, 10, 20]
        instrument.write_register(3, 77)
        assert bus.slaves[1].holding_registers[3] == 77
        with pytest.raises(minimalmodbus.IllegalRequestError):
            instrument.read_register(500)
        bus.inject(simulator.Fault.BAD_CHECKSUM)
        with pytest.raises(minimalmodbus.InvalidResponseError, match="Checksum error"):
            instrument.read_register(1)
        assert instrument.read_register(1) == 10
        assert server.requests[0] == bytes.fromhex("01 03 0000 0003 05cb")
        instrument.close()


def test_rtu_frames_need_tcp_and_an_rtu_bus() -> None:
    with pytest.raises(ValueError, match="RTU frames are served over TCP"):
        simulator.NetworkServer(slaves(), datagrams=True, rtu_frames=True)


def test_other_function_codes_over_the_network() -> None:
    # 7, 8, 11, 12, 17, 20, 21, 24, 43/14 through MBAP, as on a serial line
    slave = simulator.SimulatedSlave(
        holding_registers={0: 1},
        exception_status=0x6D,
        slave_id=b"\x2a\xff",
        file_records={4: {record: 100 + record for record in range(10)}},
        fifo_queues={0x04DE: [0x01B8, 0x1284]},
        device_identification={0: b"Company", 1: b"Product", 2: b"V1.0"},
    )
    with simulator.NetworkServer(simulator.SimulatedBus({1: slave})) as server:
        instrument = instrument_on(server.url)
        assert instrument.read_exception_status() == 0x6D
        assert instrument.diagnostics(0, 0xA537) == 0xA537
        assert instrument.read_comm_event_counter()[0] == 0
        assert instrument.read_comm_event_log().status == 0
        assert instrument.report_slave_id() == b"\x2a\xff"
        assert instrument.read_file_record(4, 1, 2) == [101, 102]
        instrument.write_file_record(4, 7, [0x06AF])
        assert slave.file_records[4][7] == 0x06AF
        assert instrument.read_fifo_queue(0x04DE) == [0x01B8, 0x1284]
        assert instrument.read_device_identification() == {0: b"Company", 1: b"Product", 2: b"V1.0"}


def test_network_timeouts_default() -> None:
    port = Instrument("tcp://192.0.2.7", 1).serial  # not connected: nothing leaves this machine
    assert (port.timeout, port.connect_timeout) == (0.5, 3.0)


@pytest.mark.parametrize("option", ["--tcp", "--udp"])
def test_simulate_network_option_errors_in_the_programs_own_name(
    capsys: pytest.CaptureFixture[str], option: str
) -> None:
    assert run_cli(["simulate", option, "1502"]) == 2
    error = capsys.readouterr().err
    assert f"minimalmodbus simulate: error: argument {option}: expected HOST:PORT" in error
    assert "'1502'" in error
