"""The tests' own Modbus checksums and frames: a second opinion on the driver's.

Written from the specification, on purpose without importing minimalmodbus
or dummy_serial: the driver, its test double and these helpers each compute
CRC and LRC for themselves, so a mistake in one shows up as a disagreement
instead of being shared by all three.

Content means slave address, function code and data, without checksum.
"""

from __future__ import annotations

import re


def crc16(data: bytes) -> int:
    """CRC-16/MODBUS of ``data``, bit by bit.

    MODBUS.md (doc/modbus.rst, "RTU frames"): reflected polynomial 0xA001
    (0x8005), initial value 0xFFFF, no final XOR; the CRC goes on the line
    low byte first (:func:`crc_bytes`). The CRC of ``b"123456789"`` is
    0x4B37, and that of a frame including its own CRC is 0.
    """
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def crc_bytes(data: bytes) -> bytes:
    """The CRC of ``data`` as sent on the line: two bytes, low byte first."""
    return crc16(data).to_bytes(2, "little")


def lrc(data: bytes) -> int:
    """Serial Line §2.5.2.2: the two's complement of the 8-bit sum of the bytes."""
    return -sum(data) & 0xFF


def rtu(*parts: bytes | int) -> bytes:
    """An RTU frame from ints (single bytes) and bytes, with its CRC."""
    body = b"".join(bytes((part,)) if isinstance(part, int) else part for part in parts)
    return body + crc_bytes(body)


def ascii_frame(content: bytes, checksum: int | None = None) -> bytes:
    """An ASCII frame: colon, the content and LRC as upper-case hex, CR LF.

    ``checksum``: the LRC byte to send; by default the right one, :func:`lrc`
    of the content (give one to frame a recorded or a wrong LRC).
    """
    if checksum is None:
        checksum = lrc(content)
    return b":" + (content + bytes((checksum,))).hex().upper().encode() + b"\r\n"


def frame(mode: str, content: bytes | str) -> bytes:
    """A frame around content (bytes, or hex with any spaces) with its checksum.

    ``mode``: ``"rtu"`` (the value of ``MODE_RTU``, API.md) gives content +
    CRC low byte first; any other mode (``"ascii"``) gives ':' + upper-case
    hex of content and LRC + CR LF.
    """
    if isinstance(content, str):
        content = bytes.fromhex(content)
    if mode == "rtu":
        return rtu(content)
    return ascii_frame(content)


def checksum_ok(mode: str, wire: bytes) -> bool:
    """Whether a frame is well formed with a valid CRC (RTU) or LRC (ASCII)."""
    if mode == "rtu":
        return len(wire) >= 4 and crc16(wire) == 0
    digits = wire[1:-2]
    return (
        wire.startswith(b":")
        and wire.endswith(b"\r\n")
        and re.fullmatch(rb"(?:[0-9A-F]{2}){3,}", digits) is not None
        and sum(bytes.fromhex(digits.decode())) % 256 == 0
    )


def wire_time(*frames: bytes, baudrate: int = 19200) -> float:
    """Seconds the frames take on an 8N1 line (10 bits a character) at ``baudrate``.

    dummy_serial delivers a recorded answer byte by byte as it crosses the
    line after its request, so the last byte of the answer arrives this
    long after the request is written (19200 baud: a port opened by name).
    """
    return sum(len(data) for data in frames) * 10 / baudrate
