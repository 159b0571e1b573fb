"""A simulated Logix controller: cpppo's EtherNet/IP simulator in a process of its own.

The simulator (``python -m cpppo.server.enip``) serves the tags it is started with, by
name, as a ControlLogix does: atomic tags (BOOL, SINT, INT, DINT, REAL, STRING) and
arrays of them (``Word=INT[400]``), with dotted names (``Line1.Count``) answered as
one tag. It runs as a separate process (cpppo is GPLv3: the product never imports it),
on loopback at a free port; ``stop()`` and ``start()`` again make the controller vanish
and return on the same port, its tags back at zero.

Whoever drives it (a test, the benchmark's threads) reads and writes its tags through
an EtherNet/IP client of its own (``get``, ``set``), as a program on the controller
would change them. For the edge benchmark it answers ``set_coil`` (element ``address``
of the BOOL array ``Button``) and ``set_registers`` (elements of the INT array ``Word``)
as ``testbed.plc_sim.SimulatedPlc`` does.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from typing import IO, Any

from pylogix import PLC

from contract.netutil import free_port, wait_for_port
from contract.processes import stop_process
from testbed.server import LOOPBACK, LocalServer

START_TIMEOUT_S = 30.0
CLIENT_TIMEOUT_S = 5.0
SUCCESS = "Success"


def bench_tags(buttons: int, words: int) -> dict[str, str]:
    """The edge benchmark's tags: ``Button[i]`` and ``Word[i]``."""
    return {"Button": f"BOOL[{max(buttons, 1)}]", "Word": f"INT[{max(words, 1)}]"}


class SimulatedLogixPlc(LocalServer):
    """The tags ``{name: type}`` (cpppo's spelling: ``BOOL``, ``DINT``, ``INT[10]``)."""

    def __init__(self, tags: Mapping[str, str], *, port: int | None = None) -> None:
        self.host = LOOPBACK
        self.port = port or free_port()
        self.tags = dict(tags)
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._client: Any = None
        self._client_lock = threading.Lock()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The simulator's process id while it runs (a benchmark reads its CPU)."""
        return None if self._process is None else self._process.pid

    def device(self, **keys: object) -> dict[str, object]:
        """An edge file's entry for this controller (``id`` plc1 unless given)."""
        return {"kind": "logix", "id": "plc1", "host": self.host, "port": self.port} | keys

    # -- what a program on the controller does ---------------------------------------------

    def set(self, tag: str, value: bool | float | str) -> None:
        """Write ``tag`` as the controller's own program would."""
        response = self._request(lambda client: client.Write(tag, value))
        if str(response.Status) != SUCCESS:
            raise RuntimeError(f"the simulated controller refused {tag} = {value!r}: {response}")

    def set_text(self, tag: str, text: str) -> None:
        """Write a STRING tag with cpppo's own client: the simulator's STRING is CIP's
        (a 16-bit length, then the characters), which pylogix writes as Micro800's."""
        subprocess.run(
            [sys.executable, "-m", "cpppo.server.enip.client", "-a", self.address,
             f"{tag}=(STRING){text}"],
            check=True, capture_output=True, timeout=START_TIMEOUT_S,
        )  # fmt: skip

    def get(self, tag: str) -> Any:
        """The value of ``tag`` now."""
        response = self._request(lambda client: client.Read(tag))
        if str(response.Status) != SUCCESS:
            raise RuntimeError(f"the simulated controller cannot read {tag}: {response}")
        return response.Value

    def set_coil(self, address: int, value: bool) -> None:
        self.set(f"Button[{address}]", value)

    def set_registers(self, table: str, address: int, values: list[int]) -> None:
        """Set ``Word`` elements from ``address`` on, in one multi-service write."""
        del table  # one array of words here
        writes = [(f"Word[{address + offset}]", value) for offset, value in enumerate(values)]
        responses = self._request(lambda client: client.Write(writes))
        refused = [str(r) for r in responses if str(r.Status) != SUCCESS]
        if refused:
            raise RuntimeError(f"the simulated controller refused {refused[:3]}")

    def _request(self, call: Any) -> Any:
        with self._client_lock:
            if self._client is None:
                if self._process is None:
                    raise RuntimeError("the simulated Logix controller is not running")
                self._client = PLC(self.host, timeout=CLIENT_TIMEOUT_S, port=self.port)
            return call(self._client)

    # -- the process -----------------------------------------------------------------------

    def _launch(self) -> None:
        definitions = [f"{name}={kind}" for name, kind in self.tags.items()]
        self._log = tempfile.TemporaryFile()  # noqa: SIM115  # closed by stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "cpppo.server.enip", "--no-config", "--no-print", "-U",
             "-a", f"{self.host}:{self.port}", *definitions],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,  # Ctrl-C in a terminal must reach us, not the simulator
        )  # fmt: skip

    def _wait_until_ready(self) -> None:
        if wait_for_port(self.host, self.port, timeout=START_TIMEOUT_S):
            return
        said = b""
        if self._log is not None:
            self._log.seek(0)
            said = self._log.read()[-2000:]
        raise RuntimeError(
            f"the EtherNet/IP simulator did not start on port {self.port}: "
            f"{said.decode(errors='replace')}"
        )

    def stop(self) -> None:
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.Close()
            client.conn.msg_socket.close()  # pylogix's listening socket, never closed by it
        process, self._process = self._process, None
        if process is not None:
            stop_process(process, timeout_s=10)
        log, self._log = self._log, None
        if log is not None:
            log.close()
