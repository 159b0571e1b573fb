"""Poll cycles that start late, and the log's account of them.

A poll loop samples its buttons once a cycle: a cycle that starts late leaves a gap in
the samples, and a press shorter than the gap is never seen. A gap comes from a link
slower than its interval, or from the whole agent stalling (a disk that takes its time
to sync, a starved CPU). The first late cycle is logged at once, then at most one line
every ``every_s`` seconds with how many there were, so a plant's engineer can tell a
missed press from a worker who did not press.
"""

from __future__ import annotations

import logging
import math

log = logging.getLogger(__name__)


class LateCycles:
    """Counts the cycles of link ``link`` that started more than ``slack_s`` after they
    were due (their previous cycle's start plus ``interval_s``)."""

    def __init__(self, link: str, interval_s: float, *, every_s: float = 60.0) -> None:
        self.link = link
        self.interval_s = interval_s
        # Lateness below a whole interval (or 0.1 s) is ordinary jitter: no press is that short.
        self.slack_s = max(interval_s, 0.1)
        self.every_s = every_s
        self.total = 0
        self._since = 0
        self._worst = 0.0
        self._reported = -math.inf

    def started(self, due: float, now: float) -> None:
        """A cycle due at ``due`` started at ``now`` (monotonic seconds)."""
        late = now - due
        if late <= self.slack_s:
            return
        self.total += 1
        self._since += 1
        self._worst = max(self._worst, late)
        if now - self._reported < self.every_s:
            return
        if math.isinf(self._reported):
            log.warning(
                "link %s: a poll cycle started %.0f ms late (interval %.0f ms); a press "
                "shorter than that may not be seen",
                self.link, late * 1000, self.interval_s * 1000,
            )  # fmt: skip
        else:
            log.warning(
                "link %s: %d poll cycle(s) started late in the last %.0f s, the worst by "
                "%.0f ms (interval %.0f ms)",
                self.link, self._since, now - self._reported, self._worst * 1000,
                self.interval_s * 1000,
            )  # fmt: skip
        self._since, self._worst, self._reported = 0, 0.0, now
