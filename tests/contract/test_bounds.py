"""The bounded types every wire message and API body builds on."""

from __future__ import annotations

import json
import math

import pytest
from pydantic import TypeAdapter, ValidationError

from contract.bounds import INT64_MAX, FiniteFloat, Id32, Int64, MultilineText, Text, WireText

TEXT: TypeAdapter[str] = TypeAdapter(Text)
LINES: TypeAdapter[str] = TypeAdapter(MultilineText)
WIRE: TypeAdapter[str] = TypeAdapter(WireText)


@pytest.mark.parametrize(
    "bad", ["a\x00b", "\x1b[31m", "tab\there", "line\nbreak", "\x85", "\ud800"]
)
def test_one_line_text_refuses_control_characters(bad: str) -> None:
    with pytest.raises(ValidationError, match="control character U\\+"):
        TEXT.validate_python(bad)


def test_text_keeps_what_people_write() -> None:
    for good in ["St10 press-fit", "主轴过载", "O'Brien & <Sons>", "\u2028 is a separator"]:
        assert TEXT.validate_python(good) == good
    assert LINES.validate_python("first line\r\n\tsecond") == "first line\r\n\tsecond"


def test_multiline_text_still_refuses_nul() -> None:
    with pytest.raises(ValidationError, match="U\\+0000"):
        LINES.validate_python("a\nb\x00")


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_floats_are_finite(bad: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(FiniteFloat).validate_json(bad)
    assert math.isclose(TypeAdapter(FiniteFloat).validate_json("1e30"), 1e30)


def test_integers_fit_their_columns() -> None:
    assert TypeAdapter(Int64).validate_python(INT64_MAX) == INT64_MAX
    for adapter, bad in [(Int64, INT64_MAX + 1), (Int64, 10**30), (Id32, 2**31), (Id32, 0)]:
        with pytest.raises(ValidationError):
            TypeAdapter(adapter).validate_python(bad)


@pytest.mark.parametrize(
    "bad", ["a\x00b", "\x1b[31m", "tab\there", "line\nbreak", "\x85", "\x7f", "\x9f"]
)
def test_wire_text_refuses_what_text_refuses(bad: str) -> None:
    with pytest.raises(ValidationError):
        TEXT.validate_python(bad)
    with pytest.raises(ValidationError, match="pattern"):
        WIRE.validate_json(json.dumps(bad))


def test_wire_text_keeps_what_people_write_and_refuses_a_lone_surrogate() -> None:
    for good in ["St10 press-fit", "主轴过载", "O'Brien & <Sons>", "\u2028 \U0001f600", "\xa0"]:
        assert WIRE.validate_json(json.dumps(good)) == good
    with pytest.raises(ValidationError):
        WIRE.validate_json(b'"a\\ud800b"')
