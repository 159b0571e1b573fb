"""Button signal logic: debounce a sampled input and detect presses (rising edges).

Time is a parameter (seconds on any monotonic scale), so the logic is testable without
a clock and identical on the edge and in replays.
"""

from __future__ import annotations


class DebouncedButton:
    """A sampled contact that counts as changed only after it held the new level.

    ``update`` returns True exactly once per press: when a raw high level has been seen
    continuously for ``stable_s`` seconds after a debounced low. Contact bounce shorter
    than ``stable_s`` is ignored in both directions.
    """

    def __init__(self, *, stable_s: float, initial: bool = False) -> None:
        self.stable_s = stable_s
        self.level = initial
        self._candidate = initial
        self._candidate_since: float | None = None

    def update(self, raw: bool, now: float) -> bool:
        """Feed one sample taken at ``now``; True when it completes a press."""
        if raw == self.level:
            self._candidate_since = None
            return False
        if self._candidate_since is None or raw != self._candidate:
            self._candidate = raw
            self._candidate_since = now
        if now - self._candidate_since < self.stable_s:
            return False
        self.level = raw
        self._candidate_since = None
        return raw
