"""CPU and memory of a process and its children (the hub's ingest worker), from /proc."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, as they are now."""
    found = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        listed = children.read_text().split()
    except OSError:  # gone, or a kernel without the file: the process alone
        return found
    for child in listed:
        found += process_tree(int(child))
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
    total_kb = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


class Usage:
    """CPU per cent of one core between ``begin()`` and ``end()``, and the RSS at the end,
    of ``pid`` with its children; ``pid`` None is this process (every thread)."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self._cpu = 0.0
        self._wall = 0.0

    def _cpu_now(self) -> float:
        if self.pid is None:
            own = resource.getrusage(resource.RUSAGE_SELF)
            return own.ru_utime + own.ru_stime
        return cpu_seconds(process_tree(self.pid))

    def begin(self) -> None:
        self._cpu, self._wall = self._cpu_now(), time.monotonic()

    def end(self) -> dict[str, float]:
        cpu, wall = self._cpu_now() - self._cpu, time.monotonic() - self._wall
        rss = rss_mb([os.getpid()] if self.pid is None else process_tree(self.pid))
        return {"cpu_percent": round(100 * cpu / wall, 1), "rss_mb": round(rss, 1)}
