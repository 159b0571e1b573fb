"""An Allen-Bradley Logix controller's configuration, and the syntax of its tag names.

Kept apart from the driver (``drivers/logix.py``) so that checking a configuration file
does not load the EtherNet/IP client.

An address is a tag name as Studio 5000 writes it: ``St10_Maint``, a member of a
structure or an element of an array (``Line1.Station[3].Maint``, ``Recipe[2,4]``), a
bit of an integer (``Flags.5``), or a tag of a program (``Program:Main.Start``). The
value's type is the tag's own on the controller (BOOL, SINT, INT, DINT, REAL, STRING).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from drivers.config import DEVICE_ID_PATTERN

# Logix names: a letter or underscore, then letters, digits and underscores, 40 at most.
NAME = r"[A-Za-z_][A-Za-z0-9_]{0,39}"
_SEGMENT = re.compile(rf"(?P<name>{NAME})(?:\[(?P<index>\d{{1,7}}(?:,\d{{1,7}}){{0,2}})\])?")
_PROGRAM = re.compile(rf"Program:{NAME}")
MAX_BIT = 63  # a bit of a LINT; a DINT's run 0 to 31
MAX_LENGTH = 255
ADDRESS_EXAMPLES = '"St10_Maint", "Line1.Station[3].Maint" or "Flags.5"'


def address_problem(address: str) -> str | None:
    """Why ``address`` is not a Logix tag name, or None when it is one."""
    if not address or len(address) > MAX_LENGTH:
        return f"a Logix tag name is 1 to {MAX_LENGTH} characters; got {address!r}"
    segments = address.split(".")
    if segments[0].startswith("Program:"):
        if _PROGRAM.fullmatch(segments[0]) is None or len(segments) < 2:
            return f"a program's tag is written Program:<program>.<tag>; got {address!r}"
        segments = segments[1:]
    last = len(segments) - 1
    for position, segment in enumerate(segments):
        if position == last and position > 0 and segment.isdigit():
            if int(segment) > MAX_BIT:
                return f"a bit of an integer is 0 to {MAX_BIT} (a DINT's 0 to 31); got {address!r}"
            return None
        if _SEGMENT.fullmatch(segment) is None:
            at = "" if segment == address else f" (at {segment!r})"
            return f"not a Logix tag name: {address!r}{at}; expected one such as {ADDRESS_EXAMPLES}"
    return None


class LogixConfig(BaseModel):
    """One ControlLogix or CompactLogix controller, reached over EtherNet/IP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["logix"]
    id: str = Field(pattern=DEVICE_ID_PATTERN)
    host: str = Field(min_length=1, max_length=253)
    slot: int = Field(default=0, ge=0, le=31, description="the controller's slot in its chassis")
    port: int = Field(default=44818, ge=1, le=65535)
    timeout_s: float = Field(default=2.0, gt=0, le=60)
    backoff_cap_s: float = Field(
        default=30.0, gt=0, description="longest gap between reminders that it is still down"
    )
