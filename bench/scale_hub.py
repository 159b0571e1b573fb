"""The scale benchmark's hub: ``andon hub`` with one line per simulated edge, and what
is read from it while it runs: its processes' memory and CPU from /proc, its measurement
counts from /metrics, its edges' status from its database."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bench.ingest import Broker, _HubProcess
from bench.scale_edges import AREA
from bench.usage import process_tree, pss_mb, rss_mb

MEASUREMENT_OUTCOMES = "andon_hub_measurement_messages"
SAMPLE_EVERY_S = 0.5


def hub_lines(edges: int, stations: int) -> list[dict[str, Any]]:
    names = [{"id": f"st{s}"} for s in range(1, stations + 1)]
    return [{"id": f"line{e}", "stations": names} for e in range(edges)]


class ScaleHub(_HubProcess):
    """The ingest benchmark's hub process with one line per simulated edge."""

    def __init__(
        self, *, workdir: Path, broker: Broker, database_url: str, edges: int, stations: int
    ) -> None:
        super().__init__(workdir, broker, database_url)
        settings = yaml.safe_load(self.config.read_text())
        settings["areas"] = [{"id": AREA, "lines": hub_lines(edges, stations)}]
        self.config.write_text(yaml.safe_dump(settings))

    def online(self) -> int:
        with self.engine.connect() as conn:
            count = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM edges WHERE status = 'online'"
            ).scalar()
        return int(count or 0)

    def pids(self) -> list[int]:
        """The hub and its children (ingest and measurement workers), from /proc."""
        assert self._process is not None
        return process_tree(self._process.pid)

    def measurement_outcomes(self) -> dict[str, float]:
        """The measurement messages the hub's measurement process counted, by outcome."""
        body = httpx.get(f"{self.api_url}/metrics", timeout=10).text
        outcomes: dict[str, float] = {}
        for family in text_string_to_metric_families(body):
            if family.name == MEASUREMENT_OUTCOMES:
                for sample in family.samples:
                    if sample.name.endswith("_total"):
                        outcomes[sample.labels["outcome"]] = sample.value
        return outcomes


class HubWatch:
    """A thread beside the simulator: when every edge is online at the hub (the end of
    the connect storm), and the hub's peak memory (its processes together) while the
    run lasts."""

    def __init__(self, hub: ScaleHub, edges: int) -> None:
        self.hub = hub
        self.edges = edges
        self.all_online = threading.Event()
        self.online_at = 0.0
        self.peak_rss_mb = 0.0
        self.peak_pss_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="hub-watch", daemon=True)

    def __enter__(self) -> HubWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _watch(self) -> None:
        while not self._stop.wait(0.05 if not self.all_online.is_set() else SAMPLE_EVERY_S):
            if not self.all_online.is_set() and self.hub.online() >= self.edges:
                self.online_at = time.monotonic()
                self.all_online.set()
            pids = self.hub.pids()
            self.peak_rss_mb = max(self.peak_rss_mb, rss_mb(pids))
            self.peak_pss_mb = max(self.peak_pss_mb, pss_mb(pids))
