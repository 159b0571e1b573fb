"""What a station's presses mean: short or long (held), and when a button chatters.

Pure logic with time as a parameter (seconds on any monotonic scale), fed with the
debounced level of a button (``rules.signals.DebouncedButton``) or with its presses.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum


class Press(StrEnum):
    SHORT = "short"  # released before the hold time: the button's own call type
    LONG = "long"  # held for the hold time: the long-press call type


class HoldClassifier:
    """Tells a short press from a long one on a button that has both meanings.

    A long press counts the moment the button has been held ``hold_s`` seconds (the
    operator sees the light change while still holding it); a short press counts on
    release, since before that it may still become a long one. Each press counts once."""

    def __init__(self, *, hold_s: float) -> None:
        self.hold_s = hold_s
        self._down_since: float | None = None
        self._long_sent = False

    def update(self, level: bool, now: float) -> Press | None:
        """Feed the debounced level at ``now``; the kind of press it completes, if any."""
        if level:
            if self._down_since is None:
                self._down_since, self._long_sent = now, False
            elif not self._long_sent and now - self._down_since >= self.hold_s:
                self._long_sent = True
                return Press.LONG
            return None
        if self._down_since is None:
            return None
        self._down_since = None
        return None if self._long_sent else Press.SHORT


class Admission(StrEnum):
    ACCEPT = "accept"  # a press like any other
    REPORT = "report"  # the first press over the limit: report the chatter, once
    SUPPRESS = "suppress"  # chatter already reported: drop the press


@dataclass(frozen=True)
class Verdict:
    admission: Admission
    presses: int  # presses in the window, this one included


class ChatterGuard:
    """More than ``max_presses`` presses within ``window_s`` on one station is chatter
    (a loose contact, a stuck relay, a bored operator): reported once, not as a call
    each. Once the window holds ``max_presses`` or fewer again, presses count again."""

    def __init__(self, *, max_presses: int, window_s: float = 60.0) -> None:
        self.max_presses = max_presses
        self.window_s = window_s
        self._times: deque[float] = deque()
        self._reported = False

    def admit(self, now: float) -> Verdict:
        """A press at ``now``: whether it counts."""
        times = self._times
        while times and now - times[0] >= self.window_s:
            times.popleft()
        times.append(now)
        if len(times) <= self.max_presses:
            self._reported = False
            return Verdict(Admission.ACCEPT, len(times))
        if self._reported:
            return Verdict(Admission.SUPPRESS, len(times))
        self._reported = True
        return Verdict(Admission.REPORT, len(times))
