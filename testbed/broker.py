"""Start and stop a local Mosquitto broker with a generated configuration.

Used by the demo plant and by the tests; a plant runs Mosquitto from deploy/ instead.
"""

from __future__ import annotations

import getpass
import shutil
import subprocess
from pathlib import Path

from contract.netutil import free_port, wait_for_port
from contract.processes import stop_process
from testbed.server import LOOPBACK, LocalServer

# Mosquitto's default of 1000 silently drops QoS 1 messages queued for an offline
# persistent subscriber (the hub while it restarts): a day of presses must fit.
MAX_QUEUED_MESSAGES = 1_000_000
# Mosquitto's default of 20 unacknowledged QoS 1 messages per client would cap the hub's
# group commit at 20 messages a transaction: the hub acknowledges only after it commits,
# and room for the next batch lets it gather while the last one is committed.
MAX_INFLIGHT_MESSAGES = 5000


def find_mosquitto() -> str:
    """The mosquitto binary (Debian installs it in /usr/sbin)."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise FileNotFoundError("mosquitto is not installed: apt-get install mosquitto")
    return found


def mosquitto_conf(*, port: int, data_dir: Path) -> str:
    return "\n".join(
        [
            f"listener {port} {LOOPBACK}",
            # Run as whoever started us (as root, mosquitto would switch to its own user,
            # which cannot write the persistence files in our data directory).
            f"user {getpass.getuser()}",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {data_dir}/",
            "autosave_interval 1",
            f"max_queued_messages {MAX_QUEUED_MESSAGES}",
            f"max_inflight_messages {MAX_INFLIGHT_MESSAGES}",
            "max_queued_bytes 0",
            f"log_dest file {data_dir}/mosquitto.log",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "",
        ]
    )


class MosquittoBroker(LocalServer):
    """A Mosquitto process on loopback; ``start()``/``stop()`` can be repeated."""

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.host = LOOPBACK
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _launch(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "mosquitto.conf"
        conf.write_text(mosquitto_conf(port=self.port, data_dir=self.data_dir))
        self._process = subprocess.Popen(
            [find_mosquitto(), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C in a terminal must reach us, not the broker
        )

    def _wait_until_ready(self) -> None:
        if not wait_for_port(self.host, self.port, timeout=10):
            conf = self.data_dir / "mosquitto.conf"
            raise RuntimeError(f"mosquitto did not start on port {self.port}; see {conf}")

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs (a benchmark reads its CPU)."""
        return None if self._process is None else self._process.pid

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        stop_process(process, timeout_s=10)
        if process.stderr is not None:
            process.stderr.close()
