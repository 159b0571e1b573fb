"""A pty pair from socat: two serial devices joined back to back.

One end is where a simulated device sits (an RTU PLC's server, the demo's button box or
scanner, a test writing frames), the other the port the edge agent or a driver opens, as
it would open /dev/ttyUSB0. Stopping socat takes both away, as a pulled cable does; a
start makes them again at the same paths.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from contract.processes import stop_process
from testbed.server import LocalServer

START_TIMEOUT_S = 10.0


class PtyPair(LocalServer):
    """``device_end`` for the simulated device, ``agent_end`` for the agent or driver."""

    def __init__(self, folder: Path, name: str = "tty") -> None:
        self.device_end = folder / f"{name}-device"
        self.agent_end = folder / f"{name}-port"
        self.log_path = folder / f"{name}-socat.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return str(self.agent_end)

    def _launch(self) -> None:
        self.device_end.parent.mkdir(parents=True, exist_ok=True)
        for link in (self.device_end, self.agent_end):
            link.unlink(missing_ok=True)  # left by a socat that was killed, not stopped
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    "socat",
                    "-d",
                    "-d",
                    f"pty,raw,echo=0,link={self.device_end}",
                    f"pty,raw,echo=0,link={self.agent_end}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                # Not in the terminal's process group: a Ctrl-C must not take the ports
                # away under the edge agent before the demo stops it in order.
                start_new_session=True,
            )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (self.device_end.exists() and self.agent_end.exists()):
            exited = self._process is None or self._process.poll() is not None
            if exited or time.monotonic() > deadline:
                log = self.log_path.read_text(errors="replace")
                raise RuntimeError(f"socat did not make the pty pair {self.agent_end}:\n{log}")
            time.sleep(0.01)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process(process, timeout_s=5)
