"""What a hub loads: influxdb-client (and numpy with it, some 40 MB) only when it exports
to a time-series database. Found measuring the hub's memory at 500 edges."""

from __future__ import annotations

import subprocess
import sys


def test_a_hub_that_exports_nothing_does_not_load_influxdb_client_or_numpy() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c",
         "import sys, andon.cli, hub.process.server, hub.process.app, hub.export.timeseries,"
         " hub.export.measurements;"
         "print(sorted({m.split('.')[0] for m in sys.modules} & {'influxdb_client', 'numpy'}))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert loaded.stdout.strip() == "[]"
