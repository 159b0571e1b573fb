"""Sparkplug B payloads: metrics with their datatypes, in and out of protobuf.

Only the scalar datatypes are read and written (the integers, Float, Double, Boolean,
String); a metric of another datatype in a received payload is kept with its name and
datatype and no value (``SKIPPED``), so a host can ignore it. Signed integers travel as
two's complement of their own width in the unsigned field (-5 as Int16 is 65531), as
Eclipse Tahu's reference and pysparkplug write them; the 32-bit (or 64-bit) sign
extension some implementations write is read as well.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

from google.protobuf.message import DecodeError

from contract.sparkplug import sparkplug_b_pb2 as pb

Value = bool | int | float | str | None
"""A metric's value; None is a null (``is_null``)."""


class DataType(IntEnum):
    """The Sparkplug B datatypes this product reads and writes (Tahu's ``DataType``)."""

    INT8 = pb.Int8
    INT16 = pb.Int16
    INT32 = pb.Int32
    INT64 = pb.Int64
    UINT8 = pb.UInt8
    UINT16 = pb.UInt16
    UINT32 = pb.UInt32
    UINT64 = pb.UInt64
    FLOAT = pb.Float
    DOUBLE = pb.Double
    BOOLEAN = pb.Boolean
    STRING = pb.String


# Width in bits and whether signed, per integer datatype.
INTEGERS: dict[DataType, tuple[int, bool]] = {
    DataType.INT8: (8, True),
    DataType.INT16: (16, True),
    DataType.INT32: (32, True),
    DataType.INT64: (64, True),
    DataType.UINT8: (8, False),
    DataType.UINT16: (16, False),
    DataType.UINT32: (32, False),
    DataType.UINT64: (64, False),
}


class SkippedValue:
    """The value of a metric whose datatype this product does not read."""

    def __repr__(self) -> str:
        return "SKIPPED"


SKIPPED = SkippedValue()


class PayloadInvalid(ValueError):
    """A payload that is not a Sparkplug B payload this product can read."""


@dataclass(frozen=True)
class Metric:
    name: str
    datatype: int
    value: Value | SkippedValue
    timestamp: int | None = None


@dataclass(frozen=True)
class Payload:
    timestamp: int | None
    seq: int | None
    metrics: tuple[Metric, ...]

    def by_name(self) -> dict[str, Metric]:
        return {metric.name: metric for metric in self.metrics}


def encode(metrics: list[Metric], *, timestamp: int, seq: int | None) -> bytes:
    """The payload's bytes; ``seq`` None for an NDEATH (which carries none)."""
    payload = pb.Payload(timestamp=timestamp)
    if seq is not None:
        payload.seq = seq
    for metric in metrics:
        _put(payload.metrics.add(), metric)
    return payload.SerializeToString()


def _put(out: pb.Payload.Metric, metric: Metric) -> None:
    out.name = metric.name
    out.datatype = metric.datatype
    if metric.timestamp is not None:
        out.timestamp = metric.timestamp
    value = metric.value
    if value is None or isinstance(value, SkippedValue):
        out.is_null = True
        return
    datatype = DataType(metric.datatype)
    if datatype in INTEGERS:
        bits, signed = INTEGERS[datatype]
        number = int(value)
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1)) if signed else (0, 2**bits)
        if not low <= number < high:
            raise ValueError(f"{metric.name}: {number} does not fit {datatype.name}")
        raw = number % 2**bits
        if bits == 64:
            out.long_value = raw
        else:
            out.int_value = raw
    elif datatype is DataType.FLOAT:
        out.float_value = float(value)
    elif datatype is DataType.DOUBLE:
        out.double_value = float(value)
    elif datatype is DataType.BOOLEAN:
        out.boolean_value = bool(value)
    else:
        out.string_value = str(value)


def decode(raw: bytes) -> Payload:
    """The payload in ``raw``; ``PayloadInvalid`` when it is not one."""
    try:
        payload = pb.Payload.FromString(raw)
    except (DecodeError, RuntimeWarning) as exc:
        raise PayloadInvalid(f"not a Sparkplug B payload: {exc}") from exc
    return Payload(
        timestamp=payload.timestamp if payload.HasField("timestamp") else None,
        seq=payload.seq if payload.HasField("seq") else None,
        metrics=tuple(_metric(metric) for metric in payload.metrics),
    )


def _metric(metric: pb.Payload.Metric) -> Metric:
    timestamp = metric.timestamp if metric.HasField("timestamp") else None
    return Metric(metric.name, metric.datatype, _value(metric), timestamp)


def _value(metric: pb.Payload.Metric) -> Value | SkippedValue:
    if metric.is_null:
        return None
    try:
        datatype = DataType(metric.datatype)
    except ValueError:
        return SKIPPED
    field = metric.WhichOneof("value")
    if datatype in INTEGERS:
        bits, signed = INTEGERS[datatype]
        if field not in ("int_value", "long_value"):
            return SKIPPED
        raw: int = metric.int_value if field == "int_value" else metric.long_value
        if not signed:
            return raw if raw < 2**bits else SKIPPED
        # Width-wide two's complement, or sign extended to the field's 32 or 64 bits.
        for width in (bits, 32 if field == "int_value" else 64):
            if raw < 2**width:
                return raw - 2**width if raw >= 2 ** (width - 1) else raw
        return SKIPPED
    expected = {
        DataType.FLOAT: "float_value",
        DataType.DOUBLE: "double_value",
        DataType.BOOLEAN: "boolean_value",
        DataType.STRING: "string_value",
    }[datatype]
    if field != expected:
        return SKIPPED
    value: Value = getattr(metric, expected)
    if isinstance(value, float) and not math.isfinite(value):
        return SKIPPED
    return value
