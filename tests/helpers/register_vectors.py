"""Known values in every type and byte order, written out by hand (not by our encoder).

Byte orders as Telegraf names them; each row: type, byte order, registers as read, value.
"""

from __future__ import annotations

VECTORS: list[tuple[str, str, list[int], bool | int | float | str]] = [
    ("bool", "ABCD", [0x0001], True),
    ("bool", "DCBA", [0x0000], False),
    ("int16", "ABCD", [0xFFFE], -2),
    ("int16", "CDAB", [0xFFFE], -2),
    ("int16", "BADC", [0xFEFF], -2),
    ("int16", "DCBA", [0xFEFF], -2),
    ("uint16", "ABCD", [0x1234], 0x1234),
    ("uint16", "CDAB", [0x1234], 0x1234),
    ("uint16", "BADC", [0x3412], 0x1234),
    ("uint16", "DCBA", [0x3412], 0x1234),
    ("int32", "ABCD", [0xF8A4, 0x32EB], -123456789),
    ("int32", "CDAB", [0x32EB, 0xF8A4], -123456789),
    ("int32", "BADC", [0xA4F8, 0xEB32], -123456789),
    ("int32", "DCBA", [0xEB32, 0xA4F8], -123456789),
    ("uint32", "ABCD", [0x075B, 0xCD15], 123456789),
    ("uint32", "CDAB", [0xCD15, 0x075B], 123456789),
    ("uint32", "BADC", [0x5B07, 0x15CD], 123456789),
    ("uint32", "DCBA", [0x15CD, 0x5B07], 123456789),
    ("int64", "ABCD", [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE], -2),
    ("int64", "CDAB", [0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF], -2),
    ("int64", "BADC", [0xFFFF, 0xFFFF, 0xFFFF, 0xFEFF], -2),
    ("int64", "DCBA", [0xFEFF, 0xFFFF, 0xFFFF, 0xFFFF], -2),
    ("uint64", "ABCD", [0x0102, 0x0304, 0x0506, 0x0708], 0x0102030405060708),
    ("uint64", "CDAB", [0x0708, 0x0506, 0x0304, 0x0102], 0x0102030405060708),
    ("uint64", "BADC", [0x0201, 0x0403, 0x0605, 0x0807], 0x0102030405060708),
    ("uint64", "DCBA", [0x0807, 0x0605, 0x0403, 0x0201], 0x0102030405060708),
    ("float32", "ABCD", [0x42F6, 0xE979], 123.456),
    ("float32", "CDAB", [0xE979, 0x42F6], 123.456),
    ("float32", "BADC", [0xF642, 0x79E9], 123.456),
    ("float32", "DCBA", [0x79E9, 0xF642], 123.456),
    ("float64", "ABCD", [0x3FF8, 0x0000, 0x0000, 0x0001], 1.5000000000000002),
    ("float64", "CDAB", [0x0001, 0x0000, 0x0000, 0x3FF8], 1.5000000000000002),
    ("float64", "BADC", [0xF83F, 0x0000, 0x0000, 0x0100], 1.5000000000000002),
    ("float64", "DCBA", [0x0100, 0x0000, 0x0000, 0xF83F], 1.5000000000000002),
    ("string", "ABCD", [0x4142, 0x2D31, 0x3200, 0x0000], "AB-12"),
    ("string", "CDAB", [0x4142, 0x2D31, 0x3200, 0x0000], "AB-12"),
    ("string", "BADC", [0x4241, 0x312D, 0x0032, 0x0000], "AB-12"),
    ("string", "DCBA", [0x4241, 0x312D, 0x0032, 0x0000], "AB-12"),
]
