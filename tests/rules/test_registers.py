"""Register decoding: every type in every byte order against values written out by hand."""

from __future__ import annotations

import pytest

from rules.registers import ByteOrder, ValueType, decode, encode, encode_string, scaled
from tests.helpers.register_vectors import VECTORS


@pytest.mark.parametrize(("value_type", "order", "registers", "expected"), VECTORS)
def test_known_registers_decode_to_the_known_value(
    value_type: str, order: str, registers: list[int], expected: bool | int | float | str
) -> None:
    value = decode(registers, ValueType(value_type), ByteOrder(order))
    if value_type == "float32":
        assert value == pytest.approx(expected, rel=1e-7)
    else:
        assert value == expected
        assert type(value) is type(expected)


@pytest.mark.parametrize(("value_type", "order", "registers", "expected"), VECTORS)
def test_encoding_the_known_value_gives_the_known_registers(
    value_type: str, order: str, registers: list[int], expected: bool | int | float | str
) -> None:
    if value_type == "string":
        if order in ("ABCD", "CDAB"):
            assert encode_string(str(expected), len(registers)) == registers
        return
    assert encode(expected, ValueType(value_type), ByteOrder(order)) == registers


def test_a_value_of_the_wrong_width_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="float32 takes 2 registers, not 1"):
        decode([0x42F6], ValueType.FLOAT32)


def test_scale_and_offset_apply_to_numbers_only() -> None:
    assert scaled(1234, 0.1, -3.0) == pytest.approx(120.4)
    assert scaled(7, 1.0, 0.0) == 7
    assert scaled(True, 10.0, 1.0) is True
    assert scaled("AB", 2.0, 0.0) == "AB"


def test_a_string_register_with_control_characters_reads_as_printable_text() -> None:
    # A serial read from a PLC goes on the wire; the hub refuses control characters.
    registers = encode_string("SN\x1b7\x85X", 4)
    assert decode(registers, ValueType.STRING) == "SN\ufffd7\ufffdX"
