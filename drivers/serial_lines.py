"""Splitting a serial byte stream into lines: pure, no I/O, fed with chunks as they arrive.

Both serial protocols we read (button stations and scanners) are line based. A line ends
with CR, LF or CR LF; a CR LF split between two reads is still one line end. A line that
grows past its limit without a line end is dropped, and so is everything up to the next
line end: that is how a reader resynchronises after noise on the wire.
"""

from __future__ import annotations

import re

_LINE_END = re.compile(rb"[\r\n]")
_CR = 0x0D
_LF = 0x0A


class LineSplitter:
    """Cut a byte stream into lines of at most ``max_length`` bytes (line end excluded).

    ``overlong`` counts the lines dropped for being too long, each once however long it
    ran. Memory is bounded by ``max_length`` whatever the input.
    """

    def __init__(self, max_length: int) -> None:
        if max_length < 1:
            raise ValueError("max_length must be at least 1")
        self.max_length = max_length
        self.overlong = 0
        self._line = bytearray()
        self._discarding = False
        self._after_cr = False

    def feed(self, data: bytes) -> list[bytes]:
        """The lines that ``data`` completes, in order, without their line ends."""
        if not data:
            return []
        start = 0
        if self._after_cr and data[0] == _LF:
            start = 1  # the LF of a CR LF that was split between two reads
        self._after_cr = False
        lines: list[bytes] = []
        while (end := _LINE_END.search(data, start)) is not None:
            at = end.start()
            self._take(data[start:at])
            if not self._discarding:
                lines.append(bytes(self._line))
            self._line.clear()
            self._discarding = False
            start = at + 1
            if data[at] == _CR:
                if start == len(data):
                    self._after_cr = True
                elif data[start] == _LF:
                    start += 1
        self._take(data[start:])
        return lines

    def _take(self, piece: bytes) -> None:
        if self._discarding or not piece:
            return
        if len(self._line) + len(piece) > self.max_length:
            self.overlong += 1
            self._discarding = True
            self._line.clear()
            return
        self._line += piece
