"""What OPC UA values the edge takes, and how a value is written as a variable's type."""

from __future__ import annotations

from asyncua import ua
from asyncua.common.subscription import DataChangeEvent

from drivers.tags import Value

# Each scalar DataType the edge takes, with the name of its value type in the
# configuration (``type``); a variable of another type is refused.
VALUE_TYPES: dict[ua.VariantType, str] = {
    ua.VariantType.Boolean: "bool",
    ua.VariantType.SByte: "sbyte",
    ua.VariantType.Byte: "byte",
    ua.VariantType.Int16: "int16",
    ua.VariantType.UInt16: "uint16",
    ua.VariantType.Int32: "int32",
    ua.VariantType.UInt32: "uint32",
    ua.VariantType.Int64: "int64",
    ua.VariantType.UInt64: "uint64",
    ua.VariantType.Float: "float32",
    ua.VariantType.Double: "float64",
    ua.VariantType.String: "string",
}


def good_value(event: DataChangeEvent) -> Value | None:
    """The change's value, or None when the server marks it not good or it is no scalar."""
    data_value = event.data.monitored_item.Value
    status = data_value.StatusCode if data_value is not None else None
    if status is not None and not status.is_good():
        return None
    value = event.value
    if isinstance(value, bool | int | float | str):
        return value
    return None


def as_variant_value(value: Value, variant_type: ua.VariantType) -> Value | None:
    """``value`` as a Python value of ``variant_type``, or None when it does not fit."""
    if isinstance(value, str):
        return value if variant_type is ua.VariantType.String else None
    if variant_type is ua.VariantType.Boolean:
        return bool(value)
    if variant_type in (ua.VariantType.Float, ua.VariantType.Double):
        return float(value)
    if variant_type in VALUE_TYPES and variant_type is not ua.VariantType.String:
        return int(value)
    return None
