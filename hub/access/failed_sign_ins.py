"""Failed sign-ins, counted per name and per address: past a few, each attempt waits.

Slowing down, not locking out: a lock-out would let anyone who knows a responder's name
keep them out during an incident, while a wait of a few seconds costs a person little
and a guesser a great deal. Pure: the moment is a parameter, the caller does the waiting.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

# Names and addresses remembered at most; the oldest are forgotten first. A flood of
# made-up names then costs memory up to here, never more.
MAX_KEYS = 10_000


@dataclass(frozen=True)
class FailurePolicy:
    free: int  # failures within the window that cost nothing
    delay_s: float  # the wait after the first failure past them, doubled for each next one
    max_delay_s: float
    window_s: float


class FailedSignIns:
    """Recent failures by key (``name:li-wei``, ``address:10.0.0.7``), as monotonic times."""

    def __init__(self, policy: FailurePolicy) -> None:
        self.policy = policy
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def delay(self, keys: tuple[str, ...], now: float) -> float:
        """Seconds the next attempt of ``keys`` waits before it is checked: the longest."""
        return max((self._delay_of(self._recent(key, now)) for key in keys), default=0.0)

    def failed(self, keys: tuple[str, ...], now: float) -> int:
        """Count a failure for each key; the most failures any of them now has."""
        most = 0
        for key in keys:
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times
            self._failures.move_to_end(key)
            most = max(most, len(times))
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)
        return most

    def succeeded(self, name_key: str) -> None:
        """The name's failures are forgotten (its address's are not: one right password
        from an address does not excuse its guesses at other names)."""
        self._failures.pop(name_key, None)

    def remembered(self) -> int:
        """How many names and addresses have failures on record."""
        return len(self._failures)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.policy.window_s:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def _delay_of(self, times: deque[float]) -> float:
        over = len(times) - self.policy.free
        if over <= 0:
            return 0.0
        return float(min(self.policy.delay_s * 2 ** min(over - 1, 32), self.policy.max_delay_s))
