"""A Siemens S7 PLC's configuration, and the syntax of its addresses (STEP 7's).

Kept apart from the driver (``drivers/s7.py``) so that checking a configuration file
does not load the S7 client.

An address names an area and a byte offset in it, and the size of the value there:
``DB10.DBX0.0`` (a bit of data block 10), ``DB10.DBB20``, ``DB10.DBW2``, ``DB10.DBD4``
(a byte, a word, a double word); ``M10.1``, ``MB10``, ``MW20``, ``MD24`` in the flag
memory; ``I0.0``, ``IW64`` in the process inputs and ``Q0.1``, ``QW64`` in the outputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from drivers.config import DEVICE_ID_PATTERN

_DB = re.compile(r"DB(?P<db>\d{1,5})\.DB(?P<size>[XBWD])(?P<byte>\d{1,5})(?:\.(?P<bit>\d+))?")
_AREA = re.compile(r"(?P<area>[IQM])(?P<size>[BWD]?)(?P<byte>\d{1,5})(?:\.(?P<bit>\d+))?")
ADDRESS_EXAMPLES = '"DB10.DBX0.0", "DB10.DBW2", "M10.1", "MW20", "I0.0" or "Q0.1"'

# The bytes a value of each size takes, and the value types it can hold (the first is
# the one an address of that size reads as when no ``type`` is given).
SIZE_BYTES = {"X": 1, "B": 1, "W": 2, "D": 4}
SIZE_TYPES: dict[str, tuple[str, ...]] = {
    "X": ("bool",),
    "B": ("string",),
    "W": ("uint16", "int16"),
    "D": ("uint32", "int32", "float32"),
}
MAX_STRING = 254


@dataclass(frozen=True)
class S7Address:
    """Where a value is: an area (``DB``, ``I``, ``Q``, ``M``), its data block (0 when
    the area is not one), the first byte, the bit (for ``X``) and the size letter."""

    area: str
    db: int
    byte: int
    bit: int | None
    size: str


def parse_address(address: str) -> S7Address:
    """The parts of a STEP 7 address; ValueError saying why when it is not one."""
    match = _DB.fullmatch(address)
    db = 0
    if match is not None:
        area, size, db = "DB", match["size"], int(match["db"])
        if not 1 <= db <= 65535:
            raise ValueError(f"a data block is numbered 1 to 65535; got {address!r}")
    else:
        match = _AREA.fullmatch(address)
        if match is None:
            raise ValueError(
                f"not a STEP 7 address: {address!r}; expected one such as {ADDRESS_EXAMPLES}"
            )
        area, size = match["area"], match["size"] or "X"
    byte = int(match["byte"])
    if byte > 65535:
        raise ValueError(f"a byte offset is 0 to 65535; got {address!r}")
    bit = match["bit"]
    if size == "X":
        if bit is None:
            raise ValueError(f"a bit address names its bit, as in {address}.0; got {address!r}")
        if int(bit) > 7:
            raise ValueError(f"a bit is 0 to 7; got {address!r}")
        return S7Address(area, db, byte, int(bit), size)
    if bit is not None:
        raise ValueError(f"only a bit address (X) takes '.bit'; got {address!r}")
    return S7Address(area, db, byte, None, size)


def address_problem(address: str) -> str | None:
    """Why ``address`` is not a STEP 7 address, or None when it is one."""
    try:
        parse_address(address)
    except ValueError as exc:
        return str(exc)
    return None


def value_type(address: S7Address, given: str | None) -> str:
    """The type an address is read as: ``given``, or its size's default."""
    return given if given is not None else SIZE_TYPES[address.size][0]


def type_problem(address: str, given: str | None, length: int | None) -> str | None:
    """Why a value of type ``given`` (None: the address's own) and ``length`` cannot be
    at ``address``, or None when it can."""
    parsed = parse_address(address)
    kind = value_type(parsed, given)
    allowed = SIZE_TYPES[parsed.size]
    if kind not in allowed:
        what = {"X": "a bit", "B": "a byte", "W": "a word", "D": "a double word"}[parsed.size]
        return f"{address} is {what}: its type is {' or '.join(allowed)}, not {kind}"
    if kind == "string" and length is None:
        return f"a string names its declared 'length' (STRING[length], 1 to {MAX_STRING})"
    if kind != "string" and length is not None:
        return "'length' goes with type string, and only with it"
    return None


def byte_count(address: S7Address, kind: str, length: int | None) -> int:
    """How many bytes a value takes: a string its two length bytes and ``length``."""
    if kind == "string":
        assert length is not None  # checked with the configuration
        return length + 2
    return SIZE_BYTES[address.size]


class S7Config(BaseModel):
    """One S7-300/400/1200/1500 CPU (or a LOGO!, or anything speaking S7 on port 102)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["s7"]
    id: str = Field(pattern=DEVICE_ID_PATTERN)
    host: str = Field(min_length=1, max_length=253)
    rack: int = Field(default=0, ge=0, le=7)
    slot: int = Field(default=1, ge=0, le=31, description="1: S7-1200/1500; 2: S7-300")
    port: int = Field(default=102, ge=1, le=65535)
    timeout_s: float = Field(default=2.0, gt=0, le=60)
    backoff_cap_s: float = Field(
        default=30.0, gt=0, description="longest gap between reminders that it is still down"
    )
