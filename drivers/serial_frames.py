"""The button station line protocol (docs/serial-protocol.md): pure parsing, no I/O.

Bytes go in, in chunks of any size; frames come out, and every piece of input that was
not a frame is counted under one rejection reason. Nothing the wire sends can make the
parser raise or hold more than one line's worth of memory.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from functools import reduce
from operator import xor

from drivers.serial_lines import LineSplitter

# The longest frame ($BTN with two 64-character ids and a five-digit sequence number,
# CR LF included) is 147 bytes; 160 leaves a little room and still bounds memory.
MAX_LINE = 160
MAX_SEQ = 65535
_START = b"$"
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SEQ = re.compile(r"[0-9]{1,5}")
_HEX = re.compile(rb"[0-9A-Fa-f]{2}")


class Rejection(StrEnum):
    """Why a piece of input was not a frame."""

    GARBAGE = "garbage"  # a line with no '$', or the bytes before the '$' of a frame
    OVERLONG = "overlong"  # more than MAX_LINE bytes without a line end
    MALFORMED = "malformed"  # starts with '$' but does not end in '*' and two hex digits
    BAD_CHECKSUM = "bad_checksum"
    UNKNOWN_TYPE = "unknown_type"  # checksum right, frame type not one we know
    BAD_FIELDS = "bad_fields"  # known type, wrong number of fields or a bad value


@dataclass(frozen=True, slots=True)
class ButtonFrame:
    """``$BTN``: a button of a station was pressed or released."""

    station: str
    button: str
    pressed: bool
    seq: int


@dataclass(frozen=True, slots=True)
class HeartbeatFrame:
    """``$HB``: the station is alive."""

    station: str
    seq: int


Frame = ButtonFrame | HeartbeatFrame


def checksum(body: bytes) -> int:
    """XOR of the bytes between ``$`` and ``*``, as NMEA 0183 computes it."""
    return reduce(xor, body, 0)


def encode(frame: Frame) -> bytes:
    """The frame as a station sends it, CR LF included."""
    match frame:
        case ButtonFrame(station, button, pressed, seq):
            body = f"BTN,{station},{button},{'P' if pressed else 'R'},{seq}"
        case HeartbeatFrame(station, seq):
            body = f"HB,{station},{seq}"
    raw = body.encode("ascii")
    return b"$%s*%02X\r\n" % (raw, checksum(raw))


def _is_id(text: str) -> bool:
    return _ID.fullmatch(text) is not None


def _seq(text: str) -> int | None:
    if _SEQ.fullmatch(text) is None or int(text) > MAX_SEQ:
        return None
    return int(text)


def _button(fields: list[str]) -> Frame | None:
    if len(fields) != 4:
        return None
    station, button, action, seq_text = fields
    seq = _seq(seq_text)
    if not (_is_id(station) and _is_id(button)) or action not in ("P", "R") or seq is None:
        return None
    return ButtonFrame(station=station, button=button, pressed=action == "P", seq=seq)


def _heartbeat(fields: list[str]) -> Frame | None:
    if len(fields) != 2:
        return None
    station, seq_text = fields
    seq = _seq(seq_text)
    if not _is_id(station) or seq is None:
        return None
    return HeartbeatFrame(station=station, seq=seq)


# Frame type -> parser of the fields after the type; a new type is one more row.
_FRAME_TYPES = {"BTN": _button, "HB": _heartbeat}


def parse_frame(text: bytes) -> Frame | Rejection:
    """One frame, from its ``$`` to its checksum (no line end), or why it is not one."""
    if not text.startswith(_START) or len(text) < 4 or text[-3:-2] != b"*":
        return Rejection.MALFORMED
    if _HEX.fullmatch(text[-2:]) is None:
        return Rejection.MALFORMED
    body = text[1:-3]
    if checksum(body) != int(text[-2:], 16):
        return Rejection.BAD_CHECKSUM
    try:
        frame_type, *fields = body.decode("ascii").split(",")
    except UnicodeDecodeError:
        return Rejection.BAD_FIELDS
    parse = _FRAME_TYPES.get(frame_type)
    if parse is None:
        return Rejection.UNKNOWN_TYPE
    return parse(fields) or Rejection.BAD_FIELDS


class StationFrameParser:
    """An incremental parser: ``feed`` it chunks as they are read, get frames back.

    ``rejected`` counts, by reason, every piece of input that was not a frame since the
    parser was made. Empty lines are not counted: a blank line harms nobody.
    """

    def __init__(self) -> None:
        self.rejected: Counter[Rejection] = Counter()
        self._lines = LineSplitter(MAX_LINE)

    def feed(self, data: bytes) -> list[Frame]:
        """The frames completed by ``data``, in the order they were sent."""
        overlong_before = self._lines.overlong
        frames: list[Frame] = []
        for line in self._lines.feed(data):
            frame = self._parse_line(line)
            if frame is not None:
                frames.append(frame)
        if self._lines.overlong > overlong_before:
            self.rejected[Rejection.OVERLONG] += self._lines.overlong - overlong_before
        return frames

    def _parse_line(self, line: bytes) -> Frame | None:
        if not line:
            return None
        # Noise on the wire (a glitch at power-on, a cable plugged in) often lands in
        # front of a frame on the same line: the frame starts at the last '$'.
        start = line.rfind(_START)
        if start != 0:
            self.rejected[Rejection.GARBAGE] += 1
            if start < 0:
                return None
        result = parse_frame(line[start:])
        if isinstance(result, Rejection):
            self.rejected[result] += 1
            return None
        return result
