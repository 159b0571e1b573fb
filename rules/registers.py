"""Decode Modbus registers into typed values: the types and byte orders of a register map.

Byte orders use Telegraf's names for the four bytes ``A B C D`` of a 32-bit value, ``A``
the most significant: ``ABCD`` big-endian (the Modbus default), ``DCBA`` little-endian,
``BADC`` bytes swapped within each register, ``CDAB`` registers (words) swapped. For 64
bits the same pattern extends over eight bytes; for one register only the byte swap
within it matters (``DCBA`` and ``BADC`` swap, ``ABCD`` and ``CDAB`` do not).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum

from contract.bounds import printable


class ValueType(StrEnum):
    BOOL = "bool"
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    STRING = "string"


class ByteOrder(StrEnum):
    ABCD = "ABCD"
    DCBA = "DCBA"
    BADC = "BADC"
    CDAB = "CDAB"


@dataclass(frozen=True)
class TypeSpec:
    """How many registers a type takes and how ``struct`` reads it (big-endian)."""

    registers: int
    struct_code: str


TYPES: dict[ValueType, TypeSpec] = {
    ValueType.BOOL: TypeSpec(1, ">H"),
    ValueType.INT16: TypeSpec(1, ">h"),
    ValueType.UINT16: TypeSpec(1, ">H"),
    ValueType.INT32: TypeSpec(2, ">i"),
    ValueType.UINT32: TypeSpec(2, ">I"),
    ValueType.INT64: TypeSpec(4, ">q"),
    ValueType.UINT64: TypeSpec(4, ">Q"),
    ValueType.FLOAT32: TypeSpec(2, ">f"),
    ValueType.FLOAT64: TypeSpec(4, ">d"),
    ValueType.STRING: TypeSpec(0, ""),  # ``length`` registers, two characters each
}

Decoded = bool | int | float | str


def register_count(value_type: ValueType, length: int | None = None) -> int:
    """How many registers a value of ``value_type`` occupies."""
    if value_type is ValueType.STRING:
        if not length:
            raise ValueError("a string needs its length in registers")
        return length
    return TYPES[value_type].registers


def big_endian_bytes(registers: list[int], order: ByteOrder) -> bytes:
    """The bytes of ``registers`` (as read) rearranged into big-endian order ``ABCD``."""
    words = list(registers)
    if order in (ByteOrder.DCBA, ByteOrder.CDAB):
        words.reverse()
    raw = b"".join(struct.pack(">H", word & 0xFFFF) for word in words)
    if order in (ByteOrder.DCBA, ByteOrder.BADC):
        raw = _swap_bytes(raw)
    return raw


def _swap_bytes(raw: bytes) -> bytes:
    return bytes(b for pair in zip(raw[1::2], raw[0::2], strict=True) for b in pair)


def decode(
    registers: list[int], value_type: ValueType, order: ByteOrder = ByteOrder.ABCD
) -> Decoded:
    """The raw value of ``registers`` read as ``value_type`` in byte order ``order``.

    A string keeps its characters in register order (two per register, the high byte
    first unless the order swaps bytes) and ends at the first NUL; other control
    characters read as U+FFFD."""
    if value_type is ValueType.STRING:
        raw = b"".join(struct.pack(">H", word & 0xFFFF) for word in registers)
        if order in (ByteOrder.DCBA, ByteOrder.BADC):
            raw = _swap_bytes(raw)
        # A register's bytes are not always text: a control character would make the
        # hub refuse the reading, or the call that carries it as a part's serial.
        return printable(raw.split(b"\0", 1)[0].decode("latin-1").rstrip())
    spec = TYPES[value_type]
    if len(registers) != spec.registers:
        raise ValueError(f"{value_type} takes {spec.registers} registers, not {len(registers)}")
    (value,) = struct.unpack(spec.struct_code, big_endian_bytes(registers, order))
    if value_type is ValueType.BOOL:
        return bool(value)
    return value  # type: ignore[no-any-return]  # struct gives int or float per the code


def encode(value: Decoded, value_type: ValueType, order: ByteOrder = ByteOrder.ABCD) -> list[int]:
    """The registers that hold ``value``: the inverse of ``decode`` (simulators use it)."""
    if value_type is ValueType.STRING:
        raise ValueError("encode strings with encode_string")
    spec = TYPES[value_type]
    raw = struct.pack(spec.struct_code, value)
    # Every order is its own inverse, so re-ordering the ABCD words gives the read order.
    return _words(big_endian_bytes(_words(raw), order))


def _words(raw: bytes) -> list[int]:
    return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]


def encode_string(text: str, length: int) -> list[int]:
    """``text`` in ``length`` registers, two characters each, padded with NUL."""
    return _words(text.encode("latin-1")[: 2 * length].ljust(2 * length, b"\0"))


def scaled(raw: Decoded, scale: float, offset: float) -> Decoded:
    """``raw * scale + offset`` for numbers; booleans and strings pass unchanged.

    Integers stay integers when scale is 1 and offset 0, so a counter reads as a whole number."""
    if isinstance(raw, bool | str):
        return raw
    if scale == 1.0 and offset == 0.0:
        return raw
    return raw * scale + offset
