"""When a policy's steps fall: pure arithmetic on the levels' offsets, no clock read.

A step is an offset in seconds from the moment the call was raised; every level that
fires at that offset belongs to it (a repeating level fires at ``after_s``, then every
``repeat_every_s`` for as long as the call escalates).
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.config.escalation import LevelConfig


def occurrence_after(level: LevelConfig, offset: int | None) -> int | None:
    """The level's first firing later than ``offset`` (at or after 0 when None)."""
    if offset is None or level.after_s > offset:
        return level.after_s
    if level.repeat_every_s is None:
        return None
    repeats = (offset - level.after_s) // level.repeat_every_s + 1
    return level.after_s + repeats * level.repeat_every_s


def next_offset(levels: Sequence[LevelConfig], offset: int | None) -> int | None:
    """The offset of the step after ``offset`` (the first step when None); None: no more."""
    upcoming = [o for level in levels if (o := occurrence_after(level, offset)) is not None]
    return min(upcoming, default=None)


def levels_at(levels: Sequence[LevelConfig], offset: int) -> list[int]:
    """The indices of the levels that fire at ``offset``."""
    return [
        index
        for index, level in enumerate(levels)
        if offset == level.after_s
        or (
            level.repeat_every_s is not None
            and offset > level.after_s
            and (offset - level.after_s) % level.repeat_every_s == 0
        )
    ]
