"""CPU and memory of processes and their children (the hub and its worker processes, an
edge agent, the browser), read from /proc, for the benchmarks."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> set[int]:
    """The direct children of ``pid``, whichever of its threads started them."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(child) for child in (task / "children").read_text().split()}
        except OSError:  # a thread or process that ended meanwhile
            continue
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, as they are now."""
    found = [pid]
    for child in sorted(children(pid)):
        found += process_tree(child)
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a child that ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICKS


def rss_mb(pids: list[int]) -> float:
    """The processes' resident memory, summed (pages they share counted in each)."""
    return _summed_kb(pids, "status", "VmRSS:") / 1024


def pss_mb(pids: list[int]) -> float:
    """Their proportional memory: each shared page divided among the processes sharing
    it, so that the sum is what they hold together (the hub's workers load the same
    libraries)."""
    return _summed_kb(pids, "smaps_rollup", "Pss:") / 1024


def _summed_kb(pids: list[int], name: str, key: str) -> int:
    total_kb = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/{name}").read_text()
        except OSError:  # a process that ended meanwhile
            continue
        for line in text.splitlines():
            if line.startswith(key):
                total_kb += int(line.split()[1])
    return total_kb


class Usage:
    """CPU per cent of one core between ``begin()`` and ``end()``, and the RSS at the end,
    of the processes ``roots`` with their children; no roots: this process (every thread,
    not its children)."""

    def __init__(self, *roots: int) -> None:
        self.roots = roots
        self._cpu = 0.0
        self._wall = 0.0

    def _pids(self) -> list[int]:
        return [pid for root in self.roots for pid in process_tree(root)]

    def _cpu_now(self) -> float:
        if not self.roots:
            own = resource.getrusage(resource.RUSAGE_SELF)
            return own.ru_utime + own.ru_stime
        return cpu_seconds(self._pids())

    def begin(self) -> None:
        self._cpu, self._wall = self._cpu_now(), time.monotonic()

    def end(self) -> dict[str, float]:
        cpu, wall = self._cpu_now() - self._cpu, time.monotonic() - self._wall
        rss = rss_mb(self._pids() if self.roots else [os.getpid()])
        return {"cpu_percent": round(100 * cpu / wall, 1), "rss_mb": round(rss, 1)}
