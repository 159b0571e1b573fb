"""Start and stop a local VictoriaMetrics (Debian's ``victoria-metrics``) on a free port.

Used by the tests and benchmarks of the time-series export; a plant runs its own
(deploy/compose/compose.yaml) or an InfluxDB.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from contract.netutil import free_port, wait_for_port
from contract.processes import stop_process
from testbed.server import LOOPBACK, LocalServer


def find_victoria_metrics() -> str:
    found = shutil.which("victoria-metrics")
    if found is None:
        raise FileNotFoundError(
            "victoria-metrics is not installed: apt-get install victoria-metrics"
        )
    return found


class VictoriaMetrics(LocalServer):
    """A VictoriaMetrics process with its own data directory, on loopback."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return self.url

    def _launch(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "victoria-metrics.log").open("ab")
        self._process = subprocess.Popen(
            [
                find_victoria_metrics(),
                f"-httpListenAddr={LOOPBACK}:{self.port}",
                f"-storageDataPath={self.data_dir / 'storage'}",
                "-retentionPeriod=100y",  # the tests write points of any date
                # Queries see points at once: by default the last 30 s are left out.
                "-search.latencyOffset=0s",
                "-search.disableCache",
                "-loggerLevel=ERROR",
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

    def _wait_until_ready(self) -> None:
        if not wait_for_port(LOOPBACK, self.port, timeout=15):
            raise RuntimeError(f"victoria-metrics did not start; see {self.data_dir}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        stop_process(process, timeout_s=15)
